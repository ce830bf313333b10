/* file-list.c: the data sets a run's files.txt is written from and makes
 * again; see file-list.h. The text itself is file-list-format.c's. */
#define G_LOG_DOMAIN "instdisc-data"

#include "file-list.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "dataset-private.h"
#include "file-list-private.h"

/* ---- writing ---- */

static gboolean
cannot_list (GError **error, const char *path, const char *file)
{
  g_autofree char *shown = g_filename_display_name (path);
  g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_INVALID,
               _("%s: cannot list %s: it is not inside the data folder"),
               shown, file);
  return FALSE;
}

/* The rows and skipped files of one folder set into list. */
static gboolean
list_add_set (FileList *list, int split, const Dataset *data,
              const char *path, GError **error)
{
  list->channels[split] = data->channels;
  if (data->channels == 1)
    {
      /* a grey set is normalised by its own statistics (augment.h): they
       * are the run's, not whatever the folder holds later */
      float mean[3], std[3];
      dataset_channel_stats (data, mean, std);
      list->has_stats[split] = TRUE;
      list->mean[split] = mean[0];
      list->std[split] = std[0];
    }
  for (int i = 0; i < data->n; i++)
    {
      const char *rel = file_list_relative_to (data->source, data->paths[i]);
      if (!rel)
        return cannot_list (error, path, data->paths[i]);
      Entry entry = {
        .split = split,
        .state = dataset_row_status (data, i) == DATASET_ROW_UNREADABLE
                     ? STATE_UNREADABLE : STATE_OK,
        .label = data->labels ? data->labels[i] : -1,
        .stamp = data->stamps[i],
        .path = g_strdup (rel),
      };
      g_array_append_val (list->entries, entry);
    }
  for (int i = 0; data->skipped_paths && data->skipped_paths[i]; i++)
    {
      const char *rel = file_list_relative_to (data->source,
                                               data->skipped_paths[i]);
      if (!rel)
        return cannot_list (error, path, data->skipped_paths[i]);
      Entry entry = { .split = split, .state = STATE_SKIPPED, .label = -1,
                      .path = g_strdup (rel) };
      /* as it is now; a skipped file is listed, not checked */
      data_file_stamp (data->skipped_paths[i], &entry.stamp);
      g_array_append_val (list->entries, entry);
    }
  return TRUE;
}

gboolean
dataset_file_list_save (const char *path, const Dataset *train,
                        const Dataset *test, GError **error)
{
  g_return_val_if_fail (train && train->kind == DATASET_KIND_FOLDER
                            && train->stamps && train->source, FALSE);
  g_return_val_if_fail (!test || (test->kind == DATASET_KIND_FOLDER
                                  && test->stamps && test->source), FALSE);
  if (test && (!g_str_equal (test->source, train->source)
               || test->n_classes != train->n_classes))
    {
      g_autofree char *shown = g_filename_display_name (path);
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_MISMATCH,
                   _("%s: the training and test splits come from different "
                     "folders or classes"), shown);
      return FALSE;
    }
  g_autoptr (FileList) list = file_list_new ();
  for (int c = 0; c < train->n_classes; c++)
    g_ptr_array_add (list->classes, g_strdup (train->class_names[c]));
  if (!list_add_set (list, SPLIT_TRAIN, train, path, error)
      || (test && !list_add_set (list, SPLIT_TEST, test, path, error)))
    return FALSE;
  return file_list_write (list, path, error);
}

gboolean
dataset_file_list_record_unreadable (const char *path, const Dataset *train,
                                     const Dataset *test, GError **error)
{
  g_autoptr (FileList) list = file_list_load (path, error);
  if (!list)
    return FALSE;
  const Dataset *sets[N_SPLITS] = { train, test };
  gboolean changed = FALSE;
  for (int s = 0; s < N_SPLITS; s++)
    {
      const Dataset *data = sets[s];
      if (!data)
        continue;
      int row = 0;
      for (guint i = 0; i < list->entries->len; i++)
        {
          Entry *e = &g_array_index (list->entries, Entry, i);
          if (e->split != s || e->state == STATE_SKIPPED)
            continue;
          if (row < data->n
              && dataset_row_status (data, row) == DATASET_ROW_UNREADABLE
              && e->state != STATE_UNREADABLE)
            {
              e->state = STATE_UNREADABLE;
              changed = TRUE;
            }
          row++;
        }
      if (row != data->n)
        {
          g_autofree char *shown = g_filename_display_name (path);
          g_set_error (error, INSTDISC_DATA_ERROR,
                       INSTDISC_DATA_ERROR_MISMATCH,
                       _("%s lists %d images of the %s split, %s has %d"),
                       shown, row, file_list_split_name (s), data->name,
                       data->n);
          return FALSE;
        }
    }
  return !changed || file_list_write (list, path, error);
}

