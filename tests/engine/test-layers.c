/* test-layers.c: ReLU, residual add + ReLU, average, global average and max
 * pooling, flatten, linear and L2 normalisation: each backward against
 * central differences of L = sum (out * R) with a random R, accumulated in
 * double; max pooling's tie rule against what PyTorch does. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "gradcheck.h"
#include "layers.h"
#include "rng.h"
#include "testutil.h"

/* A common step for every check; tolerances below are per layer. */
#define STEP 1e-3f

/* ---- ReLU ---- */

typedef struct
{
  float *inp, *out, *r;
  size_t n;
} ReluCtx;

static double
relu_loss (void *data)
{
  ReluCtx *c = data;
  relu_forward (c->out, c->inp, c->n);
  return dot_double (c->out, c->r, c->n);
}

/* Inputs at least 0.1 away from the kink, so +-1e-3 never crosses it and the
 * difference is exact up to rounding of O(1) values: the gradient is exactly
 * R or 0, and atol 1e-3 (rounding of L over 2h ~ 1e-4) separates the two. */
static void
test_relu_gradient (void)
{
  Rng rng;
  rng_seed (&rng, 31);
  ReluCtx c = { .n = 97 };
  c.inp = g_new (float, c.n);
  c.out = g_new (float, c.n);
  c.r = g_new (float, c.n);
  float *dinp = g_new (float, c.n);
  fill_away_from_zero (&rng, c.inp, c.n, 0.1f, 2.0f);
  fill_normal (&rng, c.r, c.n, 1.0f);

  relu_forward (c.out, c.inp, c.n);
  relu_backward (dinp, c.r, c.out, c.n);
  check_gradient ("relu d input", relu_loss, &c, c.inp, dinp, c.n, c.n, STEP,
                  1e-3, 1e-3, &rng);

  /* in place, both directions, as the network calls them; c.out is
   * recomputed at the unperturbed input first */
  relu_forward (c.out, c.inp, c.n);
  float *inplace = g_memdup2 (c.inp, sizeof (float) * c.n);
  relu_forward (inplace, inplace, c.n);
  assert_all_close ("relu forward in place", inplace, c.out, c.n, 0.0, 0.0);
  float *dinplace = g_memdup2 (c.r, sizeof (float) * c.n);
  relu_backward (dinplace, dinplace, c.out, c.n);
  assert_all_close ("relu backward in place", dinplace, dinp, c.n, 0.0, 0.0);

  g_free (inplace);
  g_free (dinplace);
  g_free (dinp);
  g_free (c.inp);
  g_free (c.out);
  g_free (c.r);
}

/* ---- residual addition + ReLU ---- */

typedef struct
{
  float *a, *b, *out, *r;
  size_t n;
} AddReluCtx;

static double
add_relu_loss (void *data)
{
  AddReluCtx *c = data;
  add_relu_forward (c->out, c->a, c->b, c->n);
  return dot_double (c->out, c->r, c->n);
}

/* The blocks sum in place, out = max(0, out + shortcut): on the engine's
 * threads too (a length past the parallel threshold), that must give what
 * a separate output does, to the bit. */
static void
test_add_relu_in_place (void)
{
  Rng rng;
  rng_seed (&rng, 33);
  const size_t n = 300007;
  float *a = g_new (float, n), *b = g_new (float, n);
  float *out = g_new (float, n), *in_place = g_new (float, n);
  fill_normal (&rng, a, n, 1.0f);
  fill_normal (&rng, b, n, 1.0f);
  add_relu_forward (out, a, b, n);
  memcpy (in_place, a, sizeof (float) * n);
  add_relu_forward (in_place, in_place, b, n);
  g_assert_cmpmem (in_place, sizeof (float) * n, out, sizeof (float) * n);
  memcpy (in_place, b, sizeof (float) * n);
  add_relu_forward (in_place, a, in_place, n);
  g_assert_cmpmem (in_place, sizeof (float) * n, out, sizeof (float) * n);
  size_t zeros = 0;
  for (size_t i = 0; i < n; i++)
    zeros += out[i] == 0.0f;
  /* about half of the sums are negative: the ReLU was exercised */
  g_assert_cmpuint (zeros, >, n / 3);
  g_free (a);
  g_free (b);
  g_free (out);
  g_free (in_place);
}

