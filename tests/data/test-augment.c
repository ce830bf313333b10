/* test-augment.c: the transforms against their definitions (augment.h),
 * computed independently here in double precision. */
#include <math.h>
#include <string.h>

#include "augment.h"
#include "testutil.h"

static guint8 *
random_image (int n, guint64 seed)
{
  Rng rng;
  rng_seed (&rng, seed);
  guint8 *p = g_malloc (n);
  for (int i = 0; i < n; i++)
    p[i] = (guint8) rng_below (&rng, 256);
  return p;
}

static void
options_off (AugmentOptions *o, int size)
{
  augment_options_init_cifar (o);
  o->size = size;
  o->random_crop = FALSE;
  o->brightness = o->contrast = o->saturation = o->hue = 0.0f;
  o->grayscale_p = 0.0f;
  o->flip = FALSE;
  for (int c = 0; c < 3; c++)
    {
      o->mean[c] = 0.0f;
      o->std[c] = 1.0f;
    }
}

static void
check_crops (int height, int width)
{
  AugmentOptions o;
  augment_options_init_cifar (&o);
  Rng rng;
  rng_seed (&rng, 7);
  const int n = 20000;
  double sum_log_ratio = 0.0, min_frac = 1.0, max_frac = 0.0;
  for (int k = 0; k < n; k++)
    {
      int x, y, w, h;
      augment_sample_crop (&o, height, width, &rng, &x, &y, &w, &h);
      g_assert_cmpint (x, >=, 0);
      g_assert_cmpint (y, >=, 0);
      g_assert_cmpint (w, >=, 1);
      g_assert_cmpint (h, >=, 1);
      g_assert_cmpint (x + w, <=, width);
      g_assert_cmpint (y + h, <=, height);
      /* w and h are rounded from exact values within the bounds, so each
       * may be off by half a pixel */
      double frac_hi = (w + 0.5) * (h + 0.5) / ((double) width * height);
      double frac_lo = (w - 0.5) * (h - 0.5) / ((double) width * height);
      g_assert_cmpfloat (frac_hi, >=, 0.2);
      g_assert_cmpfloat (frac_lo, <=, 1.0);
      g_assert_cmpfloat ((w + 0.5) / (h - 0.5), >=, 3.0 / 4.0);
      g_assert_cmpfloat ((w - 0.5) / (h + 0.5), <=, 4.0 / 3.0);
      double frac = (double) w * h / ((double) width * height);
      min_frac = MIN (min_frac, frac);
      max_frac = MAX (max_frac, frac);
      sum_log_ratio += log ((double) w / h);
    }
  g_test_message ("%dx%d: area fraction %.3f..%.3f, mean log ratio %.4f",
                  width, height, min_frac, max_frac, sum_log_ratio / n);
  g_assert_cmpfloat (min_frac, <, 0.22);
  /* a 40 x 24 crop of ratio <= 4/3 covers at most 32 x 24 = 80 % */
  g_assert_cmpfloat (max_frac, >, width == height ? 0.9 : 0.75);
  if (width == height)
    /* log-uniform ratio, symmetric about 1 for a square image */
    g_assert_cmpfloat (fabs (sum_log_ratio / n), <, 0.01);
}

static void
test_crop_stats (void)
{
  check_crops (32, 32);
  check_crops (28, 28);
  check_crops (24, 40);
}

static void
test_crop_fallback (void)
{
  /* no crop of 90 % or more of a 100 x 10 image has a ratio <= 4/3, so all
   * ten tries fail: the centre, cut to the largest allowed ratio */
  AugmentOptions o;
  augment_options_init_cifar (&o);
  o.scale_min = 0.9f;
  Rng rng;
  rng_seed (&rng, 1);
  int x, y, w, h;
  augment_sample_crop (&o, 10, 100, &rng, &x, &y, &w, &h);
  g_assert_cmpint (w, ==, 13);
  g_assert_cmpint (h, ==, 10);
  g_assert_cmpint (x, ==, 43);
  g_assert_cmpint (y, ==, 0);
  augment_sample_crop (&o, 100, 10, &rng, &x, &y, &w, &h);
  g_assert_cmpint (w, ==, 10);
  g_assert_cmpint (h, ==, 13);
  g_assert_cmpint (y, ==, 43);
}

