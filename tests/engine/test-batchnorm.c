/* test-batchnorm.c: BatchNorm2d against torch.nn.BatchNorm2d's definition,
 * recomputed here in double, and its backward against central differences. */
#include <glib.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "batchnorm.h"
#include "gradcheck.h"
#include "layers.h"
#include "rng.h"
#include "testutil.h"

typedef struct
{
  BatchNorm2d bn;
  int channels, batch, spatial;
  size_t n;                     /* C*B*H*W */
  float *weight, *bias, *grad_weight, *grad_bias;
  float *inp, *out;
} BnFixture;

static void
fixture_init (BnFixture *f, int channels, int batch, int spatial, Rng *rng)
{
  memset (f, 0, sizeof *f);
  g_assert_true (batchnorm2d_init (&f->bn, channels, spatial));
  f->channels = channels;
  f->batch = batch;
  f->spatial = spatial;
  f->n = (size_t) channels * batch * spatial;
  f->weight = g_new (float, channels);
  f->bias = g_new (float, channels);
  f->grad_weight = g_new (float, channels);
  f->grad_bias = g_new (float, channels);
  f->inp = g_new (float, f->n);
  f->out = g_new (float, f->n);
  /* weights away from 1 and biases away from 0, so that swapping them or
   * dropping the affine map shows */
  fill_uniform_range (rng, f->weight, channels, 0.5f, 2.0f);
  fill_normal (rng, f->bias, channels, 1.0f);
  /* per-channel offsets and scales: a mean or variance taken over the wrong
   * axis of the (C, B, H, W) layout gives a visibly different answer */
  for (int c = 0; c < channels; c++)
    {
      float shift = 3.0f * rng_normal (rng), scale = 0.5f + 2.0f * c;
      fill_normal (rng, f->inp + (size_t) c * batch * spatial,
                   (size_t) batch * spatial, scale);
      for (size_t i = 0; i < (size_t) batch * spatial; i++)
        f->inp[(size_t) c * batch * spatial + i] += shift;
    }
  f->bn.weight = f->weight;
  f->bn.bias = f->bias;
  f->bn.grad_weight = f->grad_weight;
  f->bn.grad_bias = f->grad_bias;
}

static void
fixture_clear (BnFixture *f)
{
  batchnorm2d_clear (&f->bn);
  g_free (f->weight);
  g_free (f->bias);
  g_free (f->grad_weight);
  g_free (f->grad_bias);
  g_free (f->inp);
  g_free (f->out);
}

/* Mean and biased variance of channel c, two-pass in double. */
static void
channel_moments (const BnFixture *f, int c, double *mean, double *var)
{
  const size_t m = (size_t) f->batch * f->spatial;
  const float *x = f->inp + c * m;
  double sum = 0.0;
  for (size_t i = 0; i < m; i++)
    sum += x[i];
  *mean = sum / m;
  double sq = 0.0;
  for (size_t i = 0; i < m; i++)
    sq += (x[i] - *mean) * (x[i] - *mean);
  *var = sq / m;
}

/* Two training steps then evaluation, PyTorch semantics:
 *   out = w (x - mean) / sqrt(biased var + eps) + b
 *   running_mean = 0.9 running_mean + 0.1 mean
 *   running_var  = 0.9 running_var + 0.1 var * M / (M - 1)   (unbiased)
 *   num_batches_tracked += 1 per training forward
 * and evaluation normalises with the running statistics, touching none of
 * them. Float results against double: atol 1e-5, rtol 1e-5 on O(1) values. */
