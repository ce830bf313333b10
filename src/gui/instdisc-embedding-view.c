/* instdisc-embedding-view.c: PCA and t-SNE maps of the memory bank.
 *
 * Work off the main thread, each as a GTask on an immutable snapshot:
 *  - PCA, every time a snapshot arrives (one at a time; a snapshot that
 *    arrives meanwhile waits, and only the newest waits). While the run
 *    trains, a timer asks for a snapshot every few seconds.
 *  - t-SNE, when asked: the worker holds the view by a GWeakRef, steps the
 *    optimisation and posts each intermediate layout with g_idle_add_full;
 *    a post from a t-SNE that has since been stopped or replaced carries an
 *    old generation number and is dropped (editor-document-statistics.c's
 *    pattern). It starts from the layout shown, so the points stay where
 *    the eye left them: warm from an earlier t-SNE, or shaped like the PCA
 *    the first time.
 */
#define G_LOG_DOMAIN "instdisc-gui"

#include "instdisc-embedding-view-private.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "instdisc-map.h"
#include "instdisc-settings.h"
#include "instdisc-thumb.h"
#include "knn.h"
#include "pca.h"
#include "tsne.h"

#define SNAPSHOT_INTERVAL_S 3
#define TSNE_POST_EVERY 10    /* iterations between posted layouts */

G_DEFINE_FINAL_TYPE (InstdiscEmbeddingView, instdisc_embedding_view,
                     GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_RUN,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void start_pca (InstdiscEmbeddingView *self,
                       InstdiscSnapshot *snapshot);

/* ---- status ---- */

void
instdisc_embedding_view_update_status (InstdiscEmbeddingView *self)
{
  g_autofree char *text = NULL;
  if (!self->shown)
    text = g_strdup (self->run ? _("Waiting for the memory bank…")
                               : _("No run"));
  else if (self->projection == PROJECTION_PCA)
    /* (long long), not G_GINT64_FORMAT: xgettext cannot see through a
     * macro in a msgid, and the string would never be translated */
    text = g_strdup_printf (_("PCA of %'d points at iteration %'lld · "
                              "components hold %.1f%% and %.1f%% of the "
                              "variance"),
                            self->shown->n, (long long) self->shown->iteration,
                            100.0 * self->pca_variance[0],
                            100.0 * self->pca_variance[1]);
  else if (self->tsne_running && self->tsne_shown_iteration == 0
           && self->tsne_neighbours_total > 0)
    /* the rows laid out: every point, or the sample of a large bank */
    text = g_strdup_printf (_("t-SNE of %'d points: finding each point's "
                              "neighbours, %'d of %'d done…"),
                            self->shown->n, self->tsne_neighbours_done,
                            self->tsne_neighbours_total);
  else if (self->tsne_running && self->tsne_shown_iteration == 0)
    text = g_strdup_printf (_("t-SNE of %'d points: finding each point's "
                              "neighbours…"), self->shown->n);
  else if (self->tsne_layout)
    text = g_strdup_printf (_("t-SNE of %'d points (bank of iteration "
                              "%'lld): step %'d of %'d"),
                            self->shown->n,
                            (long long) self->tsne_iteration_of_bank,
                            self->tsne_shown_iteration,
                            self->tsne_total_iterations);
  else
    text = g_strdup (_("t-SNE has not been computed"));
  gtk_label_set_text (self->status_label, text);

  gboolean busy = self->pca_running || self->tsne_running
                  || self->color_running;
  gtk_spinner_set_spinning (self->spinner, busy);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), busy);
  gtk_widget_set_visible (GTK_WIDGET (self->tsne_stop_button),
                          self->tsne_running);
  gtk_widget_set_sensitive (GTK_WIDGET (self->tsne_run_button),
                            self->snapshot != NULL && !self->tsne_running);
  gtk_widget_set_visible (self->placeholder, self->shown == NULL);
}

/* ---- showing layouts ---- */

