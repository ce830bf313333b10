/* test-augment-parity.c: augment.c against torchvision 0.14 on PIL images.
 *
 * tools/make-augment-fixture.py applies torchvision.transforms.functional
 * with fixed parameters to three small images (a seeded 3x32x32 colour one,
 * a seeded 1x28x28 grey one, a Fashion-MNIST image) and writes inputs,
 * parameters and outputs to tests/fixtures/augment-parity.ini. Each test
 * here runs the same operation through augment.h and reports the largest
 * difference, in 8-bit levels (float outputs: |diff| * std * 255, i.e.
 * levels before Normalize).
 *
 * Tolerances (the cases[] table below): every step is PIL's integer or float32
 * arithmetic, restated in C with the same types and the same order of
 * operations (bilinear resampling with PIL's 22-bit fixed-point weights and
 * its 8-bit intermediate image; blends in float32, truncated; the luma in
 * 16-bit fixed point; RGB <-> HSV in PIL's mixture of float and double),
 * so each is required to match exactly. The float outputs of ToTensor +
 * Normalize are the same float32 divisions as torch's, so they too are
 * compared exactly.
 *
 * With -m perf, /data/augment/param-stats prints the distributions of the
 * random draws (crop scale and ratio, jitter factors, order) for
 * docs/data.md; `make-augment-fixture.py --stats N` prints torchvision's.
 */
#include <math.h>
#include <string.h>

#include "augment.h"
#include "testutil.h"

static GKeyFile *fixture;

/* ---- fixture access ----------------------------------------------------- */

static char *
need_string (const char *group, const char *key)
{
  g_autoptr (GError) error = NULL;
  char *s = g_key_file_get_string (fixture, group, key, &error);
  if (!s)
    g_error ("fixture [%s] %s: %s", group, key, error->message);
  return s;
}

static int
get_ints (const char *group, const char *key, int *v, int max)
{
  g_autofree char *s = need_string (group, key);
  g_auto (GStrv) parts = g_strsplit (s, ";", -1);
  int n = 0;
  for (; parts[n]; n++)
    {
      g_assert_cmpint (n, <, max);
      v[n] = atoi (parts[n]);
    }
  return n;
}

static int
get_floats (const char *group, const char *key, float *v, int max)
{
  g_autofree char *s = need_string (group, key);
  g_auto (GStrv) parts = g_strsplit (s, ";", -1);
  int n = 0;
  for (; parts[n]; n++)
    {
      g_assert_cmpint (n, <, max);
      /* the fixture's values are float32 numbers printed as doubles */
      v[n] = (float) g_ascii_strtod (parts[n], NULL);
    }
  return n;
}

static float
get_float (const char *group, const char *key)
{
  float v;
  g_assert_cmpint (get_floats (group, key, &v, 1), ==, 1);
  return v;
}

/* base64 data of `elem`-byte elements; checks the count */
static guint8 *
get_blob (const char *group, const char *key, gsize numel, gsize elem)
{
  g_autofree char *s = need_string (group, key);
  gsize len = 0;
  guint8 *data = g_base64_decode (s, &len);
  g_assert_cmpuint (len, ==, numel * elem);
  return data;
}

typedef struct
{
  int shape[3];   /* C, H, W */
  guint8 *data;
} Input;

static Input *
get_input (const char *name)
{
  static GHashTable *cache;
  if (!cache)
    cache = g_hash_table_new (g_str_hash, g_str_equal);
  Input *in = g_hash_table_lookup (cache, name);
  if (in)
    return in;
  g_autofree char *group = g_strdup_printf ("input %s", name);
  in = g_new0 (Input, 1);
  g_assert_cmpint (get_ints (group, "shape", in->shape, 3), ==, 3);
  in->data = get_blob (group, "data",
                       (gsize) in->shape[0] * in->shape[1] * in->shape[2], 1);
  g_hash_table_insert (cache, g_strdup (name), in);
  return in;
}

/* ---- comparison --------------------------------------------------------- */

typedef struct
{
  const char *op;
  double tolerance;   /* in 8-bit levels */
} OpCase;

/* What one op's cases came to. */
typedef struct
{
  int n_cases;
  gsize n_values, n_differ;
  double max_diff;    /* levels */
  char worst[128];
} Tally;

