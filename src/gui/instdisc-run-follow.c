/* instdisc-run-follow.c: an InstdiscRun opened from a run folder, followed
 * while another process (or an earlier session) writes it. */
#define G_LOG_DOMAIN "instdisc-gui"

#include "instdisc-run-private.h"

#include <glib/gi18n.h>

/* ---- following a folder ---- */

void
instdisc_run_reload_metrics (InstdiscRun *self)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) rows = run_dir_load_metrics (self->dir, &error);
  if (!rows)
    {
      /* not written yet: the monitor tells us when it is */
      g_debug ("%s: %s", self->dir, error->message);
      return;
    }
  /* A writer that resumed rewrites the file shorter: start over when the
   * file no longer begins with the rows already shown. */
  if (rows->len < self->metrics->len)
    g_array_set_size (self->metrics, 0);
  guint first = self->metrics->len;
  if (rows->len > first)
    {
      g_array_append_vals (self->metrics,
                           &g_array_index (rows, MetricsRow, first),
                           rows->len - first);
      instdisc_run_emit_metrics_added (self, first);
    }
}

static void
load_checkpoint_thread (GTask *task, gpointer source, gpointer task_data,
                        GCancellable *cancellable)
{
  InstdiscRun *self = source;
  g_autofree char *path = run_dir_file (self->dir, RUN_CHECKPOINT_FILE);
  GError *error = NULL;
  g_mutex_lock (&self->infer_lock);
  gboolean loaded = run_model_load (self->infer, path, &error);
  if (loaded)
    self->infer_loaded = TRUE;
  g_mutex_unlock (&self->infer_lock);
  if (loaded)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
load_checkpoint_done (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GError) error = NULL;
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    g_debug ("checkpoint not reloaded: %s", error->message);
}

/* The checkpoint is replaced by a rename, so a reload never sees half a
 * file; loading 30 MB of bank is done off the main loop. */
static void
reload_checkpoint (InstdiscRun *self)
{
  if (!self->infer || self->state != INSTDISC_RUN_FOLLOWING)
    return;
  g_autoptr (GTask) task = g_task_new (self, self->cancellable,
                                       load_checkpoint_done, NULL);
  g_task_run_in_thread (task, load_checkpoint_thread);
}

static void
on_folder_changed (GFileMonitor *monitor, GFile *file, GFile *other,
                   GFileMonitorEvent event, gpointer data)
{
  InstdiscRun *self = data;
  if (event != G_FILE_MONITOR_EVENT_CHANGES_DONE_HINT
      && event != G_FILE_MONITOR_EVENT_CREATED
      && event != G_FILE_MONITOR_EVENT_CHANGED
      && event != G_FILE_MONITOR_EVENT_RENAMED
      && event != G_FILE_MONITOR_EVENT_MOVED_IN)
    return;
  if (self->state != INSTDISC_RUN_FOLLOWING)
    return;
  if (monitor == self->metrics_monitor)
    instdisc_run_reload_metrics (self);
  else if (event != G_FILE_MONITOR_EVENT_CHANGED)
    reload_checkpoint (self);
}

static GFileMonitor *
monitor_file (InstdiscRun *self, const char *name)
{
  g_autofree char *path = run_dir_file (self->dir, name);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GError) error = NULL;
  /* WATCH_MOVES: the checkpoint arrives by rename */
  GFileMonitor *monitor = g_file_monitor_file (file, G_FILE_MONITOR_WATCH_MOVES,
                                               NULL, &error);
  if (!monitor)
    {
      g_warning ("cannot follow %s: %s", path, error->message);
      return NULL;
    }
  g_signal_connect (monitor, "changed", G_CALLBACK (on_folder_changed), self);
  return monitor;
}

InstdiscRun *
instdisc_run_open (const char *run_dir, GError **error)
{
  g_autoptr (InstdiscRun) self = g_object_new (INSTDISC_TYPE_RUN, NULL);
  g_autofree char *shown = g_filename_display_name (run_dir);
  self->dir = g_strdup (run_dir);

  g_autofree char *config_path = run_dir_file (run_dir, RUN_CONFIG_FILE);
  if (!g_file_test (config_path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                   _("%s is not a run folder (it has no %s)"), shown,
                   RUN_CONFIG_FILE);
      return NULL;
    }
  g_autoptr (GKeyFile) keyfile = trainer_run_load_config (run_dir,
                                                         &self->config, error);
  if (!keyfile)
    return NULL;
  self->data_spec = g_key_file_get_string (keyfile, "data", "spec", NULL);
  self->image_size = 32;
  if (g_key_file_has_key (keyfile, "data", "image_size", NULL))
    self->image_size = g_key_file_get_integer (keyfile, "data", "image_size",
                                               NULL);

  /* A run from another machine may name data that is not here: its curves
   * still show; maps, queries and resuming need the data. */
  if (!self->data_spec)
    g_set_error (&self->data_error, G_KEY_FILE_ERROR,
                 G_KEY_FILE_ERROR_KEY_NOT_FOUND,
                 _("%s/%s names no data set"), shown, RUN_CONFIG_FILE);
  else if (instdisc_run_open_data (self, &self->data_error))
    {
      self->infer = run_model_new (&self->config, self->train, error);
      if (!self->infer)
        return NULL;
      g_autofree char *checkpoint = run_dir_file (run_dir, RUN_CHECKPOINT_FILE);
      if (g_file_test (checkpoint, G_FILE_TEST_EXISTS))
        {
          if (!run_model_load (self->infer, checkpoint, error))
            return NULL;
          self->infer_loaded = TRUE;
        }
    }

  self->state = INSTDISC_RUN_FOLLOWING;
  instdisc_run_reload_metrics (self);
  self->metrics_monitor = monitor_file (self, RUN_METRICS_FILE);
  self->checkpoint_monitor = monitor_file (self, RUN_CHECKPOINT_FILE);
  return g_steal_pointer (&self);
}