static void
show_layout (InstdiscEmbeddingView *self, InstdiscSnapshot *snapshot,
             const float *layout)
{
  if (self->shown != snapshot)
    {
      gboolean same_points = self->shown && self->shown->n == snapshot->n
                             && self->shown->train == snapshot->train;
      /* the one shown before, of the same points, is what "moved"
       * compares the new one with */
      g_clear_pointer (&self->previous, instdisc_snapshot_unref);
      if (same_points && self->shown->iteration != snapshot->iteration)
        self->previous = g_steal_pointer (&self->shown);
      g_clear_pointer (&self->shown, instdisc_snapshot_unref);
      self->shown = instdisc_snapshot_ref (snapshot);
      if (same_points)
        {
          instdisc_map_set_layout (self->map, layout);
          instdisc_embedding_view_tools_shown_changed (self, FALSE);
          return;
        }
      const Dataset *train = snapshot->train;
      gboolean labelled = train && train->labels && train->n_classes > 0
                          && train->n == snapshot->n;
      instdisc_map_set_points (self->map, layout,
                               labelled ? train->labels : NULL, snapshot->n,
                               labelled ? train->n_classes : 0);
      instdisc_map_set_dataset (self->map,
                                train && train->n == snapshot->n ? train
                                                                 : NULL);
      gtk_revealer_set_reveal_child (self->neighbours_revealer, FALSE);
      instdisc_embedding_view_tools_shown_changed (self, TRUE);
      return;
    }
  instdisc_map_set_layout (self->map, layout);
}

/* ---- PCA ---- */

typedef struct
{
  InstdiscSnapshot *snapshot;
  float *layout;
  float variance[2];
} PcaJob;

static void
pca_job_free (PcaJob *job)
{
  g_clear_pointer (&job->snapshot, instdisc_snapshot_unref);
  g_free (job->layout);
  g_free (job);
}

static void
pca_thread (GTask *task, gpointer source, gpointer task_data,
            GCancellable *cancellable)
{
  PcaJob *job = task_data;
  InstdiscSnapshot *s = job->snapshot;
  job->layout = g_new (float, (size_t) s->n * 2);
  float variance[2];
  pca_project2 (job->layout, NULL, variance, s->bank, s->n, s->dim);
  /* unit rows: the total variance is 1 - |mean|^2, so the share of each
   * component is its variance over that */
  double mean_norm2 = 0.0;
  g_autofree double *mean = g_new0 (double, s->dim);
  for (size_t i = 0; i < (size_t) s->n; i++)
    for (int k = 0; k < s->dim; k++)
      mean[k] += s->bank[i * s->dim + k];
  for (int k = 0; k < s->dim; k++)
    mean_norm2 += (mean[k] / s->n) * (mean[k] / s->n);
  double total = MAX (1.0 - mean_norm2, 1e-12);
  job->variance[0] = (float) (variance[0] / total);
  job->variance[1] = (float) (variance[1] / total);
  g_task_return_boolean (task, TRUE);
}

static void
pca_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = G_TASK (result);
  if (g_task_had_error (task) || g_cancellable_is_cancelled (
        g_task_get_cancellable (task)))
    return;
  InstdiscEmbeddingView *self = INSTDISC_EMBEDDING_VIEW (source);
  PcaJob *job = g_task_get_task_data (task);
  self->pca_running = FALSE;
  g_clear_pointer (&self->pca_layout, g_free);
  self->pca_layout = g_steal_pointer (&job->layout);
  self->pca_variance[0] = job->variance[0];
  self->pca_variance[1] = job->variance[1];
  if (self->projection == PROJECTION_PCA || !self->shown)
    {
      show_layout (self, job->snapshot, self->pca_layout);
      /* t-SNE asked for before there was a bank (the preferred projection
       * of a run just opened): it starts now, from this PCA map, which
       * stays in view until t-SNE's first layout */
      if (self->projection == PROJECTION_TSNE && !self->tsne_running
          && !self->tsne_layout)
        instdisc_embedding_view_start_tsne (self);
    }
  if (self->pca_waiting)
    {
      InstdiscSnapshot *next = g_steal_pointer (&self->pca_waiting);
      start_pca (self, next);
      instdisc_snapshot_unref (next);
    }
  instdisc_embedding_view_update_status (self);
}

