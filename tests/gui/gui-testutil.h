/* gui-testutil.h: what the explorer's widget tests share: running the main
 * loop until something happens, finding widgets in a tree, and the image
 * a widget draws. */
#pragma once

#include <gtk/gtk.h>

/* Iterates the default main context until done (data) holds; aborts the
 * test after timeout_s seconds. */
static G_GNUC_UNUSED void
iterate_until (gboolean (*done) (gpointer), gpointer data, double timeout_s)
{
  gint64 end = g_get_monotonic_time () + (gint64) (timeout_s * G_USEC_PER_SEC);
  while (!done (data))
    {
      if (g_get_monotonic_time () > end)
        g_error ("timed out after %.0f s", timeout_s);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

/* The first widget of type in widget's tree, depth first, or NULL. */
static G_GNUC_UNUSED GtkWidget *
find_by_type (GtkWidget *widget, GType type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_by_type (child, type);
      if (found)
        return found;
    }
  return NULL;
}

/* Appends every widget of type in widget's tree to found. */
static G_GNUC_UNUSED void
find_all_by_type (GtkWidget *widget, GType type, GPtrArray *found)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    g_ptr_array_add (found, widget);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child;
       child = gtk_widget_get_next_sibling (child))
    find_all_by_type (child, type, found);
}

/* The first widget in widget's tree named name (gtk_widget_set_name), or
 * NULL. */
static G_GNUC_UNUSED GtkWidget *
find_by_name (GtkWidget *widget, const char *name)
{
  if (g_strcmp0 (gtk_widget_get_name (widget), name) == 0)
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_by_name (child, name);
      if (found)
        return found;
    }
  return NULL;
}

/* The first button in widget's tree whose label is label, or NULL. */
static G_GNUC_UNUSED GtkWidget *
find_button (GtkWidget *widget, const char *label)
{
  if (GTK_IS_BUTTON (widget)
      && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (widget)), label) == 0)
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_button (child, label);
      if (found)
        return found;
    }
  return NULL;
}

/* What widget draws, rendered by its window's own renderer, GL or cairo,
 * after a frame: the paintable shows what the widget last drew.
 * (transfer full) */
static G_GNUC_UNUSED GdkTexture *
render_widget (GtkWidget *widget)
{
  gint64 end = g_get_monotonic_time () + G_USEC_PER_SEC / 10;
  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, snapshot, w, h);
  GskRenderNode *node = gtk_snapshot_free_to_node (snapshot);
  g_assert_nonnull (node);
  GskRenderer *renderer
    = gtk_native_get_renderer (gtk_widget_get_native (widget));
  GdkTexture *texture
    = gsk_renderer_render_texture (renderer, node,
                                   &GRAPHENE_RECT_INIT (0, 0, w, h));
  gsk_render_node_unref (node);
  return texture;
}