static void
tally_u8 (Tally *t, const char *what, const guint8 *got, const guint8 *want,
          gsize n)
{
  double worst = 0.0;
  gsize differ = 0;
  for (gsize i = 0; i < n; i++)
    {
      double d = fabs ((double) got[i] - want[i]);
      differ += d != 0.0;
      if (d > worst)
        worst = d;
    }
  g_test_message ("  %s: max %.0f, %zu of %zu differ", what, worst, differ,
                  n);
  t->n_cases++;
  t->n_values += n;
  t->n_differ += differ;
  if (worst > t->max_diff || t->n_cases == 1)
    {
      t->max_diff = MAX (t->max_diff, worst);
      g_strlcpy (t->worst, what, sizeof t->worst);
    }
}

/* float (C, H, W) outputs of Normalize: differences in levels per channel */
static void
tally_f32 (Tally *t, const char *what, const float *got, const float *want,
           int channels, gsize plane, const float *std)
{
  double worst = 0.0;
  gsize differ = 0;
  for (int c = 0; c < channels; c++)
    for (gsize i = 0; i < plane; i++)
      {
        gsize k = c * plane + i;
        double d = fabs ((double) got[k] - want[k]) * std[c] * 255.0;
        differ += got[k] != want[k];
        if (d > worst)
          worst = d;
      }
  g_test_message ("  %s: max %.3g levels, %zu of %zu differ", what, worst,
                  differ, channels * plane);
  t->n_cases++;
  t->n_values += channels * plane;
  t->n_differ += differ;
  if (worst > t->max_diff || t->n_cases == 1)
    {
      t->max_diff = MAX (t->max_diff, worst);
      g_strlcpy (t->worst, what, sizeof t->worst);
    }
}

static void
options_for_case (AugmentOptions *o, const char *group, int size)
{
  augment_options_init_cifar (o);
  o->size = size;
  o->grayscale_first = g_key_file_get_integer (fixture, group,
                                               "grayscale_first", NULL);
  int nm = get_floats (group, "mean", o->mean, 3);
  int ns = get_floats (group, "std", o->std, 3);
  g_assert_cmpint (nm, ==, ns);
}

