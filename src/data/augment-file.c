/* augment-file.c: the training transform of a full-resolution folder set,
 * from the image file itself (augment.h: augment_train_full_resolution).
 *
 * The random crop is drawn for the picture's own width and height and
 * resized with augment_resize, PIL's bilinear arithmetic, so a crop of a
 * photograph is what torchvision's RandomResizedCrop makes of the same
 * decoded pixels. Only the crop's region is converted to planes; the
 * decoded picture is freed before the next image is read, so a worker
 * holds one photograph at a time whatever the size of the set. */
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

gboolean
augment_train_full_resolution (float *out, const AugmentOptions *options,
                               const char *path, int channels, guint64 seed,
                               gint64 epoch, gint64 position, GError **error)
{
  g_return_val_if_fail (channels == 1 || channels == 3, FALSE);
  /* the same limits as every other decode: a file that declares more than
   * the pixel limit, or is cut short, is refused before it is decoded */
  if (!data_image_probe (path, data_max_image_pixels (), NULL, NULL, error))
    return FALSE;
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GdkPixbuf) pixbuf = gdk_pixbuf_new_from_file (path, &local_error);
  if (!pixbuf)
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_UNREADABLE,
                   _("%s: cannot be decoded: %s"), path, local_error->message);
      return FALSE;
    }
  const int width = gdk_pixbuf_get_width (pixbuf);
  const int height = gdk_pixbuf_get_height (pixbuf);
  const int n_ch = gdk_pixbuf_get_n_channels (pixbuf);
  if (width < 1 || height < 1 || n_ch < 3
      || gdk_pixbuf_get_bits_per_sample (pixbuf) != 8)
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_UNREADABLE,
                   _("%s: decoded to an unexpected %dx%d image of %d "
                     "channels"),
                   path, width, height, n_ch);
      return FALSE;
    }

  /* the draws are augment_train's for a picture of this size: the same
   * stream of (seed, epoch, position), the crop first */
  Rng rng;
  rng_seed (&rng, augment_sample_seed (seed, epoch, position));
  AugmentParams params;
  augment_sample (options, channels, height, width, &rng, &params);

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
