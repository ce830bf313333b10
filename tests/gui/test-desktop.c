/* test-desktop.c: what the explorer remembers and the windows around its
 * views, under Xvfb with the build tree's schema in a memory backend.
 *   /desktop/settings/training-defaults   the schema's New Training
 *                           defaults are trainer_config_init_default's
 *   /desktop/settings/recent-runs   newest first, once each, absolute,
 *                           no more than max-recent-runs
 *   /desktop/dialog/remembers   New Training opens with what the last
 *                           training used (saved when it starts), the
 *                           Advanced settings among it; the recipes fill
 *                           every setting but the network and objective,
 *                           but ImageNet's, which sets them and 224 pixels
 *   /desktop/dialog/registries   its Network and Objective lists are the
 *                           model and objective registries; unknown
 *                           remembered names fall back to the defaults
 *   /desktop/window/size    a closed window's size is saved and the next
 *                           window opens with it
 *   /desktop/window/recent-run   opening a run puts it in the settings,
 *                           the primary menu's Recent Runs and the welcome
 *                           page
 *   /desktop/window/welcome-length   the welcome page says what the
 *                           one-click training is and how long it takes:
 *                           the default recipe's epochs and the estimate
 *                           of it on Fashion-MNIST, in under three hours
 *   /desktop/window/welcome-kernels   and says when the user's
 *                           OPENBLAS_CORETYPE keeps OpenBLAS on narrower
 *                           kernels, so that it will take longer
 *   /desktop/window/load-progress   a large folder's load counts its files
 *                           on the loading page
 *   /desktop/window/stale-run   a run that stopped an hour ago shows
 *                           the time it took and no time left
 *   /desktop/window/evaluate-linear   the linear evaluation is off by
 *                           default; a run the window opens gets the
 *                           setting, as it gets evaluate-recomputed
 *   /desktop/preferences/bound   each control of the Preferences window
 *                           changes its key (the linear evaluation's
 *                           switch also follows its key); the projection
 *                           setting changes the Embedding view's
 *                           projection
 *   /desktop/embedding/preferred-tsne   a run opens in t-SNE when that
 *                           is preferred, and stays there
 *   /desktop/run/embed-holds-application   the application does not quit
 *                           (and the process exit) under a worker that
 *                           embeds images
 *   /desktop/shortcuts      every shortcut of the Keyboard Shortcuts
 *                           window shows an accelerator, which the
 *                           application maps to that existing action; the
 *                           view, preferences and close shortcuts act */
#define G_LOG_DOMAIN "instdisc-gui"

#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include "blas-kernels.h"
#include "instdisc-application.h"
#include "instdisc-embedding-view.h"
#include "instdisc-new-training-dialog.h"
#include "instdisc-preferences-window.h"
#include "instdisc-retrievals-view.h"
#include "instdisc-settings.h"
#include "instdisc-window.h"
#include "training-estimate.h"

#include "test-data.h"
#include "gui-testutil.h"
#include "testutil.h"

#define N_IMAGES 96

static char *workdir;
static char *run_dir;     /* a run of one epoch, trained once for all tests */

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
  /* every test starts from the schema's defaults */
  g_autoptr (GSettingsSchema) schema = NULL;
  g_object_get (settings, "settings-schema", &schema, NULL);
  g_auto (GStrv) keys = g_settings_schema_list_keys (schema);
  for (guint i = 0; keys[i]; i++)
    g_settings_reset (settings, keys[i]);
  return settings;
}

static gboolean
retrievals_idle (gpointer data)
{
  return !instdisc_retrievals_view_is_busy (data);
}

/* A window showing a run embeds the test images in a worker as it opens;
 * the process must not exit under that worker, so each test waits for it
 * before closing the window. */