static void
test_resize (void)
{
  const int S = 16;
  g_autofree guint8 *img = random_image (3 * S * S, 3);
  guint8 out[3 * 16 * 16];
  /* same size: identity */
  augment_resize (img, 3, S, S, 0, 0, S, S, out, S, S);
  g_assert_cmpmem (out, sizeof out, img, sizeof out);
  /* a crop at the same size: the crop itself */
  guint8 small[3 * 8 * 8];
  augment_resize (img, 3, S, S, 4, 2, 8, 8, small, 8, 8);
  for (int c = 0; c < 3; c++)
    for (int y = 0; y < 8; y++)
      for (int x = 0; x < 8; x++)
        g_assert_cmpint (small[(c * 8 + y) * 8 + x], ==,
                         img[(c * S + y + 2) * S + x + 4]);
  /* halving a checkerboard averages it (antialiased, not point-sampled) */
  guint8 board[16 * 16], half[8 * 8];
  for (int i = 0; i < 256; i++)
    board[i] = ((i / 16 + i % 16) % 2) ? 255 : 0;
  augment_resize (board, 1, 16, 16, 0, 0, 16, 16, half, 8, 8);
  /* (the border rows and columns lose taps and lean one way) */
  for (int y = 1; y < 7; y++)
    for (int x = 1; x < 7; x++)
      g_assert_cmpint (abs (half[y * 8 + x] - 128), <=, 1);
  /* upscaling a constant stays constant */
  guint8 flat[4 * 4], big[10 * 10];
  memset (flat, 93, sizeof flat);
  augment_resize (flat, 1, 4, 4, 0, 0, 4, 4, big, 10, 10);
  for (int i = 0; i < 100; i++)
    g_assert_cmpint (big[i], ==, 93);
}

static void
test_flip (void)
{
  const int S = 8;
  g_autofree guint8 *img = random_image (3 * S * S, 5);
  AugmentOptions o;
  options_off (&o, S);
  o.flip = TRUE;
  /* find one sample that flips and one that does not */
  int seen[2] = { 0, 0 };
  for (int pos = 0; pos < 64 && !(seen[0] && seen[1]); pos++)
    {
      Rng rng;
      rng_seed (&rng, augment_sample_seed (1, 0, pos));
      AugmentParams p;
      augment_sample (&o, 3, S, S, &rng, &p);
      float out[3 * 8 * 8];
      augment_apply (&o, &p, img, 3, S, S, out);
      for (int c = 0; c < 3; c++)
        for (int y = 0; y < S; y++)
          for (int x = 0; x < S; x++)
            {
              int sx = p.flip ? S - 1 - x : x;
              g_assert_cmpfloat (out[(c * S + y) * S + x], ==,
                                 img[(c * S + y) * S + sx] / 255.0f);
            }
      seen[p.flip]++;
    }
  g_assert_true (seen[0] && seen[1]);
  guint8 copy[3 * 8 * 8];
  memcpy (copy, img, sizeof copy);
  augment_flip (copy, 3, S, S);
  augment_flip (copy, 3, S, S);
  g_assert_cmpmem (copy, sizeof copy, img, sizeof copy);
}

/* PIL's blend, written from its definition: single precision (as PIL
 * computes it: 129 + 0.6f * -10 is 123 in float, 122.99... in double),
 * then truncated and clipped */
static double
ref_blend (double degenerate, double v, float factor)
{
  volatile float t = (float) degenerate + factor * (float) (v - degenerate);
  return t <= 0 ? 0 : t >= 255 ? 255 : floor (t);
}

static double
ref_luma (double r, double g, double b)
{
  return floor (0.299 * r + 0.587 * g + 0.114 * b + 0.5);
}

/* Compares bytes, allowing off-by-one where the independent computation
 * rounds a luma differently in the last bit; most must agree exactly. */
