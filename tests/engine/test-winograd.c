/* test-winograd.c: the F(4x4, 3x3) path of the 3x3 stride-1 convolutions
 * (winograd.h) against a double-precision reference on awkward shapes, its
 * accuracy next to im2col's at the ResNets' own layer shapes, central
 * differences, and which way conv.c picks.
 *
 * How accurate it has to be. The transforms scale by up to 8 (A^T) and 5
 * (B^T) and then cancel, so each output of Winograd carries more float32
 * rounding than im2col's plain dot product. The accuracy test measures
 * both against a double-precision reference at the ResNets' layer shapes
 * (post-ReLU inputs, PyTorch's initial weights) and prints them: the
 * largest |diff| over 600 sampled elements is 3e-7..1.2e-6 of the result's
 * rms for im2col and 2.4e-6..9.1e-6 for Winograd, 3 to 15 times more
 * (1.4e-5 at worst with other data seeds). Tolerances are relative to the
 * tensor's rms, like the parity test's: |diff| <= TOL x rms (reference).
 * TOL = 5e-5 leaves a factor of 3.5 over the worst Winograd error seen and
 * stays far below what a real mistake does: a misplaced tap moves an
 * output by about 1/sqrt(9 C) of its rms (1.5e-2 at C = 512), a wrong
 * transform coefficient by more.
 *
 * (The interpolation points 0, 1, -1, 1/2, -2 of winograd.c were chosen
 * for this: the usual 0, 1, -1, 2, -2 measured 2.3e-5 forward and 3.3e-5
 * input gradient here, two to four times more.)
 */
#include <glib.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "blas-kernels.h"
#include "conv.h"
#include "gradcheck.h"
#include "rng.h"
#include "testutil.h"
#include "threads.h"
#include "winograd.h"

#define TOL 5e-5

typedef struct
{
  int c, oc, h, w;
  int batch;
  int chunk;     /* images the workspace is sized for: < batch, several chunks */
  int threads;
} Case;

/* Map sizes that are multiples of 4, the networks' 28/14/7/4, smaller than
 * one tile, and odd and not square; channel counts that are not multiples
 * of the 8 lanes of a transform; one or two threads, and workspaces that
 * force several chunks (the weight gradient's sum then runs over them). */
static const Case cases[] = {
  { 3, 4, 7, 11, 5, 2, 1 },
  { 8, 8, 4, 4, 3, 1, 2 },
  { 9, 17, 7, 7, 4, 3, 2 },
  { 16, 8, 14, 14, 2, 1, 2 },
  { 1, 3, 1, 1, 3, 2, 1 },      /* a 1x1 map: the tile is nearly all padding */
  { 5, 2, 2, 3, 4, 4, 2 },
  { 4, 12, 13, 6, 3, 2, 2 },
  { 2, 5, 28, 28, 2, 1, 1 },
  { 11, 7, 9, 5, 7, 7, 2 },
  /* chunks of more tiles than the zero-padded copies of winograd.c hold
   * (four 60x60 images): they go in spans, the second starting inside an
   * image */
  { 2, 3, 60, 60, 6, 6, 1 },
  { 3, 2, 60, 60, 7, 5, 2 },
  /* a map too large for the zero-padded copies of winograd.c: the path
   * that checks each patch row against the edges */
  { 2, 3, 129, 131, 1, 1, 2 },
};

static char *
case_name (const Case *cc, const char *what)
{
  return g_strdup_printf ("%s C%d->%d %dx%d B%d chunk%d threads%d", what,
                          cc->c, cc->oc, cc->h, cc->w, cc->batch, cc->chunk,
                          cc->threads);
}

/* ---- the definition, in double, one value at a time ---- */

typedef struct
{
  int C, OC, B, H, W;
  const float *weight;   /* (OC, C, 3, 3) */
  const float *inp;      /* (C, B, H, W) */
  const float *dout;     /* (OC, B, H, W) */
} Problem;

static double
ref_out (const Problem *p, int oc, int n, int y, int x)
{
  double s = 0.0;
  for (int c = 0; c < p->C; c++)
    for (int ky = 0; ky < 3; ky++)
      for (int kx = 0; kx < 3; kx++)
        {
          int iy = y + ky - 1, ix = x + kx - 1;
          if (iy < 0 || iy >= p->H || ix < 0 || ix >= p->W)
            continue;
          s += (double) p->weight[((size_t) oc * p->C + c) * 9 + ky * 3 + kx]
               * p->inp[(((size_t) c * p->B + n) * p->H + iy) * p->W + ix];
        }
  return s;
}

