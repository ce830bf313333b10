/* instdisc-new-training-dialog.c: the New Training dialog: the data set,
 * the network and the objective, the run folder checked as it is typed,
 * how long the training will take, and Start. The typed settings are in
 * instdisc-new-training-fields.c. */
#define G_LOG_DOMAIN "instdisc-gui"

#include "instdisc-new-training-dialog-private.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "instdisc-file-chooser.h"
#include "instdisc-settings.h"
#include "run-dir.h"
#include "trainer-run.h"
#include "training-estimate.h"

G_DEFINE_FINAL_TYPE (InstdiscNewTrainingDialog, instdisc_new_training_dialog,
                     GTK_TYPE_DIALOG)


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
const ModelClass *
instdisc_new_training_dialog_selected_model (InstdiscNewTrainingDialog *self)
{
  guint i = gtk_drop_down_get_selected (self->model_dropdown);
  return model_registry_get (MIN (i, model_registry_size () - 1));
}

const ObjectiveClass *
instdisc_new_training_dialog_selected_objective (InstdiscNewTrainingDialog *self)
{
  guint i = gtk_drop_down_get_selected (self->objective_dropdown);
  return objective_registry_get (MIN (i, objective_registry_size () - 1));
}

static guint
data_kind (InstdiscNewTrainingDialog *self)
{
  return gtk_drop_down_get_selected (self->data_dropdown);
}

/* ---- the run folder ---- */

/* Why a new run cannot go into path, or NULL: it must not hold a run
 * (instdisc_run_new_training would refuse it after the data loaded), not
 * be a file, and the nearest folder that exists must be writable. */
static char *
run_folder_problem (const char *path)
{
  if (!*path)
    return g_strdup (_("The run needs a folder"));
  g_autofree char *config = run_dir_file (path, RUN_CONFIG_FILE);
  if (g_file_test (config, G_FILE_TEST_EXISTS))
    return g_strdup (_("This folder already holds a run: open it with Open "
                       "Run to continue it, or choose another folder"));
  g_autofree char *existing = g_canonicalize_filename (path, NULL);
  while (!g_file_test (existing, G_FILE_TEST_EXISTS))
    {
      char *parent = g_path_get_dirname (existing);
      g_free (existing);
      existing = parent;
    }
  g_autofree char *shown = g_filename_display_name (existing);
  if (!g_file_test (existing, G_FILE_TEST_IS_DIR))
    return g_strdup_printf (_("%s is a file, not a folder"), shown);
  if (g_access (existing, W_OK | X_OK) != 0)
    return g_strdup_printf (_("%s cannot be written to"), shown);
  return NULL;
}

static gboolean
check_run_folder (InstdiscNewTrainingDialog *self)
{
  g_autofree char *problem = run_folder_problem (
      instdisc_new_training_dialog_get_run_dir (self));
  gtk_label_set_text (self->run_error, problem ? problem : "");
  gtk_widget_set_visible (GTK_WIDGET (self->run_error), problem != NULL);
  if (problem)
    gtk_widget_add_css_class (GTK_WIDGET (self->run_entry), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->run_entry), "error");
  return problem == NULL;
}

/* ---- the data set ---- */

/* what the data set label says; FALSE when a folder is still missing */
static gboolean
update_data_label (InstdiscNewTrainingDialog *self)
{
  gboolean needs_folder = data_kind (self) != DATA_FASHION_MNIST;
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
  return !needs_folder || self->data_folder;
}

/* The training set's size, name and image side where they are fixed;
 * 0, NULL and the image size field's value for a folder. */
static void
data_shape (InstdiscNewTrainingDialog *self, int *n_train, int *n_test,
            const char **name, int *side)
{
  switch (data_kind (self))
    {
    case DATA_FASHION_MNIST:
      *n_train = FASHION_MNIST_TRAIN;
      *n_test = FASHION_MNIST_TEST;
      *name = "fashion-mnist/train";
      *side = FASHION_MNIST_SIDE;
      return;
    case DATA_CIFAR:
      *n_train = CIFAR_TRAIN;
      *n_test = CIFAR_TEST;
      *name = NULL;
      *side = CIFAR_SIDE;
      return;
    default:
      *n_train = *n_test = 0;
      *name = NULL;
      *side = instdisc_new_training_dialog_get_image_size (self);
      return;
    }
}

