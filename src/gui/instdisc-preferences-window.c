/* instdisc-preferences-window.c: the Preferences window. Every control is
 * bound to its key with g_settings_bind, so a change applies at once and
 * there is nothing to save or cancel. */
#define G_LOG_DOMAIN "instdisc-gui"

#include "instdisc-preferences-window.h"

#include <glib/gi18n.h>

#include "instdisc-file-chooser.h"
#include "instdisc-settings.h"

struct _InstdiscPreferencesWindow
{
  GtkWindow parent_instance;

  /* template widgets */
  GtkDropDown *projection_dropdown;
  GtkLabel *run_folder_label;
  GtkButton *run_folder_button;
  GtkButton *run_folder_reset_button;
  GtkSpinButton *threads_spin;
  GtkSwitch *recomputed_switch;
  GtkSwitch *linear_switch;
  GtkSpinButton *recent_spin;
  GtkButton *clear_recent_button;

  /* owned */
  GSettings *settings;
};

G_DEFINE_FINAL_TYPE (InstdiscPreferencesWindow, instdisc_preferences_window,
                     GTK_TYPE_WINDOW)

/* the drop-down's rows are the enum's values, in order */
static gboolean
projection_to_selected (GValue *value, GVariant *variant, gpointer data)
{
  const char *nick = g_variant_get_string (variant, NULL);
  g_value_set_uint (value, g_str_equal (nick, "tsne") ? 1 : 0);
  return TRUE;
}

static GVariant *
selected_to_projection (const GValue *value, const GVariantType *type,
                        gpointer data)
{
  return g_variant_new_string (g_value_get_uint (value) == 1 ? "tsne" : "pca");
}

static void
update_run_folder (InstdiscPreferencesWindow *self)
{
  g_autofree char *parent = g_settings_get_string (self->settings,
                                                   "run-folder-parent");
  if (*parent)
    {
      g_autofree char *shown = g_filename_display_name (parent);
      gtk_label_set_text (self->run_folder_label, shown);
    }
  else
    /* Translators: where new runs go when no folder was chosen */
    gtk_label_set_text (self->run_folder_label,
                        _("“runs” in the folder the explorer started in"));
  gtk_widget_set_sensitive (GTK_WIDGET (self->run_folder_reset_button),
                            *parent != '\0');
}

static void
update_recent (InstdiscPreferencesWindow *self)
{
  g_auto (GStrv) runs = g_settings_get_strv (self->settings, "recent-runs");
  gtk_widget_set_sensitive (GTK_WIDGET (self->clear_recent_button),
                            runs[0] != NULL);
}

static void
on_settings_changed (GSettings *settings, const char *key,
                     InstdiscPreferencesWindow *self)
{
  if (g_str_equal (key, "run-folder-parent"))
    update_run_folder (self);
  else if (g_str_equal (key, "recent-runs"))
    update_recent (self);
}

static void
on_run_folder_chosen (const char *path, gpointer data)
{
  InstdiscPreferencesWindow *self = data;
  if (path)
    g_settings_set_string (self->settings, "run-folder-parent", path);
  g_object_unref (self);
}

static void
on_run_folder_clicked (InstdiscPreferencesWindow *self)
{
  GtkFileChooserNative *chooser = instdisc_file_chooser_new (
      GTK_WIDGET (self), _("Folder for New Runs"),
      GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _("_Select"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_autofree char *parent = g_settings_get_string (self->settings,
                                                   "run-folder-parent");
  if (*parent)
    {
      g_autoptr (GFile) folder = g_file_new_for_path (parent);
      gtk_file_chooser_set_file (GTK_FILE_CHOOSER (chooser), folder, NULL);
    }
  instdisc_file_chooser_choose_path (chooser, on_run_folder_chosen,
                                     g_object_ref (self));
}

static void
on_run_folder_reset_clicked (InstdiscPreferencesWindow *self)
{
  g_settings_reset (self->settings, "run-folder-parent");
}

static void
on_clear_recent_clicked (InstdiscPreferencesWindow *self)
{
  g_settings_set_strv (self->settings, "recent-runs", NULL);
}

/* 0 threads reads as what it means */
static gboolean
on_threads_output (GtkSpinButton *spin, gpointer data)
{
  int n = gtk_spin_button_get_value_as_int (spin);
  g_autofree char *text = n == 0 ? g_strdup (_("Automatic"))
                                 : g_strdup_printf ("%d", n);
  gtk_editable_set_text (GTK_EDITABLE (spin), text);
  return TRUE;
}

static int
on_threads_input (GtkSpinButton *spin, double *value, gpointer data)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (spin));
  if (g_str_equal (text, _("Automatic")))
    {
      *value = 0;
      return TRUE;
    }
  char *end = NULL;
  double parsed = g_strtod (text, &end);
  if (end == text)
    return GTK_INPUT_ERROR;
  *value = parsed;
  return TRUE;
}

static void
instdisc_preferences_window_dispose (GObject *object)
{
  InstdiscPreferencesWindow *self = INSTDISC_PREFERENCES_WINDOW (object);
  if (self->settings)
    g_signal_handlers_disconnect_by_data (self->settings, self);
  g_clear_object (&self->settings);
  gtk_widget_dispose_template (GTK_WIDGET (self),
                               INSTDISC_TYPE_PREFERENCES_WINDOW);
  G_OBJECT_CLASS (instdisc_preferences_window_parent_class)->dispose (object);
}

static void
instdisc_preferences_window_class_init (InstdiscPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = instdisc_preferences_window_dispose;
  gtk_widget_class_set_template_from_resource (
      widget_class, "/org/instdisc/Explorer/ui/instdisc-preferences-window.ui");
#define BIND(name) \
  gtk_widget_class_bind_template_child (widget_class, InstdiscPreferencesWindow, name)
  BIND (projection_dropdown);
  BIND (run_folder_label);
  BIND (run_folder_button);
  BIND (run_folder_reset_button);
  BIND (threads_spin);
  BIND (recomputed_switch);
  BIND (linear_switch);
  BIND (recent_spin);
  BIND (clear_recent_button);
#undef BIND
  gtk_widget_class_bind_template_callback (widget_class, on_run_folder_clicked);
  gtk_widget_class_bind_template_callback (widget_class,
                                           on_run_folder_reset_clicked);
  gtk_widget_class_bind_template_callback (widget_class,
                                           on_clear_recent_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_threads_output);
  gtk_widget_class_bind_template_callback (widget_class, on_threads_input);
  /* a window of settings, closed like a dialog */
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0,
                                       "window.close", NULL);
}

static void
instdisc_preferences_window_init (InstdiscPreferencesWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->settings = instdisc_settings_new ();
  g_settings_bind_with_mapping (self->settings, "preferred-projection",
                                self->projection_dropdown, "selected",
                                G_SETTINGS_BIND_DEFAULT,
                                projection_to_selected, selected_to_projection,
                                NULL, NULL);
  g_settings_bind (self->settings, "threads", self->threads_spin, "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "evaluate-recomputed",
                   self->recomputed_switch, "active", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "evaluate-linear", self->linear_switch,
                   "active", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "max-recent-runs", self->recent_spin,
                   "value", G_SETTINGS_BIND_DEFAULT);
  g_signal_connect (self->settings, "changed",
                    G_CALLBACK (on_settings_changed), self);
  update_run_folder (self);
  update_recent (self);
}

GtkWidget *
instdisc_preferences_window_new (GtkWindow *parent)
{
  return g_object_new (INSTDISC_TYPE_PREFERENCES_WINDOW,
                       "transient-for", parent, NULL);
}
