/* run-folder.c: a run folder opened to be read; see run-folder.h. */
#define G_LOG_DOMAIN "instdisc-method"

#include "run-folder.h"

#include <glib/gi18n-lib.h>

#include "file-list.h"
#include "run-dir.h"
#include "trainer-run.h"

void
run_folder_free (RunFolder *self)
{
  if (!self)
    return;
  g_free (self->dir);
  g_free (self->checkpoint);
  g_free (self->data_spec);
  if (self->keyfile)
    g_key_file_unref (self->keyfile);
  g_free (self);
}

RunFolder *
run_folder_open (const char *dir, GError **error)
{
  g_autofree char *shown = g_filename_display_name (dir);
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                   _("%s: no such run folder"), shown);
      return NULL;
    }
  g_autofree char *config_path = run_dir_file (dir, RUN_CONFIG_FILE);
  if (!g_file_test (config_path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                   _("%s is not a run folder (it has no %s; `instdisc train "
                     "--run DIR` or the explorer's New Training makes one)"),
                   shown, RUN_CONFIG_FILE);
      return NULL;
    }
  g_autoptr (RunFolder) self = g_new0 (RunFolder, 1);
  self->dir = g_strdup (dir);
  self->checkpoint = run_dir_file (dir, RUN_CHECKPOINT_FILE);
  trainer_config_init_default (&self->config);
  self->keyfile = trainer_run_load_config (dir, &self->config, error);
  if (!self->keyfile)
    return NULL;
  self->data_spec = g_key_file_get_string (self->keyfile, "data", "spec",
                                           NULL);
  dataset_options_init_default (&self->data_options);
  /* absent in hand-written configs: keep the default */
  if (g_key_file_has_key (self->keyfile, "data", "image_size", NULL))
    self->data_options.image_size
        = g_key_file_get_integer (self->keyfile, "data", "image_size", NULL);
  return g_steal_pointer (&self);
}

Dataset *
run_folder_open_data (RunFolder *self, const char *split, GError **error)
{
  g_autofree char *shown = g_filename_display_name (self->dir);
  if (!self->data_spec)
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
                   _("%s/%s names no data set (no “spec” in its [data] "
                     "group)"), shown, RUN_CONFIG_FILE);
      return NULL;
    }
  return run_folder_open_dataset (self->dir, self->data_spec, split,
                                  &self->data_options, error);
}

Dataset *
run_folder_open_dataset (const char *dir, const char *spec, const char *split,
                         const DatasetOptions *options, GError **error)
{
  g_autofree char *list = run_dir_file (dir, DATASET_FILE_LIST_NAME);
  if (g_file_test (list, G_FILE_TEST_EXISTS))
    return dataset_file_list_open (list, spec, split, options, error);
  Dataset *data = dataset_open (spec, split, options, error);
  if (!data)
    {
      g_autofree char *shown = g_filename_display_name (dir);
      g_prefix_error (error, _("%s: the run's data: "), shown);
    }
  return data;
}

RunModel *
run_folder_load_model (RunFolder *self, const Dataset *train, GError **error)
{
  if (!g_file_test (self->checkpoint, G_FILE_TEST_EXISTS))
    {
      g_autofree char *shown = g_filename_display_name (self->checkpoint);
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                   _("%s: no checkpoint yet (a run saves its first once the "
                     "memory bank is filled)"), shown);
      return NULL;
    }
  g_autoptr (RunModel) model = run_model_new (&self->config, train, error);
  if (!model)
    {
      g_autofree char *shown = g_filename_display_name (self->dir);
      g_prefix_error (error, "%s/%s: ", shown, RUN_CONFIG_FILE);
      return NULL;
    }
  if (!run_model_load (model, self->checkpoint, error))
    return NULL;
  return g_steal_pointer (&model);
}