static void
assert_bytes_close (const char *what, const guint8 *a, const double *b, int n)
{
  int exact = 0;
  for (int i = 0; i < n; i++)
    {
      double d = fabs (a[i] - b[i]);
      if (d > 1.0)
        g_error ("%s: byte %d is %d, expected %.0f", what, i, a[i], b[i]);
      exact += d == 0.0;
      if (d != 0.0 && g_test_verbose ())
        g_test_message ("%s: %d: %d vs %.1f", what, i, a[i], b[i]);
    }
  g_test_message ("%s: %d of %d exact", what, exact, n);
  g_assert_cmpint (exact, >=, n * 99 / 100);
}

static void
test_jitter (void)
{
  const int n = 24 * 24;
  g_autofree guint8 *img = random_image (3 * n, 11);
  g_autofree guint8 *work = g_malloc (3 * n);
  g_autofree double *want = g_new (double, 3 * n);
  const float factors[] = { 0.6f, 0.93f, 1.0f, 1.27f, 1.4f };

  for (gsize k = 0; k < G_N_ELEMENTS (factors); k++)
    {
      float f = factors[k];
      /* brightness: blend with black */
      memcpy (work, img, 3 * n);
      augment_adjust_brightness (work, 3, n, f);
      for (int i = 0; i < 3 * n; i++)
        want[i] = ref_blend (0, img[i], f);
      assert_bytes_close ("brightness", work, want, 3 * n);

      /* contrast: blend with the rounded mean luma */
      double mean = 0;
      for (int i = 0; i < n; i++)
        mean += ref_luma (img[i], img[n + i], img[2 * n + i]);
      double m = floor (mean / n + 0.5);
      memcpy (work, img, 3 * n);
      augment_adjust_contrast (work, 3, n, f);
      for (int i = 0; i < 3 * n; i++)
        want[i] = ref_blend (m, img[i], f);
      assert_bytes_close ("contrast", work, want, 3 * n);

      /* one channel: the mean of the plane itself, exactly */
      double grey_mean = 0;
      for (int i = 0; i < n; i++)
        grey_mean += img[i];
      double gm = floor (grey_mean / n + 0.5);
      memcpy (work, img, n);
      augment_adjust_contrast (work, 1, n, f);
      for (int i = 0; i < n; i++)
        g_assert_cmpfloat (work[i], ==, ref_blend (gm, img[i], f));

      /* saturation: blend with the pixel's luma */
      memcpy (work, img, 3 * n);
      augment_adjust_saturation (work, 3, n, f);
      for (int i = 0; i < n; i++)
        {
          double l = ref_luma (img[i], img[n + i], img[2 * n + i]);
          for (int c = 0; c < 3; c++)
            want[c * n + i] = ref_blend (l, img[c * n + i], f);
        }
      assert_bytes_close ("saturation", work, want, 3 * n);
    }

  /* grayscale: every channel the luma */
  memcpy (work, img, 3 * n);
  augment_to_grayscale (work, 3, n);
  for (int i = 0; i < n; i++)
    for (int c = 0; c < 3; c++)
      want[c * n + i] = ref_luma (img[i], img[n + i], img[2 * n + i]);
  assert_bytes_close ("grayscale", work, want, 3 * n);

  /* hue: a third of the circle turns red to green to blue */
  guint8 px[3] = { 255, 0, 0 };
  augment_adjust_hue (px, 3, 1, 1.0f / 3.0f);
  g_assert_cmpint (px[0], ==, 0);
  g_assert_cmpint (px[1], ==, 255);
  g_assert_cmpint (px[2], ==, 0);
  augment_adjust_hue (px, 3, 1, 1.0f / 3.0f);
  g_assert_cmpint (px[1], ==, 0);
  g_assert_cmpint (px[2], ==, 255);
  /* a grey pixel has no hue */
  guint8 grey[3] = { 90, 90, 90 };
  augment_adjust_hue (grey, 3, 1, 0.25f);
  g_assert_cmpint (grey[0], ==, 90);
  g_assert_cmpint (grey[2], ==, 90);
  /* no shift: the 8-bit HSV round trip keeps V exactly and moves a channel
   * by at most 6 (one hue level of 255 spans up to 6 levels of a channel)
   * plus 1 (saturation quantisation), as in PIL */
  memcpy (work, img, 3 * n);
  augment_adjust_hue (work, 3, n, 0.0f);
  for (int i = 0; i < n; i++)
    {
      int v0 = MAX (img[i], MAX (img[n + i], img[2 * n + i]));
      int v1 = MAX (work[i], MAX (work[n + i], work[2 * n + i]));
      g_assert_cmpint (v0, ==, v1);
      for (int c = 0; c < 3; c++)
        g_assert_cmpint (abs (work[c * n + i] - img[c * n + i]), <=, 7);
    }
}

