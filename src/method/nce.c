/* nce.c: loss and gradient of NCE against the memory bank.
 *
 * The reference gathers the B (K+1) bank rows into a (B, K+1, D) tensor
 * (268 MB at K 4096, B 128, D 128) and multiplies it batched. We never copy
 * the rows: each batch row reads its K+1 bank rows in place. When Z is
 * known before the batch (the reference's fixed Z, every batch after the
 * first) one pass computes scores, probabilities and the gradient while the
 * row is in L1; otherwise Z needs every score first, and the rows are read
 * twice. The reads are random 512-byte rows of a 30 MB bank (60,000 x 128),
 * latency-bound, hence the software prefetch.
 * Batch rows are split over the engine's threads (engine_parallel); each
 * row's arithmetic is the same whichever thread takes it, so the loss and
 * the gradient do not depend on the number of threads.
 *
 * Gradient. With c = K Pn and P = exp (s) / Z, dP/ds = P (Z constant), so
 *   positive: d/ds [-log (P / (P + c + eps))] = P / (P + c + eps) - 1
 *                                              = -(c + eps) / (P + c + eps)
 *   noise:    d/ds [-log (c / (P + c + eps))] = P / (P + c + eps) = h
 * i.e. d loss / d s(b,k) = (h(b,k) - [k = 0]) / B, and with s = v . f / tau
 *   d loss / d f_b = 1 / (tau B) sum_k (h(b,k) - [k = 0]) v_idx(b,k)
 * which is what the reference's autograd computes (grad P * P / tau, then
 * the batched product with the gathered rows). */
#define G_LOG_DOMAIN "instdisc-method"

#include "nce.h"

#include <math.h>

#include "check.h"
#include "dot16.h"
#include "threads.h"

/* The two row kernels are compiled for AVX2 + FMA as well as for the
 * baseline, picked at load time, because the project builds for generic
 * x86-64 and the inner dot products are the whole cost. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define NCE_CLONES __attribute__ ((target_clones ("arch=x86-64-v3", "default")))
#else
#define NCE_CLONES
#endif

/* rows requested ahead of the one being summed: a row is ~20 ns of work,
 * a miss to DRAM ~100 ns (16 measured faster than 2 and 8) */
#define PREFETCH_ROWS 16

Nce *
nce_new (int max_batch, int n, int k, float tau, NceZMode z_mode)
{
  ENGINE_CHECK (max_batch > 0 && n > 0 && k > 0 && tau > 0.0f);
  size_t entries = (size_t) max_batch * (k + 1);
  int *noise = engine_alloc (sizeof (int) * entries);
  float *probs = engine_alloc (sizeof (float) * entries);
  float *coef = engine_alloc (sizeof (float) * entries);
  if (!noise || !probs || !coef)
    {
      engine_free (noise);
      engine_free (probs);
      engine_free (coef);
      return NULL;
    }
  Nce *self = g_new0 (Nce, 1);
  self->n = n;
  self->k = k;
  self->max_batch = max_batch;
  self->tau = tau;
  self->z_mode = z_mode;
  self->z_momentum = NCE_Z_MOMENTUM_DEFAULT;
  self->z_fixed = -1.0;
  self->z_estimate = -1.0;
  self->noise = noise;
  self->probs = probs;
  self->coef = coef;
  return self;
}

void
nce_free (Nce *self)
{
  if (!self)
    return;
  engine_free (self->noise);
  engine_free (self->probs);
  engine_free (self->coef);
  g_free (self);
}

void
nce_set_z (Nce *self, double z_fixed, double z_estimate)
{
  /* both positive, or both unset (-1: a state saved before any batch) */
  ENGINE_CHECK ((z_fixed > 0.0 && z_estimate > 0.0)
                || (z_fixed == -1.0 && z_estimate == -1.0));
  self->z_fixed = z_fixed;
  self->z_estimate = z_estimate;
}

/* Asks for bank row idx[k + PREFETCH_ROWS] while row k is used: the rows
 * are random, so the hardware prefetcher cannot guess them. */
static inline __attribute__ ((always_inline)) void
prefetch_ahead (const float *vectors, const int *idx, int k, int kp1, int D)
{
  if (k + PREFETCH_ROWS >= kp1)
    return;
  const char *next = (const char *) (vectors + (size_t) idx[k + PREFETCH_ROWS] * D);
  for (int off = 0; off < D * (int) sizeof (float); off += 64)
    __builtin_prefetch (next + off);
}

/* e (K+1) = exp (V[idx] (K+1, D) f (D) / tau) for one batch row */
NCE_CLONES static void
scores_row (float *e, const float *f, const int *idx, int kp1,
            const float *vectors, int D, float inv_tau)
{
  for (int k = 0; k < kp1; k++)
    {
      prefetch_ahead (vectors, idx, k, kp1, D);
      e[k] = dot16 (vectors + (size_t) idx[k] * D, f, D) * inv_tau;
    }
  for (int k = 0; k < kp1; k++)
    e[k] = expf (e[k]);
}

