/* instdisc-retrievals-view.c: best and worst test-set retrievals.
 *
 * After each evaluation row of the run (or when asked): take a snapshot of
 * the bank, embed the whole test set with the current network
 * (instdisc_run_embed_async, in its worker), rank the test images by their
 * ten nearest bank rows (retrievals.c, in a GTask thread), and show the
 * first and last few. A request that comes while one is under way is
 * remembered and runs after it, once.
 */
#define G_LOG_DOMAIN "instdisc-gui"

#include "instdisc-retrievals-view.h"

#include <glib/gi18n.h>
#include <string.h>

#include "instdisc-thumb.h"
#include "run-dir.h"

#define ROWS_SHOWN 6
#define THUMB 84

struct _InstdiscRetrievalsView
{
  GtkWidget parent_instance;

  /* template widgets */
  GtkLabel *status_label;
  GtkSpinner *spinner;
  GtkWidget *refresh_button;
  GtkBox *best_box;
  GtkBox *worst_box;
  GtkLabel *best_caption;
  GtkLabel *worst_caption;

  /* owned */
  InstdiscRun *run;
  InstdiscSnapshot *snapshot;     /* the bank being ranked against */
  Retrievals *retrievals;
  GCancellable *cancellable;
  gulong snapshot_handler;
  gulong metrics_handler;

  Dataset *queries;               /* referenced, what retrievals index */
  Dataset *bank;

  gboolean busy, again, want_snapshot;
};

G_DEFINE_FINAL_TYPE (InstdiscRetrievalsView, instdisc_retrievals_view,
                     GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_RUN,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
set_busy (InstdiscRetrievalsView *self, gboolean busy, const char *message)
{
  self->busy = busy;
  gtk_spinner_set_spinning (self->spinner, busy);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), busy);
  if (message)
    gtk_label_set_text (self->status_label, message);
}

/* ---- rows ---- */

static void
clear_box (GtkBox *box)
{
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (box))))
    gtk_box_remove (box, child);
}

static GtkWidget *
make_row (InstdiscRetrievalsView *self, int q)
{
  const Retrievals *r = self->retrievals;
  int label = self->queries->labels ? self->queries->labels[q] : -1;
  g_autofree char *line1 = NULL;
  if (r->labelled)
    line1 = g_strdup_printf (_("%d of %d"), r->n_same[q], r->k);
  else
    line1 = g_strdup_printf ("%.4f", r->score[q]);
  g_autofree char *name = instdisc_class_name (self->queries, label);
  GtkWidget *card = instdisc_thumb_card_new_for_image (self->queries, q,
                                                       THUMB,
                                                       INSTDISC_THUMB_QUERY,
                                                       line1, name);
  g_autofree char *item = dataset_get_item_name (self->queries, q);
  gtk_widget_set_tooltip_text (card, item);
  GtkWidget *row = instdisc_neighbour_row_new (
    card, self->bank, r->neighbours + (size_t) q * r->k,
    r->similarities + (size_t) q * r->k, r->k, r->labelled ? label : -1,
    THUMB);
  g_object_set_data (G_OBJECT (row), "query", GINT_TO_POINTER (q));
  return row;
}

void
instdisc_retrievals_view_show (InstdiscRetrievalsView *self,
                               Retrievals *retrievals, const Dataset *queries,
                               const Dataset *bank)
{
  g_return_if_fail (INSTDISC_IS_RETRIEVALS_VIEW (self));
  g_clear_pointer (&self->retrievals, retrievals_free);
  self->retrievals = retrievals;
  Dataset *old_queries = self->queries, *old_bank = self->bank;
  self->queries = queries ? dataset_ref (queries) : NULL;
  self->bank = bank ? dataset_ref (bank) : NULL;
  dataset_unref (old_queries);
  dataset_unref (old_bank);
  clear_box (self->best_box);
  clear_box (self->worst_box);
  if (!retrievals)
    return;
  int shown = MIN (ROWS_SHOWN, retrievals->n_queries);
  for (int i = 0; i < shown; i++)
    {
      gtk_box_append (self->best_box, make_row (self, retrievals->best[i]));
      gtk_box_append (self->worst_box, make_row (self, retrievals->worst[i]));
    }
  if (retrievals->labelled)
    {
      gtk_label_set_text (self->best_caption,
                          _("Test images whose nearest training images most "
                            "often share their class (green frames), the "
                            "most similar first."));
      gtk_label_set_text (self->worst_caption,
                          _("Test images whose nearest training images least "
                            "often share their class (red frames)."));
    }
  else
    {
      gtk_label_set_text (self->best_caption,
                          _("Without labels: the test images closest to a "
                            "training image."));
      gtk_label_set_text (self->worst_caption,
                          _("Without labels: the test images farthest from "
                            "every training image."));
    }
}