static void
start_pca (InstdiscEmbeddingView *self, InstdiscSnapshot *snapshot)
{
  if (self->pca_running)
    {
      g_clear_pointer (&self->pca_waiting, instdisc_snapshot_unref);
      self->pca_waiting = instdisc_snapshot_ref (snapshot);
      return;
    }
  self->pca_running = TRUE;
  PcaJob *job = g_new0 (PcaJob, 1);
  job->snapshot = instdisc_snapshot_ref (snapshot);
  g_autoptr (GTask) task = g_task_new (self, self->cancellable, pca_done,
                                       NULL);
  g_task_set_source_tag (task, start_pca);
  g_task_set_task_data (task, job, (GDestroyNotify) pca_job_free);
  g_task_run_in_thread (task, pca_thread);
  instdisc_embedding_view_update_status (self);
}

/* ---- t-SNE ---- */

typedef struct
{
  GWeakRef view;
  guint generation;
  InstdiscSnapshot *snapshot;
  float *init;          /* (n, 2) or NULL */
  gboolean warm;
  GCancellable *cancellable;
} TsneJob;

typedef struct
{
  GWeakRef view;
  guint generation;
  InstdiscSnapshot *snapshot;
  float *layout;
  int iteration, n_iterations;
  /* the neighbour search before the first layout: rows done of total */
  int neighbours_done, neighbours_total;
  gboolean done;
} TsnePost;

static void
tsne_job_free (TsneJob *job)
{
  g_weak_ref_clear (&job->view);
  g_clear_pointer (&job->snapshot, instdisc_snapshot_unref);
  g_free (job->init);
  g_clear_object (&job->cancellable);
  g_free (job);
}

static void
tsne_post_free (TsnePost *post)
{
  g_weak_ref_clear (&post->view);
  g_clear_pointer (&post->snapshot, instdisc_snapshot_unref);
  g_free (post->layout);
  g_free (post);
}

static gboolean
tsne_post_apply (gpointer data)
{
  TsnePost *post = data;
  g_autoptr (InstdiscEmbeddingView) self = g_weak_ref_get (&post->view);
  if (!self || post->generation != self->tsne_generation)
    return G_SOURCE_REMOVE;   /* stale: a newer t-SNE or none at all */
  if (post->neighbours_total > 0)
    {
      self->tsne_neighbours_done = post->neighbours_done;
      self->tsne_neighbours_total = post->neighbours_total;
    }
  if (post->layout)
    {
      g_free (self->tsne_layout);
      self->tsne_layout = g_steal_pointer (&post->layout);
      self->tsne_shown_iteration = post->iteration;
      self->tsne_total_iterations = post->n_iterations;
      self->tsne_iteration_of_bank = post->snapshot->iteration;
      if (self->projection == PROJECTION_TSNE)
        show_layout (self, post->snapshot, self->tsne_layout);
    }
  if (post->done)
    {
      self->tsne_running = FALSE;
      g_clear_object (&self->tsne_cancellable);
    }
  instdisc_embedding_view_update_status (self);
  return G_SOURCE_REMOVE;
}

/* A post of job's, for the main loop: fill it in, then send it. */
static TsnePost *
tsne_post_new (TsneJob *job)
{
  TsnePost *post = g_new0 (TsnePost, 1);
  g_autoptr (GObject) view = g_weak_ref_get (&job->view);
  g_weak_ref_init (&post->view, view);
  post->generation = job->generation;
  post->snapshot = instdisc_snapshot_ref (job->snapshot);
  return post;
}

