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
 */
#include "batchnorm.h"

#include <math.h>
#include <string.h>

#include "check.h"
#include "threads.h"

bool
batchnorm2d_init (BatchNorm2d *self, int channels, int spatial)
{
  memset (self, 0, sizeof *self);
  self->channels = channels;
  self->spatial = spatial;
  self->eps = 1e-5f;
  self->momentum = 0.1f;
  self->running_mean = engine_alloc (sizeof (float) * channels);
  self->running_var = engine_alloc (sizeof (float) * channels);
  self->saved_mean = engine_alloc (sizeof (float) * channels);
  self->saved_invstd = engine_alloc (sizeof (float) * channels);
  if (!self->running_mean || !self->running_var || !self->saved_mean
      || !self->saved_invstd)
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
  self->running_mean = self->running_var = NULL;
  self->saved_mean = self->saved_invstd = NULL;
}

/* Sum of x[0..n) in double, from float partial sums over runs of at most
 * 256 values: eight float accumulators vectorise, and a float run of 256
 * loses no more than the double total needs. */
static double
sum_floats (const float *x, size_t n)
{
  double total = 0.0;
  for (size_t start = 0; start < n; start += 256)
    {
      size_t end = start + 256 < n ? start + 256 : n;
      float acc[8] = { 0 };
      size_t i = start;
      for (; i + 8 <= end; i += 8)
        for (int k = 0; k < 8; k++)
          acc[k] += x[i + k];
      float run = 0.0f;
      for (; i < end; i++)
        run += x[i];
      for (int k = 0; k < 8; k++)
        run += acc[k];
      total += run;
    }
  return total;
}

/* sum (x - mean)^2 over x[0..n), the same way */
static double
sum_squared_deviations (const float *x, size_t n, float mean)
{
  double total = 0.0;
  for (size_t start = 0; start < n; start += 256)
    {
      size_t end = start + 256 < n ? start + 256 : n;
      float acc[8] = { 0 };
      size_t i = start;
      for (; i + 8 <= end; i += 8)
        for (int k = 0; k < 8; k++)
          {
            float d = x[i + k] - mean;
            acc[k] += d * d;
          }
      float run = 0.0f;
      for (; i < end; i++)
        run += (x[i] - mean) * (x[i] - mean);
      for (int k = 0; k < 8; k++)
        run += acc[k];
      total += run;
    }
  return total;
}

typedef struct
{
  BatchNorm2d *bn;
  float *out;           /* forward: y; backward: dx */
  const float *inp;     /* forward: x; backward: dy */
  size_t M;             /* values per channel, B*H*W */
  bool training;
  bool relu;            /* forward: apply ReLU to y in the same pass */
  const float *relu_out;/* backward: mask dy by relu_out > 0 first, or NULL */
} BatchNormTask;

/* Channels are independent, so threads take ranges of channels. */
static void
forward_task (void *arg, int ith, int nth)
{
  const BatchNormTask *task = arg;
  BatchNorm2d *self = task->bn;
  const size_t M = task->M;
  size_t c_lo, c_hi;
  engine_split (self->channels, ith, nth, &c_lo, &c_hi);

  for (size_t c = c_lo; c < c_hi; c++)
    {
      const float *x = task->inp + c * M;
      float *y = task->out + c * M;
      float mean, invstd;
      if (task->training)
        {
          double mean_d = sum_floats (x, M) / M;
          double sum_sq = sum_squared_deviations (x, M, (float) mean_d);
          double var = sum_sq / M;
          mean = (float) mean_d;
          invstd = (float) (1.0 / sqrt (var + self->eps));
          self->saved_mean[c] = mean;
          self->saved_invstd[c] = invstd;
          double unbiased = M > 1 ? sum_sq / (M - 1) : var;
          self->running_mean[c] = (1.0f - self->momentum) * self->running_mean[c]
                                  + self->momentum * mean;
          self->running_var[c] = (1.0f - self->momentum) * self->running_var[c]
                                 + self->momentum * (float) unbiased;
        }
      else
        {
          mean = self->running_mean[c];
          invstd = 1.0f / sqrtf (self->running_var[c] + self->eps);
        }
      /* y = x * scale + shift, the affine map folded once per channel */
      float scale = self->weight[c] * invstd;
      float shift = self->bias[c] - mean * scale;
      /* in blocks of 8, loads before stores: vectorises even in place
       * (evaluation mode allows out == inp) */
      size_t i = 0;
      if (task->relu)
        {
          /* the ReLU while the values are in registers: saves a pass */
          for (; i + 8 <= M; i += 8)
            {
              float v[8];
              for (int k = 0; k < 8; k++)
                {
                  float z = x[i + k] * scale + shift;
                  v[k] = z > 0.0f ? z : 0.0f;
                }
              for (int k = 0; k < 8; k++)
                y[i + k] = v[k];
            }
          for (; i < M; i++)
            {
              float z = x[i] * scale + shift;
              y[i] = z > 0.0f ? z : 0.0f;
            }
          continue;
        }
      for (; i + 8 <= M; i += 8)
        {
          float v[8];
          for (int k = 0; k < 8; k++)
            v[k] = x[i + k] * scale + shift;
          for (int k = 0; k < 8; k++)
            y[i + k] = v[k];
        }
      for (; i < M; i++)
        y[i] = x[i] * scale + shift;
    }
}