static double
ref_dinp (const Problem *p, int c, int n, int y, int x)
{
  double s = 0.0;
  for (int oc = 0; oc < p->OC; oc++)
    for (int ky = 0; ky < 3; ky++)
      for (int kx = 0; kx < 3; kx++)
        {
          int oy = y - ky + 1, ox = x - kx + 1;
          if (oy < 0 || oy >= p->H || ox < 0 || ox >= p->W)
            continue;
          s += (double) p->weight[((size_t) oc * p->C + c) * 9 + ky * 3 + kx]
               * p->dout[(((size_t) oc * p->B + n) * p->H + oy) * p->W + ox];
        }
  return s;
}

static double
ref_dweight (const Problem *p, int oc, int c, int ky, int kx)
{
  double s = 0.0;
  for (int n = 0; n < p->B; n++)
    for (int y = 0; y < p->H; y++)
      for (int x = 0; x < p->W; x++)
        {
          int iy = y + ky - 1, ix = x + kx - 1;
          if (iy < 0 || iy >= p->H || ix < 0 || ix >= p->W)
            continue;
          s += (double) p->dout[(((size_t) oc * p->B + n) * p->H + y) * p->W + x]
               * p->inp[(((size_t) c * p->B + n) * p->H + iy) * p->W + ix];
        }
  return s;
}

typedef enum { OUT, DINP, DWEIGHT } Pass;

/* the reference value of element i of a pass's result */
static double
ref_at (const Problem *p, Pass pass, size_t i)
{
  const size_t plane = (size_t) p->H * p->W;
  if (pass == DWEIGHT)
    return ref_dweight (p, (int) (i / (9 * p->C)), (int) (i / 9 % p->C),
                        (int) (i % 9 / 3), (int) (i % 3));
  int ch = (int) (i / (plane * p->B)), n = (int) (i / plane % p->B);
  int y = (int) (i % plane / p->W), x = (int) (i % p->W);
  return pass == OUT ? ref_out (p, ch, n, y, x) : ref_dinp (p, ch, n, y, x);
}

/* max |got - ref| / rms (ref) over the elements idx[0..m) (all n when idx
 * is NULL) of a pass's result */
static double
error_vs_reference (const Problem *p, Pass pass, const float *got, size_t n,
                    const size_t *idx, size_t m)
{
  double worst = 0.0, sum_sq = 0.0;
  size_t count = idx ? m : n;
  for (size_t k = 0; k < count; k++)
    {
      size_t i = idx ? idx[k] : k;
      double r = ref_at (p, pass, i);
      double d = fabs ((double) got[i] - r);
      worst = isnan (d) ? INFINITY : fmax (worst, d);
      sum_sq += r * r;
    }
  double rms = sqrt (sum_sq / count);
  return worst / (rms > 0.0 ? rms : 1.0);
}

/* ---- a convolution with its buffers ---- */

typedef struct
{
  Conv2d conv;
  Workspace ws;
  Problem p;
  float *weight, *grad_weight, *inp, *out, *dout, *dinp;
  size_t n_inp, n_out, n_weight;
} Fixture;

/* Buffers for C -> OC on H x W, batch B; a workspace for `chunk` images on
 * `threads` threads, by either way, filled with NaN so that a value read
 * before it is written poisons the result. */
static void
fixture_init (Fixture *f, int C, int OC, int H, int W, int B, int chunk,
              int threads)
{
  memset (f, 0, sizeof *f);
  conv2d_init (&f->conv, C, OC, 3, 1, 1, H, W);
  f->n_weight = (size_t) OC * C * 9;
  f->n_inp = (size_t) C * B * H * W;
  f->n_out = (size_t) OC * B * H * W;
  f->weight = g_new (float, f->n_weight);
  f->grad_weight = g_new (float, f->n_weight);
  f->inp = g_new (float, f->n_inp);
  f->dinp = g_new (float, f->n_inp);
  f->out = g_new (float, f->n_out);
  f->dout = g_new (float, f->n_out);
  f->conv.weight = f->weight;
  f->conv.grad_weight = f->grad_weight;
  size_t wino = conv2d_winograd_workspace_floats (&f->conv, chunk, threads);
  size_t im2col = conv2d_workspace_floats (&f->conv, chunk);
  f->ws.n_floats = wino > im2col ? wino : im2col;
  f->ws.col = g_new (float, f->ws.n_floats);
  fill_value (f->ws.col, f->ws.n_floats, NAN);
  f->p = (Problem) { C, OC, B, H, W, f->weight, f->inp, f->dout };
}

