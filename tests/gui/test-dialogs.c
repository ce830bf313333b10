/* test-dialogs.c: what stands between a person and a training, under Xvfb
 * with the build tree's schema in a memory backend.
 *   /dialogs/new-training/typed-values   every typed value is held to the
 *                           trainer's rules as it is typed: "abc" for the
 *                           learning rate is an error under the field that
 *                           gives the bounds and Start is insensitive, a
 *                           valid value clears it; tau 0 is an error, never
 *                           0.01; each Advanced setting likewise; the
 *                           estimate follows the epochs and the network,
 *                           the command line to copy every setting
 *   /dialogs/new-training/run-folder   a folder that holds a run, or a
 *                           file, is an error under the run folder before
 *                           Start
 *   /dialogs/new-training/refused-start   a start refused after the dialog
 *                           closed (the data cannot be read) brings the
 *                           dialog back with the reason and everything as
 *                           typed, and changes no remembered setting nor
 *                           the folder for new runs
 *   /dialogs/new-training/started   a training that started is remembered:
 *                           its settings and its folder's parent
 *   /dialogs/confirm/stop   Open Run, New Training and closing the window
 *                           ask before they stop a training: Cancel keeps
 *                           it training; Stop stops it after a checkpoint
 *                           of its last step and opens the other run
 *   /dialogs/train-more     a finished run is given more epochs: the play
 *                           button asks how many, no more than it has is
 *                           an error, config.ini gets the new number, and
 *                           training continues from the checkpoint to the
 *                           new end */
#define G_LOG_DOMAIN "instdisc-gui"

#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <string.h>

#include "instdisc-new-training-dialog.h"
#include "instdisc-retrievals-view.h"
#include "instdisc-settings.h"
#include "instdisc-train-more-dialog.h"
#include "instdisc-window.h"
#include "run-dir.h"
#include "trainer-run.h"

#include "gui-testutil.h"
#include "test-data.h"

#define N_IMAGES 96

static char *workdir;

static void
iterate_a_little (void)
{
  for (int i = 0; i < 30; i++)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

static GSettings *
fresh_settings (void)
{
  GSettings *settings = instdisc_settings_new ();
  g_autoptr (GSettingsSchema) schema = NULL;
  g_object_get (settings, "settings-schema", &schema, NULL);
  g_auto (GStrv) keys = g_settings_schema_list_keys (schema);
  for (guint i = 0; keys[i]; i++)
    g_settings_reset (settings, keys[i]);
  return settings;
}

static char *
work_path (const char *name)
{
  return g_build_filename (workdir, name, NULL);
}

static TrainerConfig
tiny_config (int epochs)
{
  TrainerConfig c;
  trainer_config_init_default (&c);
  c.batch_size = 16;   /* 6 steps per epoch */
  c.epochs = epochs;
  return c;
}

/* ---- finding widgets ---- */

/* Advanced's settings are in the widget tree only while it is open */
static void
open_advanced (GtkWidget *dialog)
{
  GtkWidget *expander = find_by_type (dialog, GTK_TYPE_EXPANDER);
  g_assert_nonnull (expander);
  gtk_expander_set_expanded (GTK_EXPANDER (expander), TRUE);
}

static void
type_into (GtkWidget *dialog, const char *field, const char *text)
{
  open_advanced (dialog);
  GtkWidget *entry = find_by_name (dialog, field);
  g_assert_nonnull (entry);
  gtk_editable_set_text (GTK_EDITABLE (entry), text);
}

/* the error under a field, or NULL while it has none */
static const char *
error_under (GtkWidget *dialog, const char *field)
{
  open_advanced (dialog);
  g_autofree char *name = g_strconcat (field, "-error", NULL);
  GtkWidget *label = find_by_name (dialog, name);
  g_assert_nonnull (label);
  return gtk_widget_get_visible (label) ? gtk_label_get_text (GTK_LABEL (label))
                                        : NULL;
}

static void
assert_error_has (GtkWidget *dialog, const char *field, const char *part)
{
  const char *error = error_under (dialog, field);
  if (!error || !strstr (error, part))
    g_error ("the error under %s is “%s”, without “%s”", field,
             error ? error : "(none)", part);
}

static void
select_in (GtkWidget *dialog, const char *dropdown, guint position)
{
  open_advanced (dialog);
  GtkWidget *widget = find_by_name (dialog, dropdown);
  g_assert_nonnull (widget);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (widget), position);
}

