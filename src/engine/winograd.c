/* winograd.c: F(4x4, 3x3) convolutions (winograd.h), split across the
 * engine's threads.
 *
 * The matrices, for the interpolation points 0, 1, -1, 1/2, -2 and
 * infinity (the 1D algorithm multiplies a 3-tap filter polynomial by a
 * 4-term one through their values at these six points; a row of A^T holds
 * the points' powers, G evaluates the filter, B^T is the interpolation):
 *
 *         | 2 -3 -4  3  2  0 |        | 1/2      0     0 |
 *         | 0 -2  1  5  2  0 |        | 1/6    1/6   1/6 |
 *   B^T = | 0 -2  5 -1 -2  0 |    G = | 1/6   -1/6   1/6 |
 *         | 0  2  1 -2 -1  0 |        | 16/15 8/15  4/15 |
 *         | 0  1 -2 -1  2  0 |        | 1/30 -1/15  2/15 |
 *         | 0  2 -3 -4  3  2 |        | 0        0   1/2 |
 *
 *         | 1  1  1  1    1  0 |
 *   A^T = | 0  1 -1  1/2 -2  0 |
 *         | 0  1  1  1/4  4  0 |
 *         | 0  1 -1  1/8 -8  1 |
 *
 * The usual points 0, 1, -1, 2, -2 give smaller numbers but two to four
 * times the float32 error at the ResNets' shapes (tests/engine/
 * test-winograd.c measures it); of the sets tried (with +-1/2, +-2, +-3/2,
 * +-2/3 in the last two places) this one measured best. The rows of B^T are
 * scaled to small integers and G carries the factors.
 *
 * A 2D transform is the 1D one down the columns, then along the rows. Every
 * transform works on eight tiles (or eight filters) at once, one per lane of
 * an 8-float vector, so that it vectorises whatever the map size (a 4x4 map
 * has one tile per image); the 36 transformed values of eight tiles are
 * stored as 36 runs of 8 floats of the (36, C, tiles) layout the products
 * read.
 *
 * Tiles are numbered t = (n * tiles_y + ty) * tiles_x + tx over the batch.
 * Thread ith takes a contiguous range of them and does its chunks alone
 * (transform, 36 products, inverse transform) for the forward and the input
 * gradient, never waiting on the other threads, as the im2col path does
 * with images; a thread done with its own range then takes chunks of the
 * others' (engine_shares_take). The weight gradient is a sum over all
 * tiles: each thread sums its own tiles into its own copy of it where the
 * copies are small, otherwise the products are split by plane (see
 * "weight gradient" below).
 */
#include "winograd.h"

#include <cblas.h>
#include <stddef.h>
#include <string.h>

#include "blas-kernels.h"
#include "check.h"
#include "threads.h"
#include "vec4.h"

/* Compiled for AVX-512 and for AVX2 + FMA as well as for the baseline,
 * picked at load time: the project builds for generic x86-64. The vectors
 * stay 8 floats wide in the AVX-512 clone; what it gains is 32 vector
 * registers instead of 16, so that a group's transposed rows spill less
 * (docs/performance.md, "How it computes"). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define WINOGRAD_CLONES \
  __attribute__ ((target_clones ("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define WINOGRAD_CLONES
#endif

/* The vectors pass between always-inlined helpers only, never across a
 * call, so the baseline's warning about their ABI does not apply. */
#pragma GCC diagnostic ignored "-Wpsabi"

#define LANES 8
#define INLINE static inline __attribute__ ((always_inline))

typedef float F8 __attribute__ ((vector_size (32)));

INLINE F8
load8 (const float *p)
{
  F8 v;
  memcpy (&v, p, sizeof v);
  return v;
}

INLINE void
store8 (float *p, F8 v)
{
  memcpy (p, &v, sizeof v);
}

/* ---- the 1D transforms; x[k * s] is element k ---- */

/* r = B^T d, in place (6 -> 6). With p = d1 - d3 and q = d2 - d4:
 *   r0 = 2 (d0 - d2) - 3 p - 2 q     r3 = 2 p + q
 *   r1 = 3 (d2 + d3) - 2 (p + q)     r4 = p - 2 q
 *   r2 = 3 (d2 - d3) - 2 (p - q)     r5 = 2 (d5 - d3) + 2 p - 3 q */
INLINE void
bt_1d (F8 *x, int s)
{
  const F8 d0 = x[0], d1 = x[s], d2 = x[2 * s], d3 = x[3 * s], d4 = x[4 * s],
           d5 = x[5 * s];
  const F8 p = d1 - d3, q = d2 - d4;
  x[0] = 2.0f * (d0 - d2) - 3.0f * p - 2.0f * q;
  x[s] = 3.0f * (d2 + d3) - 2.0f * (p + q);
  x[2 * s] = 3.0f * (d2 - d3) - 2.0f * (p - q);
  x[3 * s] = 2.0f * p + q;
  x[4 * s] = p - 2.0f * q;
  x[5 * s] = 2.0f * (d5 - d3) + 2.0f * p - 3.0f * q;
}

/* u = G g (3 -> 6) */
INLINE void
g_1d (F8 *u, int us, const F8 *g, int gs)
{
  const F8 g0 = g[0], g1 = g[gs], g2 = g[2 * gs];
  const F8 s = g0 + g2;
  u[0] = g0 * 0.5f;
  u[us] = (s + g1) * (1.0f / 6);
  u[2 * us] = (s - g1) * (1.0f / 6);
  u[3 * us] = (16.0f * g0 + 8.0f * g1 + 4.0f * g2) * (1.0f / 15);
  u[4 * us] = (g0 - 2.0f * g1 + 4.0f * g2) * (1.0f / 30);
  u[5 * us] = g2 * 0.5f;
}

/* y = A^T m (6 -> 4) */
INLINE void
at_1d (F8 *y, int ys, const F8 *m, int ms)
{
  const F8 a = m[ms] + m[2 * ms], b = m[ms] - m[2 * ms];
  const F8 m3 = m[3 * ms], m4 = m[4 * ms];
  y[0] = m[0] + a + m3 + m4;
  y[ys] = b + 0.5f * m3 - 2.0f * m4;
  y[2 * ys] = a + 0.25f * m3 + 4.0f * m4;
  y[3 * ys] = b + 0.125f * m3 - 8.0f * m4 + m[5 * ms];
}

/* z = A y (4 -> 6), the transpose of at_1d */
INLINE void
a_1d (F8 *z, int zs, const F8 *y, int ys)
{
  const F8 y0 = y[0], y1 = y[ys], y2 = y[2 * ys], y3 = y[3 * ys];
  const F8 e = y0 + y2, o = y1 + y3;
  z[0] = y0;
  z[zs] = e + o;
  z[2 * zs] = e - o;
  z[3 * zs] = y0 + 0.5f * y1 + 0.25f * y2 + 0.125f * y3;
  z[4 * zs] = y0 - 2.0f * y1 + 4.0f * y2 - 8.0f * y3;
  z[5 * zs] = y3;
}

