/* instdisc-window.c: the main window: its controls, the run it shows,
 * building or opening a run off the main loop, recent runs, its size and
 * its actions; Export Features is in instdisc-window-export.c, and asking
 * before a running training is stopped, New Training's start and Train
 * More Epochs in instdisc-window-training.c. */
#define G_LOG_DOMAIN "instdisc-gui"

#include "instdisc-window-private.h"

#include <inttypes.h>
#include <glib/gi18n.h>

#include "instdisc-new-training-dialog.h"
#include "instdisc-settings.h"
#include "training-estimate.h"

G_DEFINE_FINAL_TYPE (InstdiscWindow, instdisc_window,
                     GTK_TYPE_APPLICATION_WINDOW)

enum
{
  PROP_0,
  PROP_RUN,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

void
instdisc_window_show_error (InstdiscWindow *self, const char *message)
{
  instdisc_notice_bar_show (self->notice_bar, INSTDISC_NOTICE_ERROR, message);
}

const char *
instdisc_window_get_page (InstdiscWindow *self)
{
  return gtk_stack_get_visible_child_name (self->main_stack);
}

static void
update_controls (InstdiscWindow *self)
{
  InstdiscRunState state = self->run ? instdisc_run_get_state (self->run)
                                     : INSTDISC_RUN_IDLE;
  gboolean has_run = self->run != NULL;
  gboolean running = state == INSTDISC_RUN_RUNNING;
  gboolean can_train = has_run && state != INSTDISC_RUN_STOPPING
                       && (state != INSTDISC_RUN_FOLLOWING
                           || instdisc_run_get_train (self->run));
  /* a run that has trained all its epochs is given more, not started */
  gboolean finished = instdisc_window_run_has_finished (self);
  gboolean can_train_more = has_run && instdisc_run_get_train (self->run)
                            && (state == INSTDISC_RUN_STOPPED
                                || state == INSTDISC_RUN_FOLLOWING);
  const char *text = "";
  switch (state)
    {
    case INSTDISC_RUN_IDLE: text = has_run ? _("Ready") : ""; break;
    case INSTDISC_RUN_RUNNING: text = _("Training"); break;
    case INSTDISC_RUN_PAUSED: text = _("Paused"); break;
    case INSTDISC_RUN_STOPPED: text = _("Stopped"); break;
    case INSTDISC_RUN_FOLLOWING: text = _("Following the folder"); break;
    case INSTDISC_RUN_STOPPING: text = _("Stopping…"); break;
    }
  gtk_label_set_text (self->state_label, text);
  gtk_button_set_icon_name (self->start_button,
                            running ? "media-playback-pause-symbolic"
                                    : "media-playback-start-symbolic");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->start_button),
                               running ? _("Pause training (Ctrl+Space)")
                               : state == INSTDISC_RUN_PAUSED
                                   ? _("Resume training (Ctrl+Space)")
                               : finished && can_train_more
                                   ? _("Train more epochs (Ctrl+Space)")
                               : state == INSTDISC_RUN_FOLLOWING
                                   ? _("Continue training this run here "
                                       "(Ctrl+Space)")
                                   : _("Start training (Ctrl+Space)"));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.toggle-training",
                                 can_train);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.stop-training",
                                 running || state == INSTDISC_RUN_PAUSED);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.train-more",
                                 can_train_more);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.save-now",
                                 running || state == INSTDISC_RUN_PAUSED);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.export-features",
                                 has_run && instdisc_run_get_train (self->run));
  gtk_widget_set_visible (GTK_WIDGET (self->switcher), has_run);
  gtk_widget_set_visible (GTK_WIDGET (self->title_label), !has_run);
  /* on the welcome page there is nothing to start or stop yet */
  gtk_widget_set_visible (GTK_WIDGET (self->start_button), has_run);
  gtk_widget_set_visible (GTK_WIDGET (self->stop_button), has_run);

  if (self->run && instdisc_run_get_error (self->run))
    instdisc_window_show_error (self, instdisc_run_get_error (self->run)->message);
}