/* g (D) = sum_k coef[k] V[idx[k]] for one batch row */
NCE_CLONES static void
gradient_row (float *g, const float *coef, const int *idx, int kp1,
              const float *vectors, int D)
{
  for (int d = 0; d < D; d++)
    g[d] = 0.0f;
  for (int k = 0; k < kp1; k++)
    {
      const float *v = vectors + (size_t) idx[k] * D;
      prefetch_ahead (vectors, idx, k, kp1, D);
      const float c = coef[k];
      for (int d = 0; d < D; d++)
        g[d] += c * v[d];
    }
}

/* Both passes in one when Z is known before the batch (NCE_Z_FIXED after
 * the first batch): each row is read once, its score, probability and
 * gradient term computed while it is in L1. e (K+1) = exp (s), p (K+1) = P,
 * g (D) = sum_k (h - [k = 0]) v_k / (tau B). */
NCE_CLONES static void
fused_row (float *e, float *p, float *g, const float *f, const int *idx,
           int kp1, const float *vectors, int D, float inv_tau, float inv_z,
           float c, float eps, float scale)
{
  for (int d = 0; d < D; d++)
    g[d] = 0.0f;
  for (int k = 0; k < kp1; k++)
    {
      const float *v = vectors + (size_t) idx[k] * D;
      prefetch_ahead (vectors, idx, k, kp1, D);
      e[k] = expf (dot16 (v, f, D) * inv_tau);
      p[k] = e[k] * inv_z;
      const float w = (k == 0 ? -(c + eps) : p[k]) / (p[k] + c + eps) * scale;
      for (int d = 0; d < D; d++)
        g[d] += w * v[d];
    }
}

/* ---- splitting batch rows over the engine's threads ---- */

typedef struct
{
  Nce *self;
  const float *features;
  const float *vectors;
  float *d_features;
  float *coef;        /* (B, K+1) scratch of the gradient pass */
  int dim, batch;
  enum { PASS_SCORES, PASS_GRADIENT, PASS_FUSED } pass;
  float inv_z, c, eps, scale;   /* the fused pass's constants */
} RowJob;

/* thread ith of nth: its share of the batch rows, each row computed the
 * same way whoever takes it */
static void
run_rows (void *arg, int ith, int nth)
{
  const RowJob *job = arg;
  Nce *self = job->self;
  const int kp1 = self->k + 1, D = job->dim;
  const float inv_tau = 1.0f / self->tau;
  size_t lo, hi;
  engine_split ((size_t) job->batch, ith, nth, &lo, &hi);
  for (int b = (int) lo; b < (int) hi; b++)
    {
      const int *idx = self->noise + (size_t) b * kp1;
      if (job->pass == PASS_SCORES)
        scores_row (self->probs + (size_t) b * kp1, job->features + (size_t) b * D,
                    idx, kp1, job->vectors, D, inv_tau);
      else if (job->pass == PASS_GRADIENT)
        gradient_row (job->d_features + (size_t) b * D,
                      job->coef + (size_t) b * kp1, idx, kp1, job->vectors, D);
      else
        fused_row (self->coef + (size_t) b * kp1, self->probs + (size_t) b * kp1,
                   job->d_features + (size_t) b * D,
                   job->features + (size_t) b * D, idx, kp1, job->vectors, D,
                   inv_tau, job->inv_z, job->c, job->eps, job->scale);
    }
}

/* Below ~64k dot products waking the pool costs more than it saves, so a
 * small batch stays on the caller. */
static void
run_rows_parallel (RowJob *job)
{
  if ((gint64) job->batch * (job->self->k + 1) < 65536 || job->batch < 2)
    run_rows (job, 0, 1);
  else
    engine_parallel (run_rows, job);
}

