/* instdisc-new-training-dialog.h: the settings of a new training run.
 *
 * Every setting `instdisc train` takes for a run is here: the data set,
 * the network, the objective, the epochs, the batch size and the run
 * folder, and under Advanced the rest, each with a tooltip. Every typed
 * value is checked as it is typed, by the rules trainer_new holds a
 * configuration to; a value outside them is an error under its field
 * and Start stays insensitive until none is left. The run folder is
 * checked as it is typed too (one that holds a run is refused before
 * Start). The dialog says about how long the training will take. */
#pragma once

#include <gtk/gtk.h>

#include "trainer.h"

G_BEGIN_DECLS

#define INSTDISC_TYPE_NEW_TRAINING_DIALOG (instdisc_new_training_dialog_get_type ())
G_DECLARE_FINAL_TYPE (InstdiscNewTrainingDialog, instdisc_new_training_dialog,
                      INSTDISC, NEW_TRAINING_DIALOG, GtkDialog)

GtkWidget *instdisc_new_training_dialog_new (GtkWindow *parent);

/* TRUE when Start may be pressed: every setting this training reads is
 * valid, the run folder can take a new run, and a folder data set has its
 * folder. */
gboolean instdisc_new_training_dialog_is_valid (InstdiscNewTrainingDialog *self);
/* What the person chose; meaningful while is_valid. */
void instdisc_new_training_dialog_get_config (InstdiscNewTrainingDialog *self,
                                              TrainerConfig *config);
/* "fashion-mnist" or the chosen folder, NULL when a folder kind has none */
const char *instdisc_new_training_dialog_get_data_spec (InstdiscNewTrainingDialog *self);
/* an image folder's image size (the data set's own for the others) */
int instdisc_new_training_dialog_get_image_size (InstdiscNewTrainingDialog *self);
const char *instdisc_new_training_dialog_get_run_dir (InstdiscNewTrainingDialog *self);
/* Remembers the choices (and the run folder's parent, which the
 * Preferences show as the folder for new runs) for the next New
 * Training. Call it once the training has started, not before: a start
 * that was refused changes nothing. */
void instdisc_new_training_dialog_save_settings (InstdiscNewTrainingDialog *self);
/* Says above the fields why the last Start did not start (the dialog is
 * shown again with everything as it was typed); NULL hides it. */
void instdisc_new_training_dialog_show_start_error (InstdiscNewTrainingDialog *self,
                                                    const char *message);

/* A run folder that does not exist yet: DATE-TIME, as `instdisc train`
 * names one, in the preferred folder for runs (runs/ under the current
 * folder unless the Preferences say otherwise). (transfer full) */
char *instdisc_default_run_dir (void);

G_END_DECLS
