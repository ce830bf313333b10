/* instdisc-window.h: the explorer's main window: a header bar with the
 * view switcher and the run controls, a welcome page until a run is open,
 * then the Training, Embedding, Query and Retrievals views of one run. */
#pragma once

#include <gtk/gtk.h>

#include "instdisc-run.h"

G_BEGIN_DECLS

#define INSTDISC_TYPE_WINDOW (instdisc_window_get_type ())
G_DECLARE_FINAL_TYPE (InstdiscWindow, instdisc_window, INSTDISC, WINDOW,
                      GtkApplicationWindow)

InstdiscWindow *instdisc_window_new (GtkApplication *application);

/* Shows run in every view; a run already shown is stopped first (its
 * checkpoint saved), without asking. */
void instdisc_window_set_run (InstdiscWindow *self, InstdiscRun *run);
InstdiscRun *instdisc_window_get_run (InstdiscWindow *self);

/* Loads the data and builds the run in a worker thread, then shows it
 * and, when start, starts training. Here and in train_default and
 * open_run, a training under way in the window is not stopped without
 * asking: a question comes first, and Cancel leaves it training. */
void instdisc_window_new_training (InstdiscWindow *self, const char *run_dir,
                                   const char *data_spec,
                                   const TrainerConfig *config,
                                   gboolean start);
/* The welcome page's one click: the small ResNet on Fashion-MNIST with the
 * reference's recipe, in runs/DATE-TIME. */
void instdisc_window_train_default (InstdiscWindow *self);
void instdisc_window_open_run (InstdiscWindow *self, const char *run_dir);
/* The New Training dialog over the window. Its Start asks first when the
 * window's run trains; the dialog's settings are remembered only once the
 * new training has started, and a start that fails brings the dialog back
 * with the reason. */
void instdisc_window_present_new_training (InstdiscWindow *self);
/* Train More Epochs for the window's run (stopped, finished or followed):
 * asks for the new number of epochs, writes it into config.ini as
 * `instdisc train --resume --epochs N` does, and trains on from the
 * checkpoint. */
void instdisc_window_present_train_more (InstdiscWindow *self);
/* TRUE while the window's run is training (not paused, not stopping) */
gboolean instdisc_window_is_training (InstdiscWindow *self);
/* gtk_window_close for quitting the application: the question before a
 * training stops says Quit */
void instdisc_window_close_to_quit (InstdiscWindow *self);
void instdisc_window_show_error (InstdiscWindow *self, const char *message);
/* The Export Features dialog: bank or recomputed features, training or
 * test images; its accept button asks for a folder and exports there. */
GtkWidget *instdisc_window_new_export_dialog (InstdiscWindow *self);
/* "welcome", "loading" or "views" */
const char *instdisc_window_get_page (InstdiscWindow *self);

G_END_DECLS
