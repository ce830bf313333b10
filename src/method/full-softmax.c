/* full-softmax.c: loss and gradient of the exact non-parametric softmax.
 *
 * Three steps on the engine's threads, each split so that every thread's
 * one-thread sgemm sees all B batch rows (OpenBLAS reaches ~69 GFLOP/s on
 * a 128-row block here and ~53 on a 64-row one):
 *   1. logits (B, N) = f V^T / tau, columns (bank rows) split (engine_sgemm);
 *   2. per batch row, split by rows: one visit for the max and one for exp
 *      and the sum (vexp.h), the row (240 kB at N 60,000) in L2 meanwhile;
 *   3. the gradient product, bank rows split: thread i computes
 *      part_i (B, D) = E[:, its rows] x V[its rows], and the parts are added
 *      in thread order.
 * The normalisation is never applied to the B x N matrix: with
 * s_b = sum_j exp (z_bj - max_b) and e_bj = exp (z_bj - max_b),
 *   p_b - onehot_b = (e_b - s_b onehot_b) / s_b,
 * so the row keeps e_b with s_b subtracted at the target, and the (B, D)
 * gradient row is multiplied by 1 / (s_b tau B) at the end. Against max,
 * exp, normalise and gradient as four passes over the 31 MB of logits on
 * one core, this reads them once from memory between the two products.
 * Every split depends on the number of threads only, and the rows' losses
 * and the parts are added in a fixed order: no result depends on timing. */
#define G_LOG_DOMAIN "instdisc-method"

#include "full-softmax.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

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
  g_free (self->parts);
  g_free (self);
}

typedef struct
{
  FullSoftmax *self;
  const int *indices;
  int batch;
  int mean_over;     /* the loss is a mean over this many rows */
  const MemoryBank *bank;
} StepTask;

/* step 2 for batch rows [lo, hi): logits row -> e - s onehot, loss, scale */
static void
softmax_rows (void *arg, int ith, int nth)
{
  const StepTask *t = arg;
  FullSoftmax *self = t->self;
  const int N = t->bank->n;
  size_t lo, hi;
  engine_split ((size_t) t->batch, ith, nth, &lo, &hi);
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
      self->row_scale[b] = (float) (1.0 / (sum * self->tau * t->mean_over));
    }
}

/* step 3 for bank rows [lo, hi): parts[ith] (B, D) */
static void
gradient_part (void *arg, int ith, int nth)
{
  const StepTask *t = arg;
  const int N = t->bank->n, D = t->bank->dim, B = t->batch;
  ENGINE_CHECK (nth <= t->self->n_parts);
  float *part = t->self->parts + (size_t) ith * B * D;
  size_t lo, hi;
  engine_split ((size_t) N, ith, nth, &lo, &hi);
  if (lo == hi)
    {
      memset (part, 0, sizeof (float) * B * D);
      return;
    }
  // part (B, D) = e[:, lo:hi] (B, hi - lo) x V[lo:hi] (hi - lo, D)
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, B, D,
               (int) (hi - lo), 1.0f, t->self->logits + lo, N,
               t->bank->vectors + lo * D, D, 0.0f, part, D);
}

float
full_softmax_forward_backward (FullSoftmax *self, float *d_features,
                               const float *features, const int *indices,
                               int batch, const MemoryBank *bank)
{
  const int N = bank->n, D = bank->dim;
  ENGINE_CHECK (N == self->n && batch > 0 && batch <= self->max_batch);
  const int nth = engine_get_threads ();
  if (nth > self->n_parts || D != self->parts_dim)
    {
      /* (threads, max_batch, D): a few hundred kB, allocated once */
      self->parts = g_renew (float, self->parts,
                             (size_t) nth * self->max_batch * D);
      self->n_parts = nth;
      self->parts_dim = D;
    }
  const int mean_over = self->total > 0 ? self->total : batch;
  StepTask task = { self, indices, batch, mean_over, bank };

  // logits (B, N) = f (B, D) x V^T (D, N) / tau
  engine_sgemm (CblasNoTrans, CblasTrans, batch, N, D, 1.0f / self->tau,
                features, D, bank->vectors, D, 0.0f, self->logits, N);
  engine_parallel (softmax_rows, &task);
  engine_parallel (gradient_part, &task);

  // d_features (B, D) = sum over parts, times 1 / (s_b tau B) per row
  for (int b = 0; b < batch; b++)
    for (int k = 0; k < D; k++)
      {
        float g = 0.0f;
        for (int i = 0; i < nth; i++)
          g += self->parts[((size_t) i * batch + b) * D + k];
        d_features[(size_t) b * D + k] = g * self->row_scale[b];
      }
  double total = 0.0;
  for (int b = 0; b < batch; b++)
    total += self->row_loss[b];
  return (float) (total / mean_over);
}