static void
on_state_changed (InstdiscRun *run, InstdiscWindow *self)
{
  update_controls (self);
}

static void
release_when_stopped (InstdiscRun *run, GApplication *application)
{
  if (instdisc_run_get_state (run) == INSTDISC_RUN_STOPPING)
    return;
  g_signal_handlers_disconnect_by_func (run, release_when_stopped,
                                        application);
  g_application_release (application);
  g_object_unref (application);
}

/* Stopping returns at once and the trainer thread writes the checkpoint
 * afterwards: the application must not quit before it has, even when this
 * window is gone by then. The run keeps itself alive until it stopped. */
void
instdisc_window_stop_and_hold (InstdiscWindow *self, InstdiscRun *run)
{
  GtkApplication *application = gtk_window_get_application (GTK_WINDOW (self));
  gboolean was_stopping = instdisc_run_get_state (run) == INSTDISC_RUN_STOPPING;
  instdisc_run_stop (run);
  if (!application || was_stopping
      || instdisc_run_get_state (run) != INSTDISC_RUN_STOPPING)
    return;
  g_application_hold (G_APPLICATION (application));
  g_signal_connect (run, "state-changed", G_CALLBACK (release_when_stopped),
                    g_object_ref (application));
}

static void
on_checkpoint_saved (InstdiscRun *run, gint64 iteration, InstdiscWindow *self)
{
  g_autofree char *dir = g_filename_display_name (instdisc_run_get_dir (run));
  g_autofree char *path = g_build_filename (dir, "checkpoint.safetensors",
                                            NULL);
  g_autofree char *text = g_strdup_printf (
      _("Checkpoint saved after step %" PRId64 ": %s"), iteration,
      path);
  instdisc_notice_bar_show (self->notice_bar, INSTDISC_NOTICE_INFO, text);
}

/* images the training left out: said until dismissed */
static void
on_data_notice (InstdiscRun *run, const char *message, InstdiscWindow *self)
{
  instdisc_window_show_error (self, message);
}

void
instdisc_window_set_run (InstdiscWindow *self, InstdiscRun *run)
{
  g_return_if_fail (INSTDISC_IS_WINDOW (self));
  if (self->run == run)
    return;
  if (self->run)
    {
      g_clear_signal_handler (&self->state_handler, self->run);
      g_clear_signal_handler (&self->saved_handler, self->run);
      g_clear_signal_handler (&self->notice_handler, self->run);
      instdisc_window_stop_and_hold (self, self->run);
    }
  g_set_object (&self->run, run);
  /* the four views follow through their "run" bindings
   * (instdisc-window.ui) */
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUN]);
  if (run)
    {
      self->state_handler = g_signal_connect (run, "state-changed",
                                              G_CALLBACK (on_state_changed),
                                              self);
      self->saved_handler = g_signal_connect (run, "checkpoint-saved",
                                              G_CALLBACK (on_checkpoint_saved),
                                              self);
      self->notice_handler = g_signal_connect (run, "data-notice",
                                               G_CALLBACK (on_data_notice),
                                               self);
      g_autofree char *dir = g_filename_display_name (instdisc_run_get_dir (run));
      g_autofree char *base = g_path_get_basename (dir);
      g_autofree char *title = g_strdup_printf (_("%s — Instance Discrimination "
                                                  "Explorer"), base);
      gtk_window_set_title (GTK_WINDOW (self), title);
      gtk_stack_set_visible_child_name (self->main_stack, "views");
      gtk_stack_set_visible_child_name (self->view_stack, "training");
      if (instdisc_run_get_data_error (run))
        {
          g_autofree char *message = g_strdup_printf (
              _("Only the curves can be shown: %s"),
              instdisc_run_get_data_error (run)->message);
          instdisc_window_show_error (self, message);
        }
      else if (instdisc_run_get_data_notice (run))
        instdisc_window_show_error (self, instdisc_run_get_data_notice (run));
    }
  else
    gtk_stack_set_visible_child_name (self->main_stack, "welcome");
  update_controls (self);
}