/* ---- how long it takes ---- */

static void
update_estimate (InstdiscNewTrainingDialog *self, gboolean valid)
{
  int n_train, n_test, side;
  const char *name;
  data_shape (self, &n_train, &n_test, &name, &side);
  if (!valid)
    {
      gtk_label_set_text (self->estimate_label,
                          _("How long the training takes is said once every "
                            "setting is valid."));
      return;
    }
  g_autofree char *text = NULL;
  if (n_train > 0)
    {
      g_autofree char *length = training_estimate_describe (
          training_estimate_seconds (&self->config, n_train, n_test, side, 0));
      /* Translators: %s is "about 50 minutes" or the like */
      text = g_strdup_printf (_("Training takes %s on two processor cores: "
                                "an estimate, from the speeds measured on the "
                                "project’s machine."), length);
    }
  else
    {
      /* a folder's size is known once it is loaded: per 10,000 images */
      g_autofree char *length = training_estimate_describe (
          training_estimate_seconds (&self->config, 10000, 0, side, 0));
      /* Translators: %s is "about 50 minutes" or the like */
      text = g_strdup_printf (_("Training takes %s for every 10,000 images "
                                "of the folder on two processor cores: an "
                                "estimate, from the speeds measured on the "
                                "project’s machine."), length);
    }
  g_autofree char *kernels_note = training_estimate_kernels_note ();
  g_autofree char *with_note = NULL;
  if (kernels_note)
    /* Translators: the estimate, then why training will take longer
     * (a sentence without its final stop) */
    with_note = g_strdup_printf (_("%s %s."), text, kernels_note);
  gtk_label_set_text (self->estimate_label, with_note ? with_note : text);
}

/* ---- the same from a terminal ---- */

/* the settings as `mpirun -n 2 instdisc train ...` (trainer-run.h), two
 * ranks when the batch splits evenly, else one process */
static void
update_command_line (InstdiscNewTrainingDialog *self)
{
  const char *spec = instdisc_new_training_dialog_get_data_spec (self);
  const char *run = instdisc_new_training_dialog_get_run_dir (self);
  const int ranks = self->config.batch_size % 2 == 0 ? 2 : 1;
  g_autofree char *line = trainer_run_command_line (
      &self->config, spec ? spec : _("DATA"), *run ? run : _("DIR"),
      instdisc_new_training_dialog_get_image_size (self), ranks);
  gtk_label_set_text (self->command_label, line);
}

static void
on_copy_command (InstdiscNewTrainingDialog *self)
{
  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)),
                          gtk_label_get_text (self->command_label));
}

/* ---- checking everything ---- */

void
instdisc_new_training_dialog_revalidate (InstdiscNewTrainingDialog *self)
{
  if (self->filling)
    return;
  TrainerConfig *c = &self->config;
  trainer_config_init_default (c);
  c->model = instdisc_new_training_dialog_selected_model (self);
  c->objective = instdisc_new_training_dialog_selected_objective (self);
  c->schedule = gtk_drop_down_get_selected (self->schedule_dropdown) == 1
                    ? SCHEDULE_COSINE : SCHEDULE_STEP;
  c->nce_z = gtk_drop_down_get_selected (self->nce_z_dropdown) == 1
                 ? NCE_Z_EMA : NCE_Z_FIXED;
  c->bank_init = gtk_drop_down_get_selected (self->bank_init_dropdown) == 1
                     ? BANK_INIT_FEATURES : BANK_INIT_RANDOM;
  int n_train, n_test, side;
  const char *name;
  data_shape (self, &n_train, &n_test, &name, &side);
  gboolean fields = instdisc_new_training_dialog_check_fields (self, n_train,
                                                               name);
  gboolean data = update_data_label (self);
  gboolean folder = check_run_folder (self);
  /* NCE's normaliser, like its K, counts only for an objective that
   * reads it */
  gtk_widget_set_sensitive (GTK_WIDGET (self->nce_z_dropdown),
                            objective_class_uses_setting (c->objective,
                                                          "nce_z"));
  update_estimate (self, fields);
  update_command_line (self);
  gtk_widget_set_sensitive (self->start_button, fields && data && folder);
}