int
instdisc_retrievals_view_get_n_rows (InstdiscRetrievalsView *self,
                                     gboolean worst)
{
  int n = 0;
  GtkWidget *box = GTK_WIDGET (worst ? self->worst_box : self->best_box);
  for (GtkWidget *c = gtk_widget_get_first_child (box); c;
       c = gtk_widget_get_next_sibling (c))
    n++;
  return n;
}

int
instdisc_retrievals_view_get_row_query (InstdiscRetrievalsView *self,
                                        gboolean worst, int row)
{
  GtkWidget *box = GTK_WIDGET (worst ? self->worst_box : self->best_box);
  GtkWidget *c = gtk_widget_get_first_child (box);
  for (; c && row > 0; row--)
    c = gtk_widget_get_next_sibling (c);
  return c ? GPOINTER_TO_INT (g_object_get_data (G_OBJECT (c), "query"))
           : -1;
}

gboolean
instdisc_retrievals_view_is_busy (InstdiscRetrievalsView *self)
{
  return self->busy;
}

/* ---- the pipeline: snapshot -> test pixels -> embed -> rank ---- */

static void finish (InstdiscRetrievalsView *self, const char *message);

typedef struct
{
  InstdiscSnapshot *snapshot;
  Dataset *test;                 /* the run's test set, referenced */
  GBytes *features;              /* (Q, D) */
  Retrievals *retrievals;
} RankJob;

static void
rank_job_free (RankJob *job)
{
  g_clear_pointer (&job->snapshot, instdisc_snapshot_unref);
  g_clear_pointer (&job->test, dataset_unref);
  g_clear_pointer (&job->features, g_bytes_unref);
  g_clear_pointer (&job->retrievals, retrievals_free);
  g_free (job);
}

static void
rank_thread (GTask *task, gpointer source, gpointer task_data,
             GCancellable *cancellable)
{
  RankJob *job = task_data;
  InstdiscSnapshot *s = job->snapshot;
  gsize size;
  const float *features = g_bytes_get_data (job->features, &size);
  int n = job->test->n;
  if (size != (gsize) n * s->dim * sizeof (float))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                               _("The test features do not match the bank"));
      return;
    }
  const Dataset *train = s->train;
  gboolean labels = job->test->labels && train && train->labels
                    && train->n == s->n && train->n_classes > 0;
  job->retrievals = retrievals_compute (features,
                                        labels ? job->test->labels : NULL, n,
                                        s->bank,
                                        labels ? train->labels : NULL, s->n,
                                        s->dim, RETRIEVALS_K);
  g_task_return_boolean (task, TRUE);
}

static void
rank_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        finish (INSTDISC_RETRIEVALS_VIEW (source), error->message);
      return;
    }
  InstdiscRetrievalsView *self = INSTDISC_RETRIEVALS_VIEW (source);
  RankJob *job = g_task_get_task_data (G_TASK (result));
  instdisc_retrievals_view_show (self, g_steal_pointer (&job->retrievals),
                                 job->test, job->snapshot->train);
  g_autofree char *message
    = g_strdup_printf (_("%'d test images ranked against the memory bank of "
                         "iteration %'lld"),
                       job->test->n, (long long) job->snapshot->iteration);
  finish (self, message);
}

static void
embed_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;    /* the rank task, not yet run */
  g_autoptr (GError) error = NULL;
  RankJob *job = g_task_get_task_data (task);
  job->features = instdisc_run_embed_finish (INSTDISC_RUN (source), result,
                                             &error);
  if (!job->features)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_run_in_thread (task, rank_thread);
}

typedef struct
{
  const Dataset *test;
  GBytes *pixels;
} GatherJob;