InstdiscRun *
instdisc_window_get_run (InstdiscWindow *self)
{
  return self->run;
}

static void
instdisc_window_get_property (GObject *object, guint id, GValue *value,
                              GParamSpec *pspec)
{
  if (id == PROP_RUN)
    g_value_set_object (value, INSTDISC_WINDOW (object)->run);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
}

static void
instdisc_window_set_property (GObject *object, guint id, const GValue *value,
                              GParamSpec *pspec)
{
  if (id == PROP_RUN)
    instdisc_window_set_run (INSTDISC_WINDOW (object),
                             g_value_get_object (value));
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
}

/* ---- building a run off the main loop ---- */

typedef struct
{
  char *run_dir;
  char *data_spec;
  int image_size;
  TrainerConfig config;
  gboolean open;    /* open run_dir rather than start a new run */
  gboolean start;
  /* who asked, told how it went; a failure is then theirs to show */
  InstdiscWindowBuilt built;
  gpointer built_data;
  GDestroyNotify built_destroy;
} BuildData;

static void
build_data_free (BuildData *data)
{
  g_free (data->run_dir);
  g_free (data->data_spec);
  if (data->built_destroy)
    data->built_destroy (data->built_data);
  g_free (data);
}

/* The loading page's line while a folder's files are checked, carried
 * from the build thread to the main loop; shown only while the build that
 * sent it is still the window's current one. */
typedef struct
{
  InstdiscWindow *window;
  GCancellable *loading;
  char *text;
} LoadProgress;

static void
load_progress_free (gpointer p)
{
  LoadProgress *progress = p;
  g_object_unref (progress->window);
  g_object_unref (progress->loading);
  g_free (progress->text);
  g_free (progress);
}

static gboolean
show_load_progress (gpointer p)
{
  LoadProgress *progress = p;
  InstdiscWindow *self = progress->window;
  if (self->loading == progress->loading
      && !g_cancellable_is_cancelled (progress->loading))
    gtk_label_set_text (self->loading_label, progress->text);
  return G_SOURCE_REMOVE;
}

/* DatasetProgressFunc, on the build thread */
static void
on_load_progress (const char *path, const char *split, int done, int total,
                  gpointer user_data)
{
  GTask *task = user_data;
  if (total < DATASET_PROGRESS_EVERY)
    return;
  LoadProgress *progress = g_new0 (LoadProgress, 1);
  progress->window = g_object_ref (g_task_get_source_object (task));
  progress->loading = g_object_ref (g_task_get_cancellable (task));
  g_autofree char *shown = g_filename_display_basename (path);
  /* Translators: the loading page while a large image folder's files are
   * checked; the split is "train" or "test" */
  progress->text = g_strdup_printf (_("Checking the image files of %s "
                                      "(%s): %'d of %'d…"), shown, split,
                                    done, total);
  g_idle_add_full (G_PRIORITY_DEFAULT, show_load_progress, progress,
                   load_progress_free);
}

static void
build_thread (GTask *task, gpointer source, gpointer task_data,
              GCancellable *cancellable)
{
  BuildData *data = task_data;
  GError *error = NULL;
  InstdiscRun *run
    = data->open ? instdisc_run_open (data->run_dir, &error)
                 : instdisc_run_new_training_with_progress (
                     data->run_dir, data->data_spec, data->image_size,
                     &data->config, on_load_progress, task, &error);
  if (run)
    g_task_return_pointer (task, run, g_object_unref);
  else
    g_task_return_error (task, error);
}