gboolean
instdisc_new_training_dialog_is_valid (InstdiscNewTrainingDialog *self)
{
  instdisc_new_training_dialog_revalidate (self);
  return gtk_widget_get_sensitive (self->start_button);
}

/* ---- choosing folders ---- */

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
  instdisc_new_training_dialog_revalidate (self);
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

/* ---- the recipes ---- */

static void
fill_recipe (InstdiscNewTrainingDialog *self, TrainerRecipe recipe)
{
  TrainerConfig c;
  trainer_config_init_recipe (&c, recipe);
  /* the network and the objective stay as chosen above */
  c.model = instdisc_new_training_dialog_selected_model (self);
  c.objective = instdisc_new_training_dialog_selected_objective (self);
  instdisc_new_training_dialog_fill (self, &c);
}

static void
on_default_recipe (InstdiscNewTrainingDialog *self)
{
  fill_recipe (self, TRAINER_RECIPE_DEFAULT);
}

static void
on_reference_recipe (InstdiscNewTrainingDialog *self)
{
  fill_recipe (self, TRAINER_RECIPE_REFERENCE);
}

/* The ImageNet recipe is a network and an objective too: ResNet-18 with
 * the ImageNet stem (ResNet-50 stays when it is chosen) and NCE, as
 * `instdisc train --recipe imagenet` takes them, and a folder's images at
 * the recipe's 224 pixels. */
static void
on_imagenet_recipe (InstdiscNewTrainingDialog *self)
{
  TrainerConfig c;
  trainer_config_init_recipe (&c, TRAINER_RECIPE_IMAGENET);
  const ModelClass *chosen = instdisc_new_training_dialog_selected_model (self);
  if (g_str_has_suffix (chosen->name, "-imagenet"))
    c.model = chosen;
  gtk_drop_down_set_selected (self->model_dropdown,
                              model_registry_index (c.model));
  gtk_drop_down_set_selected (self->objective_dropdown,
                              objective_registry_index (c.objective));
  instdisc_new_training_dialog_fill (self, &c);
  g_autofree char *size = g_strdup_printf ("%d", TRAINER_IMAGENET_IMAGE_SIZE);
  gtk_editable_set_text (GTK_EDITABLE (self->entries[FIELD_IMAGE_SIZE]), size);
}

/* ---- what the dialog gives ---- */

void
instdisc_new_training_dialog_get_config (InstdiscNewTrainingDialog *self,
                                         TrainerConfig *c)
{
  instdisc_new_training_dialog_revalidate (self);
  *c = self->config;
}

const char *
instdisc_new_training_dialog_get_data_spec (InstdiscNewTrainingDialog *self)
{
  if (data_kind (self) == DATA_FASHION_MNIST)
    return "fashion-mnist";
  return self->data_folder;
}

int
instdisc_new_training_dialog_get_image_size (InstdiscNewTrainingDialog *self)
{
  gint64 size;
  const char *text = gtk_editable_get_text (
      GTK_EDITABLE (self->entries[FIELD_IMAGE_SIZE]));
  if (data_kind (self) == DATA_FOLDER
      && g_ascii_string_to_signed (text, 10, 1, G_MAXINT, &size, NULL))
    return (int) size;
  DatasetOptions defaults;
  dataset_options_init_default (&defaults);
  return defaults.image_size;
}

const char *
instdisc_new_training_dialog_get_run_dir (InstdiscNewTrainingDialog *self)
{
  return gtk_editable_get_text (GTK_EDITABLE (self->run_entry));
}

void
instdisc_new_training_dialog_show_start_error (InstdiscNewTrainingDialog *self,
                                               const char *message)
{
  if (message)
    {
      /* Translators: why the training could not start */
      g_autofree char *text = g_strdup_printf (_("The training did not "
                                                 "start: %s"), message);
      gtk_label_set_text (self->start_error_label, text);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->start_error_label),
                          message != NULL);
  /* the message may be about the run folder, which may have changed */
  instdisc_new_training_dialog_revalidate (self);
}

/* ---- what the settings remember ---- */

