/* instdisc-run-tasks.c: the work an InstdiscRun does for the views off the
 * main loop: embedding query images and exporting recomputed features. */
#define G_LOG_DOMAIN "instdisc-gui"

#include "instdisc-run-private.h"

#include <glib/gi18n.h>

/* ---- queries ---- */

typedef struct
{
  GBytes *pixels;
  int n;
} EmbedData;

static void
embed_data_free (EmbedData *data)
{
  g_bytes_unref (data->pixels);
  g_free (data);
}

/* What an embedding does between its batches: lets waiting embeddings
 * go first, tells a caller on the main loop how far it is (progress,
 * called there with the images done and the total; may be NULL), and
 * stops when cancelled. */
typedef struct
{
  InstdiscRunProgressFunc progress;
  gpointer progress_data;
  GMainContext *context;          /* the caller's */
  GCancellable *cancellable;
  InstdiscRun *run;               /* set by embed_locked */
} EmbedHook;

typedef struct
{
  InstdiscRunProgressFunc progress;
  gpointer progress_data;
  int done, total;
} ProgressCall;

static gboolean
deliver_progress (gpointer data)
{
  ProgressCall *call = data;
  call->progress (call->done, call->total, call->progress_data);
  return G_SOURCE_REMOVE;
}

void
instdisc_run_lock_infer_for_writing (InstdiscRun *self)
{
  g_mutex_lock (&self->infer_lock);
  while (self->infer_lent > 0)
    g_cond_wait (&self->infer_cond, &self->infer_lock);
}

/* Called holding infer_lock and the engine lock, between two batches of
 * a set: when other embeddings wait (a query behind the Retrievals view's
 * whole test set), both locks go to them and come back once every one
 * that waited has had its turn. infer is lent, not given: no refresh of
 * the network replaces it meanwhile (infer_lent), so this set's rows all
 * come from one network, and a query's from that same one. */
static void
let_waiting_embeddings_go (InstdiscRun *self)
{
  if (g_atomic_int_get (&self->embed_waiting) == 0)
    return;
  self->infer_lent++;
  g_mutex_unlock (&instdisc_run_engine_lock);
  g_mutex_unlock (&self->infer_lock);
  /* a waiter leaves the count once it holds both locks; GMutex is not
   * fair, so without this the lender would take them back at once */
  while (g_atomic_int_get (&self->embed_waiting) > 0)
    g_usleep (200);
  g_mutex_lock (&self->infer_lock);
  g_mutex_lock (&instdisc_run_engine_lock);
  if (--self->infer_lent == 0)
    g_cond_broadcast (&self->infer_cond);
}

/* between the batches of run_model_embed: let waiting embeddings go,
 * report, and stop when the caller cancelled (within a batch, not at the
 * end of the pass) */
static gboolean
embed_between_batches (gpointer data, int done, int total)
{
  EmbedHook *hook = data;
  if (done > 0)
    let_waiting_embeddings_go (hook->run);
  if (hook->progress)
    {
      /* always queued to the caller's context: g_main_context_invoke would
       * call it here, on this thread, whenever that context happened to be
       * between two iterations and free to take (a progress report missing
       * from the main thread's list, written at the same moment, showed
       * it) */
      ProgressCall *call = g_new (ProgressCall, 1);
      *call = (ProgressCall) { hook->progress, hook->progress_data, done,
                               total };
      GSource *source = g_idle_source_new ();
      g_source_set_priority (source, G_PRIORITY_DEFAULT);
      g_source_set_callback (source, deliver_progress, call, g_free);
      g_source_attach (source, hook->context);
      g_source_unref (source);
    }
  return g_cancellable_is_cancelled (hook->cancellable);
}

/* Embeds images with the inference copy, held for the whole set so that
 * every row comes from one network (lent, not replaced, to embeddings
 * that wait meanwhile); the engine too (one caller at a time), so
 * training waits for the embedding rather than racing it. Fails when
 * cancelled and, with need_loaded, before a trained network is loaded.
 * hook may be NULL. */
static gboolean
embed_locked (InstdiscRun *self, const Dataset *images, float *features,
              gboolean need_loaded, EmbedHook *hook,
              GCancellable *cancellable, GError **error)
{
  EmbedHook own = { .cancellable = cancellable };
  if (!hook)
    hook = &own;
  hook->run = self;
  g_atomic_int_inc (&self->embed_waiting);
  g_mutex_lock (&self->infer_lock);
  g_mutex_lock (&instdisc_run_engine_lock);
  g_atomic_int_add (&self->embed_waiting, -1);
  gboolean ok;
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    ok = FALSE;
  else if (need_loaded && !self->infer_loaded)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                           _("The run has no trained network yet"));
      ok = FALSE;
    }
  else
    /* the hook is this call's alone: infer is shared by every embedding
     * and, while lent, used by several at once */
    ok = run_model_embed_with_hook (self->infer, images, features,
                                    embed_between_batches, hook, error);
  g_mutex_unlock (&instdisc_run_engine_lock);
  g_mutex_unlock (&self->infer_lock);
  return ok;
}

