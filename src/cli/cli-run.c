/* cli-run.c: opening a run folder written by `instdisc train`. */
#define G_LOG_DOMAIN "instdisc"

#include "cli-run.h"

#include <gio/gio.h>
#include <glib/gi18n.h>

#include "run-dir.h"
#include "trainer-run.h"

void
cli_run_free (CliRun *self)
{
  if (!self)
    return;
  /* the model borrows the data set: free it first */
  run_model_free (self->model);
  dataset_unref (self->train);
  g_free (self->dir);
  g_free (self->checkpoint);
  g_free (self->data_spec);
  if (self->keyfile)
    g_key_file_unref (self->keyfile);
  g_free (self);
}

CliRun *
cli_run_open (const char *dir, GError **error)
{
  g_autofree char *display = g_filename_display_name (dir);
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                   _("%s: no such run folder"), display);
      return NULL;
    }
  g_autoptr (CliRun) self = g_new0 (CliRun, 1);
  self->dir = g_strdup (dir);
  self->checkpoint = run_dir_file (dir, RUN_CHECKPOINT_FILE);

  g_autofree char *config_path = run_dir_file (dir, RUN_CONFIG_FILE);
  if (!g_file_test (config_path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                   _("%s: not a run folder (no %s; `instdisc train --run DIR` "
                     "makes one)"), display, RUN_CONFIG_FILE);
      return NULL;
    }
  trainer_config_init_default (&self->config);
  self->keyfile = trainer_run_load_config (dir, &self->config, error);
  if (!self->keyfile)
    return NULL;
  self->data_spec = g_key_file_get_string (self->keyfile, "data", "spec",
                                           NULL);
  if (!self->data_spec)
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
                   _("%s/%s: no “spec” in the [data] group"), display,
                   RUN_CONFIG_FILE);
      return NULL;
    }
  dataset_options_init_default (&self->data_options);
  /* absent in hand-written configs: keep the default */
  if (g_key_file_has_key (self->keyfile, "data", "image_size", NULL))
    self->data_options.image_size
        = g_key_file_get_integer (self->keyfile, "data", "image_size", NULL);

  if (!g_file_test (self->checkpoint, G_FILE_TEST_EXISTS))
    {
      g_autofree char *shown = g_filename_display_name (self->checkpoint);
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                   _("%s: no checkpoint yet (the run has not finished an "
                     "epoch or a --steps limit)"), shown);
      return NULL;
    }

  self->train = dataset_open (self->data_spec, "train", &self->data_options,
                              error);
  if (!self->train)
    {
      g_prefix_error (error, _("%s: the run's training data: "), display);
      return NULL;
    }
  /* the network and the bank alone: no optimizer, no objective buffers */
  self->model = run_model_new (&self->config, self->train, error);
  if (!self->model)
    {
      g_prefix_error (error, "%s/%s: ", display, RUN_CONFIG_FILE);
      return NULL;
    }
  if (!run_model_load (self->model, self->checkpoint, error))
    return NULL;
  return g_steal_pointer (&self);
}

Dataset *
cli_run_open_split (CliRun *self, const char *split, GError **error)
{
  return dataset_open (self->data_spec, split, &self->data_options, error);
}

Dataset *
cli_run_open_images (CliRun *self, const char *const *paths, int n,
                     GError **error)
{
  const Dataset *train = self->train;
  if (train->height != train->width)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                   _("%s has %dx%d images: only square training images can "
                     "be matched by image files"), train->name, train->width,
                   train->height);
      return NULL;
    }
  /* in memory, with the files as paths so item names are the files */
  g_autoptr (Dataset) set = dataset_new_in_memory ("query", n,
                                                  train->channels,
                                                  train->height, train->width);
  set->kind = DATASET_KIND_FOLDER;
  set->resize = train->resize;
  set->paths = g_new0 (char *, n + 1);
  const gsize image_bytes = (gsize) set->channels * set->height * set->width;
  for (int i = 0; i < n; i++)
    {
      set->paths[i] = g_strdup (paths[i]);
      if (!g_file_test (paths[i], G_FILE_TEST_IS_REGULAR))
        {
          g_autofree char *shown = g_filename_display_name (paths[i]);
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                       _("%s: no such file"), shown);
          return NULL;
        }
      if (!dataset_decode_file (paths[i], set->channels, set->height,
                                set->resize, set->pixels + i * image_bytes,
                                error))
        return NULL;
    }
  return g_steal_pointer (&set);
}

float *
cli_run_embed_images (CliRun *self, const char *const *paths, int n,
                      GError **error)
{
  g_autoptr (Dataset) images = cli_run_open_images (self, paths, n, error);
  if (!images)
    return NULL;
  g_autofree float *features = g_new (float, (gsize) n * self->config.low_dim);
  if (!run_model_embed (self->model, images, features, error))
    return NULL;
  return g_steal_pointer (&features);
}
