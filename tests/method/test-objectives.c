/* test-objectives.c: NCE, the exact softmax and the memory update against
 * their definitions (docs/method.md) computed independently in double, and
 * the gradients against central differences of the returned loss. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "full-softmax.h"
#include "memory-bank.h"
#include "nce.h"
#include "method-fixtures.h"
#include "rng.h"
#include "testutil.h"
#include "threads.h"

static MemoryBank *
tiny_bank (int n, int dim, Rng *rng)
{
  MemoryBank *bank = memory_bank_new (n, dim, 0.5f, rng);
  random_unit_rows (bank->vectors, n, dim, rng);
  return bank;
}

/* The reference's NCE in double, written from docs/method.md, "NCE": idx
 * (B, K+1) with column 0 the positive; z <= 0 means "estimate from this
 * batch". Returns the loss; grad (B, D), *z_used, *h0_mean. */
static double
nce_reference (const float *v, const float *f, const int *idx, int B, int K,
               int N, int D, double tau, double z, double *grad,
               double *z_batch, double *h0_mean)
{
  const int kp1 = K + 1;
  double *e = g_new (double, B * kp1);
  double sum = 0.0;
  for (int b = 0; b < B; b++)
    for (int k = 0; k < kp1; k++)
      {
        double s = 0.0;
        for (int d = 0; d < D; d++)
          s += (double) v[idx[b * kp1 + k] * D + d] * f[b * D + d];
        e[b * kp1 + k] = exp (s / tau);
        sum += e[b * kp1 + k];
      }
  *z_batch = sum / (B * kp1) * N;
  if (z <= 0.0)
    z = *z_batch;
  const double c = (double) K / N, eps = 1e-7;
  double loss = 0.0, h0 = 0.0;
  memset (grad, 0, sizeof (double) * B * D);
  for (int b = 0; b < B; b++)
    for (int k = 0; k < kp1; k++)
      {
        double p = e[b * kp1 + k] / z;
        double h = p / (p + c + eps);
        if (k == 0)
          {
            loss -= log (h);
            h0 += h;
          }
        else
          loss -= log (c / (p + c + eps));
        /* d/dp of the term, times dp/ds = p, times ds/df = v / tau */
        double dl_dp = k == 0 ? -1.0 / p + 1.0 / (p + c + eps)
                              : 1.0 / (p + c + eps);
        for (int d = 0; d < D; d++)
          grad[b * D + d] += dl_dp * p / tau * v[idx[b * kp1 + k] * D + d] / B;
      }
  *h0_mean = h0 / B;
  g_free (e);
  return loss / B;
}

enum { TN = 5, TD = 3, TK = 2, TB = 3 };

/* fixed noise (B, K+1), column 0 overwritten by the positives; row 2 draws
 * its own positive as noise, as uniform sampling can */
static const int tiny_noise[TB * (TK + 1)] = { -1, 1, 3, -1, 0, 4, -1, 2, 2 };
static const int tiny_indices[TB] = { 0, 2, 2 };

