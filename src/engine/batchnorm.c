/* batchnorm.c: batch normalisation over channel-major activations.
 *
 * Per channel c, over its M = B*H*W values x:
 *   mean = sum x / M,  var = sum (x - mean)^2 / M,  xhat = (x - mean) / sqrt(var + eps)
 *   y = weight * xhat + bias
 * and backward (Ioffe & Szegedy, eq. after Alg. 1, folded):
 *   dxhat = dy * weight
 *   dx = invstd / M * (M * dxhat - sum dxhat - xhat * sum (dxhat * xhat))
 * Sums are in double: M is up to 10^5 and float sums lose digits there.
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

void
batchnorm2d_forward (BatchNorm2d *self, float *out, const float *inp,
                     int batch, bool training)
{
  const size_t M = (size_t) batch * self->spatial;
  const double t = engine_timer_start ();
  self->saved_inp = inp;

  for (int c = 0; c < self->channels; c++)
    {
      const float *x = inp + c * M;
      float *y = out + c * M;
      float mean, invstd;
      if (training)
        {
          ENGINE_CHECK (out != inp);
          double sum = 0.0, sum_sq = 0.0;
          for (size_t i = 0; i < M; i++)
            sum += x[i];
          double mean_d = sum / M;
          for (size_t i = 0; i < M; i++)
            {
              double d = x[i] - mean_d;
              sum_sq += d * d;
            }
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
      for (size_t i = 0; i < M; i++)
        y[i] = x[i] * scale + shift;
    }
  if (training)
    self->num_batches_tracked++;
  engine_timer_stop (ENGINE_TIMER_BATCHNORM, t);
}

void
batchnorm2d_backward (BatchNorm2d *self, float *dinp, const float *dout,
                      int batch)
{
  const size_t M = (size_t) batch * self->spatial;
  const double t = engine_timer_start ();
  ENGINE_CHECK (self->saved_inp != NULL);

  for (int c = 0; c < self->channels; c++)
    {
      const float *x = self->saved_inp + c * M;
      const float *dy = dout + c * M;
      float *dx = dinp + c * M;
      const float mean = self->saved_mean[c], invstd = self->saved_invstd[c];
      double sum_dy = 0.0, sum_dy_xhat = 0.0;
      for (size_t i = 0; i < M; i++)
        {
          sum_dy += dy[i];
          sum_dy_xhat += (double) dy[i] * ((x[i] - mean) * invstd);
        }
      self->grad_bias[c] = (float) sum_dy;
      self->grad_weight[c] = (float) sum_dy_xhat;
      /* with dxhat = w * dy: dx = w * invstd * (dy - mean(dy) - xhat * mean(dy * xhat)) */
      const float k = self->weight[c] * invstd;
      const float mean_dy = (float) (sum_dy / M);
      const float mean_dy_xhat = (float) (sum_dy_xhat / M);
      for (size_t i = 0; i < M; i++)
        {
          float xhat = (x[i] - mean) * invstd;
          dx[i] = k * (dy[i] - mean_dy - xhat * mean_dy_xhat);
        }
    }
  engine_timer_stop (ENGINE_TIMER_BATCHNORM, t);
}
