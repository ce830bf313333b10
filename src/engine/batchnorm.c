/* batchnorm.c: batch normalisation over channel-major activations.
 *
 * Per channel c, over its M = B*H*W values x:
 *   mean = sum x / M,  var = sum (x - mean)^2 / M,  xhat = (x - mean) / sqrt(var + eps)
 *   y = weight * xhat + bias
 * and backward (Ioffe & Szegedy, eq. after Alg. 1, folded):
 *   dxhat = dy * weight
 *   dx = invstd / M * (M * dxhat - sum dxhat - xhat * sum (dxhat * xhat))
 * Sums are in double: M is up to 10^5 and float sums lose digits there
 * (float partial sums over runs of 256 values, so that the loops vectorise).
 * Channels are independent: the engine's threads split them.
 *
 * With G groups (batchnorm.h) the same is done for each group's M / G
 * values of a channel, which in the channel-major layout (C, B, H, W) are
 * one contiguous run: images g B/G .. (g + 1) B/G - 1. The weight's and
 * bias's gradients are sums over the whole batch, so the groups' add up.
 */
#include "batchnorm.h"

#include <math.h>
#include <string.h>

#include "check.h"
#include "threads.h"
#include "vec4.h"

bool
batchnorm2d_init (BatchNorm2d *self, int channels, int spatial)
{
  memset (self, 0, sizeof *self);
  self->channels = channels;
  self->spatial = spatial;
  self->eps = 1e-5f;
  self->momentum = 0.1f;
  self->groups = 1;
  self->running_mean = engine_alloc (sizeof (float) * channels);
  self->running_var = engine_alloc (sizeof (float) * channels);
  self->saved_mean = engine_alloc (sizeof (float) * channels);
  self->saved_invstd = engine_alloc (sizeof (float) * channels);
  self->eval_scale = engine_alloc (sizeof (float) * channels);
  self->eval_shift = engine_alloc (sizeof (float) * channels);
  if (!self->running_mean || !self->running_var || !self->saved_mean
      || !self->saved_invstd || !self->eval_scale || !self->eval_shift)
    {
      batchnorm2d_clear (self);
      return false;
    }
  for (int c = 0; c < channels; c++)
    self->running_var[c] = 1.0f;
  return true;
}

void
batchnorm2d_clear (BatchNorm2d *self)
{
  engine_free (self->running_mean);
  engine_free (self->running_var);
  engine_free (self->saved_mean);
  engine_free (self->saved_invstd);
  engine_free (self->eval_scale);
  engine_free (self->eval_shift);
  self->running_mean = self->running_var = NULL;
  self->saved_mean = self->saved_invstd = NULL;
  self->eval_scale = self->eval_shift = NULL;
}

bool
batchnorm2d_set_groups (BatchNorm2d *self, int groups)
{
  ENGINE_CHECK (groups >= 1);
  if (groups == self->groups)
    return true;
  float *mean = engine_alloc (sizeof (float) * self->channels * groups);
  float *invstd = engine_alloc (sizeof (float) * self->channels * groups);
  if (!mean || !invstd)
    {
      engine_free (mean);
      engine_free (invstd);
      return false;
    }
  engine_free (self->saved_mean);
  engine_free (self->saved_invstd);
  self->saved_mean = mean;
  self->saved_invstd = invstd;
  self->groups = groups;
  self->saved_inp = NULL;   /* the saved statistics no longer match it */
  return true;
}

/* the values summed in float before a double total takes them */
#define RUN 256

/* The sum of x[0..n) in float, over eight accumulators so that it
 * vectorises; on the runs of RUN values it is used on, float loses no
 * more than the totals (in double) need */
static inline float
sum_run (const float *x, size_t n)
{
  float acc[8] = { 0 };
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; k++)
      acc[k] += x[i + k];
  float run = 0.0f;
  for (; i < n; i++)
    run += x[i];
  for (int k = 0; k < 8; k++)
    run += acc[k];
  return run;
}

/* sum (x - mean)^2 over x[0..n), the same way */
static inline float
sum_squared_deviations_run (const float *x, size_t n, float mean)
{
  float acc[8] = { 0 };
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; k++)
      {
        float d = x[i + k] - mean;
        acc[k] += d * d;
      }
  float run = 0.0f;
  for (; i < n; i++)
    run += (x[i] - mean) * (x[i] - mean);
  for (int k = 0; k < 8; k++)
    run += acc[k];
  return run;
}

/* The mean of x[0..n) and the sum of its squared deviations from it, with
 * one pass over memory: each run of RUN values, still in the L1 cache after
 * its sum, gets its own mean and squared deviations (in float), and the
 * runs are combined in double by Chan, Golub and LeVeque's update for
 * two parts a and b (n = n_a + n_b, delta = mean_b - mean_a):
 *   mean = mean_a + delta n_b / n,  M2 = M2_a + M2_b + delta^2 n_a n_b / n.
 * A pass for the mean and another for the deviations read the whole
 * channel twice, from the L2 cache or memory. */