void
batchnorm2d_forward (BatchNorm2d *self, float *out, const float *inp,
                     int batch, bool training)
{
  const double t = engine_timer_start ();
  ENGINE_CHECK (!training || out != inp);
  self->saved_inp = inp;
  BatchNormTask task = { self, out, inp, (size_t) batch * self->spatial,
                         training, false, NULL };
  engine_parallel (forward_task, &task);
  if (training)
    self->num_batches_tracked++;
  engine_timer_stop (ENGINE_TIMER_BATCHNORM, t);
}

void
batchnorm2d_forward_relu (BatchNorm2d *self, float *out, const float *inp,
                          int batch, bool training)
{
  const double t = engine_timer_start ();
  ENGINE_CHECK (!training || out != inp);
  self->saved_inp = inp;
  BatchNormTask task = { self, out, inp, (size_t) batch * self->spatial,
                         training, true, NULL };
  engine_parallel (forward_task, &task);
  if (training)
    self->num_batches_tracked++;
  engine_timer_stop (ENGINE_TIMER_BATCHNORM, t);
}

/* dy[i], or 0 where a ReLU's output mask[i] was not positive; both values
 * are loaded so that the choice is a select, not a branch on the sign */
static inline float
masked_grad (const float *dy, const float *mask, size_t i)
{
  if (!mask)
    return dy[i];
  float g = dy[i], y = mask[i];
  return y > 0.0f ? g : 0.0f;
}

static void
backward_task (void *arg, int ith, int nth)
{
  const BatchNormTask *task = arg;
  BatchNorm2d *self = task->bn;
  const size_t M = task->M;
  size_t c_lo, c_hi;
  engine_split (self->channels, ith, nth, &c_lo, &c_hi);

  for (size_t c = c_lo; c < c_hi; c++)
    {
      const float *x = self->saved_inp + c * M;
      const float *dy = task->inp + c * M;
      const float *mask = task->relu_out ? task->relu_out + c * M : NULL;
      float *dx = task->out + c * M;
      /* with a ReLU after the batch norm, its gradient dy is first masked */
      const float mean = self->saved_mean[c], invstd = self->saved_invstd[c];
      /* sum dy and sum dy * xhat, as float runs of 256 added in double */
      double sum_dy = 0.0, sum_dy_xhat = 0.0;
      for (size_t start = 0; start < M; start += 256)
        {
          size_t end = start + 256 < M ? start + 256 : M;
          float acc_dy[8] = { 0 }, acc_dyx[8] = { 0 };
          size_t i = start;
          for (; i + 8 <= end; i += 8)
            for (int k = 0; k < 8; k++)
              {
                float g = masked_grad (dy, mask, i + k);
                acc_dy[k] += g;
                acc_dyx[k] += g * ((x[i + k] - mean) * invstd);
              }
          float run_dy = 0.0f, run_dyx = 0.0f;
          for (; i < end; i++)
            {
              float g = masked_grad (dy, mask, i);
              run_dy += g;
              run_dyx += g * ((x[i] - mean) * invstd);
            }
          for (int k = 0; k < 8; k++)
            {
              run_dy += acc_dy[k];
              run_dyx += acc_dyx[k];
            }
          sum_dy += run_dy;
          sum_dy_xhat += run_dyx;
        }
      self->grad_bias[c] = (float) sum_dy;
      self->grad_weight[c] = (float) sum_dy_xhat;
      /* with dxhat = w * dy: dx = w * invstd * (dy - mean(dy) - xhat * mean(dy * xhat)) */
      const float k = self->weight[c] * invstd;
      const float mean_dy = (float) (sum_dy / M);
      const float mean_dy_xhat = (float) (sum_dy_xhat / M);
      /* in blocks of 8, loads before stores: vectorises even when dx == dy */
      size_t i = 0;
      for (; i + 8 <= M; i += 8)
        {
          float v[8];
          for (int j = 0; j < 8; j++)
            {
              float xhat = (x[i + j] - mean) * invstd;
              v[j] = k * (masked_grad (dy, mask, i + j) - mean_dy - xhat * mean_dy_xhat);
            }
          for (int j = 0; j < 8; j++)
            dx[i + j] = v[j];
        }
      for (; i < M; i++)
        {
          float xhat = (x[i] - mean) * invstd;
          dx[i] = k * (masked_grad (dy, mask, i) - mean_dy - xhat * mean_dy_xhat);
        }
    }
}

void
batchnorm2d_backward (BatchNorm2d *self, float *dinp, const float *dout,
                      int batch)
{
  const double t = engine_timer_start ();
  ENGINE_CHECK (self->saved_inp != NULL);
  BatchNormTask task = { self, dinp, dout, (size_t) batch * self->spatial,
                         true, false, NULL };
  engine_parallel (backward_task, &task);
  engine_timer_stop (ENGINE_TIMER_BATCHNORM, t);
}

void
batchnorm2d_backward_relu (BatchNorm2d *self, float *dinp, const float *dout,
                           const float *relu_out, int batch)
{
  const double t = engine_timer_start ();
  ENGINE_CHECK (self->saved_inp != NULL);
  BatchNormTask task = { self, dinp, dout, (size_t) batch * self->spatial,
                         true, false, relu_out };
  engine_parallel (backward_task, &task);
  engine_timer_stop (ENGINE_TIMER_BATCHNORM, t);
}
