/* instdisc-window-training.c: the window around a training: the question
 * before anything stops or replaces a running training (Open Run, Recent
 * Runs, New Training, Train on Fashion-MNIST, closing and quitting), New
 * Training's start, and Train More Epochs.
 *
 * What a confirmed stop does: the run stops as the Stop button stops it.
 * The step under way finishes, a checkpoint of it is written, and only
 * then does the trainer thread end (the application stays until it has,
 * instdisc_window_stop_and_hold); so no finished step is lost, and the run
 * continues later from Open Run or Recent Runs. The new run is built
 * meanwhile; when it cannot be, the stopped run stays shown. A paused run
 * is not asked about: pausing already stopped its steps, and closing or
 * replacing it saves its checkpoint all the same. */
#define G_LOG_DOMAIN "instdisc-gui"

#include "instdisc-window-private.h"

#include <glib/gi18n.h>

#include "instdisc-new-training-dialog.h"
#include "instdisc-train-more-dialog.h"

gboolean
instdisc_window_is_training (InstdiscWindow *self)
{
  return self->run
         && instdisc_run_get_state (self->run) == INSTDISC_RUN_RUNNING;
}

gboolean
instdisc_window_run_has_finished (InstdiscWindow *self)
{
  if (!self->run)
    return FALSE;
  gint64 total = instdisc_run_get_total_steps (self->run);
  return total > 0 && instdisc_run_get_steps_done (self->run) >= total;
}

/* ---- the question before a training stops ---- */

typedef struct
{
  InstdiscWindow *window;
  InstdiscWindowConfirmed confirmed;
  gpointer data;
  GDestroyNotify destroy;
  gboolean answered;
} ConfirmRequest;

/* The question went without a Stop: Cancel, Escape, another question in
 * its place, or the window closing under it. */
static void
confirm_request_free (ConfirmRequest *request)
{
  if (!request->answered)
    {
      request->window->quitting = FALSE;
      if (request->destroy)
        request->destroy (request->data);
    }
  g_free (request);
}

static void
on_confirm_response (GtkDialog *dialog, int response, ConfirmRequest *request)
{
  InstdiscWindow *self = request->window;
  InstdiscWindowConfirmed confirmed = request->confirmed;
  gpointer data = request->data;
  gboolean stop = response == GTK_RESPONSE_ACCEPT;
  request->answered = stop;
  if (self->confirm_dialog == GTK_WIDGET (dialog))
    self->confirm_dialog = NULL;
  /* first, since what follows may close the window; the signal's
   * emission keeps the question alive until it returns, so it lets go of
   * the window it was over now. This frees the request (and without a
   * Stop, data). */
  gtk_window_set_transient_for (GTK_WINDOW (dialog), NULL);
  gtk_window_destroy (GTK_WINDOW (dialog));
  if (stop)
    {
      if (self->run)
        instdisc_window_stop_and_hold (self, self->run);
      confirmed (self, data);
    }
}

static const char *
stop_button_label (InstdiscStopReason reason)
{
  switch (reason)
    {
    case INSTDISC_STOP_FOR_OPEN: return _("_Stop and Open");
    case INSTDISC_STOP_FOR_NEW: return _("_Stop and Start");
    case INSTDISC_STOP_FOR_CLOSE: return _("_Stop and Close");
    case INSTDISC_STOP_FOR_QUIT: return _("_Stop and Quit");
    }
  g_return_val_if_reached (NULL);
}

void
instdisc_window_confirm_stop (InstdiscWindow *self, GtkWindow *parent,
                              InstdiscStopReason reason,
                              InstdiscWindowConfirmed confirmed,
                              gpointer data, GDestroyNotify destroy)
{
  if (!instdisc_window_is_training (self))
    {
      confirmed (self, data);
      return;
    }
  /* one question at a time: the newest asks */
  if (self->confirm_dialog)
    gtk_dialog_response (GTK_DIALOG (self->confirm_dialog),
                         GTK_RESPONSE_CANCEL);

  g_autofree char *name = g_filename_display_basename (
      instdisc_run_get_dir (self->run));
  GtkWidget *dialog = gtk_message_dialog_new (
      parent ? parent : GTK_WINDOW (self),
      GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT, GTK_MESSAGE_QUESTION,
      GTK_BUTTONS_NONE, _("Stop the training of %s?"), name);
  gint64 steps = instdisc_run_get_steps_done (self->run);
  g_autofree char *done = g_strdup_printf ("%'" G_GINT64_FORMAT, steps);
  g_autofree char *total = g_strdup_printf (
      "%'" G_GINT64_FORMAT, instdisc_run_get_total_steps (self->run));
  if (steps > 0)
    gtk_message_dialog_format_secondary_text (
        GTK_MESSAGE_DIALOG (dialog),
        _("It is at step %s of %s. It stops after the step under way and "
          "saves a checkpoint of it first, so no step is lost: open the run "
          "again to continue it."), done, total);
  else
    /* a run stopped before its first checkpoint starts over */
    gtk_message_dialog_format_secondary_text (
        GTK_MESSAGE_DIALOG (dialog),
        _("It has not trained its first step yet. What it has prepared so "
          "far (the memory bank’s first pass, the reference points) is done "
          "again when the run is continued."));
  gtk_dialog_add_button (GTK_DIALOG (dialog), _("_Cancel"),
                         GTK_RESPONSE_CANCEL);
  GtkWidget *stop = gtk_dialog_add_button (GTK_DIALOG (dialog),
                                           stop_button_label (reason),
                                           GTK_RESPONSE_ACCEPT);
  gtk_widget_add_css_class (stop, "destructive-action");
  /* Enter keeps the training */
  gtk_dialog_set_default_response (GTK_DIALOG (dialog), GTK_RESPONSE_CANCEL);

  ConfirmRequest *request = g_new0 (ConfirmRequest, 1);
  *request = (ConfirmRequest) { self, confirmed, data, destroy, FALSE };
  g_object_set_data_full (G_OBJECT (dialog), "instdisc-confirm-request",
                          request, (GDestroyNotify) confirm_request_free);
  g_signal_connect (dialog, "response", G_CALLBACK (on_confirm_response),
                    request);
  self->confirm_dialog = dialog;
  gtk_window_present (GTK_WINDOW (dialog));
}