static void
tsne_post_send (TsnePost *post)
{
  /* Not at idle priority: while the spinner turns, a renderer slower than
   * the frame rate (llvmpipe on a busy machine) keeps the frame clock's
   * redraws always ready, and they starved idle posts for minutes. The
   * thread posts at most ~20 a second, so this cannot flood the loop. */
  g_idle_add_full (G_PRIORITY_DEFAULT, tsne_post_apply, post,
                   (GDestroyNotify) tsne_post_free);
}

static void
tsne_post (TsneJob *job, const float *layout_or_null, int iteration,
           int n_iterations, gboolean done)
{
  TsnePost *post = tsne_post_new (job);
  post->iteration = iteration;
  post->n_iterations = n_iterations;
  post->done = done;
  if (layout_or_null)
    post->layout = g_memdup2 (layout_or_null,
                              (size_t) job->snapshot->n * 2 * sizeof (float));
  tsne_post_send (post);
}

/* the neighbour search's progress, from tsne_new on the worker: posted
 * as it comes, each block of rows takes seconds */
static void
tsne_neighbours_found (int rows_done, int rows_total, gpointer data)
{
  TsnePost *post = tsne_post_new (data);
  post->neighbours_done = rows_done;
  post->neighbours_total = rows_total;
  tsne_post_send (post);
}

static gpointer
tsne_thread (gpointer data)
{
  TsneJob *job = data;
  InstdiscSnapshot *s = job->snapshot;
  TSneOptions options;
  tsne_options_init_default (&options);
  if (job->warm)
    options.n_iterations = 400;
  g_autoptr (TSne) tsne = tsne_new (s->bank, s->n, s->dim, job->init,
                                    job->warm, &options,
                                    tsne_neighbours_found, job,
                                    job->cancellable);
  g_autofree float *layout = g_new (float, (size_t) s->n * 2);
  gint64 last_post = 0;
  while (tsne && !g_cancellable_is_cancelled (job->cancellable))
    {
      if (tsne_step (tsne, TSNE_POST_EVERY) == 0)
        break;
      /* no more than ~20 layouts a second reach the main loop */
      gint64 now = g_get_monotonic_time ();
      if (now - last_post < 50000 && !tsne_is_done (tsne))
        continue;
      last_post = now;
      tsne_get_layout (tsne, layout);
      tsne_post (job, layout, tsne_get_iteration (tsne),
                 tsne_get_n_iterations (tsne), FALSE);
    }
  if (tsne && !g_cancellable_is_cancelled (job->cancellable))
    tsne_get_layout (tsne, layout);
  tsne_post (job, tsne && !g_cancellable_is_cancelled (job->cancellable)
                    ? layout : NULL,
             tsne ? tsne_get_iteration (tsne) : 0,
             tsne ? tsne_get_n_iterations (tsne) : 0, TRUE);
  tsne_job_free (job);
  return NULL;
}

void
instdisc_embedding_view_start_tsne (InstdiscEmbeddingView *self)
{
  g_return_if_fail (INSTDISC_IS_EMBEDDING_VIEW (self));
  if (!self->snapshot)
    return;
  if (self->tsne_cancellable)
    g_cancellable_cancel (self->tsne_cancellable);
  g_clear_object (&self->tsne_cancellable);
  self->tsne_cancellable = g_cancellable_new ();
  self->tsne_generation++;
  self->tsne_running = TRUE;
  self->tsne_shown_iteration = 0;
  self->tsne_neighbours_done = self->tsne_neighbours_total = 0;

  TsneJob *job = g_new0 (TsneJob, 1);
  g_weak_ref_init (&job->view, self);
  job->generation = self->tsne_generation;
  job->snapshot = instdisc_snapshot_ref (self->snapshot);
  job->cancellable = g_object_ref (self->tsne_cancellable);
  /* start from what the eye saw: the last t-SNE (warm), else the shape of
   * the PCA map (a cold start with exaggeration) */
  if (self->tsne_layout && self->shown && self->shown->n == job->snapshot->n)
    {
      job->init = g_memdup2 (self->tsne_layout,
                             (size_t) job->snapshot->n * 2 * sizeof (float));
      job->warm = TRUE;
    }
  else if (self->pca_layout && self->shown
           && self->shown->n == job->snapshot->n)
    job->init = g_memdup2 (self->pca_layout,
                           (size_t) job->snapshot->n * 2 * sizeof (float));
  /* a cold start grows from a tiny cloud: the map follows it (a warm one
   * keeps the points, and the view, where they were) */
  if (!job->warm)
    instdisc_map_fit (self->map);
  /* a plain thread, not the GTask pool: a t-SNE can run for minutes and
   * must not hold one of the pool's few threads from the queries */
  g_thread_unref (g_thread_new ("instdisc-tsne", tsne_thread, job));
  /* show it as it converges (the toggle sees it running: no second start) */
  gtk_toggle_button_set_active (self->tsne_button, TRUE);
  instdisc_embedding_view_update_status (self);
}