static void
test_batchnorm_semantics (void)
{
  Rng rng;
  rng_seed (&rng, 21);
  BnFixture f;
  fixture_init (&f, 3, 4, 5, &rng);
  const int C = f.channels;
  const size_t M = (size_t) f.batch * f.spatial;
  const double momentum = 0.1, eps = 1e-5;
  double running_mean[3], running_var[3];

  /* start away from the defaults so that the blend is visible */
  for (int c = 0; c < C; c++)
    {
      f.bn.running_mean[c] = running_mean[c] = 0.5 - c;
      f.bn.running_var[c] = running_var[c] = 2.0 + c;
    }
  g_assert_cmpint (f.bn.num_batches_tracked, ==, 0);

  float *expected = g_new (float, f.n);
  float expected_stats[3];
  float got_stats[3];
  for (int step = 1; step <= 2; step++)
    {
      if (step == 2)
        fill_normal (&rng, f.inp, f.n, 2.0f);
      fill_value (f.out, f.n, NAN);
      batchnorm2d_forward (&f.bn, f.out, f.inp, f.batch, true);
      for (int c = 0; c < C; c++)
        {
          double mean, var;
          channel_moments (&f, c, &mean, &var);
          for (size_t i = 0; i < M; i++)
            expected[c * M + i]
                = (float) (f.weight[c] * (f.inp[c * M + i] - mean)
                               / sqrt (var + eps)
                           + f.bias[c]);
          running_mean[c] = (1 - momentum) * running_mean[c] + momentum * mean;
          running_var[c] = (1 - momentum) * running_var[c]
                           + momentum * var * M / (M - 1);
        }
      assert_all_close ("training output", f.out, expected, f.n, 1e-5, 1e-5);
      for (int c = 0; c < C; c++)
        {
          expected_stats[c] = (float) running_mean[c];
          got_stats[c] = f.bn.running_mean[c];
        }
      assert_all_close ("running_mean", got_stats, expected_stats, C, 1e-6,
                        1e-5);
      for (int c = 0; c < C; c++)
        {
          expected_stats[c] = (float) running_var[c];
          got_stats[c] = f.bn.running_var[c];
        }
      assert_all_close ("running_var (unbiased)", got_stats, expected_stats,
                        C, 1e-6, 1e-5);
      g_assert_cmpint (f.bn.num_batches_tracked, ==, step);
    }

  /* evaluation: the running statistics, not the batch's */
  fill_normal (&rng, f.inp, f.n, 3.0f);
  for (int c = 0; c < C; c++)
    for (size_t i = 0; i < M; i++)
      expected[c * M + i]
          = (float) (f.weight[c] * (f.inp[c * M + i] - running_mean[c])
                         / sqrt (running_var[c] + eps)
                     + f.bias[c]);
  batchnorm2d_forward (&f.bn, f.out, f.inp, f.batch, false);
  assert_all_close ("evaluation output", f.out, expected, f.n, 1e-5, 1e-5);
  /* in place is allowed in evaluation mode */
  batchnorm2d_forward (&f.bn, f.inp, f.inp, f.batch, false);
  assert_all_close ("evaluation output in place", f.inp, expected, f.n, 1e-5,
                    1e-5);
  g_assert_cmpint (f.bn.num_batches_tracked, ==, 2);
  for (int c = 0; c < C; c++)
    {
      expected_stats[c] = (float) running_var[c];
      got_stats[c] = f.bn.running_var[c];
    }
  assert_all_close ("running_var untouched by evaluation", got_stats,
                    expected_stats, C, 1e-6, 1e-5);

  g_free (expected);
  fixture_clear (&f);
}

/* A fresh layer starts as PyTorch's: running mean 0, variance 1. */
static void
test_batchnorm_init (void)
{
  BatchNorm2d bn;
  g_assert_true (batchnorm2d_init (&bn, 4, 9));
  g_assert_cmpfloat (bn.eps, ==, 1e-5f);
  g_assert_cmpfloat (bn.momentum, ==, 0.1f);
  g_assert_cmpint (bn.num_batches_tracked, ==, 0);
  for (int c = 0; c < 4; c++)
    {
      g_assert_cmpfloat (bn.running_mean[c], ==, 0.0f);
      g_assert_cmpfloat (bn.running_var[c], ==, 1.0f);
    }
  batchnorm2d_clear (&bn);
}

