/* small-gemm.c: AVX-512 kernels for shallow products (small-gemm.h).
 *
 * c = a b: a block of 8 rows by 32 columns of c lives in 16 vector
 * registers while the depth is walked; each step loads two vectors of b's
 * row and broadcasts one element of each of a's 8 rows into 16 FMAs: 10
 * loads a step for 16 FMAs, so the FMA units, not the loads, set the pace.
 * The last columns use masked loads and stores; rows past m are computed
 * from a's first row and not stored.
 *
 * c = a b^T: both operands run along the depth, so a block of 4 x 4
 * results is 16 vectors of partial sums along it (4 + 4 loads a step for
 * 16 FMAs), and at the end the 16 vectors are summed across their lanes
 * together, in four rounds of shuffles and adds that halve their number
 * each time (16 sums for 15 adds' worth of vectors instead of 16 separate
 * reductions).
 */
#include "small-gemm.h"

#include "check.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_KERNELS 1
#include <immintrin.h>
#define AVX512 __attribute__ ((target ("avx512f")))
#define INLINE static inline __attribute__ ((always_inline))
#else
#define HAVE_KERNELS 0
#endif

bool
small_gemm_available (void)
{
#if HAVE_KERNELS
  return __builtin_cpu_supports ("avx512f");
#else
  return false;
#endif
}

#if HAVE_KERNELS

#define NN_ROWS 8
#define NN_COLS 32
#define NT_ROWS 4
#define NT_COLS 4

/* the first `count` of 16 lanes (count 0..16) */
INLINE __mmask16
lanes_mask (int count)
{
  return count >= 16 ? (__mmask16) 0xffff
                     : (__mmask16) ((1u << (count > 0 ? count : 0)) - 1);
}

/* c (rows, cols) = a (rows, k) x b (k, cols), rows <= 8, cols <= 32 */
AVX512 INLINE void
nn_block (float *c, size_t ldc, const float *a, size_t lda, const float *b,
          size_t ldb, int rows, int cols, int k)
{
  const __mmask16 m0 = lanes_mask (cols), m1 = lanes_mask (cols - 16);
  const float *arow[NN_ROWS];
  for (int r = 0; r < NN_ROWS; r++)
    arow[r] = a + (r < rows ? (size_t) r * lda : 0);
  __m512 acc[NN_ROWS][2];
  for (int r = 0; r < NN_ROWS; r++)
    acc[r][0] = acc[r][1] = _mm512_setzero_ps ();
  for (int p = 0; p < k; p++)
    {
      const float *brow = b + (size_t) p * ldb;
      const __m512 b0 = _mm512_maskz_loadu_ps (m0, brow);
      const __m512 b1 = _mm512_maskz_loadu_ps (m1, brow + 16);
      for (int r = 0; r < NN_ROWS; r++)
        {
          const __m512 s = _mm512_set1_ps (arow[r][p]);
          acc[r][0] = _mm512_fmadd_ps (s, b0, acc[r][0]);
          acc[r][1] = _mm512_fmadd_ps (s, b1, acc[r][1]);
        }
    }
  /* every r a constant, so that acc stays in registers (an index only
   * known at run time would keep it in memory, stored at every step) */
#pragma GCC unroll 8
  for (int r = 0; r < NN_ROWS; r++)
    if (r < rows)
      {
        _mm512_mask_storeu_ps (c + (size_t) r * ldc, m0, acc[r][0]);
        _mm512_mask_storeu_ps (c + (size_t) r * ldc + 16, m1, acc[r][1]);
      }
}

AVX512 void
small_gemm_nn (float *c, size_t ldc, const float *a, size_t lda,
               const float *b, size_t ldb, int m, int n, int k)
{
  for (int i = 0; i < m; i += NN_ROWS)
    {
      const int rows = m - i < NN_ROWS ? m - i : NN_ROWS;
      for (int j = 0; j < n; j += NN_COLS)
        nn_block (c + (size_t) i * ldc + j, ldc, a + (size_t) i * lda, lda,
                  b + j, ldb, rows, n - j < NN_COLS ? n - j : NN_COLS, k);
    }
}

/* x[i] summed across its 16 lanes, for 16 vectors at once: lane 4 r + j of
 * the result holds the sum of x[4 j + r] (so with x[4 j + r] the partial
 * sums of c[r][j], the result's 128-bit lane r is row r of a 4 x 4 block).
 * Each round adds pairs of vectors after moving halves of them side by
 * side: 16 -> 8 (256-bit halves), 8 -> 4 (128-bit quarters), 4 -> 2 and
 * 2 -> 1 (within the quarters). */