/* The network back-propagates out = max(0, a + b) with relu_backward on out
 * and hands the result to both branches; that pair is what is checked.
 * a + b is kept at least 0.1 from 0 for the same reason as above. */
static void
test_add_relu_gradient (void)
{
  Rng rng;
  rng_seed (&rng, 32);
  AddReluCtx c = { .n = 83 };
  c.a = g_new (float, c.n);
  c.b = g_new (float, c.n);
  c.out = g_new (float, c.n);
  c.r = g_new (float, c.n);
  float *sum = g_new (float, c.n);
  float *grad = g_new (float, c.n);
  fill_normal (&rng, c.a, c.n, 1.0f);
  fill_away_from_zero (&rng, sum, c.n, 0.1f, 2.0f);
  for (size_t i = 0; i < c.n; i++)
    c.b[i] = sum[i] - c.a[i];
  fill_normal (&rng, c.r, c.n, 1.0f);

  add_relu_forward (c.out, c.a, c.b, c.n);
  relu_backward (grad, c.r, c.out, c.n);
  check_gradient ("add_relu d a", add_relu_loss, &c, c.a, grad, c.n, c.n,
                  STEP, 1e-3, 1e-3, &rng);
  check_gradient ("add_relu d b", add_relu_loss, &c, c.b, grad, c.n, c.n,
                  STEP, 1e-3, 1e-3, &rng);

  g_free (sum);
  g_free (grad);
  g_free (c.a);
  g_free (c.b);
  g_free (c.out);
  g_free (c.r);
}

/* ---- average pooling ---- */

typedef struct
{
  float *inp, *out, *r;
  int planes, h, w, k;
} PoolCtx;

static double
pool_loss (void *data)
{
  PoolCtx *c = data;
  avgpool_forward (c->out, c->inp, c->planes, c->h, c->w, c->k);
  return dot_double (c->out, c->r,
                     (size_t) c->planes * (c->h / c->k) * (c->w / c->k));
}

/* Linear, so exact up to rounding: atol 1e-3, rtol 1e-3 on gradients of
 * size R/k^2. Shapes include sizes that k does not divide: PyTorch's floor
 * mode drops the last rows and columns, whose gradient must be exactly 0
 * (the finite difference is exactly 0 there too). The forward is also
 * compared with window means computed here in double. */
static void
test_avgpool_gradient (void)
{
  Rng rng;
  rng_seed (&rng, 33);
  const int shapes[][4] = {
    /* planes, h, w, k */
    { 3, 8, 8, 4 },
    { 2, 7, 9, 4 },
    { 4, 5, 6, 2 },
    { 1, 6, 5, 3 },
  };
  for (size_t s = 0; s < G_N_ELEMENTS (shapes); s++)
    {
      PoolCtx c = { .planes = shapes[s][0], .h = shapes[s][1],
                    .w = shapes[s][2], .k = shapes[s][3] };
      const int oh = c.h / c.k, ow = c.w / c.k;
      const size_t n_in = (size_t) c.planes * c.h * c.w;
      const size_t n_out = (size_t) c.planes * oh * ow;
      c.inp = g_new (float, n_in);
      c.out = g_new (float, n_out);
      c.r = g_new (float, n_out);
      float *expected = g_new (float, n_out);
      float *dinp = g_new (float, n_in);
      fill_normal (&rng, c.inp, n_in, 1.0f);
      fill_normal (&rng, c.r, n_out, 1.0f);

      for (int p = 0; p < c.planes; p++)
        for (int oy = 0; oy < oh; oy++)
          for (int ox = 0; ox < ow; ox++)
            {
              double sum = 0.0;
              for (int y = oy * c.k; y < (oy + 1) * c.k; y++)
                for (int x = ox * c.k; x < (ox + 1) * c.k; x++)
                  sum += c.inp[((size_t) p * c.h + y) * c.w + x];
              expected[((size_t) p * oh + oy) * ow + ox]
                  = (float) (sum / (c.k * c.k));
            }
      fill_value (c.out, n_out, NAN);
      avgpool_forward (c.out, c.inp, c.planes, c.h, c.w, c.k);
      g_autofree char *nf = g_strdup_printf ("avgpool forward %dx%dx%d k%d",
                                             c.planes, c.h, c.w, c.k);
      assert_all_close (nf, c.out, expected, n_out, 1e-6, 1e-5);

      fill_value (dinp, n_in, NAN);
      avgpool_backward (dinp, c.r, c.planes, c.h, c.w, c.k);
      g_autofree char *nb = g_strdup_printf ("avgpool d input %dx%dx%d k%d",
                                             c.planes, c.h, c.w, c.k);
      check_gradient (nb, pool_loss, &c, c.inp, dinp, n_in, n_in, STEP, 1e-3,
                      1e-3, &rng);

      g_free (expected);
      g_free (dinp);
      g_free (c.inp);
      g_free (c.out);
      g_free (c.r);
    }
}

