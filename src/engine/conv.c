/* conv.c: 2D convolution as im2col + one sgemm per chunk of images, or as
 * Winograd's F(4x4, 3x3) (winograd.c) for the 3x3 stride-1 layers.
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
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batchnorm.h"
#include "blas-kernels.h"
#include "check.h"
#include "threads.h"
#include "vec4.h"
#include "winograd.h"

/* im2col columns are produced a chunk of images at a time, by each engine
 * thread for its own images; at most this many floats per thread (4 MiB)
 * keeps the chunks of both threads in the last-level cache while sgemm reads
 * them (2 to 8 MiB measured alike within the noise; docs/performance.md).
 * A network's workspace may be larger, for Winograd: im2col still takes
 * chunks of this size. May be overridden at compile time for such
 * measurements. */
#ifndef COL_CHUNK_FLOATS
#define COL_CHUNK_FLOATS ((size_t) 1 << 20)
#endif

/* Winograd's tiles are transformed a chunk at a time, each engine thread
 * its own chunk: this many floats of transformed input and output tiles per
 * thread (1 MiB, about the L2 cache of a core here, so that the products
 * read the tiles back from it), but at least WINOGRAD_MIN_TILES tiles, so
 * that the 256- and 512-channel layers (36 x 512 and 36 x 1024 floats a
 * tile) still multiply more than a handful of columns per sgemm. 1 MiB beat
 * 4 MiB by about 7% on average over the layer shapes of both ResNets, and
 * 0.5 MiB was no better (docs/performance.md, "Winograd"). */
#ifndef WINOGRAD_CHUNK_FLOATS
#define WINOGRAD_CHUNK_FLOATS ((size_t) 1 << 18)
#endif
#ifndef WINOGRAD_MIN_TILES
#define WINOGRAD_MIN_TILES 64
#endif

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

/* ---- which way ---- */

static ConvAlgo algo = CONV_ALGO_AUTO;
static pthread_once_t algo_once = PTHREAD_ONCE_INIT;
static bool algo_set;

static void
read_algo_env (void)
{
  const char *env = getenv ("ENGINE_CONV");
  if (algo_set || !env || !*env)
    return;
  if (strcmp (env, "im2col") == 0)
    algo = CONV_ALGO_IM2COL;
  else if (strcmp (env, "winograd") == 0)
    algo = CONV_ALGO_WINOGRAD;
  else if (strcmp (env, "auto") != 0)
    /* a developer's switch for A/B runs: a typo must not pass as a result */
    fprintf (stderr, "engine: ENGINE_CONV=%s is not auto, im2col or "
             "winograd; using auto\n", env);
}

void
conv2d_set_algo (ConvAlgo a)
{
  algo_set = true;
  algo = a;
}

ConvAlgo
conv2d_get_algo (void)
{
  pthread_once (&algo_once, read_algo_env);
  return algo;
}

bool
conv2d_winograd_shape (const Conv2d *self)
{
  return self->kernel == 3 && self->stride == 1 && self->padding == 1;
}

/* Where AUTO takes Winograd (docs/performance.md, "Winograd"): every layer
 * of its shape with at least 8 input and 8 output channels. Below that
 * (the stem, 1 or 3 image channels) each of the 36 products has a depth of
 * 1 to 3, and the transforms mostly cost more than the multiplications
 * save: bench-conv's stem rows on the Zen 5 (2026-12-07, two threads, two
 * runs; the forward and the weight gradient, a stem needing no input
 * gradient) give im2col 1.5 to 2.5 times Winograd's speed from one
 * channel to 16, 2.4 to 6 times to 64, and 1.1 to 1.6 times from three
 * channels to 64; only three to 16 (the small ResNet on colour images)
 * went the other way, by 4 to 30 %, under a millisecond of its step.
 * The pass is asked for but decides nothing yet: the weight gradient
 * gained as much as the other two passes at every layer shape measured. */
static bool
winograd_pays (const Conv2d *self, bool weight)
{
  (void) weight;
  return self->in_channels >= 8 && self->out_channels >= 8;
}

bool
conv2d_uses_winograd (const Conv2d *self, const Workspace *ws, bool weight)
{
  if (!conv2d_winograd_shape (self))
    return false;
  const ConvAlgo a = conv2d_get_algo ();
  if (a == CONV_ALGO_IM2COL || (a == CONV_ALGO_AUTO
                                && !winograd_pays (self, weight)))
    return false;
  return winograd_chunk_tiles (ws->n_floats, self->in_channels,
                               self->out_channels, engine_get_threads (), 1)
         > 0;
}

