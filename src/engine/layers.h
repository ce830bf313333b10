/* layers.h: the small layers: ReLU, residual addition, average and max
 * pooling, flatten, linear and L2 normalisation. Each is a free function pair
 * <op>_forward / <op>_backward, outputs first, then inputs, then sizes. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* ---- ReLU, elementwise over n values ----
 * The networks apply the ReLU after a batch norm, and the residual sum
 * and ReLU at a block's end, inside the batch norm's own pass
 * (batchnorm2d_forward_relu, batchnorm2d_forward_add_relu); relu_forward
 * and add_relu_forward are those steps on their own, which the fused
 * passes are tested against to the bit. relu_backward is the residual
 * block's. */
/* out may equal inp */
void relu_forward (float *out, const float *inp, size_t n);
/* dinp = dout where out > 0, else 0; dinp may equal dout */
void relu_backward (float *dinp, const float *dout, const float *out, size_t n);

/* ---- residual addition followed by ReLU: out = max(0, a + b); out may
 * equal a or b ---- */
void add_relu_forward (float *out, const float *a, const float *b, size_t n);

/* ---- average pooling, kernel k = stride k, no padding (F.avg_pool2d(x, k)) ---- */
/* inp (C, B, H, W) -> out (C, B, H/k, W/k), planes = C*B */
void avgpool_forward (float *out, const float *inp, int planes, int h, int w,
                      int k);
/* dout (C, B, H/k, W/k) -> dinp (C, B, H, W) */
void avgpool_backward (float *dinp, const float *dout, int planes, int h,
                       int w, int k);

/* ---- global average pooling (nn.AdaptiveAvgPool2d(1)): each plane's mean ---- */
/* inp (C, B, H, W) -> out (C, B), planes = C*B, hw = H*W */
void global_avgpool_forward (float *out, const float *inp, int planes, int hw);
/* dout (C, B) -> dinp (C, B, H, W): every position gets dout / hw */
void global_avgpool_backward (float *dinp, const float *dout, int planes,
                              int hw);

/* ---- max pooling, as nn.MaxPool2d (kernel, stride, padding) ----
 *
 * Floor mode: out = (in + 2 padding - kernel) / stride + 1 per side.
 * Padding is never chosen (PyTorch pads with -inf), so every window needs
 * an element of the image: padding <= kernel / 2, as PyTorch requires.
 *
 * Ties follow PyTorch's CPU kernel: the window is read in row-major order
 * and an element replaces the running maximum only when strictly larger,
 * so the first of equal maxima wins and takes the whole gradient; a NaN
 * always replaces it (the last NaN of a window wins), and a window of
 * nothing but -inf keeps its first element. */
int maxpool2d_out_size (int size, int kernel, int stride, int padding);
/* inp (C, B, H, W) -> out (C, B, OH, OW) and argmax (C, B, OH, OW): for
 * each output, the index y * W + x inside its plane of the input it took
 * (NULL: not recorded, for a forward without a backward) */
void maxpool2d_forward (float *out, int32_t *argmax, const float *inp,
                        int planes, int h, int w, int kernel, int stride,
                        int padding);
/* dout (C, B, OH, OW) -> dinp (C, B, H, W) (written): each output's
 * gradient goes to the input it took; overlapping windows add up */
void maxpool2d_backward (float *dinp, const float *dout, const int32_t *argmax,
                         int planes, int h, int w, int out_h, int out_w);

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
