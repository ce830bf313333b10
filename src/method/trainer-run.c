/* trainer-run.c: a training run's files, shared by the CLI and the GUI. */
#define G_LOG_DOMAIN "instdisc"

#include "trainer-run.h"

#include <math.h>
#include <string.h>

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

/* word as a POSIX shell reads it back: as it is when it holds nothing the
 * shell treats specially, else in single quotes */
static void
append_shell_word (GString *line, const char *word)
{
  g_string_append_c (line, ' ');
  gboolean plain = *word != '\0';
  for (const char *c = word; *c && plain; c++)
    plain = g_ascii_isalnum (*c) || strchr ("_-./,=:+%@", *c);
  if (plain)
    {
      g_string_append (line, word);
      return;
    }
  g_autofree char *quoted = g_shell_quote (word);
  g_string_append (line, quoted);
}

/* a keyfile value as the command line takes it: a float setting written
 * as the double nearest its float (0.029999999329447746) as 0.03, a list
 * (120;160;) with commas */
static char *
option_value (const char *value)
{
  char *end;
  double number = g_ascii_strtod (value, &end);
  if (*value && *end == '\0' && strchr (value, '.'))
    {
      char text[G_ASCII_DTOSTR_BUF_SIZE];
      return g_strdup (g_ascii_formatd (text, sizeof text, "%.7g", number));
    }
  g_autofree char *list = g_strdup (value);
  if (g_str_has_suffix (list, ";"))
    list[strlen (list) - 1] = '\0';
  return g_strdelimit (g_steal_pointer (&list), ";", ',');
}

char *
trainer_run_command_line (const TrainerConfig *config, const char *data_spec,
                          const char *run_dir, int image_size, int ranks)
{
  /* config.ini's [training] keys and the options of `instdisc train`
   * that set them; the crop scale's two keys are one option */
  static const struct
  {
    const char *key, *option;
  } options[] = {
    { "model", "--model" },
    { "objective", "--objective" },
    { "nce_k", "--nce-k" },
    { "nce_z", "--nce-z" },
    { "tau", "--tau" },
    { "bank_momentum", "--bank-momentum" },
    { "bank_init", "--bank-init" },
    { "lr", "--lr" },
    { "momentum", "--momentum" },
    { "weight_decay", "--weight-decay" },
    { "schedule", "--schedule" },
    { "lr_drops", "--lr-drops" },
    { "warmup_epochs", "--warmup" },
    { "batch_size", "--batch-size" },
    { "epochs", "--epochs" },
    { "seed", "--seed" },
    { "jitter", "--jitter" },
    { "proximal", "--proximal" },
  };
  TrainerConfig defaults;
  trainer_config_init_default (&defaults);
  g_autoptr (GKeyFile) want = g_key_file_new ();
  g_autoptr (GKeyFile) usual = g_key_file_new ();
  trainer_config_to_keyfile (config, want);
  trainer_config_to_keyfile (&defaults, usual);

  g_autoptr (GString) line = g_string_new (NULL);
  if (ranks > 1)
    g_string_append_printf (line, "mpirun -n %d ", ranks);
  g_string_append (line, "instdisc train");
  append_shell_word (line, "--data");
  append_shell_word (line, data_spec);
  append_shell_word (line, "--run");
  append_shell_word (line, run_dir);
  if (image_size != 32)
    {
      g_autofree char *side = g_strdup_printf ("%d", image_size);
      append_shell_word (line, "--image-size");
      append_shell_word (line, side);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (options); i++)
    {
      g_autofree char *value = g_key_file_get_value (want, TRAINER_CONFIG_GROUP,
                                                     options[i].key, NULL);
      g_autofree char *usual_value
          = g_key_file_get_value (usual, TRAINER_CONFIG_GROUP, options[i].key,
                                  NULL);
      if (!value || g_strcmp0 (value, usual_value) == 0)
        continue;
      g_autofree char *shown = option_value (value);
      append_shell_word (line, options[i].option);
      append_shell_word (line, shown);
    }
  if (config->crop_scale_min != defaults.crop_scale_min
      || config->crop_scale_max != defaults.crop_scale_max)
    {
      char min[G_ASCII_DTOSTR_BUF_SIZE], max[G_ASCII_DTOSTR_BUF_SIZE];
      g_ascii_formatd (min, sizeof min, "%.7g", config->crop_scale_min);
      g_ascii_formatd (max, sizeof max, "%.7g", config->crop_scale_max);
      g_autofree char *both = g_strdup_printf ("%s,%s", min, max);
      append_shell_word (line, "--crop-scale");
      append_shell_word (line, both);
    }
  return g_string_free (g_steal_pointer (&line), FALSE);
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

gboolean
trainer_run_record_ranks (const char *run_dir, int ranks, GError **error)
{
  g_autoptr (GKeyFile) keyfile = run_dir_load_config (run_dir, error);
  if (!keyfile)
    return FALSE;
  return !trainer_run_set_ranks (keyfile, ranks)
         || run_dir_save_config (run_dir, keyfile, error);
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