/* images per im2col chunk: as many as COL_CHUNK_FLOATS hold, at least 1 */
static size_t
col_chunk_images (const Conv2d *self)
{
  size_t per_image = conv2d_workspace_floats (self, 1);
  size_t images = per_image ? COL_CHUNK_FLOATS / per_image : 0;
  return images > 0 ? images : 1;
}

size_t
conv2d_network_workspace_floats (const Conv2d *self, int max_batch,
                                 int threads)
{
  size_t winograd = conv2d_winograd_workspace_floats (self, max_batch,
                                                      threads);
  size_t per_image = conv2d_workspace_floats (self, 1);
  if (per_image == 0)
    return winograd;
  size_t images = col_chunk_images (self);
  if (images * threads > (size_t) max_batch)
    images = (max_batch + threads - 1) / threads;
  size_t im2col = per_image * images * threads;
  return im2col > winograd ? im2col : winograd;
}

size_t
conv2d_winograd_workspace_floats (const Conv2d *self, int max_batch,
                                  int threads)
{
  if (!conv2d_winograd_shape (self))
    return 0;
  const int C = self->in_channels, OC = self->out_channels;
  const size_t total = winograd_tiles_per_image (self->in_h, self->in_w)
                       * max_batch;
  const size_t needed = (total + threads - 1) / threads;
  size_t tiles = WINOGRAD_CHUNK_FLOATS / ((size_t) WINOGRAD_PLANES * (C + OC));
  if (tiles < WINOGRAD_MIN_TILES)
    tiles = WINOGRAD_MIN_TILES;
  if (tiles > needed)
    tiles = needed;
  return winograd_workspace_floats (C, OC, tiles, threads);
}

size_t
conv2d_workspace_floats (const Conv2d *self, int images)
{
  if (is_pointwise (self))
    return 0;
  return (size_t) self->in_channels * self->kernel * self->kernel
         * self->out_h * self->out_w * images;
}

/* Fast path of im2col for the "same" convolutions with stride 1 (3x3 with
 * padding 1: most of a ResNet), where OH = H and OW = W. Then the row of
 * (ky, kx) for one image is the whole input plane read at a constant offset
 * d = (ky - P) * W + (kx - P):  col[oy*W + ox] = plane[oy*W + ox + d],
 * except where the kernel hangs over the border. So one long copy does the
 * work of OH short ones, and only the border cells are then zeroed. The
 * general loop below is the reference for it. */
static void
im2col_plane_same (float *dst, const float *plane, int H, int W,
                   int P, int ky, int kx)
{
  const long HW = (long) H * W, d = (long) (ky - P) * W + (kx - P);
  /* output rows whose input row iy = oy + ky - P is inside */
  const int oy_lo = P - ky > 0 ? P - ky : 0;
  const int oy_hi = H + P - ky < H ? H + P - ky : H;
  /* output columns whose input column ix = ox + kx - P is inside */
  const int ox_lo = P - kx > 0 ? P - kx : 0;
  const int ox_hi = W + P - kx < W ? W + P - kx : W;
  if (oy_lo >= oy_hi)
    {
      memset (dst, 0, sizeof (float) * HW);
      return;
    }
  /* the copy, clipped so that it never reads outside the plane; what it
   * leaves out lies in the border columns zeroed below */
  long j_lo = (long) oy_lo * W, j_hi = (long) oy_hi * W;
  if (j_lo + d < 0)
    j_lo = -d;
  if (j_hi + d > HW)
    j_hi = HW - d;
  memcpy (dst + j_lo, plane + j_lo + d, sizeof (float) * (j_hi - j_lo));
  memset (dst, 0, sizeof (float) * oy_lo * W);
  memset (dst + (long) oy_hi * W, 0, sizeof (float) * (H - oy_hi) * W);
  for (int oy = oy_lo; oy < oy_hi; oy++)
    {
      float *row = dst + (long) oy * W;
      for (int ox = 0; ox < ox_lo; ox++)
        row[ox] = 0.0f;
      for (int ox = ox_hi; ox < W; ox++)
        row[ox] = 0.0f;
    }
}

static int
is_same_stride1 (const Conv2d *self)
{
  return self->stride == 1 && self->out_h == self->in_h
         && self->out_w == self->in_w;
}

