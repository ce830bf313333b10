/* instdisc-query-view.c: drop, paste, open or pick an image; see its
 * nearest training images.
 *
 * One query goes: decode (a GTask thread: a large JPEG takes tens of
 * milliseconds) -> instdisc_run_embed_async -> search the newest snapshot
 * (a GTask thread) -> a row on top. A query that finds no snapshot yet asks
 * the run for one and waits for it. Every step holds the query's own state,
 * so several queries may be in flight and finish in any order.
 */
#define G_LOG_DOMAIN "instdisc-gui"

#include "instdisc-query-view-private.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "dataset.h"
#include "instdisc-file-chooser.h"
#include "instdisc-thumb.h"
#include "knn.h"


G_DEFINE_FINAL_TYPE (InstdiscQueryView, instdisc_query_view, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_RUN,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
query_free (Query *q)
{
  if (q->remove_path && q->path)
    g_unlink (q->path);
  g_clear_object (&q->self);
  g_free (q->title);
  g_free (q->full_name);
  g_free (q->path);
  g_clear_pointer (&q->pixels, g_bytes_unref);
  g_clear_pointer (&q->feature, g_bytes_unref);
  g_clear_pointer (&q->snapshot, instdisc_snapshot_unref);
  g_free (q);
}

void
instdisc_query_view_update_status (InstdiscQueryView *self,
                                   const char *message)
{
  gtk_spinner_set_spinning (self->spinner, self->n_pending > 0);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), self->n_pending > 0);
  gtk_widget_set_sensitive (self->clear_button, self->n_rows > 0);
  const Dataset *test = self->run ? instdisc_run_get_test (self->run) : NULL;
  gtk_widget_set_sensitive (self->random_button, test && test->n > 0);
  /* the whole of a long message on hover: the line cuts it in the middle,
   * so that the file's name and the reason both show */
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->status_label), message);
  if (message)
    gtk_label_set_text (self->status_label, message);
  else if (self->n_pending > 0)
    gtk_label_set_text (self->status_label, _("Finding the nearest images…"));
  else if (!self->run)
    gtk_label_set_text (self->status_label, _("No run"));
  else
    gtk_label_set_text (self->status_label,
                        _("Or drop an image file anywhere on this page"));
}

static void
query_fail (Query *q, const GError *error)
{
  InstdiscQueryView *self = q->self;
  self->n_pending--;
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_free (self->last_error);
      self->last_error = g_strdup_printf (_("Could not query “%s”: %s"),
                                          q->title, error->message);
      g_warning ("%s", self->last_error);
      instdisc_query_view_update_status (self, self->last_error);
    }
  else
    instdisc_query_view_update_status (self, NULL);
  query_free (q);
}

/* ---- search ---- */

static void
search_thread (GTask *task, gpointer source, gpointer task_data,
               GCancellable *cancellable)
{
  Query *q = task_data;
  InstdiscSnapshot *s = q->snapshot;
  gsize size;
  const float *feature = g_bytes_get_data (q->feature, &size);
  if (size != (gsize) s->dim * sizeof (float))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                               _("The network gives %d numbers per image, "
                                 "the bank holds %d"),
                               (int) (size / sizeof (float)), s->dim);
      return;
    }
  int k = MIN (N_NEIGHBOURS, s->n);
  knn_search (q->similarities, q->neighbours, feature, 1, s->bank, s->n,
              s->dim, k);
  q->n_found = k;
  q->novelty = novelty_score (q->similarities, k);
  g_task_return_boolean (task, TRUE);
}

static void
search_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Query *q = user_data;
  g_autoptr (GError) error = NULL;
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      query_fail (q, error);
      return;
    }
  InstdiscQueryView *self = q->self;
  self->n_pending--;
  instdisc_query_view_add_row (self, q);
  instdisc_query_view_update_status (self, NULL);
  query_free (q);
}

static void
query_search (Query *q)
{
  InstdiscQueryView *self = q->self;
  q->snapshot = instdisc_snapshot_ref (self->snapshot);
  instdisc_query_view_calibrate (self, self->snapshot);
  g_autoptr (GTask) task = g_task_new (NULL, self->cancellable, search_done,
                                       q);
  g_task_set_source_tag (task, query_search);
  g_task_set_task_data (task, q, NULL);
  g_task_run_in_thread (task, search_thread);
}

