/* test-vexp.c: the vectorised exp against exp in double over a sweep of
 * every range it is used in (normal, subnormal and overflowing results),
 * its special values, and the softmax row pass against a plain loop. */
#include <float.h>
#include <glib.h>
#include <math.h>
#include <string.h>

#include "rng.h"
#include "testutil.h"
#include "vexp.h"

/* |y - exp (x)| in units of the float spacing at the true value; the
 * spacing of the subnormals (2^-149) below FLT_MIN */
static double
ulp_error (float y, float x)
{
  double truth = exp ((double) x);
  float rounded = (float) truth;
  if (isinf (rounded))
    return isinf (y) ? 0.0 : INFINITY;
  float up = nextafterf (rounded, INFINITY);
  double spacing = isinf (up) ? (double) rounded - nextafterf (rounded, 0.0f)
                              : (double) up - rounded;
  return fabs ((double) y - truth) / spacing;
}

/* Every 397th float between -110 and 92 (5.6 million inputs), in
 * chunks not a multiple of 8 so that the tails are swept as well. */
typedef void (*ExpFunc) (float *y, const float *x, size_t n);

static void
sweep (ExpFunc fn, const char *name)
{
  enum { CHUNK = 4093 };
  float *x = g_new (float, CHUNK), *y = g_new (float, CHUNK);
  double worst = 0.0, worst_sub = 0.0;
  float worst_x = 0.0f;
  size_t count = 0;
  /* walk the bit patterns: the negative side from -110 up to -0, then the
   * positive side from +0 to 92 */
  float lo = -110.0f, hi = 92.0f;
  uint32_t neg_start, pos_end;
  memcpy (&neg_start, &lo, 4);
  memcpy (&pos_end, &hi, 4);
  for (int side = 0; side < 2; side++)
    {
      uint64_t first = side == 0 ? 0x80000000u : 0u;
      uint64_t last = side == 0 ? neg_start : pos_end;
      for (uint64_t bits = first; bits <= last;)
        {
          int m = 0;
          for (; m < CHUNK && bits <= last; m++, bits += 397)
            {
              uint32_t b32 = (uint32_t) bits;
              memcpy (&x[m], &b32, 4);
            }
          fn (y, x, (size_t) m);
          for (int i = 0; i < m; i++)
            {
              double e = ulp_error (y[i], x[i]);
              if (exp ((double) x[i]) < FLT_MIN)
                worst_sub = fmax (worst_sub, e);
              else if (e > worst)
                {
                  worst = e;
                  worst_x = x[i];
                }
              if (!(e <= 2.0))
                g_error ("%s (%.9g) = %.9g, exp = %.9g: %.3g ulp", name, x[i],
                         y[i], exp ((double) x[i]), e);
            }
          count += (size_t) m;
        }
    }
  g_test_message ("%s: %zu inputs in [-110, 92], max error %.3f ulp at "
                  "%.9g (normal results), %.3f ulp (subnormal results)",
                  name, count, worst, worst_x, worst_sub);
  g_assert_cmpuint (count, >, 5000000);
  g_free (x);
  g_free (y);
}

static void
test_vexp_sweep (void)
{
  sweep (vexp, "vexp");
  sweep (vexp_baseline, "vexp_baseline");
}

/* Relative error over the softmax's own range, [-60, 0]: every 211th
 * float (5.3 million inputs) */
static void
test_vexp_relative (void)
{
  enum { CHUNK = 8192 };
  float *x = g_new (float, CHUNK), *y = g_new (float, CHUNK);
  float lo = -60.0f;
  uint32_t last;
  memcpy (&last, &lo, 4);
  double worst = 0.0;
  for (uint64_t bits = 0x80000000u; bits <= last;)
    {
      int m = 0;
      for (; m < CHUNK && bits <= last; m++, bits += 211)
        {
          uint32_t b32 = (uint32_t) bits;
          memcpy (&x[m], &b32, 4);
        }
      vexp (y, x, (size_t) m);
      for (int i = 0; i < m; i++)
        {
          double truth = exp ((double) x[i]);
          worst = fmax (worst, fabs (y[i] - truth) / truth);
        }
    }
  g_test_message ("vexp on [-60, 0]: max relative error %.3g", worst);
  /* 2 ulp of a float is at most 2 * 2^-23 relative */
  g_assert_cmpfloat (worst, <, 2.0 * FLT_EPSILON);
  g_free (x);
  g_free (y);
}