/* ---- stride 2: the rows split by parity ----
 *
 * With stride 2 a row of columns reads every other input value, a strided
 * gather that GCC leaves scalar, and col2im's scatter is the same. For the
 * downsampling 3x3 layers of the small ResNet that made im2col and col2im
 * about half of their time. Pad an input row with P zeros each side and
 * split it by parity, even[j] = padded[2j] and odd[j] = padded[2j + 1]:
 * output ox of kernel column kx reads padded value 2 ox + kx, which is
 * even[ox + kx/2] for an even kx and odd[ox + kx/2] (rounded down) for an
 * odd one, so each row of columns is a contiguous copy. col2im adds into
 * the two halves instead, and interleaves them into the input gradient's
 * row.
 *
 * A whole plane is split before any row of it is copied (and col2im's
 * additions go kernel column by kernel column): a load of 4 floats that
 * straddles two recent stores at another alignment (the copy of kx = 2
 * reads one float further on than kx = 0) waits for both to leave the
 * store buffer, which made a row-by-row version slower than the scalar
 * loops. */

/* a plane's halves of more floats than this (a plane larger than about
 * 88x88) take the general loops */
#define STRIDE2_SPLIT_MAX 8192

typedef struct
{
  float *even, *odd;    /* (H, half) each */
  int half;             /* floats a row of each: (W + 2P) / 2 + 1 */
  /* where the input row's even and odd columns start: padded value q is
   * input column q - P, so for an odd P the even columns are the odd
   * half's */
  float *of_even, *of_odd;
} Stride2Split;

static int
stride2_half (const Conv2d *self)
{
  return (self->in_w + 2 * self->padding) / 2 + 1;
}

/* Not for a 1x1, which reads every other value of every other row: the
 * strided copy of that quarter of the input took 0.28 ms of the small
 * ResNet's first shortcut at batch 128 and two threads, the split of every
 * row 0.41 */
static bool
stride2_fits (const Conv2d *self)
{
  return self->stride == 2 && self->kernel > 1
         && 2 * (size_t) self->in_h * stride2_half (self) <= STRIDE2_SPLIT_MAX;
}

/* the halves in `buffer` (2 x STRIDE2_SPLIT_MAX floats), zeroed */
static Stride2Split
stride2_split (const Conv2d *self, float *buffer)
{
  const int P = self->padding;
  Stride2Split sp = { .half = stride2_half (self) };
  sp.even = buffer;
  sp.odd = buffer + (size_t) self->in_h * sp.half;
  memset (buffer, 0, sizeof (float) * 2 * self->in_h * sp.half);
  sp.of_even = P % 2 == 0 ? sp.even + P / 2 : sp.odd + (P - 1) / 2;
  sp.of_odd = P % 2 == 0 ? sp.odd + P / 2 : sp.even + (P + 1) / 2;
  return sp;
}

/* a[i] = src[2i], b[i] = src[2i + 1] for the W values of src */
static void
deinterleave_row (float *a, float *b, const float *src, int W)
{
  int i = 0;
  for (; 2 * i + 8 <= W; i += 4)
    {
      const Floats4 lo = load_floats4 (src + 2 * i);
      const Floats4 hi = load_floats4 (src + 2 * i + 4);
      store_floats4 (a + i, __builtin_shufflevector (lo, hi, 0, 2, 4, 6));
      store_floats4 (b + i, __builtin_shufflevector (lo, hi, 1, 3, 5, 7));
    }
  for (; 2 * i + 1 < W; i++)
    {
      a[i] = src[2 * i];
      b[i] = src[2 * i + 1];
    }
  if (2 * i < W)
    a[i] = src[2 * i];
}

/* dst[2i] = a[i], dst[2i + 1] = b[i] for the W values of dst */
static void
interleave_row (float *dst, const float *a, const float *b, int W)
{
  int i = 0;
  for (; 2 * i + 8 <= W; i += 4)
    {
      const Floats4 va = load_floats4 (a + i), vb = load_floats4 (b + i);
      store_floats4 (dst + 2 * i,
                     __builtin_shufflevector (va, vb, 0, 4, 1, 5));
      store_floats4 (dst + 2 * i + 4,
                     __builtin_shufflevector (va, vb, 2, 6, 3, 7));
    }
  for (; 2 * i + 1 < W; i++)
    {
      dst[2 * i] = a[i];
      dst[2 * i + 1] = b[i];
    }
  if (2 * i < W)
    dst[2 * i] = a[i];
}

/* dst[0, n) = src[0, n), 4 floats at a time. A call to memcpy costs more
 * than these rows of 4 to 112 floats, and GCC turns a plain loop into one,
 * this loop of 4-float moves too: the empty asm, which the compiler must
 * assume changes dst, keeps it a loop. In perf of the small ResNet's
 * inference (one thread), im2col_stride2 and the memcpy it called took
 * 7.7 % of the samples, the loop alone 4.3 %. */
static void
copy_floats (float *dst, const float *src, int n)
{
  int i = 0;
  for (; i + 4 <= n; i += 4)
    {
      store_floats4 (dst + i, load_floats4 (src + i));
      __asm__ ("" : "+r" (dst));
    }
  for (; i < n; i++)
    {
      dst[i] = src[i];
      __asm__ ("" : "+r" (dst));
    }
}

