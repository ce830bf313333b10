/* test-pca.c: the top two components against a brute-force eigen
 * decomposition of the double covariance, on data with a known dominant
 * direction. */
#include <math.h>
#include <string.h>

#include "pca.h"
#include "rng.h"
#include "testutil.h"

/* the top eigenvector of a symmetric (D, D) double matrix by power
 * iteration run to convergence (slow and sure: the reference) */
static double
power_top (const double *a, int d, double *v)
{
  for (int k = 0; k < d; k++)
    v[k] = 1.0 + 0.01 * k;
  double lambda = 0.0;
  double w[d];
  for (int it = 0; it < 20000; it++)
    {
      double norm = 0.0;
      for (int r = 0; r < d; r++)
        {
          w[r] = 0.0;
          for (int c = 0; c < d; c++)
            w[r] += a[r * d + c] * v[c];
          norm += w[r] * w[r];
        }
      norm = sqrt (norm);
      for (int r = 0; r < d; r++)
        v[r] = w[r] / norm;
      lambda = norm;
    }
  return lambda;
}

static void
test_pca_dominant (void)
{
  enum { N = 3000, D = 12 };
  Rng rng;
  rng_seed (&rng, 7);
  /* a known dominant direction u (std 5), a second one e (std 2), noise
   * (std 0.3) elsewhere, and an offset the PCA must remove */
  double u[D], e[D];
  double nu = 0.0;
  for (int k = 0; k < D; k++)
    {
      u[k] = 1.0 + k % 3;
      nu += u[k] * u[k];
    }
  for (int k = 0; k < D; k++)
    u[k] /= sqrt (nu);
  /* e orthogonal to u */
  for (int k = 0; k < D; k++)
    e[k] = (k % 2 ? 1.0 : -1.0);
  double dot = 0.0, ne = 0.0;
  for (int k = 0; k < D; k++)
    dot += e[k] * u[k];
  for (int k = 0; k < D; k++)
    {
      e[k] -= dot * u[k];
      ne += e[k] * e[k];
    }
  for (int k = 0; k < D; k++)
    e[k] /= sqrt (ne);

  static float data[N * D];
  for (int i = 0; i < N; i++)
    {
      double a = 5.0 * rng_normal (&rng), b = 2.0 * rng_normal (&rng);
      for (int k = 0; k < D; k++)
        data[i * D + k] = (float) (3.0 + a * u[k] + b * e[k]
                                   + 0.3 * rng_normal (&rng));
    }

  static float out[N * 2];
  float comp[2 * D], var[2];
  pca_project2 (out, comp, var, data, N, D);

  /* brute force: covariance in double, power iteration, deflation */
  double mean[D] = { 0 }, cov[D * D];
  memset (cov, 0, sizeof cov);
  for (int i = 0; i < N; i++)
    for (int k = 0; k < D; k++)
      mean[k] += data[i * D + k] / (double) N;
  for (int i = 0; i < N; i++)
    for (int r = 0; r < D; r++)
      for (int c = 0; c < D; c++)
        cov[r * D + c] += (data[i * D + r] - mean[r])
                          * (data[i * D + c] - mean[c]) / N;
  double v1[D], v2[D];
  double l1 = power_top (cov, D, v1);
  double deflated[D * D];
  for (int r = 0; r < D; r++)
    for (int c = 0; c < D; c++)
      deflated[r * D + c] = cov[r * D + c] - l1 * v1[r] * v1[c];
  double l2 = power_top (deflated, D, v2);

  g_test_message ("eigenvalues %.4f %.4f (reference %.4f %.4f)", var[0],
                  var[1], l1, l2);
  g_assert_cmpfloat (fabs (var[0] - l1), <, 1e-3 * l1);
  g_assert_cmpfloat (fabs (var[1] - l2), <, 1e-3 * l1);

  /* the components match up to sign, and the first is close to u */
  double c1 = 0.0, c2 = 0.0, cu = 0.0;
  for (int k = 0; k < D; k++)
    {
      c1 += comp[k] * v1[k];
      c2 += comp[D + k] * v2[k];
      cu += comp[k] * u[k];
    }
  g_test_message ("|cos| with reference: %.6f %.6f; with u %.4f", fabs (c1),
                  fabs (c2), fabs (cu));
  g_assert_cmpfloat (fabs (c1), >, 0.9999);
  g_assert_cmpfloat (fabs (c2), >, 0.999);
  g_assert_cmpfloat (fabs (cu), >, 0.99);

  /* deterministic sign: the largest-magnitude coordinate is positive */
  for (int c = 0; c < 2; c++)
    {
      int big = 0;
      for (int k = 1; k < D; k++)
        if (fabsf (comp[c * D + k]) > fabsf (comp[c * D + big]))
          big = k;
      g_assert_cmpfloat (comp[c * D + big], >, 0.0f);
    }

  /* the projection is (x - mean) . component, centred, with the variance */
  float expect[N * 2];
  for (int i = 0; i < N; i++)
    for (int c = 0; c < 2; c++)
      {
        double s = 0.0;
        for (int k = 0; k < D; k++)
          s += (data[i * D + k] - mean[k]) * comp[c * D + k];
        expect[i * 2 + c] = (float) s;
      }
  assert_all_close ("projection", out, expect, N * 2, 1e-3, 1e-4);
  double s0 = 0.0;
  for (int i = 0; i < N; i++)
    s0 += (double) out[2 * i] * out[2 * i] / N;
  g_assert_cmpfloat (fabs (s0 - var[0]), <, 1e-3 * var[0]);
}

static void
test_pca_eigen_small (void)
{
  /* a small symmetric matrix (trace 7): A v = lambda v for each pair */
  double a[9] = { 7.0 / 3, -2.0 / 3, 1.0 / 3,
                  -2.0 / 3, 2.0, -2.0 / 3,
                  1.0 / 3, -2.0 / 3, 8.0 / 3 };
  double values[3], vectors[9];
  double copy[9];
  memcpy (copy, a, sizeof a);
  pca_symmetric_eigen (copy, values, vectors, 3);
  g_test_message ("eigenvalues %.6f %.6f %.6f", values[0], values[1],
                  values[2]);
  g_assert_cmpfloat (values[0], >=, values[1]);
  g_assert_cmpfloat (values[1], >=, values[2]);
  /* A v = lambda v for each */
  for (int r = 0; r < 3; r++)
    for (int i = 0; i < 3; i++)
      {
        double av = 0.0;
        for (int j = 0; j < 3; j++)
          av += a[i * 3 + j] * vectors[r * 3 + j];
        g_assert_cmpfloat (fabs (av - values[r] * vectors[r * 3 + i]), <,
                           1e-10);
      }
  double trace = values[0] + values[1] + values[2];
  g_assert_cmpfloat (fabs (trace - 7.0), <, 1e-10);
}

static void
test_pca_one_row (void)
{
  float data[4] = { 1, 2, 3, 4 }, out[2], var[2];
  pca_project2 (out, NULL, var, data, 1, 4);
  g_assert_cmpfloat (fabsf (out[0]), <, 1e-6f);
  g_assert_cmpfloat (fabsf (out[1]), <, 1e-6f);
  g_assert_cmpfloat (var[0], ==, 0.0f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/explore/pca/dominant", test_pca_dominant);
  g_test_add_func ("/explore/pca/eigen-small", test_pca_eigen_small);
  g_test_add_func ("/explore/pca/one-row", test_pca_one_row);
  return g_test_run ();
}
