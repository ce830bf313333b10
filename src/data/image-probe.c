/* image-probe.c: what an image file must pass before it is decoded.
 *
 * GdkPixbuf decodes whatever a header declares: a 68-byte PNG that
 * declares 65535 x 65535 pixels costs 12 GB and minutes before anything
 * is scaled, and a PNG or JPEG cut short decodes without an error, the
 * missing part blank or grey. So before a decode the header's size is
 * checked against a pixel limit, and the file's structure is checked for
 * its end: PNG's chunks are walked (lengths only, by seeking) to IEND;
 * JPEG must end with its EOI marker; GIF with its trailer byte, and each
 * of its frames must be within the limit too; BMP and WebP must be as long
 * as their headers say. Other formats GdkPixbuf reads (TIFF, ICO, ...) get
 * the size check only. */
#define G_LOG_DOMAIN "instdisc-data"

#include "dataset-private.h"
#include "image-formats.h"

#include <errno.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

gint64
data_max_image_pixels (void)
{
  const char *value = g_getenv ("INSTDISC_MAX_IMAGE_PIXELS");
  if (value)
    {
      char *end = NULL;
      gint64 n = g_ascii_strtoll (value, &end, 10);
      if (end && end != value && *end == '\0' && n > 0)
        return n;
      g_warning ("INSTDISC_MAX_IMAGE_PIXELS=%s is not a positive whole "
                 "number; the limit stays %d", value,
                 DATA_MAX_IMAGE_PIXELS_DEFAULT);
    }
  return DATA_MAX_IMAGE_PIXELS_DEFAULT;
}

static guint32
read_be32 (const guint8 *p)
{
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8
         | p[3];
}

static guint32
read_le32 (const guint8 *p)
{
  return (guint32) p[3] << 24 | (guint32) p[2] << 16 | (guint32) p[1] << 8
         | p[0];
}

/* PNG: signature, then chunks of (length, type, data, CRC) to IEND. Only
 * the 8-byte chunk headers are read; the data is skipped by seeking. */
static gboolean
png_is_complete (FILE *file, gint64 size)
{
  gint64 at = 8;
  for (;;)
    {
      guint8 header[8];
      if (at + 12 > size || fseeko (file, at, SEEK_SET) != 0
          || fread (header, 1, 8, file) != 8)
        return FALSE;
      gint64 length = read_be32 (header);
      if (at + 12 + length > size)
        return FALSE;
      if (memcmp (header + 4, "IEND", 4) == 0)
        return TRUE;
      at += 12 + length;
    }
}

/* The last bytes of the file, at most n. */
static gsize
read_tail (FILE *file, gint64 size, guint8 *buffer, gsize n)
{
  gsize want = (gsize) MIN ((gint64) n, size);
  if (fseeko (file, size - (gint64) want, SEEK_SET) != 0)
    return 0;
  return fread (buffer, 1, want, file);
}

/* JPEG: the EOI marker (FF D9) near the end. Entropy-coded data never
 * holds FF D9 (an FF there is followed by 00 or a restart marker), so a
 * file cut inside the scan has none in its tail; a few writers pad after
 * EOI, hence the window rather than the last two bytes. */
static gboolean
jpeg_is_complete (FILE *file, gint64 size)
{
  guint8 tail[4096];
  gsize n = read_tail (file, size, tail, sizeof tail);
  for (gsize i = n; i >= 2; i--)
    if (tail[i - 2] == 0xFF && tail[i - 1] == 0xD9)
      return TRUE;
  return FALSE;
}

/* GIF: the trailer byte 0x3B ends the stream. */
static gboolean
gif_is_complete (FILE *file, gint64 size)
{
  guint8 last;
  return read_tail (file, size, &last, 1) == 1 && last == 0x3B;
}

