/* dataset.c: what every kind of data set shares, and dataset_open's
 * detection of the kind from a path. */
#define G_LOG_DOMAIN "instdisc-data"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "dataset-private.h"

G_DEFINE_QUARK (instdisc-data-error-quark, instdisc_data_error)

void
dataset_options_init_default (DatasetOptions *options)
{
  *options = (DatasetOptions) {
    .image_size = 32,
    .channels = 0,
    .resize = DATASET_RESIZE_CENTER_CROP,
    .holdout_every = 10,
    .verify_images = FALSE,
    .cifar100_coarse = FALSE,
  };
}

/* The reference count lives beside the public struct, so that fields stay
 * plain members and only this file sees the count. */
typedef struct
{
  gatomicrefcount refs;
  gint n_marked;     /* rows dataset_mark_unreadable has marked */
  Dataset data;
} DatasetBox;

static DatasetBox *
box_of (const Dataset *self)
{
  return (DatasetBox *) ((char *) self - G_STRUCT_OFFSET (DatasetBox, data));
}

Dataset *
dataset_new (const char *name, DatasetKind kind)
{
  DatasetBox *box = g_new0 (DatasetBox, 1);
  g_atomic_ref_count_init (&box->refs);
  box->data.name = g_strdup (name);
  box->data.kind = kind;
  return &box->data;
}

Dataset *
dataset_new_in_memory (const char *name, int n, int channels, int height,
                       int width)
{
  g_return_val_if_fail (n >= 0 && channels > 0 && height > 0 && width > 0,
                        NULL);
  Dataset *self = dataset_new (name, DATASET_KIND_IDX);
  self->n = n;
  self->channels = channels;
  self->height = height;
  self->width = width;
  self->pixels = g_new0 (guint8, (gsize) MAX (n, 1) * channels * height
                                     * width);
  self->labels = g_new (gint32, MAX (n, 1));
  for (int i = 0; i < n; i++)
    self->labels[i] = -1;
  return self;
}

Dataset *
dataset_ref (const Dataset *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_ref_count_inc (&box_of (self)->refs);
  return (Dataset *) self;
}

void
dataset_unref (Dataset *self)
{
  if (!self || !g_atomic_ref_count_dec (&box_of (self)->refs))
    return;
  g_free (self->name);
  g_free (self->source);
  g_free (self->pixels);
  g_free (self->labels);
  g_strfreev (self->class_names);
  g_strfreev (self->paths);
  g_strfreev (self->skipped);
  g_strfreev (self->skipped_paths);
  g_free (self->stamps);
  g_free (self->row_status);
  g_free (self->file_list);
  g_free (box_of (self));
}

char **
data_read_class_names (const char *path, int n_classes)
{
  g_autofree char *text = NULL;
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  for (int i = 0; lines[i]; i++)
    {
      g_strstrip (lines[i]);
      if (lines[i][0] && (int) names->len < n_classes)
        g_ptr_array_add (names, g_strdup (lines[i]));
    }
  if ((int) names->len != n_classes)
    return NULL;
  g_ptr_array_add (names, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&names), FALSE);
}

/* MNIST-style folder: FILE-images-idx3-ubyte[.gz] for the split, "train"
 * or "t10k" prefixed. Returns the images file or NULL. */
static char *
find_idx_in_folder (const char *folder, const char *split)
{
  const char *prefixes[] = { g_str_equal (split, "test") ? "t10k" : "train",
                             split };
  const char *suffixes[] = { "-images-idx3-ubyte", "-images-idx3-ubyte.gz",
                             "-images.idx3-ubyte" };
  for (gsize p = 0; p < G_N_ELEMENTS (prefixes); p++)
    for (gsize s = 0; s < G_N_ELEMENTS (suffixes); s++)
      {
        g_autofree char *name = g_strconcat (prefixes[p], suffixes[s], NULL);
        g_autofree char *path = g_build_filename (folder, name, NULL);
        if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
          return g_steal_pointer (&path);
      }
  return NULL;
}

/* The labels next to an IDX images file, by the MNIST naming, or NULL. */
static char *
idx_labels_for (const char *images_path)
{
  const char *pairs[][2] = { { "-images-idx3-ubyte", "-labels-idx1-ubyte" },
                             { "-images.idx3-ubyte", "-labels.idx1-ubyte" } };
  for (gsize i = 0; i < G_N_ELEMENTS (pairs); i++)
    {
      const char *at = strstr (images_path, pairs[i][0]);
      if (!at)
        continue;
      /* the labels may be gzipped when the images are not, or not */
      g_autofree char *head = g_strndup (images_path, at - images_path);
      g_autofree char *plain = g_strconcat (head, pairs[i][1], NULL);
      g_autofree char *gz = g_strconcat (plain, ".gz", NULL);
      if (g_file_test (gz, G_FILE_TEST_IS_REGULAR))
        return g_steal_pointer (&gz);
      if (g_file_test (plain, G_FILE_TEST_IS_REGULAR))
        return g_steal_pointer (&plain);
    }
  return NULL;
}