/* ---- global average pooling ---- */

typedef struct
{
  float *inp, *out, *r;
  int planes, hw;
} GlobalPoolCtx;

static double
global_pool_loss (void *data)
{
  GlobalPoolCtx *c = data;
  global_avgpool_forward (c->out, c->inp, c->planes, c->hw);
  return dot_double (c->out, c->r, c->planes);
}

/* Linear, so exact up to rounding; the forward against plane means in
 * double, from 1x1 (the mean is the value) to 7x7 (ResNet's last map at
 * 224) and a non-square 3x5, with enough planes to split over threads. */
static void
test_global_avgpool (void)
{
  Rng rng;
  rng_seed (&rng, 38);
  const int shapes[][2] = { { 5, 1 }, { 6, 4 }, { 3, 15 }, { 400, 49 } };
  for (size_t s = 0; s < G_N_ELEMENTS (shapes); s++)
    {
      GlobalPoolCtx c = { .planes = shapes[s][0], .hw = shapes[s][1] };
      const size_t n_in = (size_t) c.planes * c.hw;
      c.inp = g_new (float, n_in);
      c.out = g_new (float, c.planes);
      c.r = g_new (float, c.planes);
      float *expected = g_new (float, c.planes);
      float *dinp = g_new (float, n_in);
      fill_normal (&rng, c.inp, n_in, 1.0f);
      fill_normal (&rng, c.r, c.planes, 1.0f);
      for (int p = 0; p < c.planes; p++)
        {
          double sum = 0.0;
          for (int i = 0; i < c.hw; i++)
            sum += c.inp[(size_t) p * c.hw + i];
          expected[p] = (float) (sum / c.hw);
        }
      fill_value (c.out, c.planes, NAN);
      global_avgpool_forward (c.out, c.inp, c.planes, c.hw);
      g_autofree char *nf = g_strdup_printf ("global avgpool forward %dx%d",
                                             c.planes, c.hw);
      assert_all_close (nf, c.out, expected, c.planes, 1e-6, 1e-5);

      fill_value (dinp, n_in, NAN);
      global_avgpool_backward (dinp, c.r, c.planes, c.hw);
      g_autofree char *nb = g_strdup_printf ("global avgpool d input %dx%d",
                                             c.planes, c.hw);
      check_gradient (nb, global_pool_loss, &c, c.inp, dinp, n_in, 300, STEP,
                      1e-3, 1e-3, &rng);
      g_free (expected);
      g_free (dinp);
      g_free (c.inp);
      g_free (c.out);
      g_free (c.r);
    }
}

/* ---- max pooling ---- */

typedef struct
{
  float *inp, *out, *r;
  int32_t *argmax;
  int planes, h, w, k, s, p, oh, ow;
} MaxPoolCtx;

static double
maxpool_loss (void *data)
{
  MaxPoolCtx *c = data;
  maxpool2d_forward (c->out, c->argmax, c->inp, c->planes, c->h, c->w, c->k,
                     c->s, c->p);
  return dot_double (c->out, c->r, (size_t) c->planes * c->oh * c->ow);
}

/* Away from ties: each plane holds a shuffled ladder of values 0.01 apart,
 * so a +-1e-3 step never changes which element of a window is largest, and
 * the central difference is exactly the sum of R over the windows an
 * element wins (or 0). Negative values too, so that padding must never win
 * (PyTorch pads with -inf, not 0). Shapes: the ResNet stem's 3/2/1 on even
 * and odd sides, windows that do not overlap (2/2/0), overlap more (3/1/1),
 * a non-square map, and one large enough to be split over threads. The
 * forward is compared with a search written here. */
