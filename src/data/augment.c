/* augment.c: torchvision's transforms of the reference, on 8-bit planes.
 * See augment.h for the definitions each function follows. */
#define G_LOG_DOMAIN "instdisc-data"

#include "augment.h"

#include <math.h>
#include <string.h>

enum { STEP_BRIGHTNESS, STEP_CONTRAST, STEP_SATURATION, STEP_HUE };

static const guint64 DOMAIN_SAMPLE = 0x73616d706c65ull;  /* "sample" */

static void
set_common (AugmentOptions *o, int size)
{
  *o = (AugmentOptions) {
    .size = size,
    .random_crop = TRUE,
    .scale_min = 0.2f,
    .scale_max = 1.0f,
    .ratio_min = 3.0f / 4.0f,
    .ratio_max = 4.0f / 3.0f,
    .brightness = 0.4f,
    .contrast = 0.4f,
    .saturation = 0.4f,
    .hue = 0.4f,
    .grayscale_p = 0.2f,
  };
}

void
augment_options_init_cifar (AugmentOptions *o)
{
  set_common (o, 32);
  o->flip = FALSE;
  const float mean[3] = { 0.4914f, 0.4822f, 0.4465f };
  const float std[3] = { 0.2023f, 0.1994f, 0.2010f };
  memcpy (o->mean, mean, sizeof mean);
  memcpy (o->std, std, sizeof std);
}

void
augment_options_init_fashion_mnist (AugmentOptions *o)
{
  set_common (o, 28);
  o->saturation = 0.0f;
  o->hue = 0.0f;
  o->grayscale_p = 0.0f;
  o->flip = TRUE;
  for (int c = 0; c < 3; c++)
    {
      o->mean[c] = 0.2860f;
      o->std[c] = 0.3530f;
    }
}

void
augment_options_init_imagenet (AugmentOptions *o, int size)
{
  set_common (o, size);
  o->grayscale_first = TRUE;
  o->flip = TRUE;
  const float mean[3] = { 0.485f, 0.456f, 0.406f };
  const float std[3] = { 0.229f, 0.224f, 0.225f };
  memcpy (o->mean, mean, sizeof mean);
  memcpy (o->std, std, sizeof std);
}

void
augment_options_init_for_dataset (AugmentOptions *o, const Dataset *data)
{
  switch (data->kind)
    {
    case DATASET_KIND_CIFAR10:
    case DATASET_KIND_CIFAR100:
      augment_options_init_cifar (o);
      return;
    case DATASET_KIND_FASHION_MNIST:
      augment_options_init_fashion_mnist (o);
      o->size = data->height;
      return;
    case DATASET_KIND_IDX:
      augment_options_init_fashion_mnist (o);
      o->size = data->height;
      break;
    case DATASET_KIND_FOLDER:
    default:
      augment_options_init_imagenet (o, data->height);
      if (data->channels == 3)
        return;
      break;
    }
  float mean[4], std[4];
  dataset_channel_stats (data, mean, std);
  for (int c = 0; c < 3; c++)
    {
      int k = MIN (c, data->channels - 1);
      o->mean[c] = mean[k];
      o->std[c] = std[k] > 1e-6f ? std[k] : 1.0f;
    }
}

/* ---- randomness --------------------------------------------------------- */

/* MurmurHash3's 64-bit finaliser: every input bit reaches every output bit */
static guint64
fmix64 (guint64 k)
{
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdull;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ull;
  k ^= k >> 33;
  return k;
}

guint64
augment_hash (guint64 seed, guint64 domain, gint64 a, gint64 b)
{
  guint64 h = fmix64 (seed ^ 0x9e3779b97f4a7c15ull);
  h = fmix64 (h ^ domain);
  h = fmix64 (h + (guint64) a * 0xbf58476d1ce4e5b9ull);
  h = fmix64 (h + (guint64) b * 0x94d049bb133111ebull);
  return h;
}

guint64
augment_sample_seed (guint64 seed, gint64 epoch, gint64 position)
{
  return augment_hash (seed, DOMAIN_SAMPLE, epoch, position);
}

/* uniform in [lo, hi) with 53 random bits, as Python's random.uniform */
static double
uniform (Rng *rng, double lo, double hi)
{
  double u = (double) (rng_next_u64 (rng) >> 11) * (1.0 / 9007199254740992.0);
  return lo + (hi - lo) * u;
}