static void
mean_and_squared_deviations (const float *x, size_t n, double *mean,
                             double *m2)
{
  double mean_all = 0.0, m2_all = 0.0;
  size_t n_all = 0;
  for (size_t start = 0; start < n; start += RUN)
    {
      const size_t len = n - start < RUN ? n - start : RUN;
      const float run_mean = sum_run (x + start, len) / (float) len;
      const float run_m2 = sum_squared_deviations_run (x + start, len,
                                                       run_mean);
      const size_t n_new = n_all + len;
      const double delta = (double) run_mean - mean_all;
      mean_all += delta * (double) len / (double) n_new;
      m2_all += run_m2 + delta * delta * (double) n_all * (double) len
                             / (double) n_new;
      n_all = n_new;
    }
  *mean = mean_all;
  *m2 = m2_all;
}

typedef struct
{
  BatchNorm2d *bn;
  float *out;           /* forward: y; backward: dx */
  const float *inp;     /* forward: x; backward: dy */
  size_t M;             /* values per channel, B*H*W */
  bool training;
  bool relu;            /* a ReLU follows: forward: apply it to y in the
                           same pass; backward: mask dy by it first */
  const float *residual;/* forward: added to y before the ReLU, or NULL */
  EngineShares channels;/* taken one at a time as the threads come free */
} BatchNormTask;

/* y[0..n) = x * scale + shift, plus r[0..n) where r is not NULL, then a
 * ReLU where relu: the affine map folded once per channel (and group), and
 * the residual sum and ReLU that follow it in a residual block while the
 * values are in registers. Each 4 loaded before it is stored: works in
 * place (evaluation mode allows out == inp). Always inlined, so that r and
 * relu are constants in each loop; in 4-float vectors (vec4.h), which
 * made batch norm's share of the small ResNet's step less than half what
 * it was in loops of scalars. The same float operations in the same
 * order as the batch norm, add_relu_forward and relu_forward one after the
 * other, so the results are the same to the bit. */
static inline __attribute__ ((always_inline)) void
affine_run (float *y, const float *x, const float *r, size_t n, float scale,
            float shift, bool relu)
{
  size_t i = 0;
  for (; i + 4 <= n; i += 4)
    {
      Floats4 z = load_floats4 (x + i) * scale + shift;
      if (r)
        z += load_floats4 (r + i);
      if (relu)
        z = relu4 (z);
      store_floats4 (y + i, z);
    }
  for (; i < n; i++)
    {
      float z = x[i] * scale + shift;
      if (r)
        z += r[i];
      y[i] = relu ? (z > 0.0f ? z : 0.0f) : z;
    }
}

/* affine_run with its choices as constants (a residual comes only with
 * its ReLU: run_forward checks it) */
void
batchnorm_affine_run (float *y, const float *x, const float *r, size_t n,
                      float scale, float shift, bool relu)
{
  if (r)
    affine_run (y, x, r, n, scale, shift, true);
  else if (relu)
    affine_run (y, x, NULL, n, scale, shift, true);
  else
    affine_run (y, x, NULL, n, scale, shift, false);
}

/* evaluation mode's map of channel c: y = scale * x + shift */
static void
eval_affine (const BatchNorm2d *self, size_t c, float *scale, float *shift)
{
  const float invstd = 1.0f / sqrtf (self->running_var[c] + self->eps);
  *scale = self->weight[c] * invstd;
  *shift = self->bias[c] - self->running_mean[c] * *scale;
}

void
batchnorm2d_eval_affine (BatchNorm2d *self, const float **scale,
                         const float **shift)
{
  for (int c = 0; c < self->channels; c++)
    eval_affine (self, c, &self->eval_scale[c], &self->eval_shift[c]);
  *scale = self->eval_scale;
  *shift = self->eval_shift;
}

/* Channels are independent, so threads take channels, one at a time as
 * they come free (engine_shares): a channel is one thread's whole, so the
 * results do not depend on which. */