/* the visible toplevel of type, or NULL */
static GtkWidget *
find_toplevel (GType type)
{
  GListModel *toplevels = gtk_window_get_toplevels ();
  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GtkWidget) window = g_list_model_get_item (toplevels, i);
      if (G_TYPE_CHECK_INSTANCE_TYPE (window, type)
          && gtk_widget_get_visible (window))
        return window;
    }
  return NULL;
}

static gboolean
question_shown (gpointer data)
{
  return find_toplevel (GTK_TYPE_MESSAGE_DIALOG) != NULL;
}

/* the question before a training stops: its window, after checking it
 * is over parent and names the run */
static GtkDialog *
the_question (GtkWindow *parent, const char *run_name)
{
  iterate_until (question_shown, NULL, 10);
  GtkWidget *question = find_toplevel (GTK_TYPE_MESSAGE_DIALOG);
  g_assert_true (gtk_window_get_transient_for (GTK_WINDOW (question))
                 == parent);
  g_autofree char *text = NULL;
  g_object_get (question, "text", &text, NULL);
  g_assert_nonnull (strstr (text, run_name));
  return GTK_DIALOG (question);
}

/* ---- New Training ---- */

static gboolean
dialog_is_valid (GtkWidget *dialog)
{
  return instdisc_new_training_dialog_is_valid (
      INSTDISC_NEW_TRAINING_DIALOG (dialog));
}