static void
destroy_run_window (InstdiscWindow *window)
{
  GtkWidget *retrievals = find_by_type (GTK_WIDGET (window),
                                        INSTDISC_TYPE_RETRIEVALS_VIEW);
  iterate_until (retrievals_idle, retrievals, 120);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* ---- settings ---- */

static void
test_training_defaults (void)
{
  g_autoptr (GSettings) s = fresh_settings ();
  TrainerConfig c;
  trainer_config_init_default (&c);
  g_assert_cmpint (g_settings_get_int (s, "training-nce-k"), ==, c.nce_k);
  g_assert_cmpfloat_with_epsilon (g_settings_get_double (s, "training-tau"),
                                  c.tau, 1e-6);
  g_assert_cmpfloat_with_epsilon (
      g_settings_get_double (s, "training-bank-momentum"), c.bank_momentum,
      1e-6);
  g_assert_cmpfloat_with_epsilon (g_settings_get_double (s, "training-lr"),
                                  c.lr, 1e-6);
  g_assert_cmpfloat_with_epsilon (
      g_settings_get_double (s, "training-crop-scale-min"), c.crop_scale_min,
      1e-6);
  g_assert_cmpfloat_with_epsilon (
      g_settings_get_double (s, "training-crop-scale-max"), c.crop_scale_max,
      1e-6);
  g_assert_cmpint (g_settings_get_int (s, "training-epochs"), ==, c.epochs);
  g_assert_cmpint (g_settings_get_int (s, "training-warmup"), ==,
                   c.warmup_epochs);
  g_assert_cmpint (g_settings_get_int (s, "training-batch-size"), ==,
                   c.batch_size);
  /* the network and the objective are registry names (strings: a new
   * entry needs no schema change) */
  g_autofree char *network = g_settings_get_string (s, "training-network");
  g_assert_cmpstr (network, ==, c.model->name);
  g_autofree char *objective = g_settings_get_string (s, "training-objective");
  g_assert_cmpstr (objective, ==, c.objective->name);
  g_assert_cmpint (c.schedule, ==, SCHEDULE_COSINE);
  g_assert_cmpint (g_settings_get_enum (s, "training-schedule"), ==, 1);
}

static void
test_recent_runs (void)
{
  g_autoptr (GSettings) s = fresh_settings ();
  g_settings_set_int (s, "max-recent-runs", 3);
  instdisc_settings_add_recent_run (s, "/a");
  instdisc_settings_add_recent_run (s, "/b");
  instdisc_settings_add_recent_run (s, "/a");   /* moves to the front */
  instdisc_settings_add_recent_run (s, "/c");
  instdisc_settings_add_recent_run (s, "/d");   /* /b drops out */
  g_auto (GStrv) runs = g_settings_get_strv (s, "recent-runs");
  g_autofree char *joined = g_strjoinv (" ", runs);
  g_assert_cmpstr (joined, ==, "/d /c /a");

  /* relative to the folder the explorer started in */
  instdisc_settings_add_recent_run (s, "runs/x");
  g_auto (GStrv) after = g_settings_get_strv (s, "recent-runs");
  g_autofree char *cwd = g_get_current_dir ();
  g_autofree char *expected = g_build_filename (cwd, "runs", "x", NULL);
  g_assert_cmpstr (after[0], ==, expected);

  /* a lower limit shows fewer at once; 0 remembers none */
  g_settings_set_int (s, "max-recent-runs", 1);
  g_auto (GStrv) one = instdisc_settings_dup_recent_runs (s);
  g_assert_cmpuint (g_strv_length (one), ==, 1);
  g_settings_set_int (s, "max-recent-runs", 0);
  instdisc_settings_add_recent_run (s, "/e");
  g_auto (GStrv) none = g_settings_get_strv (s, "recent-runs");
  g_assert_cmpuint (g_strv_length (none), ==, 0);
}

/* ---- New Training ---- */

/* a named widget of the dialog: its fields and dropdowns are named after
 * the settings they set; Advanced's are in the tree while it is open */
static GtkWidget *
dialog_widget (GtkWidget *dialog, const char *name)
{
  gtk_expander_set_expanded (GTK_EXPANDER (find_by_type (dialog,
                                                         GTK_TYPE_EXPANDER)),
                             TRUE);
  GtkWidget *found = find_by_name (dialog, name);
  g_assert_nonnull (found);
  return found;
}

static void
dialog_type (GtkWidget *dialog, const char *field, const char *text)
{
  gtk_editable_set_text (GTK_EDITABLE (dialog_widget (dialog, field)), text);
}

static void
test_dialog_remembers (void)
{
  g_autoptr (GSettings) s = fresh_settings ();
  GtkWidget *dialog = instdisc_new_training_dialog_new (NULL);
  InstdiscNewTrainingDialog *d = INSTDISC_NEW_TRAINING_DIALOG (dialog);
  gtk_window_present (GTK_WINDOW (dialog));
  iterate_a_little ();
  /* what a person changes in the dialog, the Advanced settings among it */
  gtk_drop_down_set_selected (GTK_DROP_DOWN (dialog_widget (dialog,
                                                            "objective")),
                              objective_registry_index (
                                  objective_registry_lookup ("nce")));
  dialog_type (dialog, "nce_k", "1024");
  dialog_type (dialog, "tau", "0.05");   /* not the default */
  dialog_type (dialog, "epochs", "7");
  dialog_type (dialog, "batch_size", "32");   /* not the default */
  dialog_type (dialog, "weight_decay", "0.001");
  dialog_type (dialog, "warmup_epochs", "2");
  dialog_type (dialog, "seed", "42");
  dialog_type (dialog, "crop_scale_min", "0.3");
  gtk_drop_down_set_selected (GTK_DROP_DOWN (dialog_widget (dialog, "nce_z")),
                              1);                           /* ema */
  gtk_drop_down_set_selected (GTK_DROP_DOWN (dialog_widget (dialog,
                                                            "bank_init")),
                              0);                           /* random */
  gtk_drop_down_set_selected (GTK_DROP_DOWN (dialog_widget (dialog,
                                                            "schedule")),
                              0);                           /* step */
  dialog_type (dialog, "lr_drops", "4, 6");
  g_autofree char *dir = g_build_filename (workdir, "elsewhere", "run-1",
                                           NULL);
  dialog_type (dialog, "run", dir);
  g_assert_true (instdisc_new_training_dialog_is_valid (d));
  instdisc_new_training_dialog_save_settings (d);
  gtk_window_destroy (GTK_WINDOW (dialog));

  g_assert_cmpint (g_settings_get_int (s, "training-nce-k"), ==, 1024);
  g_autofree char *objective = g_settings_get_string (s, "training-objective");
  g_assert_cmpstr (objective, ==, "nce");
  /* as typed, not as the float the trainer takes */
  g_assert_cmpfloat (g_settings_get_double (s, "training-tau"), ==, 0.05);
  g_autofree char *drops = g_settings_get_string (s, "training-lr-drops");
  g_assert_cmpstr (drops, ==, "4, 6");

  /* the next dialog starts from there, its run folder beside the last */
  dialog = instdisc_new_training_dialog_new (NULL);
  d = INSTDISC_NEW_TRAINING_DIALOG (dialog);
  TrainerConfig c;
  instdisc_new_training_dialog_get_config (d, &c);
  g_assert_true (c.objective == objective_registry_lookup ("nce"));
  g_assert_cmpint (c.nce_k, ==, 1024);
  g_assert_cmpfloat_with_epsilon (c.tau, 0.05, 1e-6);
  g_assert_cmpint (c.epochs, ==, 7);
  g_assert_cmpint (c.batch_size, ==, 32);
  g_assert_cmpfloat_with_epsilon (c.weight_decay, 0.001, 1e-9);
  g_assert_cmpint (c.warmup_epochs, ==, 2);
  g_assert_cmpuint (c.seed, ==, 42);
  g_assert_cmpfloat_with_epsilon (c.crop_scale_min, 0.3, 1e-6);
  g_assert_cmpint (c.nce_z, ==, NCE_Z_EMA);
  g_assert_cmpint (c.bank_init, ==, BANK_INIT_RANDOM);
  g_assert_cmpint (c.schedule, ==, SCHEDULE_STEP);
  g_assert_cmpint (c.n_lr_drops, ==, 2);
  g_assert_cmpint (c.lr_drops[0], ==, 4);
  g_assert_cmpint (c.lr_drops[1], ==, 6);
  g_assert_true (c.model == model_registry_lookup ("small"));
  g_autofree char *parent = g_build_filename (workdir, "elsewhere", NULL);
  g_autofree char *new_dir = g_path_get_dirname (
      instdisc_new_training_dialog_get_run_dir (d));
  g_assert_cmpstr (new_dir, ==, parent);

  /* the recipes fill every setting but the network and the objective */
  dialog_widget (dialog, "seed");   /* Advanced open */
  g_signal_emit_by_name (find_button (dialog, "Reference"), "clicked");
  TrainerConfig reference;
  trainer_config_init_reference (&reference);
  instdisc_new_training_dialog_get_config (d, &c);
  g_assert_true (c.objective == objective_registry_lookup ("nce"));
  g_assert_cmpint (c.epochs, ==, reference.epochs);
  g_assert_cmpint (c.schedule, ==, SCHEDULE_STEP);
  g_assert_cmpint (c.n_lr_drops, ==, 2);
  g_assert_cmpint (c.lr_drops[0], ==, 120);
  g_assert_cmpint (c.lr_drops[1], ==, 160);
  g_assert_cmpint (c.bank_init, ==, BANK_INIT_RANDOM);
  g_assert_cmpuint (c.seed, ==, reference.seed);
  g_assert_cmpfloat (c.weight_decay, ==, reference.weight_decay);
  g_signal_emit_by_name (find_button (dialog, "Default"), "clicked");
  TrainerConfig defaults;
  trainer_config_init_default (&defaults);
  instdisc_new_training_dialog_get_config (d, &c);
  g_assert_cmpint (c.epochs, ==, defaults.epochs);
  g_assert_cmpint (c.schedule, ==, SCHEDULE_COSINE);
  g_assert_cmpint (c.bank_init, ==, BANK_INIT_FEATURES);
  g_assert_cmpint (c.nce_k, ==, defaults.nce_k);

  /* the ImageNet recipe is a network and objective too, and 224 pixels */
  g_signal_emit_by_name (find_button (dialog, "ImageNet"), "clicked");
  TrainerConfig imagenet;
  trainer_config_init_recipe (&imagenet, TRAINER_RECIPE_IMAGENET);
  instdisc_new_training_dialog_get_config (d, &c);
  g_assert_true (c.model == model_registry_lookup ("resnet18-imagenet"));
  g_assert_true (c.objective == objective_registry_lookup ("nce"));
  g_assert_cmpint (c.nce_k, ==, 4096);
  g_assert_cmpfloat (c.tau, ==, imagenet.tau);
  g_assert_cmpint (c.batch_size, ==, 256);
  g_assert_cmpfloat (c.weight_decay, ==, imagenet.weight_decay);
  g_assert_cmpint (c.epochs, ==, imagenet.epochs);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (
                     dialog_widget (dialog, "image_size"))), ==, "224");
  gtk_window_destroy (GTK_WINDOW (dialog));
}

