/* test-conv.c: the im2col + sgemm convolution against the seven-loop
 * reference, and both against central differences. (Winograd's path for
 * the 3x3 stride-1 layers has its own tests, test-winograd.c.) */
#include <glib.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "conv.h"
#include "gradcheck.h"
#include "rng.h"
#include "testutil.h"

typedef struct
{
  int c, oc, k, stride, pad, h, w;
  int batch;
  int chunk;    /* images per workspace chunk; < batch forces several chunks */
} ConvCase;

/* Odd shapes on purpose: non-square images, C = 1 and 3, strides that leave
 * a remainder, padding 0/1/2, 1x1 pointwise and strided, 3x3 and 5x5, and
 * batches that the chunk size does not divide. */
static const ConvCase conv_cases[] = {
  { 3, 4, 3, 1, 1, 7, 11, 5, 2 },
  { 1, 3, 3, 2, 1, 7, 11, 3, 2 },
  { 3, 5, 5, 1, 2, 9, 6, 3, 1 },
  { 3, 2, 5, 2, 0, 11, 7, 5, 3 },
  { 2, 3, 1, 1, 0, 5, 7, 3, 1 },  /* pointwise: no columns, no workspace */
  { 3, 4, 1, 2, 0, 7, 11, 5, 2 }, /* the shortcut's strided 1x1 */
  { 1, 2, 3, 2, 2, 6, 5, 4, 3 },
  { 2, 3, 3, 1, 0, 7, 11, 4, 3 },
  { 1, 1, 5, 2, 1, 11, 7, 7, 4 },
  /* stride 2 on rows long enough for conv.c's 4-float split by parity:
   * the downsampling 3x3 on even and odd sizes, a 7x7 with P = 3 as the
   * ImageNet stem's, and a plane too large to split (the general loops) */
  { 3, 4, 3, 2, 1, 16, 12, 3, 2 },
  { 2, 3, 3, 2, 1, 9, 14, 3, 2 },
  { 2, 2, 7, 2, 3, 19, 23, 2, 1 },
  { 1, 2, 3, 2, 1, 96, 90, 2, 1 },
};

typedef struct
{
  Conv2d conv;
  Workspace ws;
  float *weight, *grad_weight;
  float *inp, *out, *dout;
  size_t n_inp, n_out, n_weight;
  const ConvCase *cc;
} ConvFixture;

static void
fixture_init (ConvFixture *f, const ConvCase *cc, Rng *rng)
{
  memset (f, 0, sizeof *f);
  f->cc = cc;
  conv2d_init (&f->conv, cc->c, cc->oc, cc->k, cc->stride, cc->pad, cc->h,
               cc->w);
  f->n_weight = (size_t) cc->oc * cc->c * cc->k * cc->k;
  f->n_inp = (size_t) cc->c * cc->batch * cc->h * cc->w;
  f->n_out = (size_t) cc->oc * cc->batch * f->conv.out_h * f->conv.out_w;
  f->weight = g_new (float, f->n_weight);
  f->grad_weight = g_new (float, f->n_weight);
  f->inp = g_new (float, f->n_inp);
  f->out = g_new (float, f->n_out);
  f->dout = g_new (float, f->n_out);
  fill_normal (rng, f->weight, f->n_weight, 0.5f);
  fill_normal (rng, f->inp, f->n_inp, 1.0f);
  fill_normal (rng, f->dout, f->n_out, 1.0f);
  f->conv.weight = f->weight;
  f->conv.grad_weight = f->grad_weight;

  /* Exactly `chunk` images of columns, pre-filled with NaN: a column the
   * im2col forgets to write would poison the result instead of passing
   * silently with a stale zero. */
  f->ws.n_floats = conv2d_workspace_floats (&f->conv, cc->chunk);
  f->ws.col = g_new (float, f->ws.n_floats ? f->ws.n_floats : 1);
  fill_value (f->ws.col, f->ws.n_floats, NAN);
}

static void
fixture_clear (ConvFixture *f)
{
  g_free (f->weight);
  g_free (f->grad_weight);
  g_free (f->inp);
  g_free (f->out);
  g_free (f->dout);
  g_free (f->ws.col);
}

static char *
case_name (const ConvCase *cc, const char *what)
{
  return g_strdup_printf ("%s C%d->%d k%d s%d p%d %dx%d B%d chunk%d", what,
                          cc->c, cc->oc, cc->k, cc->stride, cc->pad, cc->h,
                          cc->w, cc->batch, cc->chunk);
}

