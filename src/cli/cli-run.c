/* cli-run.c: opening a run folder written by `instdisc train`. */
#define G_LOG_DOMAIN "instdisc"

#include "cli-run.h"

#include <gio/gio.h>
#include <glib/gi18n.h>

#include "cli-common.h"


void
cli_run_free (CliRun *self)
{
  if (!self)
    return;
  /* the model borrows the data set: free it first */
  run_model_free (self->model);
  dataset_unref (self->train);
  run_folder_free (self->folder);
  g_free (self);
}

CliRun *
cli_run_open (const char *dir, GError **error)
{
  g_autoptr (CliRun) self = g_new0 (CliRun, 1);
  self->folder = run_folder_open (dir, error);
  if (!self->folder)
    return NULL;
  self->config = self->folder->config;
  self->train = run_folder_open_data (self->folder, "train", error);
  if (!self->train)
    return NULL;
  cli_report_data (self->train);
  /* the network and the bank alone: no optimizer, no objective buffers */
  self->model = run_folder_load_model (self->folder, self->train, error);
  if (!self->model)
    return NULL;
  return g_steal_pointer (&self);
}

Dataset *
cli_run_open_split (CliRun *self, const char *split, GError **error)
{
  Dataset *data = run_folder_open_data (self->folder, split, error);
  if (data)
    cli_report_data (data);
  return data;
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