/* The Network and Objective dropdowns are the registries: one entry per
 * registry entry, in its order, labelled by it; whichever is selected is
 * what the run gets (no index is taken for a particular entry), and NCE's
 * K is offered only to an objective that reads it. A name in the settings
 * that no entry has (an older schema's "small-resnet", a newer version's
 * objective) opens the dialog on the default recipe's. */
static void
test_dialog_registries (void)
{
  g_autoptr (GSettings) s = fresh_settings ();
  g_settings_set_string (s, "training-network", "small-resnet");
  g_settings_set_string (s, "training-objective", "contrastive");
  GtkWidget *dialog = instdisc_new_training_dialog_new (NULL);
  InstdiscNewTrainingDialog *d = INSTDISC_NEW_TRAINING_DIALOG (dialog);
  gtk_window_present (GTK_WINDOW (dialog));
  iterate_a_little ();
  GtkDropDown *network = GTK_DROP_DOWN (dialog_widget (dialog, "model"));
  GtkDropDown *objective = GTK_DROP_DOWN (dialog_widget (dialog,
                                                         "objective"));
  GtkWidget *k_entry = dialog_widget (dialog, "nce_k");

  TrainerConfig defaults, c;
  trainer_config_init_default (&defaults);
  instdisc_new_training_dialog_get_config (d, &c);
  g_assert_true (c.model == defaults.model);
  g_assert_true (c.objective == defaults.objective);

  GListModel *models = gtk_drop_down_get_model (network);
  g_assert_cmpuint (g_list_model_get_n_items (models), ==,
                    model_registry_size ());
  for (guint i = 0; i < model_registry_size (); i++)
    {
      const ModelClass *model = model_registry_get (i);
      const char *shown = gtk_string_list_get_string (GTK_STRING_LIST (models),
                                                      i);
      g_assert_true (g_str_has_prefix (shown, model_class_get_label (model)));
      gtk_drop_down_set_selected (network, i);
      instdisc_new_training_dialog_get_config (d, &c);
      g_assert_true (c.model == model);
    }
  GListModel *objectives = gtk_drop_down_get_model (objective);
  g_assert_cmpuint (g_list_model_get_n_items (objectives), ==,
                    objective_registry_size ());
  for (guint i = 0; i < objective_registry_size (); i++)
    {
      const ObjectiveClass *klass = objective_registry_get (i);
      g_assert_cmpstr (gtk_string_list_get_string (GTK_STRING_LIST (objectives),
                                                   i),
                       ==, objective_class_get_label (klass));
      gtk_drop_down_set_selected (objective, i);
      iterate_a_little ();
      instdisc_new_training_dialog_get_config (d, &c);
      g_assert_true (c.objective == klass);
      g_assert_cmpint (gtk_widget_get_sensitive (k_entry), ==,
                       objective_class_uses_setting (klass, "nce_k"));
    }

  /* saved by name, and read back the same */
  instdisc_new_training_dialog_save_settings (d);
  gtk_window_destroy (GTK_WINDOW (dialog));
  g_autofree char *saved_network = g_settings_get_string (s,
                                                          "training-network");
  g_autofree char *saved_objective = g_settings_get_string (
      s, "training-objective");
  g_assert_cmpstr (saved_network, ==, c.model->name);
  g_assert_cmpstr (saved_objective, ==, c.objective->name);
  dialog = instdisc_new_training_dialog_new (NULL);
  TrainerConfig again;
  instdisc_new_training_dialog_get_config (
      INSTDISC_NEW_TRAINING_DIALOG (dialog), &again);
  g_assert_true (again.model == c.model);
  g_assert_true (again.objective == c.objective);
  gtk_window_destroy (GTK_WINDOW (dialog));
}

/* ---- the main window ---- */

static gboolean
window_shows_views (gpointer data)
{
  return g_strcmp0 (instdisc_window_get_page (data), "views") == 0
         && instdisc_window_get_run (data) != NULL;
}

static gboolean
is_mapped (gpointer data)
{
  return gtk_widget_get_mapped (data) && gtk_widget_get_width (data) > 0;
}

