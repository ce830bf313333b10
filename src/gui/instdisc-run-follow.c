/* instdisc-run-follow.c: an InstdiscRun opened from a run folder, followed
 * while another process (or an earlier session) writes it. */
#define G_LOG_DOMAIN "instdisc-gui"

#include "instdisc-run-private.h"

#include <glib/gi18n.h>

#include "file-list.h"

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
  instdisc_run_lock_infer_for_writing (self);
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
  self->dir = g_strdup (run_dir);

  g_autoptr (RunFolder) folder = run_folder_open (run_dir, error);
  if (!folder)
    return NULL;
  self->config = folder->config;
  self->data_spec = g_strdup (folder->data_spec);
  self->image_size = folder->data_options.image_size;

  /* A run from another machine may name data that is not here: its curves
   * still show; maps, queries and resuming need the data. Without a
   * checkpoint yet the folder is followed until one arrives. */
  self->train = run_folder_open_data (folder, "train", &self->data_error);
  if (self->train)
    {
      g_autoptr (GError) no_test = NULL;
      self->test = run_folder_open_data (folder, "test", &no_test);
      if (!self->test)
        g_debug ("%s: no kNN evaluation: %s", run_dir, no_test->message);
      /* what differs from the run's files.txt, said once by the window */
      g_autofree char *train_note = dataset_file_list_describe (self->train);
      g_autofree char *test_note = self->test
                                       ? dataset_file_list_describe (self->test)
                                       : NULL;
      if (train_note || test_note)
        self->data_notice = g_strjoin ("; ", train_note ? train_note
                                                        : test_note,
                                       train_note ? test_note : NULL, NULL);
      g_autoptr (GError) no_model = NULL;
      self->infer = run_folder_load_model (folder, self->train, &no_model);
      if (self->infer)
        self->infer_loaded = TRUE;
      else if (!g_error_matches (no_model, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          g_propagate_error (error, g_steal_pointer (&no_model));
          return NULL;
        }
      else if (!(self->infer = run_model_new (&self->config, self->train,
                                              error)))
        return NULL;
    }

  self->state = INSTDISC_RUN_FOLLOWING;
  instdisc_run_reload_metrics (self);
  self->metrics_monitor = monitor_file (self, RUN_METRICS_FILE);
  self->checkpoint_monitor = monitor_file (self, RUN_CHECKPOINT_FILE);
  return g_steal_pointer (&self);
}