static void
forward_task (void *arg, int ith, int nth)
{
  BatchNormTask *task = arg;
  BatchNorm2d *self = task->bn;
  const size_t M = task->M;
  const int G = task->training ? self->groups : 1;
  const size_t Mg = M / G;   /* one group's values of a channel */
  size_t c, c_end;

  while (engine_shares_take (&task->channels, ith, 1, &c, &c_end))
    {
      if (!task->training)
        {
          float scale, shift;
          eval_affine (self, c, &scale, &shift);
          batchnorm_affine_run (task->out + c * M, task->inp + c * M,
                          task->residual ? task->residual + c * M : NULL, M,
                          scale, shift, task->relu);
          continue;
        }
      /* the groups' statistics, summed for the running statistics */
      double mean_sum = 0.0, unbiased_sum = 0.0;
      for (int g = 0; g < G; g++)
        {
          const float *x = task->inp + c * M + g * Mg;
          double mean_d, sum_sq;
          mean_and_squared_deviations (x, Mg, &mean_d, &sum_sq);
          double var = sum_sq / Mg;
          const float mean = (float) mean_d;
          const float invstd = (float) (1.0 / sqrt (var + self->eps));
          self->saved_mean[c * G + g] = mean;
          self->saved_invstd[c * G + g] = invstd;
          mean_sum += mean;
          unbiased_sum += Mg > 1 ? sum_sq / (Mg - 1) : var;
          const float scale = self->weight[c] * invstd;
          batchnorm_affine_run (task->out + c * M + g * Mg, x,
                          task->residual ? task->residual + c * M + g * Mg
                                         : NULL,
                          Mg, scale, self->bias[c] - mean * scale,
                          task->relu);
        }
      /* one group: exactly PyTorch's update; G: by the groups' mean */
      const float batch_mean = (float) (mean_sum / G);
      const float batch_unbiased = (float) (unbiased_sum / G);
      self->running_mean[c] = (1.0f - self->momentum) * self->running_mean[c]
                              + self->momentum * batch_mean;
      self->running_var[c] = (1.0f - self->momentum) * self->running_var[c]
                             + self->momentum * batch_unbiased;
    }
}

/* The three forwards below: y = bn (x), then + residual where it is not
 * NULL, then the ReLU where relu */
static void
run_forward (BatchNorm2d *self, float *out, const float *inp,
             const float *residual, int batch, bool training, bool relu)
{
  const double t = engine_timer_start ();
  ENGINE_CHECK (!training || out != inp);
  ENGINE_CHECK (!residual || (relu && out != inp && out != residual));
  ENGINE_CHECK (!training || batch % self->groups == 0);
  self->saved_inp = inp;
  /* batchnorm2d_backward_relu recomputes the mask from inp alone, which a
   * residual's sum rules out */
  self->saved_relu = relu && !residual;
  BatchNormTask task = { self, out, inp, (size_t) batch * self->spatial,
                         training, relu, residual };
  engine_shares_init (&task.channels, (size_t) self->channels,
                      engine_get_threads ());
  engine_parallel (forward_task, &task);
  if (training)
    self->num_batches_tracked++;
  engine_timer_stop (ENGINE_TIMER_BATCHNORM, t);
}

void
batchnorm2d_forward (BatchNorm2d *self, float *out, const float *inp,
                     int batch, bool training)
{
  run_forward (self, out, inp, NULL, batch, training, false);
}

void
batchnorm2d_forward_relu (BatchNorm2d *self, float *out, const float *inp,
                          int batch, bool training)
{
  run_forward (self, out, inp, NULL, batch, training, true);
}

void
batchnorm2d_forward_add_relu (BatchNorm2d *self, float *out, const float *inp,
                              const float *residual, int batch, bool training)
{
  run_forward (self, out, inp, residual, batch, training, true);
}

/* The gradient that reaches the batch norm's output at value x: dy, or,
 * when the forward applied a ReLU (batchnorm2d_forward_relu), 0 where that
 * ReLU's output was not positive. The ReLU's input is recomputed from x
 * with the forward's own scale and shift and the same operations, so the
 * mask is the forward's exactly; reading x, which the sums need anyway,
 * instead of the ReLU's saved output takes a stream off both passes, and
 * two streams of a 28x28 layer's channel (2 x 400 KB at batch 128) still
 * fit the L2 cache for the second pass where three do not. */
static inline float
masked_grad (float dy, float x, bool relu, float scale, float shift)
{
  if (!relu)
    return dy;
  float z = x * scale + shift;
  return z > 0.0f ? dy : 0.0f;
}

/* The same for 4 values at once (vec4.h: as scalars, the choice was not
 * vectorised, and the backward took twice as long) */
static inline Floats4
masked_grad4 (Floats4 dy, Floats4 x, bool relu, float scale, float shift)
{
  if (!relu)
    return dy;
  return keep_where_positive4 (dy, x * scale + shift);
}

/* One group's run of a channel: dx[0..n) from dy (masked first by the
 * forward's ReLU where relu), with the group's mean and invstd and the
 * channel's weight and bias; adds the run's sum dy and sum dy * xhat to
 * the weight's and bias's sums. */