void
augment_sample_crop (const AugmentOptions *o, int height, int width, Rng *rng,
                     int *x, int *y, int *w, int *h)
{
  const double area = (double) height * width;
  const double log_lo = log (o->ratio_min), log_hi = log (o->ratio_max);
  for (int attempt = 0; attempt < 10; attempt++)
    {
      double target = area * uniform (rng, o->scale_min, o->scale_max);
      double ratio = exp (uniform (rng, log_lo, log_hi));
      /* nearbyint rounds half to even, as Python's round */
      int cw = (int) nearbyint (sqrt (target * ratio));
      int ch = (int) nearbyint (sqrt (target / ratio));
      if (cw > 0 && cw <= width && ch > 0 && ch <= height)
        {
          *y = (int) rng_below (rng, (guint64) (height - ch + 1));
          *x = (int) rng_below (rng, (guint64) (width - cw + 1));
          *w = cw;
          *h = ch;
          return;
        }
    }
  /* fallback: the whole image, cut to the nearest allowed ratio */
  double in_ratio = (double) width / height;
  int cw = width, ch = height;
  if (in_ratio < o->ratio_min)
    ch = (int) nearbyint (width / (double) o->ratio_min);
  else if (in_ratio > o->ratio_max)
    cw = (int) nearbyint (height * (double) o->ratio_max);
  *w = cw;
  *h = ch;
  *y = (height - ch) / 2;
  *x = (width - cw) / 2;
}

void
augment_sample (const AugmentOptions *o, int channels, int height, int width,
                Rng *rng, AugmentParams *p)
{
  *p = (AugmentParams) { .crop_w = width, .crop_h = height,
                         .brightness = 1.0f, .contrast = 1.0f,
                         .saturation = 1.0f };
  if (o->random_crop)
    augment_sample_crop (o, height, width, rng, &p->crop_x, &p->crop_y,
                         &p->crop_w, &p->crop_h);

  const gboolean colour = channels == 3;
  if (o->grayscale_first && colour && o->grayscale_p > 0.0f)
    p->grayscale = uniform (rng, 0.0, 1.0) < o->grayscale_p;

  /* ColorJitter.get_params: the enabled factors in this order, then a
   * random order of the enabled steps */
  if (o->brightness > 0.0f)
    {
      p->brightness = (float) uniform (rng, MAX (0.0, 1.0 - o->brightness),
                                       1.0 + o->brightness);
      p->order[p->n_steps++] = STEP_BRIGHTNESS;
    }
  if (o->contrast > 0.0f)
    {
      p->contrast = (float) uniform (rng, MAX (0.0, 1.0 - o->contrast),
                                     1.0 + o->contrast);
      p->order[p->n_steps++] = STEP_CONTRAST;
    }
  if (colour && o->saturation > 0.0f)
    {
      p->saturation = (float) uniform (rng, MAX (0.0, 1.0 - o->saturation),
                                       1.0 + o->saturation);
      p->order[p->n_steps++] = STEP_SATURATION;
    }
  if (colour && o->hue > 0.0f)
    {
      p->hue = (float) uniform (rng, -o->hue, o->hue);
      p->order[p->n_steps++] = STEP_HUE;
    }
  for (int i = p->n_steps - 1; i > 0; i--)
    {
      int j = (int) rng_below (rng, (guint64) i + 1);
      int t = p->order[i];
      p->order[i] = p->order[j];
      p->order[j] = t;
    }

  if (!o->grayscale_first && colour && o->grayscale_p > 0.0f)
    p->grayscale = uniform (rng, 0.0, 1.0) < o->grayscale_p;
  if (o->flip)
    p->flip = uniform (rng, 0.0, 1.0) < 0.5;
}

/* ---- pixel operations --------------------------------------------------- */

static inline guint8
clip_truncate (float v)
{
  return v <= 0.0f ? 0 : v >= 255.0f ? 255 : (guint8) v;
}

/* PIL's Image.blend (a, b, alpha) = a + alpha (b - a), truncated */
static inline guint8
blend (int a, int b, float alpha)
{
  return clip_truncate ((float) a + alpha * (float) (b - a));
}

/* ITU-R 601-2 luma as PIL's convert ("L"): 16-bit fixed point, rounded */
static inline int
luma (int r, int g, int b)
{
  return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
}

