/* test-formats.c: the image formats of the data layer (image-formats.h):
 * the list comes from GdkPixbuf's loaders, and a WebP file, the format of
 * GNOME's own wallpapers, is an image to a folder data set, to the probe
 * and to the decoder that query images go through. WebP needs its
 * GdkPixbuf loader (Debian: webp-pixbuf-loader, in tools/install-deps);
 * without it the test fails saying so. */
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib.h>
#include <string.h>

#include "data-fixtures.h"
#include "dataset.h"
#include "image-formats.h"
#include "testutil.h"

static void
test_list (void)
{
  const char *const *extensions = data_image_extensions ();
  const char *const *mime_types = data_image_mime_types ();
  g_assert_true (g_strv_contains (extensions, "png"));
  g_assert_true (g_strv_contains (extensions, "jpg"));
  g_assert_true (g_strv_contains (mime_types, "image/png"));
  /* every loader GdkPixbuf has, and nothing else */
  GSList *formats = gdk_pixbuf_get_formats ();
  for (GSList *l = formats; l; l = l->next)
    {
      if (gdk_pixbuf_format_is_disabled (l->data))
        continue;
      g_auto (GStrv) exts = gdk_pixbuf_format_get_extensions (l->data);
      for (int i = 0; exts[i]; i++)
        {
          g_autofree char *lower = g_ascii_strdown (exts[i], -1);
          g_assert_true (g_strv_contains (extensions, lower));
          g_autofree char *name = g_strconcat ("X.", exts[i], NULL);
          g_assert_true (data_is_image_name (name));
        }
    }
  g_slist_free (formats);
  for (int i = 1; extensions[i]; i++)
    g_assert_cmpint (strcmp (extensions[i - 1], extensions[i]), <, 0);
  g_assert_false (data_is_image_name ("README"));
  g_assert_false (data_is_image_name (".png"));
  g_assert_false (data_is_image_name ("archive.tar.gz"));
}

static void
test_webp (void)
{
  if (!data_image_format_available ("webp"))
    g_error ("GdkPixbuf has no WebP loader here: install webp-pixbuf-loader "
             "(tools/install-deps)");
  g_assert_true (g_strv_contains (data_image_extensions (), "webp"));
  g_assert_true (g_strv_contains (data_image_mime_types (), "image/webp"));
  g_assert_true (data_is_image_name ("adwaita-d.WEBP"));

  /* a folder of one class in WebP and one in PNG: both are images */
  g_autofree char *dir = fixture_tmpdir ();
  for (int i = 0; i < 4; i++)
    {
      g_autofree char *w = g_strdup_printf ("sky/s%d.webp", i);
      g_free (fixture_save_solid (dir, w, 48, 40, 30, 90, 220, "webp"));
      g_autofree char *p = g_strdup_printf ("sand/s%d.png", i);
      g_free (fixture_save_solid (dir, p, 40, 40, 220, 200, 120, "png"));
    }
  DatasetOptions options;
  dataset_options_init_default (&options);
  options.holdout_every = 0;
  g_autoptr (GError) error = NULL;
  g_autoptr (Dataset) set = dataset_open (dir, "train", &options, &error);
  g_assert_no_error (error);
  g_assert_cmpint (set->n, ==, 8);
  g_assert_cmpint (set->n_skipped, ==, 0);
  g_assert_cmpint (set->n_classes, ==, 2);
  g_assert_cmpstr (set->class_names[1], ==, "sky");
  int sky = -1;
  for (int i = 0; i < set->n; i++)
    if (set->labels[i] == 1)
      sky = i;
  g_assert_true (g_str_has_suffix (dataset_get_path (set, sky), ".webp"));
  guint8 pixels[3 * 32 * 32];
  g_assert_true (dataset_get_image (set, sky, pixels, &error));
  g_assert_no_error (error);
  /* lossy, but a flat colour stays close to itself */
  g_assert_cmpint (ABS (pixels[0] - 30), <=, 8);
  g_assert_cmpint (ABS (pixels[32 * 32] - 90), <=, 8);
  g_assert_cmpint (ABS (pixels[2 * 32 * 32] - 220), <=, 8);

  /* a query image: decoded as a folder's images are */
  g_autofree char *one = g_build_filename (dir, "sky", "s0.webp", NULL);
  guint8 grey[28 * 28];
  g_assert_true (dataset_decode_file (one, 1, 28, DATASET_RESIZE_CENTER_CROP,
                                      grey, &error));
  g_assert_no_error (error);

  /* cut short: refused by the probe, naming the file */
  g_autofree char *bytes = NULL;
  gsize length = 0;
  g_assert_true (g_file_get_contents (one, &bytes, &length, NULL));
  g_autofree char *cut = fixture_write (dir, "cut.webp", bytes, length / 2);
  g_assert_false (dataset_decode_file (cut, 1, 28,
                                       DATASET_RESIZE_CENTER_CROP, grey,
                                       &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "cut.webp"));
  g_clear_error (&error);

  /* not an image at all: the message lists what is read here */
  g_autofree char *text = fixture_write (dir, "notes.webp", "plain text", 10);
  g_assert_false (dataset_decode_file (text, 1, 28,
                                       DATASET_RESIZE_CENTER_CROP, grey,
                                       &error));
  g_assert_nonnull (strstr (error->message, "WEBP"));
  g_assert_nonnull (strstr (error->message, "PNG"));
  test_remove_tree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/data/formats/list", test_list);
  g_test_add_func ("/data/formats/webp", test_webp);
  return g_test_run ();
}