static void
build_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  InstdiscWindow *self = INSTDISC_WINDOW (source);
  BuildData *data = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  g_autoptr (InstdiscRun) run = g_task_propagate_pointer (G_TASK (result),
                                                          &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      if (data->built)
        data->built (self, NULL, error, data->built_data);
      return;
    }
  g_clear_object (&self->loading);
  gtk_spinner_stop (self->loading_spinner);
  if (!run)
    {
      gtk_stack_set_visible_child_name (self->main_stack,
                                        self->run ? "views" : "welcome");
      if (data->built)
        data->built (self, NULL, error, data->built_data);
      else
        instdisc_window_show_error (self, error->message);
      return;
    }
  instdisc_notice_bar_dismiss (self->notice_bar);
  instdisc_settings_add_recent_run (self->settings, data->run_dir);
  /* before the trainer starts: it reads this once */
  instdisc_run_set_evaluate_recomputed (
      run, g_settings_get_boolean (self->settings, "evaluate-recomputed"));
  instdisc_run_set_evaluate_linear (
      run, g_settings_get_boolean (self->settings, "evaluate-linear"));
  instdisc_window_set_run (self, run);
  if (data->start)
    instdisc_run_start (run);
  if (data->built)
    data->built (self, run, NULL, data->built_data);
}

static void
build_run (InstdiscWindow *self, BuildData *data, const char *what)
{
  if (self->loading)
    g_cancellable_cancel (self->loading);
  g_clear_object (&self->loading);
  self->loading = g_cancellable_new ();
  gtk_label_set_text (self->loading_label, what);
  gtk_spinner_start (self->loading_spinner);
  gtk_stack_set_visible_child_name (self->main_stack, "loading");
  g_autoptr (GTask) task = g_task_new (self, self->loading, build_done, NULL);
  g_task_set_task_data (task, data, (GDestroyNotify) build_data_free);
  g_task_set_return_on_cancel (task, TRUE);
  g_task_run_in_thread (task, build_thread);
}

void
instdisc_window_build_training (InstdiscWindow *self, const char *run_dir,
                                const char *data_spec, int image_size,
                                const TrainerConfig *config, gboolean start,
                                InstdiscWindowBuilt built, gpointer built_data,
                                GDestroyNotify built_destroy)
{
  BuildData *data = g_new0 (BuildData, 1);
  data->run_dir = g_strdup (run_dir);
  data->data_spec = g_strdup (data_spec);
  data->image_size = image_size;
  data->config = *config;
  data->start = start;
  data->built = built;
  data->built_data = built_data;
  data->built_destroy = built_destroy;
  build_run (self, data, _("Loading the images and building the network…"));
}

/* what a build waits for while the question is open */
static void
build_when_confirmed (InstdiscWindow *self, gpointer user_data)
{
  BuildData *data = user_data;
  build_run (self, data, data->open ? _("Reading the run folder…")
                                    : _("Loading the images and building "
                                        "the network…"));
}

/* Asks first when the window's run trains: the build (and its data) goes
 * with the answer. */
static void
build_after_asking (InstdiscWindow *self, BuildData *data)
{
  instdisc_window_confirm_stop (self, NULL,
                                data->open ? INSTDISC_STOP_FOR_OPEN
                                           : INSTDISC_STOP_FOR_NEW,
                                build_when_confirmed, data,
                                (GDestroyNotify) build_data_free);
}

void
instdisc_window_new_training (InstdiscWindow *self, const char *run_dir,
                              const char *data_spec,
                              const TrainerConfig *config, gboolean start)
{
  DatasetOptions defaults;
  dataset_options_init_default (&defaults);
  BuildData *data = g_new0 (BuildData, 1);
  data->run_dir = g_strdup (run_dir);
  data->data_spec = g_strdup (data_spec);
  data->image_size = defaults.image_size;
  data->config = *config;
  data->start = start;
  build_after_asking (self, data);
}

void
instdisc_window_train_default (InstdiscWindow *self)
{
  TrainerConfig config;
  trainer_config_init_default (&config);
  g_autofree char *dir = instdisc_default_run_dir ();
  instdisc_window_new_training (self, dir, "fashion-mnist", &config, TRUE);
}

/* What the one-click training is and how long it takes, said before it
 * starts: the estimate of the default recipe on Fashion-MNIST, the same
 * the New Training dialog gives for it. */
