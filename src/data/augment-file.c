/* augment-file.c: the training transform of a full-resolution folder set,
 * from the image file itself (augment.h: augment_train_full_resolution).
 *
 * The random crop is drawn for the picture's own width and height and
 * resized with augment_resize, PIL's bilinear arithmetic, so a crop of a
 * photograph is what torchvision's RandomResizedCrop makes of the same
 * decoded pixels. Only the crop's region is converted to planes; the
 * decoded picture is freed before the next image is read, so a worker
 * holds one photograph at a time whatever the size of the set.
 *
 * A JPEG whose crop is far larger than the output is decoded at 1/2, 1/4
 * or 1/8 of its size by libjpeg's DCT scaling (GdkPixbuf's at-scale
 * loading asked for exactly the scaled size, so nothing rescales it
 * after): most of a large photograph's decode time is the full-size IDCT
 * and colour conversion, and a crop that is still at least twice the
 * output on both sides keeps more detail than the resize to the output
 * can show. Such a crop is no longer torchvision's byte for byte (PIL
 * decodes the whole picture); PNG and the other formats always are. */
#define G_LOG_DOMAIN "instdisc-data"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gi18n-lib.h>

#include "augment.h"
#include "dataset-private.h"

/* The region (x, y, w, h) of an interleaved 8-bit pixbuf into (channels,
 * h, w) planes; one channel is PIL's convert ("L") luma. */
static void
copy_region_to_planes (guint8 *planes, const GdkPixbuf *pixbuf, int channels,
                       int x0, int y0, int w, int h)
{
  const int n_ch = gdk_pixbuf_get_n_channels (pixbuf);
  const int stride = gdk_pixbuf_get_rowstride (pixbuf);
  const guint8 *src = gdk_pixbuf_read_pixels (pixbuf);
  const gsize plane = (gsize) w * h;
  for (int y = 0; y < h; y++)
    {
      const guint8 *row = src + (gsize) (y0 + y) * stride + (gsize) x0 * n_ch;
      for (int x = 0; x < w; x++)
        {
          const guint8 *p = row + (gsize) x * n_ch;
          const gsize at = (gsize) y * w + x;
          if (channels == 1)
            planes[at] = (guint8) ((p[0] * 19595 + p[1] * 38470
                                    + p[2] * 7471 + 0x8000) >> 16);
          else
            for (int c = 0; c < 3; c++)
              planes[c * plane + at] = p[c];
        }
    }
}

int
augment_jpeg_scale_divisor (int crop_w, int crop_h, int size)
{
  int divisor = 1;
  while (divisor < 8 && crop_w / (divisor * 2) >= 2 * size
         && crop_h / (divisor * 2) >= 2 * size)
    divisor *= 2;
  return divisor;
}

static gboolean
is_jpeg (const char *path)
{
  GdkPixbufFormat *format = gdk_pixbuf_get_file_info (path, NULL, NULL);
  g_autofree char *name = format ? gdk_pixbuf_format_get_name (format) : NULL;
  return name && g_str_equal (name, "jpeg");
}

/* The picture at path, at 1/divisor of its width x height when that is
 * more than 1 (libjpeg's scaled sizes are the quotients rounded up). */
static GdkPixbuf *
decode_at_divisor (const char *path, int width, int height, int divisor,
                   GError **error)
{
  if (divisor == 1)
    return gdk_pixbuf_new_from_file (path, error);
  return gdk_pixbuf_new_from_file_at_scale (path,
                                            (width + divisor - 1) / divisor,
                                            (height + divisor - 1) / divisor,
                                            FALSE, error);
}

gboolean
augment_train_full_resolution (float *out, const AugmentOptions *options,
                               const char *path, int channels, guint64 seed,
                               gint64 epoch, gint64 position, GError **error)
{
  g_return_val_if_fail (channels == 1 || channels == 3, FALSE);
  /* the same limits as every other decode: a file that declares more than
   * the pixel limit, or is cut short, is refused before it is decoded */
  int width = 0, height = 0;
  if (!data_image_probe (path, data_max_image_pixels (), &width, &height,
                         error))
    return FALSE;

  /* the draws are augment_train's for a picture of the size its header
   * declares: the same stream of (seed, epoch, position), the crop first */
  Rng rng;
  rng_seed (&rng, augment_sample_seed (seed, epoch, position));
  AugmentParams params;
  augment_sample (options, channels, height, width, &rng, &params);

  int divisor = is_jpeg (path) ? augment_jpeg_scale_divisor (params.crop_w,
                                                              params.crop_h,
                                                              options->size)
                                : 1;
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GdkPixbuf) pixbuf
      = decode_at_divisor (path, width, height, divisor, &local_error);
  if (pixbuf && divisor > 1
      && (gdk_pixbuf_get_width (pixbuf) != (width + divisor - 1) / divisor
          || gdk_pixbuf_get_height (pixbuf)
                 != (height + divisor - 1) / divisor))
    {
      /* a loader that scaled otherwise than libjpeg's rule: the whole
       * picture then, rather than a crop of another size or a row lost */
      g_clear_object (&pixbuf);
      divisor = 1;
      pixbuf = decode_at_divisor (path, width, height, divisor, &local_error);
    }
  if (!pixbuf)
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_UNREADABLE,
                   _("%s: cannot be decoded: %s"), path, local_error->message);
      return FALSE;
    }
  const int decoded_w = gdk_pixbuf_get_width (pixbuf);
  const int decoded_h = gdk_pixbuf_get_height (pixbuf);
  const int n_ch = gdk_pixbuf_get_n_channels (pixbuf);
  if (decoded_w != (width + divisor - 1) / divisor
      || decoded_h != (height + divisor - 1) / divisor || n_ch < 3
      || gdk_pixbuf_get_bits_per_sample (pixbuf) != 8)
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_UNREADABLE,
                   _("%s: decoded to an unexpected %dx%d image of %d "
                     "channels"),
                   path, decoded_w, decoded_h, n_ch);
      return FALSE;
    }
  if (divisor > 1)
    {
      /* the same crop in the scaled picture's pixels, inside it */
      params.crop_x /= divisor;
      params.crop_y /= divisor;
      params.crop_w = MIN (params.crop_w / divisor, decoded_w - params.crop_x);
      params.crop_h = MIN (params.crop_h / divisor, decoded_h - params.crop_y);
    }

  g_autofree guint8 *region
      = g_malloc ((gsize) channels * params.crop_w * params.crop_h);
  copy_region_to_planes (region, pixbuf, channels, params.crop_x,
                         params.crop_y, params.crop_w, params.crop_h);
  g_clear_object (&pixbuf);
  params.crop_x = params.crop_y = 0;
  augment_apply (options, &params, region, channels, params.crop_h,
                 params.crop_w, out);
  return TRUE;
}