static void
embed_thread (GTask *task, gpointer source, gpointer task_data,
              GCancellable *cancellable)
{
  InstdiscRun *self = source;
  EmbedData *data = task_data;
  const Dataset *train = self->train;
  if (!train || !self->infer)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                               "%s", self->data_error
                                     ? self->data_error->message
                                     : _("The run has no network yet"));
      return;
    }
  gsize image_bytes = (gsize) train->channels * train->height * train->width;
  if (g_bytes_get_size (data->pixels) != image_bytes * data->n)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               _("Expected %d images of %dx%dx%d bytes"),
                               data->n, train->channels, train->height,
                               train->width);
      return;
    }
  /* an in-memory set over the caller's pixels (borrowed for the call) */
  Dataset images = {
    .name = (char *) "query",
    .kind = DATASET_KIND_IDX,
    .n = data->n,
    .channels = train->channels,
    .height = train->height,
    .width = train->width,
    .pixels = (guint8 *) g_bytes_get_data (data->pixels, NULL),
  };
  const int D = self->config.low_dim;
  g_autofree float *features = g_new (float, (gsize) data->n * D);
  GError *error = NULL;

  gboolean ok = embed_locked (self, &images, features, FALSE, NULL,
                              cancellable,
                              &error);
  if (!ok)
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task,
                         g_bytes_new_take (g_steal_pointer (&features),
                                           sizeof (float) * (gsize) data->n * D),
                         (GDestroyNotify) g_bytes_unref);
}

/* A worker that runs the network must not have the process exit under it:
 * at exit OpenBLAS and the engine free what a running product reads (a
 * crash, seen when the window closed while the test set was embedded). So
 * the application, when there is one, is held until the task returns, as
 * it is for a stopping trainer. */
typedef struct
{
  GAsyncReadyCallback callback;
  gpointer user_data;
  GApplication *application;
} HeldTask;

static void
held_task_done (GObject *source, GAsyncResult *result, gpointer data)
{
  HeldTask *held = data;
  if (held->callback)
    held->callback (source, result, held->user_data);
  if (held->application)
    {
      g_application_release (held->application);
      g_object_unref (held->application);
    }
  g_free (held);
}

static GTask *
held_task_new (InstdiscRun *self, GCancellable *cancellable,
               GAsyncReadyCallback callback, gpointer user_data)
{
  HeldTask *held = g_new0 (HeldTask, 1);
  held->callback = callback;
  held->user_data = user_data;
  GApplication *application = g_application_get_default ();
  if (application)
    {
      held->application = g_object_ref (application);
      g_application_hold (application);
    }
  return g_task_new (self, cancellable, held_task_done, held);
}

void
instdisc_run_embed_async (InstdiscRun *self, GBytes *pixels, int n,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (INSTDISC_IS_RUN (self));
  g_return_if_fail (pixels != NULL && n > 0);
  g_autoptr (GTask) task = held_task_new (self, cancellable, callback,
                                          user_data);
  g_task_set_source_tag (task, instdisc_run_embed_async);
  EmbedData *data = g_new0 (EmbedData, 1);
  data->pixels = g_bytes_ref (pixels);
  data->n = n;
  g_task_set_task_data (task, data, (GDestroyNotify) embed_data_free);
  g_task_run_in_thread (task, embed_thread);
}

GBytes *
instdisc_run_embed_finish (InstdiscRun *self, GAsyncResult *result,
                           GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- exports of recomputed features ---- */

typedef struct
{
  gboolean test_split;
  char *folder;
  EmbedHook hook;
} ExportData;

static void
export_data_free (ExportData *data)
{
  g_free (data->folder);
  g_main_context_unref (data->hook.context);
  g_free (data);
}

static void
export_recomputed_thread (GTask *task, gpointer source, gpointer task_data,
                          GCancellable *cancellable)
{
  InstdiscRun *self = source;
  ExportData *data = task_data;
  const Dataset *images = data->test_split ? self->test : self->train;
  GError *error = NULL;
  if (!images || !self->infer)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s",
                               !self->train && self->data_error
                                   ? self->data_error->message
                                   : _("The run has no test split"));
      return;
    }
  const int D = self->config.low_dim;
  g_autofree float *features = g_try_new (float, (gsize) images->n * D);
  if (!features)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                               _("Not enough memory for %d × %d features"),
                               images->n, D);
      return;
    }

  data->hook.cancellable = cancellable;
  gboolean ok = embed_locked (self, images, features, TRUE, &data->hook,
                              cancellable,
                              &error);

  if (ok)
    ok = run_dir_ensure (data->folder, &error)
         && trainer_run_export (data->folder, images, features, D, &error);
  if (ok)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
instdisc_run_export_recomputed_async (InstdiscRun *self, gboolean test_split,
                                      const char *folder,
                                      InstdiscRunProgressFunc progress,
                                      gpointer progress_data,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data)
{
  g_return_if_fail (INSTDISC_IS_RUN (self));
  g_return_if_fail (folder != NULL);
  g_autoptr (GTask) task = held_task_new (self, cancellable, callback,
                                          user_data);
  g_task_set_source_tag (task, instdisc_run_export_recomputed_async);
  ExportData *data = g_new0 (ExportData, 1);
  data->test_split = test_split;
  data->folder = g_strdup (folder);
  data->hook = (EmbedHook) { progress, progress_data,
                             g_main_context_ref_thread_default (), NULL };
  g_task_set_task_data (task, data, (GDestroyNotify) export_data_free);
  g_task_run_in_thread (task, export_recomputed_thread);
}

gboolean
instdisc_run_export_recomputed_finish (InstdiscRun *self, GAsyncResult *result,
                                       GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

