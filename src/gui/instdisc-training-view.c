/* instdisc-training-view.c: the Training view. */
#define G_LOG_DOMAIN "instdisc-gui"

#include "instdisc-training-view.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <math.h>
#include <string.h>

#include "instdisc-file-chooser.h"
#include "instdisc-settings.h"

/* the smoothed loss: an exponential moving average, bias-corrected so the
 * curve starts at the first losses; its factor is the Smoothing slider's
 * (the setting loss-smoothing), this until the settings are read: about
 * the last 50 steps */
#define LOSS_EMA_BETA 0.98
/* NCE's fixed Z and its running estimate this far apart (as a ratio) mean
 * the fixed normaliser no longer describes the bank */
#define NCE_Z_WARN_RATIO 10.0
/* the positive's mean probability this far below its best so far: the
 * fixed normaliser has stopped describing the bank (runs that failed went
 * from 2e-4 to 7e-10) */
#define NCE_P_FALL_RATIO 100.0
/* a kNN top-1 this many points below the untrained network's after an
 * epoch: the representation is collapsing rather than learning */
#define KNN_COLLAPSE_POINTS 10.0
/* The NCE panel's metrics.csv columns (objective-nce.c declares them): the
 * panel shows for a run whose objective reports them, and reads them by
 * name, so old files (where they sat before wall_s) read as new ones. */
#define NCE_Z_COLUMN "nce_z"
#define NCE_Z_ESTIMATE_COLUMN "nce_z_estimate"
#define NCE_P_POSITIVE_COLUMN "p_positive"

struct _InstdiscTrainingView
{
  GtkWidget parent_instance;

  /* template widgets */
  GtkLabel *summary_label;
  GtkLabel *lr_label;
  GtkLabel *rate_label;
  GtkLabel *epoch_label;
  GtkLabel *eta_label;
  GtkProgressBar *epoch_progress;
  GtkLabel *knn_label;
  GtkWidget *nce_box;
  GtkLabel *z_fixed_label;
  GtkLabel *z_estimate_label;
  GtkLabel *p_positive_label;
  GtkWidget *nce_warning;
  GtkLabel *nce_warning_label;
  InstdiscPlot *loss_plot;
  InstdiscPlot *knn_plot;
  GtkAdjustment *loss_smoothing;

  /* owned */
  GSettings *settings;
  InstdiscRun *run;
  gulong metrics_handler;
  gulong phase_handler;
  gulong progress_handler;

  guint loss_raw, loss_smooth;            /* series of loss_plot */
  guint top1_bank, top5_bank, top1_recomputed, top5_recomputed;
  guint top1_1nn;                         /* the nearest neighbour's */
  guint pixels_top1, untrained_level;     /* reference levels */
  guint top1_linear;                      /* the linear classifier's */
  /* kNN top-1 of the reference points (NAN until their rows arrive) */
  double untrained_top1, pixels_top1_value;
  double loss_beta;                       /* the smoothing's factor */
  gboolean loss_log_scale;
  double ema;
  gint64 ema_steps;
  /* the NCE panel's diagnosis */
  double p_positive_best;                 /* the highest mean P so far */
  double knn_latest;                      /* the last epoch's top-1 */
  int knn_latest_epoch;
  int epochs_done;                        /* the newest eval row's */
};

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
      double eta = (total - row->iteration) * (double) c->batch_size
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

static void
reset_plots (InstdiscTrainingView *self)
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

static void
on_smoothing_changed (InstdiscTrainingView *self)
{
  self->loss_beta = CLAMP (gtk_adjustment_get_value (self->loss_smoothing),
                           0.0, 0.999);
  /* one pass over the rows: a few milliseconds for 200 epochs' steps */
  GArray *rows = self->run ? instdisc_run_get_metrics (self->run) : NULL;
  smooth_rows (self->loss_plot, self->loss_smooth, rows, self->loss_beta);
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

static void
on_metrics_added (InstdiscRun *run, guint first, InstdiscTrainingView *self)
{
  GArray *rows = instdisc_run_get_metrics (run);
  if (first == 0)
    reset_plots (self);
  const MetricsRow *last_step = NULL, *last_eval = NULL;
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
          last_step = row;
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
          last_eval = row;
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
  reset_plots (self);
  instdisc_plot_fit (self->loss_plot);
  gtk_label_set_text (self->knn_label, _("Measured before the first step and after each epoch"));
  gtk_label_set_text (self->lr_label, "–");
  gtk_label_set_text (self->rate_label, "–");
  gtk_label_set_text (self->eta_label, "");
  gtk_label_set_text (self->epoch_label, _("Not started"));
  gtk_progress_bar_set_fraction (self->epoch_progress, 0);
  gtk_widget_set_visible (self->nce_warning, FALSE);
  fit_knn_axis (self);
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

static void
export_plot (GtkWidget *widget, const char *action, GVariant *parameter)
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

static void
fit_loss (GtkWidget *widget, const char *action, GVariant *parameter)
{
  instdisc_plot_fit (INSTDISC_TRAINING_VIEW (widget)->loss_plot);
}

static void
on_loss_zoomed (InstdiscTrainingView *self)
{
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "training.fit-loss",
                                 instdisc_plot_get_zoomed (self->loss_plot));
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
  gtk_widget_class_bind_template_callback (widget_class, on_smoothing_changed);
  gtk_widget_class_install_property_action (widget_class,
                                            "training.loss-log-scale",
                                            "loss-log-scale");
  gtk_widget_class_install_action (widget_class, "training.export-plot", "s",
                                   export_plot);
  gtk_widget_class_install_action (widget_class, "training.fit-loss", NULL,
                                   fit_loss);
}

static void
instdisc_training_view_init (InstdiscTrainingView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

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
  self->untrained_top1 = self->pixels_top1_value = NAN;
  self->loss_beta = LOSS_EMA_BETA;

  /* the smoothing and the log scale as they were left */
  self->settings = instdisc_settings_new ();
  g_settings_bind (self->settings, "loss-smoothing", self->loss_smoothing,
                   "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "loss-log-scale", self, "loss-log-scale",
                   G_SETTINGS_BIND_DEFAULT);
}
