/* fma-peak.c: the processor's peak FLOP/s (fma-peak.h) */
#include "fma-peak.h"

#include <immintrin.h>

#include "threads.h"
#include "bench-util.h"

#define CHAINS 12
#define FMA_ITERS 20000000L   /* per thread: 12 x 20 M FMAs, about 0.1 s */

typedef struct
{
  int width;          /* 8 (AVX2) or 16 (AVX-512) */
  float sink[ENGINE_MAX_THREADS];
} FmaJob;

__attribute__ ((target ("avx2,fma"))) static float
fma_chains_avx2 (long iters)
{
  __m256 a[CHAINS];
  const __m256 m = _mm256_set1_ps (0.999999f), c = _mm256_set1_ps (1e-7f);
  for (int k = 0; k < CHAINS; k++)
    a[k] = _mm256_set1_ps (1.0f + k);
  for (long i = 0; i < iters; i++)
    for (int k = 0; k < CHAINS; k++)
      a[k] = _mm256_fmadd_ps (a[k], m, c);
  __m256 s = a[0];
  for (int k = 1; k < CHAINS; k++)
    s = _mm256_add_ps (s, a[k]);
  float out[8];
  _mm256_storeu_ps (out, s);
  return out[0];
}

__attribute__ ((target ("avx512f"))) static float
fma_chains_avx512 (long iters)
{
  __m512 a[CHAINS];
  const __m512 m = _mm512_set1_ps (0.999999f), c = _mm512_set1_ps (1e-7f);
  for (int k = 0; k < CHAINS; k++)
    a[k] = _mm512_set1_ps (1.0f + k);
  for (long i = 0; i < iters; i++)
    for (int k = 0; k < CHAINS; k++)
      a[k] = _mm512_fmadd_ps (a[k], m, c);
  __m512 s = a[0];
  for (int k = 1; k < CHAINS; k++)
    s = _mm512_add_ps (s, a[k]);
  return _mm512_reduce_add_ps (s);
}

static void
fma_task (void *arg, int ith, int nth)
{
  (void) nth;
  FmaJob *job = arg;
  /* the sink keeps the chains from being optimised away */
  job->sink[ith] = job->width == 16 ? fma_chains_avx512 (FMA_ITERS)
                                    : fma_chains_avx2 (FMA_ITERS);
}

int
fma_peak_widest (void)
{
  __builtin_cpu_init ();
  if (__builtin_cpu_supports ("avx512f"))
    return 16;
  if (__builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma"))
    return 8;
  return 0;
}

double
fma_peak_gflops (int width, int rounds)
{
  double rates[64];
  FmaJob job = { .width = width };
  engine_parallel (fma_task, &job);                 /* warm-up */
  for (int r = 0; r < rounds; r++)
    {
      double t0 = bench_now ();
      engine_parallel (fma_task, &job);
      double seconds = bench_now () - t0;
      double flops = 2.0 * width * CHAINS * (double) FMA_ITERS
                     * engine_get_threads ();
      rates[r] = flops / seconds / 1e9;
    }
  return bench_median (rates, rounds);
}
