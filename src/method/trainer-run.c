/* trainer-run.c: a training run's files, shared by the CLI and the GUI. */
#define G_LOG_DOMAIN "instdisc"

#include "trainer-run.h"

#include <math.h>

#include "file-list.h"
#include "npy.h"

GKeyFile *
trainer_run_keyfile_new (const TrainerConfig *config, const char *data_spec,
                         const Dataset *train, int image_size)
{
  GKeyFile *keyfile = g_key_file_new ();
  trainer_config_to_keyfile (config, keyfile);
  /* a path is stored absolute, so eval, query or the explorer started from
   * another folder still find the data; names like "fashion-mnist" stay */
  g_autofree char *spec = g_file_test (data_spec, G_FILE_TEST_EXISTS)
                              ? g_canonicalize_filename (data_spec, NULL)
                              : g_strdup (data_spec);
  g_key_file_set_string (keyfile, "data", "spec", spec);
  g_key_file_set_string (keyfile, "data", "name", train->name);
  g_key_file_set_integer (keyfile, "data", "image_size", image_size);
  g_key_file_set_integer (keyfile, "data", "n_train", train->n);
  return keyfile;
}

gboolean
trainer_run_pin_data (const char *run_dir, const Dataset *train,
                      const Dataset *test, GError **error)
{
  if (train->kind != DATASET_KIND_FOLDER || !train->stamps
      || train->file_list)
    return TRUE;
  g_autofree char *path = run_dir_file (run_dir, DATASET_FILE_LIST_NAME);
  if (g_file_test (path, G_FILE_TEST_EXISTS))
    return TRUE;
  /* only a test split of the same folder belongs in the list */
  if (test && (test->kind != DATASET_KIND_FOLDER || !test->stamps
               || !g_str_equal (test->source, train->source)))
    test = NULL;
  return dataset_file_list_save (path, train, test, error);
}

GKeyFile *
trainer_run_load_config (const char *run_dir, TrainerConfig *config,
                         GError **error)
{
  g_autoptr (GKeyFile) keyfile = run_dir_load_config (run_dir, error);
  if (!keyfile)
    return NULL;   /* the message names the file already */
  if (!trainer_config_from_keyfile (config, keyfile, error))
    {
      /* the keyfile parser does not know which file it read */
      g_autofree char *path = run_dir_file (run_dir, RUN_CONFIG_FILE);
      g_autofree char *display = g_filename_display_name (path);
      g_prefix_error (error, "%s: ", display);
      return NULL;
    }
  return g_steal_pointer (&keyfile);
}

gboolean
trainer_run_set_epochs (const char *run_dir, GKeyFile *keyfile,
                        TrainerConfig *config, int epochs, GError **error)
{
  TrainerConfig longer = *config;
  longer.epochs = epochs;
  if (!trainer_config_check_setting (&longer, "epochs", 0, NULL, error)
      || !trainer_config_check_setting (&longer, "warmup_epochs", 0, NULL,
                                        error))
    return FALSE;
  g_autoptr (GKeyFile) loaded = NULL;
  if (!keyfile)
    {
      loaded = run_dir_load_config (run_dir, error);
      if (!loaded)
        return FALSE;
      keyfile = loaded;
    }
  trainer_config_to_keyfile (&longer, keyfile);
  if (!run_dir_save_config (run_dir, keyfile, error))
    return FALSE;
  *config = longer;
  return TRUE;
}

int
trainer_run_get_ranks (GKeyFile *keyfile)
{
  g_autoptr (GError) absent = NULL;
  int ranks = g_key_file_get_integer (keyfile, TRAINER_RUN_DISTRIBUTED_GROUP,
                                      "ranks", &absent);
  return absent || ranks < 1 ? 1 : ranks;
}

gboolean
trainer_run_set_ranks (GKeyFile *keyfile, int ranks)
{
  if (ranks == trainer_run_get_ranks (keyfile))
    return FALSE;
  g_key_file_set_integer (keyfile, TRAINER_RUN_DISTRIBUTED_GROUP, "ranks",
                          ranks);
  return TRUE;
}

const char *const *
trainer_run_metrics_columns (const TrainerConfig *config)
{
  return config->objective->metrics;
}

