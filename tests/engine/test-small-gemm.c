/* test-small-gemm.c: the AVX-512 kernels of small-gemm.h against a
 * double-precision product, at every kind of edge: row counts that are and
 * are not multiples of the kernels' 8 and 4 rows, column counts around
 * their 32 and 4 columns and the 16 lanes of a vector, depths from 0 up,
 * leading dimensions wider than the rows, and beta 0 (c never read), 1 and
 * 0.5. Cells outside the result hold NaN and must stay untouched.
 */
#include <glib.h>
#include <math.h>

#include "gradcheck.h"
#include "rng.h"
#include "small-gemm.h"

/* float32 dot products of depth up to 100 with inputs of rms 1: the
 * rounding is about sqrt (k) x 6e-8 of the rms of the terms; 1e-5 of
 * sqrt (k) leaves a wide margin below a wrong element or a lost term */
#define TOL 1e-5

static const int ms[] = { 1, 3, 4, 8, 13, 16 };
static const int ns[] = { 1, 4, 5, 15, 16, 17, 31, 32, 33, 70 };
static const int ks[] = { 0, 1, 7, 16, 17, 33, 100 };

static float *
random_matrix (Rng *rng, int rows, size_t ld)
{
  float *x = g_new (float, rows * ld);
  fill_normal (rng, x, rows * ld, 1.0f);
  return x;
}

/* |got - want| <= TOL sqrt (k + 1) at every cell of c (m, n); NaN left
 * alone everywhere else in the ld-wide rows */
static void
check (const char *what, const float *c, size_t ldc, const double *want,
       int m, int n, int k)
{
  for (int i = 0; i < m; i++)
    for (size_t j = 0; j < ldc; j++)
      {
        const float got = c[i * ldc + j];
        if ((int) j >= n)
          {
            if (!isnan (got))
              g_error ("%s m %d n %d k %d: c[%d][%zu] outside the result "
                       "was written", what, m, n, k, i, j);
            continue;
          }
        const double d = fabs (got - want[i * n + j]);
        if (!(d <= TOL * sqrt (k + 1.0)))
          g_error ("%s m %d n %d k %d: c[%d][%zu] = %.8g, want %.8g", what, m,
                   n, k, i, j, got, want[i * n + j]);
      }
}

static void
test_small_gemm_nn (void)
{
  if (!small_gemm_available ())
    {
      g_test_skip ("this processor has no AVX-512");
      return;
    }
  Rng rng;
  rng_seed (&rng, 41);
  for (size_t a = 0; a < G_N_ELEMENTS (ms); a++)
    for (size_t b = 0; b < G_N_ELEMENTS (ns); b++)
      for (size_t d = 0; d < G_N_ELEMENTS (ks); d++)
        {
          const int m = ms[a], n = ns[b], k = ks[d];
          const size_t lda = k + 3, ldb = n + 5, ldc = n + 2;
          float *A = random_matrix (&rng, m, lda);
          float *B = random_matrix (&rng, k, ldb);
          float *C = g_new (float, m * ldc);
          double *want = g_new0 (double, (size_t) m * n);
          for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
              for (int p = 0; p < k; p++)
                want[i * n + j] += (double) A[i * lda + p] * B[p * ldb + j];
          fill_value (C, m * ldc, NAN);   /* written, never read */
          small_gemm_nn (C, ldc, A, lda, B, ldb, m, n, k);
          check ("nn", C, ldc, want, m, n, k);
          g_free (A);
          g_free (B);
          g_free (C);
          g_free (want);
        }
}

static void
test_small_gemm_nt (void)
{
  if (!small_gemm_available ())
    {
      g_test_skip ("this processor has no AVX-512");
      return;
    }
  Rng rng;
  rng_seed (&rng, 42);
  const float betas[] = { 0.0f, 1.0f, 0.5f };
  for (size_t a = 0; a < G_N_ELEMENTS (ms); a++)
    for (size_t b = 0; b < G_N_ELEMENTS (ns); b++)
      for (size_t d = 0; d < G_N_ELEMENTS (ks); d++)
        for (size_t e = 0; e < G_N_ELEMENTS (betas); e++)
          {
            const int m = ms[a], n = ns[b], k = ks[d];
            const float beta = betas[e];
            const size_t lda = k + 3, ldb = k + 1, ldc = n + 2;
            float *A = random_matrix (&rng, m, lda);
            float *B = random_matrix (&rng, n, ldb);
            float *C = g_new (float, m * ldc);
            double *want = g_new0 (double, (size_t) m * n);
            fill_value (C, m * ldc, NAN);
            for (int i = 0; i < m; i++)
              for (int j = 0; j < n; j++)
                {
                  /* beta 0: NaN in c must not reach the result */
                  const float old = beta == 0.0f ? NAN
                                    : (float) rng_normal (&rng);
                  C[i * ldc + j] = old;
                  if (beta != 0.0f)
                    want[i * n + j] = (double) beta * old;
                  for (int p = 0; p < k; p++)
                    want[i * n + j] += (double) A[i * lda + p] * B[j * ldb + p];
                }
            small_gemm_nt (C, ldc, A, lda, B, ldb, m, n, k, beta);
            check (beta == 0.0f ? "nt, beta 0" : "nt", C, ldc, want, m, n, k);
            g_free (A);
            g_free (B);
            g_free (C);
            g_free (want);
          }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/small-gemm/nn", test_small_gemm_nn);
  g_test_add_func ("/engine/small-gemm/nt", test_small_gemm_nt);
  return g_test_run ();
}
