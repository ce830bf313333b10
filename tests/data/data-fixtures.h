/* data-fixtures.h: small data sets written by the tests themselves. */
#pragma once

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

/* A fresh temporary folder; remove it with fixture_rmtree. */
static inline char *
fixture_tmpdir (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("instdisc-data-XXXXXX", &error);
  g_assert_no_error (error);
  return dir;
}

static inline void
fixture_rmtree (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;
      while (dir && (name = g_dir_read_name (dir)))
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          fixture_rmtree (child);
        }
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

static inline char *
fixture_write (const char *dir, const char *name, const void *data, gsize size)
{
  char *path = g_build_filename (dir, name, NULL);
  g_autofree char *parent = g_path_get_dirname (path);
  g_mkdir_with_parents (parent, 0755);
  g_autoptr (GError) error = NULL;
  g_file_set_contents (path, data, size, &error);
  g_assert_no_error (error);
  return path;
}

/* Writes data gzipped. */
static inline char *
fixture_write_gz (const char *dir, const char *name, const void *data,
                  gsize size)
{
  g_autoptr (GZlibCompressor) gz
      = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, -1);
  g_autoptr (GOutputStream) mem = g_memory_output_stream_new_resizable ();
  g_autoptr (GOutputStream) out
      = g_converter_output_stream_new (mem, G_CONVERTER (gz));
  g_autoptr (GError) error = NULL;
  g_output_stream_write_all (out, data, size, NULL, NULL, &error);
  g_assert_no_error (error);
  g_output_stream_close (out, NULL, &error);
  g_assert_no_error (error);
  return fixture_write (dir, name,
                        g_memory_output_stream_get_data (G_MEMORY_OUTPUT_STREAM (mem)),
                        g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (mem)));
}

/* An RGB pixbuf whose pixel (x, y) is fill (x, y, rgb). */
typedef void (*FixturePixel) (int x, int y, guint8 rgb[3], gpointer user);

static inline GdkPixbuf *
fixture_pixbuf (int w, int h, FixturePixel fill, gpointer user)
{
  GdkPixbuf *pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, w, h);
  guint8 *p = gdk_pixbuf_get_pixels (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      fill (x, y, p + y * stride + x * 3, user);
  return pixbuf;
}

static inline void
fixture_solid (int x, int y, guint8 rgb[3], gpointer user)
{
  memcpy (rgb, user, 3);
}

/* Saves a solid-colour w x h image as type ("png" or "jpeg") at dir/name. */
static inline char *
fixture_save_solid (const char *dir, const char *name, int w, int h,
                    guint8 r, guint8 g, guint8 b, const char *type)
{
  guint8 rgb[3] = { r, g, b };
  g_autoptr (GdkPixbuf) pixbuf = fixture_pixbuf (w, h, fixture_solid, rgb);
  char *path = g_build_filename (dir, name, NULL);
  g_autofree char *parent = g_path_get_dirname (path);
  g_mkdir_with_parents (parent, 0755);
  g_autoptr (GError) error = NULL;
  gdk_pixbuf_save (pixbuf, path, type, &error, NULL);
  g_assert_no_error (error);
  return path;
}

/* Asserts that error is set, is of the data domain and names `what`. */
#define assert_error_names(error, what)                                       \
  do {                                                                        \
    g_assert_nonnull (error);                                                 \
    g_test_message ("expected error: %s", (error)->message);                  \
    if (!strstr ((error)->message, (what)))                                   \
      g_error ("error “%s” does not name “%s”", (error)->message, (what));    \
  } while (0)