static void
test_nce_loss (void)
{
  Rng rng;
  rng_seed (&rng, 7);
  g_autoptr (Nce) nce = nce_new (TB, TN, TK, 0.1f, NCE_Z_FIXED);
  MemoryBank *bank = tiny_bank (TN, TD, &rng);
  float f[TB * TD], grad[TB * TD], expect_grad[TB * TD];
  random_unit_rows (f, TB, TD, &rng);
  int idx[TB * (TK + 1)];
  memcpy (idx, tiny_noise, sizeof idx);
  for (int b = 0; b < TB; b++)
    idx[b * (TK + 1)] = tiny_indices[b];

  NceStepInfo info;
  float loss = nce_forward_backward_with_noise (nce, grad, f, tiny_indices,
                                                tiny_noise, TB, bank, &info);
  double dgrad[TB * TD], z_batch, h0;
  double expect = nce_reference (bank->vectors, f, idx, TB, TK, TN, TD, 0.1,
                                 0.0, dgrad, &z_batch, &h0);
  for (int i = 0; i < TB * TD; i++)
    expect_grad[i] = (float) dgrad[i];
  float lossf = loss, expectf = (float) expect;
  assert_all_close ("nce loss", &lossf, &expectf, 1, 1e-6, 1e-5);
  assert_all_close ("nce info loss", &info.loss, &expectf, 1, 1e-6, 1e-5);
  assert_all_close ("nce gradient", grad, expect_grad, TB * TD, 1e-6, 1e-4);
  g_assert_cmpfloat_with_epsilon (info.z, z_batch, 1e-5 * z_batch);
  g_assert_cmpfloat_with_epsilon (info.z_fixed, z_batch, 1e-5 * z_batch);
  g_assert_cmpfloat_with_epsilon (info.z_estimate, z_batch, 1e-5 * z_batch);
  g_assert_cmpfloat_with_epsilon (info.positive_prob, h0, 1e-5);
  /* column 0 holds the positives */
  for (int b = 0; b < TB; b++)
    g_assert_cmpint (nce->noise[b * (TK + 1)], ==, tiny_indices[b]);
  memory_bank_free (bank);
}

typedef struct
{
  Nce *nce;
  MemoryBank *bank;
  float *f;
  const int *indices, *noise;
  int batch;
} NceCtx;

static double
nce_loss_at (NceCtx *c)
{
  return nce_forward_backward_with_noise (c->nce, NULL, c->f, c->indices,
                                          c->noise, c->batch, c->bank, NULL);
}

/* Central differences of the returned (float) loss: step 1e-2 on features
 * of norm 1 with tau 0.5 keeps the rounding (~1e-7 / 2e-2) far below the
 * O(0.05 .. 1) gradient; atol 2e-4, rtol 2e-3. Z is fixed by the first
 * call, so every evaluation uses the same Z as the analytic gradient. */
static void
test_nce_gradcheck (void)
{
  Rng rng;
  rng_seed (&rng, 11);
  enum { N = 9, D = 4, K = 5, B = 3 };
  g_autoptr (Nce) nce = nce_new (B, N, K, 0.5f, NCE_Z_FIXED);
  MemoryBank *bank = tiny_bank (N, D, &rng);
  float f[B * D], grad[B * D], numeric[B * D];
  random_unit_rows (f, B, D, &rng);
  int indices[B] = { 4, 0, 8 };
  int noise[B * (K + 1)];
  for (int i = 0; i < B * (K + 1); i++)
    noise[i] = (int) rng_below (&rng, N);
  /* a Z away from the batch's own, so P is not ~1/N everywhere */
  nce_set_z (nce, 3.0, 3.0);
  NceCtx c = { nce, bank, f, indices, noise, B };
  nce_forward_backward_with_noise (nce, grad, f, indices, noise, B, bank, NULL);
  const float h = 1e-2f;
  for (int i = 0; i < B * D; i++)
    {
      float keep = f[i];
      f[i] = keep + h;
      double plus = nce_loss_at (&c);
      f[i] = keep - h;
      double minus = nce_loss_at (&c);
      f[i] = keep;
      numeric[i] = (float) ((plus - minus) / (2.0 * h));
    }
  assert_all_close ("nce gradient vs central differences", grad, numeric,
                    B * D, 2e-4, 2e-3);
  g_assert_cmpfloat (nce->z_fixed, ==, 3.0);
  memory_bank_free (bank);
}

/* Z: the first batch fixes it; the estimate is an EMA with momentum 0.99
 * starting at the first batch; NCE_Z_EMA makes the loss use the estimate;
 * nce_set_z (checkpoint restore) stops the first-batch estimation. */