static void
special (ExpFunc fn)
{
  const float in[] = {
    -INFINITY, INFINITY, NAN, 0.0f, -0.0f, 1.0f, -1.0f,
    88.72f, 88.73f, 89.0f, 100.0f, 1e30f, FLT_MAX,
    -87.0f, -100.0f, -103.0f, -103.9f, -104.0f, -200.0f, -1e30f, -FLT_MAX,
    FLT_MIN, -FLT_MIN, 1e-30f, -1e-30f,
  };
  enum { N = G_N_ELEMENTS (in) };
  float out[N];
  fn (out, in, N);
  for (int i = 0; i < N; i++)
    {
      float want = expf (in[i]);
      if (isnan (want))
        g_assert_true (isnan (out[i]));
      else if (isinf (want) || want == 0.0f)
        g_assert_cmpfloat (out[i], ==, want);
      else
        g_assert_cmpfloat (ulp_error (out[i], in[i]), <=, 2.0);
    }
  /* exact where expf is exact, and signs */
  g_assert_cmpfloat (out[3], ==, 1.0f);
  g_assert_cmpfloat (out[4], ==, 1.0f);
  g_assert_cmpfloat (out[0], ==, 0.0f);
  g_assert_false (signbit (out[0]));
  g_assert_cmpfloat (out[15], >, 0.0f);   /* exp (-103) is a subnormal */
  g_assert_cmpfloat (out[15], <, FLT_MIN);

  /* in place, and every length up to 40 (tails of every size) */
  float buf[40], ref[40];
  for (int n = 0; n <= 40; n++)
    {
      for (int i = 0; i < 40; i++)
        buf[i] = ref[i] = 0.37f * (float) i - 5.0f;
      fn (buf, buf, (size_t) n);
      for (int i = 0; i < 40; i++)
        if (i < n)
          g_assert_cmpfloat (ulp_error (buf[i], ref[i]), <=, 2.0);
        else
          g_assert_cmpfloat (buf[i], ==, ref[i]);   /* untouched */
    }
}

static void
test_vexp_special (void)
{
  special (vexp);
  special (vexp_baseline);
}

/* the row pass against max, exp and a double sum written plainly */
static void
check_row (const float *z, size_t n, gboolean in_place)
{
  float *e = g_new (float, n + 1), *copy = g_new (float, n);
  memcpy (copy, z, sizeof (float) * n);
  e[n] = 12345.0f;
  float max;
  double sum = in_place ? vexp_softmax_row (copy, copy, n, &max)
                        : vexp_softmax_row (e, z, n, &max);
  const float *out = in_place ? copy : e;
  if (!in_place)
    g_assert_cmpfloat (e[n], ==, 12345.0f);   /* no write past the row */

  float want_max = -INFINITY;
  for (size_t j = 0; j < n; j++)
    want_max = fmaxf (want_max, z[j]);
  g_assert_cmpfloat (max, ==, want_max);
  double want_sum = 0.0;
  for (size_t j = 0; j < n; j++)
    {
      /* the subtraction is the same float operation in both */
      float d = z[j] - want_max;
      want_sum += exp ((double) d);
      if (!(ulp_error (out[j], d) <= 2.0))
        g_error ("row of %zu, entry %zu: %.9g vs exp (%.9g)", n, j, out[j], d);
    }
  /* float sums over blocks of 256: well within 1e-6 relative */
  g_assert_cmpfloat (fabs (sum - want_sum) / want_sum, <, 1e-6);
  g_free (e);
  g_free (copy);
}

static void
test_softmax_row (void)
{
  Rng rng;
  rng_seed (&rng, 29);
  const size_t lengths[] = { 1, 2, 7, 8, 9, 15, 16, 17, 255, 256, 257, 511,
                             1000, 4099, 60000 };
  for (size_t l = 0; l < G_N_ELEMENTS (lengths); l++)
    {
      size_t n = lengths[l];
      float *z = g_new (float, n);
      for (int scale = 0; scale < 3; scale++)
        {
          /* logits of unit vectors over tau 0.07, wider, and very wide
           * (so that many entries underflow to subnormals and 0) */
          const float width[] = { 14.3f, 60.0f, 400.0f };
          for (size_t j = 0; j < n; j++)
            z[j] = width[scale] * (2.0f * (float) rng_uniform (&rng) - 1.0f);
          /* the max in the scalar tail, then at the very start */
          z[n - 1] = width[scale] + 1.0f;
          check_row (z, n, FALSE);
          check_row (z, n, TRUE);
          z[n - 1] = 0.0f;
          z[0] = width[scale] + 2.0f;
          check_row (z, n, FALSE);
        }
      g_free (z);
    }

  /* a NaN anywhere makes the sum NaN; -inf entries give 0 */
  float z[20];
  for (int j = 0; j < 20; j++)
    z[j] = (float) j;
  z[3] = -INFINITY;
  float e[20], max;
  double sum = vexp_softmax_row (e, z, 20, &max);
  g_assert_cmpfloat (max, ==, 19.0f);
  g_assert_cmpfloat (e[3], ==, 0.0f);
  g_assert_cmpfloat (e[19], ==, 1.0f);
  g_assert_true (isfinite (sum));
  for (int at = 0; at < 20; at += 9)
    {
      float w[20];
      memcpy (w, z, sizeof w);
      w[at] = NAN;
      sum = vexp_softmax_row (e, w, 20, &max);
      g_assert_true (isnan (sum));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/vexp/sweep", test_vexp_sweep);
  g_test_add_func ("/engine/vexp/relative", test_vexp_relative);
  g_test_add_func ("/engine/vexp/special", test_vexp_special);
  g_test_add_func ("/engine/vexp/softmax-row", test_softmax_row);
  return g_test_run ();
}
