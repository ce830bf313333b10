/* bench-small-gemm.c: Winograd's 36 products of one chunk of tiles,
 * OpenBLAS's one-thread sgemm against small-gemm.h's kernels, at the
 * chunk shapes the networks' 3x3 layers use (docs/performance.md,
 * "Winograd").
 *
 *   bench-small-gemm [--rounds N] [--reps N] [--tiles N]
 *
 * For C channels in and out, a chunk holds 1 MiB / (36 x 2C x 4 bytes)
 * tiles (at least 64), as conv.c sizes it: the forward's products
 * M_p (C, tiles) = U_p (C, C) x V_p (C, tiles) and the weight gradient's
 * dU_p (C, C) += Z_p (C, tiles) x V_p (C, tiles)^T, 36 of each. One
 * thread; each round times `reps` chunks each way, alternating the ways,
 * and a figure is the median over rounds of the time per chunk. The
 * operands stay in cache, as they do in the networks.
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench-util.h"
#include "small-gemm.h"

#define PLANES 36

typedef struct
{
  int c;
  size_t tiles;
  float *U, *V, *M, *Z, *dU;
} Chunk;

static void
chunk_init (Chunk *k, int c, size_t tiles, Rng *rng)
{
  k->c = c;
  k->tiles = tiles;
  const size_t sq = (size_t) PLANES * c * c, rect = (size_t) PLANES * c * tiles;
  float *all[] = { k->U = malloc (sizeof (float) * sq),
                   k->V = malloc (sizeof (float) * rect),
                   k->M = malloc (sizeof (float) * rect),
                   k->Z = malloc (sizeof (float) * rect),
                   k->dU = malloc (sizeof (float) * sq) };
  const size_t n[] = { sq, rect, rect, rect, sq };
  for (int i = 0; i < 5; i++)
    {
      if (!all[i])
        {
          fprintf (stderr, "bench-small-gemm: out of memory\n");
          exit (1);
        }
      for (size_t j = 0; j < n[i]; j++)
        all[i][j] = rng_normal (rng);
    }
}

static void
chunk_clear (Chunk *k)
{
  free (k->U);
  free (k->V);
  free (k->M);
  free (k->Z);
  free (k->dU);
}

/* the forward's 36 products, way 0 OpenBLAS, 1 small-gemm */
static void
forward_products (const Chunk *k, int way)
{
  const int c = k->c, n = (int) k->tiles;
  for (int p = 0; p < PLANES; p++)
    {
      const float *U = k->U + (size_t) p * c * c;
      const float *V = k->V + (size_t) p * c * n;
      float *M = k->M + (size_t) p * c * n;
      if (way)
        small_gemm_nn (M, n, U, c, V, n, c, n, c);
      else
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, c, n, c, 1.0f,
                     U, c, V, n, 0.0f, M, n);
    }
}

/* the weight gradient's 36 products, accumulated */
static void
grad_products (const Chunk *k, int way)
{
  const int c = k->c, n = (int) k->tiles;
  for (int p = 0; p < PLANES; p++)
    {
      const float *Z = k->Z + (size_t) p * c * n;
      const float *V = k->V + (size_t) p * c * n;
      float *dU = k->dU + (size_t) p * c * c;
      if (way)
        small_gemm_nt (dU, c, Z, n, V, n, c, c, n, 1.0f);
      else
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, c, c, n, 1.0f,
                     Z, n, V, n, 1.0f, dU, c);
    }
}

int
main (int argc, char **argv)
{
  blas_kernels_choose (argv);
  int rounds = 7, reps = 50;
  size_t fixed_tiles = 0;
  for (int i = 1; i < argc; i++)
    {
      const char *next = i + 1 < argc ? argv[i + 1] : NULL;
      if (strcmp (argv[i], "--rounds") == 0 && next)
        rounds = atoi (argv[++i]);
      else if (strcmp (argv[i], "--reps") == 0 && next)
        reps = atoi (argv[++i]);
      else if (strcmp (argv[i], "--tiles") == 0 && next)
        fixed_tiles = (size_t) atol (argv[++i]);
      else
        {
          fprintf (stderr, "usage: bench-small-gemm [--rounds N] [--reps N] "
                   "[--tiles N]\n");
          return 2;
        }
    }
  if (rounds < 1 || reps < 1)
    {
      fprintf (stderr, "bench-small-gemm: --rounds and --reps must be 1 or "
               "more\n");
      return 2;
    }
  if (!small_gemm_available ())
    {
      fprintf (stderr, "bench-small-gemm: this processor has no AVX-512; "
               "the small-gemm kernels cannot run\n");
      return 1;
    }
  openblas_set_num_threads (1);
  bench_print_loadavg ("before");
  printf ("one thread, OpenBLAS core %s, median of %d rounds of %d chunks "
          "(us per chunk of 36 products)\n", blas_kernels_current (), rounds,
          reps);
  printf ("%9s %6s | %10s %10s %6s | %10s %10s %6s\n", "channels", "tiles",
          "fwd blas", "fwd own", "ratio", "grad blas", "grad own", "ratio");
  const int widths[] = { 16, 32, 64, 128, 256 };
  Rng rng;
  rng_seed (&rng, 1);
  for (size_t w = 0; w < sizeof widths / sizeof *widths; w++)
    {
      const int c = widths[w];
      size_t tiles = ((size_t) 1 << 18) / ((size_t) PLANES * 2 * c);
      if (tiles < 64)
        tiles = 64;
      if (fixed_tiles)
        tiles = fixed_tiles;
      Chunk k;
      chunk_init (&k, c, tiles, &rng);
      double *t[2][2];   /* [pass][way] per round */
      for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++)
          t[a][b] = malloc (sizeof (double) * rounds);
      for (int r = 0; r < rounds; r++)
        for (int way = 0; way < 2; way++)
          {
            double t0 = bench_now ();
            for (int i = 0; i < reps; i++)
              forward_products (&k, way);
            double t1 = bench_now ();
            for (int i = 0; i < reps; i++)
              grad_products (&k, way);
            double t2 = bench_now ();
            t[0][way][r] = 1e6 * (t1 - t0) / reps;
            t[1][way][r] = 1e6 * (t2 - t1) / reps;
          }
      double m[2][2];
      for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++)
          m[a][b] = bench_median (t[a][b], rounds);
      printf ("%4d->%-4d %6zu | %10.1f %10.1f %6.2f | %10.1f %10.1f %6.2f\n",
              c, c, tiles, m[0][0], m[0][1], m[0][0] / m[0][1], m[1][0],
              m[1][1], m[1][0] / m[1][1]);
      for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++)
          free (t[a][b]);
      chunk_clear (&k);
    }
  bench_print_loadavg ("after");
  return 0;
}