gboolean
instdisc_embedding_view_is_busy (InstdiscEmbeddingView *self)
{
  return self->pca_running || self->tsne_running || self->pca_waiting
         || self->color_running;
}

/* ---- the run ---- */

void
instdisc_embedding_view_show_snapshot (InstdiscEmbeddingView *self,
                                       InstdiscSnapshot *snapshot)
{
  g_return_if_fail (INSTDISC_IS_EMBEDDING_VIEW (self));
  g_clear_pointer (&self->snapshot, instdisc_snapshot_unref);
  self->snapshot = instdisc_snapshot_ref (snapshot);
  /* PCA always follows the newest bank; t-SNE only when asked */
  start_pca (self, snapshot);
}

static void
on_snapshot_ready (InstdiscRun *run, InstdiscSnapshot *snapshot,
                   InstdiscEmbeddingView *self)
{
  instdisc_embedding_view_show_snapshot (self, snapshot);
}

static gboolean
on_timer (gpointer data)
{
  InstdiscEmbeddingView *self = data;
  /* only while training moves the bank and someone looks at the map */
  if (self->run && instdisc_run_get_state (self->run) == INSTDISC_RUN_RUNNING
      && gtk_widget_get_mapped (GTK_WIDGET (self)) && !self->pca_running)
    instdisc_run_request_snapshot (self->run);
  return G_SOURCE_CONTINUE;
}

void
instdisc_embedding_view_set_run (InstdiscEmbeddingView *self, InstdiscRun *run)
{
  g_return_if_fail (INSTDISC_IS_EMBEDDING_VIEW (self));
  if (self->run == run)
    return;
  if (self->run)
    {
      g_clear_signal_handler (&self->snapshot_handler, self->run);
      g_clear_signal_handler (&self->state_handler, self->run);
    }
  g_set_object (&self->run, run);
  if (self->tsne_cancellable)
    g_cancellable_cancel (self->tsne_cancellable);
  g_clear_object (&self->tsne_cancellable);
  self->tsne_generation++;
  self->tsne_running = FALSE;
  g_clear_pointer (&self->tsne_layout, g_free);
  g_clear_pointer (&self->pca_layout, g_free);
  g_clear_pointer (&self->snapshot, instdisc_snapshot_unref);
  g_clear_pointer (&self->shown, instdisc_snapshot_unref);
  g_clear_pointer (&self->previous, instdisc_snapshot_unref);
  g_clear_pointer (&self->pca_waiting, instdisc_snapshot_unref);
  self->pending_point = -1;
  instdisc_map_set_points (self->map, NULL, NULL, 0, 0);
  instdisc_map_set_dataset (self->map, NULL);
  instdisc_embedding_view_rebuild_legend (self);
  /* a run opens in the preferred projection (t-SNE waits for the bank) */
  instdisc_embedding_view_set_projection (
      self, g_settings_get_enum (self->settings, "preferred-projection"));
  if (run)
    {
      self->snapshot_handler
        = g_signal_connect (run, "snapshot-ready",
                            G_CALLBACK (on_snapshot_ready), self);
      instdisc_run_request_snapshot (run);
    }
  instdisc_embedding_view_update_status (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUN]);
}

