/* bench-peak.c: what this processor can do at most, the two roofs of a
 * roofline: single-precision FLOP/s and memory bandwidth.
 *
 * FLOP/s: chains of fused multiply-adds (fma-peak.h) with 8-wide AVX2
 * vectors and, where the processor has them, 16-wide AVX-512 ones.
 * Bandwidth: the STREAM triad a[i] = b[i] + s c[i] over three arrays of
 * 64 MiB each (far beyond the caches), 12 bytes an element (the write's
 * read-for-ownership not counted, as STREAM does), split over the
 * threads. Each figure is the median of the rounds; one thread, then
 * --threads (default: one per core).
 *
 *   bench-peak [--threads N] [--rounds N]
 *
 * The roofline of docs/performance.md sets each layer's effective GFLOP/s
 * (bench-conv) against these: a layer whose FLOP per byte moved is above
 * peak / bandwidth is bound by the FMA units, below it by memory.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "threads.h"
#include "bench-util.h"
#include "fma-peak.h"

typedef struct
{
  float *a;
  const float *b, *c;
  size_t n;
} Triad;

static void
triad_task (void *arg, int ith, int nth)
{
  const Triad *t = arg;
  size_t lo, hi;
  engine_split (t->n, ith, nth, &lo, &hi);
  const float s = 3.0f;
  for (size_t i = lo; i < hi; i++)
    t->a[i] = t->b[i] + s * t->c[i];
}

/* GB/s of the triad on all engine threads, the median of rounds */
static double
triad_gbs (Triad *t, int rounds)
{
  double rates[64];
  engine_parallel (triad_task, t);                  /* first touch */
  for (int r = 0; r < rounds; r++)
    {
      double t0 = bench_now ();
      engine_parallel (triad_task, t);
      double seconds = bench_now () - t0;
      rates[r] = 12.0 * (double) t->n / seconds / 1e9;
    }
  return bench_median (rates, rounds);
}

static void
usage (void)
{
  fprintf (stderr, "usage: bench-peak [--threads N] [--rounds N]\n");
  exit (2);
}

int
main (int argc, char **argv)
{
  int threads = 0, rounds = 5;
  for (int i = 1; i < argc; i++)
    {
      const bool next = i + 1 < argc;
      if (strcmp (argv[i], "--threads") == 0 && next)
        threads = atoi (argv[++i]);
      else if (strcmp (argv[i], "--rounds") == 0 && next)
        rounds = atoi (argv[++i]);
      else
        usage ();
    }
  if (rounds < 1 || rounds > 64)
    usage ();
  const int widest = fma_peak_widest ();
  const bool avx512 = widest == 16;
  if (widest == 0)
    {
      fprintf (stderr, "bench-peak: this processor has no AVX2 and FMA\n");
      return 1;
    }

  const size_t n = (size_t) 64 << 20 >> 2;          /* 64 MiB an array */
  Triad t = { malloc (n * 4), malloc (n * 4), malloc (n * 4), n };
  if (!t.a || !t.b || !t.c)
    return 1;
  for (size_t i = 0; i < n; i++)
    {
      ((float *) t.b)[i] = 1.0f;
      ((float *) t.c)[i] = 2.0f;
    }

  bench_print_loadavg ("at the start");
  printf ("threads  AVX2 FMA GFLOP/s  AVX-512 FMA GFLOP/s  triad GB/s\n");
  const int counts[2] = { 1, engine_set_threads (threads) };
  for (int k = 0; k < 2; k++)
    {
      if (k == 1 && counts[1] == 1)
        break;
      engine_set_threads (counts[k]);
      double g8 = fma_peak_gflops (8, rounds);
      double g16 = avx512 ? fma_peak_gflops (16, rounds) : 0.0;
      double bw = triad_gbs (&t, rounds);
      if (avx512)
        printf ("%7d  %16.1f  %19.1f  %10.1f\n", counts[k], g8, g16, bw);
      else
        printf ("%7d  %16.1f  %19s  %10.1f\n", counts[k], g8, "-", bw);
    }
  bench_print_loadavg ("at the end");
  free (t.a);
  free ((float *) t.b);
  free ((float *) t.c);
  return 0;
}