/* ---- opening ---- */

/* The number of the folder's image files that no entry of list names. */
static int
count_new_files (const FileList *list, const char *root)
{
  g_autoptr (GHashTable) listed = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < list->entries->len; i++)
    g_hash_table_add (listed, g_array_index (list->entries, Entry, i).path);
  g_autoptr (GPtrArray) found = folder_list_images (root);
  int n_new = 0;
  for (guint i = 0; i < found->len; i++)
    {
      const char *rel = file_list_relative_to (root, found->pdata[i]);
      n_new += rel && !g_hash_table_contains (listed, rel);
    }
  return n_new;
}

/* Row status of a listed file: gone, changed, or as listed. */
static DatasetRowStatus
check_file (const char *path, const Entry *e)
{
  DatasetFileStamp now;
  if (!data_file_stamp (path, &now))
    return DATASET_ROW_MISSING;
  if (now.size != e->stamp.size || now.mtime_s != e->stamp.mtime_s
      || now.mtime_ns != e->stamp.mtime_ns)
    return DATASET_ROW_CHANGED;
  return e->state == STATE_UNREADABLE ? DATASET_ROW_UNREADABLE
                                      : DATASET_ROW_OK;
}

Dataset *
dataset_file_list_open (const char *path, const char *root, const char *split,
                        const DatasetOptions *options, GError **error)
{
  DatasetOptions defaults;
  if (!options)
    {
      dataset_options_init_default (&defaults);
      options = &defaults;
    }
  g_autofree char *shown = g_filename_display_name (path);
  const int s = split ? file_list_split_index (split) : SPLIT_TRAIN;
  if (s < 0)
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_INVALID,
                   _("%s: no split “%s” (train or test)"), shown, split);
      return NULL;
    }
  if (options->image_size < 1 || options->image_size > 4096)
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_INVALID,
                   _("%s: image size %d out of range (1..4096)"), shown,
                   options->image_size);
      return NULL;
    }
  if (!g_file_test (root, G_FILE_TEST_IS_DIR))
    {
      /* the data is not on this machine: no use marking every row */
      g_autofree char *folder = g_filename_display_name (root);
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_NOT_FOUND,
                   _("%s: no such folder; %s lists its images"), folder,
                   shown);
      return NULL;
    }
  g_autoptr (FileList) list = file_list_load (path, error);
  if (!list)
    return NULL;
  if (!list->channels[s])
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_NOT_FOUND,
                   _("%s lists no %s split (the folder had none when the "
                     "run began)"), shown, file_list_split_name (s));
      return NULL;
    }

  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GArray) labels = g_array_new (FALSE, FALSE, sizeof (gint32));
  g_autoptr (GArray) stamps = g_array_new (FALSE, FALSE,
                                           sizeof (DatasetFileStamp));
  g_autoptr (GArray) status = g_array_new (FALSE, FALSE, sizeof (gint));
  g_autoptr (GPtrArray) skipped = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) skipped_paths
      = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < list->entries->len; i++)
    {
      const Entry *e = &g_array_index (list->entries, Entry, i);
      if (e->split != s)
        continue;
      char *file = g_build_filename (root, e->path, NULL);
      if (e->state == STATE_SKIPPED)
        {
          g_ptr_array_add (skipped,
                           g_strdup_printf (_("%s: left out when the run "
                                              "began (it could not be read "
                                              "then)"), file));
          g_ptr_array_add (skipped_paths, file);
          continue;
        }
      gint row_status = check_file (file, e);
      g_ptr_array_add (paths, file);
      g_array_append_val (labels, e->label);
      g_array_append_val (stamps, e->stamp);
      g_array_append_val (status, row_status);
    }
  if (paths->len == 0)
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_EMPTY,
                   _("%s lists no readable images of the %s split"), shown,
                   file_list_split_name (s));
      return NULL;
    }

  g_autofree char *base = g_path_get_basename (root);
  g_autofree char *name = g_strdup_printf ("%s/%s", base,
                                           file_list_split_name (s));
  g_autoptr (Dataset) data = dataset_new (name, DATASET_KIND_FOLDER);
  data->source = g_strdup (root);
  data->file_list = g_strdup (path);
  data->n = paths->len;
  data->channels = list->channels[s];
  if (list->has_stats[s] && data->channels == 1)
    {
      data->has_channel_stats = TRUE;
      data->channel_mean[0] = list->mean[s];
      data->channel_std[0] = list->std[s];
    }
  data->height = data->width = options->image_size;
  /* the same choice a scan makes, from the options alone (dataset.h) */
  data->full_resolution = dataset_options_full_resolution (options);
  data->resize = data->full_resolution ? DATASET_RESIZE_TEST_VIEW
                                       : options->resize;
  data->labels = (gint32 *) g_array_free (g_steal_pointer (&labels), FALSE);
  data->stamps = (DatasetFileStamp *) g_array_free (g_steal_pointer (&stamps),
                                                    FALSE);
  data->row_status = (gint *) g_array_free (g_steal_pointer (&status), FALSE);
  g_ptr_array_add (paths, NULL);
  data->paths = (char **) g_ptr_array_free (g_steal_pointer (&paths), FALSE);
  data->n_skipped = skipped->len;
  if (skipped->len)
    {
      g_ptr_array_add (skipped, NULL);
      g_ptr_array_add (skipped_paths, NULL);
      data->skipped = (char **) g_ptr_array_free (g_steal_pointer (&skipped),
                                                  FALSE);
      data->skipped_paths = (char **) g_ptr_array_free (
          g_steal_pointer (&skipped_paths), FALSE);
    }
  if (list->classes->len)
    {
      data->n_classes = list->classes->len;
      g_ptr_array_add (list->classes, NULL);
      data->class_names = (char **) g_ptr_array_free (
          g_steal_pointer (&list->classes), FALSE);
    }
  /* said once, for the run: the training split counts them */
  if (s == SPLIT_TRAIN)
    data->n_new = count_new_files (list, root);
  return g_steal_pointer (&data);
}