void
augment_adjust_brightness (guint8 *image, int channels, int n_pixels,
                           float factor)
{
  const gsize n = (gsize) channels * n_pixels;
  for (gsize i = 0; i < n; i++)
    image[i] = blend (0, image[i], factor);
}

void
augment_adjust_contrast (guint8 *image, int channels, int n_pixels,
                         float factor)
{
  /* the degenerate image is the mean grey level, rounded to an integer */
  double sum = 0.0;
  if (channels == 3)
    for (int i = 0; i < n_pixels; i++)
      sum += luma (image[i], image[n_pixels + i], image[2 * n_pixels + i]);
  else
    for (int i = 0; i < n_pixels; i++)
      sum += image[i];
  const int mean = (int) (sum / n_pixels + 0.5);
  const gsize n = (gsize) channels * n_pixels;
  for (gsize i = 0; i < n; i++)
    image[i] = blend (mean, image[i], factor);
}

void
augment_adjust_saturation (guint8 *image, int channels, int n_pixels,
                           float factor)
{
  if (channels != 3)
    return;
  guint8 *r = image, *g = image + n_pixels, *b = image + 2 * n_pixels;
  for (int i = 0; i < n_pixels; i++)
    {
      int l = luma (r[i], g[i], b[i]);
      r[i] = blend (l, r[i], factor);
      g[i] = blend (l, g[i], factor);
      b[i] = blend (l, b[i], factor);
    }
}

void
augment_adjust_hue (guint8 *image, int channels, int n_pixels, float factor)
{
  if (channels != 3)
    return;
  /* numpy's uint8 (hue * 255): toward zero, then modulo 256 */
  const guint8 shift = (guint8) (int) ((double) factor * 255.0);
  guint8 *r = image, *g = image + n_pixels, *b = image + 2 * n_pixels;
  for (int i = 0; i < n_pixels; i++)
    {
      /* PIL's rgb2hsv and hsv2rgb (Convert.c, following colorsys), with
       * its mixture of float variables and double constants kept: the
       * truncations to 8 bits fall where PIL's do */
      const int maxc = MAX (r[i], MAX (g[i], b[i]));
      const int minc = MIN (r[i], MIN (g[i], b[i]));
      if (maxc == minc)
        continue;  /* grey: h = s = 0, which maps back to (v, v, v) */
      const float cr = (float) (maxc - minc);
      const float s = cr / (float) maxc;
      const float rc = (float) (maxc - r[i]) / cr;
      const float gc = (float) (maxc - g[i]) / cr;
      const float bc = (float) (maxc - b[i]) / cr;
      float h;
      if (r[i] == maxc)
        h = bc - gc;
      else if (g[i] == maxc)
        h = 2.0 + rc - bc;
      else
        h = 4.0 + gc - rc;
      h = fmod (h / 6.0 + 1.0, 1.0);
      const guint8 uh = (guint8) (CLAMP ((int) (h * 255.0), 0, 255) + shift);
      const guint8 us = (guint8) CLAMP ((int) (s * 255.0), 0, 255);
      const guint8 v = (guint8) maxc;
      if (us == 0)
        {
          r[i] = g[i] = b[i] = v;
          continue;
        }
      const int sector = (int) floor ((float) uh * 6.0 / 255.0);
      const float f = (float) uh * 6.0 / 255.0 - (float) sector;
      const float fs = (float) us / 255.0;
      const int p = (int) round ((float) v * (1.0 - fs));
      const int q = (int) round ((float) v * (1.0 - fs * f));
      const int t = (int) round ((float) v * (1.0 - fs * (1.0 - f)));
      const guint8 up = (guint8) CLAMP (p, 0, 255);
      const guint8 uq = (guint8) CLAMP (q, 0, 255);
      const guint8 ut = (guint8) CLAMP (t, 0, 255);
      switch (sector % 6)
        {
        case 0: r[i] = v; g[i] = ut; b[i] = up; break;
        case 1: r[i] = uq; g[i] = v; b[i] = up; break;
        case 2: r[i] = up; g[i] = v; b[i] = ut; break;
        case 3: r[i] = up; g[i] = uq; b[i] = v; break;
        case 4: r[i] = ut; g[i] = up; b[i] = v; break;
        default: r[i] = v; g[i] = up; b[i] = uq; break;
        }
    }
}