typedef struct
{
  BnFixture *f;
  const float *r;
} BnLoss;

/* L = sum (out * R): with sum (out) alone the input gradient through batch
 * norm is identically zero and the check would prove nothing. */
static double
bn_loss (void *data)
{
  BnLoss *l = data;
  batchnorm2d_forward (&l->f->bn, l->f->out, l->f->inp, l->f->batch, true);
  return dot_double (l->f->out, l->r, l->f->n);
}

/* Training-mode gradients w.r.t. input, weight and bias. BN is smooth, so
 * the O(h^2) truncation error at h = 1e-3 is negligible next to the float
 * rounding of L: one step moves the channel's mean and invstd, hence every
 * output of the channel, and the folded shift = bias - mean * scale loses
 * digits to cancellation; ~4e-6 in L, up to ~4e-3 after dividing by 2h
 * (measured: 3.8e-3 worst). Gradients are O(0.1) to O(10): atol 5e-3,
 * rtol 1e-2; a wrong term in the formula is off by O(0.1). */
static void
test_batchnorm_gradient (void)
{
  Rng rng;
  rng_seed (&rng, 22);
  /* two shapes: several images of a few pixels, and one image of many */
  const int shapes[][3] = { { 3, 4, 6 }, { 2, 1, 35 }, { 4, 5, 1 } };
  for (size_t s = 0; s < G_N_ELEMENTS (shapes); s++)
    {
      BnFixture f;
      fixture_init (&f, shapes[s][0], shapes[s][1], shapes[s][2], &rng);
      float *r = g_new (float, f.n);
      float *dinp = g_new (float, f.n);
      float *dw = g_new (float, f.channels);
      float *db = g_new (float, f.channels);
      fill_normal (&rng, r, f.n, 1.0f);

      batchnorm2d_forward (&f.bn, f.out, f.inp, f.batch, true);
      fill_value (dinp, f.n, NAN);
      batchnorm2d_backward (&f.bn, dinp, r, f.batch);
      memcpy (dw, f.grad_weight, sizeof (float) * f.channels);
      memcpy (db, f.grad_bias, sizeof (float) * f.channels);

      BnLoss loss = { &f, r };
      g_autofree char *name = g_strdup_printf ("C%d B%d HW%d", shapes[s][0],
                                               shapes[s][1], shapes[s][2]);
      g_autofree char *nx = g_strdup_printf ("%s d input", name);
      g_autofree char *nw = g_strdup_printf ("%s d weight", name);
      g_autofree char *nb = g_strdup_printf ("%s d bias", name);
      check_gradient (nx, bn_loss, &loss, f.inp, dinp, f.n, 80, 1e-3f, 5e-3,
                      1e-2, &rng);
      check_gradient (nw, bn_loss, &loss, f.weight, dw, f.channels, 80,
                      1e-3f, 5e-3, 1e-2, &rng);
      check_gradient (nb, bn_loss, &loss, f.bias, db, f.channels, 80, 1e-3f,
                      5e-3, 1e-2, &rng);

      /* in place (dinp == dout), as the network calls it */
      float *inplace = g_memdup2 (r, sizeof (float) * f.n);
      batchnorm2d_forward (&f.bn, f.out, f.inp, f.batch, true);
      batchnorm2d_backward (&f.bn, inplace, inplace, f.batch);
      g_autofree char *ni = g_strdup_printf ("%s d input in place", name);
      assert_all_close (ni, inplace, dinp, f.n, 1e-6, 1e-5);

      g_free (inplace);
      g_free (r);
      g_free (dinp);
      g_free (dw);
      g_free (db);
      fixture_clear (&f);
    }
}

