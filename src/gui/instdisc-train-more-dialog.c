/* instdisc-train-more-dialog.c: Train More Epochs, the dialog. */
#define G_LOG_DOMAIN "instdisc-gui"

#include "instdisc-train-more-dialog.h"

#include <glib/gi18n.h>

#include "training-estimate.h"

struct _InstdiscTrainMoreDialog
{
  GtkDialog parent_instance;

  /* template widgets */
  GtkLabel *summary_label;
  GtkEntry *epochs_entry;
  GtkLabel *error_label;
  GtkLabel *note_label;
  GtkWidget *train_button;

  InstdiscRun *run;
  int epochs;          /* as typed, when valid */
};

G_DEFINE_FINAL_TYPE (InstdiscTrainMoreDialog, instdisc_train_more_dialog,
                     GTK_TYPE_DIALOG)

static void
show_problem (InstdiscTrainMoreDialog *self, const char *problem)
{
  gtk_label_set_text (self->error_label, problem ? problem : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), problem != NULL);
  if (problem)
    gtk_widget_add_css_class (GTK_WIDGET (self->epochs_entry), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->epochs_entry), "error");
}

/* The learning rate the run goes on with, and about how long the epochs
 * still to train take. */
static char *
describe_rest (InstdiscTrainMoreDialog *self, const TrainerConfig *longer)
{
  const Dataset *train = instdisc_run_get_train (self->run);
  const Dataset *test = instdisc_run_get_test (self->run);
  gint64 done = instdisc_run_get_steps_done (self->run);
  int steps_per_epoch = instdisc_run_get_steps_per_epoch (self->run);
  char lr[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_formatd (lr, sizeof lr, "%.3g",
                   trainer_config_lr_at (longer, done, steps_per_epoch));
  g_autofree char *rate = longer->schedule == SCHEDULE_COSINE
      ? g_strdup_printf (_("The cosine schedule stretches to the new length: "
                           "the learning rate goes on at %s and falls to 0 by "
                           "the last epoch."), lr)
      : g_strdup_printf (_("The learning rate goes on at %s."), lr);
  g_autofree char *length = training_estimate_describe (
      training_estimate_seconds (longer, train->n, test ? test->n : 0,
                                 train->height, done));
  /* Translators: the first %s says how the learning rate goes on, the
   * second is "about 50 minutes" or the like */
  return g_strdup_printf (_("%s The rest takes %s on two processor cores "
                            "(an estimate)."), rate, length);
}

static void
check (InstdiscTrainMoreDialog *self)
{
  const TrainerConfig *config = instdisc_run_get_config (self->run);
  g_autofree char *text = g_strstrip (g_strdup (
      gtk_editable_get_text (GTK_EDITABLE (self->epochs_entry))));
  gint64 epochs;
  g_autofree char *problem = NULL;
  TrainerConfig longer = *config;
  g_autoptr (GError) error = NULL;
  if (!*text)
    problem = g_strdup (_("A whole number is needed here"));
  else if (!g_ascii_string_to_signed (text, 10, G_MININT, G_MAXINT, &epochs,
                                      NULL))
    problem = g_strdup_printf (_("“%s” is not a whole number"), text);
  else if (epochs <= config->epochs)
    problem = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                            "The run has %d epoch already: "
                                            "more are needed here",
                                            "The run has %d epochs already: "
                                            "more are needed here",
                                            config->epochs),
                               config->epochs);
  else
    {
      /* the trainer's own rules for the length */
      longer.epochs = (int) epochs;
      if (!trainer_config_check_setting (&longer, "epochs", 0, NULL, &error)
          || !trainer_config_check_setting (&longer, "warmup_epochs", 0, NULL,
                                            &error))
        problem = g_strdup (error->message);
    }
  show_problem (self, problem);
  if (problem)
    gtk_label_set_text (self->note_label, "");
  else
    {
      self->epochs = (int) epochs;
      g_autofree char *note = describe_rest (self, &longer);
      gtk_label_set_text (self->note_label, note);
    }
  gtk_widget_set_sensitive (self->train_button, problem == NULL);
}


int
instdisc_train_more_dialog_get_epochs (InstdiscTrainMoreDialog *self)
{
  check (self);
  return self->epochs;
}

void
instdisc_train_more_dialog_show_error (InstdiscTrainMoreDialog *self,
                                       const char *message)
{
  check (self);
  if (message)
    show_problem (self, message);
}

static void
instdisc_train_more_dialog_dispose (GObject *object)
{
  InstdiscTrainMoreDialog *self = INSTDISC_TRAIN_MORE_DIALOG (object);
  g_clear_object (&self->run);
  gtk_widget_dispose_template (GTK_WIDGET (self),
                               INSTDISC_TYPE_TRAIN_MORE_DIALOG);
  G_OBJECT_CLASS (instdisc_train_more_dialog_parent_class)->dispose (object);
}

static void
instdisc_train_more_dialog_class_init (InstdiscTrainMoreDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = instdisc_train_more_dialog_dispose;
  gtk_widget_class_set_template_from_resource (
      widget_class, "/org/instdisc/Explorer/ui/instdisc-train-more-dialog.ui");
#define BIND(name) \
  gtk_widget_class_bind_template_child (widget_class, InstdiscTrainMoreDialog, name)
  BIND (summary_label);
  BIND (epochs_entry);
  BIND (error_label);
  BIND (note_label);
  BIND (train_button);
#undef BIND
}

static void
instdisc_train_more_dialog_init (InstdiscTrainMoreDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_swapped (self->epochs_entry, "changed",
                            G_CALLBACK (check), self);
}

GtkWidget *
instdisc_train_more_dialog_new (GtkWindow *parent, InstdiscRun *run)
{
  g_return_val_if_fail (INSTDISC_IS_RUN (run), NULL);
  InstdiscTrainMoreDialog *self = g_object_new (
      INSTDISC_TYPE_TRAIN_MORE_DIALOG, "transient-for", parent,
      "use-header-bar", 1, NULL);
  self->run = g_object_ref (run);
  const TrainerConfig *config = instdisc_run_get_config (run);
  int steps_per_epoch = MAX (instdisc_run_get_steps_per_epoch (run), 1);
  int done = (int) MIN (instdisc_run_get_steps_done (run) / steps_per_epoch,
                        (gint64) G_MAXINT);
  g_autofree char *name = g_filename_display_basename (
      instdisc_run_get_dir (run));
  g_autofree char *summary = g_strdup_printf (
      g_dngettext (GETTEXT_PACKAGE, "%s has trained %d of its %d epoch.",
                   "%s has trained %d of its %d epochs.", config->epochs),
      name, done, config->epochs);
  gtk_label_set_text (self->summary_label, summary);
  /* a third more, at least one */
  g_autofree char *more = g_strdup_printf ("%d", config->epochs
                                                     + MAX (1, config->epochs
                                                                   / 3));
  gtk_editable_set_text (GTK_EDITABLE (self->epochs_entry), more);
  check (self);
  return GTK_WIDGET (self);
}