/* g = G^T u (6 -> 3), the transpose of g_1d */
INLINE void
gt_1d (F8 *g, int gs, const F8 *u, int us)
{
  const F8 u0 = u[0], u1 = u[us], u2 = u[2 * us], u3 = u[3 * us],
           u4 = u[4 * us], u5 = u[5 * us];
  const F8 p = (u1 + u2) * (1.0f / 6), q = (u1 - u2) * (1.0f / 6);
  g[0] = 0.5f * u0 + p + (16.0f / 15) * u3 + (1.0f / 30) * u4;
  g[gs] = q + (8.0f / 15) * u3 - (1.0f / 15) * u4;
  g[2 * gs] = p + (4.0f / 15) * u3 + (2.0f / 15) * u4 + 0.5f * u5;
}

/* ---- tiles ---- */

typedef struct
{
  int batch, H, W;
  int tiles_y, tiles_x;
  size_t per_image;
} Geom;

typedef struct
{
  int n, ty, tx;
} TilePos;

static Geom
geom (int batch, int H, int W)
{
  Geom g = { batch, H, W, (H + 3) / 4, (W + 3) / 4, 0 };
  g.per_image = (size_t) g.tiles_y * g.tiles_x;
  return g;
}

INLINE TilePos
tile_pos (const Geom *g, size_t t)
{
  size_t r = t % g->per_image;
  TilePos p = { (int) (t / g->per_image), (int) (r / g->tiles_x),
                (int) (r % g->tiles_x) };
  return p;
}

INLINE void
tile_next (const Geom *g, TilePos *p)
{
  if (++p->tx == g->tiles_x)
    {
      p->tx = 0;
      if (++p->ty == g->tiles_y)
        {
          p->ty = 0;
          p->n++;
        }
    }
}

size_t
winograd_tiles_per_image (int h, int w)
{
  return (size_t) ((h + 3) / 4) * ((w + 3) / 4);
}

/* A chunk's transformed tiles lie in 36 planes of `channels` rows of ld
 * floats, and a group of tiles reads or writes one line in each plane.
 * Planes a multiple of 4 KiB apart put all those lines in one set of the
 * L1 cache, which holds 8 to 12 of them: the lines of a group then evicted
 * each other before the next group used their other half. That was the
 * transformed filter U (36, OC, C) and its gradient dU of every layer of
 * 64 channels or more (OC x C a power of two), and their chunks wherever
 * those are 64 tiles: ResNet-18's 3x3 layers took 1.3 times as long as
 * with every plane an odd number of lines apart, the small ResNet's 1.2
 * (docs/performance.md, "after the padded planes"). So every plane, of
 * the chunks and of U and dU, is padded to an odd number of 64-byte
 * lines, and the 36 lines of a group fall in 36 sets. */
#define PLANE_PAD_FLOATS 32   /* the most that padding adds */

static size_t
plane_floats (int channels, size_t ld)
{
  size_t lines = ((size_t) channels * ld + 15) / 16;
  return 16 * (lines | 1);
}

/* U or dU: 36 planes of OC rows of C; a multiple of 16, so that the
 * chunks after it start on 64 bytes */
static size_t
filter_plane_floats (int C, int OC)
{
  return plane_floats (OC, C);
}

static size_t
filter_floats (int C, int OC)
{
  return WINOGRAD_PLANES * filter_plane_floats (C, OC);
}

/* one thread's chunk: V (36 planes of C rows) and M or Z (36 of OC) */
static size_t
chunk_floats (int C, int OC, size_t ld)
{
  return WINOGRAD_PLANES * (plane_floats (C, ld) + plane_floats (OC, ld));
}

size_t
winograd_workspace_floats (int C, int OC, size_t tiles, int nth)
{
  return filter_floats (C, OC)
         + (size_t) nth * WINOGRAD_PLANES
           * ((C + OC) * tiles + 2 * PLANE_PAD_FLOATS);
}

/* tiles per chunk that `floats` per thread hold, planes padded */
static size_t
tiles_in (size_t floats, int C, int OC)
{
  const size_t pad = (size_t) WINOGRAD_PLANES * 2 * PLANE_PAD_FLOATS;
  if (floats <= pad)
    return 0;
  return (floats - pad) / ((size_t) WINOGRAD_PLANES * (C + OC));
}

size_t
winograd_chunk_tiles (size_t ws_floats, int C, int OC, int nth,
                      size_t needed)
{
  size_t fixed = filter_floats (C, OC);
  if (ws_floats <= fixed)
    return 0;
  size_t tiles = tiles_in ((ws_floats - fixed) / nth, C, OC);
  return tiles < needed ? tiles : needed;
}

/* ---- the transforms of a chunk ---- */

typedef int I8 __attribute__ ((vector_size (32)));

/* r[l] row l of an 8x8 block -> r[j] column j (lane l holding old row l's
 * element j): three rounds of shuffles, as the unpack / shuffle / 128-bit
 * permute sequence of AVX. __builtin_shufflevector (constant lanes) is
 * both GCC's (12 and later) and clang's, which the fuzz build uses. */
INLINE void
transpose8 (F8 r[8])
{
  F8 t[8], u[8];
  for (int k = 0; k < 8; k += 2)
    {
      t[k] = __builtin_shufflevector (r[k], r[k + 1], 0, 8, 1, 9, 4, 12, 5, 13);
      t[k + 1] = __builtin_shufflevector (r[k], r[k + 1],
                                          2, 10, 3, 11, 6, 14, 7, 15);
    }
  for (int k = 0; k < 8; k += 4)
    {
      /* columns 0, 4; 1, 5; 2, 6; 3, 7 */
      u[k] = __builtin_shufflevector (t[k], t[k + 2], 0, 1, 8, 9, 4, 5, 12, 13);
      u[k + 1] = __builtin_shufflevector (t[k], t[k + 2],
                                          2, 3, 10, 11, 6, 7, 14, 15);
      u[k + 2] = __builtin_shufflevector (t[k + 1], t[k + 3],
                                          0, 1, 8, 9, 4, 5, 12, 13);
      u[k + 3] = __builtin_shufflevector (t[k + 1], t[k + 3],
                                          2, 3, 10, 11, 6, 7, 14, 15);
    }
  for (int k = 0; k < 4; k++)
    {
      r[k] = __builtin_shufflevector (u[k], u[k + 4], 0, 1, 2, 3, 8, 9, 10, 11);
      r[k + 4] = __builtin_shufflevector (u[k], u[k + 4],
                                          4, 5, 6, 7, 12, 13, 14, 15);
    }
}

/* Row i of the rows_n x cols patch (cols <= 8) of an H x W plane whose
 * top-left corner is (y0, x0) goes to rows[i] (8 floats, those past cols
 * zero), zero outside the plane. The plane starts `at` floats into a tensor
 * x of n floats: a row is read as 8 floats at once, its columns outside the
 * map then masked, whenever those 8 floats lie inside the tensor (always,
 * but at its two ends). Reading only the floats needed would put a store
 * of 16 or 24 bytes before each 32-byte load, which the processor cannot
 * forward and which measured slower than gathering float by float. */