static void
test_typed_values (void)
{
  g_autoptr (GSettings) s = fresh_settings ();
  GtkWidget *dialog = instdisc_new_training_dialog_new (NULL);
  InstdiscNewTrainingDialog *d = INSTDISC_NEW_TRAINING_DIALOG (dialog);
  gtk_window_present (GTK_WINDOW (dialog));
  iterate_a_little ();
  g_assert_true (dialog_is_valid (dialog));
  g_assert_null (error_under (dialog, "lr"));

  /* the two: nothing clamped, the bounds said */
  type_into (dialog, "lr", "abc");
  assert_error_has (dialog, "lr", "“abc” is not a number");
  assert_error_has (dialog, "lr", "[0, 10]");
  g_assert_false (dialog_is_valid (dialog));
  type_into (dialog, "lr", "0.05");
  g_assert_null (error_under (dialog, "lr"));
  g_assert_true (dialog_is_valid (dialog));
  TrainerConfig c;
  instdisc_new_training_dialog_get_config (d, &c);
  g_assert_cmpfloat (c.lr, ==, 0.05f);
  type_into (dialog, "tau", "0");
  assert_error_has (dialog, "tau", "(0, 10], not 0");
  g_assert_false (dialog_is_valid (dialog));
  instdisc_new_training_dialog_get_config (d, &c);
  g_assert_cmpfloat (c.tau, ==, 0.0f);   /* as typed, not 0.01 */
  type_into (dialog, "tau", "0,07");      /* a decimal comma */
  g_assert_null (error_under (dialog, "tau"));
  instdisc_new_training_dialog_get_config (d, &c);
  g_assert_cmpfloat (c.tau, ==, 0.07f);

  /* each kind of rule, and back to valid */
  const struct { const char *field, *bad, *says, *good; } cases[] = {
    { "epochs", "", "A whole number is needed", "15" },
    { "epochs", "2.5", "not a whole number", "15" },
    { "epochs", "0", "at least 1", "15" },
    { "batch_size", "1", "2 to the 60000 images", "128" },
    { "batch_size", "70000", "2 to the 60000 images", "128" },
    { "warmup_epochs", "20", "0 to 15 epochs, not 20", "0" },
    { "bank_momentum", "1", "[0, 1)", "0.5" },
    { "momentum", "-0.1", "[0, 1)", "0.9" },
    { "weight_decay", "2", "[0, 1]", "5e-4" },
    { "jitter", "nan", "[0, 1]", "0.4" },
    { "proximal", "1e7", "[0, 1e6]", "0" },
    { "seed", "-1", "from 0 to", "7" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      type_into (dialog, cases[i].field, cases[i].bad);
      assert_error_has (dialog, cases[i].field, cases[i].says);
      g_assert_false (dialog_is_valid (dialog));
      type_into (dialog, cases[i].field, cases[i].good);
      g_assert_null (error_under (dialog, cases[i].field));
      g_assert_true (dialog_is_valid (dialog));
    }
  instdisc_new_training_dialog_get_config (d, &c);
  g_assert_cmpuint (c.seed, ==, 7);
  g_assert_cmpfloat (c.weight_decay, ==, 5e-4f);

  /* the crop scale's pair, one line under both */
  type_into (dialog, "crop_scale_min", "0.9");
  type_into (dialog, "crop_scale_max", "0.5");
  assert_error_has (dialog, "crop_scale_min", "MIN <= MAX");
  g_assert_false (dialog_is_valid (dialog));
  type_into (dialog, "crop_scale_max", "1");
  g_assert_true (dialog_is_valid (dialog));

  /* NCE's K counts only for NCE */
  type_into (dialog, "nce_k", "0");
  g_assert_true (dialog_is_valid (dialog));
  g_assert_false (gtk_widget_get_sensitive (find_by_name (dialog, "nce_k")));
  select_in (dialog, "objective",
             objective_registry_index (objective_registry_lookup ("nce")));
  assert_error_has (dialog, "nce_k", "K");
  g_assert_false (dialog_is_valid (dialog));
  type_into (dialog, "nce_k", "70000");
  assert_error_has (dialog, "nce_k", "60000");
  type_into (dialog, "nce_k", "4096");
  g_assert_true (dialog_is_valid (dialog));

  /* the drop epochs count only for the step schedule; empty is 3/5 and
   * 4/5 of the epochs */
  type_into (dialog, "lr_drops", "9, x");
  g_assert_true (dialog_is_valid (dialog));
  select_in (dialog, "schedule", 0);
  assert_error_has (dialog, "lr_drops", "not a list");
  type_into (dialog, "lr_drops", "9, 3");
  assert_error_has (dialog, "lr_drops", "increasing order");
  type_into (dialog, "lr_drops", "");
  g_assert_true (dialog_is_valid (dialog));
  instdisc_new_training_dialog_get_config (d, &c);
  g_assert_cmpint (c.n_lr_drops, ==, 2);
  g_assert_cmpint (c.lr_drops[0], ==, 9);
  g_assert_cmpint (c.lr_drops[1], ==, 12);

  /* the estimate follows the length and the network */
  GtkWidget *estimate = find_by_name (dialog, "estimate");
  g_autofree char *fifteen = g_strdup (gtk_label_get_text (GTK_LABEL (estimate)));
  g_assert_nonnull (strstr (fifteen, "about"));
  g_assert_nonnull (strstr (fifteen, "estimate"));
  type_into (dialog, "epochs", "60");
  g_autofree char *sixty = g_strdup (gtk_label_get_text (GTK_LABEL (estimate)));
  g_assert_cmpstr (fifteen, !=, sixty);
  select_in (dialog, "model",
             model_registry_index (model_registry_lookup ("resnet18")));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (estimate)), !=, sixty);

  /* the command line to copy follows the settings: two ranks under
   * mpirun, and each changed setting as its option */
  gtk_expander_set_expanded (
      GTK_EXPANDER (find_by_name (dialog, "command-expander")), TRUE);
  const char *command = gtk_label_get_text (
      GTK_LABEL (find_by_name (dialog, "command-line")));
  g_assert_true (g_str_has_prefix (command, "mpirun -n 2 instdisc train "
                                            "--data fashion-mnist --run "));
  g_assert_nonnull (strstr (command, " --model resnet18"));
  g_assert_nonnull (strstr (command, " --objective nce"));
  g_assert_nonnull (strstr (command, " --epochs 60"));

  /* an image folder's size: the data set's bounds and the network's */
  select_in (dialog, "data", 2);
  type_into (dialog, "image_size", "8000");
  assert_error_has (dialog, "image_size", "8 to 512");
  type_into (dialog, "image_size", "16");
  assert_error_has (dialog, "image_size", "too small");
  type_into (dialog, "image_size", "64");
  g_assert_null (error_under (dialog, "image_size"));
  g_assert_cmpint (instdisc_new_training_dialog_get_image_size (d), ==, 64);
  gtk_window_destroy (GTK_WINDOW (dialog));
}