static void
gather_thread (GTask *task, gpointer source, gpointer task_data,
               GCancellable *cancellable)
{
  GatherJob *job = task_data;
  const Dataset *t = job->test;
  gsize image = (gsize) t->channels * t->height * t->width;
  guint8 *pixels = g_malloc (image * t->n);
  for (int i = 0; i < t->n; i++)
    {
      GError *error = NULL;
      if (g_cancellable_set_error_if_cancelled (cancellable, &error)
          || !dataset_get_image (t, i, pixels + image * i, &error))
        {
          g_free (pixels);
          g_task_return_error (task, error);
          return;
        }
    }
  job->pixels = g_bytes_new_take (pixels, image * t->n);
  g_task_return_boolean (task, TRUE);
}

static void
gather_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) rank = user_data;
  GatherJob *gather = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_task_return_error (rank, g_steal_pointer (&error));
      return;
    }
  InstdiscRetrievalsView *self
    = INSTDISC_RETRIEVALS_VIEW (g_task_get_source_object (rank));
  RankJob *job = g_task_get_task_data (rank);
  g_autofree char *message
    = g_strdup_printf (_("Embedding %'d test images…"), job->test->n);
  set_busy (self, TRUE, message);
  instdisc_run_embed_async (self->run, gather->pixels, job->test->n,
                            self->cancellable, embed_done,
                            g_steal_pointer (&rank));
}

static void
gather_job_free (GatherJob *job)
{
  g_clear_pointer (&job->pixels, g_bytes_unref);
  g_free (job);
}

static void
start_ranking (InstdiscRetrievalsView *self, InstdiscSnapshot *snapshot)
{
  RankJob *job = g_new0 (RankJob, 1);
  job->snapshot = instdisc_snapshot_ref (snapshot);
  job->test = dataset_ref (instdisc_run_get_test (self->run));
  GTask *rank = g_task_new (self, self->cancellable, rank_done, NULL);
  g_task_set_source_tag (rank, start_ranking);
  g_task_set_task_data (rank, job, (GDestroyNotify) rank_job_free);

  GatherJob *gather = g_new0 (GatherJob, 1);
  gather->test = job->test;
  g_autoptr (GTask) task = g_task_new (NULL, self->cancellable, gather_done,
                                       rank);
  g_task_set_task_data (task, gather, (GDestroyNotify) gather_job_free);
  g_task_run_in_thread (task, gather_thread);
}

static void
finish (InstdiscRetrievalsView *self, const char *message)
{
  set_busy (self, FALSE, message);
  if (self->again)
    {
      self->again = FALSE;
      instdisc_retrievals_view_refresh (self);
    }
}

static void
on_snapshot_ready (InstdiscRun *run, InstdiscSnapshot *snapshot,
                   InstdiscRetrievalsView *self)
{
  if (!self->want_snapshot)
    return;
  self->want_snapshot = FALSE;
  start_ranking (self, snapshot);
}

void
instdisc_retrievals_view_refresh (InstdiscRetrievalsView *self)
{
  g_return_if_fail (INSTDISC_IS_RETRIEVALS_VIEW (self));
  if (!self->run)
    return;
  const Dataset *test = instdisc_run_get_test (self->run);
  const Dataset *train = instdisc_run_get_train (self->run);
  if (!test || test->n == 0 || !train)
    {
      set_busy (self, FALSE, _("This run has no test set to rank"));
      return;
    }
  if (test->channels != train->channels || test->height != train->height
      || test->width != train->width)
    {
      set_busy (self, FALSE, _("The test images differ in size from the "
                               "training images"));
      return;
    }
  if (self->busy)
    {
      self->again = TRUE;
      return;
    }
  set_busy (self, TRUE, _("Waiting for the memory bank…"));
  self->want_snapshot = TRUE;
  instdisc_run_request_snapshot (self->run);
}

static void
on_metrics_added (InstdiscRun *run, guint first_new,
                  InstdiscRetrievalsView *self)
{
  GArray *rows = instdisc_run_get_metrics (run);
  for (guint i = first_new; i < rows->len; i++)
    {
      const MetricsRow *row = &g_array_index (rows, MetricsRow, i);
      if (row->kind && strcmp (row->kind, "eval") == 0)
        {
          instdisc_retrievals_view_refresh (self);
          return;
        }
    }
}

