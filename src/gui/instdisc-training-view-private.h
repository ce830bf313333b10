/* instdisc-training-view-private.h: what the files of the Training view
 * share.
 *   instdisc-training-view.c          the widget: its labels (progress,
 *                                     kNN, NCE's health), the run it
 *                                     shows, GObject
 *   instdisc-training-view-curves.c   its two plots: their series, the
 *                                     rows plotted, the loss's smoothing
 *                                     and zoom, the exports, a run
 *                                     compared
 * Nothing outside these files includes this header. */
#pragma once

#include "instdisc-training-view.h"

G_BEGIN_DECLS

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

/* A pass over images (the bank's filling before the first step, an
 * evaluation), as first seen: its rate so far says how long the rest
 * takes. */
typedef struct
{
  gint64 since_us;      /* 0: no pass seen yet */
  int since_done, last_done, total;
  int phase;            /* an InstdiscRunPhase */
} InstdiscPassClock;

/* Seconds the pass at done of total images still takes at its rate since
 * the clock first saw it, at now_us (monotonic); NAN in its first 3
 * seconds or before an image is done. Another phase, another total or
 * fewer images done than last time is a new pass: the clock starts
 * again. */
double instdisc_pass_clock_left (InstdiscPassClock *clock, int phase,
                                 int done, int total, gint64 now_us);

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
  GtkLabel *compare_label;
  GtkWidget *stop_compare_button;

  /* owned */
  GSettings *settings;
  InstdiscRun *run;
  InstdiscPassClock pass_clock;
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

  /* a run compared: its rows, its folder's name, its series (muted) */
  GArray *compare_rows;                   /* MetricsRow, or NULL */
  char *compare_name;
  guint compare_loss, compare_top1;
  GCancellable *compare_cancellable;      /* of the folder being read */
};

/* the plots' series, made once */
void instdisc_training_view_init_curves (InstdiscTrainingView *self);
/* empties the plots for another run */
void instdisc_training_view_reset_curves (InstdiscTrainingView *self);
/* Plots rows[first..] (from 0: all over again); *last_step and *last_eval
 * are the newest of each kind among them (left as they are when none). */
void instdisc_training_view_plot_rows (InstdiscTrainingView *self,
                                       GArray *rows, guint first,
                                       const MetricsRow **last_step,
                                       const MetricsRow **last_eval);
/* the Smoothing slider moved */
void instdisc_training_view_smoothing_changed (InstdiscTrainingView *self);
/* the actions training.export-plot and training.fit-loss */
void instdisc_training_view_export_plot (GtkWidget *widget,
                                         const char *action,
                                         GVariant *parameter);
void instdisc_training_view_fit_loss (GtkWidget *widget, const char *action,
                                      GVariant *parameter);
/* the actions training.compare and training.stop-comparing */
void instdisc_training_view_compare_action (GtkWidget *widget,
                                            const char *action,
                                            GVariant *parameter);
void instdisc_training_view_stop_comparing_action (GtkWidget *widget,
                                                   const char *action,
                                                   GVariant *parameter);
/* forgets the run compared and its reading (dispose) */
void instdisc_training_view_clear_compare (InstdiscTrainingView *self);

G_END_DECLS