static void
test_maxpool_gradient (void)
{
  Rng rng;
  rng_seed (&rng, 39);
  const int shapes[][6] = {
    /* planes, h, w, kernel, stride, padding */
    { 3, 8, 8, 3, 2, 1 },
    { 2, 7, 9, 3, 2, 1 },
    { 2, 6, 6, 2, 2, 0 },
    { 1, 5, 4, 3, 1, 1 },
    { 2, 9, 7, 5, 3, 2 },
    { 24, 33, 30, 3, 2, 1 },
  };
  for (size_t t = 0; t < G_N_ELEMENTS (shapes); t++)
    {
      MaxPoolCtx c = { .planes = shapes[t][0], .h = shapes[t][1],
                       .w = shapes[t][2], .k = shapes[t][3],
                       .s = shapes[t][4], .p = shapes[t][5] };
      c.oh = maxpool2d_out_size (c.h, c.k, c.s, c.p);
      c.ow = maxpool2d_out_size (c.w, c.k, c.s, c.p);
      g_assert_cmpint (c.oh, ==, (c.h + 2 * c.p - c.k) / c.s + 1);
      const int hw = c.h * c.w;
      const size_t n_in = (size_t) c.planes * hw;
      const size_t n_out = (size_t) c.planes * c.oh * c.ow;
      c.inp = g_new (float, n_in);
      c.out = g_new (float, n_out);
      c.r = g_new (float, n_out);
      c.argmax = g_new (int32_t, n_out);
      float *expected = g_new (float, n_out);
      float *dinp = g_new (float, n_in);
      for (int p = 0; p < c.planes; p++)
        {
          float *x = c.inp + (size_t) p * hw;
          for (int i = 0; i < hw; i++)
            x[i] = 0.01f * (float) (i - hw / 2);
          for (int i = hw - 1; i > 0; i--)
            {
              int j = (int) rng_below (&rng, i + 1);
              float v = x[i];
              x[i] = x[j];
              x[j] = v;
            }
        }
      fill_normal (&rng, c.r, n_out, 1.0f);

      for (int p = 0; p < c.planes; p++)
        for (int oy = 0; oy < c.oh; oy++)
          for (int ox = 0; ox < c.ow; ox++)
            {
              float best = -INFINITY;
              for (int y = oy * c.s - c.p; y < oy * c.s - c.p + c.k; y++)
                for (int x = ox * c.s - c.p; x < ox * c.s - c.p + c.k; x++)
                  if (y >= 0 && y < c.h && x >= 0 && x < c.w)
                    best = fmaxf (best, c.inp[(size_t) p * hw + y * c.w + x]);
              expected[((size_t) p * c.oh + oy) * c.ow + ox] = best;
            }
      fill_value (c.out, n_out, NAN);
      maxpool2d_forward (c.out, c.argmax, c.inp, c.planes, c.h, c.w, c.k,
                         c.s, c.p);
      g_autofree char *nf
          = g_strdup_printf ("maxpool forward %dx%dx%d k%d s%d p%d", c.planes,
                             c.h, c.w, c.k, c.s, c.p);
      assert_all_close (nf, c.out, expected, n_out, 0.0, 0.0);
      /* the index points at the value taken */
      for (size_t o = 0; o < n_out; o++)
        {
          g_assert_cmpint (c.argmax[o], >=, 0);
          g_assert_cmpint (c.argmax[o], <, hw);
          g_assert_cmpfloat (c.inp[o / (c.oh * c.ow) * hw + c.argmax[o]], ==,
                             c.out[o]);
        }

      fill_value (dinp, n_in, NAN);
      maxpool2d_backward (dinp, c.r, c.argmax, c.planes, c.h, c.w, c.oh, c.ow);
      g_autofree char *nb
          = g_strdup_printf ("maxpool d input %dx%dx%d k%d s%d p%d", c.planes,
                             c.h, c.w, c.k, c.s, c.p);
      check_gradient (nb, maxpool_loss, &c, c.inp, dinp, n_in, 400, STEP,
                      1e-3, 1e-3, &rng);

      g_free (expected);
      g_free (dinp);
      g_free (c.argmax);
      g_free (c.inp);
      g_free (c.out);
      g_free (c.r);
    }
}

