/* pca.c: covariance by blocked ssyrk, eigenvectors by cyclic Jacobi. */
#define G_LOG_DOMAIN "instdisc-explore"

#include "pca.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#include "check.h"

/* rows per covariance block: 4096 x 128 floats = 2 MB, one ssyrk each */
#define PCA_BLOCK 4096

void
pca_symmetric_eigen (double *a, double *eigenvalues, double *vectors, int dim)
{
  int d = dim;
  g_autofree double *v = g_new0 (double, (size_t) d * d);   /* columns */
  for (int i = 0; i < d; i++)
    v[(size_t) i * d + i] = 1.0;

  double total = 0.0;
  for (size_t i = 0; i < (size_t) d * d; i++)
    total += a[i] * a[i];

  for (int sweep = 0; sweep < 60; sweep++)
    {
      double off = 0.0;
      for (int p = 0; p < d; p++)
        for (int q = p + 1; q < d; q++)
          off += a[(size_t) p * d + q] * a[(size_t) p * d + q];
      if (off <= 1e-26 * total || off == 0.0)
        break;

      for (int p = 0; p < d; p++)
        for (int q = p + 1; q < d; q++)
          {
            double apq = a[(size_t) p * d + q];
            if (fabs (apq) < 1e-300)
              continue;
            double app = a[(size_t) p * d + p], aqq = a[(size_t) q * d + q];
            /* the rotation that zeroes a_pq: t = tan(phi), the smaller root
             * of t^2 + 2 theta t - 1 = 0 (the stable choice) */
            double theta = (aqq - app) / (2.0 * apq);
            double t = (theta >= 0 ? 1.0 : -1.0)
                       / (fabs (theta) + sqrt (theta * theta + 1.0));
            double c = 1.0 / sqrt (t * t + 1.0), s = t * c;
            /* A <- A J (columns p, q), then A <- J^T A (rows p, q) */
            for (int k = 0; k < d; k++)
              {
                double akp = a[(size_t) k * d + p], akq = a[(size_t) k * d + q];
                a[(size_t) k * d + p] = c * akp - s * akq;
                a[(size_t) k * d + q] = s * akp + c * akq;
              }
            for (int k = 0; k < d; k++)
              {
                double apk = a[(size_t) p * d + k], aqk = a[(size_t) q * d + k];
                a[(size_t) p * d + k] = c * apk - s * aqk;
                a[(size_t) q * d + k] = s * apk + c * aqk;
              }
            for (int k = 0; k < d; k++)
              {
                double vkp = v[(size_t) k * d + p], vkq = v[(size_t) k * d + q];
                v[(size_t) k * d + p] = c * vkp - s * vkq;
                v[(size_t) k * d + q] = s * vkp + c * vkq;
              }
          }
    }

  /* sort by eigenvalue, descending (selection sort: D is small) */
  g_autofree int *order = g_new (int, d);
  for (int i = 0; i < d; i++)
    order[i] = i;
  for (int i = 0; i < d; i++)
    {
      int best = i;
      for (int j = i + 1; j < d; j++)
        if (a[(size_t) order[j] * d + order[j]]
            > a[(size_t) order[best] * d + order[best]])
          best = j;
      int tmp = order[i];
      order[i] = order[best];
      order[best] = tmp;
    }
  for (int r = 0; r < d; r++)
    {
      int col = order[r];
      eigenvalues[r] = a[(size_t) col * d + col];
      for (int k = 0; k < d; k++)
        vectors[(size_t) r * d + k] = v[(size_t) k * d + col];
    }
}

void
pca_project2 (float *out, float *components, float *variances,
              const float *data, int n, int dim)
{
  ENGINE_CHECK (n >= 1 && dim >= 1);
  size_t d = (size_t) dim;

  g_autofree double *mean = g_new0 (double, d);
  for (size_t i = 0; i < (size_t) n; i++)
    for (size_t k = 0; k < d; k++)
      mean[k] += data[i * d + k];
  for (size_t k = 0; k < d; k++)
    mean[k] /= n;

  /* cov (D, D) = sum over blocks of centred (B, D)^T x centred (B, D), each
   * block's product in float (ssyrk), the sum over blocks in double so that
   * a million rows do not lose digits */
  g_autofree float *block = g_new (float, (size_t) PCA_BLOCK * d);
  g_autofree float *part = g_new0 (float, d * d);
  g_autofree double *cov = g_new0 (double, d * d);
  for (size_t start = 0; start < (size_t) n; start += PCA_BLOCK)
    {
      size_t rows = MIN ((size_t) PCA_BLOCK, (size_t) n - start);
      for (size_t i = 0; i < rows; i++)
        for (size_t k = 0; k < d; k++)
          block[i * d + k] = data[(start + i) * d + k] - (float) mean[k];
      /* part (D, D), upper triangle = block^T (D, B) x block (B, D) */
      cblas_ssyrk (CblasRowMajor, CblasUpper, CblasTrans, dim, (int) rows,
                   1.0f, block, dim, 0.0f, part, dim);
      for (size_t r = 0; r < d; r++)
        for (size_t c = r; c < d; c++)
          cov[r * d + c] += part[r * d + c];
    }
  for (size_t r = 0; r < d; r++)
    for (size_t c = r; c < d; c++)
      {
        cov[r * d + c] /= n;
        cov[c * d + r] = cov[r * d + c];
      }

  g_autofree double *values = g_new (double, d);
  g_autofree double *vectors = g_new (double, d * d);
  pca_symmetric_eigen (cov, values, vectors, dim);

  g_autofree float *w = g_new0 (float, 2 * d);
  for (int c = 0; c < 2; c++)
    {
      if (c >= dim)
        {
          memset (w + c * d, 0, d * sizeof (float));
          continue;
        }
      const double *vec = vectors + c * d;
      size_t big = 0;
      for (size_t k = 1; k < d; k++)
        if (fabs (vec[k]) > fabs (vec[big]))
          big = k;
      double sign = vec[big] < 0 ? -1.0 : 1.0;
      for (size_t k = 0; k < d; k++)
        w[c * d + k] = (float) (sign * vec[k]);
    }

  /* out (N, 2) = data (N, D) x w^T (D, 2), then minus mean . w */
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, n, 2, dim, 1.0f,
               data, dim, w, dim, 0.0f, out, 2);
  for (int c = 0; c < 2; c++)
    {
      double shift = 0.0;
      for (size_t k = 0; k < d; k++)
        shift += mean[k] * w[c * d + k];
      for (size_t i = 0; i < (size_t) n; i++)
        out[i * 2 + c] -= (float) shift;
    }

  if (components)
    memcpy (components, w, 2 * d * sizeof (float));
  if (variances)
    for (int c = 0; c < 2; c++)
      variances[c] = c < dim ? (float) MAX (values[c], 0.0) : 0.0f;
}
