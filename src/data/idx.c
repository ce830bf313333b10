/* idx.c: the IDX format of MNIST and Fashion-MNIST.
 *
 * A big-endian header: two zero bytes, a type byte (0x08 = unsigned byte),
 * the number of dimensions, then one u32 per dimension; then the data.
 * Files ending in .gz are decompressed on the fly. */
#define G_LOG_DOMAIN "instdisc-data"

#include <inttypes.h>
#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "dataset-private.h"

static const char *FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist";

static const char *FASHION_MNIST_CLASSES[] = {
  "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
  "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
};

GBytes *
data_read_file (const char *path, GError **error)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GFileInputStream) raw = g_file_read (file, NULL, &local_error);
  if (!raw)
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_NOT_FOUND,
                   "%s: %s", path, local_error->message);
      return NULL;
    }
  g_autoptr (GInputStream) stream = NULL;
  if (g_str_has_suffix (path, ".gz"))
    {
      g_autoptr (GZlibDecompressor) gunzip
          = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);
      stream = g_converter_input_stream_new (G_INPUT_STREAM (raw),
                                             G_CONVERTER (gunzip));
    }
  else
    stream = g_object_ref (G_INPUT_STREAM (raw));

  g_autoptr (GOutputStream) sink = g_memory_output_stream_new_resizable ();
  if (g_output_stream_splice (sink, stream,
                              G_OUTPUT_STREAM_SPLICE_CLOSE_SOURCE
                                  | G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET,
                              NULL, &local_error) < 0)
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_CORRUPT,
                   _("%s: cannot be read: %s"), path, local_error->message);
      return NULL;
    }
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (sink));
}

static guint32
read_be32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8)
         | p[3];
}

/* Parses the header of an IDX file of unsigned bytes with `ndim` dimensions;
 * returns a pointer to the data and fills dims. */
static const guint8 *
parse_idx (GBytes *bytes, const char *path, int ndim, guint32 *dims,
           GError **error)
{
  gsize size;
  const guint8 *p = g_bytes_get_data (bytes, &size);
  gsize header = 4 + 4 * (gsize) ndim;
  if (size < 4)
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_TRUNCATED,
                   _("%s: truncated: %zu bytes is too short "
                     "for an IDX header"), path, size);
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
  if (size < header)
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_TRUNCATED,
                   _("%s: truncated inside the IDX header"), path);
      return NULL;
    }
  guint64 expected = 1;
  for (int d = 0; d < ndim; d++)
    {
      dims[d] = read_be32 (p + 4 + 4 * d);
      expected *= dims[d];
      if (dims[d] == 0 || expected > ((guint64) 1 << 40))
        {
          g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_CORRUPT,
                       _("%s: dimension %d of the IDX header is %u"), path, d,
                       dims[d]);
          return NULL;
        }
    }
  if (size - header != expected)
    {
      g_set_error (error, INSTDISC_DATA_ERROR,
                   size - header < expected ? INSTDISC_DATA_ERROR_TRUNCATED
                                            : INSTDISC_DATA_ERROR_CORRUPT,
                   size - header < expected
                       ? _("%s: truncated: the header promises %"
                           PRIu64 " bytes of data, the file has %zu")
                       : _("%s: trailing bytes: the header promises %"
                           PRIu64 " bytes of data, the file has %zu"),
                   path, expected, size - header);
      return NULL;
    }
  return p + header;
}

Dataset *
dataset_load_idx (const char *images_path, const char *labels_path,
                  GError **error)
{
  g_autoptr (GBytes) image_bytes = data_read_file (images_path, error);
  if (!image_bytes)
    return NULL;
  guint32 dims[3];
  const guint8 *pixels = parse_idx (image_bytes, images_path, 3, dims, error);
  if (!pixels)
    return NULL;

  g_autoptr (Dataset) data = dataset_new (NULL, DATASET_KIND_IDX);
  data->n = dims[0];
  data->channels = 1;
  data->height = dims[1];
  data->width = dims[2];
  gsize n_pixels = (gsize) dims[0] * dims[1] * dims[2];
  data->pixels = g_memdup2 (pixels, n_pixels);
  data->labels = g_new (gint32, data->n);

  if (labels_path)
    {
      g_autoptr (GBytes) label_bytes = data_read_file (labels_path, error);
      if (!label_bytes)
        return NULL;
      guint32 n_labels;
      const guint8 *labels = parse_idx (label_bytes, labels_path, 1, &n_labels,
                                        error);
      if (!labels)
        return NULL;
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