/* Exact ties, against PyTorch 1.13's CPU max_pool2d (kernel 3, stride 2,
 * padding 1; the indices of return_indices=True and x.grad after
 * y.sum().backward(), run by hand): the first of equal maxima in row-major
 * order takes the gradient, a NaN takes over from anything (the last NaN of
 * a window wins), a window of -inf keeps its first element inside the
 * image, and an element that wins two windows gets both gradients. A "last
 * maximum" or "padding first" rule fails here. */
static void
test_maxpool_ties (void)
{
  const float nan = NAN, inf = INFINITY;
  const struct
  {
    const char *what;
    int h, w;
    float inp[16];
    int32_t argmax[4];
    float grad[16];
  } cases[] = {
    { "equal maxima", 3, 3,
      { 1, 2, 2,
        0, 2, 1,
        2, 0, 0 },
      { 1, 1, 4, 4 },
      { 0, 2, 0,
        0, 2, 0,
        0, 0, 0 } },
    { "all zero (after a ReLU)", 4, 4,
      { 0 },
      { 0, 1, 4, 5 },
      { 1, 1, 0, 0,
        1, 1, 0, 0,
        0, 0, 0, 0,
        0, 0, 0, 0 } },
    { "NaN", 3, 3,
      { 1, nan, 2,
        nan, 2, 1,
        2, 0, 0 },
      { 3, 1, 3, 4 },
      { 0, 1, 0,
        2, 1, 0,
        0, 0, 0 } },
    { "all -inf", 3, 3,
      { -inf, -inf, -inf, -inf, -inf, -inf, -inf, -inf, -inf },
      { 0, 1, 3, 4 },
      { 1, 1, 0,
        1, 1, 0,
        0, 0, 0 } },
  };
  for (size_t t = 0; t < G_N_ELEMENTS (cases); t++)
    {
      const int h = cases[t].h, w = cases[t].w;
      g_assert_cmpint (maxpool2d_out_size (h, 3, 2, 1), ==, 2);
      float out[4], ones[4] = { 1, 1, 1, 1 }, dinp[16];
      int32_t argmax[4];
      maxpool2d_forward (out, argmax, cases[t].inp, 1, h, w, 3, 2, 1);
      maxpool2d_backward (dinp, ones, argmax, 1, h, w, 2, 2);
      for (int o = 0; o < 4; o++)
        if (argmax[o] != cases[t].argmax[o])
          g_error ("%s: output %d took element %d, PyTorch takes %d",
                   cases[t].what, o, argmax[o], cases[t].argmax[o]);
      g_autofree char *what = g_strdup_printf ("maxpool ties: %s",
                                               cases[t].what);
      assert_all_close (what, dinp, cases[t].grad, (size_t) h * w, 0.0, 0.0);
    }
}

/* ---- flatten ---- */

typedef struct
{
  float *inp, *out, *r;
  int channels, batch, hw;
} FlattenCtx;

static double
flatten_loss (void *data)
{
  FlattenCtx *c = data;
  flatten_forward (c->out, c->inp, c->channels, c->batch, c->hw);
  return dot_double (c->out, c->r, (size_t) c->channels * c->batch * c->hw);
}

/* A permutation: the forward must put inp[c][n][s] at out[n][c*hw + s]
 * (PyTorch's view of (B, C, h, w)), checked element by element, and the
 * gradient is R permuted back (exact up to rounding: atol 1e-3). */
