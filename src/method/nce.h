/* nce.h: noise-contrastive estimation of the non-parametric softmax (the
 * reference's NCEAverage + NCECriterion; docs/method.md, "NCE").
 *
 * For batch row b with positive index i_b and K noise indices drawn uniformly
 * from 0..N-1 (column 0 of the row holds i_b):
 *   s(b,k) = v_idx(b,k) . f_b / tau
 *   P(b,k) = exp (s(b,k)) / Z,             Pn = 1 / N
 *   h(b,k) = P(b,k) / (P(b,k) + K Pn + eps),   eps = 1e-7
 *   loss   = -1/B ( sum_b log h(b,0) + sum_b sum_{k>=1} log (1 - h(b,k)) )
 * with 1 - h computed as K Pn / (P + K Pn + eps), as the reference does.
 *
 * Z: the reference fixes Z = N mean_{b,k} exp (s(b,k)) on the first batch
 * and never changes it (NCE_Z_FIXED, the default). NCE_Z_EMA instead uses a
 * running estimate: the same Monte-Carlo estimate per batch, averaged with
 * momentum z_momentum (0.99), starting from the first batch's value. Both
 * are tracked whatever the mode, so the GUI can show them side by side.
 * Like the reference, the gradient treats Z as a constant.
 *
 * A trainer step:
 *   nce_forward_backward (nce, d_features, features, indices, B, bank, &rng,
 *                         &info);
 *   ... backward through the network with d_features ...
 *   memory_bank_update (bank, indices, features, B);
 * The checkpoint stores nce->z_fixed and nce->z_estimate (nce_set_z restores).
 */
#pragma once

#include <glib.h>

#include "distributed.h"
#include "memory-bank.h"
#include "rng.h"

G_BEGIN_DECLS

#define NCE_EPS 1e-7
#define NCE_Z_MOMENTUM_DEFAULT 0.99

typedef enum
{
  NCE_Z_FIXED,  /* the reference: Z of the first batch, forever */
  NCE_Z_EMA,    /* running average of the per-batch estimate */
} NceZMode;

typedef struct
{
  int n, k, max_batch;
  float tau;
  NceZMode z_mode;
  double z_momentum;   /* z_estimate <- mom z_estimate + (1 - mom) z_batch */
  double z_fixed;      /* < 0 until the first batch (or nce_set_z) */
  double z_estimate;   /* < 0 until the first batch (or nce_set_z) */

  /* Data-parallel training (distributed.h): each call's rows are rows
   * first_row .. of a batch of total_batch rows split over dist's ranks.
   * The gradient is then the rows' part of the whole batch's (means over
   * total_batch), Z's estimate and the loss are sums over every rank's
   * rows, and nce_forward_backward draws (and drops) the noise of the rows
   * before first_row, so every row gets the noise it gets in one process.
   * total_batch 0 (the default): a call's rows are the whole batch. */
  Distributed *dist;
  int first_row, total_batch;

  /* the last batch, kept for inspection and the backward pass */
  int *noise;          /* (B, K+1) bank rows, column 0 = the positive */
  float *probs;        /* (B, K+1) exp (s) after the first pass, then P */
  float *coef;         /* (B, K+1) scratch: d loss / d s / tau, or exp (s) */
} Nce;

typedef struct
{
  float loss;
  double z;              /* the Z the loss used */
  double z_fixed;        /* the reference's Z (first batch) */
  double z_estimate;     /* running estimate after this batch */
  double z_batch;        /* this batch's N mean exp (s) */
  float positive_prob;   /* mean_b h(b,0): NCE's probability that the
                            positive is data, not noise */
} NceStepInfo;

/* NULL when the (max_batch, K+1) buffers do not fit in memory. */
Nce *nce_new (int max_batch, int n, int k, float tau, NceZMode z_mode);
void nce_free (Nce *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Nce, nce_free)

/* Checkpoint restore: sets both the fixed Z and the running estimate, so
 * the next batch does not re-estimate Z. */
void nce_set_z (Nce *self, double z_fixed, double z_estimate);

/* features (B, D) unit rows, indices (B) their bank rows -> returns the loss
 * and writes d_features (B, D) = d loss / d features (skipped when NULL).
 * Draws B K noise indices from rng. info may be NULL. The bank is only read:
 * the caller updates it afterwards (memory_bank_update). */
float nce_forward_backward (Nce *self, float *d_features, const float *features,
                            const int *indices, int batch,
                            const MemoryBank *bank, Rng *rng,
                            NceStepInfo *info);

/* The same with given noise (B, K+1); column 0 is ignored and replaced by
 * indices[b], as the reference does. For tests and replays. */
float nce_forward_backward_with_noise (Nce *self, float *d_features,
                                       const float *features,
                                       const int *indices, const int *noise,
                                       int batch, const MemoryBank *bank,
                                       NceStepInfo *info);

G_END_DECLS
