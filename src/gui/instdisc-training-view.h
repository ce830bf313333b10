/* instdisc-training-view.h: the Training view: live loss and kNN curves,
 * rate, epoch progress with ETA, and NCE's health. */
#pragma once

#include <gtk/gtk.h>

#include "instdisc-plot.h"
#include "instdisc-run.h"

G_BEGIN_DECLS

#define INSTDISC_TYPE_TRAINING_VIEW (instdisc_training_view_get_type ())
G_DECLARE_FINAL_TYPE (InstdiscTrainingView, instdisc_training_view, INSTDISC,
                      TRAINING_VIEW, GtkWidget)

void instdisc_training_view_set_run (InstdiscTrainingView *self,
                                     InstdiscRun *run);
InstdiscPlot *instdisc_training_view_get_loss_plot (InstdiscTrainingView *self);
InstdiscPlot *instdisc_training_view_get_knn_plot (InstdiscTrainingView *self);
/* the knn plot's series of the linear classifier's top-1; for tests */
guint instdisc_training_view_get_linear_series (InstdiscTrainingView *self);
/* the knn plot's series of the 1-NN (bank) and the untrained network's
 * level; for tests */
guint instdisc_training_view_get_1nn_series (InstdiscTrainingView *self);
guint instdisc_training_view_get_untrained_series (InstdiscTrainingView *self);

/* Draws the loss and kNN top-1 of the run folder dir (its metrics.csv,
 * read on a worker) under this run's, named after the folder, until
 * instdisc_training_view_stop_comparing or another run compared. */
void instdisc_training_view_compare (InstdiscTrainingView *self,
                                     const char *dir);
void instdisc_training_view_stop_comparing (InstdiscTrainingView *self);
/* the loss plot's and the kNN plot's series of the run compared; for
 * tests */
guint instdisc_training_view_get_compare_loss_series (InstdiscTrainingView *self);
guint instdisc_training_view_get_compare_top1_series (InstdiscTrainingView *self);

/* the Smoothing slider's adjustment; for tests */
GtkAdjustment *instdisc_training_view_get_loss_smoothing (InstdiscTrainingView *self);

G_END_DECLS
