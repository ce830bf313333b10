/* instdisc-new-training-fields.c: the New Training dialog's typed
 * settings. Each is parsed as typed and held to the rules trainer_new
 * holds a configuration to (trainer_config_check_setting, so the rules
 * live in the method layer only); a value outside them is an error under
 * its field that gives the bounds, never a value changed behind the
 * person's back. */
#define G_LOG_DOMAIN "instdisc-gui"

#include "instdisc-new-training-dialog-private.h"

#include <glib/gi18n.h>
#include <inttypes.h>

typedef enum
{
  KIND_FLOAT,       /* a float field of TrainerConfig */
  KIND_INT,         /* an int field of TrainerConfig */
  KIND_SEED,        /* the guint64 seed */
  KIND_DROPS,       /* the step schedule's drop epochs, a list */
  KIND_IMAGE_SIZE,  /* an image folder's size, not in TrainerConfig */
} FieldKind;

typedef struct
{
  const char *entry;    /* the template's id */
  const char *setting;  /* trainer_config_check_setting's key */
  const char *key;      /* the GSettings key */
  FieldKind kind;
  gssize offset;        /* into TrainerConfig, or -1 */
} FieldSpec;

#define AT(field) G_STRUCT_OFFSET (TrainerConfig, field)
static const FieldSpec specs[N_FIELDS] = {
  [FIELD_EPOCHS] = { "epochs_entry", "epochs", "training-epochs", KIND_INT,
                     AT (epochs) },
  [FIELD_BATCH_SIZE] = { "batch_entry", "batch_size", "training-batch-size",
                         KIND_INT, AT (batch_size) },
  [FIELD_NCE_K] = { "nce_k_entry", "nce_k", "training-nce-k", KIND_INT,
                    AT (nce_k) },
  [FIELD_TAU] = { "tau_entry", "tau", "training-tau", KIND_FLOAT, AT (tau) },
  [FIELD_BANK_MOMENTUM] = { "bank_momentum_entry", "bank_momentum",
                            "training-bank-momentum", KIND_FLOAT,
                            AT (bank_momentum) },
  [FIELD_LR] = { "lr_entry", "lr", "training-lr", KIND_FLOAT, AT (lr) },
  [FIELD_LR_DROPS] = { "lr_drops_entry", "lr_drops", "training-lr-drops",
                       KIND_DROPS, -1 },
  [FIELD_WARMUP] = { "warmup_entry", "warmup_epochs", "training-warmup",
                     KIND_INT, AT (warmup_epochs) },
  [FIELD_MOMENTUM] = { "momentum_entry", "momentum", "training-momentum",
                       KIND_FLOAT, AT (momentum) },
  [FIELD_WEIGHT_DECAY] = { "weight_decay_entry", "weight_decay",
                           "training-weight-decay", KIND_FLOAT,
                           AT (weight_decay) },
  [FIELD_CROP_MIN] = { "crop_min_entry", "crop_scale_min",
                       "training-crop-scale-min", KIND_FLOAT,
                       AT (crop_scale_min) },
  [FIELD_CROP_MAX] = { "crop_max_entry", "crop_scale_max",
                       "training-crop-scale-max", KIND_FLOAT,
                       AT (crop_scale_max) },
  [FIELD_JITTER] = { "jitter_entry", "jitter", "training-jitter", KIND_FLOAT,
                     AT (jitter) },
  [FIELD_PROXIMAL] = { "proximal_entry", "proximal", "training-proximal",
                       KIND_FLOAT, AT (proximal) },
  [FIELD_SEED] = { "seed_entry", "seed", "training-seed", KIND_SEED,
                   AT (seed) },
  [FIELD_IMAGE_SIZE] = { "image_size_entry", "image_size",
                         "training-image-size", KIND_IMAGE_SIZE, -1 },
};
#undef AT

void
instdisc_new_training_dialog_class_init_fields (GtkWidgetClass *klass)
{
  for (int f = 0; f < N_FIELDS; f++)
    gtk_widget_class_bind_template_child_full (
        klass, specs[f].entry, FALSE,
        G_STRUCT_OFFSET (InstdiscNewTrainingDialog, entries)
            + f * (gssize) sizeof (GtkEntry *));
}

/* ---- parsing ---- */

static const char *
field_text (InstdiscNewTrainingDialog *self, Field f)
{
  return gtk_editable_get_text (GTK_EDITABLE (self->entries[f]));
}

/* A number as people type it: "0.03", "5e-4", or with the decimal comma
 * of their locale, "0,03"; the whole text or nothing. */