static void
test_nce_z (void)
{
  Rng rng;
  rng_seed (&rng, 5);
  enum { N = 50, D = 8, K = 6, B = 4 };
  MemoryBank *bank = tiny_bank (N, D, &rng);
  float f1[B * D], f2[B * D], grad[B * D];
  random_unit_rows (f1, B, D, &rng);
  random_unit_rows (f2, B, D, &rng);
  int indices[B] = { 1, 2, 3, 49 };
  int noise1[B * (K + 1)], noise2[B * (K + 1)];
  for (int i = 0; i < B * (K + 1); i++)
    {
      noise1[i] = (int) rng_below (&rng, N);
      noise2[i] = (int) rng_below (&rng, N);
    }
  int idx1[B * (K + 1)], idx2[B * (K + 1)];
  memcpy (idx1, noise1, sizeof idx1);
  memcpy (idx2, noise2, sizeof idx2);
  for (int b = 0; b < B; b++)
    idx1[b * (K + 1)] = idx2[b * (K + 1)] = indices[b];
  double dgrad[B * D], z1, z2, h0;
  nce_reference (bank->vectors, f1, idx1, B, K, N, D, 0.07, 0.0, dgrad, &z1, &h0);
  nce_reference (bank->vectors, f2, idx2, B, K, N, D, 0.07, 0.0, dgrad, &z2, &h0);
  const double ema = 0.99 * z1 + 0.01 * z2;

  for (int mode = NCE_Z_FIXED; mode <= NCE_Z_EMA; mode++)
    {
      g_autoptr (Nce) nce = nce_new (B, N, K, 0.07f, mode);
      g_assert_cmpfloat (nce->z_momentum, ==, 0.99);
      NceStepInfo info;
      nce_forward_backward_with_noise (nce, grad, f1, indices, noise1, B, bank,
                                       &info);
      g_assert_cmpfloat_with_epsilon (info.z_batch, z1, 1e-5 * z1);
      g_assert_cmpfloat_with_epsilon (info.z, z1, 1e-5 * z1);
      nce_forward_backward_with_noise (nce, grad, f2, indices, noise2, B, bank,
                                       &info);
      g_assert_cmpfloat_with_epsilon (info.z_batch, z2, 1e-5 * z2);
      g_assert_cmpfloat_with_epsilon (info.z_fixed, z1, 1e-5 * z1);
      g_assert_cmpfloat_with_epsilon (info.z_estimate, ema, 1e-5 * ema);
      double z_used = mode == NCE_Z_FIXED ? z1 : ema;
      g_assert_cmpfloat_with_epsilon (info.z, z_used, 1e-5 * z_used);
      double expect = nce_reference (bank->vectors, f2, idx2, B, K, N, D, 0.07,
                                     z_used, dgrad, &z2, &h0);
      float expectf = (float) expect;
      assert_all_close ("second-batch loss", &info.loss, &expectf, 1, 1e-6, 1e-5);
      g_assert_cmpfloat_with_epsilon (info.positive_prob, h0, 1e-5);
    }

  /* restored Z: the first batch must not re-estimate it */
  g_autoptr (Nce) restored = nce_new (B, N, K, 0.07f, NCE_Z_FIXED);
  nce_set_z (restored, 123.0, 456.0);
  NceStepInfo info;
  nce_forward_backward_with_noise (restored, NULL, f1, indices, noise1, B, bank,
                                   &info);
  g_assert_cmpfloat (info.z, ==, 123.0);
  g_assert_cmpfloat_with_epsilon (info.z_estimate, 0.99 * 456.0 + 0.01 * z1,
                                  1e-6 * 456.0);
  memory_bank_free (bank);
}

/* drawn noise: in range, column 0 the positive, reproducible from the seed,
 * roughly uniform (each of 10 rows expects 1/10 of 40,000 draws) */