/* The fixture of case cc on its threads, with random weights (sd 0.5),
 * input and output gradient (sd 1) */
static void
fixture_init_case (Fixture *f, const Case *cc, Rng *rng)
{
  engine_set_threads (cc->threads);
  fixture_init (f, cc->c, cc->oc, cc->h, cc->w, cc->batch, cc->chunk,
                cc->threads);
  fill_normal (rng, f->weight, f->n_weight, 0.5f);
  fill_normal (rng, f->inp, f->n_inp, 1.0f);
  fill_normal (rng, f->dout, f->n_out, 1.0f);
}

static void
fixture_clear (Fixture *f)
{
  g_free (f->weight);
  g_free (f->grad_weight);
  g_free (f->inp);
  g_free (f->dinp);
  g_free (f->out);
  g_free (f->dout);
  g_free (f->ws.col);
}

/* forward, then backward with and without the input gradient; every result
 * pre-filled with NaN, to see that it is written and not accumulated */
static void
run_all (Fixture *f, float *dweight_only)
{
  const int B = f->p.B;
  fill_value (f->out, f->n_out, NAN);
  conv2d_forward (&f->conv, f->out, f->inp, B, &f->ws);
  fill_value (f->dinp, f->n_inp, NAN);
  fill_value (f->grad_weight, f->n_weight, NAN);
  conv2d_backward (&f->conv, f->dinp, f->dout, B, &f->ws);
  if (dweight_only)
    {
      float *keep = g_memdup2 (f->grad_weight, sizeof (float) * f->n_weight);
      fill_value (f->grad_weight, f->n_weight, NAN);
      conv2d_backward (&f->conv, NULL, f->dout, B, &f->ws);
      memcpy (dweight_only, f->grad_weight, sizeof (float) * f->n_weight);
      memcpy (f->grad_weight, keep, sizeof (float) * f->n_weight);
      g_free (keep);
    }
}

/* ---- every element of odd shapes against the definition ---- */

static void
test_winograd_shapes (void)
{
  Rng rng;
  rng_seed (&rng, 31);
  conv2d_set_algo (CONV_ALGO_WINOGRAD);
  for (size_t t = 0; t < G_N_ELEMENTS (cases); t++)
    {
      const Case *cc = &cases[t];
      Fixture f;
      fixture_init_case (&f, cc, &rng);
      g_assert_true (conv2d_uses_winograd (&f.conv, &f.ws, false));
      g_assert_true (conv2d_uses_winograd (&f.conv, &f.ws, true));
      float *dw_only = g_new (float, f.n_weight);
      run_all (&f, dw_only);

      struct { const char *what; Pass pass; const float *got; size_t n; }
      checks[] = {
        { "forward", OUT, f.out, f.n_out },
        { "dinp", DINP, f.dinp, f.n_inp },
        { "dweight", DWEIGHT, f.grad_weight, f.n_weight },
        { "dweight, dinp NULL", DWEIGHT, dw_only, f.n_weight },
      };
      for (size_t k = 0; k < G_N_ELEMENTS (checks); k++)
        {
          double err = error_vs_reference (&f.p, checks[k].pass,
                                           checks[k].got, checks[k].n, NULL,
                                           0);
          g_autofree char *name = case_name (cc, checks[k].what);
          g_test_message ("%s: max |diff| %.3g x rms", name, err);
          if (!(err <= TOL))
            g_error ("%s: max |diff| %.3g x rms > %g", name, err, TOL);
        }
      g_free (dw_only);
      fixture_clear (&f);
    }
  engine_set_threads (1);
}

/* ---- accuracy at the networks' shapes, next to im2col's ---- */

typedef struct
{
  const char *name;
  int c, hw, batch;
} LayerShape;