static gboolean
parse_number (const char *text, double *value)
{
  g_autofree char *copy = g_strstrip (g_strdup (text));
  if (!*copy)
    return FALSE;
  g_strdelimit (copy, ",", '.');
  char *end;
  *value = g_ascii_strtod (copy, &end);
  return end != copy && !*end;
}

static gboolean
parse_whole (const char *text, gint64 min, gint64 max, gint64 *value)
{
  g_autofree char *copy = g_strstrip (g_strdup (text));
  return g_ascii_string_to_signed (copy, 10, min, max, value, NULL);
}

/* "9, 12" or "120,160": up to TRAINER_MAX_LR_DROPS whole numbers */
static gboolean
parse_drops (const char *text, TrainerConfig *c)
{
  g_auto (GStrv) parts = g_strsplit (text, ",", -1);
  int n = 0;
  for (int i = 0; parts[i]; i++)
    {
      gint64 epoch;
      if (n == TRAINER_MAX_LR_DROPS
          || !parse_whole (parts[i], G_MININT, G_MAXINT, &epoch))
        return FALSE;
      c->lr_drops[n++] = (int) epoch;
    }
  c->n_lr_drops = n;
  return n > 0;
}

/* the reference drops at epochs 120 and 160 of 200: the same fractions
 * of any length (none for fewer than 5 epochs) */
static void
automatic_drops (TrainerConfig *c)
{
  c->n_lr_drops = 0;
  if (c->epochs >= 5)
    {
      c->lr_drops[c->n_lr_drops++] = c->epochs * 3 / 5;
      c->lr_drops[c->n_lr_drops++] = c->epochs * 4 / 5;
    }
}

/* Why text is no value of field f: the rule in words when the trainer
 * has one for it ("the learning rate must be in [0, 10]"). */
static char *
unparsed_message (const TrainerConfig *c, Field f, const char *text,
                  int n_images, const char *data_name)
{
  g_autofree char *stripped = g_strstrip (g_strdup (text));
  g_autofree char *rule = specs[f].kind == KIND_IMAGE_SIZE
      ? g_strdup_printf (_("the image size must be 8 to %d pixels"),
                         DATASET_MAX_IMAGE_SIZE)
      : trainer_config_describe_rule (c, specs[f].setting, n_images,
                                      data_name);
  g_autofree char *problem = NULL;
  switch (specs[f].kind)
    {
    case KIND_FLOAT:
      problem = *stripped ? g_strdup_printf (_("“%s” is not a number"),
                                             stripped)
                          : g_strdup (_("A number is needed here"));
      break;
    case KIND_DROPS:
      problem = g_strdup_printf (_("“%s” is not a list of up to %d epochs "
                                   "separated by commas"),
                                 stripped, TRAINER_MAX_LR_DROPS);
      break;
    case KIND_SEED:
      return *stripped
          ? g_strdup_printf (_("“%s” is not a whole number from 0 to %"
                               PRIu64), stripped, (uint64_t) G_MAXUINT64)
          : g_strdup_printf (_("A whole number from 0 to %" PRIu64
                               " is needed here"), (uint64_t) G_MAXUINT64);
    default:
      problem = *stripped ? g_strdup_printf (_("“%s” is not a whole number"),
                                             stripped)
                          : g_strdup (_("A whole number is needed here"));
      break;
    }
  if (!rule)
    return g_steal_pointer (&problem);
  /* Translators: why a typed value is none, then the rule it must keep:
   * "“abc” is not a number: the learning rate must be in [0, 10]" */
  return g_strdup_printf (_("%s: %s"), problem, rule);
}

/* Reads field f into c and self->numbers; FALSE when its text is no value
 * of its kind. */
static gboolean
read_field (InstdiscNewTrainingDialog *self, Field f, TrainerConfig *c)
{
  const char *text = field_text (self, f);
  const FieldSpec *spec = &specs[f];
  double number;
  gint64 whole;
  guint64 seed;
  switch (spec->kind)
    {
    case KIND_FLOAT:
      if (!parse_number (text, &number))
        return FALSE;
      self->numbers[f] = number;
      G_STRUCT_MEMBER (float, c, spec->offset) = (float) number;
      return TRUE;
    case KIND_INT:
    case KIND_IMAGE_SIZE:
      if (!parse_whole (text, G_MININT, G_MAXINT, &whole))
        return FALSE;
      self->numbers[f] = (double) whole;
      if (spec->offset >= 0)
        G_STRUCT_MEMBER (int, c, spec->offset) = (int) whole;
      return TRUE;
    case KIND_SEED:
      {
        g_autofree char *copy = g_strstrip (g_strdup (text));
        if (!g_ascii_string_to_unsigned (copy, 10, 0, G_MAXUINT64, &seed,
                                         NULL))
          return FALSE;
        c->seed = seed;
        return TRUE;
      }
    case KIND_DROPS:
      {
        g_autofree char *copy = g_strstrip (g_strdup (text));
        self->automatic_drops = !*copy;
        if (self->automatic_drops)
          {
            automatic_drops (c);
            return TRUE;
          }
        return parse_drops (copy, c);
      }
    }
  g_return_val_if_reached (FALSE);
}

