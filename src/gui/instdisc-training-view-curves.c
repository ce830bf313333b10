/* instdisc-training-view-curves.c: the Training view's plots: the loss
 * (raw and smoothed, log scale, zoom) and the kNN accuracy with its
 * reference levels, the rows plotted, and their exports. */
#define G_LOG_DOMAIN "instdisc-gui"

#include "instdisc-training-view-private.h"

#include <glib/gi18n.h>
#include <math.h>

#include "instdisc-file-chooser.h"

static void plot_compare (InstdiscTrainingView *self);
static void show_compare_state (InstdiscTrainingView *self,
                                const char *error);

/* The kNN axis spans the epochs done and the next one, where the next
 * point will land, and never more than the run plans: the first epochs of
 * a long run are not squeezed against the left edge. */
static void
fit_knn_axis (InstdiscTrainingView *self)
{
  int planned = self->run ? MAX (instdisc_run_get_config (self->run)->epochs,
                                 1)
                          : 1;
  instdisc_plot_set_x_span (self->knn_plot, 0.0,
                            MIN (self->epochs_done + 1, planned));
}

void
instdisc_training_view_reset_curves (InstdiscTrainingView *self)
{
  instdisc_plot_clear (self->loss_plot);
  instdisc_plot_clear (self->knn_plot);
  self->untrained_top1 = self->pixels_top1_value = NAN;
  self->p_positive_best = 0.0;
  self->knn_latest = NAN;
  self->knn_latest_epoch = 0;
  self->epochs_done = 0;
  self->ema = 0.0;
  self->ema_steps = 0;
  fit_knn_axis (self);
  /* the run compared stays */
  plot_compare (self);
}

/* The next smoothed loss of an exponential moving average of factor beta
 * (0: the loss itself) kept in ema over n steps so far, bias-corrected so
 * the curve starts at the first losses, not at 0. */
static double
smooth_next (double beta, double *ema, gint64 *n, double loss)
{
  *ema = beta * *ema + (1.0 - beta) * loss;
  (*n)++;
  return *ema / (1.0 - pow (beta, (double) *n));
}

/* The smoothed series of steps' rows again, at the slider's factor. */
static void
smooth_rows (InstdiscPlot *plot, guint series, GArray *rows, double beta)
{
  double ema = 0.0;
  gint64 n = 0;
  instdisc_plot_clear_series (plot, series);
  for (guint i = 0; rows && i < rows->len; i++)
    {
      const MetricsRow *row = &g_array_index (rows, MetricsRow, i);
      if (g_str_equal (row->kind, "step") && isfinite (row->loss))
        instdisc_plot_append (plot, series, (double) row->iteration,
                              smooth_next (beta, &ema, &n, row->loss));
    }
}

void
instdisc_training_view_smoothing_changed (InstdiscTrainingView *self)
{
  self->loss_beta = CLAMP (gtk_adjustment_get_value (self->loss_smoothing),
                           0.0, 0.999);
  /* one pass over the rows: a few milliseconds for 200 epochs' steps */
  GArray *rows = self->run ? instdisc_run_get_metrics (self->run) : NULL;
  smooth_rows (self->loss_plot, self->loss_smooth, rows, self->loss_beta);
  smooth_rows (self->loss_plot, self->compare_loss, self->compare_rows,
               self->loss_beta);
  self->ema = 0.0;
  self->ema_steps = 0;
  for (guint i = 0; rows && i < rows->len; i++)
    {
      const MetricsRow *row = &g_array_index (rows, MetricsRow, i);
      if (g_str_equal (row->kind, "step") && isfinite (row->loss))
        smooth_next (self->loss_beta, &self->ema, &self->ema_steps,
                     row->loss);
    }
}

/* ---- a run compared ---- */

/* The run compared's curves from its rows: the loss smoothed as this
 * run's is (its steps raw would hide both), the bank's top-1 per epoch. */
