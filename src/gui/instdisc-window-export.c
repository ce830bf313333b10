/* instdisc-window-export.c: the main window's Export Features: the dialog
 * that chooses the features and the images, the folder chooser, and the
 * export itself off the main loop. */
#define G_LOG_DOMAIN "instdisc-gui"

#include "instdisc-window-private.h"

#include <glib/gi18n.h>

#include "instdisc-file-chooser.h"

/* ---- exporting ---- */

/* Export: the bank arrives as a snapshot from the trainer thread between
 * two steps, then a GTask writes the files; recomputed features are
 * embedded and written by the run in a worker. */
typedef struct
{
  InstdiscWindow *self;   /* referenced */
  char *folder;
  gulong handler;
  gboolean recomputed;
  gboolean test_split;
  int n, dim;             /* what is written, for the notice */
} ExportJob;

/* The notice once the files are written: what, where, and a button that
 * opens the folder. */
static void
notify_exported (ExportJob *job)
{
  g_autofree char *shown = g_filename_display_name (job->folder);
  g_autofree char *text = g_strdup_printf (
      job->recomputed
          ? _("Exported %'d × %d recomputed features of the %s images to %s "
              "(features.npy, labels.npy, paths.txt and the projector's "
              "vectors.tsv and metadata.tsv)")
          : _("Exported %'d × %d features of the memory bank (%s images) to "
              "%s (features.npy, labels.npy, paths.txt and the projector's "
              "vectors.tsv and metadata.tsv)"),
      job->n, job->dim, job->test_split ? _("test") : _("training"), shown);
  InstdiscNoticeBar *bar = job->self->notice_bar;
  instdisc_notice_bar_show (bar, INSTDISC_NOTICE_INFO, text);
  g_autofree char *uri = g_filename_to_uri (job->folder, NULL, NULL);
  if (uri)
    instdisc_notice_bar_set_action (bar, _("_Open Folder"), uri);
}

static void
on_export_progress (int done, int total, gpointer data)
{
  ExportJob *job = data;
  if (total > 0)
    instdisc_notice_bar_set_progress (job->self->notice_bar,
                                      (double) done / total);
}