/* Float sgemm against a double-accumulated reference: at most 98 products
 * of O(1) terms per output, so float rounding stays near 1e-6; atol 1e-5,
 * rtol 1e-4 leaves a wide margin yet catches any misplaced tap (O(0.1)). */
static void
test_conv_forward (void)
{
  Rng rng;
  rng_seed (&rng, 11);
  for (size_t t = 0; t < G_N_ELEMENTS (conv_cases); t++)
    {
      ConvFixture f;
      fixture_init (&f, &conv_cases[t], &rng);
      float *expected = g_new (float, f.n_out);
      conv2d_reference_forward (&f.conv, expected, f.inp, f.cc->batch);
      fill_value (f.out, f.n_out, NAN);
      conv2d_forward (&f.conv, f.out, f.inp, f.cc->batch, &f.ws);
      g_autofree char *name = case_name (f.cc, "forward");
      assert_all_close (name, f.out, expected, f.n_out, 1e-5, 1e-4);
      g_free (expected);
      fixture_clear (&f);
    }
}

/* The reference backward sums up to B*OH*OW (a few hundred) float products
 * per weight; atol 1e-4 and rtol 1e-4 cover that rounding. Outputs are
 * pre-filled with NaN to check that they are written, not accumulated. */
static void
test_conv_backward (void)
{
  Rng rng;
  rng_seed (&rng, 12);
  for (size_t t = 0; t < G_N_ELEMENTS (conv_cases); t++)
    {
      ConvFixture f;
      fixture_init (&f, &conv_cases[t], &rng);
      float *ref_dinp = g_new (float, f.n_inp);
      float *ref_dw = g_new (float, f.n_weight);
      float *dinp = g_new (float, f.n_inp);
      conv2d_reference_backward (&f.conv, ref_dinp, ref_dw, f.dout, f.inp,
                                 f.cc->batch);

      conv2d_forward (&f.conv, f.out, f.inp, f.cc->batch, &f.ws);
      fill_value (dinp, f.n_inp, NAN);
      fill_value (f.grad_weight, f.n_weight, NAN);
      conv2d_backward (&f.conv, dinp, f.dout, f.cc->batch, &f.ws);
      g_autofree char *name_dw = case_name (f.cc, "backward dweight");
      g_autofree char *name_dx = case_name (f.cc, "backward dinp");
      assert_all_close (name_dw, f.grad_weight, ref_dw, f.n_weight, 1e-4,
                        1e-4);
      assert_all_close (name_dx, dinp, ref_dinp, f.n_inp, 1e-4, 1e-4);

      /* dinp NULL (the network's first layer): the weight gradient alone */
      fill_value (f.grad_weight, f.n_weight, NAN);
      conv2d_backward (&f.conv, NULL, f.dout, f.cc->batch, &f.ws);
      g_autofree char *name_null = case_name (f.cc, "backward dweight, dinp NULL");
      assert_all_close (name_null, f.grad_weight, ref_dw, f.n_weight, 1e-4,
                        1e-4);

      g_free (ref_dinp);
      g_free (ref_dw);
      g_free (dinp);
      fixture_clear (&f);
    }
}

/* conv2d_forward_affine on im2col's layers: each output channel's values
 * mapped by a scale and a shift, with a ReLU, then with a residual added
 * before it, as the plain forward's result mapped value by value; with
 * OpenBLAS's own sgemm blocks and with blocks of 7 columns, so that the map
 * follows every block's place in the output. */
static void
test_conv_affine (void)
{
  Rng rng;
  rng_seed (&rng, 13);
  for (int blocks = 0; blocks < 2; blocks++)
    for (size_t t = 0; t < G_N_ELEMENTS (conv_cases); t++)
      for (int kind = 0; kind < 3; kind++)
        {
          conv2d_set_sgemm_columns (blocks ? 7 : 0);
          ConvFixture f;
          fixture_init (&f, &conv_cases[t], &rng);
          const int oc = f.cc->oc;
          float *scale = g_new (float, oc), *shift = g_new (float, oc);
          float *residual = kind == 2 ? g_new (float, f.n_out) : NULL;
          float *expected = g_new (float, f.n_out);
          fill_normal (&rng, scale, oc, 1.0f);
          fill_normal (&rng, shift, oc, 1.0f);
          if (residual)
            fill_normal (&rng, residual, f.n_out, 1.0f);
          conv2d_forward (&f.conv, expected, f.inp, f.cc->batch, &f.ws);
          const size_t per_channel = f.n_out / oc;
          for (size_t i = 0; i < f.n_out; i++)
            {
              float v = expected[i] * scale[i / per_channel]
                        + shift[i / per_channel];
              if (residual)
                v += residual[i];
              expected[i] = kind > 0 && !(v > 0.0f) ? 0.0f : v;
            }
          fill_value (f.out, f.n_out, NAN);
          conv2d_forward_affine (&f.conv, f.out, f.inp, f.cc->batch, &f.ws,
                                 scale, shift, residual, kind > 0);
          static const char *const kinds[] = {
            "affine", "affine + ReLU", "affine + residual + ReLU"
          };
          g_autofree char *name = case_name (f.cc, kinds[kind]);
          /* the same products; the map may round once less (a fused
           * multiply-add) */
          assert_all_close (name, f.out, expected, f.n_out, 1e-5, 1e-5);
          g_free (scale);
          g_free (shift);
          g_free (residual);
          g_free (expected);
          fixture_clear (&f);
        }
  conv2d_set_sgemm_columns (0);
}