static void
on_snapshot_ready (InstdiscRun *run, InstdiscSnapshot *snapshot,
                   InstdiscQueryView *self)
{
  g_clear_pointer (&self->snapshot, instdisc_snapshot_unref);
  self->snapshot = instdisc_snapshot_ref (snapshot);
  /* the queries that waited for a bank */
  while (self->waiting->len > 0)
    query_search (g_ptr_array_steal_index (self->waiting, 0));
}

/* ---- embedding ---- */

static void
embed_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Query *q = user_data;
  g_autoptr (GError) error = NULL;
  q->feature = instdisc_run_embed_finish (INSTDISC_RUN (source), result,
                                          &error);
  if (!q->feature)
    {
      query_fail (q, error);
      return;
    }
  InstdiscQueryView *self = q->self;
  if (self->snapshot)
    query_search (q);
  else
    {
      g_ptr_array_add (self->waiting, q);
      instdisc_run_request_snapshot (self->run);
    }
}

static void
query_embed (Query *q)
{
  instdisc_run_embed_async (q->self->run, q->pixels, 1, q->self->cancellable,
                            embed_done, q);
}

/* ---- decoding ---- */

static void
decode_thread (GTask *task, gpointer source, gpointer task_data,
               GCancellable *cancellable)
{
  Query *q = task_data;
  const Dataset *train = instdisc_run_get_train (q->self->run);
  /* the training images' size and channels, and the same resize a folder
   * data set uses (IDX and CIFAR images are square already) */
  gsize bytes = (gsize) train->channels * train->height * train->width;
  g_autofree guint8 *pixels = g_malloc (bytes);
  GError *error = NULL;
  if (!dataset_decode_file (q->path, train->channels, train->height,
                            train->resize, pixels, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  q->pixels = g_bytes_new_take (g_steal_pointer (&pixels), bytes);
  g_task_return_boolean (task, TRUE);
}

static void
decode_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Query *q = user_data;
  g_autoptr (GError) error = NULL;
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      query_fail (q, error);
      return;
    }
  query_embed (q);
}

static gboolean
query_begin (InstdiscQueryView *self)
{
  if (!self->run || !instdisc_run_get_train (self->run))
    {
      instdisc_query_view_update_status (
          self, _("Open or start a run to query its images"));
      return FALSE;
    }
  self->n_pending++;
  instdisc_query_view_update_status (self, NULL);
  return TRUE;
}

static void
query_path (InstdiscQueryView *self, const char *path, const char *title,
            gboolean remove_after)
{
  if (!query_begin (self))
    {
      if (remove_after)
        g_unlink (path);
      return;
    }
  Query *q = g_new0 (Query, 1);
  q->self = g_object_ref (self);
  q->path = g_strdup (path);
  q->remove_path = remove_after;
  q->title = g_strdup (title);
  q->full_name = remove_after ? g_strdup (title)
                              : g_filename_display_name (path);
  q->label = -1;
  g_autoptr (GTask) task = g_task_new (NULL, self->cancellable, decode_done,
                                       q);
  g_task_set_source_tag (task, query_path);
  g_task_set_task_data (task, q, NULL);
  g_task_run_in_thread (task, decode_thread);
}

void
instdisc_query_view_query_file (InstdiscQueryView *self, GFile *file)
{
  g_return_if_fail (INSTDISC_IS_QUERY_VIEW (self));
  g_autofree char *path = g_file_get_path (file);
  g_autofree char *title = g_file_get_basename (file);
  if (!path)
    {
      g_autofree char *uri = g_file_get_uri (file);
      g_autofree char *message
        = g_strdup_printf (_("“%s” is not a local file"), uri);
      instdisc_query_view_update_status (self, message);
      return;
    }
  query_path (self, path, title, FALSE);
}

