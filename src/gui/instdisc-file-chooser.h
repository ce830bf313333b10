/* instdisc-file-chooser.h: how the explorer asks for files and folders.
 *
 * GTK 4.8 has no GtkFileDialog, so every chooser is a GtkFileChooserNative
 * (the portal's dialog in a sandbox, GTK's own otherwise) made here: the
 * title, the accept button, Cancel, and the window it belongs to. A
 * GtkNativeDialog is not kept alive by GTK; instdisc_file_chooser_choose_path
 * keeps it until it answers, for the common case of one local path. A
 * caller that wants GFiles (several images, say) keeps the chooser itself
 * and connects to "response".
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* A chooser for action, transient for the window parent is in (parent may
 * be NULL or a widget not in a window yet: then for none), titled title,
 * with accept_label and "_Cancel" on its buttons. Not shown yet. */
GtkFileChooserNative *instdisc_file_chooser_new (GtkWidget *parent,
                                                 const char *title,
                                                 GtkFileChooserAction action,
                                                 const char *accept_label);

/* Offers only the image formats GdkPixbuf reads (data_image_extensions
 * and data_image_mime_types), under "Images". */
void instdisc_file_chooser_add_image_filter (GtkFileChooserNative *chooser);

/* path: the local path of the file accepted; NULL when the person
 * cancelled or chose something without one. */
typedef void (*InstdiscPathChosen) (const char *path, gpointer user_data);

/* Shows chooser and takes it over: it stays alive until it answers and is
 * released then. chosen is called once, with the answer. */
void instdisc_file_chooser_choose_path (GtkFileChooserNative *chooser,
                                        InstdiscPathChosen chosen,
                                        gpointer user_data);

G_END_DECLS