static void
test_nce_noise (void)
{
  Rng rng;
  rng_seed (&rng, 3);
  enum { N = 10, D = 4, K = 1000, B = 40 };
  MemoryBank *bank = tiny_bank (N, D, &rng);
  float f[B * D], grad[B * D];
  random_unit_rows (f, B, D, &rng);
  int indices[B];
  for (int b = 0; b < B; b++)
    indices[b] = b % N;
  g_autoptr (Nce) nce = nce_new (B, N, K, 0.1f, NCE_Z_FIXED);
  Rng a, b2;
  rng_seed (&a, 99);
  float loss1 = nce_forward_backward (nce, grad, f, indices, B, bank, &a, NULL);
  int counts[10] = { 0 };
  for (int b = 0; b < B; b++)
    {
      g_assert_cmpint (nce->noise[b * (K + 1)], ==, indices[b]);
      for (int k = 1; k <= K; k++)
        {
          int j = nce->noise[b * (K + 1) + k];
          g_assert_cmpint (j, >=, 0);
          g_assert_cmpint (j, <, N);
          counts[j]++;
        }
    }
  for (int j = 0; j < N; j++)
    {
      /* sd of a count is ~60; 6 sd */
      g_assert_cmpint (counts[j], >, 4000 - 360);
      g_assert_cmpint (counts[j], <, 4000 + 360);
    }
  g_autoptr (Nce) again = nce_new (B, N, K, 0.1f, NCE_Z_FIXED);
  rng_seed (&b2, 99);
  float loss2 = nce_forward_backward (again, grad, f, indices, B, bank, &b2, NULL);
  g_assert_cmpfloat (loss1, ==, loss2);
  g_assert_cmpmem (nce->noise, sizeof (int) * B * (K + 1), again->noise,
                   sizeof (int) * B * (K + 1));
  memory_bank_free (bank);
}

/* a batch large enough to take the threaded path (two engine threads),
 * against the double reference: loss, Z and gradient */
static void
test_nce_threaded (void)
{
  engine_set_threads (2);
  Rng rng;
  rng_seed (&rng, 21);
  const int N = 3000, D = 32, K = 1024, B = 70;
  MemoryBank *bank = tiny_bank (N, D, &rng);
  float *f = g_new (float, B * D), *grad = g_new (float, B * D);
  float *expect_grad = g_new (float, B * D);
  double *dgrad = g_new (double, B * D);
  random_unit_rows (f, B, D, &rng);
  int *indices = g_new (int, B);
  for (int b = 0; b < B; b++)
    indices[b] = (int) rng_below (&rng, N);
  g_autoptr (Nce) nce = nce_new (B, N, K, 0.07f, NCE_Z_FIXED);
  NceStepInfo info;
  Rng noise_rng;
  rng_seed (&noise_rng, 8);
  nce_forward_backward (nce, grad, f, indices, B, bank, &noise_rng, &info);
  double z_batch, h0;
  double expect = nce_reference (bank->vectors, f, nce->noise, B, K, N, D, 0.07,
                                 0.0, dgrad, &z_batch, &h0);
  for (int i = 0; i < B * D; i++)
    expect_grad[i] = (float) dgrad[i];
  float expectf = (float) expect;
  assert_all_close ("threaded nce loss", &info.loss, &expectf, 1, 1e-6, 1e-5);
  assert_all_close ("threaded nce gradient", grad, expect_grad, B * D, 1e-6,
                    1e-4);
  g_assert_cmpfloat_with_epsilon (info.z, z_batch, 1e-5 * z_batch);

  /* the second batch knows Z beforehand: the one-pass (fused) path */
  const double z_first = info.z;
  random_unit_rows (f, B, D, &rng);
  nce_forward_backward (nce, grad, f, indices, B, bank, &noise_rng, &info);
  expect = nce_reference (bank->vectors, f, nce->noise, B, K, N, D, 0.07,
                          z_first, dgrad, &z_batch, &h0);
  for (int i = 0; i < B * D; i++)
    expect_grad[i] = (float) dgrad[i];
  expectf = (float) expect;
  assert_all_close ("fused nce loss", &info.loss, &expectf, 1, 1e-6, 1e-5);
  assert_all_close ("fused nce gradient", grad, expect_grad, B * D, 1e-6, 1e-4);
  g_assert_cmpfloat (info.z, ==, z_first);
  g_assert_cmpfloat_with_epsilon (info.z_batch, z_batch, 1e-5 * z_batch);
  g_assert_cmpfloat_with_epsilon (info.positive_prob, h0, 1e-5);
  g_free (f);
  g_free (grad);
  g_free (expect_grad);
  g_free (dgrad);
  g_free (indices);
  memory_bank_free (bank);
}