static void
describe_default_training (InstdiscWindow *self)
{
  TrainerConfig config;
  trainer_config_init_default (&config);
  g_autofree char *length = training_estimate_describe (
      training_estimate_seconds (&config, FASHION_MNIST_TRAIN,
                                 FASHION_MNIST_TEST, FASHION_MNIST_SIDE, 0));
  g_autofree char *text = g_strdup_printf (
      /* Translators: the first %d is the number of epochs, %s "about 50
       * minutes" or the like */
      g_dngettext (GETTEXT_PACKAGE,
                   "The small ResNet on 60,000 clothing images, %d epoch: "
                   "%s on two processor cores (an estimate; a busy machine "
                   "takes longer)",
                   "The small ResNet on 60,000 clothing images, %d epochs: "
                   "%s on two processor cores (an estimate; a busy machine "
                   "takes longer)",
                   config.epochs),
      config.epochs, length);
  g_autofree char *kernels_note = training_estimate_kernels_note ();
  g_autofree char *with_note = NULL;
  if (kernels_note)
    /* Translators: the one-click training's description, then why
     * it will take longer (a sentence without its final stop) */
    with_note = g_strdup_printf (_("%s. %s."), text, kernels_note);
  gtk_label_set_text (self->welcome_length_label,
                      with_note ? with_note : text);
}

void
instdisc_window_open_run (InstdiscWindow *self, const char *run_dir)
{
  BuildData *data = g_new0 (BuildData, 1);
  data->run_dir = g_strdup (run_dir);
  data->open = TRUE;
  build_after_asking (self, data);
}

/* ---- what the window remembers ---- */

#define N_WELCOME_RECENT 5

/* When the run last wrote its metrics, in the locale's date and time
 * format; NULL when the run folder has no metrics.csv (yet). */
static char *
run_last_written (const char *run_dir)
{
  g_autofree char *metrics = g_build_filename (run_dir, "metrics.csv", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (metrics);
  g_autoptr (GFileInfo) info = g_file_query_info (
    file, G_FILE_ATTRIBUTE_TIME_MODIFIED, G_FILE_QUERY_INFO_NONE, NULL, NULL);
  if (!info)
    return NULL;
  g_autoptr (GDateTime) utc = g_file_info_get_modification_date_time (info);
  g_autoptr (GDateTime) local = utc ? g_date_time_to_local (utc) : NULL;
  /* %x and %X: the date and the time as the locale writes them */
  return local ? g_date_time_format (local, "%x %X") : NULL;
}

/* A row of the welcome page's recent runs: the run's name over its folder
 * and when it last wrote its metrics, opening it when activated. */
static GtkWidget *
welcome_recent_row (const char *run_dir)
{
  g_autofree char *base = g_filename_display_basename (run_dir);
  g_autofree char *parent = g_path_get_dirname (run_dir);
  g_autofree char *parent_shown = g_filename_display_name (parent);
  g_autofree char *written = run_last_written (run_dir);
  g_autofree char *detail = written
    /* TRANSLATORS: a recent run's folder, then the date and time it last
     * wrote its metrics */
    ? g_strdup_printf (_("%s · last written %s"), parent_shown, written)
    : g_strdup (parent_shown);
  GtkWidget *name = gtk_label_new (base);
  GtkWidget *folder = gtk_label_new (detail);
  gtk_label_set_xalign (GTK_LABEL (name), 0);
  gtk_label_set_xalign (GTK_LABEL (folder), 0);
  gtk_label_set_ellipsize (GTK_LABEL (folder), PANGO_ELLIPSIZE_START);
  gtk_widget_add_css_class (folder, "caption");
  gtk_widget_add_css_class (folder, "dim-label");
  GtkWidget *labels = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  gtk_widget_set_hexpand (labels, TRUE);
  gtk_box_append (GTK_BOX (labels), name);
  gtk_box_append (GTK_BOX (labels), folder);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_box_append (GTK_BOX (box), labels);
  GtkWidget *arrow = gtk_image_new_from_icon_name ("go-next-symbolic");
  gtk_widget_add_css_class (arrow, "dim-label");
  gtk_box_append (GTK_BOX (box), arrow);
  GtkWidget *row = gtk_list_box_row_new ();
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  gtk_widget_set_tooltip_text (row, run_dir);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (row), "app.open-recent-run");
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (row),
                                          g_variant_new_string (run_dir));
  return row;
}

