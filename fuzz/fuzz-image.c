/* fuzz-image.c: image files through dataset_decode_file, the path every
 * folder image and every query image takes: the header probe of
 * image-probe.c (declared size against the pixel limit, the file's end
 * for PNG, JPEG, GIF, BMP and WebP), then GdkPixbuf's decode at the
 * size the resize needs, then the crop and the channel conversion.
 *
 * The input's length picks the variant, so one corpus reaches all four
 * (a byte more or less after an image's end changes nothing else): odd
 * lengths decode to one grey channel, even ones to RGB; lengths whose
 * second bit is set stretch, the others centre-crop.
 *
 * The pixel limit is set to 4 megapixels instead of 100: the same checks
 * run, and a decode stays milliseconds instead of the seconds a
 * 100-megapixel image takes, which would leave a minute's run a few
 * dozen inputs. GdkPixbuf's loaders are system libraries, not built with
 * coverage: libFuzzer is guided by the probe's branches only, and the
 * loaders see the mutations of the seeds. */
#include <stdlib.h>

#include "dataset.h"
#include "fuzz-common.h"

enum { SIZE = 32 };

/* GdkPixbuf's loaders warn about what they meet in a broken file (and
 * assert about what a broken header makes them call): thousands of lines
 * a minute that say nothing about instdisc, whose answer is its own error.
 * They are dropped; instdisc's own criticals stay fatal (fuzz-common.c). */
static void
drop_message (const char *domain, GLogLevelFlags level, const char *message,
              gpointer data)
{
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_setup ();
  g_setenv ("INSTDISC_MAX_IMAGE_PIXELS", "4000000", TRUE);
  g_log_set_handler ("GdkPixbuf", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL
                                      | G_LOG_LEVEL_MESSAGE,
                     drop_message, NULL);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const int channels = size % 2 ? 1 : 3;
  const DatasetResize resize = size & 2 ? DATASET_RESIZE_STRETCH
                                        : DATASET_RESIZE_CENTER_CROP;
  g_autofree char *path = fuzz_write ("image", data, size);
  guint8 out[3 * SIZE * SIZE];
  g_autoptr (GError) error = NULL;
  gboolean ok = dataset_decode_file (path, channels, SIZE, resize, out,
                                     &error);
  FUZZ_CHECK (ok == (error == NULL));
  if (ok)
    {
      /* the whole image the caller asked for is there to read */
      guint8 sum = 0;
      for (gsize i = 0; i < (gsize) channels * SIZE * SIZE; i++)
        sum += out[i];
      volatile guint8 sink = sum;
      (void) sink;
    }
  return 0;
}