/* image i of set (the test or the training set) as a query */
static void
query_dataset_image (InstdiscQueryView *self, const Dataset *set, int i,
                     const char *title)
{
  const Dataset *train = instdisc_run_get_train (self->run);
  gsize bytes = (gsize) set->channels * set->height * set->width;
  g_autofree guint8 *pixels = g_malloc (bytes);
  g_autoptr (GError) error = NULL;
  if (set->channels != train->channels || set->height != train->height
      || set->width != train->width)
    {
      instdisc_query_view_update_status (self, _("The test images differ in "
                                                 "size from the training "
                                                 "images"));
      return;
    }
  if (!dataset_get_image (set, i, pixels, &error))
    {
      instdisc_query_view_update_status (self, error->message);
      return;
    }
  if (!query_begin (self))
    return;
  Query *q = g_new0 (Query, 1);
  q->self = g_object_ref (self);
  q->title = g_strdup (title);
  q->full_name = dataset_get_item_name (set, i);
  q->pixels = g_bytes_new_take (g_steal_pointer (&pixels), bytes);
  q->label = set->labels ? set->labels[i] : -1;
  query_embed (q);
}

void
instdisc_query_view_query_test_image (InstdiscQueryView *self, int i)
{
  g_return_if_fail (INSTDISC_IS_QUERY_VIEW (self));
  const Dataset *test = self->run ? instdisc_run_get_test (self->run) : NULL;
  const Dataset *train = self->run ? instdisc_run_get_train (self->run)
                                   : NULL;
  if (!test || test->n == 0 || !train)
    {
      instdisc_query_view_update_status (self,
                                         _("This run has no test images"));
      return;
    }
  if (i < 0 || i >= test->n)
    i = g_random_int_range (0, test->n);
  /* a short title under the thumbnail; the full name is its tooltip */
  g_autofree char *title = g_strdup_printf (_("Test %d"), i);
  query_dataset_image (self, test, i, title);
}

void
instdisc_query_view_query_training_image (InstdiscQueryView *self, int i)
{
  g_return_if_fail (INSTDISC_IS_QUERY_VIEW (self));
  const Dataset *train = self->run ? instdisc_run_get_train (self->run)
                                   : NULL;
  if (!train || i < 0 || i >= train->n)
    return;
  g_autofree char *title = g_strdup_printf (_("Training %d"), i);
  query_dataset_image (self, train, i, title);
}

/* ---- drop, paste, open ---- */

static gboolean
on_drop (GtkDropTarget *target, const GValue *value, double x, double y,
         InstdiscQueryView *self)
{
  if (!G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    return FALSE;
  GSList *files = gdk_file_list_get_files (g_value_get_boxed (value));
  /* in reverse, so the first dropped file ends on top */
  files = g_slist_reverse (files);
  for (GSList *l = files; l; l = l->next)
    instdisc_query_view_query_file (self, l->data);
  gboolean any = files != NULL;
  g_slist_free (files);
  return any;
}

static void
paste_texture (InstdiscQueryView *self, GdkTexture *texture)
{
  /* through a PNG file, so a pasted image is resized exactly as a dropped
   * one (and a folder data set's images) are */
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  int fd = g_file_open_tmp ("instdisc-paste-XXXXXX.png", &path, &error);
  if (fd < 0)
    {
      instdisc_query_view_update_status (self, error->message);
      return;
    }
  close (fd);
  if (!gdk_texture_save_to_png (texture, path))
    {
      g_unlink (path);
      instdisc_query_view_update_status (
          self, _("Could not read the pasted image"));
      return;
    }
  query_path (self, path, _("Pasted image"), TRUE);
}

static void
on_clipboard_texture (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (InstdiscQueryView) self = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GdkTexture) texture
    = gdk_clipboard_read_texture_finish (GDK_CLIPBOARD (source), result,
                                         &error);
  if (!texture)
    {
      instdisc_query_view_update_status (self,
                                         _("The clipboard holds no image"));
      return;
    }
  paste_texture (self, texture);
}