void
augment_to_grayscale (guint8 *image, int channels, int n_pixels)
{
  if (channels != 3)
    return;
  guint8 *r = image, *g = image + n_pixels, *b = image + 2 * n_pixels;
  for (int i = 0; i < n_pixels; i++)
    r[i] = g[i] = b[i] = (guint8) luma (r[i], g[i], b[i]);
}

void
augment_flip (guint8 *image, int channels, int height, int width)
{
  for (int row = 0; row < channels * height; row++)
    {
      guint8 *p = image + (gsize) row * width;
      for (int x = 0; x < width / 2; x++)
        {
          guint8 t = p[x];
          p[x] = p[width - 1 - x];
          p[width - 1 - x] = t;
        }
    }
}

/* ---- resampling --------------------------------------------------------- */

/* PIL's Resample.c for 8-bit images, restated: weights of the triangle
 * filter in double, widened by the downscale factor (which is what
 * antialiases), normalised, then made 22-bit fixed-point integers; each
 * pass sums integers with a half for rounding and clips to 8 bits. The
 * horizontal pass writes an 8-bit image that the vertical pass reads, as
 * PIL's does; doing both passes always is the same as PIL skipping one of
 * an unchanged size, since the weights of a 1:1 pass are exactly (1, 0). */
#define PRECISION_BITS (32 - 8 - 2)

static double
bilinear_filter (double x)
{
  if (x < 0.0)
    x = -x;
  return x < 1.0 ? 1.0 - x : 0.0;
}

/* For each of out_size outputs: the first tap bounds[2 o], the number of
 * taps bounds[2 o + 1], and ksize fixed-point weights (the return value). */
static int
precompute_coeffs (int in_size, int out_size, int **bounds_out,
                   gint32 **kk_out)
{
  double scale, filterscale;
  filterscale = scale = (double) in_size / out_size;
  if (filterscale < 1.0)
    filterscale = 1.0;
  const double support = 1.0 * filterscale;
  const int ksize = (int) ceil (support) * 2 + 1;
  int *bounds = g_new (int, 2 * (gsize) out_size);
  gint32 *kk = g_new0 (gint32, (gsize) out_size * ksize);
  g_autofree double *k = g_new (double, ksize);
  for (int xx = 0; xx < out_size; xx++)
    {
      const double center = (xx + 0.5) * scale;
      const double ss = 1.0 / filterscale;
      double ww = 0.0;
      int xmin = (int) (center - support + 0.5);
      if (xmin < 0)
        xmin = 0;
      int xmax = (int) (center + support + 0.5);
      if (xmax > in_size)
        xmax = in_size;
      xmax -= xmin;
      g_assert (xmax <= ksize);
      for (int x = 0; x < xmax; x++)
        {
          double w = bilinear_filter ((x + xmin - center + 0.5) * ss);
          k[x] = w;
          ww += w;
        }
      for (int x = 0; x < xmax; x++)
        {
          if (ww != 0.0)
            k[x] /= ww;
          kk[(gsize) xx * ksize + x]
              = k[x] < 0 ? (gint32) (-0.5 + k[x] * (1 << PRECISION_BITS))
                         : (gint32) (0.5 + k[x] * (1 << PRECISION_BITS));
        }
      bounds[2 * xx] = xmin;
      bounds[2 * xx + 1] = xmax;
    }
  *bounds_out = bounds;
  *kk_out = kk;
  return ksize;
}

static inline guint8
clip8 (gint32 v)
{
  v >>= PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : (guint8) v;
}