/* The same two tests with every sgemm of the forward and the input
 * gradient cut into blocks of 7 columns (conv2d_set_sgemm_columns): blocks
 * that straddle rows, images and chunks, and a shorter last block. On a
 * processor whose OpenBLAS multiplies small products unpacked, conv.c cuts
 * the small ResNet's stem and downsampling layers this way. */
static void
test_conv_sgemm_blocks (void)
{
  conv2d_set_sgemm_columns (7);
  test_conv_forward ();
  test_conv_backward ();
  conv2d_set_sgemm_columns (0);
}

/* ---- central differences ---- */

typedef struct
{
  ConvFixture *f;
  float *r;         /* the random projection R, (OC, B, OH, OW) */
  bool fast;
} ConvLoss;

static double
conv_loss (void *data)
{
  ConvLoss *l = data;
  ConvFixture *f = l->f;
  if (l->fast)
    conv2d_forward (&f->conv, f->out, f->inp, f->cc->batch, &f->ws);
  else
    conv2d_reference_forward (&f->conv, f->out, f->inp, f->cc->batch);
  return dot_double (f->out, l->r, f->n_out);
}

/* L = sum (out * R) is linear in the input and in the weight, so the
 * central difference has no truncation error: what remains is the float
 * rounding of the few outputs a step moves (~1e-6 in L, ~1e-3 after
 * dividing by 2h = 2e-3). Gradients here are O(1) to O(10): atol 5e-3,
 * rtol 5e-3. Checked on both the reference and the fast kernels. */
static void
test_conv_gradient (void)
{
  Rng rng;
  rng_seed (&rng, 13);
  const float h = 1e-3f;
  for (size_t t = 0; t < G_N_ELEMENTS (conv_cases); t++)
    {
      ConvFixture f;
      fixture_init (&f, &conv_cases[t], &rng);
      float *r = g_new (float, f.n_out);
      float *dinp = g_new (float, f.n_inp);
      float *dw = g_new (float, f.n_weight);
      fill_normal (&rng, r, f.n_out, 1.0f);

      for (int fast = 0; fast <= 1; fast++)
        {
          ConvLoss loss = { &f, r, fast };
          if (fast)
            {
              conv2d_forward (&f.conv, f.out, f.inp, f.cc->batch, &f.ws);
              conv2d_backward (&f.conv, dinp, r, f.cc->batch, &f.ws);
              memcpy (dw, f.grad_weight, sizeof (float) * f.n_weight);
            }
          else
            conv2d_reference_backward (&f.conv, dinp, dw, r, f.inp,
                                       f.cc->batch);
          const char *kind = fast ? "fast" : "reference";
          g_autofree char *what = g_strdup_printf ("gradient %s", kind);
          g_autofree char *name_x = case_name (f.cc, what);
          g_autofree char *name_w = g_strdup_printf ("%s weight", name_x);
          check_gradient (name_x, conv_loss, &loss, f.inp, dinp, f.n_inp, 60,
                          h, 5e-3, 5e-3, &rng);
          check_gradient (name_w, conv_loss, &loss, f.weight, dw, f.n_weight,
                          60, h, 5e-3, 5e-3, &rng);
        }
      g_free (r);
      g_free (dinp);
      g_free (dw);
      fixture_clear (&f);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* the im2col path for every case, whatever the shape */
  conv2d_set_algo (CONV_ALGO_IM2COL);
  g_test_add_func ("/engine/conv/forward", test_conv_forward);
  g_test_add_func ("/engine/conv/backward", test_conv_backward);
  g_test_add_func ("/engine/conv/sgemm-blocks", test_conv_sgemm_blocks);
  g_test_add_func ("/engine/conv/affine", test_conv_affine);
  g_test_add_func ("/engine/conv/gradient", test_conv_gradient);
  return g_test_run ();
}
