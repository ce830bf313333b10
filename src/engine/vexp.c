/* vexp.c: exp eight floats at a time (GCC vector extensions).
 *
 * exp (x) = 2^n exp (r), n = round (x / ln 2), r = x - n ln 2, |r| <= ln 2 / 2.
 * ln 2 is split in two (hi has 13 significant bits, so n hi is exact for
 * the |n| <= 150 the clamp allows and x - n hi loses nothing), and exp (r)
 * is a degree-6 polynomial fitted to exp on [-ln 2 / 2, ln 2 / 2] for the
 * least relative error (1.8e-8, a sixth of an ulp, with the float
 * coefficients below). 2^n is built in the exponent field in two halves,
 * 2^(n/2) 2^(n - n/2), so that results below FLT_MIN come out as the
 * correctly rounded subnormal and results above FLT_MAX as +inf, without a
 * special case. x is clamped to [-104, 89] first: outside it expf is 0 or
 * +inf anyway, and a NaN passes the clamp (its compares are false) and
 * makes r, and so the result, NaN.
 */
#include "vexp.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* Compiled for AVX2 + FMA as well as for the baseline, picked at load time:
 * the project builds for generic x86-64. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define VEXP_CLONES __attribute__ ((target_clones ("arch=x86-64-v3", "default")))
#else
#define VEXP_CLONES
#endif

/* The 32-byte vectors pass between always-inlined helpers only, never
 * across a call, so the baseline's warning about their ABI does not apply. */
#pragma GCC diagnostic ignored "-Wpsabi"

typedef float F8 __attribute__ ((vector_size (32)));
typedef int32_t I8 __attribute__ ((vector_size (32)));
typedef uint32_t U8 __attribute__ ((vector_size (32)));

#define SUM_BLOCK 256

static inline __attribute__ ((always_inline)) F8
splat (float v)
{
  return (F8) { v, v, v, v, v, v, v, v };
}

/* m ? a : b lane by lane (GCC has no vector ?: in C) */
static inline __attribute__ ((always_inline)) F8
select8 (I8 m, F8 a, F8 b)
{
  return (F8) ((m & (I8) a) | (~m & (I8) b));
}

static inline __attribute__ ((always_inline)) F8
exp8 (F8 x)
{
  /* 1.5 2^23: adding it rounds x / ln 2 to an integer held in the low bits */
  const float shifter = 0x1.8p23f;
  const float log2e = 0x1.715476p+0f;
  const float ln2_hi = 0x1.62ep-1f, ln2_lo = 0x1.0bfbe8p-15f;

  x = select8 (x < -104.0f, splat (-104.0f), x);
  x = select8 (x > 89.0f, splat (89.0f), x);
  F8 t = x * log2e + shifter;
  F8 n = t - shifter;
  F8 r = x - n * ln2_hi;
  r = r - n * ln2_lo;

  F8 p = splat (0x1.6ab278p-10f);
  p = p * r + 0x1.127402p-7f;
  p = p * r + 0x1.5558bcp-5f;
  p = p * r + 0x1.5553fep-3f;
  p = p * r + 0x1.fffffap-2f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;

  /* n as an integer: t's bits are those of 1.5 2^23 plus n, |n| <= 150 */
  U8 ni = (U8) t - 0x4b400000u;
  /* arithmetic halving of the signed n, written on unsigned lanes */
  U8 n1 = (U8) ((I8) ni >> 1);
  U8 n2 = ni - n1;
  F8 s1 = (F8) ((n1 + 127u) << 23);
  F8 s2 = (F8) ((n2 + 127u) << 23);
  return (p * s1) * s2;
}

static inline __attribute__ ((always_inline)) F8
load8 (const float *p)
{
  F8 v;
  memcpy (&v, p, sizeof v);
  return v;
}

static inline __attribute__ ((always_inline)) void
store8 (float *p, F8 v)
{
  memcpy (p, &v, sizeof v);
}

/* the first m (< 8) of p, the other lanes set to fill */
static inline __attribute__ ((always_inline)) F8
load_part (const float *p, size_t m, float fill)
{
  F8 v = splat (fill);
  for (size_t l = 0; l < m; l++)
    v[l] = p[l];
  return v;
}

static inline __attribute__ ((always_inline)) void
store_part (float *p, F8 v, size_t m)
{
  for (size_t l = 0; l < m; l++)
    p[l] = v[l];
}

static inline __attribute__ ((always_inline)) void
vexp_body (float *y, const float *x, size_t n)
{
  size_t j = 0;
  for (; j + 8 <= n; j += 8)
    store8 (y + j, exp8 (load8 (x + j)));
  if (j < n)
    store_part (y + j, exp8 (load_part (x + j, n - j, 0.0f)), n - j);
}

VEXP_CLONES void
vexp (float *y, const float *x, size_t n)
{
  vexp_body (y, x, n);
}

void
vexp_baseline (float *y, const float *x, size_t n)
{
  vexp_body (y, x, n);
}

VEXP_CLONES double
vexp_softmax_row (float *e, const float *z, size_t n, float *max_out)
{
  /* the max, in two chains; a NaN never wins a compare, so it is skipped
   * here and turns the sum into NaN below */
  F8 m0 = splat (-INFINITY), m1 = m0;
  size_t j = 0;
  for (; j + 16 <= n; j += 16)
    {
      F8 a = load8 (z + j), b = load8 (z + j + 8);
      m0 = select8 (a > m0, a, m0);
      m1 = select8 (b > m1, b, m1);
    }
  m0 = select8 (m1 > m0, m1, m0);
  float max = m0[0];
  for (int l = 1; l < 8; l++)
    if (m0[l] > max)
      max = m0[l];
  for (; j < n; j++)
    if (z[j] > max)
      max = z[j];
  *max_out = max;

  /* exp and sum: float lanes within a block, the blocks in double */
  double total[8] = { 0 };
  j = 0;
  while (j < n)
    {
      const size_t end = n - j > SUM_BLOCK ? j + SUM_BLOCK : n;
      F8 s0 = splat (0.0f), s1 = s0;
      for (; j + 16 <= end; j += 16)
        {
          F8 a = exp8 (load8 (z + j) - max);
          F8 b = exp8 (load8 (z + j + 8) - max);
          store8 (e + j, a);
          store8 (e + j + 8, b);
          s0 += a;
          s1 += b;
        }
      for (; j + 8 <= end; j += 8)
        {
          F8 a = exp8 (load8 (z + j) - max);
          store8 (e + j, a);
          s0 += a;
        }
      if (j < end)
        {
          /* -inf pads the vector: its lanes add exp (-inf) = 0 */
          F8 a = exp8 (load_part (z + j, end - j, -INFINITY) - max);
          store_part (e + j, a, end - j);
          s0 += a;
          j = end;
        }
      s0 += s1;
      for (int l = 0; l < 8; l++)
        total[l] += s0[l];
    }
  return ((total[0] + total[4]) + (total[1] + total[5]))
         + ((total[2] + total[6]) + (total[3] + total[7]));
}