static inline __attribute__ ((always_inline)) void
backward_run (float *dx, const float *dy, const float *x, size_t n,
              float mean, float invstd, float weight, float bias, bool relu,
              double *sum_dy_total, double *sum_dy_xhat_total)
{
  /* the forward's affine map (forward_task), for the ReLU's mask */
  const float scale = weight * invstd;
  const float shift = bias - mean * scale;
  /* sum dy and sum dy * xhat, as float runs of RUN added in double */
  double sum_dy = 0.0, sum_dy_xhat = 0.0;
  for (size_t start = 0; start < n; start += RUN)
    {
      size_t end = start + RUN < n ? start + RUN : n;
      Floats4 acc_dy = { 0 }, acc_dyx = { 0 };
      size_t i = start;
      for (; i + 4 <= end; i += 4)
        {
          const Floats4 xv = load_floats4 (x + i);
          const Floats4 g = masked_grad4 (load_floats4 (dy + i), xv, relu,
                                          scale, shift);
          acc_dy += g;
          acc_dyx += g * ((xv - mean) * invstd);
        }
      float run_dy = 0.0f, run_dyx = 0.0f;
      for (; i < end; i++)
        {
          float g = masked_grad (dy[i], x[i], relu, scale, shift);
          run_dy += g;
          run_dyx += g * ((x[i] - mean) * invstd);
        }
      for (int k = 0; k < 4; k++)
        {
          run_dy += acc_dy[k];
          run_dyx += acc_dyx[k];
        }
      sum_dy += run_dy;
      sum_dy_xhat += run_dyx;
    }
  *sum_dy_total += sum_dy;
  *sum_dy_xhat_total += sum_dy_xhat;
  /* with dxhat = w * dy: dx = w * invstd * (dy - mean(dy) - xhat * mean(dy * xhat)) */
  const float k = weight * invstd;
  const float mean_dy = (float) (sum_dy / n);
  const float mean_dy_xhat = (float) (sum_dy_xhat / n);
  /* each 4 loaded before it is stored: works in place (dx == dy) */
  size_t i = 0;
  for (; i + 4 <= n; i += 4)
    {
      const Floats4 xv = load_floats4 (x + i);
      const Floats4 xhat = (xv - mean) * invstd;
      const Floats4 g = masked_grad4 (load_floats4 (dy + i), xv, relu, scale,
                                      shift);
      const Floats4 v = k * (g - mean_dy - xhat * mean_dy_xhat);
      store_floats4 (dx + i, v);
    }
  for (; i < n; i++)
    {
      float xhat = (x[i] - mean) * invstd;
      float g = masked_grad (dy[i], x[i], relu, scale, shift);
      dx[i] = k * (g - mean_dy - xhat * mean_dy_xhat);
    }
}

static void
backward_task (void *arg, int ith, int nth)
{
  BatchNormTask *task = arg;
  BatchNorm2d *self = task->bn;
  const size_t M = task->M;
  const int G = self->groups;
  const size_t Mg = M / G;
  size_t c, c_end;

  while (engine_shares_take (&task->channels, ith, 1, &c, &c_end))
    {
      /* with a ReLU after the batch norm, its gradient dy is first masked */
      double sum_dy = 0.0, sum_dy_xhat = 0.0;
      for (int g = 0; g < G; g++)
        {
          const size_t at = c * M + g * Mg;
          float *dx = task->out + at;
          const float *dy = task->inp + at, *x = self->saved_inp + at;
          const float mean = self->saved_mean[c * G + g];
          const float invstd = self->saved_invstd[c * G + g];
          const float w = self->weight[c], b = self->bias[c];
          /* relu a constant in each call, so that each loop vectorises */
          if (task->relu)
            backward_run (dx, dy, x, Mg, mean, invstd, w, b, true, &sum_dy,
                          &sum_dy_xhat);
          else
            backward_run (dx, dy, x, Mg, mean, invstd, w, b, false, &sum_dy,
                          &sum_dy_xhat);
        }
      self->grad_bias[c] = (float) sum_dy;
      self->grad_weight[c] = (float) sum_dy_xhat;
    }
}

/* the two backwards below: dx from dy, through the ReLU first where relu */
static void
run_backward (BatchNorm2d *self, float *dinp, const float *dout, int batch,
              bool relu)
{
  const double t = engine_timer_start ();
  BatchNormTask task = { self, dinp, dout, (size_t) batch * self->spatial,
                         true, relu, NULL };
  engine_shares_init (&task.channels, (size_t) self->channels,
                      engine_get_threads ());
  engine_parallel (backward_task, &task);
  engine_timer_stop (ENGINE_TIMER_BATCHNORM, t);
}

void
batchnorm2d_backward (BatchNorm2d *self, float *dinp, const float *dout,
                      int batch)
{
  ENGINE_CHECK (self->saved_inp != NULL);
  run_backward (self, dinp, dout, batch, false);
}

void
batchnorm2d_backward_relu (BatchNorm2d *self, float *dinp, const float *dout,
                           int batch)
{
  ENGINE_CHECK (self->saved_inp != NULL && self->saved_relu);
  run_backward (self, dinp, dout, batch, true);
}