/* GIF: each frame's own size. A frame may be larger than the screen the
 * header declares (and GdkPixbuf reports), and GdkPixbuf takes a frame's
 * pixels with g_new before it finds the data missing: a 30-byte file
 * with a 65535 x 65535 frame asks for 4 GB, and ends the process when
 * that is refused. So the blocks are walked as GdkPixbuf's loader walks
 * them, from the colour table to the trailer: an extension (0x21, a
 * label) or a frame (0x2C, its descriptor, colour table and code size),
 * each followed by sub-blocks of a length byte and that many bytes; any
 * other byte is skipped, as the loader skips it. FALSE with the first
 * frame over max_pixels in *width, *height. A stream cut short is left to
 * gif_is_complete. */
static gboolean
gif_frames_fit (FILE *file, const guint8 *head, gsize n_head,
                gint64 max_pixels, int *width, int *height)
{
  if (n_head < 13)
    return TRUE;
  gint64 at = 13;
  if (head[10] & 0x80)
    at += 3 << ((head[10] & 7) + 1);   /* the global colour table */
  if (fseeko (file, at, SEEK_SET) != 0)
    return TRUE;
  int c;
  while ((c = getc (file)) != EOF && c != 0x3B)
    {
      if (c == 0x21)
        {
          if (getc (file) == EOF)   /* the extension's label */
            return TRUE;
        }
      else if (c == 0x2C)
        {
          guint8 d[9];   /* left, top, width, height, flags */
          if (fread (d, 1, sizeof d, file) != sizeof d)
            return TRUE;
          int w = d[4] | d[5] << 8, h = d[6] | d[7] << 8;
          if ((gint64) w * h > max_pixels)
            {
              *width = w;
              *height = h;
              return FALSE;
            }
          if ((d[8] & 0x80)
              && fseeko (file, 3 << ((d[8] & 7) + 1), SEEK_CUR) != 0)
            return TRUE;
          if (getc (file) == EOF)   /* the LZW code size */
            return TRUE;
        }
      else
        continue;
      /* sub-blocks, to the zero length that ends them */
      int length;
      while ((length = getc (file)) > 0)
        if (fseeko (file, length, SEEK_CUR) != 0)
          return TRUE;
    }
  return TRUE;
}

/* BMP: the file header's size field; uncompressed bitmaps also need
 * their rows, which some writers leave out of that field. */
static gboolean
bmp_is_complete (const guint8 *head, gsize n_head, gint64 size)
{
  if (n_head < 34)
    return FALSE;
  gint64 declared = read_le32 (head + 2);
  gint64 pixels_at = read_le32 (head + 10);
  gint32 width = (gint32) read_le32 (head + 18);
  gint32 height = (gint32) read_le32 (head + 22);
  int bits = head[28] | head[29] << 8;
  guint32 compression = read_le32 (head + 30);
  if (declared > size)
    return FALSE;
  if (compression == 0 && width > 0 && bits > 0)
    {
      gint64 row = ((gint64) bits * width + 31) / 32 * 4;
      gint64 rows = height < 0 ? -(gint64) height : height;
      return pixels_at + row * rows <= size;
    }
  return TRUE;
}

/* WebP: RIFF's size field counts everything after its first 8 bytes. */
static gboolean
webp_is_complete (const guint8 *head, gsize n_head, gint64 size)
{
  return n_head >= 12 && (gint64) read_le32 (head + 4) + 8 <= size;
}

/* RIFF....WEBP at the start, whatever the file is called */
static gboolean
looks_like_webp (const char *path)
{
  FILE *file = g_fopen (path, "rb");
  if (!file)
    return FALSE;
  guint8 head[12];
  gboolean yes = fread (head, 1, sizeof head, file) == sizeof head
                 && memcmp (head, "RIFF", 4) == 0
                 && memcmp (head + 8, "WEBP", 4) == 0;
  fclose (file);
  return yes;
}

