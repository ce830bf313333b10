/* memory-bank.h: the non-parametric classifier's weights, one unit vector
 * per training image (docs/method.md, "Memory bank"). */
#pragma once

#include <glib.h>

#include "rng.h"

G_BEGIN_DECLS

typedef struct
{
  int n, dim;
  float momentum;   /* m: v <- normalise (m v + (1 - m) f) */
  float *vectors;   /* (N, D) */
} MemoryBank;

/* Allocates and initialises as the reference: uniform in [-s, s] with
 * s = 1 / sqrt(D / 3), rows not normalised. NULL when memory runs out. */
MemoryBank *memory_bank_new (int n, int dim, float momentum, Rng *rng);
void memory_bank_free (MemoryBank *self);

/* For each pair (indices[b], features[b]): v <- normalise (m v + (1 - m) f).
 * features (B, D) are the batch's fresh embeddings. */
void memory_bank_update (MemoryBank *self, const int *indices,
                         const float *features, int batch);

/* The paper's proximal regularisation:
 *   loss = lambda / B sum_b ||f_b - v_{i_b}||^2
 *   d loss / d f_b = 2 lambda / B (f_b - v_{i_b})
 * with v the bank rows before this step's update. Returns the loss and
 * adds the gradient to d_features (B, D). */
float memory_bank_proximal (const MemoryBank *self, float *d_features,
                            const float *features, const int *indices,
                            int batch, float lambda);

G_END_DECLS
