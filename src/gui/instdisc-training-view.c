/* instdisc-training-view.c: the Training view: its labels and the run it
 * shows (instdisc-training-view-private.h says where the rest is). */
#define G_LOG_DOMAIN "instdisc-gui"

#include "instdisc-training-view-private.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <math.h>
#include <string.h>

#include "instdisc-settings.h"

G_DEFINE_FINAL_TYPE (InstdiscTrainingView, instdisc_training_view,
                     GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_RUN,
  PROP_LOSS_LOG_SCALE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static char *
format_duration (double seconds)
{
  if (!isfinite (seconds) || seconds < 0)
    return g_strdup ("–");
  gint64 s = (gint64) (seconds + 0.5);
  if (s >= 3600)
    return g_strdup_printf ("%" G_GINT64_FORMAT ":%02d:%02d", s / 3600,
                            (int) (s / 60 % 60), (int) (s % 60));
  return g_strdup_printf ("%d:%02d", (int) (s / 60), (int) (s % 60));
}

/* NCE's Z runs to 10^5 and beyond: "102,913" reads next to "1,550" where
 * "1.029e+05" does not; small values keep four significant digits. */
static void
format_z (char *buffer, gsize size, double z)
{
  if (!isfinite (z) || fabs (z) < 1000.0)
    {
      g_snprintf (buffer, size, "%.4g", z);
      return;
    }
  char digits[32];
  g_snprintf (digits, sizeof digits, "%.0f", fabs (z));
  const char *sep = localeconv ()->thousands_sep;
  if (!sep || !*sep)
    sep = ",";
  GString *out = g_string_new (z < 0 ? "-" : "");
  int n = (int) strlen (digits);
  for (int i = 0; i < n; i++)
    {
      if (i > 0 && (n - i) % 3 == 0)
        g_string_append (out, sep);
      g_string_append_c (out, digits[i]);
    }
  g_strlcpy (buffer, out->str, size);
  g_string_free (out, TRUE);
}

static const char *
dataset_title (const char *spec)
{
  if (spec && g_str_equal (spec, "fashion-mnist"))
    return _("Fashion-MNIST");
  return spec ? spec : _("unknown data");
}

static void
update_summary (InstdiscTrainingView *self)
{
  const TrainerConfig *c = instdisc_run_get_config (self->run);
  g_autofree char *objective = objective_class_describe (c->objective, c);
  g_autofree char *dir = g_filename_display_name (instdisc_run_get_dir (self->run));
  g_autofree char *text = g_strdup_printf (
      _("%s on %s · %s · τ %g · batch %d · %d epochs · %s"),
      model_class_get_label (c->model),
      dataset_title (instdisc_run_get_data_spec (self->run)), objective,
      c->tau, c->batch_size, c->epochs, dir);
  gtk_label_set_text (self->summary_label, text);
  gtk_widget_set_visible (self->nce_box,
                          objective_class_has_metric (c->objective,
                                                      NCE_Z_COLUMN));
}

/* Whether the run is still taking steps, so that a time left means
 * something: training here, or a followed folder whose metrics.csv was
 * written in the last few minutes (a folder opened after its run stopped
 * is not advancing, however far its last row was from the end). */
static gboolean
run_is_advancing (InstdiscRun *run)
{
  InstdiscRunState state = instdisc_run_get_state (run);
  if (state == INSTDISC_RUN_RUNNING)
    return TRUE;
  if (state != INSTDISC_RUN_FOLLOWING)
    return FALSE;
  g_autofree char *metrics = g_build_filename (instdisc_run_get_dir (run),
                                               "metrics.csv", NULL);
  GStatBuf st;
  if (g_stat (metrics, &st) != 0)
    return FALSE;
  const gint64 quiet_s = 5 * 60;
  return g_get_real_time () / G_USEC_PER_SEC - (gint64) st.st_mtime < quiet_s;
}

/* The NCE panel's warning: the first of the signs that a run is failing,
 * with what to do about it. The signs: Z and its running estimate more
 * than tenfold apart; the positive's mean probability a hundredfold below
 * its best; the kNN top-1 fallen well below the untrained network's. */
static void
diagnose_nce (InstdiscTrainingView *self, const MetricsRow *row)
{
  double z = metrics_row_get (row, NCE_Z_COLUMN);
  double z_estimate = metrics_row_get (row, NCE_Z_ESTIMATE_COLUMN);
  double p = metrics_row_get (row, NCE_P_POSITIVE_COLUMN);
  double ratio = z_estimate / z;
  g_autofree char *sign = NULL;
  if (ratio > NCE_Z_WARN_RATIO || ratio < 1.0 / NCE_Z_WARN_RATIO)
    sign = g_strdup (_("Z and its estimate differ more than tenfold: the "
                       "fixed normaliser no longer fits the bank"));
  else if (isfinite (p) && p * NCE_P_FALL_RATIO < self->p_positive_best)
    sign = g_strdup_printf (_("The positive's mean probability fell from "
                              "%.3g to %.3g: the fixed normaliser no longer "
                              "fits the bank"),
                            self->p_positive_best, p);
  else if (isfinite (self->knn_latest) && isfinite (self->untrained_top1)
           && self->knn_latest_epoch > 0
           && self->knn_latest < self->untrained_top1 - KNN_COLLAPSE_POINTS)
    sign = g_strdup_printf (_("kNN top-1 fell to %.1f %% after epoch %d, "
                              "below the untrained network's %.1f %%: the "
                              "representation is collapsing"),
                            self->knn_latest, self->knn_latest_epoch,
                            self->untrained_top1);
  if (sign)
    {
      g_autofree char *text = g_strdup_printf (
          _("%s. A running normaliser avoids it (New Training, Advanced: "
            "NCE normaliser; on the command line --nce-z ema), as does the "
            "exact softmax."),
          sign);
      gtk_label_set_text (self->nce_warning_label, text);
    }
  gtk_widget_set_visible (self->nce_warning, sign != NULL);
}

static void
show_step (InstdiscTrainingView *self, const MetricsRow *row)
{
  char text[128];
  int per_epoch = instdisc_run_get_steps_per_epoch (self->run);
  gint64 total = instdisc_run_get_total_steps (self->run);
  const TrainerConfig *c = instdisc_run_get_config (self->run);

  g_snprintf (text, sizeof text, "%.4g", row->lr);
  gtk_label_set_text (self->lr_label, text);
  g_snprintf (text, sizeof text, "%.0f", row->images_per_s);
  gtk_label_set_text (self->rate_label, isfinite (row->images_per_s) ? text : "–");

  int in_epoch = per_epoch > 0 ? (int) (row->iteration - (gint64) (row->epoch - 1)
                                                         * per_epoch)
                               : 0;
  g_autofree char *epoch = g_strdup_printf (_("Epoch %d of %d · step %d of %d"),
                                            row->epoch, c->epochs, in_epoch,
                                            per_epoch);
  gtk_label_set_text (self->epoch_label, epoch);
  gtk_progress_bar_set_fraction (self->epoch_progress,
                                 per_epoch > 0 ? CLAMP ((double) in_epoch
                                                        / per_epoch, 0, 1)
                                               : 0);
  g_autofree char *elapsed = format_duration (row->wall_s);
  g_autofree char *times = NULL;
  if (run_is_advancing (self->run))
    {
      /* the training loop's time left while it trains here; for a run
       * followed from its folder, its steps at its last row's rate (that
       * of its recent steps), evaluations not counted */
      double eta = instdisc_run_get_seconds_left (self->run);
      if (!isfinite (eta))
        eta = (total - row->iteration) * (double) c->batch_size
              / row->images_per_s;
      g_autofree char *eta_text = format_duration (eta);
      times = g_strdup_printf (_("%s elapsed · %s left"), elapsed, eta_text);
    }
  else
    times = g_strdup_printf (_("%s elapsed"), elapsed);
  gtk_label_set_text (self->eta_label, times);

  double z = metrics_row_get (row, NCE_Z_COLUMN);
  if (gtk_widget_get_visible (self->nce_box) && isfinite (z))
    {
      double z_estimate = metrics_row_get (row, NCE_Z_ESTIMATE_COLUMN);
      format_z (text, sizeof text, z);
      gtk_label_set_text (self->z_fixed_label, text);
      format_z (text, sizeof text, z_estimate);
      gtk_label_set_text (self->z_estimate_label, text);
      /* from 1e-2 down to 1e-10: significant digits, not decimals */
      g_snprintf (text, sizeof text, "%.3g",
                  metrics_row_get (row, NCE_P_POSITIVE_COLUMN));
      gtk_label_set_text (self->p_positive_label, text);
      diagnose_nce (self, row);
    }
}

static void
show_eval (InstdiscTrainingView *self, const MetricsRow *row)
{
  g_autofree char *text = NULL;
  if (!isfinite (row->knn_top1))
    return;
  if (row->epoch == 0)
    /* the row before the first step */
    text = g_strdup_printf (_("Untrained network: top-1 %.2f %% · top-5 "
                              "%.2f %%"), row->knn_top1_recomputed,
                            row->knn_top5_recomputed);
  else if (isfinite (row->knn_top1_recomputed))
    text = g_strdup_printf (_("Epoch %d: top-1 %.2f %% · top-5 %.2f %% "
                              "(recomputed: %.2f %% · %.2f %%)"),
                            row->epoch, row->knn_top1, row->knn_top5,
                            row->knn_top1_recomputed,
                            row->knn_top5_recomputed);
  else
    text = g_strdup_printf (_("Epoch %d: top-1 %.2f %% · top-5 %.2f %%"),
                            row->epoch, row->knn_top1, row->knn_top5);
  /* the linear evaluation (Preferences, or `instdisc train --linear`) */
  if (isfinite (row->linear_top1))
    {
      g_autofree char *linear = g_strdup_printf (
          _("Linear classifier: top-1 %.2f %% · top-5 %.2f %%"),
          row->linear_top1, row->linear_top5);
      char *joined = g_strconcat (text, "\n", linear, NULL);
      g_free (text);
      text = joined;
    }
  /* where it stands: the reference points beside it */
  if (isfinite (self->pixels_top1_value) || isfinite (self->untrained_top1))
    {
      g_autofree char *points = NULL;
      if (isfinite (self->pixels_top1_value) && isfinite (self->untrained_top1)
          && row->epoch > 0)
        points = g_strdup_printf (_("raw pixels %.2f %%, untrained network "
                                    "%.2f %%"), self->pixels_top1_value,
                                  self->untrained_top1);
      else if (isfinite (self->pixels_top1_value))
        points = g_strdup_printf (_("raw pixels %.2f %%"),
                                  self->pixels_top1_value);
      if (points)
        {
          char *joined = g_strconcat (text, "\n", points, NULL);
          g_free (text);
          text = joined;
        }
    }
  gtk_label_set_text (self->knn_label, text);
}

static void
on_metrics_added (InstdiscRun *run, guint first, InstdiscTrainingView *self)
{
  GArray *rows = instdisc_run_get_metrics (run);
  const MetricsRow *last_step = NULL, *last_eval = NULL;
  instdisc_training_view_plot_rows (self, rows, first, &last_step,
                                    &last_eval);
  /* only the newest of a coalesced batch is worth showing in the labels */
  if (last_step)
    show_step (self, last_step);
  if (last_eval)
    show_eval (self, last_eval);
  if (last_eval && !last_step && gtk_widget_get_visible (self->nce_box))
    /* an evaluation is a sign too: diagnose with the newest step */
    for (guint i = rows->len; i-- > 0;)
      if (g_str_equal (g_array_index (rows, MetricsRow, i).kind, "step"))
        {
          diagnose_nce (self, &g_array_index (rows, MetricsRow, i));
          break;
        }
}

double
instdisc_pass_clock_left (InstdiscPassClock *clock, int phase, int done,
                          int total, gint64 now_us)
{
  if (clock->since_us == 0 || phase != clock->phase || total != clock->total
      || done < clock->last_done)
    {
      *clock = (InstdiscPassClock) { now_us, done, done, total, phase };
      return NAN;
    }
  clock->last_done = done;
  double seconds = (now_us - clock->since_us) / 1e6;
  int images = done - clock->since_done;
  if (seconds < 3.0 || images <= 0)
    return NAN;
  return (total - done) * seconds / images;
}

/* What the run does when there is no step to show: the passes before the
 * first step take a minute or two on Fashion-MNIST, an evaluation seconds
 * to a minute, and a person should see that something is under way and
 * what. */
static void
show_phase (InstdiscTrainingView *self)
{
  const Dataset *train = instdisc_run_get_train (self->run);
  const Dataset *test = instdisc_run_get_test (self->run);
  InstdiscRunPhase phase = instdisc_run_get_phase (self->run);
  int done = 0, total = 0;
  double fraction = instdisc_run_get_pass_progress (self->run, &done, &total);
  g_autofree char *text = NULL;
  switch (phase)
    {
    case INSTDISC_RUN_PHASE_PREPARING:
      text = total > 0 ? g_strdup (_("Filling the memory bank: the untrained "
                                     "network embeds every training image…"))
                       : g_strdup_printf (_("Filling the memory bank: the "
                                            "untrained network embeds the "
                                            "%'d training images…"),
                                          train ? train->n : 0);
      break;
    case INSTDISC_RUN_PHASE_REFERENCE:
      text = g_strdup (_("Measuring the reference points: raw pixels and "
                         "the untrained network…"));
      break;
    case INSTDISC_RUN_PHASE_EVALUATING:
      text = g_strdup_printf (_("Evaluating the epoch: kNN on the %'d test "
                                "images…"),
                              test ? test->n : 0);
      break;
    case INSTDISC_RUN_PHASE_NONE:
    case INSTDISC_RUN_PHASE_TRAINING:
      return;   /* the steps say where the run is */
    }
  if (total > 0)
    {
      /* the pass under way: one of the phase's passes over images */
      char *with_count = g_strdup_printf (_("%s %'d of %'d images"), text,
                                          done, total);
      g_free (text);
      text = with_count;
      double seconds = instdisc_pass_clock_left (&self->pass_clock, phase,
                                                 done, total,
                                                 g_get_monotonic_time ());
      if (!isnan (seconds))
        {
          g_autofree char *left = format_duration (seconds);
          /* Translators: the pass's images, then "1:05 left" */
          char *with_left = g_strdup_printf (_("%s, %s left"), text, left);
          g_free (text);
          text = with_left;
        }
    }
  if (phase != INSTDISC_RUN_PHASE_EVALUATING)
    {
      gtk_label_set_text (self->epoch_label, _("Before the first step"));
      gtk_progress_bar_set_fraction (self->epoch_progress, fraction);
    }
  gtk_label_set_text (self->eta_label, text);
}

void
instdisc_training_view_set_run (InstdiscTrainingView *self, InstdiscRun *run)
{
  g_return_if_fail (INSTDISC_IS_TRAINING_VIEW (self));
  if (self->run == run)
    return;
  if (self->run)
    {
      g_clear_signal_handler (&self->metrics_handler, self->run);
      g_clear_signal_handler (&self->phase_handler, self->run);
      g_clear_signal_handler (&self->progress_handler, self->run);
    }
  g_set_object (&self->run, run);
  instdisc_training_view_reset_curves (self);
  instdisc_plot_fit (self->loss_plot);
  gtk_label_set_text (self->knn_label, _("Measured before the first step and after each epoch"));
  gtk_label_set_text (self->lr_label, "–");
  gtk_label_set_text (self->rate_label, "–");
  gtk_label_set_text (self->eta_label, "");
  gtk_label_set_text (self->epoch_label, _("Not started"));
  gtk_progress_bar_set_fraction (self->epoch_progress, 0);
  gtk_widget_set_visible (self->nce_warning, FALSE);
  if (!run)
    {
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUN]);
      return;
    }
  update_summary (self);
  self->phase_handler = g_signal_connect_swapped (run, "notify::phase",
                                                  G_CALLBACK (show_phase),
                                                  self);
  self->progress_handler = g_signal_connect_swapped (
      run, "notify::pass-progress", G_CALLBACK (show_phase), self);
  self->metrics_handler = g_signal_connect (run, "metrics-added",
                                            G_CALLBACK (on_metrics_added),
                                            self);
  if (instdisc_run_get_metrics (run)->len > 0)
    on_metrics_added (run, 0, self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUN]);
}

