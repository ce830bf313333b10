/* winograd.h: 3x3 convolutions with stride 1 and padding 1 by Winograd's
 * minimal filtering F(4x4, 3x3), in the engine's channel-major layout.
 *
 * Each output map is cut into 4x4 tiles (the last row and column of tiles
 * may stick out of the map; what falls outside is not written). A tile
 * needs the 6x6 input patch around it, and
 *   Y (4x4) = A^T [ (G g G^T) (.) (B^T d B) ] A     summed over channels,
 * where g is one 3x3 filter, d one 6x6 patch, (.) the element-wise product,
 * and B^T (6x6), G (6x3), A^T (4x6) are the fixed matrices of winograd.c.
 * The 36 element-wise products summed over channels are 36 independent
 * matrix products, one per position p of the 6x6 transformed tile:
 *   M_p (OC, tiles) = U_p (OC, C) x V_p (C, tiles)
 * which run as one-thread sgemms: 36 x OC x C multiply-adds per 16 outputs
 * instead of 9 x 16, 4x fewer (3.1x on 7x7 and 14x14 maps, whose last tiles
 * are partly outside).
 *
 * All three passes of training use it:
 *   forward         out = conv (inp, w)
 *   input gradient  dinp = conv (dout, w rotated by 180 degrees, with its
 *                   two channel axes swapped): the forward again
 *   weight gradient the gradient of the forward above with respect to
 *                   U = G g G^T is sum over tiles of (A dY A^T) (.) V, a
 *                   product over tiles for each p; then dw = G^T dU G.
 * In exact arithmetic each equals the direct convolution; in float32 the
 * transforms cost a few bits (docs/performance.md, "Winograd").
 *
 * Memory: the caller's workspace holds the transformed filter (36 x OC x C
 * floats) and, per engine thread, one chunk of transformed tiles for the
 * input and the output side (36 x (C + OC) floats per tile, and each of
 * the 72 planes padded by up to 32 floats). A larger batch is done a
 * chunk of tiles at a time.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define WINOGRAD_OUT_TILE 4     /* outputs per tile side */
#define WINOGRAD_IN_TILE 6      /* inputs per tile side: 4 + 3 - 1 */
#define WINOGRAD_PLANES 36      /* 6 x 6 transformed positions */

/* Tiles of one h x w map: ceil (h/4) x ceil (w/4). */
size_t winograd_tiles_per_image (int h, int w);

/* Floats of workspace for channels C -> OC with `tiles` tiles per chunk per
 * thread and nth threads: the transformed filter plus nth chunks. */
size_t winograd_workspace_floats (int C, int OC, size_t tiles, int nth);

/* Tiles per chunk per thread that a workspace of ws_floats allows (C -> OC,
 * nth threads), at most `needed`; 0 when not even one tile fits. */
size_t winograd_chunk_tiles (size_t ws_floats, int C, int OC, int nth,
                             size_t needed);

/* inp (C, B, H, W) -> out (OC, B, H, W), written; weight (OC, C, 3, 3).
 * ws: workspace of ws_floats floats (winograd_chunk_tiles > 0), split
 * across the engine's threads. */
void winograd_conv3x3_forward (float *out, const float *inp,
                               const float *weight, int C, int OC, int batch,
                               int H, int W, float *ws, size_t ws_floats);

/* The same, each output channel o then mapped to scale[o] * out + shift[o],
 * plus residual (the shape of out) where it is not NULL, and, where relu,
 * to max (0, that), in the output transform's own pass: an
 * evaluation-mode batch norm (batchnorm2d_eval_affine) and its ReLU folded
 * into the convolution, or a residual block's last batch norm, shortcut
 * sum and ReLU. */
void winograd_conv3x3_forward_affine (float *out, const float *inp,
                                      const float *weight, int C, int OC,
                                      int batch, int H, int W, float *ws,
                                      size_t ws_floats, const float *scale,
                                      const float *shift,
                                      const float *residual, bool relu);

/* dout (OC, B, H, W) -> dinp (C, B, H, W), written: the input gradient of
 * the forward above. */
void winograd_conv3x3_backward_data (float *dinp, const float *dout,
                                     const float *weight, int C, int OC,
                                     int batch, int H, int W, float *ws,
                                     size_t ws_floats);

/* dout (OC, B, H, W), inp (C, B, H, W) -> grad_weight (OC, C, 3, 3),
 * written (not accumulated): the weight gradient of the forward above. */
void winograd_conv3x3_backward_weight (float *grad_weight, const float *dout,
                                       const float *inp, int C, int OC,
                                       int batch, int H, int W, float *ws,
                                       size_t ws_floats);