/* dst[0, n) += src[0, n) */
static void
add_floats (float *dst, const float *src, int n)
{
  int i = 0;
  for (; i + 4 <= n; i += 4)
    store_floats4 (dst + i, load_floats4 (dst + i) + load_floats4 (src + i));
  for (; i < n; i++)
    dst[i] += src[i];
}

/* im2col (below) for stride 2 */
static void
im2col_stride2 (const Conv2d *self, float *col, const float *inp, int batch,
                int n0, int nb)
{
  const int K = self->kernel, P = self->padding;
  const int H = self->in_h, W = self->in_w, OH = self->out_h, OW = self->out_w;
  const size_t row_len = (size_t) nb * OH * OW;
  float buffer[2 * STRIDE2_SPLIT_MAX];
  const Stride2Split sp = stride2_split (self, buffer);

  /* the next channel's rows are asked for as winograd.c's pad_planes does */
  const size_t channel = (size_t) batch * H * W;
  for (int c = 0; c < self->in_channels; c++)
    for (int n = n0; n < n0 + nb; n++)
      {
        const float *plane = inp + ((size_t) c * batch + n) * H * W;
        for (int iy = 0; iy < H; iy++)
          {
            if (c + 1 < self->in_channels)
              for (int x = 0; x < W; x += 16)
                __builtin_prefetch (plane + channel + (size_t) iy * W + x, 0,
                                    3);
            deinterleave_row (sp.of_even + (size_t) iy * sp.half,
                              sp.of_odd + (size_t) iy * sp.half,
                              plane + (size_t) iy * W, W);
          }
        for (int ky = 0; ky < K; ky++)
          for (int kx = 0; kx < K; kx++)
            {
              float *row = col + ((size_t) (c * K + ky) * K + kx) * row_len
                           + (size_t) (n - n0) * OH * OW;
              const float *half = (kx % 2 == 0 ? sp.even : sp.odd) + kx / 2;
              for (int oy = 0; oy < OH; oy++)
                {
                  const int iy = 2 * oy + ky - P;
                  if (iy < 0 || iy >= H)
                    memset (row + (size_t) oy * OW, 0, sizeof (float) * OW);
                  else
                    copy_floats (row + (size_t) oy * OW,
                                 half + (size_t) iy * sp.half, OW);
                }
            }
      }
}

/* col2im (below) for stride 2 */
static void
col2im_stride2 (const Conv2d *self, float *dinp, const float *col, int batch,
                int n0, int nb)
{
  const int K = self->kernel, P = self->padding;
  const int H = self->in_h, W = self->in_w, OH = self->out_h, OW = self->out_w;
  const size_t row_len = (size_t) nb * OH * OW;
  float buffer[2 * STRIDE2_SPLIT_MAX];
  const Stride2Split sp = stride2_split (self, buffer);
  const size_t halves = 2 * (size_t) H * sp.half;

  for (int c = 0; c < self->in_channels; c++)
    for (int n = n0; n < n0 + nb; n++)
      {
        if (c > 0 || n > n0)
          memset (buffer, 0, sizeof (float) * halves);
        for (int kx = 0; kx < K; kx++)
          for (int ky = 0; ky < K; ky++)
            {
              const float *row = col + ((size_t) (c * K + ky) * K + kx) * row_len
                                 + (size_t) (n - n0) * OH * OW;
              float *half = (kx % 2 == 0 ? sp.even : sp.odd) + kx / 2;
              for (int oy = 0; oy < OH; oy++)
                {
                  const int iy = 2 * oy + ky - P;
                  if (iy >= 0 && iy < H)
                    add_floats (half + (size_t) iy * sp.half,
                                row + (size_t) oy * OW, OW);
                }
            }
        float *plane = dinp + ((size_t) c * batch + n) * H * W;
        for (int iy = 0; iy < H; iy++)
          interleave_row (plane + (size_t) iy * W,
                          sp.of_even + (size_t) iy * sp.half,
                          sp.of_odd + (size_t) iy * sp.half, W);
      }
}

