/* conv.h: 2D convolution without bias, as torch.nn.Conv2d(bias=False). */
#pragma once

#include <stddef.h>

/* Scratch memory shared by every layer of a network (darknet's idea): im2col
 * columns in forward, the same floats reused for column gradients in
 * backward. Convolutions process the batch in chunks of images sized to fit. */
typedef struct
{
  float *col;
  size_t n_floats;
} Workspace;

typedef struct
{
  int in_channels, out_channels;
  int kernel, stride, padding;
  int in_h, in_w, out_h, out_w;
  float *weight;        /* (OC, C, K, K), inside the network's parameter block */
  float *grad_weight;   /* (OC, C, K, K) */
  const float *saved_inp; /* (C, B, H, W): the last forward's input, read by backward */
} Conv2d;

void conv2d_init (Conv2d *self, int in_channels, int out_channels, int kernel,
                  int stride, int padding, int in_h, int in_w);

/* floats of workspace this layer needs to process `images` images at once */
size_t conv2d_workspace_floats (const Conv2d *self, int images);

/* inp (C, B, H, W) -> out (OC, B, OH, OW) */
void conv2d_forward (Conv2d *self, float *out, const float *inp, int batch,
                     Workspace *ws);

/* dout (OC, B, OH, OW) -> grad_weight (written, not accumulated) and, unless
 * dinp is NULL, dinp (C, B, H, W) (written). Reads the input saved by the
 * last forward. */
void conv2d_backward (Conv2d *self, float *dinp, const float *dout, int batch,
                      Workspace *ws);

/* The plain seven-loop convolution that the fast one is tested against.
 * Same layouts and contract as above, no workspace. */
void conv2d_reference_forward (const Conv2d *self, float *out, const float *inp,
                               int batch);
void conv2d_reference_backward (const Conv2d *self, float *dinp,
                                float *grad_weight, const float *dout,
                                const float *inp, int batch);