static void
on_clipboard_files (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (InstdiscQueryView) self = data;
  const GValue *value
    = gdk_clipboard_read_value_finish (GDK_CLIPBOARD (source), result, NULL);
  if (value && G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    {
      on_drop (NULL, value, 0, 0, self);
      return;
    }
  gdk_clipboard_read_texture_async (GDK_CLIPBOARD (source), NULL,
                                    on_clipboard_texture,
                                    g_object_ref (self));
}

static void
on_paste_clicked (InstdiscQueryView *self)
{
  GdkClipboard *clipboard = gtk_widget_get_clipboard (GTK_WIDGET (self));
  GdkContentFormats *formats = gdk_clipboard_get_formats (clipboard);
  /* a copied file (from a file manager) first, else image data */
  if (gdk_content_formats_contain_gtype (formats, GDK_TYPE_FILE_LIST))
    gdk_clipboard_read_value_async (clipboard, GDK_TYPE_FILE_LIST,
                                    G_PRIORITY_DEFAULT, NULL,
                                    on_clipboard_files, g_object_ref (self));
  else
    gdk_clipboard_read_texture_async (clipboard, NULL, on_clipboard_texture,
                                      g_object_ref (self));
}

static void
on_chooser_response (GtkNativeDialog *dialog, int response,
                     InstdiscQueryView *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GListModel) files
        = gtk_file_chooser_get_files (GTK_FILE_CHOOSER (dialog));
      for (guint i = g_list_model_get_n_items (files); i > 0; i--)
        {
          g_autoptr (GFile) file = g_list_model_get_item (files, i - 1);
          instdisc_query_view_query_file (self, file);
        }
    }
  g_clear_object (&self->chooser);
}

static void
on_open_clicked (InstdiscQueryView *self)
{
  g_clear_object (&self->chooser);
  self->chooser = instdisc_file_chooser_new (GTK_WIDGET (self),
                                             _("Query Images"),
                                             GTK_FILE_CHOOSER_ACTION_OPEN,
                                             _("_Query"));
  gtk_file_chooser_set_select_multiple (GTK_FILE_CHOOSER (self->chooser),
                                        TRUE);
  instdisc_file_chooser_add_image_filter (self->chooser);
  g_signal_connect (self->chooser, "response",
                    G_CALLBACK (on_chooser_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
on_random_clicked (InstdiscQueryView *self)
{
  instdisc_query_view_query_test_image (self, -1);
}

static void
on_clear_clicked (InstdiscQueryView *self)
{
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->rows_box))))
    gtk_box_remove (self->rows_box, child);
  self->n_rows = 0;
  gtk_stack_set_visible_child_name (self->stack, "empty");
  instdisc_query_view_update_status (self, NULL);
}

/* ---- public ---- */

void
instdisc_query_view_set_run (InstdiscQueryView *self, InstdiscRun *run)
{
  g_return_if_fail (INSTDISC_IS_QUERY_VIEW (self));
  if (self->run == run)
    return;
  if (self->run)
    g_clear_signal_handler (&self->snapshot_handler, self->run);
  /* queries of the old run are dropped, its rows stay (they are images) */
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  g_ptr_array_set_size (self->waiting, 0);
  g_clear_pointer (&self->snapshot, instdisc_snapshot_unref);
  if (self->calibration_cancellable)
    g_cancellable_cancel (self->calibration_cancellable);
  g_clear_object (&self->calibration_cancellable);
  g_clear_pointer (&self->calibrating, instdisc_snapshot_unref);
  g_clear_pointer (&self->calibration, novelty_calibration_free);
  g_set_object (&self->run, run);
  if (run)
    self->snapshot_handler = g_signal_connect (run, "snapshot-ready",
                                               G_CALLBACK (on_snapshot_ready),
                                               self);
  instdisc_query_view_update_status (self, NULL);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUN]);
}

GtkDropTarget *
instdisc_query_view_get_drop_target (InstdiscQueryView *self)
{
  return self->drop_target;
}

int
instdisc_query_view_get_n_rows (InstdiscQueryView *self)
{
  return self->n_rows;
}

GtkWidget *
instdisc_query_view_get_row_neighbours (InstdiscQueryView *self, int i)
{
  GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->rows_box));
  for (; row && i > 0; i--)
    row = gtk_widget_get_next_sibling (row);
  return row ? g_object_get_data (G_OBJECT (row), "neighbours") : NULL;
}

int
instdisc_query_view_get_n_pending (InstdiscQueryView *self)
{
  return self->n_pending;
}

const char *
instdisc_query_view_get_last_error (InstdiscQueryView *self)
{
  return self->last_error;
}