void
instdisc_new_training_dialog_save_settings (InstdiscNewTrainingDialog *self)
{
  GSettings *s = self->settings;
  TrainerConfig c;
  instdisc_new_training_dialog_get_config (self, &c);
  /* one change signal for the lot */
  g_settings_delay (s);
  g_settings_set_enum (s, "training-data-kind", (int) data_kind (self));
  g_settings_set_string (s, "training-data-folder",
                         self->data_folder ? self->data_folder : "");
  g_settings_set_string (s, "training-network", c.model->name);
  g_settings_set_string (s, "training-objective", c.objective->name);
  instdisc_new_training_dialog_save_fields (self);
  /* the next run goes beside this one */
  g_autofree char *run_dir = g_canonicalize_filename (
      instdisc_new_training_dialog_get_run_dir (self), NULL);
  g_autofree char *parent = g_path_get_dirname (run_dir);
  g_settings_set_string (s, "run-folder-parent", parent);
  g_settings_apply (s);
}

/* The dialog opens with what the last training that started used. */
static void
load_settings (InstdiscNewTrainingDialog *self)
{
  GSettings *s = self->settings;
  self->filling = TRUE;
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
  g_autofree char *dir = instdisc_default_run_dir ();
  gtk_editable_set_text (GTK_EDITABLE (self->run_entry), dir);
  self->filling = FALSE;
  instdisc_new_training_dialog_load_fields (self);
}

/* ---- the object ---- */

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
  BIND (start_error_label);
  BIND (data_dropdown);
  BIND (data_path_label);
  BIND (data_button);
  BIND (model_dropdown);
  BIND (objective_dropdown);
  BIND (nce_z_dropdown);
  BIND (bank_init_dropdown);
  BIND (schedule_dropdown);
  BIND (run_entry);
  BIND (run_button);
  BIND (estimate_label);
  BIND (command_label);
  BIND (copy_command_button);
  BIND (advanced_expander);
  BIND (default_recipe_button);
  BIND (reference_recipe_button);
  BIND (imagenet_recipe_button);
  BIND (start_button);
#undef BIND
  instdisc_new_training_dialog_class_init_fields (widget_class);
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
  instdisc_new_training_dialog_init_fields (self);
  /* the schema's defaults are trainer_config_init_default's (a test
   * holds them together) */
  self->settings = instdisc_settings_new ();
  load_settings (self);

  GtkDropDown *dropdowns[] = { self->data_dropdown, self->model_dropdown,
                               self->objective_dropdown, self->nce_z_dropdown,
                               self->bank_init_dropdown,
                               self->schedule_dropdown };
  /* named as the fields are, after what they set */
  const char *names[] = { "data", "model", "objective", "nce_z", "bank_init",
                          "schedule" };
  for (gsize i = 0; i < G_N_ELEMENTS (dropdowns); i++)
    {
      gtk_widget_set_name (GTK_WIDGET (dropdowns[i]), names[i]);
      g_signal_connect_swapped (dropdowns[i], "notify::selected",
                                G_CALLBACK (instdisc_new_training_dialog_revalidate),
                                self);
    }
  gtk_widget_set_name (GTK_WIDGET (self->estimate_label), "estimate");
  gtk_widget_set_name (GTK_WIDGET (self->command_label), "command-line");
  g_signal_connect_swapped (self->copy_command_button, "clicked",
                            G_CALLBACK (on_copy_command), self);
  gtk_widget_set_name (GTK_WIDGET (self->start_error_label), "start-error");
  g_signal_connect_swapped (self->run_entry, "changed",
                            G_CALLBACK (instdisc_new_training_dialog_revalidate),
                            self);
  g_signal_connect_swapped (self->data_button, "clicked",
                            G_CALLBACK (on_data_button_clicked), self);
  g_signal_connect_swapped (self->run_button, "clicked",
                            G_CALLBACK (on_run_button_clicked), self);
  g_signal_connect_swapped (self->default_recipe_button, "clicked",
                            G_CALLBACK (on_default_recipe), self);
  g_signal_connect_swapped (self->reference_recipe_button, "clicked",
                            G_CALLBACK (on_reference_recipe), self);
  g_signal_connect_swapped (self->imagenet_recipe_button, "clicked",
                            G_CALLBACK (on_imagenet_recipe), self);
  instdisc_new_training_dialog_revalidate (self);
}

GtkWidget *
instdisc_new_training_dialog_new (GtkWindow *parent)
{
  return g_object_new (INSTDISC_TYPE_NEW_TRAINING_DIALOG,
                       "transient-for", parent, "use-header-bar", 1, NULL);
}
