/* memory-bank.c: initialisation and momentum update of the memory bank. */
#define G_LOG_DOMAIN "instdisc-method"

#include "memory-bank.h"

#include <math.h>

#include "check.h"

MemoryBank *
memory_bank_new (int n, int dim, float momentum, Rng *rng)
{
  ENGINE_CHECK (n > 0 && dim > 0);
  float *vectors = engine_alloc (sizeof (float) * (size_t) n * dim);
  if (!vectors)
    return NULL;
  MemoryBank *self = g_new0 (MemoryBank, 1);
  self->n = n;
  self->dim = dim;
  self->momentum = momentum;
  self->vectors = vectors;
  const float s = 1.0f / sqrtf (dim / 3.0f);
  for (size_t i = 0; i < (size_t) n * dim; i++)
    vectors[i] = (2.0f * rng_uniform (rng) - 1.0f) * s;
  return self;
}

void
memory_bank_free (MemoryBank *self)
{
  if (!self)
    return;
  engine_free (self->vectors);
  g_free (self);
}

void
memory_bank_update (MemoryBank *self, const int *indices, const float *features,
                    int batch)
{
  const int D = self->dim;
  const float m = self->momentum;
  for (int b = 0; b < batch; b++)
    {
      ENGINE_CHECK (indices[b] >= 0 && indices[b] < self->n);
      float *v = self->vectors + (size_t) indices[b] * D;
      const float *f = features + (size_t) b * D;
      double sum_sq = 0.0;
      for (int d = 0; d < D; d++)
        {
          v[d] = m * v[d] + (1.0f - m) * f[d];
          sum_sq += (double) v[d] * v[d];
        }
      float inv_norm = (float) (1.0 / sqrt (sum_sq));
      for (int d = 0; d < D; d++)
        v[d] *= inv_norm;
    }
}

float
memory_bank_proximal (const MemoryBank *self, float *d_features,
                      const float *features, const int *indices, int batch,
                      float lambda)
{
  const int D = self->dim;
  const float scale = 2.0f * lambda / batch;
  double loss = 0.0;
  for (int b = 0; b < batch; b++)
    {
      ENGINE_CHECK (indices[b] >= 0 && indices[b] < self->n);
      const float *v = self->vectors + (size_t) indices[b] * D;
      const float *f = features + (size_t) b * D;
      float *g = d_features + (size_t) b * D;
      for (int d = 0; d < D; d++)
        {
          float diff = f[d] - v[d];
          loss += (double) diff * diff;
          g[d] += scale * diff;
        }
    }
  return (float) (lambda * loss / batch);
}
