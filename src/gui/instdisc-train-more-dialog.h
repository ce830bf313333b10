/* instdisc-train-more-dialog.h: Train More Epochs. Asks how many epochs a
 * stopped, finished or followed run should have in all: more than it has,
 * checked as it is typed by the trainer's rules, with how the learning
 * rate goes on and about how long the rest takes. The window writes the
 * number and starts the training (instdisc-window-training.c). */
#pragma once

#include <gtk/gtk.h>

#include "instdisc-run.h"

G_BEGIN_DECLS

#define INSTDISC_TYPE_TRAIN_MORE_DIALOG (instdisc_train_more_dialog_get_type ())
G_DECLARE_FINAL_TYPE (InstdiscTrainMoreDialog, instdisc_train_more_dialog,
                      INSTDISC, TRAIN_MORE_DIALOG, GtkDialog)

GtkWidget *instdisc_train_more_dialog_new (GtkWindow *parent,
                                           InstdiscRun *run);
/* the epochs typed; meaningful while the Train button is sensitive */
int instdisc_train_more_dialog_get_epochs (InstdiscTrainMoreDialog *self);
/* why the last Train did not start (another process writes the run...);
 * NULL hides it */
void instdisc_train_more_dialog_show_error (InstdiscTrainMoreDialog *self,
                                            const char *message);

G_END_DECLS