static void
test_jitter_params (void)
{
  /* factors inside their ranges, each order of the steps appears, and a
   * one-channel image gets brightness and contrast only */
  AugmentOptions o;
  augment_options_init_cifar (&o);
  GHashTable *orders = g_hash_table_new (g_direct_hash, g_direct_equal);
  int greys = 0;
  const int n = 4000;
  for (int k = 0; k < n; k++)
    {
      Rng rng;
      rng_seed (&rng, augment_sample_seed (3, 1, k));
      AugmentParams p;
      augment_sample (&o, 3, 32, 32, &rng, &p);
      g_assert_cmpint (p.n_steps, ==, 4);
      g_assert_cmpfloat (p.brightness, >=, 0.6f);
      g_assert_cmpfloat (p.brightness, <=, 1.4f);
      g_assert_cmpfloat (p.contrast, >=, 0.6f);
      g_assert_cmpfloat (p.saturation, <=, 1.4f);
      g_assert_cmpfloat (fabsf (p.hue), <=, 0.4f);
      g_assert_false (p.flip);  /* the CIFAR preset has none */
      int code = 0;
      for (int s = 0; s < 4; s++)
        code = code * 4 + p.order[s];
      g_hash_table_add (orders, GINT_TO_POINTER (code));
      greys += p.grayscale;

      augment_sample (&o, 1, 32, 32, &rng, &p);
      g_assert_cmpint (p.n_steps, ==, 2);
      g_assert_false (p.grayscale);
      g_assert_cmpfloat (p.saturation, ==, 1.0f);
      g_assert_cmpfloat (p.hue, ==, 0.0f);
    }
  g_assert_cmpint (g_hash_table_size (orders), ==, 24);
  g_test_message ("grayscale in %d of %d", greys, n);
  g_assert_cmpint (abs (greys - n / 5), <, n / 25);
  g_hash_table_unref (orders);
}

static void
test_determinism (void)
{
  AugmentOptions o;
  augment_options_init_cifar (&o);
  g_autofree guint8 *img = random_image (3 * 32 * 32, 13);
  float a[3 * 32 * 32], b[3 * 32 * 32];
  augment_train (&o, img, 3, 32, 32, 42, 5, 17, a);
  augment_train (&o, img, 3, 32, 32, 42, 5, 17, b);
  g_assert_cmpmem (a, sizeof a, b, sizeof b);
  augment_train (&o, img, 3, 32, 32, 42, 6, 17, b);
  g_assert_true (memcmp (a, b, sizeof a) != 0);
  augment_train (&o, img, 3, 32, 32, 42, 5, 18, b);
  g_assert_true (memcmp (a, b, sizeof a) != 0);
  augment_train (&o, img, 3, 32, 32, 43, 5, 17, b);
  g_assert_true (memcmp (a, b, sizeof a) != 0);
  g_assert_cmpuint (augment_sample_seed (1, 0, 1), !=,
                    augment_sample_seed (1, 1, 0));

  /* the output is normalised pixels: inside the range of 0..255 */
  for (int c = 0; c < 3; c++)
    for (int i = 0; i < 1024; i++)
      {
        float v = a[c * 1024 + i];
        g_assert_cmpfloat (v, >=, (0.0f - o.mean[c]) / o.std[c] - 1e-5f);
        g_assert_cmpfloat (v, <=, (1.0f - o.mean[c]) / o.std[c] + 1e-5f);
      }
}