/* Two batches through a fresh Nce: the first computes Z from its scores
 * (two passes), the second knows it (the fused pass). */
enum { RUN_N = 3000, RUN_D = 32, RUN_K = 1024, RUN_B = 70 };

typedef struct
{
  const MemoryBank *bank;
  const float *features;   /* (2, B, D) */
  const int *indices;      /* (B) */
  float loss[2];
  double z[2];
  float *grad;             /* (2, B, D) */
  float *probs;            /* (2, B, K+1) */
} NceRun;

static void
nce_run (NceRun *run)
{
  g_autoptr (Nce) nce = nce_new (RUN_B, RUN_N, RUN_K, 0.07f, NCE_Z_FIXED);
  Rng noise;
  rng_seed (&noise, 8);
  const size_t bd = (size_t) RUN_B * RUN_D, bk = (size_t) RUN_B * (RUN_K + 1);
  for (int batch = 0; batch < 2; batch++)
    {
      NceStepInfo info;
      run->loss[batch]
        = nce_forward_backward (nce, run->grad + batch * bd,
                                run->features + batch * bd, run->indices,
                                RUN_B, run->bank, &noise, &info);
      run->z[batch] = info.z;
      memcpy (run->probs + batch * bk, nce->probs, sizeof (float) * bk);
    }
}

static NceRun
nce_run_new (const MemoryBank *bank, const float *features,
             const int *indices)
{
  return (NceRun) {
    .bank = bank, .features = features, .indices = indices,
    .grad = g_new (float, 2 * RUN_B * RUN_D),
    .probs = g_new (float, 2 * RUN_B * (RUN_K + 1)),
  };
}

static void
nce_run_clear (NceRun *run)
{
  g_free (run->grad);
  g_free (run->probs);
}

static void
assert_nce_runs_identical (const NceRun *a, const NceRun *b)
{
  g_assert_cmpmem (a->loss, sizeof a->loss, b->loss, sizeof b->loss);
  g_assert_cmpmem (a->z, sizeof a->z, b->z, sizeof b->z);
  g_assert_cmpmem (a->grad, sizeof (float) * 2 * RUN_B * RUN_D, b->grad,
                   sizeof (float) * 2 * RUN_B * RUN_D);
  g_assert_cmpmem (a->probs, sizeof (float) * 2 * RUN_B * (RUN_K + 1),
                   b->probs, sizeof (float) * 2 * RUN_B * (RUN_K + 1));
}

static gpointer
nce_run_thread (gpointer data)
{
  nce_run (data);
  return NULL;
}

/* The batch rows are split over the engine's threads and each row is
 * computed alike on any of them, so one thread and two give bit-identical
 * results, both passes; and so do two trainers' steps at once on a
 * two-thread pool, one of them running every share itself. */
static void
test_nce_thread_count (void)
{
  Rng rng;
  rng_seed (&rng, 22);
  MemoryBank *bank = tiny_bank (RUN_N, RUN_D, &rng);
  float *features = g_new (float, 2 * RUN_B * RUN_D);
  random_unit_rows (features, 2 * RUN_B, RUN_D, &rng);
  int indices[RUN_B];
  for (int b = 0; b < RUN_B; b++)
    indices[b] = (int) rng_below (&rng, RUN_N);
  /* large enough to leave the caller */
  g_assert_cmpint (RUN_B * (RUN_K + 1), >=, 65536);

  NceRun one = nce_run_new (bank, features, indices);
  NceRun two = nce_run_new (bank, features, indices);
  engine_set_threads (1);
  nce_run (&one);
  engine_set_threads (2);
  nce_run (&two);
  assert_nce_runs_identical (&one, &two);

  NceRun side[2];
  GThread *threads[2];
  for (int t = 0; t < 2; t++)
    {
      side[t] = nce_run_new (bank, features, indices);
      threads[t] = g_thread_new ("nce-test", nce_run_thread, &side[t]);
    }
  for (int t = 0; t < 2; t++)
    {
      g_thread_join (threads[t]);
      assert_nce_runs_identical (&one, &side[t]);
      nce_run_clear (&side[t]);
    }
  nce_run_clear (&one);
  nce_run_clear (&two);
  g_free (features);
  memory_bank_free (bank);
}