static void
run_case (const char *group, const char *op, Tally *t)
{
  g_autofree char *input_name = need_string (group, "input");
  const Input *in = get_input (input_name);
  const int C = in->shape[0], H = in->shape[1], W = in->shape[2];
  int out_shape[3];
  g_assert_cmpint (get_ints (group, "out_shape", out_shape, 3), ==, 3);
  const gsize out_n = (gsize) out_shape[0] * out_shape[1] * out_shape[2];
  g_autofree char *dtype = need_string (group, "out_dtype");
  g_assert_cmpint (out_shape[0], ==, C);

  if (strcmp (op, "normalize") == 0 || strcmp (op, "composite") == 0)
    {
      g_assert_cmpstr (dtype, ==, "f32");
      g_autofree float *want = (float *) get_blob (group, "out", out_n, 4);
      /* little-endian in the file, as the machines this builds on */
      g_assert_cmpint (G_BYTE_ORDER, ==, G_LITTLE_ENDIAN);
      g_autofree float *got = g_new (float, out_n);
      AugmentOptions o;
      char what[128];
      if (strcmp (op, "normalize") == 0)
        {
          /* the test transform at the image's own size is ToTensor +
           * Normalize alone */
          g_assert_cmpint (H, ==, W);
          options_for_case (&o, group, H);
          augment_test (&o, in->data, C, H, W, got);
          g_snprintf (what, sizeof what, "%s (%s)", group, input_name);
        }
      else
        {
          int box[4], order[4], size;
          float factors[4];
          g_assert_cmpint (get_ints (group, "box", box, 4), ==, 4);
          size = g_key_file_get_integer (fixture, group, "size", NULL);
          options_for_case (&o, group, size);
          AugmentParams p = { 0 };
          p.crop_y = box[0];
          p.crop_x = box[1];
          p.crop_h = box[2];
          p.crop_w = box[3];
          p.n_steps = get_ints (group, "order", order, 4);
          memcpy (p.order, order, sizeof order);
          g_assert_cmpint (get_floats (group, "factors", factors, 4), ==, 4);
          p.brightness = factors[0];
          p.contrast = factors[1];
          p.saturation = factors[2];
          p.hue = factors[3];
          p.grayscale = g_key_file_get_integer (fixture, group, "grayscale",
                                                NULL);
          p.flip = g_key_file_get_integer (fixture, group, "flip", NULL);
          g_assert_cmpint (out_shape[1], ==, size);
          augment_apply (&o, &p, in->data, C, H, W, got);
          g_snprintf (what, sizeof what,
                      "%s (%s, box %d,%d %dx%d -> %d, order %d%d%d%d of %d, "
                      "grey %d%s, flip %d)",
                      group, input_name, p.crop_x, p.crop_y, p.crop_w,
                      p.crop_h, size, order[0], order[1], order[2], order[3],
                      p.n_steps, p.grayscale,
                      o.grayscale_first ? " first" : "", p.flip);
        }
      tally_f32 (t, what, got, want, C,
                 (gsize) out_shape[1] * out_shape[2], o.std);
      return;
    }

  g_assert_cmpstr (dtype, ==, "u8");
  g_autofree guint8 *want = get_blob (group, "out", out_n, 1);
  g_autofree guint8 *got = g_malloc (out_n);
  const int n_pixels = H * W;
  char what[128];
  if (strcmp (op, "resized_crop") == 0)
    {
      int box[4], size[2];
      g_assert_cmpint (get_ints (group, "box", box, 4), ==, 4);
      g_assert_cmpint (get_ints (group, "size", size, 2), ==, 2);
      g_assert_cmpint (out_shape[1], ==, size[0]);
      g_assert_cmpint (out_shape[2], ==, size[1]);
      augment_resize (in->data, C, H, W, box[1], box[0], box[3], box[2], got,
                      size[0], size[1]);
      g_snprintf (what, sizeof what, "%s (%s, x %d y %d %dx%d -> %dx%d)",
                  group, input_name, box[1], box[0], box[3], box[2], size[1],
                  size[0]);
    }
  else
    {
      g_assert_cmpuint (out_n, ==, (gsize) C * n_pixels);
      memcpy (got, in->data, out_n);
      float f = 0.0f;
      if (g_key_file_has_key (fixture, group, "factor", NULL))
        f = get_float (group, "factor");
      if (strcmp (op, "brightness") == 0)
        augment_adjust_brightness (got, C, n_pixels, f);
      else if (strcmp (op, "contrast") == 0)
        augment_adjust_contrast (got, C, n_pixels, f);
      else if (strcmp (op, "saturation") == 0)
        augment_adjust_saturation (got, C, n_pixels, f);
      else if (strcmp (op, "hue") == 0)
        augment_adjust_hue (got, C, n_pixels, f);
      else if (strcmp (op, "grayscale") == 0)
        augment_to_grayscale (got, C, n_pixels);
      else if (strcmp (op, "hflip") == 0)
        augment_flip (got, C, H, W);
      else
        g_error ("fixture [%s]: unknown op %s", group, op);
      g_snprintf (what, sizeof what, "%s (%s, factor %.9g)", group,
                  input_name, f);
    }
  tally_u8 (t, what, got, want, out_n);
}

static void
test_parity (gconstpointer data)
{
  const OpCase *oc = data;
  Tally t = { 0 };
  gsize n_groups = 0;
  g_auto (GStrv) groups = g_key_file_get_groups (fixture, &n_groups);
  for (gsize g = 0; g < n_groups; g++)
    {
      if (!g_str_has_prefix (groups[g], "case "))
        continue;
      g_autofree char *op = need_string (groups[g], "op");
      if (strcmp (op, oc->op) == 0)
        run_case (groups[g], op, &t);
    }
  g_assert_cmpint (t.n_cases, >, 0);
  g_test_message ("%s: %d cases, max difference %.3g levels (tolerance %g), "
                  "%zu of %zu values differ; worst: %s",
                  oc->op, t.n_cases, t.max_diff, oc->tolerance, t.n_differ,
                  t.n_values, t.worst);
  g_assert_cmpfloat (t.max_diff, <=, oc->tolerance);
}