InstdiscProjection
instdisc_embedding_view_get_projection (InstdiscEmbeddingView *self)
{
  g_return_val_if_fail (INSTDISC_IS_EMBEDDING_VIEW (self),
                        INSTDISC_PROJECTION_PCA);
  return self->projection;
}

void
instdisc_embedding_view_set_projection (InstdiscEmbeddingView *self,
                                        InstdiscProjection projection)
{
  g_return_if_fail (INSTDISC_IS_EMBEDDING_VIEW (self));
  /* the toggles' handler does the work, as when clicked */
  gtk_toggle_button_set_active (projection == INSTDISC_PROJECTION_TSNE
                                    ? self->tsne_button
                                    : self->pca_button,
                                TRUE);
}

static void
on_settings_changed (GSettings *settings, const char *key,
                     InstdiscEmbeddingView *self)
{
  if (g_str_equal (key, "preferred-projection"))
    instdisc_embedding_view_set_projection (
        self, g_settings_get_enum (settings, "preferred-projection"));
}

/* ---- template callbacks ---- */

static void
on_projection_toggled (GtkToggleButton *button, InstdiscEmbeddingView *self)
{
  if (!gtk_toggle_button_get_active (button))
    return;
  self->projection = button == self->tsne_button ? PROJECTION_TSNE
                                                 : PROJECTION_PCA;
  /* the other projection's coordinates have nothing to do with these:
   * fit them, and follow the layouts that come until the person moves */
  instdisc_map_fit (self->map);
  if (self->projection == PROJECTION_TSNE)
    {
      if (self->tsne_layout && self->shown)
        show_layout (self, self->shown, self->tsne_layout);
      else if (!self->tsne_running)
        instdisc_embedding_view_start_tsne (self);
    }
  else if (self->pca_layout && self->snapshot)
    show_layout (self, self->shown ? self->shown : self->snapshot,
                 self->pca_layout);
  instdisc_embedding_view_update_status (self);
}

static void
on_tsne_run_clicked (InstdiscEmbeddingView *self)
{
  instdisc_embedding_view_start_tsne (self);
}

static void
on_tsne_stop_clicked (InstdiscEmbeddingView *self)
{
  if (self->tsne_cancellable)
    g_cancellable_cancel (self->tsne_cancellable);
}

static void
on_fit_clicked (InstdiscEmbeddingView *self)
{
  instdisc_map_fit (self->map);
}

/* ---- GObject ---- */

static void
instdisc_embedding_view_dispose (GObject *object)
{
  InstdiscEmbeddingView *self = INSTDISC_EMBEDDING_VIEW (object);
  g_cancellable_cancel (self->cancellable);
  if (self->tsne_cancellable)
    g_cancellable_cancel (self->tsne_cancellable);
  instdisc_embedding_view_tools_dispose (self);
  g_clear_handle_id (&self->timer, g_source_remove);
  if (self->run)
    {
      g_clear_signal_handler (&self->snapshot_handler, self->run);
      g_clear_signal_handler (&self->state_handler, self->run);
    }
  g_clear_object (&self->run);
  g_clear_pointer (&self->snapshot, instdisc_snapshot_unref);
  g_clear_pointer (&self->shown, instdisc_snapshot_unref);
  g_clear_pointer (&self->previous, instdisc_snapshot_unref);
  g_clear_pointer (&self->pca_waiting, instdisc_snapshot_unref);
  g_clear_object (&self->tsne_cancellable);
  g_clear_object (&self->cancellable);
  if (self->settings)
    g_signal_handlers_disconnect_by_data (self->settings, self);
  g_clear_object (&self->settings);
  gtk_widget_dispose_template (GTK_WIDGET (self),
                               INSTDISC_TYPE_EMBEDDING_VIEW);
  /* the template's unnamed root box is not cleared by the call above */
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))))
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (instdisc_embedding_view_parent_class)->dispose (object);
}

