/* conv.c: 2D convolution as im2col + one sgemm per chunk of images.
 *
 * Activations are channel-major (see tensor-layout.h), so for a chunk of nb
 * images starting at image n0 the columns are
 *   col (C*K*K, nb*OH*OW),  col[(c*K + ky)*K + kx][(n-n0)*OH*OW + oy*OW + ox]
 *                               = inp[c][n][oy*s + ky - p][ox*s + kx - p]  (0 outside)
 * and the chunk's output columns are a slice of the (OC, B*OH*OW) output.
 * A 1x1 convolution with stride 1 needs no columns: its input already is one.
 */
#include "conv.h"

#include <cblas.h>
#include <string.h>

#include "check.h"
#include "threads.h"

void
conv2d_init (Conv2d *self, int in_channels, int out_channels, int kernel,
             int stride, int padding, int in_h, int in_w)
{
  ENGINE_CHECK (in_channels > 0 && out_channels > 0 && kernel > 0);
  ENGINE_CHECK (stride > 0 && padding >= 0);
  memset (self, 0, sizeof *self);
  self->in_channels = in_channels;
  self->out_channels = out_channels;
  self->kernel = kernel;
  self->stride = stride;
  self->padding = padding;
  self->in_h = in_h;
  self->in_w = in_w;
  self->out_h = (in_h + 2 * padding - kernel) / stride + 1;
  self->out_w = (in_w + 2 * padding - kernel) / stride + 1;
  ENGINE_CHECK (self->out_h > 0 && self->out_w > 0);
}

static int
is_pointwise (const Conv2d *self)
{
  return self->kernel == 1 && self->stride == 1 && self->padding == 0;
}

size_t
conv2d_workspace_floats (const Conv2d *self, int images)
{
  if (is_pointwise (self))
    return 0;
  return (size_t) self->in_channels * self->kernel * self->kernel
         * self->out_h * self->out_w * images;
}

/* How many images one chunk holds: as many as fit the workspace. */
static int
images_per_chunk (const Conv2d *self, const Workspace *ws, int batch)
{
  size_t per_image = conv2d_workspace_floats (self, 1);
  size_t fit = ws->n_floats / per_image;
  ENGINE_CHECK (fit >= 1);
  return fit < (size_t) batch ? (int) fit : batch;
}

/* inp (C, B, H, W), images [n0, n0+nb) -> col (C*K*K, nb*OH*OW) */
static void
im2col (const Conv2d *self, float *col, const float *inp, int batch, int n0,
        int nb)
{
  const int K = self->kernel, S = self->stride, P = self->padding;
  const int H = self->in_h, W = self->in_w, OH = self->out_h, OW = self->out_w;
  const size_t row_len = (size_t) nb * OH * OW;

  for (int c = 0; c < self->in_channels; c++)
    for (int ky = 0; ky < K; ky++)
      for (int kx = 0; kx < K; kx++)
        {
          float *row = col + ((size_t) (c * K + ky) * K + kx) * row_len;
          /* output columns ox whose input column ix = ox*S + kx - P is inside */
          int ox_lo = 0, ox_hi = OW;
          while (ox_lo < OW && ox_lo * S + kx - P < 0)
            ox_lo++;
          while (ox_hi > ox_lo && (ox_hi - 1) * S + kx - P >= W)
            ox_hi--;
          for (int n = n0; n < n0 + nb; n++)
            {
              const float *plane = inp + ((size_t) c * batch + n) * H * W;
              for (int oy = 0; oy < OH; oy++)
                {
                  float *dst = row + ((size_t) (n - n0) * OH + oy) * OW;
                  int iy = oy * S + ky - P;
                  if (iy < 0 || iy >= H)
                    {
                      memset (dst, 0, sizeof (float) * OW);
                      continue;
                    }
                  const float *src = plane + (size_t) iy * W + kx - P;
                  for (int ox = 0; ox < ox_lo; ox++)
                    dst[ox] = 0.0f;
                  if (S == 1)
                    memcpy (dst + ox_lo, src + ox_lo,
                            sizeof (float) * (ox_hi - ox_lo));
                  else
                    for (int ox = ox_lo; ox < ox_hi; ox++)
                      dst[ox] = src[ox * S];
                  for (int ox = ox_hi; ox < OW; ox++)
                    dst[ox] = 0.0f;
                }
            }
        }
}