gboolean
trainer_run_resume (Trainer *trainer, const char *run_dir,
                    double *wall_offset, GError **error)
{
  g_autofree char *checkpoint = run_dir_file (run_dir, RUN_CHECKPOINT_FILE);
  /* A run stopped before its first checkpoint (killed while the bank was
   * filled) starts over: the trainer is as new, and only the epoch 0 rows
   * of metrics.csv are kept. */
  if (g_file_test (checkpoint, G_FILE_TEST_EXISTS)
      && !trainer_load_checkpoint (trainer, checkpoint, error))
    return FALSE;
  *wall_offset = 0.0;
  g_autoptr (GArray) rows = run_dir_load_metrics (run_dir, NULL);
  if (rows)
    for (guint i = 0; i < rows->len; i++)
      {
        MetricsRow *row = &g_array_index (rows, MetricsRow, i);
        if (row->iteration <= trainer_get_iteration (trainer)
            && !isnan (row->wall_s))
          *wall_offset = MAX (*wall_offset, row->wall_s);
      }
  return run_dir_truncate_metrics (
      run_dir, trainer_run_metrics_columns (trainer_get_config (trainer)),
      trainer_get_iteration (trainer), error);
}

void
trainer_run_step_row (MetricsRow *row, const TrainerConfig *config,
                      const TrainerStepInfo *info, double images_per_s,
                      double wall_s)
{
  metrics_row_init (row, "step");
  row->iteration = info->iteration;
  row->epoch = info->epoch + 1;
  row->loss = info->loss;
  row->lr = info->lr;
  row->images_per_s = images_per_s;
  row->wall_s = wall_s;
  const char *const *columns = trainer_run_metrics_columns (config);
  for (int i = 0; columns && columns[i] && i < OBJECTIVE_MAX_METRICS; i++)
    metrics_row_set_extra (row, columns[i], info->metrics[i]);
}

/* one item name a line, so line i + 1 names row i of features.npy */
static gboolean
save_paths (const char *path, const Dataset *data, GError **error)
{
  g_autoptr (GString) text = g_string_new (NULL);
  for (int i = 0; i < data->n; i++)
    {
      g_autofree char *name = dataset_get_item_name (data, i);
      /* a line break inside a file name would shift every later row */
      g_strdelimit (name, "\r\n", ' ');
      g_string_append (text, name);
      g_string_append_c (text, '\n');
    }
  /* g_file_set_contents writes a temporary file and renames it */
  return g_file_set_contents (path, text->str, (gssize) text->len, error);
}

gboolean
trainer_run_export (const char *dir, const Dataset *data,
                    const float *features, int dim, GError **error)
{
  const int N = data->n;
  g_autofree char *features_path = g_build_filename (dir, "features.npy", NULL);
  g_autofree char *labels_path = g_build_filename (dir, "labels.npy", NULL);
  g_autofree char *paths_path = g_build_filename (dir, "paths.txt", NULL);
  g_autofree char *vectors_path = g_build_filename (dir, "vectors.tsv", NULL);
  g_autofree char *metadata_path = g_build_filename (dir, "metadata.tsv",
                                                     NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_full (N + 1, g_free);
  for (int i = 0; i < N; i++)
    g_ptr_array_add (names, dataset_get_item_name (data, i));
  g_ptr_array_add (names, NULL);
  /* rows that cannot be read keep their place and are marked */
  static const char *const words[] = {
    [DATASET_ROW_OK] = "ok",
    [DATASET_ROW_MISSING] = "missing",
    [DATASET_ROW_CHANGED] = "changed",
    [DATASET_ROW_UNREADABLE] = "unreadable",
  };
  g_autofree const char **status = NULL;
  if (dataset_count_unavailable (data) > 0)
    {
      status = g_new (const char *, (gsize) MAX (N, 1));
      for (int i = 0; i < N; i++)
        status[i] = words[dataset_row_status (data, i)];
    }

  const gint64 matrix_shape[2] = { N, dim };
  const gint64 labels_shape[1] = { N };
  return npy_save (features_path, NPY_FLOAT32, 2, matrix_shape, features,
                   error)
         && npy_save (labels_path, NPY_INT32, 1, labels_shape, data->labels,
                      error)
         && save_paths (paths_path, data, error)
         && tsv_save_projector (vectors_path, metadata_path, features, N, dim,
                                data->labels,
                                (const char *const *) data->class_names,
                                (const char *const *) names->pdata, status,
                                error);
}