void
augment_resize (const guint8 *src, int channels, int sh, int sw, int x0,
                int y0, int w, int h, guint8 *dst, int dh, int dw)
{
  g_assert (x0 >= 0 && y0 >= 0 && x0 + w <= sw && y0 + h <= sh);
  g_autofree int *bx = NULL, *by = NULL;
  g_autofree gint32 *kx = NULL, *ky = NULL;
  const int mx = precompute_coeffs (w, dw, &bx, &kx);
  const int my = precompute_coeffs (h, dh, &by, &ky);
  /* the rows of the crop that the vertical pass reads */
  const int row_first = by[0];
  const int row_last = by[2 * dh - 2] + by[2 * dh - 1];
  const int n_rows = row_last - row_first;
  g_autofree guint8 *tmp = g_new (guint8, (gsize) n_rows * dw);
  for (int c = 0; c < channels; c++)
    {
      const guint8 *plane = src + (gsize) c * sh * sw;
      for (int y = 0; y < n_rows; y++)
        {
          const guint8 *row = plane + (gsize) (y0 + row_first + y) * sw + x0;
          for (int o = 0; o < dw; o++)
            {
              const gint32 *k = kx + (gsize) o * mx;
              const guint8 *in = row + bx[2 * o];
              gint32 s = 1 << (PRECISION_BITS - 1);
              for (int t = 0; t < bx[2 * o + 1]; t++)
                s += in[t] * k[t];
              tmp[(gsize) y * dw + o] = clip8 (s);
            }
        }
      guint8 *out = dst + (gsize) c * dh * dw;
      for (int o = 0; o < dh; o++)
        {
          const gint32 *k = ky + (gsize) o * my;
          const guint8 *in = tmp + (gsize) (by[2 * o] - row_first) * dw;
          for (int x = 0; x < dw; x++)
            {
              gint32 s = 1 << (PRECISION_BITS - 1);
              for (int t = 0; t < by[2 * o + 1]; t++)
                s += in[(gsize) t * dw + x] * k[t];
              out[(gsize) o * dw + x] = clip8 (s);
            }
        }
    }
}

/* ---- whole transforms --------------------------------------------------- */

static void
normalise (const AugmentOptions *o, const guint8 *image, int channels,
           int n_pixels, float *out)
{
  for (int c = 0; c < channels; c++)
    {
      /* divisions, not multiplications by reciprocals: bit for bit what
       * ToTensor's div (255) and Normalize's sub_ (mean).div_ (std) give */
      const float mean = o->mean[c], std = o->std[c];
      const guint8 *p = image + (gsize) c * n_pixels;
      float *q = out + (gsize) c * n_pixels;
      for (int i = 0; i < n_pixels; i++)
        q[i] = ((float) p[i] / 255.0f - mean) / std;
    }
}

static void
jitter (const AugmentParams *p, guint8 *image, int channels, int n_pixels)
{
  for (int s = 0; s < p->n_steps; s++)
    switch (p->order[s])
      {
      case STEP_BRIGHTNESS:
        augment_adjust_brightness (image, channels, n_pixels, p->brightness);
        break;
      case STEP_CONTRAST:
        augment_adjust_contrast (image, channels, n_pixels, p->contrast);
        break;
      case STEP_SATURATION:
        augment_adjust_saturation (image, channels, n_pixels, p->saturation);
        break;
      case STEP_HUE:
        augment_adjust_hue (image, channels, n_pixels, p->hue);
        break;
      default:
        g_assert_not_reached ();
      }
}

void
augment_apply (const AugmentOptions *o, const AugmentParams *p,
               const guint8 *image, int channels, int height, int width,
               float *out)
{
  const int size = o->size;
  const int n_pixels = size * size;
  g_autofree guint8 *work = g_malloc ((gsize) channels * n_pixels);
  augment_resize (image, channels, height, width, p->crop_x, p->crop_y,
                  p->crop_w, p->crop_h, work, size, size);
  if (p->grayscale && o->grayscale_first)
    augment_to_grayscale (work, channels, n_pixels);
  jitter (p, work, channels, n_pixels);
  if (p->grayscale && !o->grayscale_first)
    augment_to_grayscale (work, channels, n_pixels);
  if (p->flip)
    augment_flip (work, channels, size, size);
  normalise (o, work, channels, n_pixels, out);
}

void
augment_train (const AugmentOptions *o, const guint8 *image, int channels,
               int height, int width, guint64 seed, gint64 epoch,
               gint64 position, float *out)
{
  Rng rng;
  rng_seed (&rng, augment_sample_seed (seed, epoch, position));
  AugmentParams params;
  augment_sample (o, channels, height, width, &rng, &params);
  augment_apply (o, &params, image, channels, height, width, out);
}

void
augment_test (const AugmentOptions *o, const guint8 *image, int channels,
              int height, int width, float *out)
{
  const int size = o->size;
  if (height == size && width == size)
    {
      normalise (o, image, channels, size * size, out);
      return;
    }
  g_autofree guint8 *work = g_malloc ((gsize) channels * size * size);
  augment_resize (image, channels, height, width, 0, 0, width, height, work,
                  size, size);
  normalise (o, work, channels, size * size, out);
}