/* the 3x3 stride-1 layers of ResNet-18 and the small ResNet on 28x28 */
static const LayerShape layer_shapes[] = {
  { "resnet18 layer1", 64, 28, 2 },
  { "resnet18 layer2", 128, 14, 4 },
  { "resnet18 layer3", 256, 7, 8 },
  { "resnet18 layer4", 512, 4, 8 },
  { "small layer1", 16, 28, 4 },
  { "small layer2", 32, 14, 8 },
  { "small layer3", 64, 7, 8 },
  { "small layer4", 128, 4, 16 },
  /* 160 tiles on two threads: runs of 64 would make products of 1.05
   * million multiply-adds, cut to 56 tiles below a million (the test sets
   * that limit, blas_kernels_set_unpacked_max_macs) */
  { "small layer4, batch 160", 128, 4, 160 },
};

#define SAMPLES 600

/* Inputs as after batch norm and ReLU (half zeros, the rest a half-normal
 * of rms about 1), weights as PyTorch initialises them (uniform within
 * 1/sqrt(9 C)), output gradients normal. The reference is evaluated at
 * SAMPLES elements of each result, drawn at random. */
static void
test_winograd_accuracy (void)
{
  Rng rng;
  rng_seed (&rng, 32);
  engine_set_threads (2);
  /* the runs AVX-512's OpenBLAS gets, whatever the kernels here */
  blas_kernels_set_unpacked_max_macs (1e6);
  double worst[2][3] = { { 0 } };
  for (size_t s = 0; s < G_N_ELEMENTS (layer_shapes); s++)
    {
      const LayerShape *ls = &layer_shapes[s];
      Fixture f;
      fixture_init (&f, ls->c, ls->c, ls->hw, ls->hw, ls->batch, ls->batch,
                    2);
      float bound = 1.0f / sqrtf (9.0f * ls->c);
      fill_uniform_range (&rng, f.weight, f.n_weight, -bound, bound);
      fill_normal (&rng, f.inp, f.n_inp, 1.0f);
      for (size_t i = 0; i < f.n_inp; i++)
        f.inp[i] = f.inp[i] > 0.0f ? f.inp[i] : 0.0f;
      fill_normal (&rng, f.dout, f.n_out, 1.0f);

      size_t idx[3][SAMPLES];
      const size_t sizes[3] = { f.n_out, f.n_inp, f.n_weight };
      for (int pass = 0; pass < 3; pass++)
        for (int k = 0; k < SAMPLES; k++)
          idx[pass][k] = (size_t) rng_below (&rng, sizes[pass]);

      double err[2][3];
      for (int way = 0; way < 2; way++)
        {
          conv2d_set_algo (way ? CONV_ALGO_WINOGRAD : CONV_ALGO_IM2COL);
          g_assert_true (conv2d_uses_winograd (&f.conv, &f.ws, false) == way);
          run_all (&f, NULL);
          const float *got[3] = { f.out, f.dinp, f.grad_weight };
          for (int pass = 0; pass < 3; pass++)
            {
              err[way][pass] = error_vs_reference (&f.p, pass, got[pass],
                                                   sizes[pass], idx[pass],
                                                   SAMPLES);
              worst[way][pass] = fmax (worst[way][pass], err[way][pass]);
            }
        }
      g_test_message ("%-16s C%-3d %2dx%-2d B%-2d max |diff| / rms: "
                      "forward %.2g (im2col %.2g), dinp %.2g (%.2g), "
                      "dweight %.2g (%.2g)", ls->name, ls->c, ls->hw, ls->hw,
                      ls->batch, err[1][OUT], err[0][OUT], err[1][DINP],
                      err[0][DINP], err[1][DWEIGHT], err[0][DWEIGHT]);
      for (int pass = 0; pass < 3; pass++)
        if (!(err[1][pass] <= TOL))
          g_error ("%s: Winograd's error %.3g x rms > %g (pass %d)",
                   ls->name, err[1][pass], TOL, pass);
      fixture_clear (&f);
    }
  g_test_message ("worst over the shapes, Winograd (im2col): forward %.2g "
                  "(%.2g), dinp %.2g (%.2g), dweight %.2g (%.2g)",
                  worst[1][OUT], worst[0][OUT], worst[1][DINP], worst[0][DINP],
                  worst[1][DWEIGHT], worst[0][DWEIGHT]);
  blas_kernels_set_unpacked_max_macs (0);
  engine_set_threads (1);
}

/* ---- central differences ---- */

typedef struct
{
  Fixture *f;
  const float *r;   /* (OC, B, H, W) */
} Loss;