static void
test_window_size (void)
{
  g_autoptr (GSettings) s = fresh_settings ();
  InstdiscWindow *window = instdisc_window_new (NULL);
  int width, height;
  /* it opens at the schema's size */
  gtk_window_get_default_size (GTK_WINDOW (window), &width, &height);
  g_assert_cmpint (width, ==, 1100);
  g_assert_cmpint (height, ==, 800);
  gtk_window_set_default_size (GTK_WINDOW (window), 900, 640);
  gtk_window_present (GTK_WINDOW (window));
  iterate_until (is_mapped, window, 10);
  iterate_a_little ();
  gtk_window_close (GTK_WINDOW (window));
  iterate_a_little ();
  g_assert_cmpint (g_settings_get_int (s, "window-width"), ==, 900);
  g_assert_cmpint (g_settings_get_int (s, "window-height"), ==, 640);
  g_assert_false (g_settings_get_boolean (s, "window-maximized"));

  /* the next window opens as the last one closed */
  window = instdisc_window_new (NULL);
  gtk_window_get_default_size (GTK_WINDOW (window), &width, &height);
  g_assert_cmpint (width, ==, 900);
  g_assert_cmpint (height, ==, 640);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* An item of model (or of its sections and submenus) with this action and
 * string target. */
static gboolean
menu_has_item (GMenuModel *model, const char *action, const char *target)
{
  for (int i = 0; i < g_menu_model_get_n_items (model); i++)
    {
      g_autofree char *item_action = NULL;
      g_autofree char *item_target = NULL;
      if (g_menu_model_get_item_attribute (model, i, G_MENU_ATTRIBUTE_ACTION,
                                           "s", &item_action)
          && g_strcmp0 (item_action, action) == 0
          && g_menu_model_get_item_attribute (model, i,
                                              G_MENU_ATTRIBUTE_TARGET, "s",
                                              &item_target)
          && g_strcmp0 (item_target, target) == 0)
        return TRUE;
      g_autoptr (GMenuLinkIter) links = g_menu_model_iterate_item_links (model,
                                                                         i);
      GMenuModel *link;
      while (g_menu_link_iter_get_next (links, NULL, &link))
        {
          gboolean found = menu_has_item (link, action, target);
          g_object_unref (link);
          if (found)
            return TRUE;
        }
    }
  return FALSE;
}

static GMenuModel *
primary_menu (InstdiscWindow *window)
{
  GtkWidget *header = gtk_window_get_titlebar (GTK_WINDOW (window));
  GtkWidget *button = find_by_type (header, GTK_TYPE_MENU_BUTTON);
  g_assert_nonnull (button);
  return gtk_menu_button_get_menu_model (GTK_MENU_BUTTON (button));
}

/* The visible row of the welcome page that opens run, or NULL. */
static GtkWidget *
welcome_row (InstdiscWindow *window, const char *run)
{
  g_autoptr (GPtrArray) rows = g_ptr_array_new ();
  find_all_by_type (GTK_WIDGET (window), GTK_TYPE_LIST_BOX_ROW, rows);
  for (guint i = 0; i < rows->len; i++)
    {
      GtkActionable *row = rows->pdata[i];
      GVariant *target = gtk_actionable_get_action_target_value (row);
      if (g_strcmp0 (gtk_actionable_get_action_name (row),
                     "app.open-recent-run") == 0
          && target && g_strcmp0 (g_variant_get_string (target, NULL), run) == 0
          && gtk_widget_is_visible (GTK_WIDGET (row)))
        return GTK_WIDGET (row);
    }
  return NULL;
}

static gboolean
welcome_lists (InstdiscWindow *window, const char *run)
{
  return welcome_row (window, run) != NULL;
}

/* Whether one of row's labels contains text. */
static gboolean
row_shows (GtkWidget *row, const char *text)
{
  g_autoptr (GPtrArray) labels = g_ptr_array_new ();
  find_all_by_type (row, GTK_TYPE_LABEL, labels);
  for (guint i = 0; i < labels->len; i++)
    if (strstr (gtk_label_get_text (labels->pdata[i]), text))
      return TRUE;
  return FALSE;
}

static void
test_window_welcome_length (void)
{
  g_autoptr (GSettings) s = fresh_settings ();
  InstdiscWindow *window = instdisc_window_new (NULL);
  gtk_window_present (GTK_WINDOW (window));
  TrainerConfig config;
  trainer_config_init_default (&config);
  double seconds = training_estimate_seconds (&config, FASHION_MNIST_TRAIN,
                                              FASHION_MNIST_TEST,
                                              FASHION_MNIST_SIDE, 0);
  /* a newcomer's first run is meant to end within a sitting */
  g_assert_cmpfloat (seconds, >, 10 * 60);
  g_assert_cmpfloat (seconds, <, 3 * 3600);
  g_autofree char *length = training_estimate_describe (seconds);
  g_autofree char *epochs = g_strdup_printf ("%d epochs", config.epochs);
  g_assert_true (row_shows (GTK_WIDGET (window), length));
  g_assert_true (row_shows (GTK_WIDGET (window), epochs));
  /* the page no longer guesses a range of its own */
  g_assert_false (row_shows (GTK_WIDGET (window), "45 minutes to 2 hours"));
  gtk_window_destroy (GTK_WINDOW (window));
}

/* A user's OPENBLAS_CORETYPE that keeps OpenBLAS on narrower kernels than
 * the processor has is said beside the estimate (it takes longer then);
 * unset, nothing is said of it */
static void
test_window_welcome_kernels (void)
{
  const char *preferred = blas_kernels_preferred ();
  if (!preferred)
    {
      g_test_skip ("no kernels wider than OpenBLAS's generic ones here");
      return;
    }
  g_autoptr (GSettings) s = fresh_settings ();
  g_autofree char *saved = g_strdup (g_getenv ("OPENBLAS_CORETYPE"));
  g_setenv ("OPENBLAS_CORETYPE", "Prescott", TRUE);
  InstdiscWindow *window = instdisc_window_new (NULL);
  g_autofree char *note = g_strdup_printf (
      "OPENBLAS_CORETYPE=Prescott keeps OpenBLAS on narrower vectors than "
      "this processor has, so training takes longer than estimated; "
      "without the variable, OpenBLAS runs its %s kernels.",
      blas_kernels_level (preferred) == 2 ? "AVX-512" : "AVX2");
  g_assert_true (row_shows (GTK_WIDGET (window), note));
  gtk_window_destroy (GTK_WINDOW (window));
  g_unsetenv ("OPENBLAS_CORETYPE");
  window = instdisc_window_new (NULL);
  g_assert_false (row_shows (GTK_WIDGET (window), "OPENBLAS_CORETYPE"));
  gtk_window_destroy (GTK_WINDOW (window));
  if (saved)
    g_setenv ("OPENBLAS_CORETYPE", saved, TRUE);
}

/* A folder of thousands of images loads with the loading page counting
 * its files ("Checking the image files of big (train): 4,096 of 8,398…"),
 * sent from the build thread: the page is not a bare spinner while a
 * large folder is checked. The label keeps its last text after the run
 * is built, which is what the test reads. */
static void
test_window_load_progress (void)
{
  g_autoptr (GSettings) s = fresh_settings ();
  g_autofree char *big = test_write_image_folder (workdir, "big", 2, 1, 16,
                                                  TRUE, 5);
  const int per_class = DATASET_PROGRESS_EVERY + 100;
  for (int c = 0; c < 2; c++)
    {
      g_autofree char *first = g_strdup_printf ("%s/c%d/img00.png", big, c);
      for (int i = 1; i < per_class; i++)
        {
          g_autofree char *name = g_strdup_printf ("%s/c%d/copy%05d.png", big,
                                                   c, i);
          g_assert_cmpint (link (first, name), ==, 0);
        }
    }
  InstdiscWindow *window = instdisc_window_new (NULL);
  gtk_window_present (GTK_WINDOW (window));
  TrainerConfig config;
  trainer_config_init_default (&config);
  config.batch_size = 16;
  config.epochs = 1;
  g_autofree char *dir = g_build_filename (workdir, "big-run", NULL);
  instdisc_window_new_training (window, dir, big, &config, FALSE);
  iterate_until (window_shows_views, window, 120);
  g_assert_true (row_shows (GTK_WIDGET (window),
                            "Checking the image files of big (train): "));
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_window_recent_run (void)
{
  g_autoptr (GSettings) s = fresh_settings ();
  InstdiscWindow *window = instdisc_window_new (NULL);
  gtk_window_present (GTK_WINDOW (window));
  g_assert_false (menu_has_item (primary_menu (window), "app.open-recent-run",
                                 run_dir));
  instdisc_window_open_run (window, run_dir);
  iterate_until (window_shows_views, window, 60);
  g_auto (GStrv) runs = g_settings_get_strv (s, "recent-runs");
  g_assert_cmpstr (runs[0], ==, run_dir);
  g_assert_true (menu_has_item (primary_menu (window), "app.open-recent-run",
                                run_dir));
  /* a new window's welcome page lists it too, one click away */
  InstdiscWindow *other = instdisc_window_new (NULL);
  gtk_window_present (GTK_WINDOW (other));
  g_assert_true (welcome_lists (other, run_dir));
  /* with the time the run last wrote its metrics, as the locale writes
   * dates and times */
  g_autofree char *metrics = g_build_filename (run_dir, "metrics.csv", NULL);
  GStatBuf st;
  g_assert_cmpint (g_stat (metrics, &st), ==, 0);
  g_autoptr (GDateTime) mtime = g_date_time_new_from_unix_local (st.st_mtime);
  g_autofree char *written = g_date_time_format (mtime, "%x %X");
  g_assert_true (row_shows (welcome_row (other, run_dir), written));

  /* forgotten: gone from the menu and the welcome page */
  g_settings_set_strv (s, "recent-runs", NULL);
  g_assert_false (menu_has_item (primary_menu (window), "app.open-recent-run",
                                 run_dir));
  g_assert_false (welcome_lists (other, run_dir));
  gtk_window_destroy (GTK_WINDOW (other));
  destroy_run_window (window);
}

/* The text of the first label under root that contains text, or NULL. */
static const char *
label_containing (GtkWidget *root, const char *text)
{
  g_autoptr (GPtrArray) labels = g_ptr_array_new ();
  find_all_by_type (root, GTK_TYPE_LABEL, labels);
  for (guint i = 0; i < labels->len; i++)
    if (strstr (gtk_label_get_text (labels->pdata[i]), text))
      return gtk_label_get_text (labels->pdata[i]);
  return NULL;
}

static gboolean
shows_elapsed (gpointer window)
{
  return label_containing (window, "elapsed") != NULL;
}

/* A folder whose run stopped an hour ago, short of its last epoch: the
 * Training view gives the time it took, and no time left. */
static void
test_window_stale_run (void)
{
  g_autoptr (GSettings) s = fresh_settings ();
  g_autofree char *metrics = g_build_filename (run_dir, "metrics.csv", NULL);
  const time_t hour_ago = time (NULL) - 3600;
  struct utimbuf old = { .actime = hour_ago, .modtime = hour_ago };
  g_assert_cmpint (g_utime (metrics, &old), ==, 0);
  InstdiscWindow *window = instdisc_window_new (NULL);
  gtk_window_present (GTK_WINDOW (window));
  instdisc_window_open_run (window, run_dir);
  iterate_until (window_shows_views, window, 60);
  iterate_until (shows_elapsed, window, 60);
  const char *times = label_containing (GTK_WIDGET (window), "elapsed");
  g_assert_nonnull (times);
  g_assert_null (strstr (times, "left"));
  destroy_run_window (window);
}

/* Linear evaluation costs up to a minute an epoch: off unless asked for,
 * and what is asked reaches the run the window opens (read once, before
 * its trainer starts). */
static void
test_evaluate_linear (void)
{
  g_autoptr (GSettings) s = fresh_settings ();
  g_autoptr (GSettingsSchema) schema = NULL;
  g_object_get (s, "settings-schema", &schema, NULL);
  g_assert_true (g_settings_schema_has_key (schema, "evaluate-linear"));
  g_autoptr (GSettingsSchemaKey) key = g_settings_schema_get_key (
      schema, "evaluate-linear");
  g_autoptr (GVariant) value = g_settings_schema_key_get_default_value (key);
  g_assert_true (g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN));
  g_assert_false (g_variant_get_boolean (value));
  g_assert_false (g_settings_get_boolean (s, "evaluate-linear"));

  for (int on = 0; on <= 1; on++)
    {
      g_settings_set_boolean (s, "evaluate-linear", on);
      InstdiscWindow *window = instdisc_window_new (NULL);
      gtk_window_present (GTK_WINDOW (window));
      instdisc_window_open_run (window, run_dir);
      iterate_until (window_shows_views, window, 60);
      g_assert_cmpint (instdisc_run_get_evaluate_linear (
                           instdisc_window_get_run (window)), ==, on);
      destroy_run_window (window);
    }
}

/* ---- Preferences ---- */

static void
test_preferences_bound (void)
{
  g_autoptr (GSettings) s = fresh_settings ();
  InstdiscWindow *window = instdisc_window_new (NULL);
  gtk_window_present (GTK_WINDOW (window));
  InstdiscEmbeddingView *view = INSTDISC_EMBEDDING_VIEW (
      find_by_type (GTK_WIDGET (window), INSTDISC_TYPE_EMBEDDING_VIEW));
  g_assert_cmpint (instdisc_embedding_view_get_projection (view), ==,
                   INSTDISC_PROJECTION_PCA);

  GtkWidget *prefs = instdisc_preferences_window_new (GTK_WINDOW (window));
  gtk_window_present (GTK_WINDOW (prefs));
  iterate_until (is_mapped, prefs, 10);
  GtkDropDown *projection = GTK_DROP_DOWN (find_by_type (prefs,
                                                         GTK_TYPE_DROP_DOWN));
  g_assert_cmpuint (gtk_drop_down_get_selected (projection), ==, 0);
  gtk_drop_down_set_selected (projection, 1);
  g_autofree char *nick = g_settings_get_string (s, "preferred-projection");
  g_assert_cmpstr (nick, ==, "tsne");
  g_assert_cmpint (instdisc_embedding_view_get_projection (view), ==,
                   INSTDISC_PROJECTION_TSNE);
  gtk_drop_down_set_selected (projection, 0);
  g_assert_cmpint (instdisc_embedding_view_get_projection (view), ==,
                   INSTDISC_PROJECTION_PCA);
  /* and the other way: the setting moves the control */
  g_settings_set_enum (s, "preferred-projection", INSTDISC_PROJECTION_TSNE);
  g_assert_cmpuint (gtk_drop_down_get_selected (projection), ==, 1);

  /* threads, then recent runs to remember, in the window's order */
  g_autoptr (GPtrArray) spins = g_ptr_array_new ();
  find_all_by_type (prefs, GTK_TYPE_SPIN_BUTTON, spins);
  g_assert_cmpuint (spins->len, ==, 2);
  g_assert_cmpstr (gtk_editable_get_text (spins->pdata[0]), ==, "Automatic");
  gtk_spin_button_set_value (spins->pdata[0], 3);
  g_assert_cmpint (g_settings_get_int (s, "threads"), ==, 3);
  gtk_spin_button_set_value (spins->pdata[1], 4);
  g_assert_cmpint (g_settings_get_int (s, "max-recent-runs"), ==, 4);

  /* the evaluation's switches: recomputed features, then linear */
  g_autoptr (GPtrArray) switches = g_ptr_array_new ();
  find_all_by_type (prefs, GTK_TYPE_SWITCH, switches);
  g_assert_cmpuint (switches->len, ==, 2);
  GtkSwitch *recomputed = switches->pdata[0];
  gtk_switch_set_active (recomputed, TRUE);
  g_assert_true (g_settings_get_boolean (s, "evaluate-recomputed"));
  GtkSwitch *linear = switches->pdata[1];
  g_assert_false (gtk_switch_get_active (linear));
  gtk_switch_set_active (linear, TRUE);
  g_assert_true (g_settings_get_boolean (s, "evaluate-linear"));
  g_assert_true (g_settings_get_boolean (s, "evaluate-recomputed"));
  g_settings_set_boolean (s, "evaluate-linear", FALSE);
  g_assert_false (gtk_switch_get_active (linear));
  g_assert_true (gtk_switch_get_active (recomputed));
  /* the switch is named by its label's mnemonic */
  g_autoptr (GPtrArray) prefs_labels = g_ptr_array_new ();
  find_all_by_type (prefs, GTK_TYPE_LABEL, prefs_labels);
  GtkWidget *linear_label = NULL;
  for (guint i = 0; i < prefs_labels->len; i++)
    if (gtk_label_get_mnemonic_widget (prefs_labels->pdata[i])
        == GTK_WIDGET (linear))
      linear_label = prefs_labels->pdata[i];
  g_assert_nonnull (linear_label);
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (linear_label)), ==,
                   "Linear evaluation");

  /* the folder for new runs is shown; the last button clears the recent
   * runs, and is insensitive when there are none */
  g_settings_set_string (s, "run-folder-parent", "/data/my-runs");
  g_autoptr (GPtrArray) labels = g_ptr_array_new ();
  find_all_by_type (prefs, GTK_TYPE_LABEL, labels);
  gboolean shown = FALSE;
  for (guint i = 0; i < labels->len; i++)
    shown |= g_strcmp0 (gtk_label_get_text (labels->pdata[i]),
                        "/data/my-runs") == 0;
  g_assert_true (shown);
  g_autofree char *dir = instdisc_default_run_dir ();
  g_assert_true (g_str_has_prefix (dir, "/data/my-runs/"));

  g_autoptr (GPtrArray) buttons = g_ptr_array_new ();
  find_all_by_type (prefs, GTK_TYPE_BUTTON, buttons);
  GtkWidget *clear = NULL;
  for (guint i = 0; i < buttons->len; i++)
    if (g_strcmp0 (gtk_button_get_label (buttons->pdata[i]), "C_lear") == 0)
      clear = buttons->pdata[i];
  g_assert_nonnull (clear);
  g_assert_false (gtk_widget_get_sensitive (clear));
  instdisc_settings_add_recent_run (s, "/x");
  g_assert_true (gtk_widget_get_sensitive (clear));
  g_signal_emit_by_name (clear, "clicked");
  g_auto (GStrv) runs = g_settings_get_strv (s, "recent-runs");
  g_assert_cmpuint (g_strv_length (runs), ==, 0);
  g_assert_false (gtk_widget_get_sensitive (clear));

  gtk_window_destroy (GTK_WINDOW (prefs));
  gtk_window_destroy (GTK_WINDOW (window));
}

