/* instdisc-help.c: opening the user help (see instdisc-help.h). */
#define G_LOG_DOMAIN "instdisc-gui"

#include "instdisc-help.h"

#include <glib/gi18n.h>

/* INSTDISC_BUILD_ROOT, INSTDISC_BUILD_HELP_HTML and INSTDISC_HELP_HTML_INSTALLED come
 * from src/gui/meson.build: the build tree, its HTML and the installed
 * HTML */

InstdiscHelpWay
instdisc_help_choose (gboolean uninstalled, gboolean have_yelp)
{
  return !uninstalled && have_yelp ? INSTDISC_HELP_YELP : INSTDISC_HELP_HTML;
}

gboolean
instdisc_help_is_uninstalled (void)
{
  const char *dir = g_getenv ("INSTDISC_HELP_HTML_DIR");
  if (dir && *dir)
    return TRUE;
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *root = g_strconcat (INSTDISC_BUILD_ROOT, "/", NULL);
  return exe && g_str_has_prefix (exe, root);
}

static const char *
html_dir (void)
{
  const char *dir = g_getenv ("INSTDISC_HELP_HTML_DIR");
  if (dir && *dir)
    return dir;
  return instdisc_help_is_uninstalled () ? INSTDISC_BUILD_HELP_HTML
                                         : INSTDISC_HELP_HTML_INSTALLED;
}

char *
instdisc_help_get_html_uri (void)
{
  const char *const *languages = g_get_language_names ();
  for (int i = 0; languages[i]; i++)
    {
      g_autofree char *index = g_build_filename (html_dir (), languages[i],
                                                 "index.html", NULL);
      if (g_file_test (index, G_FILE_TEST_IS_REGULAR))
        return g_filename_to_uri (index, NULL, NULL);
    }
  return NULL;
}

static void
say_cannot_open (GtkWindow *parent, const char *why)
{
  g_autofree char *where = g_build_filename (html_dir (), "C", "index.html",
                                             NULL);
  GtkWidget *dialog = gtk_message_dialog_new (
      parent, GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
      GTK_MESSAGE_INFO, GTK_BUTTONS_CLOSE, "%s", _("Help Could Not Be Opened"));
  /* Translators: the first %s is why (a system message), the second the
   * path of the help's pages */
  gtk_message_dialog_format_secondary_text (
      GTK_MESSAGE_DIALOG (dialog),
      _("%s\n\nInstall the help browser Yelp (Debian’s package: yelp) or a "
        "web browser. The help’s pages are also at %s."), why, where);
  g_signal_connect (dialog, "response", G_CALLBACK (gtk_window_destroy),
                    NULL);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_html_shown (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GError) error = NULL;
  if (!gtk_show_uri_full_finish (GTK_WINDOW (source), result, &error))
    say_cannot_open (GTK_WINDOW (source), error->message);
}

static void
show_html (GtkWindow *parent)
{
  g_autofree char *uri = instdisc_help_get_html_uri ();
  if (!uri)
    {
      say_cannot_open (parent, _("The help’s HTML pages are not there (the "
                                 "build had no yelp-build)."));
      return;
    }
  gtk_show_uri_full (parent, uri, GDK_CURRENT_TIME, NULL, on_html_shown,
                     NULL);
}

static void
on_yelp_shown (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GError) error = NULL;
  if (!gtk_show_uri_full_finish (GTK_WINDOW (source), result, &error))
    {
      g_message ("help:instdisc did not open (%s): the HTML instead",
                 error->message);
      show_html (GTK_WINDOW (source));
    }
}

void
instdisc_help_show (GtkWindow *parent)
{
  g_autoptr (GAppInfo) yelp = g_app_info_get_default_for_uri_scheme ("help");
  if (instdisc_help_choose (instdisc_help_is_uninstalled (), yelp != NULL)
      == INSTDISC_HELP_YELP)
    /* the Mallard pages, installed under the yelp id "instdisc" */
    gtk_show_uri_full (parent, "help:instdisc", GDK_CURRENT_TIME, NULL,
                       on_yelp_shown, NULL);
  else
    show_html (parent);
}