static void
test_run_folder (void)
{
  g_autoptr (GSettings) s = fresh_settings ();
  GtkWidget *dialog = instdisc_new_training_dialog_new (NULL);
  gtk_window_present (GTK_WINDOW (dialog));
  iterate_a_little ();
  g_autofree char *run = work_path ("holds-a-run");
  g_assert_cmpint (g_mkdir_with_parents (run, 0755), ==, 0);
  g_autofree char *config = run_dir_file (run, RUN_CONFIG_FILE);
  g_assert_true (g_file_set_contents (config, "[training]\n", -1, NULL));
  type_into (dialog, "run", run);
  assert_error_has (dialog, "run", "already holds a run");
  g_assert_false (dialog_is_valid (dialog));

  g_autofree char *inside = g_build_filename (run, "next", NULL);
  type_into (dialog, "run", inside);
  g_assert_null (error_under (dialog, "run"));
  g_assert_true (dialog_is_valid (dialog));

  type_into (dialog, "run", config);
  assert_error_has (dialog, "run", "is a file");
  type_into (dialog, "run", "");
  g_assert_nonnull (error_under (dialog, "run"));
  g_assert_false (dialog_is_valid (dialog));
  gtk_window_destroy (GTK_WINDOW (dialog));
}

static gboolean
start_error_shown (gpointer data)
{
  GtkWidget *label = find_by_name (data, "start-error");
  return gtk_widget_get_visible (data) && gtk_widget_get_visible (label);
}

static void
test_refused_start (void)
{
  g_autoptr (GSettings) s = fresh_settings ();
  /* a folder without a data set: the start fails once the dialog is
   * gone, as it loads the images */
  g_autofree char *empty = work_path ("no-data");
  g_assert_cmpint (g_mkdir_with_parents (empty, 0755), ==, 0);
  g_settings_set_enum (s, "training-data-kind", 1);
  g_settings_set_string (s, "training-data-folder", empty);

  InstdiscWindow *window = instdisc_window_new (NULL);
  gtk_window_present (GTK_WINDOW (window));
  instdisc_window_present_new_training (window);
  iterate_a_little ();
  GtkWidget *dialog = find_toplevel (INSTDISC_TYPE_NEW_TRAINING_DIALOG);
  g_assert_nonnull (dialog);
  type_into (dialog, "lr", "0.07");
  type_into (dialog, "epochs", "3");
  g_autofree char *run = work_path ("refused/run-1");
  type_into (dialog, "run", run);
  g_assert_true (dialog_is_valid (dialog));
  gtk_dialog_response (GTK_DIALOG (dialog), GTK_RESPONSE_ACCEPT);
  iterate_until (start_error_shown, dialog, 60);

  /* back as it was typed, with the reason */
  GtkWidget *reason = find_by_name (dialog, "start-error");
  g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (reason)),
                            "did not start"));
  g_assert_cmpstr (gtk_editable_get_text (
                       GTK_EDITABLE (find_by_name (dialog, "lr"))), ==, "0.07");
  /* and nothing remembered of it */
  g_assert_cmpfloat (g_settings_get_double (s, "training-lr"), ==, 0.06);
  g_assert_cmpint (g_settings_get_int (s, "training-epochs"), ==, 15);
  g_autofree char *parent = g_settings_get_string (s, "run-folder-parent");
  g_assert_cmpstr (parent, ==, "");
  g_auto (GStrv) recent = g_settings_get_strv (s, "recent-runs");
  g_assert_cmpuint (g_strv_length (recent), ==, 0);
  g_assert_null (instdisc_window_get_run (window));
  gtk_window_destroy (GTK_WINDOW (dialog));
  gtk_window_destroy (GTK_WINDOW (window));
}

static gboolean
window_shows_run (gpointer data)
{
  return g_strcmp0 (instdisc_window_get_page (data), "views") == 0
         && instdisc_window_get_run (data) != NULL;
}

static gboolean
run_is_stopped (gpointer data)
{
  return instdisc_run_get_state (data) == INSTDISC_RUN_STOPPED;
}