AVX512 INLINE __m512
sum_lanes16 (const __m512 x[16])
{
  __m512 s[8], u[4], w[2];
  for (int i = 0; i < 8; i++)
    /* quarters (x0 + x2, x1 + x3, y0 + y2, y1 + y3) of x = x[2i], y = x[2i+1] */
    s[i] = _mm512_add_ps (_mm512_shuffle_f32x4 (x[2 * i], x[2 * i + 1], 0x44),
                          _mm512_shuffle_f32x4 (x[2 * i], x[2 * i + 1], 0xee));
  for (int i = 0; i < 4; i++)
    /* quarter q holds x[4i + q]'s four partial sums */
    u[i] = _mm512_add_ps (_mm512_shuffle_f32x4 (s[2 * i], s[2 * i + 1], 0x88),
                          _mm512_shuffle_f32x4 (s[2 * i], s[2 * i + 1], 0xdd));
  for (int i = 0; i < 2; i++)
    /* per quarter: (a0 + a2, b0 + b2, a1 + a3, b1 + b3), a = u[2i], b = u[2i+1] */
    w[i] = _mm512_add_ps (_mm512_unpacklo_ps (u[2 * i], u[2 * i + 1]),
                          _mm512_unpackhi_ps (u[2 * i], u[2 * i + 1]));
  /* per quarter q: the sums of u[0], u[1], u[2], u[3]'s quarter q */
  return _mm512_add_ps (_mm512_shuffle_ps (w[0], w[1], 0x44),
                        _mm512_shuffle_ps (w[0], w[1], 0xee));
}

/* c (rows, cols) = beta c + a (rows, k) x b (cols, k)^T, rows, cols <= 4 */
AVX512 INLINE void
nt_block (float *c, size_t ldc, const float *a, size_t lda, const float *b,
          size_t ldb, int rows, int cols, int k, float beta)
{
  const float *arow[NT_ROWS], *brow[NT_COLS];
  for (int r = 0; r < NT_ROWS; r++)
    arow[r] = a + (r < rows ? (size_t) r * lda : 0);
  for (int j = 0; j < NT_COLS; j++)
    brow[j] = b + (j < cols ? (size_t) j * ldb : 0);
  __m512 acc[NT_COLS * NT_ROWS];  /* acc[4 j + r]: c[r][j] */
  for (int i = 0; i < NT_COLS * NT_ROWS; i++)
    acc[i] = _mm512_setzero_ps ();
  for (int p = 0; p < k; p += 16)
    {
      const __mmask16 mask = lanes_mask (k - p);
      __m512 av[NT_ROWS];
      for (int r = 0; r < NT_ROWS; r++)
        av[r] = _mm512_maskz_loadu_ps (mask, arow[r] + p);
      for (int j = 0; j < NT_COLS; j++)
        {
          const __m512 bv = _mm512_maskz_loadu_ps (mask, brow[j] + p);
          for (int r = 0; r < NT_ROWS; r++)
            acc[4 * j + r] = _mm512_fmadd_ps (av[r], bv, acc[4 * j + r]);
        }
    }
  float sums[NT_ROWS][NT_COLS];
  _mm512_storeu_ps (&sums[0][0], sum_lanes16 (acc));
  for (int r = 0; r < rows; r++)
    for (int j = 0; j < cols; j++)
      {
        float *dst = c + (size_t) r * ldc + j;
        *dst = beta == 0.0f ? sums[r][j] : beta * *dst + sums[r][j];
      }
}

AVX512 void
small_gemm_nt (float *c, size_t ldc, const float *a, size_t lda,
               const float *b, size_t ldb, int m, int n, int k, float beta)
{
  for (int i = 0; i < m; i += NT_ROWS)
    {
      const int rows = m - i < NT_ROWS ? m - i : NT_ROWS;
      for (int j = 0; j < n; j += NT_COLS)
        nt_block (c + (size_t) i * ldc + j, ldc, a + (size_t) i * lda, lda,
                  b + (size_t) j * ldb, ldb, rows,
                  n - j < NT_COLS ? n - j : NT_COLS, k, beta);
    }
}

#else /* no kernels: small_gemm_available () says so, and nobody calls */

void
small_gemm_nn (float *c, size_t ldc, const float *a, size_t lda,
               const float *b, size_t ldb, int m, int n, int k)
{
  (void) c, (void) ldc, (void) a, (void) lda, (void) b, (void) ldb;
  (void) m, (void) n, (void) k;
  ENGINE_CHECK (!"small_gemm_nn without AVX-512 kernels");
}

void
small_gemm_nt (float *c, size_t ldc, const float *a, size_t lda,
               const float *b, size_t ldb, int m, int n, int k, float beta)
{
  (void) c, (void) ldc, (void) a, (void) lda, (void) b, (void) ldb;
  (void) m, (void) n, (void) k, (void) beta;
  ENGINE_CHECK (!"small_gemm_nt without AVX-512 kernels");
}

#endif