float
nce_forward_backward_with_noise (Nce *self, float *d_features,
                                 const float *features, const int *indices,
                                 const int *noise, int batch,
                                 const MemoryBank *bank, NceStepInfo *info)
{
  const int N = self->n, K = self->k, kp1 = K + 1, D = bank->dim;
  ENGINE_CHECK (bank->n == N && batch > 0 && batch <= self->max_batch);
  const size_t entries = (size_t) batch * kp1;

  for (int b = 0; b < batch; b++)
    {
      ENGINE_CHECK (indices[b] >= 0 && indices[b] < N);
      int *row = self->noise + (size_t) b * kp1;
      if (row != noise + (size_t) b * kp1)
        for (int k = 1; k < kp1; k++)
          {
            ENGINE_CHECK (noise[(size_t) b * kp1 + k] >= 0
                          && noise[(size_t) b * kp1 + k] < N);
            row[k] = noise[(size_t) b * kp1 + k];
          }
      row[0] = indices[b];
    }

  const float c = (float) K / (float) N, eps = (float) NCE_EPS;
  /* means are over the whole batch, of which these rows may be a share */
  const int mean_over = self->total_batch > 0 ? self->total_batch : batch;
  const gboolean shared = !distributed_is_single (self->dist);
  const float inv_b = 1.0f / mean_over;
  RowJob job = { .self = self, .features = features, .vectors = bank->vectors,
                 .dim = D, .batch = batch, .d_features = d_features,
                 .c = c, .eps = eps, .scale = inv_b / self->tau };
  /* With Z known before the batch, one pass: probs (B, K+1) = P, coef =
   * exp (s), d_features. Otherwise pass 1 here: probs = exp (s). */
  const gboolean fused = d_features && self->z_mode == NCE_Z_FIXED
                         && self->z_fixed > 0.0;
  const float *exp_s = fused ? self->coef : self->probs;
  if (fused)
    {
      job.pass = PASS_FUSED;
      job.inv_z = (float) (1.0 / self->z_fixed);
    }
  run_rows_parallel (&job);

  /* Z: the Monte-Carlo estimate N E_j[exp (s_j)] over every entry of the
   * batch, the positives included, as the reference */
  double sum_e = 0.0;
  for (size_t i = 0; i < entries; i++)
    sum_e += exp_s[i];
  if (shared)
    distributed_sum_doubles (self->dist, &sum_e, 1);
  const double z_batch = sum_e / ((size_t) mean_over * kp1) * N;
  if (self->z_fixed < 0.0)
    self->z_fixed = z_batch;
  if (self->z_estimate < 0.0)
    self->z_estimate = z_batch;
  else
    self->z_estimate = self->z_momentum * self->z_estimate
                       + (1.0 - self->z_momentum) * z_batch;
  const double z = self->z_mode == NCE_Z_FIXED ? self->z_fixed : self->z_estimate;

  /* loss and d loss / d s; the logs in log1p form so a P tiny next to
   * c = K Pn keeps its digits (the reference's float log (c / (P + c))
   * loses them), the sums in double */
  const float inv_z = (float) (1.0 / z);
  double loss = 0.0, sum_h0 = 0.0;
  for (int b = 0; b < batch; b++)
    {
      float *p = self->probs + (size_t) b * kp1;
      double row_loss = 0.0;
      for (int k = 0; k < kp1; k++)
        {
          if (!fused)
            p[k] *= inv_z;
          float denom = p[k] + c + eps;
          if (k == 0)
            {
              row_loss -= log1p ((double) (c + eps) / p[0]);   /* log h */
              sum_h0 += p[0] / denom;
            }
          else
            row_loss -= log1pf ((p[k] + eps) / c);   /* log (c / denom) */
        }
      loss -= row_loss;
    }
  if (shared)
    {
      double sums[2] = { loss, sum_h0 };
      distributed_sum_doubles (self->dist, sums, 2);
      loss = sums[0];
      sum_h0 = sums[1];
    }
  loss /= mean_over;

  if (info)
    {
      info->loss = (float) loss;
      info->z = z;
      info->z_fixed = self->z_fixed;
      info->z_estimate = self->z_estimate;
      info->z_batch = z_batch;
      info->positive_prob = (float) (sum_h0 / mean_over);
    }
  if (!d_features || fused)
    return (float) loss;

  /* pass 2: coef (B, K+1) = (h - [k = 0]) / (tau B), then
   * d_features (B, D) = coef-weighted sums of the same rows */
  float *coef = self->coef;
  const float scale = inv_b / self->tau;
  for (int b = 0; b < batch; b++)
    {
      const float *p = self->probs + (size_t) b * kp1;
      float *w = coef + (size_t) b * kp1;
      w[0] = -(c + eps) / (p[0] + c + eps) * scale;
      for (int k = 1; k < kp1; k++)
        w[k] = p[k] / (p[k] + c + eps) * scale;
    }
  job.pass = PASS_GRADIENT;
  job.coef = coef;
  run_rows_parallel (&job);
  return (float) loss;
}

float
nce_forward_backward (Nce *self, float *d_features, const float *features,
                      const int *indices, int batch, const MemoryBank *bank,
                      Rng *rng, NceStepInfo *info)
{
  ENGINE_CHECK (batch > 0 && batch <= self->max_batch);
  const int kp1 = self->k + 1;
  /* uniform noise Pn = 1/N (the reference's alias sampler over equal
   * weights is the same distribution); column 0 is set to the positive.
   * A share of a batch first draws what the rows before it would:
   * rng_below's rejections make a draw's count unknown in advance. */
  for (int b = 0; b < self->first_row; b++)
    for (int k = 1; k < kp1; k++)
      rng_below (rng, self->n);
  for (int b = 0; b < batch; b++)
    for (int k = 1; k < kp1; k++)
      self->noise[(size_t) b * kp1 + k] = (int) rng_below (rng, self->n);
  return nce_forward_backward_with_noise (self, d_features, features, indices,
                                          self->noise, batch, bank, info);
}