static gboolean
retrievals_idle (gpointer data)
{
  return !instdisc_retrievals_view_is_busy (data);
}

/* stops the window's run and closes the window once its workers are
 * done */
static void
close_run_window (InstdiscWindow *window)
{
  InstdiscRun *run = instdisc_window_get_run (window);
  if (run && (instdisc_run_get_state (run) == INSTDISC_RUN_RUNNING
              || instdisc_run_get_state (run) == INSTDISC_RUN_PAUSED))
    {
      instdisc_run_stop (run);
      iterate_until (run_is_stopped, run, 60);
    }
  GtkWidget *retrievals = find_by_type (GTK_WIDGET (window),
                                        INSTDISC_TYPE_RETRIEVALS_VIEW);
  iterate_until (retrievals_idle, retrievals, 120);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_started (void)
{
  g_autoptr (GSettings) s = fresh_settings ();
  g_autofree char *data = test_write_toy_splits (workdir, "toy-started",
                                                 N_IMAGES, N_IMAGES);
  g_settings_set_enum (s, "training-data-kind", 1);
  g_settings_set_string (s, "training-data-folder", data);
  InstdiscWindow *window = instdisc_window_new (NULL);
  gtk_window_present (GTK_WINDOW (window));
  instdisc_window_present_new_training (window);
  iterate_a_little ();
  GtkWidget *dialog = find_toplevel (INSTDISC_TYPE_NEW_TRAINING_DIALOG);
  type_into (dialog, "lr", "0.05");
  type_into (dialog, "batch_size", "16");
  type_into (dialog, "seed", "5");
  g_autofree char *run = work_path ("started/run-1");
  type_into (dialog, "run", run);
  gtk_dialog_response (GTK_DIALOG (dialog), GTK_RESPONSE_ACCEPT);
  iterate_until (window_shows_run, window, 60);
  iterate_a_little ();
  g_assert_null (find_toplevel (INSTDISC_TYPE_NEW_TRAINING_DIALOG));
  g_assert_cmpfloat (g_settings_get_double (s, "training-lr"), ==, 0.05);
  g_assert_cmpint (g_settings_get_int (s, "training-batch-size"), ==, 16);
  g_assert_cmpuint (g_settings_get_uint64 (s, "training-seed"), ==, 5);
  g_autofree char *parent = g_settings_get_string (s, "run-folder-parent");
  g_autofree char *expected = work_path ("started");
  g_assert_cmpstr (parent, ==, expected);
  /* the run got what was typed */
  const TrainerConfig *config = instdisc_run_get_config (
      instdisc_window_get_run (window));
  g_assert_cmpfloat (config->lr, ==, 0.05f);
  g_assert_cmpuint (config->seed, ==, 5);
  close_run_window (window);
}

/* ---- the question before a training stops ---- */

static gboolean
window_has_steps (gpointer data)
{
  InstdiscRun *run = instdisc_window_get_run (data);
  return run && instdisc_run_get_iteration (run) >= 3;
}

typedef struct
{
  InstdiscRun *run;
  gint64 after;
} Progress;

static gboolean
trained_past (gpointer data)
{
  Progress *p = data;
  return instdisc_run_get_iteration (p->run) > p->after;
}

static void
assert_still_training (InstdiscWindow *window, InstdiscRun *run)
{
  g_assert_true (instdisc_window_get_run (window) == run);
  g_assert_cmpint (instdisc_run_get_state (run), ==, INSTDISC_RUN_RUNNING);
  Progress p = { run, instdisc_run_get_iteration (run) };
  iterate_until (trained_past, &p, 30);
}

static gboolean
window_shows_other (gpointer data)
{
  InstdiscRun **runs = data;
  InstdiscWindow *window = (InstdiscWindow *) runs[0];
  return instdisc_window_get_run (window)
         && instdisc_window_get_run (window) != runs[1];
}

static void
test_confirm_stop (void)
{
  g_autoptr (GSettings) s = fresh_settings ();
  g_autofree char *data = test_write_toy_splits (workdir, "toy-confirm",
                                                 N_IMAGES, N_IMAGES);
  g_autofree char *dir = work_path ("confirm-training");
  g_autofree char *other = work_path ("confirm-other");
  TrainerConfig config = tiny_config (200);
  {
    /* the run Open Run will open: built, never started */
    g_autoptr (GError) error = NULL;
    g_autoptr (InstdiscRun) built = instdisc_run_new_training (other, data,
                                                               &config,
                                                               &error);
    g_assert_no_error (error);
  }
  InstdiscWindow *window = instdisc_window_new (NULL);
  gtk_window_present (GTK_WINDOW (window));
  instdisc_window_new_training (window, dir, data, &config, TRUE);
  iterate_until (window_has_steps, window, 60);
  InstdiscRun *run = g_object_ref (instdisc_window_get_run (window));

  /* Open Run: Cancel keeps it training */
  instdisc_window_open_run (window, other);
  GtkDialog *question = the_question (GTK_WINDOW (window), "confirm-training");
  g_assert_cmpint (instdisc_run_get_state (run), ==, INSTDISC_RUN_RUNNING);
  gtk_dialog_response (question, GTK_RESPONSE_CANCEL);
  iterate_a_little ();
  g_assert_null (find_toplevel (GTK_TYPE_MESSAGE_DIALOG));
  assert_still_training (window, run);

  /* closing the window: Cancel keeps the window and the training */
  gtk_window_close (GTK_WINDOW (window));
  question = the_question (GTK_WINDOW (window), "confirm-training");
  gtk_dialog_response (question, GTK_RESPONSE_DELETE_EVENT);
  iterate_a_little ();
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (window)));
  assert_still_training (window, run);

  /* New Training: the question comes over the dialog at Start, whose
   * settings stay for a second try */
  instdisc_window_present_new_training (window);
  iterate_a_little ();
  GtkWidget *dialog = find_toplevel (INSTDISC_TYPE_NEW_TRAINING_DIALOG);
  gtk_dialog_response (GTK_DIALOG (dialog), GTK_RESPONSE_ACCEPT);
  question = the_question (GTK_WINDOW (dialog), "confirm-training");
  gtk_dialog_response (question, GTK_RESPONSE_CANCEL);
  iterate_a_little ();
  g_assert_true (gtk_widget_get_visible (dialog));
  assert_still_training (window, run);
  gtk_window_destroy (GTK_WINDOW (dialog));

  /* Stop: the run stops after its step, with a checkpoint of it, and
   * the other run is shown */
  instdisc_window_open_run (window, other);
  question = the_question (GTK_WINDOW (window), "confirm-training");
  gtk_dialog_response (question, GTK_RESPONSE_ACCEPT);
  iterate_until (run_is_stopped, run, 60);
  g_assert_null (instdisc_run_get_error (run));
  gint64 last = instdisc_run_get_iteration (run);
  g_assert_cmpint (last, >=, 3);
  g_autoptr (GError) error = NULL;
  g_autoptr (Trainer) fresh = trainer_new (&config,
                                           instdisc_run_get_train (run),
                                           &error);
  g_assert_no_error (error);
  g_autofree char *checkpoint = run_dir_file (dir, RUN_CHECKPOINT_FILE);
  g_assert_true (trainer_load_checkpoint (fresh, checkpoint, &error));
  g_assert_cmpint (trainer_get_iteration (fresh), ==, last);
  gpointer runs[] = { window, run };
  iterate_until (window_shows_other, runs, 60);
  g_assert_cmpstr (instdisc_run_get_dir (instdisc_window_get_run (window)), ==,
                   other);
  g_object_unref (run);
  close_run_window (window);
}