/* ---- checking ---- */

/* Whether this training reads field f: NCE's K only for an objective that
 * reads it, the drop epochs only for the step schedule, the image size
 * only for an image folder. */
static gboolean
field_is_read (InstdiscNewTrainingDialog *self, Field f,
               const TrainerConfig *c)
{
  switch (f)
    {
    case FIELD_NCE_K:
      return objective_class_uses_setting (c->objective, "nce_k");
    case FIELD_LR_DROPS:
      return c->schedule == SCHEDULE_STEP;
    case FIELD_IMAGE_SIZE:
      return gtk_drop_down_get_selected (self->data_dropdown) == DATA_FOLDER;
    default:
      return TRUE;
    }
}

/* A value's problem by the rules, or NULL; c holds every parsed field. */
static char *
rule_problem (InstdiscNewTrainingDialog *self, Field f, const TrainerConfig *c,
              int n_images, const char *data_name)
{
  g_autoptr (GError) error = NULL;
  if (specs[f].kind == KIND_SEED)
    return NULL;
  if (specs[f].kind == KIND_IMAGE_SIZE)
    {
      int size = (int) self->numbers[f];
      if (!dataset_check_image_size (size, &error)
          || !trainer_config_check_input (c, 3, size, size,
                                          _("An image folder"), &error))
        return g_strdup (error->message);
      return NULL;
    }
  if (!trainer_config_check_setting (c, specs[f].setting, n_images, data_name,
                                     &error))
    return g_strdup (error->message);
  return NULL;
}

static void
show_error (InstdiscNewTrainingDialog *self, Field f, const char *message)
{
  GtkLabel *label = self->errors[f];
  if (message)
    {
      /* the trainer's messages go on after "instdisc: " on the command
       * line; under a field they start a sentence */
      g_autofree char *sentence = g_strdup (message);
      sentence[0] = g_ascii_toupper (sentence[0]);
      gtk_label_set_text (label, sentence);
      gtk_widget_add_css_class (GTK_WIDGET (self->entries[f]), "error");
    }
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->entries[f]), "error");
  gtk_widget_set_visible (GTK_WIDGET (label), message != NULL);
}

gboolean
instdisc_new_training_dialog_check_fields (InstdiscNewTrainingDialog *self,
                                           int n_images,
                                           const char *data_name)
{
  TrainerConfig *c = &self->config;
  gboolean parsed[N_FIELDS];
  /* first every value, since one rule may read another (warm-up against
   * the epochs, the drop epochs' default from them) */
  for (int f = 0; f < N_FIELDS; f++)
    if (f != FIELD_LR_DROPS)
      parsed[f] = read_field (self, f, c);
  parsed[FIELD_LR_DROPS] = read_field (self, FIELD_LR_DROPS, c);
  /* only the step schedule drops */
  if (c->schedule != SCHEDULE_STEP)
    c->n_lr_drops = 0;

  gboolean all_valid = TRUE;
  for (int f = 0; f < N_FIELDS; f++)
    {
      gboolean read = field_is_read (self, f, c);
      gtk_widget_set_sensitive (GTK_WIDGET (self->entries[f]), read);
      g_autofree char *problem = NULL;
      if (read && !parsed[f])
        problem = unparsed_message (c, f, field_text (self, f), n_images,
                                    data_name);
      else if (read)
        problem = rule_problem (self, f, c, n_images, data_name);
      self->valid[f] = read && problem == NULL;
      all_valid = all_valid && (!read || problem == NULL);
      if (f != FIELD_CROP_MAX)
        show_error (self, f, problem);
    }
  /* the crop scale's two fields have one rule and one error line: a
   * field that is no number first, then the pair's rule */
  g_autofree char *crop = NULL;
  if (!parsed[FIELD_CROP_MIN] || !parsed[FIELD_CROP_MAX])
    crop = unparsed_message (c, parsed[FIELD_CROP_MIN] ? FIELD_CROP_MAX
                                                       : FIELD_CROP_MIN,
                             field_text (self, parsed[FIELD_CROP_MIN]
                                                   ? FIELD_CROP_MAX
                                                   : FIELD_CROP_MIN),
                             n_images, data_name);
  else
    crop = rule_problem (self, FIELD_CROP_MIN, c, n_images, data_name);
  show_error (self, FIELD_CROP_MIN, crop);
  if (crop)
    gtk_widget_add_css_class (GTK_WIDGET (self->entries[FIELD_CROP_MAX]),
                              "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->entries[FIELD_CROP_MAX]),
                                 "error");
  return all_valid;
}