static void
instdisc_embedding_view_finalize (GObject *object)
{
  InstdiscEmbeddingView *self = INSTDISC_EMBEDDING_VIEW (object);
  g_free (self->pca_layout);
  g_free (self->tsne_layout);
  G_OBJECT_CLASS (instdisc_embedding_view_parent_class)->finalize (object);
}

static void
instdisc_embedding_view_get_property (GObject *object, guint id, GValue *value,
                                      GParamSpec *pspec)
{
  if (id == PROP_RUN)
    g_value_set_object (value, INSTDISC_EMBEDDING_VIEW (object)->run);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
}

static void
instdisc_embedding_view_set_property (GObject *object, guint id,
                                      const GValue *value, GParamSpec *pspec)
{
  if (id == PROP_RUN)
    instdisc_embedding_view_set_run (INSTDISC_EMBEDDING_VIEW (object), g_value_get_object (value));
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
}

static void
instdisc_embedding_view_class_init (InstdiscEmbeddingViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  object_class->dispose = instdisc_embedding_view_dispose;
  object_class->get_property = instdisc_embedding_view_get_property;
  object_class->set_property = instdisc_embedding_view_set_property;
  /* the run shown, NULL for none: the window binds it to its own */
  properties[PROP_RUN] =
    g_param_spec_object ("run", NULL, NULL, INSTDISC_TYPE_RUN,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY
                         | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
  object_class->finalize = instdisc_embedding_view_finalize;

  g_type_ensure (INSTDISC_TYPE_MAP);
  gtk_widget_class_set_template_from_resource (
    widget_class, "/org/instdisc/Explorer/ui/instdisc-embedding-view.ui");
  gtk_widget_class_set_layout_manager_type (widget_class,
                                            GTK_TYPE_BIN_LAYOUT);
#define BIND(name)                                                            \
  gtk_widget_class_bind_template_child (widget_class, InstdiscEmbeddingView,  \
                                        name)
  BIND (pca_button);
  BIND (tsne_button);
  BIND (tsne_run_button);
  BIND (tsne_stop_button);
  BIND (status_label);
  BIND (spinner);
  BIND (map);
  BIND (placeholder);
  BIND (legend_frame);
  BIND (legend_box);
  BIND (neighbours_revealer);
  BIND (neighbours_box);
  BIND (search_entry);
  BIND (search_label);
  BIND (color_dropdown);
  BIND (holding_label);
#undef BIND
  gtk_widget_class_bind_template_callback (widget_class,
                                           on_projection_toggled);
  gtk_widget_class_bind_template_callback (widget_class, on_tsne_run_clicked);
  gtk_widget_class_bind_template_callback (widget_class,
                                           on_tsne_stop_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_fit_clicked);
  gtk_widget_class_bind_template_callback_full (
      widget_class, "on_point_selected",
      G_CALLBACK (instdisc_embedding_view_on_point_selected));
  gtk_widget_class_bind_template_callback_full (
      widget_class, "on_search_changed",
      G_CALLBACK (instdisc_embedding_view_on_search_changed));
  gtk_widget_class_bind_template_callback_full (
      widget_class, "on_color_changed",
      G_CALLBACK (instdisc_embedding_view_on_color_changed));
}

static void
instdisc_embedding_view_init (InstdiscEmbeddingView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  instdisc_embedding_view_tools_init (self);
  self->settings = instdisc_settings_new ();
  g_signal_connect (self->settings, "changed",
                    G_CALLBACK (on_settings_changed), self);
  instdisc_embedding_view_set_projection (
      self, g_settings_get_enum (self->settings, "preferred-projection"));
  self->cancellable = g_cancellable_new ();
  self->timer = g_timeout_add_seconds (SNAPSHOT_INTERVAL_S, on_timer, self);
  instdisc_embedding_view_update_status (self);
}

GtkWidget *
instdisc_embedding_view_new (void)
{
  return g_object_new (INSTDISC_TYPE_EMBEDDING_VIEW, NULL);
}
