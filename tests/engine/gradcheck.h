/* gradcheck.h: helpers shared by the engine tests: random fills, a loss that
 * is a random projection of an output, and central-difference checks.
 *
 * Every check perturbs one float32 input by +-h, evaluates a loss that the
 * caller accumulates in double, and compares (L(x+h) - L(x-h)) / 2h with the
 * analytic gradient through assert_all_close, so a failure prints the
 * largest difference and where it is. */
#pragma once

#include <glib.h>
#include <math.h>
#include <stddef.h>

#include "rng.h"
#include "testutil.h"

/* x ~ scale * N(0, 1) */
static inline void
fill_normal (Rng *rng, float *x, size_t n, float scale)
{
  for (size_t i = 0; i < n; i++)
    x[i] = scale * rng_normal (rng);
}

/* x ~ U(lo, hi) */
static inline void
fill_uniform_range (Rng *rng, float *x, size_t n, float lo, float hi)
{
  for (size_t i = 0; i < n; i++)
    x[i] = lo + (hi - lo) * rng_uniform (rng);
}

/* Values bounded away from 0 (|x| in [margin, margin + scale)), random sign:
 * a +-h step then never crosses a ReLU kink. */
static inline void
fill_away_from_zero (Rng *rng, float *x, size_t n, float margin, float scale)
{
  for (size_t i = 0; i < n; i++)
    {
      float magnitude = margin + scale * rng_uniform (rng);
      x[i] = rng_uniform (rng) < 0.5f ? -magnitude : magnitude;
    }
}

static inline void
fill_value (float *x, size_t n, float value)
{
  for (size_t i = 0; i < n; i++)
    x[i] = value;
}

/* sum_i a_i b_i in double: the projection loss L = sum (out * R) */
static inline double
dot_double (const float *a, const float *b, size_t n)
{
  double sum = 0.0;
  for (size_t i = 0; i < n; i++)
    sum += (double) a[i] * b[i];
  return sum;
}

typedef double (*LossFn) (void *ctx);

/* (L(x_i + h) - L(x_i - h)) / 2h, x restored bit for bit afterwards */
static inline double
central_difference (LossFn loss, void *ctx, float *x, size_t i, float h)
{
  const float saved = x[i];
  x[i] = saved + h;
  double plus = loss (ctx);
  x[i] = saved - h;
  double minus = loss (ctx);
  x[i] = saved;
  /* divide by the step actually taken in float, not the nominal 2h */
  return (plus - minus) / ((double) (saved + h) - (double) (saved - h));
}

/* Compares analytic[i] with the central difference for every i when
 * n <= max_checked, otherwise for max_checked indices drawn at random.
 * Fails (through assert_all_close) when any |ana - num| > atol + rtol |num|. */
static inline void
check_gradient (const char *what, LossFn loss, void *ctx, float *x,
                const float *analytic, size_t n, size_t max_checked, float h,
                double atol, double rtol, Rng *rng)
{
  size_t m = n < max_checked ? n : max_checked;
  float *num = g_new (float, m);
  float *ana = g_new (float, m);
  for (size_t k = 0; k < m; k++)
    {
      size_t i = m == n ? k : (size_t) rng_below (rng, n);
      num[k] = (float) central_difference (loss, ctx, x, i, h);
      ana[k] = analytic[i];
    }
  assert_all_close (what, ana, num, m, atol, rtol);
  g_free (num);
  g_free (ana);
}