/* inp (C, B, H, W), images [n0, n0+nb) -> col (C*K*K, nb*OH*OW) */
static void
im2col (const Conv2d *self, float *col, const float *inp, int batch, int n0,
        int nb)
{
  const int K = self->kernel, S = self->stride, P = self->padding;
  const int H = self->in_h, W = self->in_w, OH = self->out_h, OW = self->out_w;
  const size_t row_len = (size_t) nb * OH * OW;

  if (is_same_stride1 (self))
    {
      for (int c = 0; c < self->in_channels; c++)
        for (int ky = 0; ky < K; ky++)
          for (int kx = 0; kx < K; kx++)
            {
              float *row = col + ((size_t) (c * K + ky) * K + kx) * row_len;
              for (int n = n0; n < n0 + nb; n++)
                im2col_plane_same (row + (size_t) (n - n0) * OH * OW,
                                   inp + ((size_t) c * batch + n) * H * W, H,
                                   W, P, ky, kx);
            }
      return;
    }
  if (stride2_fits (self))
    {
      im2col_stride2 (self, col, inp, batch, n0, nb);
      return;
    }

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

/* col (C*K*K, nb*OH*OW) -> dinp (C, B, H, W), images [n0, n0+nb), written.
 * One input plane at a time: it is zeroed and then receives the K*K rows
 * that read it, so it stays in the L1 cache for all of them and dinp is
 * written once (instead of cleared in one pass and added to in K*K more). */
static void
col2im (const Conv2d *self, float *dinp, const float *col, int batch, int n0,
        int nb)
{
  const int K = self->kernel, S = self->stride, P = self->padding;
  const int H = self->in_h, W = self->in_w, OH = self->out_h, OW = self->out_w;
  const size_t row_len = (size_t) nb * OH * OW;
  if (stride2_fits (self))
    {
      col2im_stride2 (self, dinp, col, batch, n0, nb);
      return;
    }

  for (int c = 0; c < self->in_channels; c++)
    for (int n = n0; n < n0 + nb; n++)
      {
        float *plane = dinp + ((size_t) c * batch + n) * H * W;
        memset (plane, 0, sizeof (float) * H * W);
        for (int ky = 0; ky < K; ky++)
          for (int kx = 0; kx < K; kx++)
            {
              const float *row = col + ((size_t) (c * K + ky) * K + kx) * row_len
                                 + (size_t) (n - n0) * OH * OW;
              /* output columns ox whose input column ox*S + kx - P is inside */
              int ox_lo = 0, ox_hi = OW;
              while (ox_lo < OW && ox_lo * S + kx - P < 0)
                ox_lo++;
              while (ox_hi > ox_lo && (ox_hi - 1) * S + kx - P >= W)
                ox_hi--;
              for (int oy = 0; oy < OH; oy++)
                {
                  int iy = oy * S + ky - P;
                  if (iy < 0 || iy >= H)
                    continue;
                  const float *src = row + (size_t) oy * OW;
                  float *dst = plane + (size_t) iy * W + kx - P;
                  if (S == 1)   /* the common case, written so it vectorises */
                    for (int ox = ox_lo; ox < ox_hi; ox++)
                      dst[ox] += src[ox];
                  else
                    for (int ox = ox_lo; ox < ox_hi; ox++)
                      dst[ox * S] += src[ox];
                }
            }
      }
}

/* ---- the convolution, split across the engine's threads ----
 *
 * Thread ith of nth takes a contiguous range of the batch's images and the
 * ith slice of the workspace, and loops over its images a chunk at a time:
 * im2col into its own columns, then a one-thread sgemm writing its own
 * output columns. The threads never wait for each other inside a layer;
 * only the weight gradient, a sum over all images, needs one reduction
 * (thread 0 accumulates into grad_weight, the others into partial sums that
 * are added in afterwards). A workspace too small for one image per thread
 * leaves the extra threads idle. */

typedef struct
{
  Conv2d *conv;
  const float *inp;     /* (C, B, H, W) */
  float *out;           /* forward: (OC, B, OH, OW) */
  const float *dout;    /* backward: (OC, B, OH, OW) */
  float *dinp;          /* backward: (C, B, H, W) or NULL */
  float *partial;       /* backward: (used - 1, OC, CKK) weight gradients */
  int batch;
  int used;             /* threads with images */
  Workspace *ws;
  EngineShares *images; /* forward: the batch, taken a chunk at a time */
  /* forward: where scale is not NULL, out's channel o is then mapped to
   * scale[o] * out + shift[o] (+ residual), then max (0, .) where relu */
  const float *scale, *shift, *residual;
  bool relu;
} ConvTask;

/* Partial weight gradients of threads 1..nth-1: one buffer for the process,
 * grown to the largest layer (the engine runs one kernel at a time). */
static float *partial_grads;
static size_t partial_grads_floats;

static float *
partial_grad_buffer (size_t n_floats)
{
  if (n_floats > partial_grads_floats)
    {
      engine_free (partial_grads);
      partial_grads = engine_alloc (sizeof (float) * n_floats);
      ENGINE_CHECK (partial_grads != NULL);
      partial_grads_floats = n_floats;
    }
  return partial_grads;
}

/* threads that get images: no more than the workspace can hold at one
 * image each, nor than there are images */
static int
threads_used (const Conv2d *self, const Workspace *ws, int batch)
{
  int nth = engine_get_threads ();
  size_t per_image = conv2d_workspace_floats (self, 1);
  if (per_image > 0)
    {
      size_t fit = ws->n_floats / per_image;
      ENGINE_CHECK (fit >= 1);
      if (fit < (size_t) nth)
        nth = (int) fit;
    }
  return nth < batch ? nth : batch;
}

/* images per chunk that a thread's slice of the workspace holds */
static size_t
chunk_images (const ConvTask *task)
{
  size_t slice = task->ws->n_floats / task->used;
  size_t fit = slice / conv2d_workspace_floats (task->conv, 1);
  if (fit > col_chunk_images (task->conv))
    fit = col_chunk_images (task->conv);
  return fit > 0 ? fit : 1;
}

/* thread ith's slice of the workspace for its columns; NULL for a
 * pointwise convolution, which reads its input in place */
static float *
thread_columns (const ConvTask *task, int ith)
{
  if (conv2d_workspace_floats (task->conv, 1) == 0)
    return NULL;
  return task->ws->col + task->ws->n_floats / task->used * ith;
}

/* This thread's images [*lo, *hi), its columns, and images per chunk. */
static void
thread_share (const ConvTask *task, int ith, int *lo, int *hi, float **col,
              int *chunk)
{
  size_t l, h;
  engine_split (task->batch, ith, task->used, &l, &h);
  *lo = (int) l;
  *hi = (int) h;
  *col = thread_columns (task, ith);
  if (!*col)
    {
      *chunk = *hi - *lo;
      return;
    }
  size_t fit = chunk_images (task);
  *chunk = fit < (size_t) (*hi - *lo) ? (int) fit : *hi - *lo;
  if (*chunk < 1)
    *chunk = 1;
}

/* The forward's and the input gradient's sgemms are cut into column
 * blocks small enough for OpenBLAS's unpacked kernels
 * (blas_kernels_unpacked_max_macs), when the blocks still have at least
 * SMALL_SGEMM_MIN_COLUMNS columns: below that the unpacked kernel was
 * slower (bench-conv, one thread, the small ResNet's forwards: 0.95 times
 * the speed at 48 columns, 0.75 at 112; 1.15 to 1.4 times at 208 to 6944,
 * docs/performance.md, "small sgemm blocks"). */
#define SMALL_SGEMM_MIN_COLUMNS 192

static size_t forced_sgemm_columns;   /* conv2d_set_sgemm_columns */

void
conv2d_set_sgemm_columns (size_t columns)
{
  forced_sgemm_columns = columns;
}

/* columns per sgemm of out (OC, pixels) = W (OC, CKK) x col (CKK, pixels),
 * or of the input gradient's W^T x dout */
static size_t
columns_per_sgemm (int OC, int CKK, size_t pixels)
{
  if (forced_sgemm_columns)
    return forced_sgemm_columns;
  const size_t fit = blas_kernels_unpacked_units ((double) OC * CKK, 16,
                                                  SMALL_SGEMM_MIN_COLUMNS);
  return fit == 0 || fit >= pixels ? pixels : fit;
}

/* the forward's epilogue (batch norm's own map, batchnorm_affine_run) on
 * columns [at, at + n) of every channel of out (ld floats apart), while
 * the sgemm's block is still in the cache */
static void
affine_columns (const ConvTask *task, size_t ld, size_t at, size_t n)
{
  for (int o = 0; o < task->conv->out_channels; o++)
    {
      float *y = task->out + o * ld + at;
      const float *r = task->residual ? task->residual + o * ld + at : NULL;
      batchnorm_affine_run (y, y, r, n, task->scale[o], task->shift[o],
                            task->relu);
    }
}

static void
forward_task (void *arg, int ith, int nth)
{
  const ConvTask *task = arg;
  Conv2d *self = task->conv;
  const int OC = self->out_channels, batch = task->batch;
  const int CKK = self->in_channels * self->kernel * self->kernel;
  const int OHW = self->out_h * self->out_w;
  if (ith >= task->used)
    return;
  float *col = thread_columns (task, ith);

  /* the images taken as the threads come free, in runs of the same size
   * for every thread (the shares differ by an image at most), so that
   * which images one sgemm multiplies does not depend on which thread
   * came first; at two threads or more a run is at most a quarter of a
   * share (engine_shares_run; the stem's and the shortcuts' shares were
   * one run each: with quarters, the small ResNet's inference at two
   * threads was 1.01-1.04 times as fast and its training 1.01-1.02,
   * docs/performance.md, "runs of an eighth") */
  size_t run = engine_shares_run ((size_t) batch, task->used, 4, 1);
  if (col && (size_t) chunk_images (task) < run)
    run = (size_t) chunk_images (task);
  size_t first, end;
  while (engine_shares_take (task->images, ith, run, &first, &end))
    {
      const int n0 = (int) first, nb = (int) (end - first);
      const float *b = task->inp + (size_t) n0 * OHW;
      int ldb = batch * OHW;
      double t = engine_timer_start ();
      if (col)
        {
          im2col (self, col, task->inp, batch, n0, nb);
          b = col;
          ldb = nb * OHW;
        }
      if (ith == 0)
        engine_timer_stop (ENGINE_TIMER_IM2COL, t);
      t = engine_timer_start ();
      // out[:, n0*OHW ...] (OC, nb*OHW; ld B*OHW) = W (OC, CKK) x col (CKK, nb*OHW)
      // (a pointwise convolution reads its input columns in place: ld B*OHW)
      const size_t pixels = (size_t) nb * OHW;
      const size_t step = columns_per_sgemm (OC, CKK, pixels);
      for (size_t p = 0; p < pixels; p += step)
        {
          const size_t n = pixels - p < step ? pixels - p : step;
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, OC, (int) n,
                       CKK, 1.0f, self->weight, CKK, b + p, ldb, 0.0f,
                       task->out + (size_t) n0 * OHW + p, batch * OHW);
          if (task->scale)
            affine_columns (task, (size_t) batch * OHW,
                            (size_t) n0 * OHW + p, n);
        }
      if (ith == 0)
        engine_timer_stop (ENGINE_TIMER_SGEMM, t);
    }
}