static void
plot_compare (InstdiscTrainingView *self)
{
  instdisc_plot_clear_series (self->knn_plot, self->compare_top1);
  smooth_rows (self->loss_plot, self->compare_loss, self->compare_rows,
               self->loss_beta);
  for (guint i = 0; self->compare_rows && i < self->compare_rows->len; i++)
    {
      const MetricsRow *row = &g_array_index (self->compare_rows, MetricsRow,
                                              i);
      if (g_str_equal (row->kind, "eval") && isfinite (row->knn_top1))
        instdisc_plot_append (self->knn_plot, self->compare_top1, row->epoch,
                              row->knn_top1);
    }
}

static void
show_compare_state (InstdiscTrainingView *self, const char *error)
{
  gboolean comparing = self->compare_rows != NULL;
  gtk_widget_set_visible (self->stop_compare_button, comparing);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "training.stop-comparing",
                                 comparing);
  if (error)
    {
      gtk_label_set_text (self->compare_label, error);
      gtk_widget_remove_css_class (GTK_WIDGET (self->compare_label),
                                   "dim-label");
      gtk_widget_add_css_class (GTK_WIDGET (self->compare_label), "error");
    }
  else if (comparing)
    {
      g_autofree char *text = g_strdup_printf (_("Compared with %s"),
                                               self->compare_name);
      gtk_label_set_text (self->compare_label, text);
      gtk_widget_remove_css_class (GTK_WIDGET (self->compare_label), "error");
      gtk_widget_add_css_class (GTK_WIDGET (self->compare_label), "dim-label");
    }
  gtk_widget_set_visible (GTK_WIDGET (self->compare_label),
                          comparing || error);
}

void
instdisc_training_view_clear_compare (InstdiscTrainingView *self)
{
  if (self->compare_cancellable)
    g_cancellable_cancel (self->compare_cancellable);
  g_clear_object (&self->compare_cancellable);
  g_clear_pointer (&self->compare_rows, g_array_unref);
  g_clear_pointer (&self->compare_name, g_free);
}

void
instdisc_training_view_stop_comparing (InstdiscTrainingView *self)
{
  g_return_if_fail (INSTDISC_IS_TRAINING_VIEW (self));
  instdisc_training_view_clear_compare (self);
  instdisc_plot_clear_series (self->loss_plot, self->compare_loss);
  instdisc_plot_clear_series (self->knn_plot, self->compare_top1);
  instdisc_plot_set_series_name (self->loss_plot, self->compare_loss, NULL);
  instdisc_plot_set_series_name (self->knn_plot, self->compare_top1, NULL);
  show_compare_state (self, NULL);
}

static void
load_metrics_thread (GTask *task, gpointer source, gpointer data,
                     GCancellable *cancellable)
{
  GError *error = NULL;
  GArray *rows = run_dir_load_metrics (data, &error);
  if (rows)
    g_task_return_pointer (task, rows, (GDestroyNotify) g_array_unref);
  else
    g_task_return_error (task, error);
}

static void
on_compare_loaded (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GError) error = NULL;
  GArray *rows = g_task_propagate_pointer (G_TASK (result), &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;   /* the view moved on: it may be gone */
  InstdiscTrainingView *self = INSTDISC_TRAINING_VIEW (source);
  const char *dir = g_task_get_task_data (G_TASK (result));
  g_clear_object (&self->compare_cancellable);
  if (!rows)
    {
      g_autofree char *text = g_strdup_printf (_("Could not compare: %s"),
                                               error->message);
      show_compare_state (self, text);
      return;
    }
  g_clear_pointer (&self->compare_rows, g_array_unref);
  self->compare_rows = rows;
  g_free (self->compare_name);
  self->compare_name = g_filename_display_basename (dir);
  instdisc_plot_set_series_name (self->loss_plot, self->compare_loss,
                                 self->compare_name);
  /* TRANSLATORS: the kNN plot's legend entry of the run compared, named
   * after its folder */
  g_autofree char *top1 = g_strdup_printf (_("%s top-1"), self->compare_name);
  instdisc_plot_set_series_name (self->knn_plot, self->compare_top1, top1);
  plot_compare (self);
  show_compare_state (self, NULL);
}