/* ---- New Training ---- */

/* The build's answer: the settings are remembered only now that the
 * training started; a refused start brings the dialog back as it was. */
static void
new_training_built (InstdiscWindow *self, InstdiscRun *run,
                    const GError *error, gpointer data)
{
  InstdiscNewTrainingDialog *dialog = data;
  if (run)
    {
      instdisc_new_training_dialog_save_settings (dialog);
      gtk_window_destroy (GTK_WINDOW (dialog));
      return;
    }
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      gtk_window_destroy (GTK_WINDOW (dialog));
      return;
    }
  instdisc_new_training_dialog_show_start_error (dialog, error->message);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* data: a reference on the dialog, which the build keeps until it is
 * done */
static void
start_new_training (InstdiscWindow *self, gpointer data)
{
  InstdiscNewTrainingDialog *dialog = data;
  TrainerConfig config;
  instdisc_new_training_dialog_get_config (dialog, &config);
  /* out of the way while the data loads; back if the start fails */
  gtk_widget_set_visible (GTK_WIDGET (dialog), FALSE);
  instdisc_window_build_training (
      self, instdisc_new_training_dialog_get_run_dir (dialog),
      instdisc_new_training_dialog_get_data_spec (dialog),
      instdisc_new_training_dialog_get_image_size (dialog), &config, TRUE,
      new_training_built, dialog, g_object_unref);
}

static void
on_new_training_response (GtkDialog *dialog, int response,
                          InstdiscWindow *self)
{
  InstdiscNewTrainingDialog *d = INSTDISC_NEW_TRAINING_DIALOG (dialog);
  if (response != GTK_RESPONSE_ACCEPT)
    {
      gtk_window_destroy (GTK_WINDOW (dialog));
      return;
    }
  /* Enter in a field while something is invalid */
  if (!instdisc_new_training_dialog_is_valid (d))
    return;
  instdisc_window_confirm_stop (self, GTK_WINDOW (dialog),
                                INSTDISC_STOP_FOR_NEW, start_new_training,
                                g_object_ref (dialog), g_object_unref);
}

void
instdisc_window_present_new_training (InstdiscWindow *self)
{
  GtkWidget *dialog = instdisc_new_training_dialog_new (GTK_WINDOW (self));
  g_signal_connect_object (dialog, "response",
                           G_CALLBACK (on_new_training_response), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* ---- Train More Epochs ---- */

static void
on_train_more_response (GtkDialog *dialog, int response, InstdiscWindow *self)
{
  InstdiscTrainMoreDialog *d = INSTDISC_TRAIN_MORE_DIALOG (dialog);
  InstdiscRun *run = g_object_get_data (G_OBJECT (dialog), "instdisc-run");
  if (response == GTK_RESPONSE_ACCEPT)
    {
      if (!gtk_dialog_get_widget_for_response (dialog, response)
          || !gtk_widget_get_sensitive (
                 gtk_dialog_get_widget_for_response (dialog, response)))
        return;   /* Enter while the number is invalid */
      g_autoptr (GError) error = NULL;
      if (!instdisc_run_set_epochs (run, instdisc_train_more_dialog_get_epochs (d),
                                    &error))
        {
          instdisc_train_more_dialog_show_error (d, error->message);
          return;
        }
      /* a start that fails says so where every start does: the run's
       * error, under the header bar */
      instdisc_run_start (run);
    }
  gtk_window_destroy (GTK_WINDOW (dialog));
}

void
instdisc_window_present_train_more (InstdiscWindow *self)
{
  if (!self->run || !instdisc_run_get_train (self->run))
    return;
  if (self->train_more_dialog)
    {
      gtk_window_present (GTK_WINDOW (self->train_more_dialog));
      return;
    }
  GtkWidget *dialog = instdisc_train_more_dialog_new (GTK_WINDOW (self),
                                                      self->run);
  /* the run the dialog was opened for, whatever the window shows by the
   * time it is answered */
  g_object_set_data_full (G_OBJECT (dialog), "instdisc-run",
                          g_object_ref (self->run), g_object_unref);
  g_signal_connect_object (dialog, "response",
                           G_CALLBACK (on_train_more_response), self, 0);
  self->train_more_dialog = dialog;
  g_object_add_weak_pointer (G_OBJECT (dialog),
                             (gpointer *) &self->train_more_dialog);
  gtk_window_present (GTK_WINDOW (dialog));
}

void
instdisc_window_train_more_action (GtkWidget *widget, const char *action,
                                   GVariant *param)
{
  instdisc_window_present_train_more (INSTDISC_WINDOW (widget));
}

void
instdisc_window_dispose_training (InstdiscWindow *self)
{
  if (self->confirm_dialog)
    gtk_window_destroy (GTK_WINDOW (g_steal_pointer (&self->confirm_dialog)));
  if (self->train_more_dialog)
    {
      GtkWidget *dialog = self->train_more_dialog;
      g_object_remove_weak_pointer (G_OBJECT (dialog),
                                    (gpointer *) &self->train_more_dialog);
      self->train_more_dialog = NULL;
      gtk_window_destroy (GTK_WINDOW (dialog));
    }
}