/* (C, B, S) -> the (C, B / 2, S) half of images [h B / 2, (h + 1) B / 2) */
static float *
half_of (const float *x, int channels, int batch, int spatial, int h)
{
  const size_t run = (size_t) batch / 2 * spatial;
  float *half = g_new (float, channels * run);
  for (int c = 0; c < channels; c++)
    memcpy (half + c * run, x + (size_t) c * batch * spatial + h * run,
            sizeof (float) * run);
  return half;
}

/* Two groups are two batch norms, one per half of the batch, as two
 * processes of data-parallel training each run one (docs/distributed.md):
 * the same outputs and input gradients, the weight's and bias's gradients
 * summed, the running statistics the mean of the two's. The halves run the
 * same sums over the same values, so outputs agree to the last bits; the
 * gradient sums are added in double on one side and in float on the other
 * (1e-6). */
static void
test_batchnorm_groups (void)
{
  Rng rng;
  rng_seed (&rng, 23);
  BnFixture f;
  fixture_init (&f, 3, 6, 5, &rng);
  const int C = f.channels, B = f.batch, S = f.spatial;
  float *dout = g_new (float, f.n);
  float *dinp = g_new (float, f.n);
  fill_normal (&rng, dout, f.n, 1.0f);
  g_assert_true (batchnorm2d_set_groups (&f.bn, 2));
  batchnorm2d_forward (&f.bn, f.out, f.inp, B, true);
  batchnorm2d_backward (&f.bn, dinp, dout, B);

  float running_mean[8] = { 0 }, running_var[8] = { 0 };
  float grad_weight[8] = { 0 }, grad_bias[8] = { 0 };
  for (int h = 0; h < 2; h++)
    {
      BnFixture half;
      Rng unused;
      rng_seed (&unused, 1);
      fixture_init (&half, C, B / 2, S, &unused);
      memcpy (half.weight, f.weight, sizeof (float) * C);
      memcpy (half.bias, f.bias, sizeof (float) * C);
      g_autofree float *inp = half_of (f.inp, C, B, S, h);
      g_autofree float *d = half_of (dout, C, B, S, h);
      g_autofree float *want_out = half_of (f.out, C, B, S, h);
      g_autofree float *want_dinp = half_of (dinp, C, B, S, h);
      batchnorm2d_forward (&half.bn, half.out, inp, B / 2, true);
      batchnorm2d_backward (&half.bn, d, d, B / 2);
      assert_all_close ("a half's output", half.out, want_out, half.n, 1e-6,
                        1e-6);
      assert_all_close ("a half's input gradient", d, want_dinp, half.n,
                        1e-6, 1e-6);
      for (int c = 0; c < C; c++)
        {
          running_mean[c] += half.bn.running_mean[c] / 2;
          running_var[c] += half.bn.running_var[c] / 2;
          grad_weight[c] += half.grad_weight[c];
          grad_bias[c] += half.grad_bias[c];
        }
      fixture_clear (&half);
    }
  assert_all_close ("running mean", f.bn.running_mean, running_mean, C, 1e-6,
                    1e-6);
  assert_all_close ("running variance", f.bn.running_var, running_var, C,
                    1e-6, 1e-6);
  assert_all_close ("weight gradient", f.grad_weight, grad_weight, C, 1e-5,
                    1e-6);
  assert_all_close ("bias gradient", f.grad_bias, grad_bias, C, 1e-5, 1e-6);
  g_assert_cmpint (f.bn.num_batches_tracked, ==, 1);

  /* back to one group: plain batch norm again */
  g_assert_true (batchnorm2d_set_groups (&f.bn, 1));
  BnFixture plain;
  Rng again;
  rng_seed (&again, 23);
  fixture_init (&plain, C, B, S, &again);
  batchnorm2d_forward (&f.bn, f.out, f.inp, B, true);
  batchnorm2d_forward (&plain.bn, plain.out, plain.inp, B, true);
  g_assert_cmpmem (f.out, sizeof (float) * f.n, plain.out,
                   sizeof (float) * plain.n);
  fixture_clear (&plain);
  g_free (dout);
  g_free (dinp);
  fixture_clear (&f);
}