void
instdisc_training_view_compare (InstdiscTrainingView *self, const char *dir)
{
  g_return_if_fail (INSTDISC_IS_TRAINING_VIEW (self));
  if (self->compare_cancellable)
    g_cancellable_cancel (self->compare_cancellable);
  g_clear_object (&self->compare_cancellable);
  self->compare_cancellable = g_cancellable_new ();
  /* 200 epochs of steps are megabytes of text: read off the main loop */
  g_autoptr (GTask) task = g_task_new (self, self->compare_cancellable,
                                       on_compare_loaded, NULL);
  g_task_set_source_tag (task, instdisc_training_view_compare);
  g_task_set_return_on_cancel (task, TRUE);
  g_task_set_task_data (task, g_strdup (dir), g_free);
  g_task_run_in_thread (task, load_metrics_thread);
}

static void
compare_path_chosen (const char *path, gpointer data)
{
  g_autoptr (InstdiscTrainingView) self = data;
  if (path)
    instdisc_training_view_compare (self, path);
}

void
instdisc_training_view_compare_action (GtkWidget *widget, const char *action,
                                       GVariant *parameter)
{
  GtkFileChooserNative *chooser = instdisc_file_chooser_new (
      widget, _("Compare with Run"), GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
      _("_Compare"));
  instdisc_file_chooser_choose_path (chooser, compare_path_chosen,
                                     g_object_ref (widget));
}

void
instdisc_training_view_stop_comparing_action (GtkWidget *widget,
                                              const char *action,
                                              GVariant *parameter)
{
  instdisc_training_view_stop_comparing (INSTDISC_TRAINING_VIEW (widget));
}

guint
instdisc_training_view_get_compare_loss_series (InstdiscTrainingView *self)
{
  return self->compare_loss;
}

guint
instdisc_training_view_get_compare_top1_series (InstdiscTrainingView *self)
{
  return self->compare_top1;
}

void
instdisc_training_view_plot_rows (InstdiscTrainingView *self, GArray *rows,
                                  guint first, const MetricsRow **last_step,
                                  const MetricsRow **last_eval)
{
  if (first == 0)
    instdisc_training_view_reset_curves (self);
  for (guint i = first; i < rows->len; i++)
    {
      const MetricsRow *row = &g_array_index (rows, MetricsRow, i);
      double x = (double) row->iteration;
      if (g_str_equal (row->kind, "step") && isfinite (row->loss))
        {
          instdisc_plot_append (self->loss_plot, self->loss_raw, x, row->loss);
          instdisc_plot_append (self->loss_plot, self->loss_smooth, x,
                                smooth_next (self->loss_beta, &self->ema,
                                             &self->ema_steps, row->loss));
          double p = metrics_row_get (row, NCE_P_POSITIVE_COLUMN);
          if (isfinite (p))
            self->p_positive_best = MAX (self->p_positive_best, p);
          *last_step = row;
        }
      else if (g_str_equal (row->kind, "eval"))
        {
          double epoch = row->epoch;
          instdisc_plot_append (self->knn_plot, self->top1_bank, epoch,
                                row->knn_top1);
          instdisc_plot_append (self->knn_plot, self->top5_bank, epoch,
                                row->knn_top5);
          if (isfinite (row->knn_top1_recomputed))
            {
              instdisc_plot_append (self->knn_plot, self->top1_recomputed,
                                    epoch, row->knn_top1_recomputed);
              instdisc_plot_append (self->knn_plot, self->top5_recomputed,
                                    epoch, row->knn_top5_recomputed);
            }
          if (isfinite (row->knn_1nn))
            instdisc_plot_append (self->knn_plot, self->top1_1nn, epoch,
                                  row->knn_1nn);
          if (isfinite (row->linear_top1))
            instdisc_plot_append (self->knn_plot, self->top1_linear, epoch,
                                  row->linear_top1);
          self->epochs_done = MAX (self->epochs_done, row->epoch);
          if (row->epoch == 0)
            {
              self->untrained_top1 = row->knn_top1_recomputed;
              if (isfinite (row->knn_top1_recomputed))
                instdisc_plot_append (self->knn_plot, self->untrained_level,
                                      0.0, row->knn_top1_recomputed);
            }
          else
            {
              /* the recomputed features when measured: the bank lags */
              self->knn_latest = isfinite (row->knn_top1_recomputed)
                                     ? row->knn_top1_recomputed
                                     : row->knn_top1;
              self->knn_latest_epoch = row->epoch;
            }
          *last_eval = row;
        }
      else if (g_str_equal (row->kind, "pixels") && isfinite (row->knn_top1))
        {
          /* a level line across the plot */
          self->pixels_top1_value = row->knn_top1;
          instdisc_plot_append (self->knn_plot, self->pixels_top1, 0.0,
                                row->knn_top1);
        }
    }
  fit_knn_axis (self);
}