INLINE void
load_patch (F8 *rows, const float *x, size_t n, size_t at, int H, int W,
            int y0, int x0, int rows_n, int cols)
{
  const F8 zero = { 0 };
  const I8 index = { 0, 1, 2, 3, 4, 5, 6, 7 };
  const int j_lo = x0 < 0 ? -x0 : 0;
  const int j_hi = W - x0 < cols ? W - x0 : cols;
  const I8 keep = (index >= j_lo) & (index < j_hi);
  for (int i = 0; i < rows_n; i++)
    {
      const int iy = y0 + i;
      if (iy < 0 || iy >= H || j_lo >= j_hi)
        {
          rows[i] = zero;
          continue;
        }
      /* the row's first float inside the map, and where the 8 would start */
      const size_t first = at + (size_t) iy * W + (x0 + j_lo);
      if (first >= (size_t) j_lo && first - j_lo + LANES <= n)
        rows[i] = (F8) ((I8) load8 (x + first - j_lo) & keep);
      else
        {
          F8 v = zero;
          for (int j = j_lo; j < j_hi; j++)
            v[j] = x[first + (j - j_lo)];
          rows[i] = v;
        }
    }
}

/* The transformed values of a chunk lie in 36 planes (one per position of
 * the 6x6 tile), far apart, and a group of eight tiles reads or writes one
 * vector in each: 36 streams, more than the processor's prefetchers follow,
 * so that each vector's cache line came from L2 only when it was needed.
 * Asking for the line after it (the next two groups') while this group is
 * worked on made the output transform about a fifth faster and the input
 * transform a tenth (layer 1 of the small ResNet, one thread). */
INLINE void
prefetch_next_group (const float *at, bool for_writing)
{
  if (for_writing)
    __builtin_prefetch (at + 2 * LANES, 1, 3);
  else
    __builtin_prefetch (at + 2 * LANES, 0, 3);
}

/* n values of one lane-vector to dst, for a last group of fewer than 8 */
INLINE void
store_lanes (float *dst, F8 v, int n)
{
  float tmp[LANES];
  store8 (n == LANES ? dst : tmp, v);
  if (n < LANES)
    memcpy (dst, tmp, sizeof (float) * n);
}

INLINE F8
load_lanes (const float *src, int n)
{
  if (n == LANES)
    return load8 (src);
  float tmp[LANES] = { 0 };
  memcpy (tmp, src, sizeof (float) * n);
  return load8 (tmp);
}

/* Copies the patches of up to eight consecutive tiles (lanes), rows_n
 * rows of 8 floats each, starting `back` rows and columns before the
 * tile's outputs, of channel ch of x (channels, B, H, W), into a block of
 * their own: lane l's row i at group[(l * WINOGRAD_IN_TILE + i) * LANES],
 * zero outside the map. The transforms then read it as they read the
 * padded blocks below (group_offsets, PW = LANES). Advances pos. */
INLINE void
gather_group (float *group, const float *x, int channels, int ch,
              const Geom *g, TilePos *pos, int lanes, int rows_n, int cols,
              int back)
{
  const size_t plane = (size_t) g->H * g->W;
  const size_t n = (size_t) channels * g->batch * plane;
  for (int l = 0; l < lanes; l++, tile_next (g, pos))
    {
      F8 rows[WINOGRAD_IN_TILE];
      load_patch (rows, x, n, ((size_t) ch * g->batch + pos->n) * plane,
                  g->H, g->W, 4 * pos->ty - back, 4 * pos->tx - back, rows_n,
                  cols);
      for (int i = 0; i < rows_n; i++)
        store8 (group + ((size_t) l * WINOGRAD_IN_TILE + i) * LANES, rows[i]);
    }
}

/* ---- the same patches from zero-padded copies of the planes ----
 *
 * gather_group checks every row of every lane's patch against the map's
 * edges and steps the tile position lane by lane, and the transforms
 * used to hold all 36 vectors of a group at once, more than the 16
 * registers:
 * on the small ResNet's 28x28 layers the transforms took five times as
 * long as the products. Where the blocks fit (every layer of the ResNets
 * measured here), the planes a chunk's tiles lie in are instead copied,
 * one channel at a time, into blocks with a border of zeros: every patch
 * row is then 8 floats inside a block, read with no test, at an offset
 * that depends only on the tile, computed once per chunk for all channels.
 * The blocks of a chunk are a few kilobytes (30 x 32 floats a 28x28 plane)
 * and stay in L1; and the transforms go a patch row at a time (below).
 * Together they made the small ResNet's 3x3 layers 8-13 % faster and
 * ResNet-18's up to 8 % (docs/performance.md, "Winograd"). */

/* A tile's patch (its outputs' rows and columns from `back` before them,
 * 6 or 4 rows of 8 floats) in a block of PH x PW floats whose (back, back)
 * is the plane's (0, 0): rows 4 ty .. 4 ty + 5 and columns 4 tx .. 4 tx + 7
 * of the block, for every tile. */
typedef struct
{
  int PH, PW;
  int n0, images;     /* the chunk's planes: images [n0, n0 + images) */
} Padding;

#define PAD_MAX_FLOATS 16384  /* 64 KiB of blocks, on the stack */

static Padding
padding (const Geom *g, size_t t0, int tb)
{
  Padding pd = { 4 * g->tiles_y + 2, 4 * g->tiles_x + 4, 0, 0 };
  pd.n0 = (int) (t0 / g->per_image);
  pd.images = (int) ((t0 + tb - 1) / g->per_image) - pd.n0 + 1;
  return pd;
}

/* Whether the chunk's blocks fit in PAD_MAX_FLOATS. A block holds at least
 * 16 floats a tile (PH x PW >= 4 tiles_y x 4 tiles_x), so a chunk that fits
 * has at most PAD_MAX_FLOATS / 16 tiles. */
static bool
padding_fits (const Padding *pd)
{
  return (size_t) pd->images * pd->PH * pd->PW <= PAD_MAX_FLOATS;
}

/* off[k] = where tile t0 + k's patch starts in the blocks */
static void
padded_offsets (size_t *off, const Padding *pd, const Geom *g, size_t t0,
                int tb)
{
  TilePos pos = tile_pos (g, t0);
  for (int k = 0; k < tb; k++, tile_next (g, &pos))
    off[k] = ((size_t) (pos.n - pd->n0) * pd->PH + 4 * pos.ty) * pd->PW
             + 4 * pos.tx;
}

/* Channel ch of x (channels, B, H, W), images [n0, n0 + images) -> the
 * insides of the blocks, whose borders are zero already (zeroed once a
 * chunk: they are the same for every channel). A row is copied 8 floats at
 * a time, each 8 masked to the row's end: in the last, the masked lanes
 * write zeros past it, into its border or the start of the next row, which
 * is copied after it (PW >= W + 4, and every block ends with a border row).
 * Read float by float only where 8 would run past the end of x. The mask
 * on every 8, all lanes kept but in the last, is also what keeps the
 * compiler from turning the row into a call to memcpy of run-time length:
 * with that call, the copies of the small ResNet's 28x28 layer took 0.61
 * ms of its input transform's 1.56 (batch 128, one thread), without 0.45. */
