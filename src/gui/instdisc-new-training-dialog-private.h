/* instdisc-new-training-dialog-private.h: what the files of
 * InstdiscNewTrainingDialog share.
 *
 * The dialog is one GObject in two files:
 *   instdisc-new-training-dialog.c   the dialog: the data set, the network
 *                                    and objective, the run folder checked
 *                                    as it is typed, the estimate, Start
 *   instdisc-new-training-fields.c   the typed settings: each parsed and
 *                                    held to the trainer's rules
 *                                    (trainer_config_check_setting) with
 *                                    an error under its field, the
 *                                    recipes, and what the settings
 *                                    remember of them
 * Nothing outside these files includes this header. */
#pragma once

#include "instdisc-new-training-dialog.h"

G_BEGIN_DECLS

/* the typed settings, in the order they are checked */
typedef enum
{
  FIELD_EPOCHS,
  FIELD_BATCH_SIZE,
  FIELD_NCE_K,
  FIELD_TAU,
  FIELD_BANK_MOMENTUM,
  FIELD_LR,
  FIELD_LR_DROPS,
  FIELD_WARMUP,
  FIELD_MOMENTUM,
  FIELD_WEIGHT_DECAY,
  FIELD_CROP_MIN,
  FIELD_CROP_MAX,
  FIELD_JITTER,
  FIELD_PROXIMAL,
  FIELD_SEED,
  FIELD_IMAGE_SIZE,
  N_FIELDS
} Field;

/* the data set dropdown's entries, as the schema's DataKind */
enum { DATA_FASHION_MNIST, DATA_CIFAR, DATA_FOLDER };

struct _InstdiscNewTrainingDialog
{
  GtkDialog parent_instance;

  /* template widgets */
  GtkLabel *start_error_label;
  GtkDropDown *data_dropdown;
  GtkLabel *data_path_label;
  GtkButton *data_button;
  GtkDropDown *model_dropdown;
  GtkDropDown *objective_dropdown;
  GtkDropDown *nce_z_dropdown;
  GtkDropDown *bank_init_dropdown;
  GtkDropDown *schedule_dropdown;
  GtkEntry *run_entry;
  GtkButton *run_button;
  GtkLabel *estimate_label;
  GtkLabel *command_label;
  GtkButton *copy_command_button;
  GtkExpander *advanced_expander;
  GtkButton *default_recipe_button;
  GtkButton *reference_recipe_button;
  GtkButton *imagenet_recipe_button;
  GtkWidget *start_button;
  GtkEntry *entries[N_FIELDS];

  /* made in instdisc_new_training_dialog_init_fields: the error under
   * each field (the crop scale's two fields share one) and the run
   * folder's */
  GtkLabel *errors[N_FIELDS];
  GtkLabel *run_error;

  /* what the fields hold, as of the last check */
  TrainerConfig config;
  double numbers[N_FIELDS];     /* each field's value as typed */
  gboolean valid[N_FIELDS];     /* read by this training, parsed and
                                 * within the rules */
  gboolean automatic_drops;     /* no drop epochs typed */

  /* owned */
  char *data_folder;
  GSettings *settings;
  gboolean filling;             /* the fields are being set from code */
};

/* ---- instdisc-new-training-dialog.c ---- */

const ModelClass *instdisc_new_training_dialog_selected_model (
    InstdiscNewTrainingDialog *self);
const ObjectiveClass *instdisc_new_training_dialog_selected_objective (
    InstdiscNewTrainingDialog *self);
/* checks everything again and updates the errors, the estimate and
 * Start; the fields call it on every change */
void instdisc_new_training_dialog_revalidate (InstdiscNewTrainingDialog *self);

/* ---- instdisc-new-training-fields.c ---- */

/* binds the fields' template children (class_init) */
void instdisc_new_training_dialog_class_init_fields (GtkWidgetClass *klass);
/* the error labels and the fields' signals (init) */
void instdisc_new_training_dialog_init_fields (InstdiscNewTrainingDialog *self);
/* Parses every field into self->config (the dropdowns' choices already
 * there) and holds it to the trainer's rules for a training set of
 * n_images called data_name (0 and NULL: not known yet); shows or hides
 * each field's error. TRUE when all that this training reads is valid. */
gboolean instdisc_new_training_dialog_check_fields (
    InstdiscNewTrainingDialog *self, int n_images, const char *data_name);
/* Fills every setting, the dropdowns among them, from config (a recipe,
 * or what the settings remember). */
void instdisc_new_training_dialog_fill (InstdiscNewTrainingDialog *self,
                                        const TrainerConfig *config);
/* the typed settings from GSettings / into it (inside a delay) */
void instdisc_new_training_dialog_load_fields (InstdiscNewTrainingDialog *self);
void instdisc_new_training_dialog_save_fields (InstdiscNewTrainingDialog *self);

G_END_DECLS