/* The Recent Runs submenu and the welcome page's list: the folders that
 * still exist, as "parent/run" in the menu (the run's own name is a date
 * and time), each opening its folder. */
static void
update_recent_menu (InstdiscWindow *self)
{
  g_menu_remove_all (self->recent_section);
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (
              GTK_WIDGET (self->welcome_recent_list))))
    gtk_list_box_remove (self->welcome_recent_list, child);
  int n_welcome = 0;
  g_auto (GStrv) runs = instdisc_settings_dup_recent_runs (self->settings);
  for (guint i = 0; runs[i]; i++)
    {
      if (!g_file_test (runs[i], G_FILE_TEST_IS_DIR))
        continue;
      if (n_welcome++ < N_WELCOME_RECENT)
        gtk_list_box_append (self->welcome_recent_list,
                             welcome_recent_row (runs[i]));
      g_autofree char *base = g_filename_display_basename (runs[i]);
      g_autofree char *parent_dir = g_path_get_dirname (runs[i]);
      g_autofree char *parent = g_filename_display_basename (parent_dir);
      g_autofree char *shown = g_build_filename (parent, base, NULL);
      /* an underscore in a menu label marks a mnemonic */
      g_auto (GStrv) parts = g_strsplit (shown, "_", -1);
      g_autofree char *label = g_strjoinv ("__", parts);
      g_autoptr (GMenuItem) item = g_menu_item_new (label, NULL);
      g_menu_item_set_action_and_target_value (item, "app.open-recent-run",
                                               g_variant_new_string (runs[i]));
      g_menu_append_item (self->recent_section, item);
    }
  if (g_menu_model_get_n_items (G_MENU_MODEL (self->recent_section)) == 0)
    /* without an action the item is shown insensitive */
    g_menu_append (self->recent_section, _("No Recent Runs"), NULL);
  gtk_widget_set_visible (self->welcome_recent_box, n_welcome > 0);
}

static void
on_settings_changed (GSettings *settings, const char *key,
                     InstdiscWindow *self)
{
  if (g_str_equal (key, "recent-runs") || g_str_equal (key, "max-recent-runs"))
    update_recent_menu (self);
}

/* The size the window had when it last closed; the maximized state is
 * separate, so that unmaximizing returns to that size. */
static void
restore_size (InstdiscWindow *self)
{
  int width = g_settings_get_int (self->settings, "window-width");
  int height = g_settings_get_int (self->settings, "window-height");
  gtk_window_set_default_size (GTK_WINDOW (self), MAX (width, 360),
                               MAX (height, 300));
  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));
}

static void
save_size (InstdiscWindow *self)
{
  int width, height;
  /* the size before maximizing (GTK keeps it as the default size) */
  gtk_window_get_default_size (GTK_WINDOW (self), &width, &height);
  g_settings_delay (self->settings);
  if (width > 0 && height > 0)
    {
      g_settings_set_int (self->settings, "window-width", width);
      g_settings_set_int (self->settings, "window-height", height);
    }
  g_settings_set_boolean (self->settings, "window-maximized",
                          gtk_window_is_maximized (GTK_WINDOW (self)));
  g_settings_apply (self->settings);
}

/* ---- actions ---- */