void
instdisc_retrievals_view_set_run (InstdiscRetrievalsView *self,
                                  InstdiscRun *run)
{
  g_return_if_fail (INSTDISC_IS_RETRIEVALS_VIEW (self));
  if (self->run == run)
    return;
  if (self->run)
    {
      g_clear_signal_handler (&self->snapshot_handler, self->run);
      g_clear_signal_handler (&self->metrics_handler, self->run);
    }
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  self->again = self->want_snapshot = FALSE;
  set_busy (self, FALSE, NULL);
  instdisc_retrievals_view_show (self, NULL, NULL, NULL);
  g_set_object (&self->run, run);
  if (!run)
    {
      gtk_label_set_text (self->status_label, _("No run"));
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUN]);
      return;
    }
  self->snapshot_handler = g_signal_connect (run, "snapshot-ready",
                                             G_CALLBACK (on_snapshot_ready),
                                             self);
  self->metrics_handler = g_signal_connect (run, "metrics-added",
                                            G_CALLBACK (on_metrics_added),
                                            self);
  gtk_label_set_text (self->status_label,
                      _("The retrievals appear after the next evaluation, "
                        "or now with the refresh button"));
  /* a run opened from a folder has its evaluations already */
  GArray *rows = instdisc_run_get_metrics (run);
  if (rows && rows->len > 0)
    on_metrics_added (run, 0, self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUN]);
}

static void
on_refresh_clicked (InstdiscRetrievalsView *self)
{
  instdisc_retrievals_view_refresh (self);
}

GtkWidget *
instdisc_retrievals_view_new (void)
{
  return g_object_new (INSTDISC_TYPE_RETRIEVALS_VIEW, NULL);
}

/* ---- GObject ---- */

static void
instdisc_retrievals_view_dispose (GObject *object)
{
  InstdiscRetrievalsView *self = INSTDISC_RETRIEVALS_VIEW (object);
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  if (self->run)
    {
      g_clear_signal_handler (&self->snapshot_handler, self->run);
      g_clear_signal_handler (&self->metrics_handler, self->run);
    }
  g_clear_object (&self->run);
  g_clear_pointer (&self->retrievals, retrievals_free);
  g_clear_pointer (&self->queries, dataset_unref);
  g_clear_pointer (&self->bank, dataset_unref);
  g_clear_object (&self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self),
                               INSTDISC_TYPE_RETRIEVALS_VIEW);
  /* the template's unnamed root box is not cleared by the call above */
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))))
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (instdisc_retrievals_view_parent_class)->dispose (object);
}

static void
instdisc_retrievals_view_get_property (GObject *object, guint id, GValue *value,
                                       GParamSpec *pspec)
{
  if (id == PROP_RUN)
    g_value_set_object (value, INSTDISC_RETRIEVALS_VIEW (object)->run);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
}

static void
instdisc_retrievals_view_set_property (GObject *object, guint id,
                                       const GValue *value, GParamSpec *pspec)
{
  if (id == PROP_RUN)
    instdisc_retrievals_view_set_run (INSTDISC_RETRIEVALS_VIEW (object), g_value_get_object (value));
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
}

static void
instdisc_retrievals_view_class_init (InstdiscRetrievalsViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  object_class->dispose = instdisc_retrievals_view_dispose;
  object_class->get_property = instdisc_retrievals_view_get_property;
  object_class->set_property = instdisc_retrievals_view_set_property;
  /* the run shown, NULL for none: the window binds it to its own */
  properties[PROP_RUN] =
    g_param_spec_object ("run", NULL, NULL, INSTDISC_TYPE_RUN,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY
                         | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (
    widget_class, "/org/instdisc/Explorer/ui/instdisc-retrievals-view.ui");
  gtk_widget_class_set_layout_manager_type (widget_class,
                                            GTK_TYPE_BIN_LAYOUT);
#define BIND(name)                                                            \
  gtk_widget_class_bind_template_child (widget_class, InstdiscRetrievalsView, \
                                        name)
  BIND (status_label);
  BIND (spinner);
  BIND (refresh_button);
  BIND (best_box);
  BIND (worst_box);
  BIND (best_caption);
  BIND (worst_caption);
#undef BIND
  gtk_widget_class_bind_template_callback (widget_class, on_refresh_clicked);
}

static void
instdisc_retrievals_view_init (InstdiscRetrievalsView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
  set_busy (self, FALSE, _("No run"));
}