INLINE void
pad_planes (float *blocks, const Padding *pd, const float *x, int ch,
            int channels, const Geom *g, int back)
{
  const size_t plane = (size_t) g->H * g->W;
  const size_t n_x = (size_t) g->batch * plane * (ch + 1);  /* x's floats
                                                   up to this channel's end */
  /* The same planes of the next channel are asked for while these are
   * copied: they are batch planes on, a stream the prefetchers do not
   * guess, and the copies otherwise waited on the memory for each new
   * channel (perf put a third of the input transform's samples on these
   * loads; with the prefetch, the small ResNet's inference was 1.03-1.07
   * times as fast, docs/performance.md, "prefetching the next channel"). */
  const size_t next = ch + 1 < channels ? (size_t) g->batch * plane : 0;
  const I8 index = { 0, 1, 2, 3, 4, 5, 6, 7 };
  for (int n = 0; n < pd->images; n++)
    {
      const size_t at = ((size_t) ch * g->batch + pd->n0 + n) * plane;
      float *block = blocks + (size_t) n * pd->PH * pd->PW
                     + (size_t) back * pd->PW + back;
      for (int y = 0; y < g->H; y++)
        {
          const size_t src = at + (size_t) y * g->W;
          float *dst = block + (size_t) y * pd->PW;
          for (int k = 0; k < g->W; k += LANES)
            {
              const I8 keep = index < g->W - k;
              if (next)
                __builtin_prefetch (x + src + k + next, 0, 3);
              if (src + k + LANES <= n_x)
                store8 (dst + k, (F8) ((I8) load8 (x + src + k) & keep));
              else
                for (int j = k; j < g->W; j++)
                  dst[j] = x[src + j];
            }
        }
    }
}

/* The transforms of a group of up to eight tiles whose patches lie in
 * blocks (padded planes, or a group's own block from gather_group) at
 * off[0..lanes), PW floats a row. They work a patch row at a time, so that
 * what is live stays in the 16 vector registers: the row of eight lanes'
 * patches is loaded, transposed and transformed along itself, then each
 * column of the row results is transformed and stored. */

/* Row a of the patches of the group's lanes, transposed: q[j] holds
 * element (a, j) of every lane's patch (zero in lanes past `lanes`). */
INLINE void
load_row_transposed (F8 q[LANES], const float *blocks, const size_t *off,
                     int PW, int a, int lanes)
{
  const F8 zero = { 0 };
  for (int l = 0; l < LANES; l++)
    q[l] = l < lanes ? load8 (blocks + off[l] + (size_t) a * PW) : zero;
  transpose8 (q);
}

/* Column j of a group's 6x6 transformed tiles, v[i] = its position
 * (i, j), into out (36 planes ps floats apart, rows of ld) at row ch,
 * columns [col, col + lanes); then the next group's lines of those planes
 * are asked for. */
INLINE void
store_column (float *out, size_t ps, size_t ld, int ch, int col, int j,
              const F8 v[6], int lanes)
{
  float *at = out + (size_t) ch * ld + col;
  for (int i = 0; i < 6; i++)
    store_lanes (at + (size_t) (6 * i + j) * ps, v[i], lanes);
  if (col % (2 * LANES) == 0)
    for (int i = 0; i < 6; i++)
      prefetch_next_group (at + (size_t) (6 * i + j) * ps, true);
}

/* the 6x6 patches d -> V (36 planes ps apart, C rows of ld), channel c,
 * columns [col, col + lanes): (B^T d B)[p] */
INLINE void
input_transform_group (float *V, size_t ps, size_t ld, int c, int col,
                       int lanes, const float *blocks, const size_t *off,
                       int PW)
{
  F8 r[6][6];   /* r[a][j]: (d B)[a][j], row a of the patch times B */
  for (int a = 0; a < 6; a++)
    {
      F8 q[LANES];
      load_row_transposed (q, blocks, off, PW, a, lanes);
      bt_1d (q, 1);
      for (int j = 0; j < 6; j++)
        r[a][j] = q[j];
    }
  for (int j = 0; j < 6; j++)
    {
      F8 v[6];
      for (int a = 0; a < 6; a++)
        v[a] = r[a][j];
      bt_1d (v, 1);       /* v[i]: (B^T d B)[i][j] */
      store_column (V, ps, ld, c, col, j, v, lanes);
    }
}

/* the 4x4 output-gradient tiles e -> Z (36 planes ps apart, OC rows of
 * ld), channel o, columns [col, col + lanes): (A e A^T)[p] */
INLINE void
output_grad_transform_group (float *Z, size_t ps, size_t ld, int o, int col,
                             int lanes, const float *blocks,
                             const size_t *off, int PW)
{
  F8 u[4][6];   /* u[a][k]: (e A^T)[a][k] */
  for (int a = 0; a < 4; a++)
    {
      F8 q[LANES];
      load_row_transposed (q, blocks, off, PW, a, lanes);
      a_1d (u[a], 1, q, 1);
    }
  for (int k = 0; k < 6; k++)
    {
      F8 e[4], z[6];
      for (int a = 0; a < 4; a++)
        e[a] = u[a][k];
      a_1d (z, 1, e, 1);  /* z[i]: (A e A^T)[i][k] */
      store_column (Z, ps, ld, o, col, k, z, lanes);
    }
}

/* Which patches a padded transform reads: the input's 6x6 from one row
 * and column before each tile (input_transform), or the output
 * gradient's 4x4 tiles themselves (output_grad_transform). */
typedef enum
{
  PATCH_INPUT,
  PATCH_OUTPUT_GRAD,
} PatchKind;

/* input_transform (x -> V) or output_grad_transform (dy -> Z) for tiles
 * [t0, t0 + tb) of `channels` channels, from padded blocks where the
 * span's fit, else a group at a time from gather_group. Always inlined
 * into transform_tiles, so that kind is a constant there. */
INLINE void
transform_span (float *out, size_t ld, const float *src, int channels,
                const Geom *g, size_t t0, int tb, PatchKind kind)
{
  const int back = kind == PATCH_INPUT ? 1 : 0;
  const int rows = kind == PATCH_INPUT ? WINOGRAD_IN_TILE : WINOGRAD_OUT_TILE;
  const Padding pd = padding (g, t0, tb);
  const bool padded = padding_fits (&pd);
  float blocks[PAD_MAX_FLOATS] __attribute__ ((aligned (64)));
  /* tb <= PAD_MAX_FLOATS / 16 where padded */
  size_t off[padded ? tb + LANES : LANES];
  if (padded)
    {
      padded_offsets (off, &pd, g, t0, tb);
      memset (blocks, 0, sizeof (float) * pd.images * pd.PH * pd.PW);
    }
  else
    for (int l = 0; l < LANES; l++)
      off[l] = (size_t) l * WINOGRAD_IN_TILE * LANES;
  const int PW = padded ? pd.PW : LANES;
  const size_t ps = plane_floats (channels, ld);
  for (int ch = 0; ch < channels; ch++)
    {
      TilePos pos = tile_pos (g, t0);
      if (padded)
        pad_planes (blocks, &pd, src, ch, channels, g, back);
      for (int col = 0; col < tb; col += LANES)
        {
          const int lanes = tb - col < LANES ? tb - col : LANES;
          if (!padded)
            gather_group (blocks, src, channels, ch, g, &pos, lanes, rows,
                          kind == PATCH_INPUT ? 6 : 4, back);
          const size_t *at = padded ? off + col : off;
          if (kind == PATCH_INPUT)
            input_transform_group (out, ps, ld, ch, col, lanes, blocks, at,
                                   PW);
          else
            output_grad_transform_group (out, ps, ld, ch, col, lanes, blocks,
                                         at, PW);
        }
    }
}