static void
test_flatten_gradient (void)
{
  Rng rng;
  rng_seed (&rng, 34);
  FlattenCtx c = { .channels = 3, .batch = 4, .hw = 5 };
  const size_t n = (size_t) c.channels * c.batch * c.hw;
  c.inp = g_new (float, n);
  c.out = g_new (float, n);
  c.r = g_new (float, n);
  float *expected = g_new (float, n);
  float *dinp = g_new (float, n);
  fill_normal (&rng, c.inp, n, 1.0f);
  fill_normal (&rng, c.r, n, 1.0f);

  for (int ch = 0; ch < c.channels; ch++)
    for (int b = 0; b < c.batch; b++)
      for (int s = 0; s < c.hw; s++)
        expected[((size_t) b * c.channels + ch) * c.hw + s]
            = c.inp[((size_t) ch * c.batch + b) * c.hw + s];
  flatten_forward (c.out, c.inp, c.channels, c.batch, c.hw);
  assert_all_close ("flatten forward", c.out, expected, n, 0.0, 0.0);

  flatten_backward (dinp, c.r, c.channels, c.batch, c.hw);
  check_gradient ("flatten d input", flatten_loss, &c, c.inp, dinp, n, n,
                  STEP, 1e-3, 1e-3, &rng);

  g_free (expected);
  g_free (dinp);
  g_free (c.inp);
  g_free (c.out);
  g_free (c.r);
}

/* ---- linear ---- */

typedef struct
{
  Linear lin;
  float *inp, *out, *r;
  int batch;
} LinearCtx;

static double
linear_loss (void *data)
{
  LinearCtx *c = data;
  linear_forward (&c->lin, c->out, c->inp, c->batch);
  return dot_double (c->out, c->r, (size_t) c->batch * c->lin.out_features);
}

/* Linear in each of input, weight and bias: exact up to the float rounding
 * of the B*D outputs (~1e-6 in L over 2h): atol 2e-3, rtol 2e-3 for
 * gradients of O(1). The forward is compared with x W^T + b in double. */
static void
test_linear_gradient (void)
{
  Rng rng;
  rng_seed (&rng, 35);
  LinearCtx c = { .batch = 3 };
  const int F = 13, D = 7;
  linear_init (&c.lin, F, D);
  float *weight = g_new (float, (size_t) D * F);
  float *bias = g_new (float, D);
  float *gw = g_new (float, (size_t) D * F);
  float *gb = g_new (float, D);
  c.inp = g_new (float, (size_t) c.batch * F);
  c.out = g_new (float, (size_t) c.batch * D);
  c.r = g_new (float, (size_t) c.batch * D);
  float *expected = g_new (float, (size_t) c.batch * D);
  float *dinp = g_new (float, (size_t) c.batch * F);
  fill_normal (&rng, weight, (size_t) D * F, 0.5f);
  fill_normal (&rng, bias, D, 1.0f);
  fill_normal (&rng, c.inp, (size_t) c.batch * F, 1.0f);
  fill_normal (&rng, c.r, (size_t) c.batch * D, 1.0f);
  c.lin.weight = weight;
  c.lin.bias = bias;
  c.lin.grad_weight = gw;
  c.lin.grad_bias = gb;

  for (int b = 0; b < c.batch; b++)
    for (int d = 0; d < D; d++)
      {
        double sum = bias[d];
        for (int f = 0; f < F; f++)
          sum += (double) c.inp[b * F + f] * weight[d * F + f];
        expected[b * D + d] = (float) sum;
      }
  linear_forward (&c.lin, c.out, c.inp, c.batch);
  assert_all_close ("linear forward", c.out, expected, (size_t) c.batch * D,
                    1e-5, 1e-5);

  fill_value (gw, (size_t) D * F, NAN);
  fill_value (gb, D, NAN);
  fill_value (dinp, (size_t) c.batch * F, NAN);
  linear_backward (&c.lin, dinp, c.r, c.batch);
  float *gw_copy = g_memdup2 (gw, sizeof (float) * D * F);
  float *gb_copy = g_memdup2 (gb, sizeof (float) * D);
  check_gradient ("linear d input", linear_loss, &c, c.inp, dinp,
                  (size_t) c.batch * F, 1000, STEP, 2e-3, 2e-3, &rng);
  check_gradient ("linear d weight", linear_loss, &c, weight, gw_copy,
                  (size_t) D * F, 1000, STEP, 2e-3, 2e-3, &rng);
  check_gradient ("linear d bias", linear_loss, &c, bias, gb_copy, D, 1000,
                  STEP, 2e-3, 2e-3, &rng);

  /* dinp NULL still yields the parameter gradients */
  fill_value (gw, (size_t) D * F, NAN);
  linear_backward (&c.lin, NULL, c.r, c.batch);
  assert_all_close ("linear d weight, dinp NULL", gw, gw_copy,
                    (size_t) D * F, 0.0, 1e-6);

  g_free (gw_copy);
  g_free (gb_copy);
  g_free (weight);
  g_free (bias);
  g_free (gw);
  g_free (gb);
  g_free (expected);
  g_free (dinp);
  g_free (c.inp);
  g_free (c.out);
  g_free (c.r);
}

