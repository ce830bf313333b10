/* conv.h: 2D convolution without bias, as torch.nn.Conv2d(bias=False).
 *
 * Two ways to compute it: im2col + sgemm for every shape, and Winograd's
 * F(4x4, 3x3) (winograd.h) for 3x3 kernels with stride 1 and padding 1,
 * which does 3-4x fewer multiplications at a cost of a few bits of float32
 * accuracy. conv2d_set_algo picks between them; the seven-loop reference
 * below is the oracle for both. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Scratch memory shared by every layer of a network (darknet's idea): im2col
 * columns in forward, the same floats reused for column gradients in
 * backward, or Winograd's transformed filter and tiles. Convolutions process
 * the batch in chunks of images (tiles) sized to fit. */
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

/* floats of workspace this layer's im2col needs to process `images` images
 * at once */
size_t conv2d_workspace_floats (const Conv2d *self, int images);

/* Whether the layer's shape is one Winograd does: 3x3, stride 1, padding 1
 * (its output is then the size of its input). */
bool conv2d_winograd_shape (const Conv2d *self);

/* floats of workspace that let this layer run Winograd on threads engine
 * threads with batches of up to max_batch images, in chunks of tiles sized
 * for the cache (conv.c); 0 for a shape Winograd does not do. */
size_t conv2d_winograd_workspace_floats (const Conv2d *self, int max_batch,
                                         int threads);

/* What a network gives the layer (a network's workspace is the largest over
 * its layers): room for im2col's chunks of images on threads threads, and
 * for Winograd where the shape allows, so that either way can run. im2col
 * takes chunks of at most 4 MiB of columns per thread however large the
 * workspace is. */
size_t conv2d_network_workspace_floats (const Conv2d *self, int max_batch,
                                        int threads);

/* Which way the layers of Winograd's shape are computed. */
typedef enum
{
  CONV_ALGO_AUTO,       /* Winograd where it was measured faster, else im2col */
  CONV_ALGO_IM2COL,     /* im2col + sgemm for every layer */
  CONV_ALGO_WINOGRAD,   /* Winograd for every layer of its shape */
} ConvAlgo;

/* Process-wide; set it before computing, not while another thread runs a
 * network. Until it is set, the environment variable ENGINE_CONV decides
 * (auto, im2col or winograd; read once, at the first convolution), and
 * without it AUTO. A layer whose workspace has no room for one Winograd tile
 * per thread uses im2col whatever the setting. */
void conv2d_set_algo (ConvAlgo algo);
ConvAlgo conv2d_get_algo (void);

/* For tests: every im2col forward's and input gradient's sgemm cut into
 * blocks of `columns` output columns, whatever the OpenBLAS kernels; 0
 * (the default) leaves it to conv.c's rule, which cuts them only where
 * OpenBLAS multiplies small products unpacked. Process-wide, as
 * conv2d_set_algo. */
void conv2d_set_sgemm_columns (size_t columns);

/* Whether, under the current setting and with this workspace, the layer's
 * forward and input gradient (weight = false) or its weight gradient
 * (weight = true) run as Winograd. */
bool conv2d_uses_winograd (const Conv2d *self, const Workspace *ws,
                           bool weight);

/* inp (C, B, H, W) -> out (OC, B, OH, OW) */
void conv2d_forward (Conv2d *self, float *out, const float *inp, int batch,
                     Workspace *ws);

/* The forward with each output channel o then mapped to scale[o] * out +
 * shift[o], plus residual (same shape as out) where it is not NULL, and,
 * where relu, to max (0, that), in the convolution's own output pass (the
 * Winograd output transform, or right after each block of im2col's sgemm,
 * while the block is in the cache): an evaluation-mode batch norm and its
 * ReLU folded in, or a residual block's last batch norm, shortcut and
 * ReLU. */
void conv2d_forward_affine (Conv2d *self, float *out, const float *inp,
                            int batch, Workspace *ws, const float *scale,
                            const float *shift, const float *residual,
                            bool relu);

/* dout (OC, B, OH, OW) -> grad_weight (written, not accumulated) and, unless
 * dinp is NULL, dinp (C, B, H, W) (written). Reads the input saved by the
 * last forward. */
void conv2d_backward (Conv2d *self, float *dinp, const float *dout, int batch,
                      Workspace *ws);

/* The plain seven-loop convolution that the fast ones are tested against.
 * Same layouts and contract as above, no workspace. */
void conv2d_reference_forward (const Conv2d *self, float *out, const float *inp,
                               int batch);
void conv2d_reference_backward (const Conv2d *self, float *dinp,
                                float *grad_weight, const float *dout,
                                const float *inp, int batch);
