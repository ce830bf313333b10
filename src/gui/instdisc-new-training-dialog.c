/* instdisc-new-training-dialog.c: the New Training dialog. */
#define G_LOG_DOMAIN "instdisc-gui"

#include "instdisc-new-training-dialog.h"

#include <glib/gi18n.h>

#include "instdisc-file-chooser.h"
#include "instdisc-settings.h"

struct _InstdiscNewTrainingDialog
{
  GtkDialog parent_instance;

  /* template widgets */
  GtkDropDown *data_dropdown;
  GtkLabel *data_path_label;
  GtkButton *data_button;
  GtkDropDown *model_dropdown;
  GtkDropDown *objective_dropdown;
  GtkSpinButton *nce_k_spin;
  GtkSpinButton *tau_spin;
  GtkSpinButton *bank_momentum_spin;
  GtkSpinButton *lr_spin;
  GtkDropDown *schedule_dropdown;
  GtkSpinButton *epochs_spin;
  GtkSpinButton *batch_spin;
  GtkEntry *run_entry;
  GtkButton *run_button;
  GtkWidget *start_button;

  /* owned */
  char *data_folder;
  GSettings *settings;
};

G_DEFINE_FINAL_TYPE (InstdiscNewTrainingDialog, instdisc_new_training_dialog,
                     GTK_TYPE_DIALOG)

enum { DATA_FASHION_MNIST, DATA_CIFAR, DATA_FOLDER };

/* A new run folder under parent, named after the date and time as
 * `instdisc train` names one, so an existing run is never overwritten. */
static char *
new_run_dir_in (const char *parent)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%d-%H%M%S");
  return g_build_filename (parent, stamp, NULL);
}

char *
instdisc_default_run_dir (void)
{
  g_autoptr (GSettings) settings = instdisc_settings_new ();
  g_autofree char *parent = instdisc_settings_dup_run_folder_parent (settings);
  return new_run_dir_in (parent);
}

/* The dropdowns list the registries in their order, so a selected index
 * is a registry index. */
static const ModelClass *
selected_model (InstdiscNewTrainingDialog *self)
{
  guint i = gtk_drop_down_get_selected (self->model_dropdown);
  return model_registry_get (MIN (i, model_registry_size () - 1));
}

static const ObjectiveClass *
selected_objective (InstdiscNewTrainingDialog *self)
{
  guint i = gtk_drop_down_get_selected (self->objective_dropdown);
  return objective_registry_get (MIN (i, objective_registry_size () - 1));
}

static void
update_sensitivity (InstdiscNewTrainingDialog *self)
{
  guint data = gtk_drop_down_get_selected (self->data_dropdown);
  gboolean needs_folder = data != DATA_FASHION_MNIST;
  gtk_widget_set_sensitive (GTK_WIDGET (self->data_button), needs_folder);
  if (!needs_folder)
    gtk_label_set_text (self->data_path_label,
                        _("Debian’s dataset-fashion-mnist: 60,000 training and "
                          "10,000 test images"));
  else if (self->data_folder)
    {
      g_autofree char *shown = g_filename_display_name (self->data_folder);
      gtk_label_set_text (self->data_path_label, shown);
    }
  else
    gtk_label_set_text (self->data_path_label, _("No folder chosen"));
  /* K counts only for an objective that reads it */
  gtk_widget_set_sensitive (GTK_WIDGET (self->nce_k_spin),
                            objective_class_uses_setting (
                                selected_objective (self), "nce_k"));
  gtk_widget_set_sensitive (self->start_button,
                            (!needs_folder || self->data_folder)
                            && *gtk_editable_get_text (GTK_EDITABLE (self->run_entry)));
}

static void
on_changed (InstdiscNewTrainingDialog *self)
{
  update_sensitivity (self);
}

typedef void (*FolderChosen) (InstdiscNewTrainingDialog *self, const char *path);

/* what a folder chooser answers to: the dialog (referenced) and what to
 * do with the folder */
typedef struct
{
  InstdiscNewTrainingDialog *dialog;
  FolderChosen chosen;
} FolderRequest;

static void
folder_path_chosen (const char *path, gpointer data)
{
  g_autofree FolderRequest *request = data;
  if (path)
    request->chosen (request->dialog, path);
  g_object_unref (request->dialog);
}