static gboolean
is_cifar_folder (const char *folder)
{
  const char *markers[] = { "data_batch_1.bin", "test_batch.bin", "train.bin",
                            "test.bin", "cifar-10-batches-bin",
                            "cifar-100-binary" };
  for (gsize i = 0; i < G_N_ELEMENTS (markers); i++)
    {
      g_autofree char *path = g_build_filename (folder, markers[i], NULL);
      if (g_file_test (path, G_FILE_TEST_EXISTS))
        return TRUE;
    }
  return FALSE;
}

gboolean
dataset_options_full_resolution (const DatasetOptions *options)
{
  switch (options->decode)
    {
    case DATASET_DECODE_FULL:
      return TRUE;
    case DATASET_DECODE_SQUARE:
      return FALSE;
    case DATASET_DECODE_AUTO:
    default:
      return options->image_size >= DATASET_FULL_RESOLUTION_MIN_SIZE;
    }
}

int
dataset_test_view_side (int size)
{
  /* Python's int (size * 256 / 224) truncates; so does integer division
   * of positive numbers, without a float's rounding in between */
  return (int) ((gint64) size * 256 / 224);
}

gboolean
dataset_check_image_size (int size, GError **error)
{
  /* a size past this would ask the network for gigabytes an image */
  if (size >= 8 && size <= DATASET_MAX_IMAGE_SIZE)
    return TRUE;
  g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_INVALID,
               _("the image size must be 8 to %d pixels, not %d"),
               DATASET_MAX_IMAGE_SIZE, size);
  return FALSE;
}

Dataset *
dataset_open (const char *spec, const char *split,
              const DatasetOptions *options, GError **error)
{
  DatasetOptions defaults;
  if (!options)
    {
      dataset_options_init_default (&defaults);
      options = &defaults;
    }
  if (!split)
    split = "train";
  if (!dataset_check_image_size (options->image_size, error))
    return NULL;

  if (g_str_equal (spec, "fashion-mnist"))
    return dataset_load_fashion_mnist (split, error);

  if (!g_file_test (spec, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_NOT_FOUND,
                   _("%s: no such file or folder (a data set is "
                     "“fashion-mnist”, an IDX file, a CIFAR binary folder or "
                     "file, or a folder of images)"), spec);
      return NULL;
    }

  if (g_file_test (spec, G_FILE_TEST_IS_DIR))
    {
      if (is_cifar_folder (spec))
        return dataset_load_cifar (spec, split, options, error);
      g_autofree char *idx = find_idx_in_folder (spec, split);
      if (idx)
        {
          g_autofree char *labels = idx_labels_for (idx);
          return dataset_load_idx (idx, labels, error);
        }
      return dataset_load_folder (spec, split, options, error);
    }

  /* One file is one set of images: its own training split. It has no
   * test split; scoring its images against themselves would make every
   * kNN a near-perfect 1-NN. */
  if (g_str_equal (split, "test"))
    {
      g_autofree char *base = g_path_get_basename (spec);
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_NOT_FOUND,
                   _("%s is one file, with no test split: to evaluate, give "
                     "a folder that holds the training and the test files "
                     "(train-images-idx3-ubyte and t10k-images-idx3-ubyte "
                     "with their labels, or CIFAR's batches)"), base);
      return NULL;
    }
  if (g_str_has_suffix (spec, ".bin"))
    return dataset_load_cifar (spec, split, options, error);
  g_autofree char *labels = idx_labels_for (spec);
  return dataset_load_idx (spec, labels, error);
}

DatasetRowStatus
dataset_row_status (const Dataset *self, int i)
{
  g_return_val_if_fail (i >= 0 && i < self->n, DATASET_ROW_OK);
  if (!self->row_status)
    return DATASET_ROW_OK;
  return (DatasetRowStatus) g_atomic_int_get (&self->row_status[i]);
}

int
dataset_count_unavailable (const Dataset *self)
{
  int count = 0;
  for (int i = 0; self->row_status && i < self->n; i++)
    count += dataset_row_status (self, i) != DATASET_ROW_OK;
  return count;
}