static void
toggle_training (GtkWidget *widget, const char *action, GVariant *param)
{
  InstdiscWindow *self = INSTDISC_WINDOW (widget);
  if (!self->run)
    return;
  InstdiscRunState state = instdisc_run_get_state (self->run);
  if (state == INSTDISC_RUN_RUNNING)
    instdisc_run_pause (self->run);
  /* starting a run that has done all its epochs would end at once */
  else if (instdisc_window_run_has_finished (self)
           && (state == INSTDISC_RUN_STOPPED
               || state == INSTDISC_RUN_FOLLOWING))
    instdisc_window_present_train_more (self);
  else
    instdisc_run_start (self->run);
}

static void
stop_training (GtkWidget *widget, const char *action, GVariant *param)
{
  InstdiscWindow *self = INSTDISC_WINDOW (widget);
  if (self->run)
    instdisc_run_stop (self->run);
}

static void
save_now (GtkWidget *widget, const char *action, GVariant *param)
{
  InstdiscWindow *self = INSTDISC_WINDOW (widget);
  if (!self->run)
    return;
  instdisc_run_save_now (self->run);
  /* the trainer saves between two steps (after the bank's pass, when it
   * is under way): until then, say that it will */
  if (instdisc_notice_bar_show (self->notice_bar, INSTDISC_NOTICE_PROGRESS,
                                _("Saving a checkpoint after the current "
                                  "step…")))
    instdisc_notice_bar_set_progress (self->notice_bar, -1.0);
}

static void
train_default (GtkWidget *widget, const char *action, GVariant *param)
{
  instdisc_window_train_default (INSTDISC_WINDOW (widget));
}

static void
dismiss_error (GtkWidget *widget, const char *action, GVariant *param)
{
  InstdiscWindow *self = INSTDISC_WINDOW (widget);
  instdisc_notice_bar_dismiss (self->notice_bar);
}

static void
show_view (GtkWidget *widget, const char *action, GVariant *param)
{
  InstdiscWindow *self = INSTDISC_WINDOW (widget);
  if (self->run)
    gtk_stack_set_visible_child_name (self->view_stack,
                                      g_variant_get_string (param, NULL));
}

/* the query view's "Show on Map": the embedding view, that bank row
 * selected and centred */
static void
show_point (GtkWidget *widget, const char *action, GVariant *param)
{
  InstdiscWindow *self = INSTDISC_WINDOW (widget);
  if (!self->run)
    return;
  gtk_stack_set_visible_child_name (self->view_stack, "embedding");
  instdisc_embedding_view_show_point (self->embedding_view,
                                      g_variant_get_int32 (param));
}

static void
close_when_confirmed (InstdiscWindow *self, gpointer data)
{
  self->close_confirmed = TRUE;
  gtk_window_close (GTK_WINDOW (self));
}

void
instdisc_window_close_to_quit (InstdiscWindow *self)
{
  self->quitting = TRUE;
  gtk_window_close (GTK_WINDOW (self));
}

/* Closing mid-epoch asks first; then the run stops within one step and
 * leaves a checkpoint: the trainer thread saves before it ends, and the
 * application stays until it has. */
static gboolean
instdisc_window_close_request (GtkWindow *window)
{
  InstdiscWindow *self = INSTDISC_WINDOW (window);
  if (!self->close_confirmed && instdisc_window_is_training (self))
    {
      /* a Cancel also ends the quitting */
      instdisc_window_confirm_stop (self, NULL,
                                    self->quitting ? INSTDISC_STOP_FOR_QUIT
                                                   : INSTDISC_STOP_FOR_CLOSE,
                                    close_when_confirmed, NULL, NULL);
      return TRUE;
    }
  self->quitting = FALSE;
  save_size (self);
  if (self->loading)
    g_cancellable_cancel (self->loading);
  if (self->run)
    instdisc_window_stop_and_hold (self, self->run);
  return GTK_WINDOW_CLASS (instdisc_window_parent_class)->close_request (window);
}