/* idle, and the status line tells of a t-SNE's steps */
static gboolean
tsne_done (gpointer data)
{
  if (instdisc_embedding_view_is_busy (data))
    return FALSE;
  g_autoptr (GPtrArray) labels = g_ptr_array_new ();
  find_all_by_type (data, GTK_TYPE_LABEL, labels);
  for (guint i = 0; i < labels->len; i++)
    {
      const char *text = gtk_label_get_text (labels->pdata[i]);
      if (g_str_has_prefix (text, "t-SNE of") && strstr (text, "step"))
        return TRUE;
    }
  return FALSE;
}

/* every text a label took that tells of the neighbour search's progress */
static void
record_neighbour_status (GtkLabel *label, GParamSpec *pspec, GPtrArray *seen)
{
  const char *text = gtk_label_get_text (label);
  if (strstr (text, "neighbours, ") && strstr (text, " done"))
    g_ptr_array_add (seen, g_strdup (text));
}

/* A run opens in the preferred projection and stays there (a t-SNE asked
 * for ahead of the bank used to fall back to PCA when the bank came),
 * the status line counts the rows whose neighbours are found before the
 * first layout, and t-SNE's layouts arrive while the spinner turns (at
 * idle priority they were starved by the redraws of a slow renderer). */
static void
test_embedding_preferred_tsne (void)
{
  g_autoptr (GSettings) s = fresh_settings ();
  g_settings_set_enum (s, "preferred-projection", INSTDISC_PROJECTION_TSNE);
  InstdiscWindow *window = instdisc_window_new (NULL);
  gtk_window_present (GTK_WINDOW (window));
  instdisc_window_open_run (window, run_dir);
  iterate_until (window_shows_views, window, 60);
  InstdiscEmbeddingView *view = INSTDISC_EMBEDDING_VIEW (
      find_by_type (GTK_WIDGET (window), INSTDISC_TYPE_EMBEDDING_VIEW));
  gtk_widget_activate_action (GTK_WIDGET (window), "win.show-view", "s",
                              "embedding");
  g_assert_cmpint (instdisc_embedding_view_get_projection (view), ==,
                   INSTDISC_PROJECTION_TSNE);
  g_autoptr (GPtrArray) seen = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) labels = g_ptr_array_new ();
  find_all_by_type (GTK_WIDGET (view), GTK_TYPE_LABEL, labels);
  for (guint i = 0; i < labels->len; i++)
    g_signal_connect (labels->pdata[i], "notify::label",
                      G_CALLBACK (record_neighbour_status), seen);
  /* the bank's snapshot, its PCA, then t-SNE from it */
  iterate_until (tsne_done, view, 120);
  for (guint i = 0; i < labels->len; i++)
    g_signal_handlers_disconnect_by_func (labels->pdata[i],
                                          record_neighbour_status, seen);
  /* "t-SNE of N points: finding each point's neighbours, N of N done…" */
  g_assert_cmpuint (seen->len, >=, 1);
  const char *last = seen->pdata[seen->len - 1];
  int points = 0, done = 0, total = 0;
  g_assert_cmpint (sscanf (last, "t-SNE of %d points: finding each point's "
                                 "neighbours, %d of %d done", &points, &done,
                           &total), ==, 3);
  g_assert_cmpint (total, ==, points);
  g_assert_cmpint (done, ==, total);
  g_assert_cmpint (instdisc_embedding_view_get_projection (view), ==,
                   INSTDISC_PROJECTION_TSNE);
  GtkWidget *tsne_button = NULL;
  g_autoptr (GPtrArray) toggles = g_ptr_array_new ();
  find_all_by_type (GTK_WIDGET (view), GTK_TYPE_TOGGLE_BUTTON, toggles);
  for (guint i = 0; i < toggles->len; i++)
    if (g_strcmp0 (gtk_button_get_label (toggles->pdata[i]), "t-SNE") == 0)
      tsne_button = toggles->pdata[i];
  g_assert_nonnull (tsne_button);
  g_assert_true (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (tsne_button)));
  destroy_run_window (window);
}

