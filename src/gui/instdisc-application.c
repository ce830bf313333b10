/* instdisc-application.c: the explorer's application object. */
#define G_LOG_DOMAIN "instdisc-gui"

#include "instdisc-application.h"

#include <glib/gi18n.h>

#include "instdisc-file-chooser.h"
#include "instdisc-help.h"
#include "instdisc-new-training-dialog.h"
#include "instdisc-preferences-window.h"
#include "instdisc-settings.h"
#include "instdisc-window.h"

struct _InstdiscApplication
{
  GtkApplication parent_instance;

  gboolean train_default;   /* --train-default */
  gboolean quit_when_shown; /* --quit-when-shown */
  gint64 steps;             /* --steps */
};

G_DEFINE_FINAL_TYPE (InstdiscApplication, instdisc_application,
                     GTK_TYPE_APPLICATION)

/* The main window most recently focused (the Preferences window may be
 * the active one), or a new one. */
static InstdiscWindow *
active_window (InstdiscApplication *self)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l;
       l = l->next)
    if (INSTDISC_IS_WINDOW (l->data))
      return INSTDISC_WINDOW (l->data);
  InstdiscWindow *created = instdisc_window_new (GTK_APPLICATION (self));
  gtk_window_present (GTK_WINDOW (created));
  return created;
}

static void
new_training (GSimpleAction *action, GVariant *param, gpointer data)
{
  instdisc_window_present_new_training (active_window (data));
}

/* the window asks before it stops a training for the folder */
static void
on_run_folder_chosen (const char *path, gpointer data)
{
  InstdiscWindow *window = data;
  if (path)
    instdisc_window_open_run (window, path);
}

static void
open_run (GSimpleAction *action, GVariant *param, gpointer data)
{
  InstdiscWindow *window = active_window (data);
  GtkFileChooserNative *chooser = instdisc_file_chooser_new (
      GTK_WIDGET (window), _("Open Run Folder"),
      GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _("_Open"));
  instdisc_file_chooser_choose_path (chooser, on_run_folder_chosen, window);
}

static void
open_recent_run (GSimpleAction *action, GVariant *param, gpointer data)
{
  instdisc_window_open_run (active_window (data),
                            g_variant_get_string (param, NULL));
}

static void
show_preferences (GSimpleAction *action, GVariant *param, gpointer data)
{
  InstdiscWindow *window = active_window (data);
  /* one Preferences window at a time */
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (data)); l;
       l = l->next)
    if (INSTDISC_IS_PREFERENCES_WINDOW (l->data))
      {
        gtk_window_present (l->data);
        return;
      }
  GtkWidget *preferences = instdisc_preferences_window_new (GTK_WINDOW (window));
  gtk_window_set_application (GTK_WINDOW (preferences), GTK_APPLICATION (data));
  gtk_window_present (GTK_WINDOW (preferences));
}

static void
show_help (GSimpleAction *action, GVariant *param, gpointer data)
{
  /* Yelp, or the HTML of the same pages in a browser */
  instdisc_help_show (GTK_WINDOW (active_window (data)));
}

static void
show_about (GSimpleAction *action, GVariant *param, gpointer data)
{
  const char *authors[] = { _("The instdisc developers"), NULL };
  gtk_show_about_dialog (GTK_WINDOW (active_window (data)),
                         "program-name", _("Instance Discrimination Explorer"),
                         "logo-icon-name", INSTDISC_APPLICATION_ID,
                         "version", PACKAGE_VERSION,
                         "copyright", _("© 2026 The instdisc developers"),
                         "website", INSTDISC_WEBSITE,
                         "website-label", _("Website"),
                         /* Translators: your names, one per line */
                         "translator-credits", _("translator-credits"),
                         "comments", _("Learns image embeddings without labels "
                                       "by non-parametric instance "
                                       "discrimination (Wu et al., CVPR 2018) "
                                       "and shows them forming."),
                         "license-type", GTK_LICENSE_GPL_3_0,
                         "authors", authors,
                         NULL);
}

static void
quit (GSimpleAction *action, GVariant *param, gpointer data)
{
  /* each window stops its run (checkpoint saved) as it closes, asking
   * first when it trains */
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (data));
  for (GList *l = g_list_copy (windows), *w = l; w; w = w->next)
    {
      if (INSTDISC_IS_WINDOW (w->data))
        instdisc_window_close_to_quit (w->data);
      else
        gtk_window_close (w->data);
      if (!w->next)
        g_list_free (l);
    }
}

static const GActionEntry app_actions[] = {
  { "new-training", new_training },
  { "open-run", open_run },
  { "open-recent-run", open_recent_run, "s" },
  { "preferences", show_preferences },
  { "help", show_help },
  { "about", show_about },
  { "quit", quit },
};