/* ---- the error lines ---- */

/* The grid child that holds widget (the widget or a box around it). */
static GtkWidget *
grid_child (GtkWidget *widget, GtkGrid **grid)
{
  while (!GTK_IS_GRID (gtk_widget_get_parent (widget)))
    widget = gtk_widget_get_parent (widget);
  *grid = GTK_GRID (gtk_widget_get_parent (widget));
  return widget;
}

/* A row under the field's for its error, hidden while it has none. */
static GtkLabel *
add_error_line (GtkWidget *field)
{
  GtkGrid *grid;
  GtkWidget *child = grid_child (field, &grid);
  int column, row;
  gtk_grid_query_child (grid, child, &column, &row, NULL, NULL);
  gtk_grid_insert_row (grid, row + 1);
  GtkWidget *label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 50);
  gtk_widget_add_css_class (label, "error");
  gtk_widget_add_css_class (label, "caption");
  gtk_widget_set_visible (label, FALSE);
  gtk_grid_attach (grid, label, column, row + 1, 1, 1);
  return GTK_LABEL (label);
}

static void
on_field_changed (InstdiscNewTrainingDialog *self)
{
  if (!self->filling)
    instdisc_new_training_dialog_revalidate (self);
}

void
instdisc_new_training_dialog_init_fields (InstdiscNewTrainingDialog *self)
{
  for (int f = 0; f < N_FIELDS; f++)
    {
      /* named after their settings, the errors after theirs ("lr",
       * "lr-error"), for CSS and the tests */
      gtk_widget_set_name (GTK_WIDGET (self->entries[f]), specs[f].setting);
      if (f != FIELD_CROP_MAX)
        {
          self->errors[f] = add_error_line (GTK_WIDGET (self->entries[f]));
          g_autofree char *name = g_strconcat (specs[f].setting, "-error",
                                               NULL);
          gtk_widget_set_name (GTK_WIDGET (self->errors[f]), name);
        }
      g_signal_connect_swapped (self->entries[f], "changed",
                                G_CALLBACK (on_field_changed), self);
    }
  /* one line for the pair, under both */
  self->errors[FIELD_CROP_MAX] = self->errors[FIELD_CROP_MIN];
  self->run_error = add_error_line (GTK_WIDGET (self->run_entry));
  gtk_widget_set_name (GTK_WIDGET (self->run_entry), "run");
  gtk_widget_set_name (GTK_WIDGET (self->run_error), "run-error");
  gtk_editable_set_alignment (GTK_EDITABLE (self->entries[FIELD_SEED]), 0);
}

/* ---- filling ---- */

static void
set_text (InstdiscNewTrainingDialog *self, Field f, const char *text)
{
  gtk_editable_set_text (GTK_EDITABLE (self->entries[f]), text);
}

/* "%g": 0.03, 5e-04, 0.1 for the float 0.1f */
static void
set_number (InstdiscNewTrainingDialog *self, Field f, double value)
{
  char text[G_ASCII_DTOSTR_BUF_SIZE];
  set_text (self, f, g_ascii_formatd (text, sizeof text, "%g", value));
}

static void
set_whole (InstdiscNewTrainingDialog *self, Field f, gint64 value)
{
  g_autofree char *text = g_strdup_printf ("%" G_GINT64_FORMAT, value);
  set_text (self, f, text);
}

/* empty when the drops are the automatic ones for config's length */
static char *
drops_text (const TrainerConfig *config)
{
  TrainerConfig automatic = *config;
  automatic_drops (&automatic);
  gboolean same = automatic.n_lr_drops == config->n_lr_drops;
  g_autoptr (GString) text = g_string_new (NULL);
  for (int i = 0; i < config->n_lr_drops; i++)
    {
      same = same && automatic.lr_drops[i] == config->lr_drops[i];
      g_string_append_printf (text, i ? ", %d" : "%d", config->lr_drops[i]);
    }
  return same ? g_strdup ("") : g_string_free (g_steal_pointer (&text), FALSE);
}

