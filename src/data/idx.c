/* idx.c: the IDX format of MNIST and Fashion-MNIST.
 *
 * A big-endian header: two zero bytes, a type byte (0x08 = unsigned byte),
 * the number of dimensions, then one u32 per dimension; then the data.
 * Files ending in .gz are decompressed on the fly. */
#define G_LOG_DOMAIN "instdisc-data"

#include <errno.h>
#include <inttypes.h>
#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "dataset-private.h"

static const char *FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist";

static const char *FASHION_MNIST_CLASSES[] = {
  "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
  "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
};

GInputStream *
data_open_file (const char *path, goffset *size, GError **error)
{
  GStatBuf st;
  if (g_stat (path, &st) != 0)
    {
      int saved = errno;
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_NOT_FOUND,
                   "%s: %s", path, g_strerror (saved));
      return NULL;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_UNREADABLE,
                   S_ISDIR (st.st_mode) ? _("%s: a folder, not a data file")
                                        : _("%s: not a regular file"),
                   path);
      return NULL;
    }
  *size = st.st_size;
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GFileInputStream) raw = g_file_read (file, NULL, &local_error);
  if (!raw)
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_NOT_FOUND,
                   "%s: %s", path, local_error->message);
      return NULL;
    }
  if (!g_str_has_suffix (path, ".gz"))
    return G_INPUT_STREAM (g_steal_pointer (&raw));
  g_autoptr (GZlibDecompressor) gunzip
      = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);
  return g_converter_input_stream_new (G_INPUT_STREAM (raw),
                                       G_CONVERTER (gunzip));
}

gboolean
data_read_exactly (GInputStream *stream, const char *path, void *buffer,
              gsize length, gsize *got, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  if (!g_input_stream_read_all (stream, buffer, length, got, NULL,
                                &local_error))
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_CORRUPT,
                   _("%s: cannot be read: %s"), path, local_error->message);
      return FALSE;
    }
  return TRUE;
}

static guint32
read_be32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8)
         | p[3];
}

/* deflate never packs more than 1032 bytes into one; a gzip file whose
 * header promises more than this many times its size lies */
#define GZIP_MAX_RATIO 1100

/* Reads an IDX file of unsigned bytes with `ndim` dimensions: the header
 * first, whose promise is checked against the file's size before any
 * memory is taken for the data, then exactly the promised bytes. Returns
 * the data (without header) and fills dims. */
static GBytes *
read_idx (const char *path, int ndim, guint32 *dims, GError **error)
{
  goffset file_size = 0;
  g_autoptr (GInputStream) stream = data_open_file (path, &file_size, error);
  if (!stream)
    return NULL;
  const gboolean gzipped = g_str_has_suffix (path, ".gz");
  guint8 p[4 + 4 * 3];
  const gsize header = 4 + 4 * (gsize) ndim;
  gsize got = 0;
  if (!data_read_exactly (stream, path, p, 4, &got, error))
    return NULL;
  if (got < 4)
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_TRUNCATED,
                   _("%s: truncated: %zu bytes is too short "
                     "for an IDX header"), path, got);
      return NULL;
    }
  if (p[0] != 0 || p[1] != 0 || p[2] != 0x08 || p[3] != ndim)
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_CORRUPT,
                   ndim == 3 ? _("%s: not an IDX file of images (magic %02x "
                                 "%02x %02x %02x, expected 00 00 08 %02x)")
                             : _("%s: not an IDX file of labels (magic %02x "
                                 "%02x %02x %02x, expected 00 00 08 %02x)"),
                   path, p[0], p[1], p[2], p[3], ndim);
      return NULL;
    }
  if (!data_read_exactly (stream, path, p + 4, header - 4, &got, error))
    return NULL;
  if (got < header - 4)
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_TRUNCATED,
                   _("%s: truncated inside the IDX header"), path);
      return NULL;
    }
  guint64 expected = 1;
  for (int d = 0; d < ndim; d++)
    {
      dims[d] = read_be32 (p + 4 + 4 * d);
      if (dims[d] == 0 || dims[d] > G_MAXINT32)
        {
          g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_CORRUPT,
                       _("%s: dimension %d of the IDX header is %u"), path, d,
                       dims[d]);
          return NULL;
        }
      /* three dimensions of up to 2^31 can multiply past 2^64: wrapped, a
       * promise of 2^64 bytes would read as 0 and pass for a file that
       * holds only its header */
      if (!g_uint64_checked_mul (&expected, expected, dims[d]))
        {
          g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_CORRUPT,
                       _("%s: the IDX header's dimensions promise more than "
                         "2^64 bytes"), path);
          return NULL;
        }
    }
  /* the promise against what the file can hold, before allocating */
  const guint64 on_disk = (guint64) file_size - MIN ((guint64) file_size,
                                                     gzipped ? 0 : header);
  const gboolean too_long = !gzipped && on_disk > expected;
  if (gzipped ? expected > (guint64) GZIP_MAX_RATIO * file_size
              : on_disk != expected)
    {
      g_set_error (error, INSTDISC_DATA_ERROR,
                   too_long ? INSTDISC_DATA_ERROR_CORRUPT
                            : INSTDISC_DATA_ERROR_TRUNCATED,
                   too_long
                       ? _("%s: trailing bytes: the header promises %"
                           PRIu64 " bytes of data, the file has %" PRIu64)
                   : gzipped
                       ? _("%s: truncated: the header promises %" PRIu64
                           " bytes of data, more than a compressed file of "
                           "%" PRIu64 " bytes can hold")
                       : _("%s: truncated: the header promises %" PRIu64
                           " bytes of data, the file has %" PRIu64),
                   path, expected, gzipped ? (guint64) file_size : on_disk);
      return NULL;
    }
  guint8 *data = g_try_malloc (MAX (expected, 1));
  if (!data)
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_INVALID,
                   _("%s: not enough memory for its %" PRIu64 " bytes"), path,
                   expected);
      return NULL;
    }
  g_autoptr (GBytes) bytes = g_bytes_new_take (data, expected);
  if (!data_read_exactly (stream, path, data, expected, &got, error))
    return NULL;
  guint8 extra;
  gsize got_extra = 0;
  if (got == expected
      && !data_read_exactly (stream, path, &extra, 1, &got_extra, error))
    return NULL;
  if (got < expected || got_extra > 0)
    {
      g_set_error (error, INSTDISC_DATA_ERROR,
                   got < expected ? INSTDISC_DATA_ERROR_TRUNCATED
                                  : INSTDISC_DATA_ERROR_CORRUPT,
                   got < expected
                       ? _("%s: truncated: the header promises %" PRIu64
                           " bytes of data, the file has %zu")
                       : _("%s: trailing bytes: the header promises %"
                           PRIu64 " bytes of data, the file has more"),
                   path, expected, got);
      return NULL;
    }
  return g_steal_pointer (&bytes);
}