GtkWidget *
instdisc_query_view_new (void)
{
  return g_object_new (INSTDISC_TYPE_QUERY_VIEW, NULL);
}

/* ---- GObject ---- */

static void
instdisc_query_view_dispose (GObject *object)
{
  InstdiscQueryView *self = INSTDISC_QUERY_VIEW (object);
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  if (self->run)
    g_clear_signal_handler (&self->snapshot_handler, self->run);
  g_clear_object (&self->run);
  g_clear_pointer (&self->snapshot, instdisc_snapshot_unref);
  g_clear_pointer (&self->waiting, g_ptr_array_unref);
  g_clear_object (&self->chooser);
  instdisc_query_view_row_dispose (self);
  g_clear_object (&self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), INSTDISC_TYPE_QUERY_VIEW);
  /* the template's unnamed root box is not cleared by the call above */
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))))
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (instdisc_query_view_parent_class)->dispose (object);
}

static void
instdisc_query_view_finalize (GObject *object)
{
  InstdiscQueryView *self = INSTDISC_QUERY_VIEW (object);
  g_free (self->last_error);
  G_OBJECT_CLASS (instdisc_query_view_parent_class)->finalize (object);
}

static void
instdisc_query_view_get_property (GObject *object, guint id, GValue *value,
                                  GParamSpec *pspec)
{
  if (id == PROP_RUN)
    g_value_set_object (value, INSTDISC_QUERY_VIEW (object)->run);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
}

static void
instdisc_query_view_set_property (GObject *object, guint id,
                                  const GValue *value, GParamSpec *pspec)
{
  if (id == PROP_RUN)
    instdisc_query_view_set_run (INSTDISC_QUERY_VIEW (object), g_value_get_object (value));
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
}

static void
instdisc_query_view_class_init (InstdiscQueryViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  object_class->dispose = instdisc_query_view_dispose;
  object_class->get_property = instdisc_query_view_get_property;
  object_class->set_property = instdisc_query_view_set_property;
  /* the run shown, NULL for none: the window binds it to its own */
  properties[PROP_RUN] =
    g_param_spec_object ("run", NULL, NULL, INSTDISC_TYPE_RUN,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY
                         | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
  object_class->finalize = instdisc_query_view_finalize;

  gtk_widget_class_set_template_from_resource (
    widget_class, "/org/instdisc/Explorer/ui/instdisc-query-view.ui");
  gtk_widget_class_set_layout_manager_type (widget_class,
                                            GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_bind_template_child (widget_class, InstdiscQueryView,
                                        status_label);
  gtk_widget_class_bind_template_child (widget_class, InstdiscQueryView,
                                        spinner);
  gtk_widget_class_bind_template_child (widget_class, InstdiscQueryView,
                                        stack);
  gtk_widget_class_bind_template_child (widget_class, InstdiscQueryView,
                                        rows_box);
  gtk_widget_class_bind_template_child (widget_class, InstdiscQueryView,
                                        rows_scroller);
  gtk_widget_class_bind_template_child (widget_class, InstdiscQueryView,
                                        clear_button);
  gtk_widget_class_bind_template_child (widget_class, InstdiscQueryView,
                                        random_button);
  gtk_widget_class_bind_template_callback (widget_class, on_open_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_paste_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_random_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_clear_clicked);
  instdisc_query_view_row_class_init (widget_class);
}

static void
instdisc_query_view_init (InstdiscQueryView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
  /* a clicked neighbour's menu (instdisc-query-view-row.c) */
  self->neighbour_menu = gtk_popover_menu_new_from_model (NULL);
  gtk_widget_set_parent (self->neighbour_menu, GTK_WIDGET (self));
  self->waiting = g_ptr_array_new_with_free_func ((GDestroyNotify) query_free);
  /* the whole view takes drops, not only the empty page */
  self->drop_target = gtk_drop_target_new (GDK_TYPE_FILE_LIST,
                                           GDK_ACTION_COPY);
  g_signal_connect (self->drop_target, "drop", G_CALLBACK (on_drop), self);
  gtk_widget_add_controller (GTK_WIDGET (self),
                             GTK_EVENT_CONTROLLER (self->drop_target));
  instdisc_query_view_update_status (self, NULL);
}