/* ---- L2 normalisation ---- */

typedef struct
{
  float *inp, *out, *norms, *r;
  int batch, dim;
} L2Ctx;

static double
l2_loss (void *data)
{
  L2Ctx *c = data;
  l2norm_forward (c->out, c->norms, c->inp, c->batch, c->dim);
  return dot_double (c->out, c->r, (size_t) c->batch * c->dim);
}

/* Smooth, with curvature ~1/||x||^2; rows have norms of 1 to 4 so the
 * O(h^2) truncation is < 1e-6. Gradients are O(0.1 to 1): atol 1e-3,
 * rtol 1e-2. The forward gives unit rows and the saved norms are checked
 * against double-precision norms. */
static void
test_l2norm_gradient (void)
{
  Rng rng;
  rng_seed (&rng, 36);
  L2Ctx c = { .batch = 4, .dim = 9 };
  const size_t n = (size_t) c.batch * c.dim;
  c.inp = g_new (float, n);
  c.out = g_new (float, n);
  c.norms = g_new (float, c.batch);
  c.r = g_new (float, n);
  float *dinp = g_new (float, n);
  float expected_norms[4], unit[4], ones[4];
  fill_normal (&rng, c.inp, n, 1.0f);
  for (size_t i = 0; i < (size_t) c.dim; i++)
    c.inp[i] *= 0.5f;     /* one row of smaller norm */
  fill_normal (&rng, c.r, n, 1.0f);

  l2norm_forward (c.out, c.norms, c.inp, c.batch, c.dim);
  for (int b = 0; b < c.batch; b++)
    {
      expected_norms[b] = (float) sqrt (dot_double (c.inp + b * c.dim,
                                                    c.inp + b * c.dim, c.dim));
      unit[b] = (float) sqrt (dot_double (c.out + b * c.dim,
                                          c.out + b * c.dim, c.dim));
      ones[b] = 1.0f;
    }
  assert_all_close ("l2norm saved norms", c.norms, expected_norms, c.batch,
                    1e-6, 1e-6);
  assert_all_close ("l2norm unit rows", unit, ones, c.batch, 1e-6, 0.0);

  l2norm_backward (dinp, c.r, c.out, c.norms, c.batch, c.dim);
  check_gradient ("l2norm d input", l2_loss, &c, c.inp, dinp, n, n, STEP,
                  1e-3, 1e-2, &rng);

  /* in place, as documented */
  float *inplace = g_memdup2 (c.r, sizeof (float) * n);
  l2norm_forward (c.out, c.norms, c.inp, c.batch, c.dim);
  l2norm_backward (inplace, inplace, c.out, c.norms, c.batch, c.dim);
  assert_all_close ("l2norm backward in place", inplace, dinp, n, 1e-7, 1e-6);

  g_free (inplace);
  g_free (dinp);
  g_free (c.inp);
  g_free (c.out);
  g_free (c.norms);
  g_free (c.r);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/layers/relu", test_relu_gradient);
  g_test_add_func ("/engine/layers/add-relu", test_add_relu_gradient);
  g_test_add_func ("/engine/layers/add-relu/in-place", test_add_relu_in_place);
  g_test_add_func ("/engine/layers/avgpool", test_avgpool_gradient);
  g_test_add_func ("/engine/layers/global-avgpool", test_global_avgpool);
  g_test_add_func ("/engine/layers/maxpool/gradient", test_maxpool_gradient);
  g_test_add_func ("/engine/layers/maxpool/ties", test_maxpool_ties);
  g_test_add_func ("/engine/layers/flatten", test_flatten_gradient);
  g_test_add_func ("/engine/layers/linear", test_linear_gradient);
  g_test_add_func ("/engine/layers/l2norm", test_l2norm_gradient);
  return g_test_run ();
}