/* The most tiles a span may have so that its blocks fit, whatever tile it
 * starts at: it then lies in at most max_images images (one more than
 * whole images' worth of tiles). A multiple of LANES, so that the spans
 * of a chunk keep its groups; 0 where two images' blocks do not fit. */
static int
padded_span_tiles (const Geom *g)
{
  const Padding pd = padding (g, 0, 1);
  const size_t max_images = PAD_MAX_FLOATS / ((size_t) pd.PH * pd.PW);
  if (max_images < 2)
    return 0;
  size_t tiles = (max_images - 1) * g->per_image;
  if (tiles > PAD_MAX_FLOATS / 16)
    tiles = PAD_MAX_FLOATS / 16;
  return (int) (tiles / LANES * LANES);
}

/* transform_span over a chunk of tiles, in spans whose padded blocks fit:
 * the weight gradient's chunks (over a thousand tiles on a 28x28 map) are
 * larger than the forward's, and took gather_group's slower path whole
 * (the small ResNet's first weight gradient, bench-conv, one thread:
 * 6.4 to 7.4 ms with spans, 6.8 to 10.8 without). */
INLINE void
transform_tiles (float *out, size_t ld, const float *src, int channels,
                 const Geom *g, size_t t0, int tb, PatchKind kind)
{
  const int span = padded_span_tiles (g);
  if (span == 0 || tb <= span)
    {
      transform_span (out, ld, src, channels, g, t0, tb, kind);
      return;
    }
  for (int s = 0; s < tb; s += span)
    transform_span (out + s, ld, src, channels, g, t0 + (size_t) s,
                    tb - s < span ? tb - s : span, kind);
}

/* ---- the three transforms of tiles ---- */

/* x (C, B, H, W), tiles [t0, t0+tb) -> V (36, C, ld), columns [0, tb):
 * V[p][c][t - t0] = (B^T d B)[p] for the 6x6 patch d of tile t in channel c,
 * which starts one row and one column before the tile's outputs. */
WINOGRAD_CLONES static void
input_transform (float *V, size_t ld, const float *x, int C, const Geom *g,
                 size_t t0, int tb)
{
  transform_tiles (V, ld, x, C, g, t0, tb, PATCH_INPUT);
}

/* dy (OC, B, H, W), tiles [t0, t0+tb) -> Z (36, OC, ld), columns [0, tb):
 * Z[p][o][t - t0] = (A e A^T)[p] for the 4x4 output tile e of tile t in
 * channel o (zero where it sticks out of the map). */
WINOGRAD_CLONES static void
output_grad_transform (float *Z, size_t ld, const float *dy, int OC,
                       const Geom *g, size_t t0, int tb)
{
  transform_tiles (Z, ld, dy, OC, g, t0, tb, PATCH_OUTPUT_GRAD);
}

/* c[j] (j < 4) column j of a row of eight lanes' 4x4 tiles -> q[l] holding
 * lane l's row in its low half and lane l + 4's in its high half (l < 4):
 * two rounds of shuffles, eight in all, where a whole transpose8 of the
 * row and four zero vectors took 24. */
INLINE void
interleave4 (F8 q[4], const F8 c[4])
{
  const F8 lo01 = __builtin_shufflevector (c[0], c[1],
                                           0, 8, 1, 9, 4, 12, 5, 13);
  const F8 lo23 = __builtin_shufflevector (c[2], c[3],
                                           0, 8, 1, 9, 4, 12, 5, 13);
  const F8 hi01 = __builtin_shufflevector (c[0], c[1],
                                           2, 10, 3, 11, 6, 14, 7, 15);
  const F8 hi23 = __builtin_shufflevector (c[2], c[3],
                                           2, 10, 3, 11, 6, 14, 7, 15);
  q[0] = __builtin_shufflevector (lo01, lo23, 0, 1, 8, 9, 4, 5, 12, 13);
  q[1] = __builtin_shufflevector (lo01, lo23, 2, 3, 10, 11, 6, 7, 14, 15);
  q[2] = __builtin_shufflevector (hi01, hi23, 0, 1, 8, 9, 4, 5, 12, 13);
  q[3] = __builtin_shufflevector (hi01, hi23, 2, 3, 10, 11, 6, 7, 14, 15);
}

/* lane l's row i, from the rows r[i] of interleave4 */
INLINE const float *
row (const F8 r[4][4], int i, int l)
{
  return (const float *) &r[i][l % 4] + 4 * (l / 4);
}

/* The map the output transform applies to what it writes: channel o's
 * values times scale[o] plus shift[o], plus the same place of residual
 * where it is not NULL, then max (0, .) where relu; none where scale is
 * NULL. An evaluation-mode batch norm after the convolution (and the ReLU
 * after it, or a residual block's shortcut and ReLU) ride in its output
 * pass this way. */
typedef struct
{
  const float *scale, *shift;
  const float *residual;  /* (O, B, H, W), as y */
  bool relu;
} Epilogue;

/* dst[0..4) = src[0..4) + residual[0..4), then max (0, .) where relu */
INLINE void
add_residual_row (float *dst, const float *src, const float *residual,
                  bool relu)
{
  Floats4 v = load_floats4 (src) + load_floats4 (residual);
  store_floats4 (dst, relu ? relu4 (v) : v);
}

/* M (36, O, ld), columns [0, tb) -> y (O, B, H, W), tiles [t0, t0+tb):
 * the 4x4 outputs A^T m A of each tile, the part inside the map, through
 * the epilogue ep. */