/* ---- Train More Epochs ---- */

static gboolean
train_more_shown (gpointer data)
{
  return find_toplevel (INSTDISC_TYPE_TRAIN_MORE_DIALOG) != NULL;
}

static void
test_train_more (void)
{
  g_autoptr (GSettings) s = fresh_settings ();
  g_autofree char *data = test_write_toy_splits (workdir, "toy-more",
                                                 N_IMAGES, N_IMAGES);
  g_autofree char *dir = work_path ("train-more");
  TrainerConfig config = tiny_config (1);
  g_autoptr (GError) error = NULL;
  g_autoptr (InstdiscRun) run = instdisc_run_new_training (dir, data, &config,
                                                           &error);
  g_assert_no_error (error);
  instdisc_run_start (run);
  iterate_until (run_is_stopped, run, 120);
  g_assert_cmpint (instdisc_run_get_iteration (run), ==, 6);

  InstdiscWindow *window = instdisc_window_new (NULL);
  gtk_window_present (GTK_WINDOW (window));
  instdisc_window_set_run (window, run);
  iterate_a_little ();
  /* the play button of a finished run asks for more epochs */
  gtk_widget_activate_action (GTK_WIDGET (window), "win.toggle-training",
                              NULL);
  iterate_until (train_more_shown, NULL, 10);
  GtkWidget *dialog = find_toplevel (INSTDISC_TYPE_TRAIN_MORE_DIALOG);
  GtkWidget *entry = find_by_type (dialog, GTK_TYPE_ENTRY);
  GtkWidget *train = gtk_dialog_get_widget_for_response (GTK_DIALOG (dialog),
                                                         GTK_RESPONSE_ACCEPT);
  gtk_editable_set_text (GTK_EDITABLE (entry), "1");
  g_assert_false (gtk_widget_get_sensitive (train));
  gtk_editable_set_text (GTK_EDITABLE (entry), "x");
  g_assert_false (gtk_widget_get_sensitive (train));
  gtk_editable_set_text (GTK_EDITABLE (entry), "3");
  g_assert_true (gtk_widget_get_sensitive (train));
  gtk_dialog_response (GTK_DIALOG (dialog), GTK_RESPONSE_ACCEPT);
  iterate_a_little ();
  g_assert_null (find_toplevel (INSTDISC_TYPE_TRAIN_MORE_DIALOG));

  /* config.ini has the new length, as `instdisc train --resume --epochs 3`
   * leaves it */
  TrainerConfig on_disk;
  g_autoptr (GKeyFile) keyfile = trainer_run_load_config (dir, &on_disk,
                                                          &error);
  g_assert_no_error (error);
  g_assert_cmpint (on_disk.epochs, ==, 3);
  g_assert_cmpint (instdisc_run_get_config (run)->epochs, ==, 3);

  /* on from the checkpoint to the new end: each step once */
  iterate_until (run_is_stopped, run, 120);
  g_assert_null (instdisc_run_get_error (run));
  g_assert_cmpint (instdisc_run_get_iteration (run), ==, 18);
  g_autoptr (GArray) rows = run_dir_load_metrics (dir, &error);
  g_assert_no_error (error);
  gint64 expected = 1;
  for (guint i = 0; i < rows->len; i++)
    {
      const MetricsRow *row = &g_array_index (rows, MetricsRow, i);
      if (g_strcmp0 (row->kind, "step") == 0)
        g_assert_cmpint (row->iteration, ==, expected++);
    }
  g_assert_cmpint (expected, ==, 19);
  TrainerConfig longer = config;
  longer.epochs = 3;
  g_autoptr (Trainer) fresh = trainer_new (&longer,
                                           instdisc_run_get_train (run),
                                           &error);
  g_autofree char *checkpoint = run_dir_file (dir, RUN_CHECKPOINT_FILE);
  g_assert_true (trainer_load_checkpoint (fresh, checkpoint, &error));
  g_assert_cmpint (trainer_get_iteration (fresh), ==, 18);
  close_run_window (window);
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  g_autoptr (GError) error = NULL;
  workdir = g_dir_make_tmp ("instdisc-dialogs-XXXXXX", &error);
  g_assert_no_error (error);
  g_test_message ("files in %s", workdir);
  /* the explorer's default folder for runs is runs/ under the current
   * folder: the work folder here */
  g_assert_cmpint (g_chdir (workdir), ==, 0);

  g_test_add_func ("/dialogs/new-training/typed-values", test_typed_values);
  g_test_add_func ("/dialogs/new-training/run-folder", test_run_folder);
  g_test_add_func ("/dialogs/new-training/refused-start", test_refused_start);
  g_test_add_func ("/dialogs/new-training/started", test_started);
  g_test_add_func ("/dialogs/confirm/stop", test_confirm_stop);
  g_test_add_func ("/dialogs/train-more", test_train_more);
  return g_test_run ();
}
