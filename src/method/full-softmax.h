/* full-softmax.h: the exact non-parametric softmax (the reference's
 * LinearAverage, nce-k 0): every image is its own class, the memory bank
 * holds the class weights.
 *   logits = f V^T / tau (B x N), loss = mean_b -log softmax(logits_b)[i_b]
 *   d loss / d f = (softmax(logits) - onehot) V / (tau B) */
#pragma once

#include <glib.h>

#include "memory-bank.h"

G_BEGIN_DECLS

typedef struct
{
  float tau;
  int max_batch, n;
  /* (B, N): after a call, exp (logits - row max) with the row's sum
   * subtracted at the target, i.e. (softmax - onehot) times that sum */
  float *logits;
  double *row_loss;   /* (B) */
  float *row_scale;   /* (B) 1 / (sum tau B) */
  float *parts;       /* (n_parts, B, D) the threads' gradient products */
  int n_parts, parts_dim;
  /* data-parallel training: the rows of the whole batch a call's rows are
   * a share of, whose mean the loss and gradient are; 0: the call's */
  int total;
} FullSoftmax;

/* NULL when the (max_batch x N) logits do not fit in memory */
FullSoftmax *full_softmax_new (int max_batch, int n, float tau);
void full_softmax_free (FullSoftmax *self);

/* features (B, D), indices (B) -> returns the loss; d_features (B, D).
 * With total set, the loss is the rows' sum over total and the gradient
 * is scaled by 1 / total: the call's part of the whole batch's. 
 * Runs on the engine's threads; the result depends on their number only,
 * never on their timing. */
float full_softmax_forward_backward (FullSoftmax *self, float *d_features,
                                     const float *features, const int *indices,
                                     int batch, const MemoryBank *bank);

G_END_DECLS