InstdiscPlot *
instdisc_training_view_get_loss_plot (InstdiscTrainingView *self)
{
  return self->loss_plot;
}

InstdiscPlot *
instdisc_training_view_get_knn_plot (InstdiscTrainingView *self)
{
  return self->knn_plot;
}

guint
instdisc_training_view_get_linear_series (InstdiscTrainingView *self)
{
  return self->top1_linear;
}

GtkAdjustment *
instdisc_training_view_get_loss_smoothing (InstdiscTrainingView *self)
{
  return self->loss_smoothing;
}

guint
instdisc_training_view_get_1nn_series (InstdiscTrainingView *self)
{
  return self->top1_1nn;
}

guint
instdisc_training_view_get_untrained_series (InstdiscTrainingView *self)
{
  return self->untrained_level;
}

/* ---- plot export ---- */

typedef struct
{
  InstdiscPlot *plot;
  gboolean svg;
} ExportRequest;

static void
plot_path_chosen (const char *path, gpointer data)
{
  g_autofree ExportRequest *request = data;
  if (path)
    {
      g_autoptr (GError) error = NULL;
      /* the size people see on a wide screen, whatever the window is */
      gboolean saved = request->svg
                           ? instdisc_plot_save_svg (request->plot, path, 960,
                                                     480, &error)
                           : instdisc_plot_save_png (request->plot, path, 960,
                                                     480, &error);
      if (!saved)
        g_warning ("%s", error->message);
    }
  g_object_unref (request->plot);
}

void
instdisc_training_view_export_plot (GtkWidget *widget, const char *action,
                                    GVariant *parameter)
{
  InstdiscTrainingView *self = INSTDISC_TRAINING_VIEW (widget);
  const char *what = g_variant_get_string (parameter, NULL);
  ExportRequest *request = g_new0 (ExportRequest, 1);
  request->plot = g_object_ref (g_str_has_prefix (what, "knn") ? self->knn_plot
                                                               : self->loss_plot);
  request->svg = g_str_has_suffix (what, "svg");
  GtkFileChooserNative *dialog = instdisc_file_chooser_new (
      widget, _("Export Plot"), GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"));
  g_autofree char *name = g_strdup_printf ("%s.%s",
                                           g_str_has_prefix (what, "knn")
                                               ? "knn-accuracy" : "loss",
                                           request->svg ? "svg" : "png");
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), name);
  instdisc_file_chooser_choose_path (dialog, plot_path_chosen, request);
}

void
instdisc_training_view_fit_loss (GtkWidget *widget, const char *action,
                                 GVariant *parameter)
{
  instdisc_plot_fit (INSTDISC_TRAINING_VIEW (widget)->loss_plot);
}

static void
on_loss_zoomed (InstdiscTrainingView *self)
{
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "training.fit-loss",
                                 instdisc_plot_get_zoomed (self->loss_plot));
}