static void
export_thread (GTask *task, gpointer source, gpointer task_data,
               GCancellable *cancellable)
{
  ExportJob *job = task_data;
  InstdiscSnapshot *snapshot = g_object_get_data (G_OBJECT (task), "snapshot");
  GError *error = NULL;
  if (instdisc_run_export_snapshot (snapshot, job->folder, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
export_done (GObject *source, GAsyncResult *result, gpointer data)
{
  InstdiscWindow *self = INSTDISC_WINDOW (source);
  g_autoptr (GError) error = NULL;
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    instdisc_window_show_error (self, error->message);
  else
    notify_exported (g_task_get_task_data (G_TASK (result)));
}

static void
export_job_free (ExportJob *job)
{
  g_object_unref (job->self);
  g_free (job->folder);
  g_free (job);
}

static void
on_export_snapshot (InstdiscRun *run, InstdiscSnapshot *snapshot, gpointer data)
{
  ExportJob *job = data;
  g_signal_handler_disconnect (run, job->handler);
  job->n = snapshot->n;
  job->dim = snapshot->dim;
  g_autoptr (GTask) task = g_task_new (job->self, NULL, export_done, NULL);
  g_object_set_data_full (G_OBJECT (task), "snapshot",
                          instdisc_snapshot_ref (snapshot),
                          (GDestroyNotify) instdisc_snapshot_unref);
  g_task_set_task_data (task, job, (GDestroyNotify) export_job_free);
  g_task_run_in_thread (task, export_thread);
}

static void
export_recomputed_done (GObject *source, GAsyncResult *result, gpointer data)
{
  ExportJob *job = data;
  g_autoptr (GError) error = NULL;
  if (!instdisc_run_export_recomputed_finish (INSTDISC_RUN (source), result,
                                              &error))
    instdisc_window_show_error (job->self, error->message);
  else
    notify_exported (job);
  export_job_free (job);
}

static void
on_export_folder (const char *path, gpointer data)
{
  ExportJob *job = data;
  InstdiscWindow *self = job->self;
  if (!path || !self->run)
    {
      export_job_free (job);
      return;
    }
  job->folder = g_strdup (path);
  g_autofree char *shown = g_filename_display_name (path);
  g_autofree char *text = g_strdup_printf (
      job->recomputed ? _("Exporting features to %s: the network embeds every "
                          "image…")
                      : _("Exporting the memory bank's features to %s…"),
      shown);
  if (instdisc_notice_bar_show (self->notice_bar, INSTDISC_NOTICE_PROGRESS,
                                text))
    instdisc_notice_bar_set_progress (self->notice_bar,
                                      job->recomputed ? 0.0 : -1.0);
  if (job->recomputed)
    {
      const Dataset *images = job->test_split
                                  ? instdisc_run_get_test (self->run)
                                  : instdisc_run_get_train (self->run);
      job->n = images ? images->n : 0;
      job->dim = instdisc_run_get_config (self->run)->low_dim;
      instdisc_run_export_recomputed_async (self->run, job->test_split,
                                            job->folder, on_export_progress,
                                            job, NULL,
                                            export_recomputed_done, job);
    }
  else
    {
      job->handler = g_signal_connect (self->run, "snapshot-ready",
                                       G_CALLBACK (on_export_snapshot), job);
      instdisc_run_request_snapshot (self->run);
    }
}

static void
choose_export_folder (InstdiscWindow *self, gboolean recomputed,
                      gboolean test_split)
{
  ExportJob *job = g_new0 (ExportJob, 1);
  job->self = g_object_ref (self);
  job->recomputed = recomputed;
  job->test_split = test_split;
  GtkFileChooserNative *chooser = instdisc_file_chooser_new (
      GTK_WIDGET (self), _("Export Features To"),
      GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _("_Export"));
  instdisc_file_chooser_choose_path (chooser, on_export_folder, job);
}

/* ---- the dialog ---- */

/* The choice `instdisc export` offers as --source and --split: the bank
 * is what training left (training images only, each from the epoch it was
 * last seen in); recomputed features come from today's network with the
 * test transform, and exist for the test split too. */
typedef struct
{
  GtkCheckButton *bank;
  GtkCheckButton *recomputed;
  GtkCheckButton *train;
  GtkCheckButton *test;
  gboolean has_test;
} ExportChoice;

static void
update_export_choice (GtkCheckButton *button, ExportChoice *choice)
{
  gboolean from_bank = gtk_check_button_get_active (choice->bank);
  /* the bank holds the training images only */
  if (from_bank)
    gtk_check_button_set_active (choice->train, TRUE);
  gtk_widget_set_sensitive (GTK_WIDGET (choice->test),
                            !from_bank && choice->has_test);
}

static void
on_export_choice_response (GtkDialog *dialog, int response, gpointer data)
{
  InstdiscWindow *self = INSTDISC_WINDOW (gtk_window_get_transient_for (
      GTK_WINDOW (dialog)));
  ExportChoice *choice = data;
  if (response == GTK_RESPONSE_ACCEPT && self->run)
    choose_export_folder (self, gtk_check_button_get_active (choice->recomputed),
                          gtk_check_button_get_active (choice->test));
  gtk_window_destroy (GTK_WINDOW (dialog));
}

static GtkWidget *
choice_heading (const char *text)
{
  GtkWidget *label = gtk_label_new (text);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "heading");
  return label;
}

static GtkCheckButton *
choice_button (GtkWidget *box, const char *text, const char *detail,
               GtkCheckButton *group)
{
  GtkWidget *button = gtk_check_button_new ();
  GtkWidget *labels = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *title = gtk_label_new_with_mnemonic (text);
  GtkWidget *caption = gtk_label_new (detail);
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_label_set_xalign (GTK_LABEL (caption), 0);
  gtk_label_set_wrap (GTK_LABEL (caption), TRUE);
  /* a wrapping label asks only for its longest word: without a width
   * each caption would take three narrow lines */
  gtk_label_set_width_chars (GTK_LABEL (caption), 46);
  gtk_label_set_max_width_chars (GTK_LABEL (caption), 50);
  gtk_label_set_mnemonic_widget (GTK_LABEL (title), button);
  gtk_widget_add_css_class (caption, "caption");
  gtk_widget_add_css_class (caption, "dim-label");
  gtk_box_append (GTK_BOX (labels), title);
  gtk_box_append (GTK_BOX (labels), caption);
  gtk_check_button_set_child (GTK_CHECK_BUTTON (button), labels);
  if (group)
    gtk_check_button_set_group (GTK_CHECK_BUTTON (button), group);
  gtk_box_append (GTK_BOX (box), button);
  return GTK_CHECK_BUTTON (button);
}

GtkWidget *
instdisc_window_new_export_dialog (InstdiscWindow *self)
{
  GtkWidget *dialog = g_object_new (GTK_TYPE_DIALOG,
                                    "title", _("Export Features"),
                                    "transient-for", self,
                                    "modal", TRUE,
                                    "resizable", FALSE,
                                    "use-header-bar", TRUE,
                                    NULL);
  gtk_dialog_add_button (GTK_DIALOG (dialog), _("_Cancel"),
                         GTK_RESPONSE_CANCEL);
  gtk_dialog_add_button (GTK_DIALOG (dialog), _("_Choose Folder…"),
                         GTK_RESPONSE_ACCEPT);
  gtk_dialog_set_default_response (GTK_DIALOG (dialog), GTK_RESPONSE_ACCEPT);
  GtkWidget *accept = gtk_dialog_get_widget_for_response (GTK_DIALOG (dialog),
                                                          GTK_RESPONSE_ACCEPT);
  gtk_widget_add_css_class (accept, "suggested-action");

  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_set_margin_start (box, 18);
  gtk_widget_set_margin_end (box, 18);
  gtk_widget_set_margin_top (box, 12);
  gtk_widget_set_margin_bottom (box, 18);
  gtk_box_append (GTK_BOX (gtk_dialog_get_content_area (GTK_DIALOG (dialog))),
                  box);

  ExportChoice *choice = g_new0 (ExportChoice, 1);
  choice->has_test = self->run && instdisc_run_get_test (self->run);
  gtk_box_append (GTK_BOX (box), choice_heading (_("Features")));
  choice->bank = choice_button (box, _("_Memory bank"),
                                _("What training stored for each image, as "
                                  "of the epoch it was last seen in. "
                                  "Training images only."), NULL);
  choice->recomputed = choice_button (box, _("_Recomputed"),
                                      _("Every image through the current "
                                        "network with the test transform."),
                                      choice->bank);
  GtkWidget *images = choice_heading (_("Images"));
  gtk_widget_set_margin_top (images, 12);
  gtk_box_append (GTK_BOX (box), images);
  choice->train = choice_button (box, _("_Training set"),
                                 _("The images the network learned from."),
                                 NULL);
  choice->test = choice_button (box, _("T_est set"),
                                choice->has_test
                                    ? _("Held-out images, for recomputed "
                                        "features.")
                                    : _("This data set has no test split."),
                                choice->train);
  gtk_check_button_set_active (choice->bank, TRUE);
  gtk_check_button_set_active (choice->train, TRUE);
  update_export_choice (NULL, choice);
  g_signal_connect (choice->bank, "toggled", G_CALLBACK (update_export_choice),
                    choice);
  g_object_set_data_full (G_OBJECT (dialog), "choice", choice, g_free);
  g_signal_connect (dialog, "response",
                    G_CALLBACK (on_export_choice_response), choice);
  return dialog;
}

void
instdisc_window_export_features (GtkWidget *widget, const char *action,
                                 GVariant *param)
{
  InstdiscWindow *self = INSTDISC_WINDOW (widget);
  if (!self->run)
    return;
  gtk_window_present (GTK_WINDOW (instdisc_window_new_export_dialog (self)));
}