/* ---- the exact softmax ---- */

static double
softmax_reference (const float *v, const float *f, const int *indices, int B,
                   int N, int D, double tau, double *grad)
{
  double loss = 0.0;
  double *z = g_new (double, N);
  memset (grad, 0, sizeof (double) * B * D);
  for (int b = 0; b < B; b++)
    {
      double max = -INFINITY, sum = 0.0;
      for (int j = 0; j < N; j++)
        {
          z[j] = 0.0;
          for (int d = 0; d < D; d++)
            z[j] += (double) v[j * D + d] * f[b * D + d];
          z[j] /= tau;
          max = fmax (max, z[j]);
        }
      for (int j = 0; j < N; j++)
        sum += exp (z[j] - max);
      loss -= z[indices[b]] - max - log (sum);
      for (int j = 0; j < N; j++)
        {
          double p = exp (z[j] - max) / sum - (j == indices[b]);
          for (int d = 0; d < D; d++)
            grad[b * D + d] += p * v[j * D + d] / (tau * B);
        }
    }
  g_free (z);
  return loss / B;
}

static void
test_softmax_loss (void)
{
  Rng rng;
  rng_seed (&rng, 13);
  enum { N = 5, D = 3, B = 3 };
  MemoryBank *bank = tiny_bank (N, D, &rng);
  FullSoftmax *softmax = full_softmax_new (B, N, 0.1f);
  float f[B * D], grad[B * D], expect_grad[B * D], numeric[B * D];
  random_unit_rows (f, B, D, &rng);
  int indices[B] = { 4, 0, 4 };
  float loss = full_softmax_forward_backward (softmax, grad, f, indices, B, bank);
  double dgrad[B * D];
  float expect = (float) softmax_reference (bank->vectors, f, indices, B, N, D,
                                            0.1, dgrad);
  for (int i = 0; i < B * D; i++)
    expect_grad[i] = (float) dgrad[i];
  assert_all_close ("softmax loss", &loss, &expect, 1, 1e-6, 1e-5);
  assert_all_close ("softmax gradient", grad, expect_grad, B * D, 1e-6, 1e-4);

  /* central differences, step 1e-2 at tau 0.1: atol 1e-3, rtol 5e-3 */
  float scratch[B * D];
  const float h = 1e-2f;
  for (int i = 0; i < B * D; i++)
    {
      float keep = f[i];
      f[i] = keep + h;
      double plus = full_softmax_forward_backward (softmax, scratch, f, indices,
                                                   B, bank);
      f[i] = keep - h;
      double minus = full_softmax_forward_backward (softmax, scratch, f,
                                                    indices, B, bank);
      f[i] = keep;
      numeric[i] = (float) ((plus - minus) / (2.0 * h));
    }
  assert_all_close ("softmax gradient vs central differences", grad, numeric,
                    B * D, 1e-3, 5e-3);
  full_softmax_free (softmax);
  memory_bank_free (bank);
}

/* ---- memory bank ---- */