gboolean
data_image_probe (const char *path, gint64 max_pixels, int *width,
                  int *height, GError **error)
{
  GStatBuf st;
  if (g_stat (path, &st) != 0)
    {
      int saved = errno;
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_UNREADABLE,
                   "%s: %s", path, g_strerror (saved));
      return FALSE;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_UNREADABLE,
                   _("%s: not a regular file"), path);
      return FALSE;
    }
  if (st.st_size == 0)
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_UNREADABLE,
                   "%s: %s", path, _("empty file"));
      return FALSE;
    }

  int w = 0, h = 0;
  GdkPixbufFormat *format = gdk_pixbuf_get_file_info (path, &w, &h);
  if (!format || w <= 0 || h <= 0)
    {
      if (!format && looks_like_webp (path)
          && !data_image_format_available ("webp"))
        g_set_error (error, INSTDISC_DATA_ERROR,
                     INSTDISC_DATA_ERROR_UNREADABLE, "%s: %s", path,
                     _("a WebP image, and GdkPixbuf has no WebP loader on "
                       "this machine (Debian’s package: "
                       "webp-pixbuf-loader)"));
      else if (format)
        g_set_error (error, INSTDISC_DATA_ERROR,
                     INSTDISC_DATA_ERROR_UNREADABLE, "%s: %s", path,
                     _("an image whose size GdkPixbuf cannot read (a "
                       "damaged header?)"));
      else
        {
          g_autofree char *known = data_image_formats_describe ();
          /* Translators: the list is of image formats, "BMP, GIF, JPEG,
           * PNG, ..." */
          g_set_error (error, INSTDISC_DATA_ERROR,
                       INSTDISC_DATA_ERROR_UNREADABLE,
                       _("%s: not an image of a format GdkPixbuf reads here "
                         "(%s), or an unreadable file"), path, known);
        }
      return FALSE;
    }
  if ((gint64) w * h > max_pixels)
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_INVALID,
                   _("%s: the image declares %d x %d pixels (%.0f "
                     "megapixels), more than the limit of %.0f megapixels "
                     "(INSTDISC_MAX_IMAGE_PIXELS sets another)"),
                   path, w, h, (double) w * h / 1e6, max_pixels / 1e6);
      return FALSE;
    }

  FILE *file = g_fopen (path, "rb");
  if (!file)
    {
      int saved = errno;
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_UNREADABLE,
                   "%s: %s", path, g_strerror (saved));
      return FALSE;
    }
  guint8 head[64] = { 0 };
  gsize n_head = fread (head, 1, sizeof head, file);
  const gint64 size = st.st_size;
  gboolean complete = TRUE;
  if (n_head >= 8 && memcmp (head, "\x89PNG\r\n\x1a\n", 8) == 0)
    complete = png_is_complete (file, size);
  else if (n_head >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF)
    complete = jpeg_is_complete (file, size);
  else if (n_head >= 6 && (memcmp (head, "GIF87a", 6) == 0
                           || memcmp (head, "GIF89a", 6) == 0))
    {
      int fw = 0, fh = 0;
      if (!gif_frames_fit (file, head, n_head, max_pixels, &fw, &fh))
        {
          fclose (file);
          g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_INVALID,
                       _("%s: a frame of the image declares %d x %d pixels "
                         "(%.0f megapixels), more than the limit of %.0f "
                         "megapixels (INSTDISC_MAX_IMAGE_PIXELS sets "
                         "another)"),
                       path, fw, fh, (double) fw * fh / 1e6, max_pixels / 1e6);
          return FALSE;
        }
      complete = gif_is_complete (file, size);
    }
  else if (n_head >= 2 && head[0] == 'B' && head[1] == 'M')
    complete = bmp_is_complete (head, n_head, size);
  else if (n_head >= 12 && memcmp (head, "RIFF", 4) == 0
           && memcmp (head + 8, "WEBP", 4) == 0)
    complete = webp_is_complete (head, n_head, size);
  fclose (file);
  if (!complete)
    {
      g_autofree char *format_name = gdk_pixbuf_format_get_name (format);
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_TRUNCATED,
                   _("%s: the %s file is cut short (its end is missing)"),
                   path, format_name);
      return FALSE;
    }
  if (width)
    *width = w;
  if (height)
    *height = h;
  return TRUE;
}