void
instdisc_training_view_init_curves (InstdiscTrainingView *self)
{
  instdisc_plot_set_title (self->loss_plot, _("Training loss"));
  instdisc_plot_set_axis_labels (self->loss_plot, _("iteration"), _("loss"));
  instdisc_plot_set_x_integer (self->loss_plot, TRUE);
  /* thousands of steps: scroll to zoom into a stretch of them */
  instdisc_plot_set_zoomable (self->loss_plot, TRUE);
  g_signal_connect_swapped (self->loss_plot, "notify::zoomed",
                            G_CALLBACK (on_loss_zoomed), self);
  on_loss_zoomed (self);
  /* raw steps faint under the bold average: the noise stays visible
   * without hiding the trend */
  self->loss_raw = instdisc_plot_add_series (self->loss_plot, _("per step"),
                                             "rgba(53,132,228,0.35)", 1.0,
                                             FALSE);
  self->loss_smooth = instdisc_plot_add_series (self->loss_plot,
                                                _("smoothed"), "#1c71d8", 2.5,
                                                FALSE);

  instdisc_plot_set_title (self->knn_plot, _("kNN accuracy on the test set"));
  instdisc_plot_set_axis_labels (self->knn_plot, _("epoch"), _("accuracy (%)"));
  instdisc_plot_set_y_range (self->knn_plot, 0.0, 100.0);
  instdisc_plot_set_x_integer (self->knn_plot, TRUE);
  instdisc_plot_set_x_span (self->knn_plot, 0.0, 1.0);
  /* the bank's curves wide and under the recomputed ones, which are thin:
   * where the two agree (top-5 near 99 %) both stay visible */
  self->top1_bank = instdisc_plot_add_series (self->knn_plot,
                                              _("top-1 (bank)"), "#e66100",
                                              3.5, TRUE);
  self->top5_bank = instdisc_plot_add_series (self->knn_plot,
                                              _("top-5 (bank)"), "#26a269",
                                              3.5, TRUE);
  self->top1_recomputed = instdisc_plot_add_series (self->knn_plot,
                                                    _("top-1 (recomputed)"),
                                                    "#a51d2d", 1.5, TRUE);
  self->top5_recomputed = instdisc_plot_add_series (self->knn_plot,
                                                    _("top-5 (recomputed)"),
                                                    "#613583", 1.5, TRUE);
  self->top1_1nn = instdisc_plot_add_series (self->knn_plot,
                                             _("1-NN (bank)"), "#c88800",
                                             1.5, TRUE);
  /* where a run starts from, dashed across the plot: what the pixels
   * themselves and the network before its first step score */
  self->pixels_top1 = instdisc_plot_add_series (self->knn_plot,
                                                _("raw pixels top-1"),
                                                "#9a9996", 1.5, FALSE);
  instdisc_plot_set_series_level (self->knn_plot, self->pixels_top1, TRUE);
  self->untrained_level = instdisc_plot_add_series (self->knn_plot,
                                                    _("untrained top-1"),
                                                    "#5e5c64", 1.5, FALSE);
  instdisc_plot_set_series_level (self->knn_plot, self->untrained_level,
                                  TRUE);
  /* only when the run evaluates a linear classifier (empty series stay
   * out of the legend) */
  self->top1_linear = instdisc_plot_add_series (self->knn_plot,
                                                _("top-1 (linear)"),
                                                "#1a5fb4", 2.5, TRUE);
  /* the run compared, muted, over this run's; named once there is one */
  self->compare_loss = instdisc_plot_add_series (self->loss_plot, NULL,
                                                 "rgba(119,118,123,0.8)",
                                                 2.0, FALSE);
  self->compare_top1 = instdisc_plot_add_series (self->knn_plot, NULL,
                                                 "rgba(119,118,123,0.8)",
                                                 2.0, TRUE);
  show_compare_state (self, NULL);
}