/* col (C*K*K, nb*OH*OW) -> dinp (C, B, H, W), images [n0, n0+nb), added in */
static void
col2im_add (const Conv2d *self, float *dinp, const float *col, int batch,
            int n0, int nb)
{
  const int K = self->kernel, S = self->stride, P = self->padding;
  const int H = self->in_h, W = self->in_w, OH = self->out_h, OW = self->out_w;
  const size_t row_len = (size_t) nb * OH * OW;

  for (int c = 0; c < self->in_channels; c++)
    for (int ky = 0; ky < K; ky++)
      for (int kx = 0; kx < K; kx++)
        {
          const float *row = col + ((size_t) (c * K + ky) * K + kx) * row_len;
          int ox_lo = 0, ox_hi = OW;
          while (ox_lo < OW && ox_lo * S + kx - P < 0)
            ox_lo++;
          while (ox_hi > ox_lo && (ox_hi - 1) * S + kx - P >= W)
            ox_hi--;
          for (int n = n0; n < n0 + nb; n++)
            {
              float *plane = dinp + ((size_t) c * batch + n) * H * W;
              for (int oy = 0; oy < OH; oy++)
                {
                  int iy = oy * S + ky - P;
                  if (iy < 0 || iy >= H)
                    continue;
                  const float *src = row + ((size_t) (n - n0) * OH + oy) * OW;
                  float *dst = plane + (size_t) iy * W + kx - P;
                  for (int ox = ox_lo; ox < ox_hi; ox++)
                    dst[ox * S] += src[ox];
                }
            }
        }
}

void
conv2d_forward (Conv2d *self, float *out, const float *inp, int batch,
                Workspace *ws)
{
  const int OC = self->out_channels;
  const int CKK = self->in_channels * self->kernel * self->kernel;
  const int OHW = self->out_h * self->out_w;
  self->saved_inp = inp;

  if (is_pointwise (self))
    {
      double t = engine_timer_start ();
      // out (OC, B*HW) = W (OC, C) x inp (C, B*HW)
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, OC, batch * OHW,
                   CKK, 1.0f, self->weight, CKK, inp, batch * OHW, 0.0f, out,
                   batch * OHW);
      engine_timer_stop (ENGINE_TIMER_SGEMM, t);
      return;
    }

  int chunk = images_per_chunk (self, ws, batch);
  for (int n0 = 0; n0 < batch; n0 += chunk)
    {
      int nb = n0 + chunk <= batch ? chunk : batch - n0;
      double t = engine_timer_start ();
      im2col (self, ws->col, inp, batch, n0, nb);
      engine_timer_stop (ENGINE_TIMER_IM2COL, t);
      t = engine_timer_start ();
      // out[:, n0*OHW ...] (OC, nb*OHW; ld B*OHW) = W (OC, CKK) x col (CKK, nb*OHW)
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, OC, nb * OHW,
                   CKK, 1.0f, self->weight, CKK, ws->col, nb * OHW, 0.0f,
                   out + (size_t) n0 * OHW, batch * OHW);
      engine_timer_stop (ENGINE_TIMER_SGEMM, t);
    }
}

