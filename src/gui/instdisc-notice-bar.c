/* instdisc-notice-bar.c: the explorer's notices (instdisc-notice-bar.h). */
#define G_LOG_DOMAIN "instdisc-gui"

#include "instdisc-notice-bar.h"

#include <glib/gi18n.h>

/* how long news of an action done stays, in seconds: long enough to read
 * two lines and reach its button */
#define INFO_SECONDS 8
/* a pulsing bar moves this often */
#define PULSE_MS 120

struct _InstdiscNoticeBar
{
  GtkWidget parent_instance;

  /* template widgets */
  GtkRevealer *revealer;
  GtkWidget *box;
  GtkImage *icon;
  GtkLabel *message_label;
  GtkProgressBar *progress;
  GtkButton *action_button;
  GtkButton *close_button;

  InstdiscNoticeKind kind;
  gboolean shown;
  double fraction;
  char *action_uri;
  guint hide_source;
  guint pulse_source;
};

G_DEFINE_FINAL_TYPE (InstdiscNoticeBar, instdisc_notice_bar, GTK_TYPE_WIDGET)

static void
stop_timers (InstdiscNoticeBar *self)
{
  g_clear_handle_id (&self->hide_source, g_source_remove);
  g_clear_handle_id (&self->pulse_source, g_source_remove);
}

void
instdisc_notice_bar_dismiss (InstdiscNoticeBar *self)
{
  g_return_if_fail (INSTDISC_IS_NOTICE_BAR (self));
  stop_timers (self);
  self->shown = FALSE;
  gtk_revealer_set_reveal_child (self->revealer, FALSE);
}

static gboolean
hide_after_info (gpointer data)
{
  InstdiscNoticeBar *self = data;
  self->hide_source = 0;
  instdisc_notice_bar_dismiss (self);
  return G_SOURCE_REMOVE;
}

gboolean
instdisc_notice_bar_show (InstdiscNoticeBar *self, InstdiscNoticeKind kind,
                          const char *message)
{
  g_return_val_if_fail (INSTDISC_IS_NOTICE_BAR (self), FALSE);
  g_return_val_if_fail (message != NULL, FALSE);
  if (self->shown && self->kind == INSTDISC_NOTICE_ERROR
      && kind != INSTDISC_NOTICE_ERROR)
    return FALSE;
  stop_timers (self);
  self->kind = kind;
  self->shown = TRUE;
  static const char *const icons[] = {
    [INSTDISC_NOTICE_INFO] = "emblem-ok-symbolic",
    [INSTDISC_NOTICE_PROGRESS] = "document-save-symbolic",
    [INSTDISC_NOTICE_ERROR] = "dialog-error-symbolic",
  };
  static const char *const classes[] = {
    [INSTDISC_NOTICE_INFO] = "info",
    [INSTDISC_NOTICE_PROGRESS] = "progress",
    [INSTDISC_NOTICE_ERROR] = "error",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (classes); i++)
    gtk_widget_remove_css_class (self->box, classes[i]);
  gtk_widget_add_css_class (self->box, classes[kind]);
  gtk_image_set_from_icon_name (self->icon, icons[kind]);
  gtk_label_set_text (self->message_label, message);
  gtk_widget_set_visible (GTK_WIDGET (self->progress), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->action_button), FALSE);
  g_clear_pointer (&self->action_uri, g_free);
  self->fraction = 0.0;
  gtk_revealer_set_reveal_child (self->revealer, TRUE);
  if (kind == INSTDISC_NOTICE_INFO)
    self->hide_source = g_timeout_add_seconds (INFO_SECONDS, hide_after_info,
                                               self);
  return TRUE;
}

static gboolean
pulse (gpointer data)
{
  InstdiscNoticeBar *self = data;
  gtk_progress_bar_pulse (self->progress);
  return G_SOURCE_CONTINUE;
}