static void
instdisc_application_startup (GApplication *application)
{
  G_APPLICATION_CLASS (instdisc_application_parent_class)->startup (application);
  GtkApplication *app = GTK_APPLICATION (application);
  g_action_map_add_action_entries (G_ACTION_MAP (app), app_actions,
                                   G_N_ELEMENTS (app_actions), app);
  /* every accelerator in one table, so the Keyboard Shortcuts window (and
   * its test) finds each one by its action */
  static const struct { const char *action; const char *accels[2]; } accels[] = {
    { "app.new-training", { "<Control>n", NULL } },
    { "app.open-run", { "<Control>o", NULL } },
    { "app.preferences", { "<Control>comma", NULL } },
    { "app.help", { "F1", NULL } },
    /* win.show-help-overlay, the Keyboard Shortcuts window: GTK's own
     * action and accelerator (Ctrl+?) */
    { "app.quit", { "<Control>q", NULL } },
    { "window.close", { "<Control>w", NULL } },
    { "win.toggle-training", { "<Control>space", NULL } },
    { "win.save-now", { "<Control>s", NULL } },
    { "win.export-features", { "<Control>e", NULL } },
    { "win.show-view('training')", { "<Alt>1", NULL } },
    { "win.show-view('embedding')", { "<Alt>2", NULL } },
    { "win.show-view('query')", { "<Alt>3", NULL } },
    { "win.show-view('retrievals')", { "<Alt>4", NULL } },
  };
  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (app, accels[i].action,
                                           accels[i].accels);

  /* windows without an icon of their own (dialogs, the About window) */
  gtk_window_set_default_icon_name (INSTDISC_APPLICATION_ID);

  /* the engine's threads, before any run trains: a change in the
   * Preferences takes effect at the next start */
  g_autoptr (GSettings) settings = instdisc_settings_new ();
  instdisc_run_set_engine_threads (g_settings_get_int (settings, "threads"));

  GtkCssProvider *css = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (css,
                                       "/org/instdisc/Explorer/ui/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (),
                                              GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  g_object_unref (css);
}

static void
start_default (InstdiscApplication *self, InstdiscWindow *window)
{
  TrainerConfig config;
  trainer_config_init_default (&config);
  g_autofree char *dir = instdisc_default_run_dir ();
  g_print (_("Training the small ResNet on Fashion-MNIST in %s\n"), dir);
  instdisc_window_new_training (window, dir, "fashion-mnist", &config, TRUE);
}

/* --quit-when-shown: once the window has drawn a frame on the screen, say
 * so and close it as a person would (so it also saves its size). */
static gboolean
close_when_drawn (GtkWidget *widget, GdkFrameClock *clock, gpointer data)
{
  /* mapped and laid out: a frame of it has been drawn */
  if (!gtk_widget_get_mapped (widget) || gtk_widget_get_width (widget) == 0)
    return G_SOURCE_CONTINUE;
  g_print ("instdisc-explorer: window shown (%d×%d)\n",
           gtk_widget_get_width (widget), gtk_widget_get_height (widget));
  gtk_window_close (GTK_WINDOW (widget));
  return G_SOURCE_REMOVE;
}

static void
instdisc_application_activate (GApplication *application)
{
  InstdiscApplication *self = INSTDISC_APPLICATION (application);
  InstdiscWindow *window = active_window (self);
  gtk_window_present (GTK_WINDOW (window));
  if (self->quit_when_shown)
    {
      gtk_widget_add_tick_callback (GTK_WIDGET (window), close_when_drawn,
                                    NULL, NULL);
      return;
    }
  if (self->train_default)
    {
      self->train_default = FALSE;
      start_default (self, window);
    }
}

static void
instdisc_application_open (GApplication *application, GFile **files,
                           int n_files, const char *hint)
{
  InstdiscApplication *self = INSTDISC_APPLICATION (application);
  for (int i = 0; i < n_files; i++)
    {
      /* one window per run folder */
      InstdiscWindow *window = instdisc_window_new (GTK_APPLICATION (self));
      gtk_window_present (GTK_WINDOW (window));
      g_autofree char *path = g_file_get_path (files[i]);
      instdisc_window_open_run (window, path);
    }
}

static int
instdisc_application_handle_local_options (GApplication *application,
                                           GVariantDict *options)
{
  InstdiscApplication *self = INSTDISC_APPLICATION (application);
  if (g_variant_dict_contains (options, "train-default"))
    self->train_default = TRUE;
  if (g_variant_dict_contains (options, "quit-when-shown"))
    self->quit_when_shown = TRUE;
  return -1;
}

static void
instdisc_application_class_init (InstdiscApplicationClass *klass)
{
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  app_class->startup = instdisc_application_startup;
  app_class->activate = instdisc_application_activate;
  app_class->open = instdisc_application_open;
  app_class->handle_local_options = instdisc_application_handle_local_options;
}

static void
instdisc_application_init (InstdiscApplication *self)
{
  static const GOptionEntry entries[] = {
    { "train-default", 0, 0, G_OPTION_ARG_NONE, NULL,
      N_("Start training the small ResNet on Fashion-MNIST at once"), NULL },
    /* for the install test: does the installed explorer start? */
    { "quit-when-shown", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, NULL,
      "Show the window, then close it and quit", NULL },
    { NULL },
  };
  g_application_add_main_option_entries (G_APPLICATION (self), entries);
  g_application_set_option_context_parameter_string (G_APPLICATION (self),
                                                     N_("[RUN_DIR…]"));
  g_application_set_option_context_summary (
      G_APPLICATION (self),
      N_("Trains image embeddings by instance discrimination and shows them "
         "forming; opens run folders written by `instdisc train`, and follows "
         "them while they grow."));
}

InstdiscApplication *
instdisc_application_new (void)
{
  /* NON_UNIQUE: two explorers may train two runs at once */
  return g_object_new (INSTDISC_TYPE_APPLICATION,
                       "application-id", INSTDISC_APPLICATION_ID,
                       "flags", G_APPLICATION_HANDLES_OPEN
                                | G_APPLICATION_NON_UNIQUE,
                       NULL);
}
