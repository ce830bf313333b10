/* cifar.c: the binary versions of CIFAR-10 and CIFAR-100.
 *
 * CIFAR-10 record: 1 label byte, then 3072 pixel bytes: 1024 red, 1024
 * green, 1024 blue, each plane 32 rows of 32 -- already (C, H, W).
 * CIFAR-100 record: a coarse label byte (0..19), a fine label byte (0..99),
 * then the same 3072 bytes. Files hold 10000 (CIFAR-10 batches), 50000 or
 * 10000 records; any whole number of records is accepted. */
#define G_LOG_DOMAIN "instdisc-data"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "dataset-private.h"

enum { CIFAR_PIXELS = 3 * 32 * 32 };

static const char *CIFAR10_CLASSES[] = {
  "airplane", "automobile", "bird", "cat", "deer",
  "dog", "frog", "horse", "ship", "truck", NULL,
};

/* Records read at a time: the file is streamed through this much memory
 * into the data set's own arrays, never held whole beside them. */
#define CIFAR_RECORDS_PER_READ 256

/* Appends the records of one file to pixels/labels. */
static gboolean
read_cifar_file (const char *path, gboolean is_100, gboolean coarse,
                 GByteArray *pixels, GArray *labels, GError **error)
{
  goffset file_size = 0;
  g_autoptr (GInputStream) stream = data_open_file (path, &file_size, error);
  if (!stream)
    return FALSE;
  const gsize label_bytes = is_100 ? 2 : 1;
  const gsize record = label_bytes + CIFAR_PIXELS;
  const int n_classes = is_100 ? (coarse ? 20 : 100) : 10;
  g_autofree guint8 *chunk = g_malloc (record * CIFAR_RECORDS_PER_READ);
  gsize size = 0;   /* bytes read from the (decompressed) stream */
  for (;;)
    {
      gsize got = 0;
      if (!data_read_exactly (stream, path, chunk,
                              record * CIFAR_RECORDS_PER_READ, &got, error))
        return FALSE;
      for (gsize r = 0; r < got / record; r++)
        {
          const guint8 *rec = chunk + r * record;
          int label = is_100 ? rec[coarse ? 0 : 1] : rec[0];
          if (label >= n_classes || (is_100 && rec[0] >= 20))
            {
              g_set_error (error, INSTDISC_DATA_ERROR,
                           INSTDISC_DATA_ERROR_CORRUPT,
                           _("%s: record %zu has label %d, "
                             "outside the %d classes of CIFAR-%s"),
                           path, size / record + r, label, n_classes,
                           is_100 ? "100" : "10");
              return FALSE;
            }
          if (pixels->len > G_MAXUINT - CIFAR_PIXELS)
            {
              g_set_error (error, INSTDISC_DATA_ERROR,
                           INSTDISC_DATA_ERROR_INVALID,
                           _("%s: more records than a data set in memory "
                             "can hold (%u images)"),
                           path, G_MAXUINT / CIFAR_PIXELS);
              return FALSE;
            }
          gint32 l = label;
          g_array_append_val (labels, l);
          g_byte_array_append (pixels, rec + label_bytes, CIFAR_PIXELS);
        }
      size += got;
      if (got < record * CIFAR_RECORDS_PER_READ)
        break;
    }
  if (size == 0)
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_EMPTY,
                   _("%s: empty file (a CIFAR-%s batch holds records of %zu "
                     "bytes)"), path, is_100 ? "100" : "10",
                   record);
      return FALSE;
    }
  if (size % record != 0)
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_TRUNCATED,
                   _("%s: truncated or corrupt: %zu bytes is not a whole "
                     "number of CIFAR-%s records of %zu bytes (%zu left "
                     "over)"),
                   path, size, is_100 ? "100" : "10", record, size % record);
      return FALSE;
    }
  return TRUE;
}

/* The records a file of this many bytes on disk holds, for reserving the
 * arrays once: 0 when unknown (compressed) or not a whole number, which
 * read_cifar_file then reports. */
static gsize
cifar_records_on_disk (const char *path, gsize record)
{
  GStatBuf st;
  if (g_str_has_suffix (path, ".gz") || g_stat (path, &st) != 0
      || st.st_size <= 0 || (gsize) st.st_size % record != 0)
    return 0;
  return (gsize) st.st_size / record;
}