/* the im2col forward, with the epilogue where scale is not NULL */
static void
im2col_forward (Conv2d *self, float *out, const float *inp, int batch,
                Workspace *ws, const float *scale, const float *shift,
                const float *residual, bool relu)
{
  EngineShares images;
  ConvTask task = { .conv = self, .inp = inp, .out = out, .batch = batch,
                    .ws = ws, .used = threads_used (self, ws, batch),
                    .images = &images, .scale = scale, .shift = shift,
                    .residual = residual, .relu = relu };
  engine_shares_init (&images, (size_t) batch, task.used);
  engine_parallel (forward_task, &task);
}

void
conv2d_forward (Conv2d *self, float *out, const float *inp, int batch,
                Workspace *ws)
{
  self->saved_inp = inp;
  if (conv2d_uses_winograd (self, ws, false))
    {
      winograd_conv3x3_forward (out, inp, self->weight, self->in_channels,
                                self->out_channels, batch, self->in_h,
                                self->in_w, ws->col, ws->n_floats);
      return;
    }
  im2col_forward (self, out, inp, batch, ws, NULL, NULL, NULL, false);
}

void
conv2d_forward_affine (Conv2d *self, float *out, const float *inp, int batch,
                       Workspace *ws, const float *scale, const float *shift,
                       const float *residual, bool relu)
{
  self->saved_inp = inp;
  if (!conv2d_uses_winograd (self, ws, false))
    {
      im2col_forward (self, out, inp, batch, ws, scale, shift, residual,
                      relu);
      return;
    }
  winograd_conv3x3_forward_affine (out, inp, self->weight, self->in_channels,
                                   self->out_channels, batch, self->in_h,
                                   self->in_w, ws->col, ws->n_floats, scale,
                                   shift, residual, relu);
}