/* ---- Keyboard Shortcuts ---- */

static gboolean
window_has_action (InstdiscWindow *window, const char *detailed)
{
  /* win.show-view('query') is the action win.show-view */
  g_autofree char *name = NULL;
  g_autoptr (GVariant) target = NULL;
  g_assert_true (g_action_parse_detailed_name (detailed, &name, &target,
                                               NULL));
  const char *dot = strchr (name, '.');
  g_assert_nonnull (dot);
  g_autofree char *prefix = g_strndup (name, dot - name);
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (window));
  if (g_str_equal (prefix, "app"))
    return g_action_group_has_action (G_ACTION_GROUP (app), dot + 1);
  /* the window's own GActionMap (win.show-help-overlay) */
  if (g_str_equal (prefix, "win")
      && g_action_group_has_action (G_ACTION_GROUP (window), dot + 1))
    return TRUE;
  /* actions installed by the widget classes (win.*, window.close) */
  GtkWidgetClass *klass = GTK_WIDGET_GET_CLASS (window);
  GType owner;
  const char *installed, *property;
  const GVariantType *parameter;
  /* (every out argument given: GTK 4.8 writes them all) */
  for (guint i = 0; gtk_widget_class_query_action (klass, i, &owner,
                                                   &installed, &parameter,
                                                   &property);
       i++)
    if (g_str_equal (installed, name))
      return TRUE;
  return FALSE;
}

