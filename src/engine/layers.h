/* layers.h: the small layers: ReLU, residual addition, average pooling,
 * flatten, linear and L2 normalisation. Each is a free function pair
 * <op>_forward / <op>_backward, outputs first, then inputs, then sizes. */
#pragma once

#include <stddef.h>

/* ---- ReLU, elementwise over n values ---- */
/* out may equal inp */
void relu_forward (float *out, const float *inp, size_t n);
/* dinp = dout where out > 0, else 0; dinp may equal dout */
void relu_backward (float *dinp, const float *dout, const float *out, size_t n);

/* ---- residual addition followed by ReLU: out = max(0, a + b) ---- */
void add_relu_forward (float *out, const float *a, const float *b, size_t n);

/* ---- average pooling, kernel k = stride k, no padding (F.avg_pool2d(x, k)) ---- */
/* inp (C, B, H, W) -> out (C, B, H/k, W/k), planes = C*B */
void avgpool_forward (float *out, const float *inp, int planes, int h, int w,
                      int k);
/* dout (C, B, H/k, W/k) -> dinp (C, B, H, W) */
void avgpool_backward (float *dinp, const float *dout, int planes, int h,
                       int w, int k);

/* ---- flatten: channel-major (C, B, h, w) <-> PyTorch's view (B, C*h*w) ---- */
void flatten_forward (float *out, const float *inp, int channels, int batch,
                      int hw);
void flatten_backward (float *dinp, const float *dout, int channels, int batch,
                       int hw);

/* ---- linear with bias, as torch.nn.Linear ---- */
typedef struct
{
  int in_features, out_features;
  float *weight;       /* (D, F) */
  float *bias;         /* (D) */
  float *grad_weight, *grad_bias;
  const float *saved_inp; /* (B, F) */
} Linear;

void linear_init (Linear *self, int in_features, int out_features);
/* inp (B, F) -> out (B, D) = inp W^T + b */
void linear_forward (Linear *self, float *out, const float *inp, int batch);
/* dout (B, D) -> grad_weight, grad_bias (written), dinp (B, F) unless NULL */
void linear_backward (Linear *self, float *dinp, const float *dout, int batch);

/* ---- L2 normalisation of rows: v = x / ||x|| (the reference's Normalize) ---- */
/* inp (B, D) -> out (B, D); norms (B) saved for backward */
void l2norm_forward (float *out, float *norms, const float *inp, int batch,
                     int dim);
/* dinp = (dout - v (v . dout)) / ||x||; dinp may equal dout */
void l2norm_backward (float *dinp, const float *dout, const float *out,
                      const float *norms, int batch, int dim);