static void
instdisc_window_dispose (GObject *object)
{
  InstdiscWindow *self = INSTDISC_WINDOW (object);
  if (self->run)
    {
      g_clear_signal_handler (&self->state_handler, self->run);
      g_clear_signal_handler (&self->saved_handler, self->run);
      g_clear_signal_handler (&self->notice_handler, self->run);
      instdisc_window_stop_and_hold (self, self->run);
    }
  g_clear_object (&self->run);
  g_clear_object (&self->loading);
  instdisc_window_dispose_training (self);
  if (self->settings)
    g_signal_handlers_disconnect_by_data (self->settings, self);
  g_clear_object (&self->settings);
  gtk_widget_dispose_template (GTK_WIDGET (self), INSTDISC_TYPE_WINDOW);
  G_OBJECT_CLASS (instdisc_window_parent_class)->dispose (object);
}

static void
instdisc_window_class_init (InstdiscWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = instdisc_window_dispose;
  object_class->get_property = instdisc_window_get_property;
  object_class->set_property = instdisc_window_set_property;
  window_class->close_request = instdisc_window_close_request;

  /* the run every view shows (NULL: the welcome page) */
  properties[PROP_RUN] =
    g_param_spec_object ("run", NULL, NULL, INSTDISC_TYPE_RUN,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY
                         | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (INSTDISC_TYPE_NOTICE_BAR);
  g_type_ensure (INSTDISC_TYPE_TRAINING_VIEW);
  g_type_ensure (INSTDISC_TYPE_EMBEDDING_VIEW);
  g_type_ensure (INSTDISC_TYPE_QUERY_VIEW);
  g_type_ensure (INSTDISC_TYPE_RETRIEVALS_VIEW);
  gtk_widget_class_set_template_from_resource (
      widget_class, "/org/instdisc/Explorer/ui/instdisc-window.ui");
#define BIND(name) \
  gtk_widget_class_bind_template_child (widget_class, InstdiscWindow, name)
  BIND (start_button);
  BIND (stop_button);
  BIND (state_label);
  BIND (switcher);
  BIND (title_label);
  BIND (notice_bar);
  BIND (main_stack);
  BIND (view_stack);
  BIND (loading_spinner);
  BIND (loading_label);
  BIND (training_view);
  BIND (embedding_view);
  BIND (query_view);
  BIND (retrievals_view);
  BIND (recent_section);
  BIND (welcome_recent_box);
  BIND (welcome_length_label);
  BIND (welcome_recent_list);
#undef BIND

  gtk_widget_class_install_action (widget_class, "win.toggle-training", NULL,
                                   toggle_training);
  gtk_widget_class_install_action (widget_class, "win.stop-training", NULL,
                                   stop_training);
  gtk_widget_class_install_action (widget_class, "win.save-now", NULL,
                                   save_now);
  gtk_widget_class_install_action (widget_class, "win.train-more", NULL,
                                   instdisc_window_train_more_action);
  gtk_widget_class_install_action (widget_class, "win.train-default", NULL,
                                   train_default);
  gtk_widget_class_install_action (widget_class, "win.export-features", NULL,
                                   instdisc_window_export_features);
  gtk_widget_class_install_action (widget_class, "win.dismiss-error", NULL,
                                   dismiss_error);
  gtk_widget_class_install_action (widget_class, "win.show-view", "s",
                                   show_view);
  gtk_widget_class_install_action (widget_class, "win.show-point", "i",
                                   show_point);
  /* the accelerators, Alt+1 to Alt+4 for the views included, are all the
   * application's (instdisc-application.c), so the Keyboard Shortcuts
   * window finds them by action */
}

static void
instdisc_window_init (InstdiscWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->settings = instdisc_settings_new ();
  g_signal_connect (self->settings, "changed", G_CALLBACK (on_settings_changed),
                    self);
  restore_size (self);
  update_recent_menu (self);
  describe_default_training (self);
  gtk_stack_set_visible_child_name (self->main_stack, "welcome");
  update_controls (self);
}

InstdiscWindow *
instdisc_window_new (GtkApplication *application)
{
  return g_object_new (INSTDISC_TYPE_WINDOW, "application", application, NULL);
}