static void
choose_folder (InstdiscNewTrainingDialog *self, const char *title,
               FolderChosen chosen)
{
  GtkFileChooserNative *chooser = instdisc_file_chooser_new (
      GTK_WIDGET (self), title, GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
      _("_Select"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  FolderRequest *request = g_new (FolderRequest, 1);
  *request = (FolderRequest) { g_object_ref (self), chosen };
  instdisc_file_chooser_choose_path (chooser, folder_path_chosen, request);
}

static void
data_folder_chosen (InstdiscNewTrainingDialog *self, const char *path)
{
  g_free (self->data_folder);
  self->data_folder = g_strdup (path);
  update_sensitivity (self);
}

static void
run_folder_chosen (InstdiscNewTrainingDialog *self, const char *path)
{
  /* a new sub-folder of the chosen one */
  g_autofree char *dir = new_run_dir_in (path);
  gtk_editable_set_text (GTK_EDITABLE (self->run_entry), dir);
}

static void
on_data_button_clicked (InstdiscNewTrainingDialog *self)
{
  choose_folder (self, _("Data Set Folder"), data_folder_chosen);
}

static void
on_run_button_clicked (InstdiscNewTrainingDialog *self)
{
  choose_folder (self, _("Where to Keep the Run"), run_folder_chosen);
}

void
instdisc_new_training_dialog_get_config (InstdiscNewTrainingDialog *self,
                                         TrainerConfig *c)
{
  trainer_config_init_default (c);
  c->model = selected_model (self);
  c->objective = selected_objective (self);
  c->nce_k = gtk_spin_button_get_value_as_int (self->nce_k_spin);
  c->tau = gtk_spin_button_get_value (self->tau_spin);
  c->bank_momentum = gtk_spin_button_get_value (self->bank_momentum_spin);
  c->lr = gtk_spin_button_get_value (self->lr_spin);
  c->epochs = gtk_spin_button_get_value_as_int (self->epochs_spin);
  c->batch_size = gtk_spin_button_get_value_as_int (self->batch_spin);
  c->schedule = gtk_drop_down_get_selected (self->schedule_dropdown) == 1
                    ? SCHEDULE_COSINE : SCHEDULE_STEP;
  /* the reference drops at epochs 120 and 160 of 200: the same fractions
   * of any length */
  c->n_lr_drops = 0;
  if (c->schedule == SCHEDULE_STEP && c->epochs >= 5)
    {
      c->lr_drops[c->n_lr_drops++] = c->epochs * 3 / 5;
      c->lr_drops[c->n_lr_drops++] = c->epochs * 4 / 5;
    }
}

const char *
instdisc_new_training_dialog_get_data_spec (InstdiscNewTrainingDialog *self)
{
  if (gtk_drop_down_get_selected (self->data_dropdown) == DATA_FASHION_MNIST)
    return "fashion-mnist";
  return self->data_folder;
}

const char *
instdisc_new_training_dialog_get_run_dir (InstdiscNewTrainingDialog *self)
{
  return gtk_editable_get_text (GTK_EDITABLE (self->run_entry));
}

void
instdisc_new_training_dialog_save_settings (InstdiscNewTrainingDialog *self)
{
  GSettings *s = self->settings;
  TrainerConfig c;
  instdisc_new_training_dialog_get_config (self, &c);
  /* one change signal for the lot */
  g_settings_delay (s);
  g_settings_set_enum (s, "training-data-kind",
                       (int) gtk_drop_down_get_selected (self->data_dropdown));
  g_settings_set_string (s, "training-data-folder",
                         self->data_folder ? self->data_folder : "");
  g_settings_set_string (s, "training-network", c.model->name);
  g_settings_set_string (s, "training-objective", c.objective->name);
  g_settings_set_enum (s, "training-schedule",
                       (int) gtk_drop_down_get_selected (self->schedule_dropdown));
  g_settings_set_int (s, "training-nce-k", c.nce_k);
  g_settings_set_double (s, "training-tau",
                         gtk_spin_button_get_value (self->tau_spin));
  g_settings_set_double (s, "training-bank-momentum",
                         gtk_spin_button_get_value (self->bank_momentum_spin));
  g_settings_set_double (s, "training-lr",
                         gtk_spin_button_get_value (self->lr_spin));
  g_settings_set_int (s, "training-epochs", c.epochs);
  g_settings_set_int (s, "training-batch-size", c.batch_size);
  /* the next run goes beside this one */
  g_autofree char *run_dir = g_canonicalize_filename (
      instdisc_new_training_dialog_get_run_dir (self), NULL);
  g_autofree char *parent = g_path_get_dirname (run_dir);
  g_settings_set_string (s, "run-folder-parent", parent);
  g_settings_apply (s);
}

/* The dialog opens with what the last training used. */
static void
load_settings (InstdiscNewTrainingDialog *self)
{
  GSettings *s = self->settings;
  gtk_drop_down_set_selected (self->data_dropdown,
                              g_settings_get_enum (s, "training-data-kind"));
  g_autofree char *folder = g_settings_get_string (s, "training-data-folder");
  if (*folder)
    self->data_folder = g_steal_pointer (&folder);
  /* names of the registries; one this version does not know (from a
   * newer version, or "small-resnet" of an older) is the default recipe's */
  TrainerConfig defaults;
  trainer_config_init_default (&defaults);
  g_autofree char *model_name = g_settings_get_string (s, "training-network");
  const ModelClass *model = model_registry_lookup (model_name);
  gtk_drop_down_set_selected (self->model_dropdown,
                              model_registry_index (model ? model
                                                          : defaults.model));
  g_autofree char *objective_name = g_settings_get_string (s,
                                                           "training-objective");
  const ObjectiveClass *objective = objective_registry_lookup (objective_name);
  gtk_drop_down_set_selected (self->objective_dropdown,
                              objective_registry_index (objective
                                                            ? objective
                                                            : defaults.objective));
  gtk_drop_down_set_selected (self->schedule_dropdown,
                              g_settings_get_enum (s, "training-schedule"));
  gtk_spin_button_set_value (self->nce_k_spin,
                             g_settings_get_int (s, "training-nce-k"));
  gtk_spin_button_set_value (self->tau_spin,
                             g_settings_get_double (s, "training-tau"));
  gtk_spin_button_set_value (self->bank_momentum_spin,
                             g_settings_get_double (s, "training-bank-momentum"));
  gtk_spin_button_set_value (self->lr_spin,
                             g_settings_get_double (s, "training-lr"));
  gtk_spin_button_set_value (self->epochs_spin,
                             g_settings_get_int (s, "training-epochs"));
  gtk_spin_button_set_value (self->batch_spin,
                             g_settings_get_int (s, "training-batch-size"));
  g_autofree char *dir = instdisc_default_run_dir ();
  gtk_editable_set_text (GTK_EDITABLE (self->run_entry), dir);
}

static void
instdisc_new_training_dialog_finalize (GObject *object)
{
  InstdiscNewTrainingDialog *self = INSTDISC_NEW_TRAINING_DIALOG (object);
  g_free (self->data_folder);
  g_clear_object (&self->settings);
  G_OBJECT_CLASS (instdisc_new_training_dialog_parent_class)->finalize (object);
}

static void
instdisc_new_training_dialog_class_init (InstdiscNewTrainingDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = instdisc_new_training_dialog_finalize;
  gtk_widget_class_set_template_from_resource (
      widget_class, "/org/instdisc/Explorer/ui/instdisc-new-training-dialog.ui");
#define BIND(name) \
  gtk_widget_class_bind_template_child (widget_class, InstdiscNewTrainingDialog, name)
  BIND (data_dropdown);
  BIND (data_path_label);
  BIND (data_button);
  BIND (model_dropdown);
  BIND (objective_dropdown);
  BIND (nce_k_spin);
  BIND (tau_spin);
  BIND (bank_momentum_spin);
  BIND (lr_spin);
  BIND (schedule_dropdown);
  BIND (epochs_spin);
  BIND (batch_spin);
  BIND (run_entry);
  BIND (run_button);
  BIND (start_button);
#undef BIND
}

/* The registries' entries for people, in the registries' order. */
static void
fill_registry_dropdowns (InstdiscNewTrainingDialog *self)
{
  g_autoptr (GtkStringList) models = gtk_string_list_new (NULL);
  for (guint i = 0; i < model_registry_size (); i++)
    {
      const ModelClass *model = model_registry_get (i);
      /* Translators: a network in the New Training dialog, its label and
       * its widths: "Small ResNet (widths 16–128)" */
      g_autofree char *text = g_strdup_printf (_("%s (%s)"),
                                               model_class_get_label (model),
                                               _(model->summary));
      gtk_string_list_append (models, text);
    }
  gtk_drop_down_set_model (self->model_dropdown, G_LIST_MODEL (models));
  g_autoptr (GtkStringList) objectives = gtk_string_list_new (NULL);
  for (guint i = 0; i < objective_registry_size (); i++)
    gtk_string_list_append (objectives,
                            objective_class_get_label (objective_registry_get (i)));
  gtk_drop_down_set_model (self->objective_dropdown, G_LIST_MODEL (objectives));
}

static void
instdisc_new_training_dialog_init (InstdiscNewTrainingDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  fill_registry_dropdowns (self);
  /* the schema's defaults are trainer_config_init_default's (a test
   * holds them together) */
  self->settings = instdisc_settings_new ();
  load_settings (self);

  g_signal_connect_swapped (self->data_dropdown, "notify::selected",
                            G_CALLBACK (on_changed), self);
  g_signal_connect_swapped (self->objective_dropdown, "notify::selected",
                            G_CALLBACK (on_changed), self);
  g_signal_connect_swapped (self->run_entry, "changed", G_CALLBACK (on_changed),
                            self);
  g_signal_connect_swapped (self->data_button, "clicked",
                            G_CALLBACK (on_data_button_clicked), self);
  g_signal_connect_swapped (self->run_button, "clicked",
                            G_CALLBACK (on_run_button_clicked), self);
  update_sensitivity (self);
}

GtkWidget *
instdisc_new_training_dialog_new (GtkWindow *parent)
{
  return g_object_new (INSTDISC_TYPE_NEW_TRAINING_DIALOG,
                       "transient-for", parent, "use-header-bar", 1, NULL);
}