static void
test_test_transform (void)
{
  AugmentOptions o;
  augment_options_init_cifar (&o);
  g_autofree guint8 *img = random_image (3 * 32 * 32, 17);
  float out[3 * 32 * 32], want[3 * 32 * 32];
  augment_test (&o, img, 3, 32, 32, out);
  for (int c = 0; c < 3; c++)
    for (int i = 0; i < 1024; i++)
      want[c * 1024 + i] = (float) ((img[c * 1024 + i] / 255.0 - o.mean[c])
                                    / o.std[c]);
  assert_all_close ("normalise", out, want, 3 * 1024, 1e-5, 1e-5);

  /* a different size is resized: a constant image stays constant */
  guint8 flat[3 * 40 * 40];
  memset (flat, 200, sizeof flat);
  augment_test (&o, flat, 3, 40, 40, out);
  for (int i = 0; i < 1024; i++)
    g_assert_cmpfloat (fabsf (out[i] - (200 / 255.0f - o.mean[0]) / o.std[0]),
                       <, 1e-5f);
}

static void
test_presets (void)
{
  AugmentOptions o;
  Dataset d = { .kind = DATASET_KIND_CIFAR100, .channels = 3, .height = 32,
                .width = 32 };
  augment_options_init_for_dataset (&o, &d);
  g_assert_cmpint (o.size, ==, 32);
  g_assert_false (o.flip);
  g_assert_false (o.grayscale_first);
  g_assert_cmpfloat (o.mean[0], ==, 0.4914f);
  g_assert_cmpfloat (o.std[2], ==, 0.2010f);

  d = (Dataset) { .kind = DATASET_KIND_FASHION_MNIST, .channels = 1,
                  .height = 28, .width = 28 };
  augment_options_init_for_dataset (&o, &d);
  g_assert_cmpint (o.size, ==, 28);
  g_assert_true (o.flip);
  g_assert_cmpfloat (o.mean[0], ==, 0.2860f);
  g_assert_cmpfloat (o.std[0], ==, 0.3530f);
  g_assert_cmpfloat (o.saturation, ==, 0.0f);

  d = (Dataset) { .kind = DATASET_KIND_FOLDER, .channels = 3, .height = 64,
                  .width = 64 };
  augment_options_init_for_dataset (&o, &d);
  g_assert_cmpint (o.size, ==, 64);
  g_assert_true (o.flip);
  g_assert_true (o.grayscale_first);
  g_assert_cmpfloat (o.mean[1], ==, 0.456f);

  /* a grey IDX set: its own statistics */
  guint8 pixels[2 * 4] = { 0, 0, 0, 0, 255, 255, 255, 255 };
  d = (Dataset) { .kind = DATASET_KIND_IDX, .n = 2, .channels = 1,
                  .height = 2, .width = 2, .pixels = pixels };
  augment_options_init_for_dataset (&o, &d);
  g_assert_cmpint (o.size, ==, 2);
  g_assert_cmpfloat (fabsf (o.mean[0] - 0.5f), <, 1e-6f);
  g_assert_cmpfloat (fabsf (o.std[0] - 0.5f), <, 1e-6f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/data/augment/crop-stats", test_crop_stats);
  g_test_add_func ("/data/augment/crop-fallback", test_crop_fallback);
  g_test_add_func ("/data/augment/resize", test_resize);
  g_test_add_func ("/data/augment/flip", test_flip);
  g_test_add_func ("/data/augment/jitter", test_jitter);
  g_test_add_func ("/data/augment/jitter-params", test_jitter_params);
  g_test_add_func ("/data/augment/determinism", test_determinism);
  g_test_add_func ("/data/augment/test-transform", test_test_transform);
  g_test_add_func ("/data/augment/presets", test_presets);
  return g_test_run ();
}