/* dcol (CKK, pixels; ld ldc) = W^T (CKK, OC) x dout (OC, pixels; ld ldd),
 * in column blocks as the forward's (OpenBLAS's unpacked kernel takes this
 * transposed product too) */
static void
input_grad_sgemm (const Conv2d *self, const float *dout, int ldd, float *dcol,
                  int ldc, size_t pixels)
{
  const int OC = self->out_channels;
  const int CKK = self->in_channels * self->kernel * self->kernel;
  const size_t step = columns_per_sgemm (OC, CKK, pixels);
  for (size_t p = 0; p < pixels; p += step)
    cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, CKK,
                 (int) (pixels - p < step ? pixels - p : step), OC, 1.0f,
                 self->weight, CKK, dout + p, ldd, 0.0f, dcol + p, ldc);
}

static void
backward_task (void *arg, int ith, int nth)
{
  const ConvTask *task = arg;
  Conv2d *self = task->conv;
  const int OC = self->out_channels, C = self->in_channels, batch = task->batch;
  const int CKK = C * self->kernel * self->kernel;
  const int OHW = self->out_h * self->out_w;
  if (ith >= task->used)
    return;
  int lo, hi, chunk;
  float *col;
  thread_share (task, ith, &lo, &hi, &col, &chunk);
  float *grad = ith == 0 ? self->grad_weight
                         : task->partial + (size_t) (ith - 1) * OC * CKK;

  for (int n0 = lo; n0 < hi; n0 += chunk)
    {
      int nb = n0 + chunk <= hi ? chunk : hi - n0;
      const float *dout_chunk = task->dout + (size_t) n0 * OHW;
      const float *b = task->inp + (size_t) n0 * OHW;
      int ldb = batch * OHW;
      double t = engine_timer_start ();
      if (col)
        {
          im2col (self, col, task->inp, batch, n0, nb);
          b = col;
          ldb = nb * OHW;
        }
      if (ith == 0)
        engine_timer_stop (ENGINE_TIMER_IM2COL, t);
      t = engine_timer_start ();
      // dW (OC, CKK) (+)= dout_chunk (OC, nb*OHW; ld B*OHW) x col^T (nb*OHW, CKK)
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, OC, CKK, nb * OHW,
                   1.0f, dout_chunk, batch * OHW, b, ldb,
                   n0 == lo ? 0.0f : 1.0f, grad, CKK);
      if (!task->dinp)
        {
          if (ith == 0)
            engine_timer_stop (ENGINE_TIMER_SGEMM, t);
          continue;
        }
      if (!col)
        {
          // dinp[:, n0*OHW ...] (C, nb*HW; ld B*HW) = W^T (C, OC) x dout_chunk (OC, nb*HW)
          input_grad_sgemm (self, dout_chunk, batch * OHW,
                            task->dinp + (size_t) n0 * OHW, batch * OHW,
                            (size_t) nb * OHW);
          if (ith == 0)
            engine_timer_stop (ENGINE_TIMER_SGEMM, t);
          continue;
        }
      // dcol (CKK, nb*OHW) = W^T (CKK, OC) x dout_chunk (OC, nb*OHW); reuses col
      input_grad_sgemm (self, dout_chunk, batch * OHW, col, nb * OHW,
                        (size_t) nb * OHW);
      if (ith == 0)
        engine_timer_stop (ENGINE_TIMER_SGEMM, t);
      t = engine_timer_start ();
      col2im (self, task->dinp, col, batch, n0, nb);
      if (ith == 0)
        engine_timer_stop (ENGINE_TIMER_IM2COL, t);
    }
}

