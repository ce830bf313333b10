/* instdisc-new-training-dialog.h: the settings of a new training run. */
#pragma once

#include <gtk/gtk.h>

#include "trainer.h"

G_BEGIN_DECLS

#define INSTDISC_TYPE_NEW_TRAINING_DIALOG (instdisc_new_training_dialog_get_type ())
G_DECLARE_FINAL_TYPE (InstdiscNewTrainingDialog, instdisc_new_training_dialog,
                      INSTDISC, NEW_TRAINING_DIALOG, GtkDialog)

GtkWidget *instdisc_new_training_dialog_new (GtkWindow *parent);

/* What the person chose; valid after GTK_RESPONSE_ACCEPT. */
void instdisc_new_training_dialog_get_config (InstdiscNewTrainingDialog *self,
                                              TrainerConfig *config);
/* "fashion-mnist" or the chosen folder, NULL when a folder kind has none */
const char *instdisc_new_training_dialog_get_data_spec (InstdiscNewTrainingDialog *self);
const char *instdisc_new_training_dialog_get_run_dir (InstdiscNewTrainingDialog *self);
/* Remembers the choices (and the run folder's parent) for the next New
 * Training; called when the training starts. */
void instdisc_new_training_dialog_save_settings (InstdiscNewTrainingDialog *self);

/* A run folder that does not exist yet: DATE-TIME, as `instdisc train`
 * names one, in the preferred folder for runs (runs/ under the current
 * folder unless the Preferences say otherwise). (transfer full) */
char *instdisc_default_run_dir (void);

G_END_DECLS