void
conv2d_backward (Conv2d *self, float *dinp, const float *dout, int batch,
                 Workspace *ws)
{
  const int OC = self->out_channels;
  const int CKK = self->in_channels * self->kernel * self->kernel;
  const int OHW = self->out_h * self->out_w;
  const float *inp = self->saved_inp;
  ENGINE_CHECK (inp != NULL);

  if (is_pointwise (self))
    {
      double t = engine_timer_start ();
      // dW (OC, C) = dout (OC, B*HW) x inp^T (B*HW, C)
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, OC, CKK,
                   batch * OHW, 1.0f, dout, batch * OHW, inp, batch * OHW,
                   0.0f, self->grad_weight, CKK);
      if (dinp)
        // dinp (C, B*HW) = W^T (C, OC) x dout (OC, B*HW)
        cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, CKK,
                     batch * OHW, OC, 1.0f, self->weight, CKK, dout,
                     batch * OHW, 0.0f, dinp, batch * OHW);
      engine_timer_stop (ENGINE_TIMER_SGEMM, t);
      return;
    }

  if (dinp)
    memset (dinp, 0, sizeof (float) * self->in_channels * batch
                         * self->in_h * self->in_w);
  int chunk = images_per_chunk (self, ws, batch);
  for (int n0 = 0; n0 < batch; n0 += chunk)
    {
      int nb = n0 + chunk <= batch ? chunk : batch - n0;
      const float *dout_chunk = dout + (size_t) n0 * OHW;
      double t = engine_timer_start ();
      im2col (self, ws->col, inp, batch, n0, nb);
      engine_timer_stop (ENGINE_TIMER_IM2COL, t);
      t = engine_timer_start ();
      // dW (OC, CKK) (+)= dout_chunk (OC, nb*OHW; ld B*OHW) x col^T (nb*OHW, CKK)
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, OC, CKK, nb * OHW,
                   1.0f, dout_chunk, batch * OHW, ws->col, nb * OHW,
                   n0 == 0 ? 0.0f : 1.0f, self->grad_weight, CKK);
      if (!dinp)
        {
          engine_timer_stop (ENGINE_TIMER_SGEMM, t);
          continue;
        }
      // dcol (CKK, nb*OHW) = W^T (CKK, OC) x dout_chunk (OC, nb*OHW); reuses col
      cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, CKK, nb * OHW, OC,
                   1.0f, self->weight, CKK, dout_chunk, batch * OHW, 0.0f,
                   ws->col, nb * OHW);
      engine_timer_stop (ENGINE_TIMER_SGEMM, t);
      t = engine_timer_start ();
      col2im_add (self, dinp, ws->col, batch, n0, nb);
      engine_timer_stop (ENGINE_TIMER_IM2COL, t);
    }
}

/* ---- reference: the definition, written out ---- */

void
conv2d_reference_forward (const Conv2d *self, float *out, const float *inp,
                          int batch)
{
  const int C = self->in_channels, OC = self->out_channels, K = self->kernel;
  const int S = self->stride, P = self->padding;
  const int H = self->in_h, W = self->in_w, OH = self->out_h, OW = self->out_w;

  for (int oc = 0; oc < OC; oc++)
    for (int n = 0; n < batch; n++)
      for (int oy = 0; oy < OH; oy++)
        for (int ox = 0; ox < OW; ox++)
          {
            double sum = 0.0;
            for (int c = 0; c < C; c++)
              for (int ky = 0; ky < K; ky++)
                for (int kx = 0; kx < K; kx++)
                  {
                    int iy = oy * S + ky - P, ix = ox * S + kx - P;
                    if (iy < 0 || iy >= H || ix < 0 || ix >= W)
                      continue;
                    sum += (double) self->weight[((oc * C + c) * K + ky) * K + kx]
                           * inp[(((size_t) c * batch + n) * H + iy) * W + ix];
                  }
            out[(((size_t) oc * batch + n) * OH + oy) * OW + ox] = (float) sum;
          }
}

void
conv2d_reference_backward (const Conv2d *self, float *dinp, float *grad_weight,
                           const float *dout, const float *inp, int batch)
{
  const int C = self->in_channels, OC = self->out_channels, K = self->kernel;
  const int S = self->stride, P = self->padding;
  const int H = self->in_h, W = self->in_w, OH = self->out_h, OW = self->out_w;

  memset (grad_weight, 0, sizeof (float) * OC * C * K * K);
  if (dinp)
    memset (dinp, 0, sizeof (float) * C * batch * H * W);
  for (int oc = 0; oc < OC; oc++)
    for (int n = 0; n < batch; n++)
      for (int oy = 0; oy < OH; oy++)
        for (int ox = 0; ox < OW; ox++)
          {
            float g = dout[(((size_t) oc * batch + n) * OH + oy) * OW + ox];
            for (int c = 0; c < C; c++)
              for (int ky = 0; ky < K; ky++)
                for (int kx = 0; kx < K; kx++)
                  {
                    int iy = oy * S + ky - P, ix = ox * S + kx - P;
                    if (iy < 0 || iy >= H || ix < 0 || ix >= W)
                      continue;
                    size_t i = (((size_t) c * batch + n) * H + iy) * W + ix;
                    size_t w = ((size_t) (oc * C + c) * K + ky) * K + kx;
                    grad_weight[w] += g * inp[i];
                    if (dinp)
                      dinp[i] += g * self->weight[w];
                  }
          }
}