/* ---- telling ---- */

char *
dataset_row_names (const Dataset *data, DatasetRowStatus status,
                   int max_names, int *count)
{
  g_autoptr (GString) names = g_string_new (NULL);
  int n = 0;
  for (int i = 0; data->row_status && i < data->n; i++)
    {
      if (dataset_row_status (data, i) != status)
        continue;
      if (n < max_names)
        {
          const char *rel
              = data->source ? file_list_relative_to (data->source,
                                                      data->paths[i])
                             : NULL;
          if (n)
            g_string_append (names, ", ");
          g_string_append (names, rel ? rel : data->paths[i]);
        }
      else if (n == max_names)
        g_string_append (names, ", …");
      n++;
    }
  if (count)
    *count = n;
  return n ? g_string_free (g_steal_pointer (&names), FALSE) : NULL;
}

char *
dataset_file_list_describe (const Dataset *data)
{
  if (!data->file_list)
    return NULL;
  g_autoptr (GPtrArray) parts = g_ptr_array_new_with_free_func (g_free);
  int n;
  g_autofree char *missing = dataset_row_names (data, DATASET_ROW_MISSING, 3,
                                                &n);
  if (missing)
    g_ptr_array_add (parts, g_strdup_printf (
        g_dngettext (GETTEXT_PACKAGE, "%s: %d image is missing (%s)",
                     "%s: %d images are missing (%s)", n),
        data->name, n, missing));
  g_autofree char *changed = dataset_row_names (data, DATASET_ROW_CHANGED, 3,
                                                &n);
  if (changed)
    g_ptr_array_add (parts, g_strdup_printf (
        g_dngettext (GETTEXT_PACKAGE,
                     "%s: %d image changed since the run listed it (%s)",
                     "%s: %d images changed since the run listed them (%s)",
                     n),
        data->name, n, changed));
  g_autofree char *unreadable = dataset_row_names (
      data, DATASET_ROW_UNREADABLE, 3, &n);
  if (unreadable)
    g_ptr_array_add (parts, g_strdup_printf (
        g_dngettext (GETTEXT_PACKAGE,
                     "%s: %d image could not be read when the run met it "
                     "(%s)",
                     "%s: %d images could not be read when the run met them "
                     "(%s)", n),
        data->name, n, unreadable));
  if (parts->len)
    g_ptr_array_add (parts, g_strdup (_("those rows keep their numbers and "
                                        "are left out of training and "
                                        "evaluation")));
  if (data->n_new > 0)
    {
      g_autofree char *folder = g_filename_display_name (data->source);
      g_ptr_array_add (parts, g_strdup_printf (
          g_dngettext (GETTEXT_PACKAGE,
                       "%d new image in %s is not part of this run (%s "
                       "lists the run's images)",
                       "%d new images in %s are not part of this run (%s "
                       "lists the run's images)", data->n_new),
          data->n_new, folder, DATASET_FILE_LIST_NAME));
    }
  if (!parts->len)
    return NULL;
  g_ptr_array_add (parts, NULL);
  return g_strjoinv ("; ", (char **) parts->pdata);
}
