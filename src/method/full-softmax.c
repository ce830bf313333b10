/* full-softmax.c: loss and gradient of the exact non-parametric softmax.
 *
 * Each engine thread takes its share of the batch rows and runs everything
 * for them with no barrier in between: the logits product (a one-thread
 * sgemm), then per row, while the row (N floats, 240 kB at N 60,000) is in
 * L2, one visit for the max and one for exp and the sum (vexp.h), then the
 * gradient product. The normalisation is never applied to the B x N
 * matrix: with s_b = sum_j exp (z_bj - max_b) and e_bj = exp (z_bj - max_b),
 *   (p_b - onehot_b) = (e_b - s_b onehot_b) / s_b
 * so the row keeps e_b with s_b subtracted at the target, and the product's
 * (B, D) output row is multiplied by 1 / (s_b tau B) afterwards. Compared
 * with max, exp, normalise and gradient as four passes over the 31 MB of
 * logits on one core, this reads them once from memory after the product
 * writes them. The rows' losses are added in row order, so the result does
 * not depend on which thread finished first. */
#define G_LOG_DOMAIN "instdisc-method"

#include "full-softmax.h"

#include <cblas.h>
#include <math.h>

#include "check.h"
#include "threads.h"
#include "vexp.h"

FullSoftmax *
full_softmax_new (int max_batch, int n, float tau)
{
  ENGINE_CHECK (max_batch > 0 && n > 0 && tau > 0.0f);
  float *logits = engine_alloc (sizeof (float) * (size_t) max_batch * n);
  double *row_loss = engine_alloc (sizeof (double) * (size_t) max_batch);
  float *row_scale = engine_alloc (sizeof (float) * (size_t) max_batch);
  if (!logits || !row_loss || !row_scale)
    {
      engine_free (logits);
      engine_free (row_loss);
      engine_free (row_scale);
      return NULL;
    }
  FullSoftmax *self = g_new0 (FullSoftmax, 1);
  self->tau = tau;
  self->max_batch = max_batch;
  self->n = n;
  self->logits = logits;
  self->row_loss = row_loss;
  self->row_scale = row_scale;
  return self;
}

void
full_softmax_free (FullSoftmax *self)
{
  if (!self)
    return;
  engine_free (self->logits);
  engine_free (self->row_loss);
  engine_free (self->row_scale);
  g_free (self);
}

typedef struct
{
  FullSoftmax *self;
  float *d_features;
  const float *features;
  const int *indices;
  int batch;
  const MemoryBank *bank;
} RowsTask;

/* batch rows [lo, hi) of thread ith: logits, loss, gradient */
static void
softmax_rows (void *arg, int ith, int nth)
{
  const RowsTask *t = arg;
  FullSoftmax *self = t->self;
  const int N = t->bank->n, D = t->bank->dim;
  const float *V = t->bank->vectors;
  size_t lo, hi;
  engine_split ((size_t) t->batch, ith, nth, &lo, &hi);
  if (lo == hi)
    return;
  const int rows = (int) (hi - lo);
  float *logits = self->logits + lo * N;

  // logits (rows, N) = f (rows, D) x V^T (D, N) / tau
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, rows, N, D,
               1.0f / self->tau, t->features + lo * D, D, V, D, 0.0f,
               logits, N);
  for (size_t b = lo; b < hi; b++)
    {
      float *z = self->logits + b * N;
      const int target = t->indices[b];
      ENGINE_CHECK (target >= 0 && target < N);
      const float z_target = z[target];   /* read before z becomes e */
      float max;
      const double sum = vexp_softmax_row (z, z, (size_t) N, &max);
      // loss_b = log sum_j exp (z_j - max) - (z_target - max)
      self->row_loss[b] = log (sum) - (z_target - max);
      z[target] = (float) ((double) z[target] - sum);
      self->row_scale[b] = (float) (1.0 / (sum * self->tau * t->batch));
    }
  // d_features (rows, D) = (e - s onehot) (rows, N) x V (N, D), then per row / (s tau B)
  float *d = t->d_features + lo * D;
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, D, N, 1.0f,
               logits, N, V, D, 0.0f, d, D);
  for (size_t b = lo; b < hi; b++)
    {
      const float s = self->row_scale[b];
      float *g = t->d_features + b * D;
      for (int k = 0; k < D; k++)
        g[k] *= s;
    }
}

float
full_softmax_forward_backward (FullSoftmax *self, float *d_features,
                               const float *features, const int *indices,
                               int batch, const MemoryBank *bank)
{
  ENGINE_CHECK (bank->n == self->n && batch > 0 && batch <= self->max_batch);
  RowsTask task = { self, d_features, features, indices, batch, bank };
  engine_parallel (softmax_rows, &task);
  double total = 0.0;
  for (int b = 0; b < batch; b++)
    total += self->row_loss[b];
  return (float) (total / batch);
}