/* grad_weight += the other threads' partial sums, split by element */
static void
reduce_task (void *arg, int ith, int nth)
{
  const ConvTask *task = arg;
  const Conv2d *self = task->conv;
  const size_t n = (size_t) self->out_channels * self->in_channels
                   * self->kernel * self->kernel;
  size_t lo, hi;
  engine_split (n, ith, nth, &lo, &hi);
  for (int t = 1; t < task->used; t++)
    {
      const float *p = task->partial + (size_t) (t - 1) * n;
      for (size_t i = lo; i < hi; i++)
        self->grad_weight[i] += p[i];
    }
}

void
conv2d_backward (Conv2d *self, float *dinp, const float *dout, int batch,
                 Workspace *ws)
{
  ENGINE_CHECK (self->saved_inp != NULL);
  const bool wino_data = dinp && conv2d_uses_winograd (self, ws, false);
  const bool wino_weight = conv2d_uses_winograd (self, ws, true);
  const int C = self->in_channels, OC = self->out_channels;
  if (wino_data)
    winograd_conv3x3_backward_data (dinp, dout, self->weight, C, OC, batch,
                                    self->in_h, self->in_w, ws->col,
                                    ws->n_floats);
  if (wino_weight)
    {
      /* winograd_pays takes no layer for its weight gradient that it
       * refuses for the input gradient, so im2col is not needed here */
      ENGINE_CHECK (wino_data || !dinp);
      winograd_conv3x3_backward_weight (self->grad_weight, dout,
                                        self->saved_inp, C, OC, batch,
                                        self->in_h, self->in_w, ws->col,
                                        ws->n_floats);
      return;
    }
  /* im2col for the weight gradient, and for the input gradient unless
   * Winograd did it (the columns serve both) */
  ConvTask task = { .conv = self, .inp = self->saved_inp, .dout = dout,
                    .dinp = wino_data ? NULL : dinp, .batch = batch,
                    .ws = ws, .used = threads_used (self, ws, batch) };
  const size_t n_weights = (size_t) self->out_channels * self->in_channels
                           * self->kernel * self->kernel;
  if (task.used > 1)
    task.partial = partial_grad_buffer (n_weights * (task.used - 1));
  engine_parallel (backward_task, &task);
  if (task.used > 1)
    engine_parallel (reduce_task, &task);
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