static void
test_memory_update (void)
{
  Rng rng;
  rng_seed (&rng, 17);
  enum { N = 6, D = 5, B = 2 };
  MemoryBank *bank = memory_bank_new (N, D, 0.5f, &rng);
  /* the reference's init: uniform in [-s, s], s = 1 / sqrt (D / 3) */
  const float s = 1.0f / sqrtf (D / 3.0f);
  for (int i = 0; i < N * D; i++)
    g_assert_true (bank->vectors[i] >= -s && bank->vectors[i] <= s);
  float before[6 * 5], f[B * D], expect[6 * 5];
  memcpy (before, bank->vectors, sizeof before);
  random_unit_rows (f, B, D, &rng);
  int indices[B] = { 4, 1 };
  memcpy (expect, before, sizeof expect);
  for (int b = 0; b < B; b++)
    {
      double v[5], sum = 0.0;
      for (int d = 0; d < D; d++)
        {
          v[d] = 0.5 * before[indices[b] * D + d] + 0.5 * f[b * D + d];
          sum += v[d] * v[d];
        }
      for (int d = 0; d < D; d++)
        expect[indices[b] * D + d] = (float) (v[d] / sqrt (sum));
    }
  memory_bank_update (bank, indices, f, B);
  assert_all_close ("updated bank", bank->vectors, expect, N * D, 1e-7, 1e-6);
  for (int b = 0; b < B; b++)
    {
      double norm = 0.0;
      for (int d = 0; d < D; d++)
        norm += (double) bank->vectors[indices[b] * D + d]
                * bank->vectors[indices[b] * D + d];
      g_assert_cmpfloat_with_epsilon (norm, 1.0, 1e-6);
    }
  memory_bank_free (bank);
}

/* The paper's proximal term: lambda / B sum ||f - v||^2,
 * against its definition in double and central differences; the gradient
 * is added to what d_features held. */
static void
test_memory_proximal (void)
{
  Rng rng;
  rng_seed (&rng, 19);
  enum { N = 7, D = 4, B = 3 };
  MemoryBank *bank = tiny_bank (N, D, &rng);
  float f[B * D], grad[B * D], numeric[B * D], scratch[B * D];
  float before[B * D], expect_grad[B * D];
  random_unit_rows (f, B, D, &rng);
  for (int i = 0; i < B * D; i++)
    grad[i] = rng_normal (&rng);
  memcpy (before, grad, sizeof grad);
  const int indices[B] = { 6, 2, 0 };
  const float lambda = 30.0f;
  float loss = memory_bank_proximal (bank, grad, f, indices, B, lambda);
  double expect = 0.0;
  for (int b = 0; b < B; b++)
    for (int d = 0; d < D; d++)
      {
        double diff = (double) f[b * D + d] - bank->vectors[indices[b] * D + d];
        expect += lambda * diff * diff / B;
        expect_grad[b * D + d] = (float) (before[b * D + d]
                                          + 2.0 * lambda * diff / B);
      }
  float expect_f = (float) expect;
  assert_all_close ("proximal loss", &loss, &expect_f, 1, 1e-6, 1e-6);
  assert_all_close ("proximal gradient added", grad, expect_grad, B * D, 1e-5,
                    1e-6);

  const float h = 1e-2f;
  for (int i = 0; i < B * D; i++)
    {
      float keep = f[i];
      f[i] = keep + h;
      double plus = memory_bank_proximal (bank, scratch, f, indices, B, lambda);
      f[i] = keep - h;
      double minus = memory_bank_proximal (bank, scratch, f, indices, B,
                                           lambda);
      f[i] = keep;
      numeric[i] = (float) ((plus - minus) / (2.0 * h) + before[i]);
    }
  assert_all_close ("proximal gradient vs central differences", grad, numeric,
                    B * D, 1e-3, 1e-3);
  memory_bank_free (bank);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/method/nce/loss", test_nce_loss);
  g_test_add_func ("/method/nce/gradcheck", test_nce_gradcheck);
  g_test_add_func ("/method/nce/z", test_nce_z);
  g_test_add_func ("/method/nce/noise", test_nce_noise);
  g_test_add_func ("/method/nce/threaded", test_nce_threaded);
  g_test_add_func ("/method/nce/thread-count", test_nce_thread_count);
  g_test_add_func ("/method/softmax/loss", test_softmax_loss);
  g_test_add_func ("/method/memory-bank/update", test_memory_update);
  g_test_add_func ("/method/memory-bank/proximal", test_memory_proximal);
  return g_test_run ();
}
