/* full-softmax.c: loss and gradient of the exact non-parametric softmax. */
#define G_LOG_DOMAIN "instdisc-method"

#include "full-softmax.h"

#include <cblas.h>

#include "check.h"
#include "loss.h"
#include "threads.h"

FullSoftmax *
full_softmax_new (int max_batch, int n, float tau)
{
  float *logits = engine_alloc (sizeof (float) * (size_t) max_batch * n);
  if (!logits)
    return NULL;
  FullSoftmax *self = g_new0 (FullSoftmax, 1);
  self->tau = tau;
  self->max_batch = max_batch;
  self->n = n;
  self->logits = logits;
  return self;
}

void
full_softmax_free (FullSoftmax *self)
{
  if (!self)
    return;
  engine_free (self->logits);
  g_free (self);
}

float
full_softmax_forward_backward (FullSoftmax *self, float *d_features,
                               const float *features, const int *indices,
                               int batch, const MemoryBank *bank)
{
  const int N = bank->n, D = bank->dim;
  ENGINE_CHECK (N == self->n && batch <= self->max_batch);
  /* both products run on the engine's threads: OpenBLAS itself is kept at
   * one thread (threads.h) */
  // logits (B, N) = f (B, D) x V^T (D, N) / tau
  engine_sgemm (CblasNoTrans, CblasTrans, batch, N, D,
                1.0f / self->tau, features, D, bank->vectors, D, 0.0f,
                self->logits, N);
  float loss = softmax_cross_entropy_forward (self->logits, self->logits,
                                              indices, batch, N);
  softmax_cross_entropy_backward (self->logits, self->logits, indices, batch, N);
  // d_features (B, D) = dlogits (B, N) x V (N, D) / tau
  engine_sgemm (CblasNoTrans, CblasNoTrans, batch, D, N,
                1.0f / self->tau, self->logits, N, bank->vectors, D, 0.0f,
                d_features, D);
  return loss;
}