gboolean
dataset_mark_unreadable (const Dataset *self, int i)
{
  g_return_val_if_fail (i >= 0 && i < self->n, FALSE);
  if (!self->row_status)
    return FALSE;   /* in memory: every row can be read */
  if (!g_atomic_int_compare_and_exchange (&self->row_status[i],
                                          DATASET_ROW_OK,
                                          DATASET_ROW_UNREADABLE))
    return FALSE;
  g_atomic_int_inc (&box_of (self)->n_marked);
  return TRUE;
}

int
dataset_count_marked (const Dataset *self)
{
  return g_atomic_int_get (&box_of (self)->n_marked);
}

/* Why row i is not read, as one error naming its file. */
static void
set_unavailable_error (const Dataset *self, int i, DatasetRowStatus status,
                       GError **error)
{
  const char *why = status == DATASET_ROW_MISSING
                        ? _("missing: the file is no longer there")
                    : status == DATASET_ROW_CHANGED
                        ? _("changed since the run listed it (its size or "
                            "time differs)")
                        : _("could not be read when the run met it");
  g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_UNAVAILABLE,
               "%s: %s", self->paths[i], why);
}

gboolean
dataset_get_image (const Dataset *self, int i, guint8 *out, GError **error)
{
  g_return_val_if_fail (i >= 0 && i < self->n, FALSE);
  gsize image_bytes = (gsize) self->channels * self->height * self->width;
  if (self->pixels)
    {
      memcpy (out, self->pixels + (gsize) i * image_bytes, image_bytes);
      return TRUE;
    }
  g_assert (self->paths && self->height == self->width);
  DatasetRowStatus status = dataset_row_status (self, i);
  if (status != DATASET_ROW_OK)
    {
      set_unavailable_error (self, i, status, error);
      return FALSE;
    }
  return folder_decode_image (self->paths[i], self->channels, self->height,
                              self->resize, out, NULL, error);
}

gboolean
dataset_decode_file (const char *path, int channels, int size,
                     DatasetResize resize, guint8 *out, GError **error)
{
  g_return_val_if_fail (channels == 1 || channels == 3, FALSE);
  g_return_val_if_fail (size > 0, FALSE);
  return folder_decode_image (path, channels, size, resize, out, NULL, error);
}

const char *
dataset_get_path (const Dataset *self, int i)
{
  g_return_val_if_fail (i >= 0 && i < self->n, NULL);
  return self->paths ? self->paths[i] : NULL;
}

char *
dataset_get_item_name (const Dataset *self, int i)
{
  g_return_val_if_fail (i >= 0 && i < self->n, NULL);
  if (self->paths)
    return g_strdup (self->paths[i]);
  return g_strdup_printf ("%s[%d]", self->name, i);
}

void
dataset_channel_stats (const Dataset *self, float *mean, float *std)
{
  if (self->has_channel_stats)
    {
      /* what the run measured when it began: a file gone or changed since
       * must not move every image's normalisation */
      for (int c = 0; c < self->channels && c < 3; c++)
        {
          mean[c] = self->channel_mean[c];
          std[c] = self->channel_std[c];
        }
      return;
    }
  const gsize plane = (gsize) self->height * self->width;
  const gsize image_bytes = plane * self->channels;
  /* on-disk sets: a sample spread evenly, enough for 3 significant digits */
  const int n_used = self->pixels ? self->n : MIN (self->n, 1000);
  g_autofree guint8 *image = g_malloc (image_bytes);
  double sum[4] = { 0 }, sum_sq[4] = { 0 };
  double count = 0.0;

  for (int k = 0; k < n_used; k++)
    {
      int i = (int) ((gint64) k * self->n / n_used);
      const guint8 *p;
      if (self->pixels)
        p = self->pixels + (gsize) i * image_bytes;
      else if (dataset_get_image (self, i, image, NULL))
        p = image;
      else
        continue;
      for (int c = 0; c < self->channels && c < 4; c++)
        for (gsize j = 0; j < plane; j++)
          {
            double v = p[c * plane + j];
            sum[c] += v;
            sum_sq[c] += v * v;
          }
      count += plane;
    }
  for (int c = 0; c < self->channels && c < 4; c++)
    {
      if (count == 0.0)
        {
          mean[c] = 0.5f;
          std[c] = 0.25f;
          continue;
        }
      double m = sum[c] / count;
      mean[c] = (float) (m / 255.0);
      std[c] = (float) (sqrt (MAX (sum_sq[c] / count - m * m, 0.0)) / 255.0);
    }
}