void
instdisc_notice_bar_set_progress (InstdiscNoticeBar *self, double fraction)
{
  g_return_if_fail (INSTDISC_IS_NOTICE_BAR (self));
  if (!self->shown || self->kind != INSTDISC_NOTICE_PROGRESS)
    return;
  gtk_widget_set_visible (GTK_WIDGET (self->progress), TRUE);
  self->fraction = fraction;
  if (fraction < 0)
    {
      if (!self->pulse_source)
        self->pulse_source = g_timeout_add (PULSE_MS, pulse, self);
      return;
    }
  g_clear_handle_id (&self->pulse_source, g_source_remove);
  gtk_progress_bar_set_fraction (self->progress, CLAMP (fraction, 0.0, 1.0));
}

void
instdisc_notice_bar_set_action (InstdiscNoticeBar *self, const char *label,
                                const char *uri)
{
  g_return_if_fail (INSTDISC_IS_NOTICE_BAR (self));
  g_free (self->action_uri);
  self->action_uri = g_strdup (uri);
  gtk_button_set_label (self->action_button, label);
  gtk_button_set_use_underline (self->action_button, TRUE);
  gtk_widget_set_visible (GTK_WIDGET (self->action_button), uri != NULL);
}

static void
on_action (GtkButton *button, InstdiscNoticeBar *self)
{
  if (!self->action_uri)
    return;
  /* GTK 4.8 has no GtkFileLauncher, and gtk_show_uri reports nothing
   * when no application takes the URI: GIO's launcher says why */
  g_autoptr (GError) error = NULL;
  if (!g_app_info_launch_default_for_uri (self->action_uri, NULL, &error))
    {
      g_autofree char *path = g_filename_from_uri (self->action_uri, NULL,
                                                   NULL);
      g_autofree char *text = g_strdup_printf (
          _("Could not open %s: %s"), path ? path : self->action_uri,
          error->message);
      instdisc_notice_bar_show (self, INSTDISC_NOTICE_ERROR, text);
    }
}

const char *
instdisc_notice_bar_get_message (InstdiscNoticeBar *self)
{
  return self->shown ? gtk_label_get_text (self->message_label) : NULL;
}

InstdiscNoticeKind
instdisc_notice_bar_get_kind (InstdiscNoticeBar *self)
{
  return self->kind;
}

double
instdisc_notice_bar_get_progress (InstdiscNoticeBar *self)
{
  return self->fraction;
}

const char *
instdisc_notice_bar_get_action_uri (InstdiscNoticeBar *self)
{
  return self->action_uri;
}

static void
instdisc_notice_bar_dispose (GObject *object)
{
  InstdiscNoticeBar *self = INSTDISC_NOTICE_BAR (object);
  stop_timers (self);
  g_clear_pointer (&self->action_uri, g_free);
  gtk_widget_dispose_template (GTK_WIDGET (self), INSTDISC_TYPE_NOTICE_BAR);
  G_OBJECT_CLASS (instdisc_notice_bar_parent_class)->dispose (object);
}

static void
instdisc_notice_bar_class_init (InstdiscNoticeBarClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  object_class->dispose = instdisc_notice_bar_dispose;
  gtk_widget_class_set_layout_manager_type (widget_class,
                                            GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_template_from_resource (
      widget_class, "/org/instdisc/Explorer/ui/instdisc-notice-bar.ui");
  gtk_widget_class_bind_template_child (widget_class, InstdiscNoticeBar,
                                        revealer);
  gtk_widget_class_bind_template_child (widget_class, InstdiscNoticeBar, box);
  gtk_widget_class_bind_template_child (widget_class, InstdiscNoticeBar, icon);
  gtk_widget_class_bind_template_child (widget_class, InstdiscNoticeBar,
                                        message_label);
  gtk_widget_class_bind_template_child (widget_class, InstdiscNoticeBar,
                                        progress);
  gtk_widget_class_bind_template_child (widget_class, InstdiscNoticeBar,
                                        action_button);
  gtk_widget_class_bind_template_child (widget_class, InstdiscNoticeBar,
                                        close_button);
}

static void
instdisc_notice_bar_init (InstdiscNoticeBar *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_swapped (self->close_button, "clicked",
                            G_CALLBACK (instdisc_notice_bar_dismiss), self);
  g_signal_connect (self->action_button, "clicked", G_CALLBACK (on_action),
                    self);
}