Dataset *
dataset_load_idx (const char *images_path, const char *labels_path,
                  GError **error)
{
  guint32 dims[3];
  g_autoptr (GBytes) image_bytes = read_idx (images_path, 3, dims, error);
  if (!image_bytes)
    return NULL;

  g_autoptr (Dataset) data = dataset_new (NULL, DATASET_KIND_IDX);
  data->n = dims[0];
  data->channels = 1;
  data->height = dims[1];
  data->width = dims[2];
  gsize n_pixels;
  data->pixels = g_bytes_unref_to_data (g_steal_pointer (&image_bytes),
                                        &n_pixels);
  data->labels = g_new (gint32, data->n);

  if (labels_path)
    {
      guint32 n_labels;
      g_autoptr (GBytes) label_bytes = read_idx (labels_path, 1, &n_labels,
                                                 error);
      if (!label_bytes)
        return NULL;
      const guint8 *labels = g_bytes_get_data (label_bytes, NULL);
      if ((int) n_labels != data->n)
        {
          g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_MISMATCH,
                       _("%s: %u labels for the %d images of %s"), labels_path,
                       n_labels, data->n, images_path);
          return NULL;
        }
      int max_label = 0;
      for (int i = 0; i < data->n; i++)
        {
          data->labels[i] = labels[i];
          max_label = MAX (max_label, labels[i]);
        }
      data->n_classes = max_label + 1;
    }
  else
    for (int i = 0; i < data->n; i++)
      data->labels[i] = -1;

  data->name = g_path_get_basename (images_path);
  data->kind = DATASET_KIND_IDX;
  data->source = g_strdup (images_path);
  return g_steal_pointer (&data);
}

Dataset *
dataset_load_fashion_mnist (const char *split, GError **error)
{
  if (!split || !(g_str_equal (split, "train") || g_str_equal (split, "test")))
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_INVALID,
                   _("fashion-mnist: no split “%s” (train or test)"),
                   split ? split : "(null)");
      return NULL;
    }
  const char *prefix = g_str_equal (split, "test") ? "t10k" : "train";
  g_autofree char *images = g_strdup_printf ("%s/%s-images-idx3-ubyte.gz",
                                             FASHION_MNIST_DIR, prefix);
  g_autofree char *labels = g_strdup_printf ("%s/%s-labels-idx1-ubyte.gz",
                                             FASHION_MNIST_DIR, prefix);
  if (!g_file_test (images, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_NOT_FOUND,
                   _("%s: not found: the built-in Fashion-MNIST comes from "
                     "the Debian package dataset-fashion-mnist "
                     "(tools/install-deps installs it)"), images);
      return NULL;
    }
  Dataset *data = dataset_load_idx (images, labels, error);
  if (!data)
    return NULL;
  g_free (data->name);
  data->name = g_strdup_printf ("fashion-mnist/%s", split);
  data->kind = DATASET_KIND_FASHION_MNIST;
  if (data->n_classes <= (int) G_N_ELEMENTS (FASHION_MNIST_CLASSES))
    {
      data->n_classes = G_N_ELEMENTS (FASHION_MNIST_CLASSES);
      data->class_names = g_new0 (char *, data->n_classes + 1);
      for (int c = 0; c < data->n_classes; c++)
        data->class_names[c] = g_strdup (FASHION_MNIST_CLASSES[c]);
    }
  return data;
}