/* batchnorm2d_forward_relu, batchnorm2d_backward_relu and
 * batchnorm2d_forward_add_relu against the batch norm, the residual sum
 * and the ReLU one after the other, with one group and with two. The
 * fused backward masks the gradient by the ReLU's input recomputed from the
 * saved input, not by the saved output; both come from the same float
 * operations, so the mask, and with it every result, is the same to the
 * last bit. The fixture's biases are normal and its weights positive, so
 * about half of the values are masked. */
static void
test_batchnorm_relu_fused (void)
{
  for (int groups = 1; groups <= 2; groups++)
    {
      Rng rng;
      rng_seed (&rng, 24);
      BnFixture f;
      fixture_init (&f, 3, 4, 7, &rng);
      g_assert_true (batchnorm2d_set_groups (&f.bn, groups));
      float *dout = g_new (float, f.n);
      float *masked = g_new (float, f.n);
      float *want = g_new (float, f.n);
      float *want_out = g_new (float, f.n);
      float want_dw[3], want_db[3];
      fill_normal (&rng, dout, f.n, 1.0f);

      /* one after the other */
      batchnorm2d_forward (&f.bn, want_out, f.inp, f.batch, true);
      relu_forward (want_out, want_out, f.n);
      relu_backward (masked, dout, want_out, f.n);
      batchnorm2d_backward (&f.bn, want, masked, f.batch);
      memcpy (want_dw, f.grad_weight, sizeof want_dw);
      memcpy (want_db, f.grad_bias, sizeof want_db);
      size_t zeros = 0;
      for (size_t i = 0; i < f.n; i++)
        zeros += want_out[i] == 0.0f;
      g_assert_cmpuint (zeros, >, f.n / 4);
      g_assert_cmpuint (zeros, <, 3 * f.n / 4);

      /* fused, the backward in place as the network calls it */
      batchnorm2d_forward_relu (&f.bn, f.out, f.inp, f.batch, true);
      g_assert_cmpmem (f.out, sizeof (float) * f.n, want_out,
                       sizeof (float) * f.n);
      memcpy (masked, dout, sizeof (float) * f.n);
      batchnorm2d_backward_relu (&f.bn, masked, masked, f.batch);
      g_assert_cmpmem (masked, sizeof (float) * f.n, want,
                       sizeof (float) * f.n);
      g_assert_cmpmem (f.grad_weight, sizeof want_dw, want_dw, sizeof want_dw);
      g_assert_cmpmem (f.grad_bias, sizeof want_db, want_db, sizeof want_db);

      /* with a residual added before the ReLU, in training and in
       * evaluation mode */
      float *residual = g_new (float, f.n);
      fill_normal (&rng, residual, f.n, 1.0f);
      for (int training = 1; training >= 0; training--)
        {
          batchnorm2d_forward (&f.bn, want_out, f.inp, f.batch, training);
          add_relu_forward (want_out, want_out, residual, f.n);
          batchnorm2d_forward_add_relu (&f.bn, f.out, f.inp, residual,
                                        f.batch, training);
          g_assert_cmpmem (f.out, sizeof (float) * f.n, want_out,
                           sizeof (float) * f.n);
        }
      /* the running statistics moved once for each training forward */
      g_assert_cmpint (f.bn.num_batches_tracked, ==, 4);

      g_free (residual);
      g_free (dout);
      g_free (masked);
      g_free (want);
      g_free (want_out);
      fixture_clear (&f);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/batchnorm/init", test_batchnorm_init);
  g_test_add_func ("/engine/batchnorm/semantics", test_batchnorm_semantics);
  g_test_add_func ("/engine/batchnorm/gradient", test_batchnorm_gradient);
  g_test_add_func ("/engine/batchnorm/groups", test_batchnorm_groups);
  g_test_add_func ("/engine/batchnorm/relu-fused", test_batchnorm_relu_fused);
  return g_test_run ();
}