/* ---- class ---- */

static void
instdisc_training_view_dispose (GObject *object)
{
  InstdiscTrainingView *self = INSTDISC_TRAINING_VIEW (object);
  if (self->run)
    {
      g_clear_signal_handler (&self->metrics_handler, self->run);
      g_clear_signal_handler (&self->phase_handler, self->run);
      g_clear_signal_handler (&self->progress_handler, self->run);
    }
  g_clear_object (&self->run);
  g_clear_object (&self->settings);
  instdisc_training_view_clear_compare (self);
  gtk_widget_dispose_template (GTK_WIDGET (self), INSTDISC_TYPE_TRAINING_VIEW);
  /* the template's root box has no id, so dispose_template leaves it */
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))))
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (instdisc_training_view_parent_class)->dispose (object);
}

static void
instdisc_training_view_get_property (GObject *object, guint id, GValue *value,
                                     GParamSpec *pspec)
{
  if (id == PROP_RUN)
    g_value_set_object (value, INSTDISC_TRAINING_VIEW (object)->run);
  else if (id == PROP_LOSS_LOG_SCALE)
    g_value_set_boolean (value,
                         INSTDISC_TRAINING_VIEW (object)->loss_log_scale);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
}

static void
instdisc_training_view_set_property (GObject *object, guint id,
                                     const GValue *value, GParamSpec *pspec)
{
  InstdiscTrainingView *self = INSTDISC_TRAINING_VIEW (object);
  if (id == PROP_RUN)
    instdisc_training_view_set_run (self, g_value_get_object (value));
  else if (id == PROP_LOSS_LOG_SCALE)
    {
      gboolean log = g_value_get_boolean (value);
      if (log == self->loss_log_scale)
        return;
      self->loss_log_scale = log;
      instdisc_plot_set_y_log (self->loss_plot, log);
      g_object_notify_by_pspec (object, pspec);
    }
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
}