WINOGRAD_CLONES static void
output_transform (float *y, const float *M, size_t ld, int O, const Geom *g,
                  size_t t0, int tb, const Epilogue *ep)
{
  const size_t plane = (size_t) g->H * g->W;
  const size_t ps = plane_floats (O, ld);
  const F8 zero = { 0 };
  /* The part of a channel's y the tiles write, [span_lo, span_hi): the
   * next channel's part (and its residual's) is asked for while this one
   * is written, lines_per_group lines a group, for the reason pad_planes
   * asks for the next channel's input. */
  const TilePos first = tile_pos (g, t0), last = tile_pos (g, t0 + tb - 1);
  const size_t span_lo = (size_t) first.n * plane
                         + (size_t) 4 * first.ty * g->W;
  const int last_row = 4 * last.ty + 4 < g->H ? 4 * last.ty + 4 : g->H;
  const size_t span_hi = (size_t) last.n * plane + (size_t) last_row * g->W;
  const size_t groups = ((size_t) tb + LANES - 1) / LANES;
  const size_t lines_per_group = ((span_hi - span_lo) / 16 + groups) / groups;
  for (int o = 0; o < O; o++)
    {
      TilePos pos = tile_pos (g, t0);
      const size_t next = ((size_t) (o + 1) * g->batch) * plane + span_lo;
      const bool ahead = o + 1 < O;
      for (int col = 0; col < tb; col += LANES)
        {
          const int lanes = tb - col < LANES ? tb - col : LANES;
          if (ahead)
            for (size_t k = 0, at = (size_t) col / LANES * lines_per_group * 16;
                 k < lines_per_group && at < span_hi - span_lo; k++, at += 16)
              {
                __builtin_prefetch (y + next + at, 1, 3);
                if (ep->residual)
                  __builtin_prefetch (ep->residual + next + at, 0, 3);
              }
          F8 m[WINOGRAD_PLANES], t[24], out[16];
          for (int k = 0; k < WINOGRAD_PLANES; k++)
            m[k] = load_lanes (M + k * ps + (size_t) o * ld + col, lanes);
          if (col % (2 * LANES) == 0)
            for (int k = 0; k < WINOGRAD_PLANES; k++)
              prefetch_next_group (M + k * ps + (size_t) o * ld + col, false);
          for (int j = 0; j < 6; j++)
            at_1d (t + j, 6, m + j, 6);           /* t (4x6) = A^T m */
          for (int i = 0; i < 4; i++)
            at_1d (out + 4 * i, 1, t + 6 * i, 1); /* out (4x4) = t A */
          if (ep->scale)
            {
              const F8 scale = zero + ep->scale[o], shift = zero + ep->shift[o];
              for (int k = 0; k < 16; k++)
                {
                  out[k] = out[k] * scale + shift;
                  /* as batch norm's ReLU: 0 for NaN too; after the
                   * residual's sum where there is one (below) */
                  if (ep->relu && !ep->residual)
                    out[k] = (F8) ((I8) out[k] & (out[k] > zero));
                }
            }
          /* row i of lane l's tile: the 4 floats at row (r, i, l) */
          F8 r[4][4];
          for (int i = 0; i < 4; i++)
            interleave4 (r[i], out + 4 * i);
          for (int l = 0; l < lanes; l++, tile_next (g, &pos))
            {
              const int oy = 4 * pos.ty, ox = 4 * pos.tx;
              const int rows = g->H - oy < 4 ? g->H - oy : 4;
              const int cols = g->W - ox < 4 ? g->W - ox : 4;
              const size_t at = ((size_t) o * g->batch + pos.n) * plane
                                + (size_t) oy * g->W + ox;
              float *dst = y + at;
              const float *res = ep->residual ? ep->residual + at : NULL;
              /* a whole row of 4 as one constant-size copy, one move (a
               * copy of a run-time size is a library call, four a lane) */
              if (cols == 4 && res)
                for (int i = 0; i < rows; i++)
                  add_residual_row (dst + (size_t) i * g->W,
                                    row (r, i, l),
                                    res + (size_t) i * g->W, ep->relu);
              else if (cols == 4)
                for (int i = 0; i < rows; i++)
                  memcpy (dst + (size_t) i * g->W, row (r, i, l),
                          4 * sizeof (float));
              else
                for (int i = 0; i < rows; i++)
                  for (int j = 0; j < cols; j++)
                    {
                      float v = row (r, i, l)[j];
                      if (res)
                        {
                          v += res[(size_t) i * g->W + j];
                          v = ep->relu && !(v > 0.0f) ? 0.0f : v;
                        }
                      dst[(size_t) i * g->W + j] = v;
                    }
            }
        }
    }
}

/* ---- filters ---- */

/* Filter (o, i) of a convolution with n_out outputs and n_in inputs, tap
 * k = 3 ky + kx, is w[o * so + i * si + k * sk]: the forward reads the
 * weight (OC, C, 3, 3) as it is; the input gradient reads it with outputs
 * and inputs swapped and the taps reversed (rotated by 180 degrees). */
typedef struct
{
  const float *w;
  ptrdiff_t so, si, sk;
  int n_out, n_in;
} FilterView;

/* U (36, n_out, n_in), rows [o_lo, o_hi): U[p][o][i] = (G g G^T)[p] */
WINOGRAD_CLONES static void
filter_transform (float *U, const FilterView *f, int o_lo, int o_hi)
{
  const size_t ups = filter_plane_floats (f->n_in, f->n_out);
  float d[9][LANES] __attribute__ ((aligned (32)));
  for (int o = o_lo; o < o_hi; o++)
    for (int i0 = 0; i0 < f->n_in; i0 += LANES)
      {
        const int lanes = f->n_in - i0 < LANES ? f->n_in - i0 : LANES;
        for (int l = 0; l < LANES; l++)
          for (int k = 0; k < 9; k++)
            d[k][l] = l < lanes ? f->w[o * f->so + (i0 + l) * f->si + k * f->sk]
                                : 0.0f;
        F8 gv[9], t[18], u[WINOGRAD_PLANES];
        for (int k = 0; k < 9; k++)
          gv[k] = load8 (d[k]);
        for (int j = 0; j < 3; j++)
          g_1d (t + j, 3, gv + j, 3);         /* t (6x3) = G g */
        for (int i = 0; i < 6; i++)
          g_1d (u + 6 * i, 1, t + 3 * i, 1);  /* u (6x6) = t G^T */
        for (int k = 0; k < WINOGRAD_PLANES; k++)
          store_lanes (U + k * ups + (size_t) o * f->n_in + i0, u[k], lanes);
      }
}

/* dU (36, OC, C) plus n_copies more of it at copies (one after the other,
 * `stride` floats apart), rows [o_lo, o_hi) -> grad_weight (OC, C, 3, 3):
 * G^T (sum of the copies) G for each filter */
WINOGRAD_CLONES static void
filter_grad_transform (float *grad_weight, const float *dU,
                       const float *copies, int n_copies, size_t stride,
                       int OC, int C, int o_lo, int o_hi)
{
  const size_t ups = filter_plane_floats (C, OC);
  float r[9][LANES] __attribute__ ((aligned (32)));
  for (int o = o_lo; o < o_hi; o++)
    for (int c0 = 0; c0 < C; c0 += LANES)
      {
        const int lanes = C - c0 < LANES ? C - c0 : LANES;
        F8 u[WINOGRAD_PLANES], t[18], gv[9];
        for (int k = 0; k < WINOGRAD_PLANES; k++)
          {
            const size_t at = k * ups + (size_t) o * C + c0;
            u[k] = load_lanes (dU + at, lanes);
            for (int j = 0; j < n_copies; j++)
              u[k] += load_lanes (copies + j * stride + at, lanes);
          }
        for (int j = 0; j < 6; j++)
          gt_1d (t + j, 6, u + j, 6);         /* t (3x6) = G^T u */
        for (int i = 0; i < 3; i++)
          gt_1d (gv + 3 * i, 1, t + 6 * i, 1); /* g (3x3) = t G */
        for (int k = 0; k < 9; k++)
          store8 (r[k], gv[k]);
        for (int l = 0; l < lanes; l++)
          for (int k = 0; k < 9; k++)
            grad_weight[((size_t) o * C + c0 + l) * 9 + k] = r[k][l];
      }
}

typedef struct
{
  float *U;
  FilterView view;
} FilterTask;