/* Resolves path + split into the list of files and the variant. */
static gboolean
cifar_files (const char *path, const char *split, GPtrArray *files,
             gboolean *is_100, char **folder, GError **error)
{
  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_autofree char *base = g_path_get_basename (path);
      /* CIFAR-100 names its files train.bin / test.bin; anything else is
       * taken for CIFAR-10 unless only the CIFAR-100 record size fits */
      if (g_str_equal (base, "train.bin") || g_str_equal (base, "test.bin"))
        *is_100 = TRUE;
      else if (g_str_has_prefix (base, "data_batch")
               || g_str_has_prefix (base, "test_batch"))
        *is_100 = FALSE;
      else
        {
          GStatBuf st;
          *is_100 = g_stat (path, &st) == 0 && st.st_size > 0
                    && st.st_size % (CIFAR_PIXELS + 1) != 0
                    && st.st_size % (CIFAR_PIXELS + 2) == 0;
        }
      g_ptr_array_add (files, g_strdup (path));
      *folder = g_path_get_dirname (path);
      return TRUE;
    }

  /* the folder the archives unpack to, or its parent */
  const char *inner[] = { "cifar-10-batches-bin", "cifar-100-binary" };
  for (gsize i = 0; i < G_N_ELEMENTS (inner); i++)
    {
      g_autofree char *sub = g_build_filename (path, inner[i], NULL);
      if (g_file_test (sub, G_FILE_TEST_IS_DIR))
        return cifar_files (sub, split, files, is_100, folder, error);
    }

  if (!split || !(g_str_equal (split, "train") || g_str_equal (split, "test")))
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_INVALID,
                   _("%s: CIFAR has no split “%s” (train or test)"), path,
                   split ? split : "(null)");
      return FALSE;
    }
  gboolean test = g_str_equal (split, "test");
  g_autofree char *train100 = g_build_filename (path, "train.bin", NULL);
  g_autofree char *test100 = g_build_filename (path, "test.bin", NULL);
  *is_100 = g_file_test (train100, G_FILE_TEST_EXISTS)
            || g_file_test (test100, G_FILE_TEST_EXISTS);
  if (*is_100)
    g_ptr_array_add (files, g_strdup (test ? test100 : train100));
  else if (test)
    g_ptr_array_add (files, g_build_filename (path, "test_batch.bin", NULL));
  else
    for (int b = 1; b <= 5; b++)
      {
        g_autofree char *name = g_strdup_printf ("data_batch_%d.bin", b);
        g_ptr_array_add (files, g_build_filename (path, name, NULL));
      }
  for (guint f = 0; f < files->len; f++)
    if (!g_file_test (files->pdata[f], G_FILE_TEST_IS_REGULAR))
      {
        g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_NOT_FOUND,
                     _("%s: missing: the CIFAR-%s %s split needs it"),
                     (char *) files->pdata[f], *is_100 ? "100" : "10", split);
        return FALSE;
      }
  *folder = g_strdup (path);
  return TRUE;
}

Dataset *
dataset_load_cifar (const char *path, const char *split,
                    const DatasetOptions *options, GError **error)
{
  DatasetOptions defaults;
  if (!options)
    {
      dataset_options_init_default (&defaults);
      options = &defaults;
    }
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *folder = NULL;
  gboolean is_100 = FALSE;
  if (!cifar_files (path, split, files, &is_100, &folder, error))
    return NULL;

  const gboolean coarse = is_100 && options->cifar100_coarse;
  gsize reserve = 0;
  for (guint f = 0; f < files->len; f++)
    reserve += cifar_records_on_disk (files->pdata[f],
                                      (is_100 ? 2 : 1) + CIFAR_PIXELS);
  if (reserve > G_MAXUINT / CIFAR_PIXELS)
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_INVALID,
                   _("%s: more records than a data set in memory can hold "
                     "(%u images)"),
                   path, G_MAXUINT / CIFAR_PIXELS);
      return NULL;
    }
  /* both arrays reach their final size in one allocation each */
  g_autoptr (GByteArray) pixels = g_byte_array_sized_new (
      (guint) (reserve * CIFAR_PIXELS));
  g_autoptr (GArray) labels = g_array_sized_new (FALSE, FALSE, sizeof (gint32),
                                                 (guint) reserve);
  for (guint f = 0; f < files->len; f++)
    if (!read_cifar_file (files->pdata[f], is_100, coarse, pixels, labels,
                          error))
      return NULL;

  g_autoptr (Dataset) data = dataset_new (NULL, is_100 ? DATASET_KIND_CIFAR100
                                                       : DATASET_KIND_CIFAR10);
  data->source = g_strdup (path);
  data->n = labels->len;
  data->channels = 3;
  data->height = data->width = 32;
  data->n_classes = is_100 ? (coarse ? 20 : 100) : 10;
  data->labels = (gint32 *) g_array_free (g_steal_pointer (&labels), FALSE);
  data->pixels = g_byte_array_free (g_steal_pointer (&pixels), FALSE);

  const char *split_name = split;
  g_autofree char *base = NULL;
  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      base = g_path_get_basename (path);
      split_name = base;
    }
  data->name = g_strdup_printf ("%s/%s", is_100 ? "cifar-100" : "cifar-10",
                                split_name);

  const char *names_file = !is_100 ? "batches.meta.txt"
                           : coarse ? "coarse_label_names.txt"
                                    : "fine_label_names.txt";
  g_autofree char *names_path = g_build_filename (folder, names_file, NULL);
  data->class_names = data_read_class_names (names_path, data->n_classes);
  if (!data->class_names && !is_100)
    data->class_names = g_strdupv ((char **) CIFAR10_CLASSES);
  return g_steal_pointer (&data);
}