static void
instdisc_training_view_class_init (InstdiscTrainingViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = instdisc_training_view_dispose;
  object_class->get_property = instdisc_training_view_get_property;
  object_class->set_property = instdisc_training_view_set_property;
  /* the run shown, NULL for none: the window binds it to its own */
  properties[PROP_RUN] =
    g_param_spec_object ("run", NULL, NULL, INSTDISC_TYPE_RUN,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY
                         | G_PARAM_STATIC_STRINGS);
  /* the loss plot's y axis in log10 (the setting loss-log-scale) */
  properties[PROP_LOSS_LOG_SCALE] =
    g_param_spec_boolean ("loss-log-scale", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY
                          | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (INSTDISC_TYPE_PLOT);
  gtk_widget_class_set_template_from_resource (
      widget_class, "/org/instdisc/Explorer/ui/instdisc-training-view.ui");
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_bind_template_child (widget_class, InstdiscTrainingView, summary_label);
  gtk_widget_class_bind_template_child (widget_class, InstdiscTrainingView, lr_label);
  gtk_widget_class_bind_template_child (widget_class, InstdiscTrainingView, rate_label);
  gtk_widget_class_bind_template_child (widget_class, InstdiscTrainingView, epoch_label);
  gtk_widget_class_bind_template_child (widget_class, InstdiscTrainingView, eta_label);
  gtk_widget_class_bind_template_child (widget_class, InstdiscTrainingView, epoch_progress);
  gtk_widget_class_bind_template_child (widget_class, InstdiscTrainingView, knn_label);
  gtk_widget_class_bind_template_child (widget_class, InstdiscTrainingView, nce_box);
  gtk_widget_class_bind_template_child (widget_class, InstdiscTrainingView, z_fixed_label);
  gtk_widget_class_bind_template_child (widget_class, InstdiscTrainingView, z_estimate_label);
  gtk_widget_class_bind_template_child (widget_class, InstdiscTrainingView, p_positive_label);
  gtk_widget_class_bind_template_child (widget_class, InstdiscTrainingView, nce_warning);
  gtk_widget_class_bind_template_child (widget_class, InstdiscTrainingView, nce_warning_label);
  gtk_widget_class_bind_template_child (widget_class, InstdiscTrainingView, loss_plot);
  gtk_widget_class_bind_template_child (widget_class, InstdiscTrainingView, knn_plot);
  gtk_widget_class_bind_template_child (widget_class, InstdiscTrainingView, loss_smoothing);
  gtk_widget_class_bind_template_child (widget_class, InstdiscTrainingView, compare_label);
  gtk_widget_class_bind_template_child (widget_class, InstdiscTrainingView, stop_compare_button);
  gtk_widget_class_bind_template_callback_full (
      widget_class, "on_smoothing_changed",
      G_CALLBACK (instdisc_training_view_smoothing_changed));
  gtk_widget_class_install_property_action (widget_class,
                                            "training.loss-log-scale",
                                            "loss-log-scale");
  gtk_widget_class_install_action (widget_class, "training.export-plot", "s",
                                   instdisc_training_view_export_plot);
  gtk_widget_class_install_action (widget_class, "training.compare", NULL,
                                   instdisc_training_view_compare_action);
  gtk_widget_class_install_action (widget_class, "training.stop-comparing",
                                   NULL,
                                   instdisc_training_view_stop_comparing_action);
  gtk_widget_class_install_action (widget_class, "training.fit-loss", NULL,
                                   instdisc_training_view_fit_loss);
}

static void
instdisc_training_view_init (InstdiscTrainingView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  instdisc_training_view_init_curves (self);
  self->untrained_top1 = self->pixels_top1_value = NAN;
  self->loss_beta = LOSS_EMA_BETA;

  /* the smoothing and the log scale as they were left */
  self->settings = instdisc_settings_new ();
  g_settings_bind (self->settings, "loss-smoothing", self->loss_smoothing,
                   "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "loss-log-scale", self, "loss-log-scale",
                   G_SETTINGS_BIND_DEFAULT);
}