/* win.show-view('query') and win.show-view::query are one action */
static gboolean
same_detailed_action (const char *a, const char *b)
{
  g_autofree char *name_a = NULL, *name_b = NULL;
  g_autoptr (GVariant) target_a = NULL;
  g_autoptr (GVariant) target_b = NULL;
  g_assert_true (g_action_parse_detailed_name (a, &name_a, &target_a, NULL));
  g_assert_true (g_action_parse_detailed_name (b, &name_b, &target_b, NULL));
  return g_str_equal (name_a, name_b)
         && (target_a == NULL) == (target_b == NULL)
         && (!target_a || g_variant_equal (target_a, target_b));
}

static gboolean
accel_maps_to (GtkApplication *app, const char *accel, const char *action)
{
  g_auto (GStrv) actions = gtk_application_get_actions_for_accel (app, accel);
  for (guint i = 0; actions && actions[i]; i++)
    if (same_detailed_action (actions[i], action))
      return TRUE;
  return FALSE;
}

static gboolean
has_preferences (gpointer data)
{
  GtkApplication *app = data;
  for (GList *l = gtk_application_get_windows (app); l; l = l->next)
    if (INSTDISC_IS_PREFERENCES_WINDOW (l->data))
      return gtk_widget_get_visible (l->data);
  return FALSE;
}

static void
test_shortcuts (void)
{
  g_autoptr (GSettings) s = fresh_settings ();
  g_autoptr (InstdiscApplication) app = instdisc_application_new ();
  g_autoptr (GError) error = NULL;
  /* registering runs startup: the actions and their accelerators */
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  InstdiscWindow *window = instdisc_window_new (GTK_APPLICATION (app));
  gtk_window_present (GTK_WINDOW (window));
  iterate_until (is_mapped, window, 10);

  GtkShortcutsWindow *overlay = gtk_application_window_get_help_overlay (
      GTK_APPLICATION_WINDOW (window));
  g_assert_nonnull (overlay);
  /* the section's shortcuts (the search page has copies) */
  GtkWidget *section = find_by_type (GTK_WIDGET (overlay),
                                     GTK_TYPE_SHORTCUTS_SECTION);
  g_assert_nonnull (section);
  g_autoptr (GPtrArray) shortcuts = g_ptr_array_new ();
  find_all_by_type (section, GTK_TYPE_SHORTCUTS_SHORTCUT, shortcuts);
  g_assert_cmpuint (shortcuts->len, >=, 14);
  g_autoptr (GHashTable) listed = g_hash_table_new_full (g_str_hash,
                                                         g_str_equal, g_free,
                                                         NULL);
  for (guint i = 0; i < shortcuts->len; i++)
    {
      g_autofree char *title = NULL, *action = NULL;
      g_object_get (shortcuts->pdata[i], "title", &title, "action-name",
                    &action, NULL);
      /* what the window shows for it */
      GtkWidget *label = find_by_type (shortcuts->pdata[i],
                                       GTK_TYPE_SHORTCUT_LABEL);
      g_assert_nonnull (label);
      const char *shown = gtk_shortcut_label_get_accelerator (
          GTK_SHORTCUT_LABEL (label));
      g_test_message ("%s: %s (%s)", title, shown, action);
      g_assert_nonnull (action);
      g_assert_true (shown && *shown);
      g_assert_true (window_has_action (window, action));
      g_auto (GStrv) accels = gtk_application_get_accels_for_action (
          GTK_APPLICATION (app), action);
      g_assert_nonnull (accels[0]);
      /* each accelerator shown reaches this action */
      g_auto (GStrv) each = g_strsplit (shown, " ", -1);
      for (guint j = 0; each[j]; j++)
        if (g_str_equal (action, "win.show-help-overlay"))
          /* GTK's own: set on each window, not in the application */
          g_assert_cmpstr (each[j], ==, "<Control>question");
        else
          g_assert_true (accel_maps_to (GTK_APPLICATION (app), each[j],
                                        action));
      g_hash_table_add (listed, g_steal_pointer (&action));
    }
  /* the list: each of these is in the window */
  const char *expected[] = {
    "win.toggle-training", "app.new-training", "app.open-run",
    "win.export-features", "win.save-now", "win.show-view('training')",
    "win.show-view('embedding')", "win.show-view('query')",
    "win.show-view('retrievals')", "app.preferences", "app.help",
    "win.show-help-overlay", "app.quit",
  };
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    if (!g_hash_table_contains (listed, expected[i]))
      g_error ("the Keyboard Shortcuts window lacks %s", expected[i]);

  /* and they act: the views (a run open), Preferences, closing */
  instdisc_window_open_run (window, run_dir);
  iterate_until (window_shows_views, window, 60);
  InstdiscEmbeddingView *embedding = INSTDISC_EMBEDDING_VIEW (
      find_by_type (GTK_WIDGET (window), INSTDISC_TYPE_EMBEDDING_VIEW));
  GtkStack *views = GTK_STACK (gtk_widget_get_parent (GTK_WIDGET (embedding)));
  g_assert_true (GTK_IS_STACK (views));
  g_auto (GStrv) alt2 = gtk_application_get_actions_for_accel (
      GTK_APPLICATION (app), "<Alt>2");
  g_autofree char *name = NULL;
  g_autoptr (GVariant) target = NULL;
  g_assert_true (g_action_parse_detailed_name (alt2[0], &name, &target, NULL));
  gtk_widget_activate_action_variant (GTK_WIDGET (window), name, target);
  g_assert_cmpstr (gtk_stack_get_visible_child_name (views), ==, "embedding");

  g_action_group_activate_action (G_ACTION_GROUP (app), "preferences", NULL);
  iterate_until (has_preferences, app, 10);
  /* once: a second Ctrl+comma brings the same window forward, and the
   * application's actions still find the main window */
  g_action_group_activate_action (G_ACTION_GROUP (app), "preferences", NULL);
  iterate_a_little ();
  guint n_preferences = 0, n_main = 0;
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (app)); l;
       l = l->next)
    {
      n_preferences += INSTDISC_IS_PREFERENCES_WINDOW (l->data);
      n_main += INSTDISC_IS_WINDOW (l->data);
    }
  g_assert_cmpuint (n_preferences, ==, 1);
  g_assert_cmpuint (n_main, ==, 1);

  g_assert_true (accel_maps_to (GTK_APPLICATION (app), "<Control>w",
                                "window.close"));
  iterate_until (retrievals_idle,
                 find_by_type (GTK_WIDGET (window),
                               INSTDISC_TYPE_RETRIEVALS_VIEW), 120);
  gtk_widget_activate_action (GTK_WIDGET (window), "window.close", NULL);
  iterate_a_little ();
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (app)); l;
       l = l->next)
    g_assert_false (INSTDISC_IS_WINDOW (l->data));
  /* the Preferences window goes with its parent */
  while (gtk_application_get_windows (GTK_APPLICATION (app)))
    gtk_window_destroy (gtk_application_get_windows (GTK_APPLICATION (app))->data);
  iterate_a_little ();
}

