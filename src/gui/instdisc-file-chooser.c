/* instdisc-file-chooser.c: the explorer's file and folder choosers (see
 * instdisc-file-chooser.h). */
#define G_LOG_DOMAIN "instdisc-gui"

#include "instdisc-file-chooser.h"

#include <glib/gi18n.h>

#include "image-formats.h"

GtkFileChooserNative *
instdisc_file_chooser_new (GtkWidget *parent, const char *title,
                           GtkFileChooserAction action,
                           const char *accept_label)
{
  GtkRoot *root = parent ? gtk_widget_get_root (parent) : NULL;
  return gtk_file_chooser_native_new (title,
                                      GTK_IS_WINDOW (root) ? GTK_WINDOW (root)
                                                           : NULL,
                                      action, accept_label, _("_Cancel"));
}

void
instdisc_file_chooser_add_image_filter (GtkFileChooserNative *chooser)
{
  g_autoptr (GtkFileFilter) filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, _("Images"));
  /* the data layer's list, which the decoder, the folder scan and the
   * command line use too: by type, and by name for files whose type the
   * system does not know (WebP on a system without its MIME entry) */
  for (const char *const *m = data_image_mime_types (); *m; m++)
    gtk_file_filter_add_mime_type (filter, *m);
  for (const char *const *e = data_image_extensions (); *e; e++)
    gtk_file_filter_add_suffix (filter, *e);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
}

typedef struct
{
  InstdiscPathChosen chosen;
  gpointer user_data;
} PathRequest;

static void
on_path_response (GtkNativeDialog *chooser, int response, gpointer data)
{
  g_autofree PathRequest *request = data;
  g_autofree char *path = NULL;
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      path = file ? g_file_get_path (file) : NULL;
    }
  request->chosen (path, request->user_data);
  g_object_unref (chooser);
}

void
instdisc_file_chooser_choose_path (GtkFileChooserNative *chooser,
                                   InstdiscPathChosen chosen,
                                   gpointer user_data)
{
  g_return_if_fail (GTK_IS_FILE_CHOOSER_NATIVE (chooser));
  g_return_if_fail (chosen != NULL);
  PathRequest *request = g_new0 (PathRequest, 1);
  request->chosen = chosen;
  request->user_data = user_data;
  g_signal_connect (chooser, "response", G_CALLBACK (on_path_response),
                    request);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}