/* ---- parameter distributions (-m perf) ---------------------------------- */

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* numpy's default (linear) quantile */
static double
quantile (const double *sorted, int n, double q)
{
  double pos = q * (n - 1);
  int lo = (int) floor (pos);
  int hi = MIN (lo + 1, n - 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

static void
print_stats (const char *name, double *v, int n)
{
  double sum = 0.0, sq = 0.0;
  for (int i = 0; i < n; i++)
    sum += v[i];
  const double mean = sum / n;
  for (int i = 0; i < n; i++)
    sq += (v[i] - mean) * (v[i] - mean);
  qsort (v, n, sizeof *v, cmp_double);
  g_test_message ("%-12s mean %.4f sd %.4f q05/25/50/75/95 %.4f %.4f %.4f "
                  "%.4f %.4f",
                  name, mean, sqrt (sq / n), quantile (v, n, 0.05),
                  quantile (v, n, 0.25), quantile (v, n, 0.5),
                  quantile (v, n, 0.75), quantile (v, n, 0.95));
}

static void
test_param_stats (void)
{
  const int n = 100000;
  AugmentOptions o;
  augment_options_init_cifar (&o);
  g_autofree double *frac = g_new (double, n), *logr = g_new (double, n),
                    *ws = g_new (double, n), *hs = g_new (double, n);
  g_autofree double *fac = g_new (double, 4 * n);
  double first[4] = { 0 };
  for (int k = 0; k < n; k++)
    {
      /* each sample's own generator, as augment_train seeds it */
      Rng rng;
      rng_seed (&rng, augment_sample_seed (1, 0, k));
      AugmentParams p;
      augment_sample (&o, 3, 32, 32, &rng, &p);
      frac[k] = p.crop_w * p.crop_h / 1024.0;
      logr[k] = log ((double) p.crop_w / p.crop_h);
      ws[k] = p.crop_w;
      hs[k] = p.crop_h;
      fac[k] = p.brightness;
      fac[n + k] = p.contrast;
      fac[2 * n + k] = p.saturation;
      fac[3 * n + k] = p.hue;
      first[p.order[0]] += 1.0;
    }
  g_test_message ("augment.c, %d draws, 32x32, scale (0.2, 1), ratio (3/4, "
                  "4/3), jitter 0.4 x 4", n);
  print_stats ("area frac", frac, n);
  print_stats ("log(w/h)", logr, n);
  print_stats ("w", ws, n);
  print_stats ("h", hs, n);
  const char *names[4] = { "brightness", "contrast", "saturation", "hue" };
  for (int s = 0; s < 4; s++)
    print_stats (names[s], fac + (gsize) s * n, n);
  g_test_message ("first step   %.4f %.4f %.4f %.4f", first[0] / n,
                  first[1] / n, first[2] / n, first[3] / n);
}

/* Every op must match PIL exactly; see the file's comment. */
static const OpCase cases[] = {
  { "resized_crop", 0.0 },
  { "brightness", 0.0 },
  { "contrast", 0.0 },
  { "saturation", 0.0 },
  { "hue", 0.0 },
  { "grayscale", 0.0 },
  { "hflip", 0.0 },
  { "normalize", 0.0 },
  { "composite", 0.0 },
};

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "fixtures",
                                                 "augment-parity.ini", NULL);
  fixture = g_key_file_new ();
  g_autoptr (GError) error = NULL;
  if (!g_key_file_load_from_file (fixture, path, G_KEY_FILE_NONE, &error))
    g_error ("%s: %s", path, error->message);
  g_autofree char *tv = need_string ("fixture", "torchvision");
  g_autofree char *pil = need_string ("fixture", "pillow");
  g_test_message ("%s: torchvision %s, Pillow %s", path, tv, pil);

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *name
          = g_strdup_printf ("/data/augment/torchvision-parity/%s",
                             cases[i].op);
      g_test_add_data_func (name, &cases[i], test_parity);
    }
  if (g_test_perf ())
    g_test_add_func ("/data/augment/param-stats", test_param_stats);
  int ret = g_test_run ();
  g_key_file_free (fixture);
  return ret;
}