static void
filter_task (void *arg, int ith, int nth)
{
  FilterTask *task = arg;
  size_t lo, hi;
  engine_split (task->view.n_out, ith, nth, &lo, &hi);
  filter_transform (task->U, &task->view, (int) lo, (int) hi);
}

/* ---- forward and input gradient: one pass, two filters ---- */

/* y (Cout, B, H, W) = conv3x3 (x (Cin, B, H, W)) with the transformed
 * filter U (36, Cout, Cin) */
typedef struct
{
  float *y;
  const float *x;
  const float *U;
  int Cin, Cout;
  Geom g;
  float *chunks;      /* per thread: V (36, Cin, ld), M (36, Cout, ld) */
  size_t ld;
  Epilogue ep;
  EngineShares *tiles;  /* the batch's tiles, taken ld at a time */
} PassTask;

static void
pass_task (void *arg, int ith, int nth)
{
  const PassTask *task = arg;
  const int Cin = task->Cin, Cout = task->Cout;
  const size_t ld = task->ld;
  const size_t ps_in = plane_floats (Cin, ld), ps_out = plane_floats (Cout, ld);
  const size_t ps_u = filter_plane_floats (Cin, Cout);
  float *V = task->chunks + ith * chunk_floats (Cin, Cout, ld);
  float *M = V + WINOGRAD_PLANES * ps_in;
  size_t t0, t_end;
  while (engine_shares_take (task->tiles, ith, ld, &t0, &t_end))
    {
      const int tb = (int) (t_end - t0);
      double t = engine_timer_start ();
      input_transform (V, ld, task->x, Cin, &task->g, t0, tb);
      if (ith == 0)
        engine_timer_stop (ENGINE_TIMER_WINOGRAD, t);
      t = engine_timer_start ();
      for (int p = 0; p < WINOGRAD_PLANES; p++)
        // M_p (Cout, tb) = U_p (Cout, Cin) x V_p (Cin, tb)
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, Cout, tb, Cin,
                     1.0f, task->U + p * ps_u, Cin,
                     V + p * ps_in, (int) ld, 0.0f, M + p * ps_out, (int) ld);
      if (ith == 0)
        engine_timer_stop (ENGINE_TIMER_SGEMM, t);
      t = engine_timer_start ();
      output_transform (task->y, M, ld, Cout, &task->g, t0, tb, &task->ep);
      if (ith == 0)
        engine_timer_stop (ENGINE_TIMER_WINOGRAD, t);
    }
}

/* The tiles a thread takes at a time in a pass (and so the most its chunk
 * holds, engine_shares_run): with more than one thread, an eighth of a
 * thread's share, but at least PASS_RUN_MIN_TILES. Whole shares were one
 * run each, which left the faster core waiting at the end of every
 * layer: with eighths, the small ResNet's inference at two threads
 * was 1.04-1.10 times as fast, its training and ResNet-18's within the
 * rounds' spread (docs/performance.md, "runs of an eighth"). The floor
 * keeps the products wide: runs of 8 tiles on ResNet-18's 4x4 layers made
 * its training step 1.1-1.25 times slower. */
#define PASS_RUNS_PER_SHARE 8
#define PASS_RUN_MIN_TILES 64

/* A run's 36 products take OC x run x C multiply-adds each. Where that
 * passes the size OpenBLAS multiplies in place, without packing the
 * operands and clearing the output first (blas_kernels_unpacked_max_macs:
 * a million on AVX-512 cores), the run is cut to fit, in whole groups of
 * LANES tiles, if that keeps at least PASS_RUN_MIN_UNPACKED of them. The
 * 128-channel layers, whose runs of 64 tiles (the small ResNet's) and 128
 * (ResNet-18's) made 1.05 and 2.1 million, run 56, their forward and
 * input gradient 1.1-1.35 times as fast (docs/performance.md, "Winograd's
 * runs within the unpacked products"). A build with
 * -DPASS_RUN_MIN_UNPACKED=100000 never cuts: the comparison measured. */
#ifndef PASS_RUN_MIN_UNPACKED
#define PASS_RUN_MIN_UNPACKED 48
#endif

static size_t
unpacked_run (size_t run, int C, int OC)
{
  const double per_tile = (double) C * OC;
  if ((double) run * per_tile <= blas_kernels_unpacked_max_macs ())
    return run;
  const size_t fit = blas_kernels_unpacked_units (per_tile, LANES,
                                                  PASS_RUN_MIN_UNPACKED);
  return fit ? fit : run;
}

static void
run_pass (float *y, const float *x, const FilterView *view, int batch, int H,
          int W, float *ws, size_t ws_floats, Epilogue ep)
{
  const int nth = engine_get_threads ();
  const Geom g = geom (batch, H, W);
  const size_t total = g.per_image * batch;
  const size_t run = unpacked_run (engine_shares_run (total, nth,
                                                      PASS_RUNS_PER_SHARE,
                                                      PASS_RUN_MIN_TILES),
                                   view->n_in, view->n_out);
  const size_t ld = winograd_chunk_tiles (ws_floats, view->n_in,
                                          view->n_out, nth, run);
  ENGINE_CHECK (ld >= 1);

  double t = engine_timer_start ();
  FilterTask filter = { ws, *view };
  engine_parallel (filter_task, &filter);
  engine_timer_stop (ENGINE_TIMER_WINOGRAD, t);

  EngineShares tiles;
  engine_shares_init (&tiles, total, nth);
  PassTask task = { y, x, ws, view->n_in, view->n_out, g,
                    ws + filter_floats (view->n_in, view->n_out), ld, ep,
                    &tiles };
  engine_parallel (pass_task, &task);
}

void
winograd_conv3x3_forward (float *out, const float *inp, const float *weight,
                          int C, int OC, int batch, int H, int W, float *ws,
                          size_t ws_floats)
{
  FilterView view = { weight, (ptrdiff_t) C * 9, 9, 1, OC, C };
  run_pass (out, inp, &view, batch, H, W, ws, ws_floats,
            (Epilogue) { NULL, NULL, NULL, false });
}

void
winograd_conv3x3_forward_affine (float *out, const float *inp,
                                 const float *weight, int C, int OC,
                                 int batch, int H, int W, float *ws,
                                 size_t ws_floats, const float *scale,
                                 const float *shift, const float *residual,
                                 bool relu)
{
  FilterView view = { weight, (ptrdiff_t) C * 9, 9, 1, OC, C };
  run_pass (out, inp, &view, batch, H, W, ws, ws_floats,
            (Epilogue) { scale, shift, residual, relu });
}

void
winograd_conv3x3_backward_data (float *dinp, const float *dout,
                                const float *weight, int C, int OC, int batch,
                                int H, int W, float *ws, size_t ws_floats)
{
  /* filter (c, oc) tap k = w[oc][c][8 - k] */
  FilterView view = { weight + 8, 9, (ptrdiff_t) C * 9, -1, C, OC };
  run_pass (dinp, dout, &view, batch, H, W, ws, ws_floats,
            (Epilogue) { NULL, NULL, NULL, false });
}