static double
projection_loss (void *data)
{
  Loss *l = data;
  conv2d_forward (&l->f->conv, l->f->out, l->f->inp, l->f->p.B, &l->f->ws);
  return dot_double (l->f->out, l->r, l->f->n_out);
}

/* L = sum (out * R) is linear in the input and in the weight, so the
 * central difference has no truncation error, only the rounding of L. A
 * step of one input moves every output of the tiles that read it (up to 4
 * tiles x 16 outputs x OC), each by Winograd's rounding, where im2col's
 * moves only the 9 x OC outputs that depend on it; so the step is h = 1e-2
 * instead of test-conv.c's 1e-3 (L being linear, a larger step costs
 * nothing), with the same atol 5e-3 and rtol 5e-3. */
static void
test_winograd_gradient (void)
{
  Rng rng;
  rng_seed (&rng, 33);
  conv2d_set_algo (CONV_ALGO_WINOGRAD);
  const Case grad_cases[] = {
    { 3, 4, 7, 11, 3, 2, 1 },
    { 9, 5, 5, 4, 2, 1, 2 },
  };
  for (size_t t = 0; t < G_N_ELEMENTS (grad_cases); t++)
    {
      const Case *cc = &grad_cases[t];
      engine_set_threads (cc->threads);
      Fixture f;
      fixture_init (&f, cc->c, cc->oc, cc->h, cc->w, cc->batch, cc->chunk,
                    cc->threads);
      fill_normal (&rng, f.weight, f.n_weight, 0.5f);
      fill_normal (&rng, f.inp, f.n_inp, 1.0f);
      float *r = g_new (float, f.n_out);
      fill_normal (&rng, r, f.n_out, 1.0f);
      memcpy (f.dout, r, sizeof (float) * f.n_out);
      run_all (&f, NULL);
      float *dinp = g_memdup2 (f.dinp, sizeof (float) * f.n_inp);
      float *dw = g_memdup2 (f.grad_weight, sizeof (float) * f.n_weight);
      Loss loss = { &f, r };
      g_autofree char *name_x = case_name (cc, "gradient dinp");
      g_autofree char *name_w = case_name (cc, "gradient dweight");
      check_gradient (name_x, projection_loss, &loss, f.inp, dinp, f.n_inp,
                      60, 1e-2f, 5e-3, 5e-3, &rng);
      check_gradient (name_w, projection_loss, &loss, f.weight, dw,
                      f.n_weight, 60, 1e-2f, 5e-3, 5e-3, &rng);
      g_free (r);
      g_free (dinp);
      g_free (dw);
      fixture_clear (&f);
    }
  engine_set_threads (1);
}

/* ---- which way ---- */

static void
test_winograd_selection (void)
{
  Fixture f;
  fixture_init (&f, 16, 16, 14, 14, 4, 4, 1);
  Conv2d stem, strided;
  conv2d_init (&stem, 1, 16, 3, 1, 1, 14, 14);
  conv2d_init (&strided, 16, 16, 3, 2, 1, 14, 14);
  Workspace big = { f.ws.col, f.ws.n_floats };

  conv2d_set_algo (CONV_ALGO_AUTO);
  g_assert_true (conv2d_uses_winograd (&f.conv, &big, false));
  g_assert_true (conv2d_uses_winograd (&f.conv, &big, true));
  /* the stem's single input channel: im2col, unless forced */
  g_assert_false (conv2d_uses_winograd (&stem, &big, false));
  g_assert_false (conv2d_uses_winograd (&strided, &big, false));

  conv2d_set_algo (CONV_ALGO_WINOGRAD);
  g_assert_true (conv2d_uses_winograd (&stem, &big, false));
  g_assert_false (conv2d_uses_winograd (&strided, &big, false));

  /* no room for one tile per thread: im2col, whatever the setting */
  Workspace small = { f.ws.col, winograd_workspace_floats (16, 16, 1, 1) - 1 };
  g_assert_false (conv2d_uses_winograd (&f.conv, &small, false));
  small.n_floats++;
  g_assert_true (conv2d_uses_winograd (&f.conv, &small, false));

  conv2d_set_algo (CONV_ALGO_IM2COL);
  g_assert_false (conv2d_uses_winograd (&f.conv, &big, false));
  g_assert_false (conv2d_uses_winograd (&f.conv, &big, true));
  fixture_clear (&f);
}