/* ---- workers outlive no application ---- */

typedef struct
{
  InstdiscRun *run;
  gboolean embedded;
} EmbedHold;

static void
on_embedded (GObject *source, GAsyncResult *result, gpointer data)
{
  EmbedHold *t = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) features = instdisc_run_embed_finish (INSTDISC_RUN (source),
                                                           result, &error);
  g_assert_no_error (error);
  t->embedded = features != NULL;
}

/* No window: without the worker's hold the application would quit as soon
 * as activate returned, and the process would exit under the worker. */
static void
on_embed_activate (GApplication *application, EmbedHold *t)
{
  const Dataset *train = instdisc_run_get_train (t->run);
  int n = 512;
  gsize size = (gsize) n * train->channels * train->height * train->width;
  g_autoptr (GBytes) pixels = g_bytes_new_take (g_malloc0 (size), size);
  instdisc_run_embed_async (t->run, pixels, n, NULL, on_embedded, t);
}

static void
test_embed_holds_application (void)
{
  g_autoptr (GError) error = NULL;
  EmbedHold t = { 0 };
  t.run = instdisc_run_open (run_dir, &error);
  g_assert_no_error (error);
  g_autoptr (GtkApplication) application = gtk_application_new (
      "org.instdisc.ExplorerTest", G_APPLICATION_NON_UNIQUE);
  g_signal_connect (application, "activate", G_CALLBACK (on_embed_activate),
                    &t);
  /* the process's application, as the explorer's is (the run holds the
   * default one) */
  g_application_set_default (G_APPLICATION (application));
  g_assert_cmpint (g_application_run (G_APPLICATION (application), 0, NULL),
                   ==, 0);
  g_application_set_default (NULL);
  g_assert_true (t.embedded);
  g_object_unref (t.run);
}

/* ---- a run to open ---- */

static gboolean
is_stopped (gpointer data)
{
  return instdisc_run_get_state (data) == INSTDISC_RUN_STOPPED;
}

static char *
train_tiny_run (void)
{
  g_autofree char *data = test_write_toy_splits (workdir, "toy", N_IMAGES,
                                                 N_IMAGES);
  char *dir = g_build_filename (workdir, "run", NULL);
  TrainerConfig c;
  trainer_config_init_default (&c);
  c.batch_size = 16;
  c.epochs = 1;
  c.n_lr_drops = 0;
  g_autoptr (GError) error = NULL;
  g_autoptr (InstdiscRun) run = instdisc_run_new_training (dir, data, &c,
                                                           &error);
  g_assert_no_error (error);
  instdisc_run_start (run);
  iterate_until (is_stopped, run, 120);
  g_assert_null (instdisc_run_get_error (run));
  return dir;
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  g_autoptr (GError) error = NULL;
  workdir = g_dir_make_tmp ("instdisc-desktop-XXXXXX", &error);
  g_assert_no_error (error);
  g_test_message ("files in %s", workdir);
  run_dir = train_tiny_run ();

  g_test_add_func ("/desktop/settings/training-defaults",
                   test_training_defaults);
  g_test_add_func ("/desktop/settings/recent-runs", test_recent_runs);
  g_test_add_func ("/desktop/dialog/remembers", test_dialog_remembers);
  g_test_add_func ("/desktop/dialog/registries", test_dialog_registries);
  g_test_add_func ("/desktop/window/size", test_window_size);
  g_test_add_func ("/desktop/window/recent-run", test_window_recent_run);
  g_test_add_func ("/desktop/window/welcome-length",
                   test_window_welcome_length);
  g_test_add_func ("/desktop/window/welcome-kernels",
                   test_window_welcome_kernels);
  g_test_add_func ("/desktop/window/stale-run", test_window_stale_run);
  g_test_add_func ("/desktop/window/load-progress",
                   test_window_load_progress);
  g_test_add_func ("/desktop/window/evaluate-linear", test_evaluate_linear);
  g_test_add_func ("/desktop/preferences/bound", test_preferences_bound);
  g_test_add_func ("/desktop/embedding/preferred-tsne",
                   test_embedding_preferred_tsne);
  g_test_add_func ("/desktop/run/embed-holds-application",
                   test_embed_holds_application);
  g_test_add_func ("/desktop/shortcuts", test_shortcuts);
  int status = g_test_run ();
  test_remove_tree (workdir);
  g_free (run_dir);
  g_free (workdir);
  return status;
}