void
instdisc_new_training_dialog_fill (InstdiscNewTrainingDialog *self,
                                   const TrainerConfig *c)
{
  self->filling = TRUE;
  for (int f = 0; f < N_FIELDS; f++)
    {
      const FieldSpec *spec = &specs[f];
      if (spec->kind == KIND_FLOAT)
        set_number (self, f, G_STRUCT_MEMBER (float, c, spec->offset));
      else if (spec->kind == KIND_INT)
        set_whole (self, f, G_STRUCT_MEMBER (int, c, spec->offset));
    }
  g_autofree char *seed = g_strdup_printf ("%" G_GUINT64_FORMAT, c->seed);
  set_text (self, FIELD_SEED, seed);
  g_autofree char *drops = drops_text (c);
  set_text (self, FIELD_LR_DROPS, drops);
  gtk_drop_down_set_selected (self->schedule_dropdown,
                              c->schedule == SCHEDULE_COSINE ? 1 : 0);
  gtk_drop_down_set_selected (self->nce_z_dropdown,
                              c->nce_z == NCE_Z_EMA ? 1 : 0);
  gtk_drop_down_set_selected (self->bank_init_dropdown,
                              c->bank_init == BANK_INIT_FEATURES ? 1 : 0);
  self->filling = FALSE;
  instdisc_new_training_dialog_revalidate (self);
}

/* ---- what the settings remember ---- */

void
instdisc_new_training_dialog_load_fields (InstdiscNewTrainingDialog *self)
{
  GSettings *s = self->settings;
  self->filling = TRUE;
  for (int f = 0; f < N_FIELDS; f++)
    {
      const char *key = specs[f].key;
      switch (specs[f].kind)
        {
        case KIND_FLOAT:
          set_number (self, f, g_settings_get_double (s, key));
          break;
        case KIND_INT:
        case KIND_IMAGE_SIZE:
          set_whole (self, f, g_settings_get_int (s, key));
          break;
        case KIND_SEED:
          {
            g_autofree char *seed = g_strdup_printf (
                "%" G_GUINT64_FORMAT, g_settings_get_uint64 (s, key));
            set_text (self, f, seed);
          }
          break;
        case KIND_DROPS:
          {
            g_autofree char *drops = g_settings_get_string (s, key);
            set_text (self, f, drops);
          }
          break;
        }
    }
  /* the enums' values are the dropdowns' indices */
  gtk_drop_down_set_selected (self->schedule_dropdown,
                              g_settings_get_enum (s, "training-schedule"));
  gtk_drop_down_set_selected (self->nce_z_dropdown,
                              g_settings_get_enum (s, "training-nce-z"));
  gtk_drop_down_set_selected (self->bank_init_dropdown,
                              g_settings_get_enum (s, "training-bank-init"));
  self->filling = FALSE;
}

/* Called inside g_settings_delay, once the training started: every field
 * holds a valid value then. The numbers are kept as typed (0.1, not the
 * float 0.100000001). */
void
instdisc_new_training_dialog_save_fields (InstdiscNewTrainingDialog *self)
{
  GSettings *s = self->settings;
  for (int f = 0; f < N_FIELDS; f++)
    {
      const char *key = specs[f].key;
      if (!self->valid[f])
        continue;   /* not read by this training: the last one stays */
      switch (specs[f].kind)
        {
        case KIND_FLOAT:
          g_settings_set_double (s, key, self->numbers[f]);
          break;
        case KIND_INT:
        case KIND_IMAGE_SIZE:
          g_settings_set_int (s, key, (int) self->numbers[f]);
          break;
        case KIND_SEED:
          g_settings_set_uint64 (s, key, self->config.seed);
          break;
        case KIND_DROPS:
          {
            g_autofree char *text = g_strstrip (g_strdup (field_text (self,
                                                                      f)));
            g_settings_set_string (s, key, text);
          }
          break;
        }
    }
  g_settings_set_enum (s, "training-schedule",
                       (int) gtk_drop_down_get_selected (self->schedule_dropdown));
  g_settings_set_enum (s, "training-nce-z",
                       (int) gtk_drop_down_get_selected (self->nce_z_dropdown));
  g_settings_set_enum (s, "training-bank-init",
                       (int) gtk_drop_down_get_selected (self->bank_init_dropdown));
}