/* one case of test_winograd_affine: kind 0 an affine map, 1 and a ReLU,
 * 2 a residual added before the ReLU */
static void
check_affine (const Case *cc, int kind, ConvAlgo algo, Rng *rng)
{
  conv2d_set_algo (algo);
  const bool relu = kind > 0;
  Fixture f;
  fixture_init_case (&f, cc, rng);
  float *scale = g_new (float, cc->oc), *shift = g_new (float, cc->oc);
  fill_normal (rng, scale, cc->oc, 1.0f);
  fill_normal (rng, shift, cc->oc, 1.0f);
  float *residual = NULL;
  if (kind == 2)
    {
      residual = g_new (float, f.n_out);
      fill_normal (rng, residual, f.n_out, 1.0f);
    }
  conv2d_forward (&f.conv, f.out, f.inp, cc->batch, &f.ws);
  const size_t per_channel = f.n_out / cc->oc;
  /* rms of the mapped values before the ReLU: their size sets the
   * rounding (the fused map may round once, as a fused multiply-add) */
  double rms = 0.0, worst = 0.0;
  for (size_t i = 0; i < f.n_out; i++)
    {
      const size_t o = i / per_channel;
      float v = f.out[i] * scale[o] + shift[o];
      if (residual)
        v += residual[i];
      f.out[i] = relu && !(v > 0.0f) ? 0.0f : v;
      rms += (double) v * v;
    }
  rms = sqrt (rms / f.n_out);
  float *fused = g_new (float, f.n_out);
  fill_value (fused, f.n_out, NAN);
  conv2d_forward_affine (&f.conv, fused, f.inp, cc->batch, &f.ws, scale,
                         shift, residual, relu);
  for (size_t i = 0; i < f.n_out; i++)
    worst = fmax (worst, fabs ((double) fused[i] - f.out[i]));
  static const char *const kinds[] = {
    "affine", "affine + ReLU", "affine + residual + ReLU"
  };
  const char *way = algo == CONV_ALGO_WINOGRAD ? "Winograd" : "im2col";
  g_autofree char *what = g_strdup_printf ("%s, %s", kinds[kind], way);
  g_autofree char *name = case_name (cc, what);
  g_test_message ("%s: max |diff| %.3g x rms", name, worst / rms);
  if (!(worst <= 4e-6 * rms))
    g_error ("%s: max |diff| %.3g x rms > 4e-6", name, worst / rms);
  g_free (fused);
  g_free (residual);
  g_free (scale);
  g_free (shift);
  fixture_clear (&f);
}

/* The forward with an evaluation-mode batch norm's map (and a ReLU, or a
 * residual's sum and a ReLU) in its output pass: the plain forward's
 * result mapped value by value, on shapes of several chunks and both
 * thread counts, the 7x7 and 14x14 maps with tiles partly outside, by
 * Winograd and by im2col (test-conv.c has im2col's other shapes). */
static void
test_winograd_affine (void)
{
  Rng rng;
  rng_seed (&rng, 47);
  const Case affine_cases[] = {
    { 9, 17, 7, 7, 4, 3, 2 },
    { 16, 8, 14, 14, 2, 1, 2 },
    { 16, 16, 28, 28, 3, 1, 1 },
  };
  for (size_t t = 0; t < G_N_ELEMENTS (affine_cases); t++)
    for (int kind = 0; kind < 3; kind++)
      {
        check_affine (&affine_cases[t], kind, CONV_ALGO_WINOGRAD, &rng);
        check_affine (&affine_cases[t], kind, CONV_ALGO_IM2COL, &rng);
      }
  engine_set_threads (1);
}

/* ENGINE_CONV is read at the first convolution: in a fresh process */
static void
test_winograd_environment (void)
{
  if (g_test_subprocess ())
    {
      g_setenv ("ENGINE_CONV", "im2col", TRUE);
      g_assert_cmpint (conv2d_get_algo (), ==, CONV_ALGO_IM2COL);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/winograd/shapes", test_winograd_shapes);
  g_test_add_func ("/engine/winograd/accuracy", test_winograd_accuracy);
  g_test_add_func ("/engine/winograd/gradient", test_winograd_gradient);
  g_test_add_func ("/engine/winograd/selection", test_winograd_selection);
  g_test_add_func ("/engine/winograd/environment", test_winograd_environment);
  g_test_add_func ("/engine/winograd/affine", test_winograd_affine);
  return g_test_run ();
}
