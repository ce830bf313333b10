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

/* A run folder that does not exist yet: runs/DATE-TIME under the current
 * folder, as `instdisc train` names one. (transfer full) */
char *instdisc_default_run_dir (void);

G_END_DECLS