/* ---- weight gradient ----
 *
 * dU (36, OC, C) is a sum over every tile of the batch, shared out in one
 * of two ways. Where nth - 1 more copies of dU fit in the workspace beside
 * chunks at least half as deep as the forward's (up to 128 channels), each
 * thread sums its own tiles into its own copy, and the copies are added as
 * G^T dU G is applied: one dispatch for the whole sum. Otherwise (256 and
 * 512 channels: dU is 9 and 36 MiB) each chunk's transforms are split by
 * tile and its 36 products by plane, so that every plane of dU has one
 * writer: two dispatches per chunk, each a wait under load. */

/* tiles per chunk per thread when every thread has its own dU, 0 when not
 * even one fits */
static size_t
own_copy_chunk_tiles (size_t ws_floats, int C, int OC, int nth,
                      size_t needed)
{
  const size_t copies = filter_floats (C, OC) * nth;
  if (ws_floats <= copies)
    return 0;
  size_t tiles = tiles_in ((ws_floats - copies) / nth, C, OC);
  return tiles < needed ? tiles : needed;
}

typedef struct
{
  float *dU;            /* (36, OC, C); thread ith > 0 writes copy ith */
  float *V, *Z;         /* shared chunk (36, C, cap), (36, OC, cap), or
                           per thread (36, C, ld), (36, OC, ld); planes
                           padded (plane_floats) */
  const float *inp, *dout;
  int C, OC;
  Geom g;
  size_t ld;            /* tiles per chunk per thread */
  size_t cap;           /* shared chunk: tiles for all threads together */
  size_t t0;            /* shared chunk: its first tile */
  int tb;               /* and its tile count */
} GradTask;

/* dU_p (OC, C) (+)= Z_p (OC, tb) x V_p^T (tb, C), planes [p_lo, p_hi) */
static void
grad_products (float *dU, const float *Z, const float *V, size_t ld, int C,
               int OC, int tb, float beta, size_t p_lo, size_t p_hi)
{
  const size_t ps_v = plane_floats (C, ld), ps_z = plane_floats (OC, ld);
  const size_t ps_u = filter_plane_floats (C, OC);
  for (size_t p = p_lo; p < p_hi; p++)
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, OC, C, tb, 1.0f,
                 Z + p * ps_z, (int) ld, V + p * ps_v, (int) ld, beta,
                 dU + p * ps_u, C);
}

/* this thread's own tiles into its own copy of dU */
static void
grad_own_tiles_task (void *arg, int ith, int nth)
{
  const GradTask *task = arg;
  const int C = task->C, OC = task->OC;
  const size_t ld = task->ld;
  float *dU = task->dU + ith * filter_floats (C, OC);
  float *V = task->V + ith * chunk_floats (C, OC, ld);
  float *Z = V + WINOGRAD_PLANES * plane_floats (C, ld);
  size_t lo, hi;
  engine_split (task->g.per_image * task->g.batch, ith, nth, &lo, &hi);
  if (hi == lo)
    memset (dU, 0, sizeof (float) * filter_floats (C, OC));
  for (size_t t0 = lo; t0 < hi; t0 += ld)
    {
      const int tb = (int) (hi - t0 < ld ? hi - t0 : ld);
      double t = engine_timer_start ();
      input_transform (V, ld, task->inp, C, &task->g, t0, tb);
      output_grad_transform (Z, ld, task->dout, OC, &task->g, t0, tb);
      if (ith == 0)
        engine_timer_stop (ENGINE_TIMER_WINOGRAD, t);
      t = engine_timer_start ();
      grad_products (dU, Z, V, ld, C, OC, tb, t0 == lo ? 0.0f : 1.0f, 0,
                     WINOGRAD_PLANES);
      if (ith == 0)
        engine_timer_stop (ENGINE_TIMER_SGEMM, t);
    }
}

/* the shared chunk's tiles split across threads, both sides transformed */
static void
grad_transform_task (void *arg, int ith, int nth)
{
  const GradTask *task = arg;
  size_t lo, hi;
  engine_split (task->tb, ith, nth, &lo, &hi);
  if (hi == lo)
    return;
  input_transform (task->V + lo, task->cap, task->inp, task->C, &task->g,
                   task->t0 + lo, (int) (hi - lo));
  output_grad_transform (task->Z + lo, task->cap, task->dout, task->OC,
                         &task->g, task->t0 + lo, (int) (hi - lo));
}

/* the shared chunk's products, the planes split across threads */
static void
grad_product_task (void *arg, int ith, int nth)
{
  const GradTask *task = arg;
  size_t lo, hi;
  engine_split (WINOGRAD_PLANES, ith, nth, &lo, &hi);
  grad_products (task->dU, task->Z, task->V, task->cap, task->C, task->OC,
                 task->tb, task->t0 == 0 ? 0.0f : 1.0f, lo, hi);
}

typedef struct
{
  float *grad_weight;
  const float *dU;
  int n_copies;         /* copies of dU after the first */
  int C, OC;
} FilterGradTask;

static void
filter_grad_task (void *arg, int ith, int nth)
{
  const FilterGradTask *task = arg;
  const size_t stride = filter_floats (task->C, task->OC);
  size_t lo, hi;
  engine_split (task->OC, ith, nth, &lo, &hi);
  filter_grad_transform (task->grad_weight, task->dU, task->dU + stride,
                         task->n_copies, stride, task->OC, task->C, (int) lo,
                         (int) hi);
}

void
winograd_conv3x3_backward_weight (float *grad_weight, const float *dout,
                                  const float *inp, int C, int OC, int batch,
                                  int H, int W, float *ws, size_t ws_floats)
{
  const int nth = engine_get_threads ();
  const Geom g = geom (batch, H, W);
  const size_t total = g.per_image * batch;
  const size_t needed = (total + nth - 1) / nth;
  const size_t ld = winograd_chunk_tiles (ws_floats, C, OC, nth, needed);
  const size_t own = own_copy_chunk_tiles (ws_floats, C, OC, nth, needed);
  ENGINE_CHECK (ld >= 1);
  GradTask task = { .dU = ws, .inp = inp, .dout = dout, .C = C, .OC = OC,
                    .g = g };
  FilterGradTask fg = { grad_weight, ws, 0, C, OC };

  if (own >= 1 && 2 * own >= ld)
    {
      task.ld = own;
      task.V = ws + filter_floats (C, OC) * nth;
      engine_parallel (grad_own_tiles_task, &task);
      fg.n_copies = nth - 1;
    }
  else
    {
      task.cap = ld * nth;
      task.V = ws + filter_floats (C, OC);
      task.Z = task.V + WINOGRAD_PLANES * plane_floats (C, task.cap);
      for (task.t0 = 0; task.t0 < total; task.t0 += task.cap)
        {
          task.tb = (int) (total - task.t0 < task.cap ? total - task.t0
                                                      : task.cap);
          double t = engine_timer_start ();
          engine_parallel (grad_transform_task, &task);
          engine_timer_stop (ENGINE_TIMER_WINOGRAD, t);
          t = engine_timer_start ();
          engine_parallel (grad_product_task, &task);
          engine_timer_stop (ENGINE_TIMER_SGEMM, t);
        }
    }

  double t = engine_timer_start ();
  engine_parallel (filter_grad_task, &fg);
  engine_timer_stop (ENGINE_TIMER_WINOGRAD, t);
}
