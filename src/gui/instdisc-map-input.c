/* instdisc-map-input.c: what a person does with an InstdiscMap: picking
 * the point under the pointer, hovering (and its card: the image, its label
 * and its name), panning and zooming, clicking a point. */
#define G_LOG_DOMAIN "instdisc-gui"

#include "instdisc-map-private.h"

#include <glib/gi18n.h>
#include <math.h>

#include "instdisc-thumb.h"

#define PICK_RADIUS 6.0      /* widget pixels around the pointer */

/* ---- picking and hovering ---- */

static const float *
shown_layout (InstdiscMap *self)
{
  if (self->shown_points)
    return instdisc_map_points_get_layout (self->shown_points);
  return self->layout ? g_bytes_get_data (self->layout, NULL) : NULL;
}

void
instdisc_map_point_position (InstdiscMap *self, int i, double *x, double *y)
{
  g_return_if_fail (i >= 0 && i < self->n);
  const float *layout = shown_layout (self);
  InstdiscMapView view;
  instdisc_map_get_view (self, &view);
  instdisc_map_view_to_widget (&view, layout[2 * i], layout[2 * i + 1], x, y);
}

int
instdisc_map_pick (InstdiscMap *self, double x, double y)
{
  if (!self->shown_points || self->n == 0)
    return -1;
  double w = gtk_widget_get_width (GTK_WIDGET (self));
  double h = gtk_widget_get_height (GTK_WIDGET (self));
  double dx = (x - w / 2.0) / self->zoom + self->cx;
  double dy = -(y - h / 2.0) / self->zoom + self->cy;
  double r = (PICK_RADIUS + self->shown_dot_radius) / self->zoom;
  return instdisc_map_points_nearest (self->shown_points, dx, dy, r);
}

static void
update_popover (InstdiscMap *self)
{
  if (self->hovered < 0 || !self->data || self->hovered >= self->data->n)
    {
      gtk_popover_popdown (GTK_POPOVER (self->popover));
      return;
    }
  int i = self->hovered;
  /* a photograph is decoded off the main loop and shown when it comes */
  instdisc_thumb_set_image (INSTDISC_THUMB (self->popover_thumb), self->data,
                            i);
  const int *labels = self->labels ? g_bytes_get_data (self->labels, NULL)
                                   : NULL;
  int label = labels ? labels[i] : -1;
  g_autofree char *text = NULL;
  if (label >= 0 && self->data->class_names
           && label < self->data->n_classes)
    text = g_strdup (self->data->class_names[label]);
  else if (label >= 0)
    text = g_strdup_printf (_("Class %d"), label);
  else
    text = g_strdup (_("No label"));
  gtk_label_set_text (GTK_LABEL (self->popover_label), text);
  g_autofree char *name = dataset_get_item_name (self->data, i);
  gtk_label_set_text (GTK_LABEL (self->popover_name), name);

  double x, y;
  instdisc_map_point_position (self, i, &x, &y);
  gtk_popover_set_pointing_to (GTK_POPOVER (self->popover),
                               &(GdkRectangle) { (int) x - 6, (int) y - 6,
                                                 12, 12 });
  gtk_popover_popup (GTK_POPOVER (self->popover));
}

void
instdisc_map_hover (InstdiscMap *self, double x, double y)
{
  self->pointer_x = x;
  self->pointer_y = y;
  int i = instdisc_map_pick (self, x, y);
  if (i == self->hovered)
    return;
  self->hovered = i;
  update_popover (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_enter (GtkEventControllerMotion *motion, double x, double y,
          InstdiscMap *self)
{
  instdisc_map_set_pointer_inside (self, TRUE);
  instdisc_map_hover (self, x, y);
}

static void
on_motion (GtkEventControllerMotion *motion, double x, double y,
           InstdiscMap *self)
{
  self->pointer_inside = TRUE;
  instdisc_map_hover (self, x, y);
}

static void
on_leave (GtkEventControllerMotion *motion, InstdiscMap *self)
{
  self->hovered = -1;
  gtk_popover_popdown (GTK_POPOVER (self->popover));
  gtk_widget_queue_draw (GTK_WIDGET (self));
  /* the layout held while the pointer was here shows now */
  instdisc_map_set_pointer_inside (self, FALSE);
}

/* ---- panning and zooming ---- */

static void
view_moved (InstdiscMap *self)
{
  self->user_moved = TRUE;
  self->hovered = -1;
  gtk_popover_popdown (GTK_POPOVER (self->popover));
  instdisc_map_request_render (self);
}

void
instdisc_map_center_on_point (InstdiscMap *self, int i)
{
  g_return_if_fail (INSTDISC_IS_MAP (self));
  const float *layout = shown_layout (self);
  if (!layout || i < 0 || i >= self->n || !isfinite (layout[2 * i])
      || !isfinite (layout[2 * i + 1]))
    return;
  self->cx = layout[2 * i];
  self->cy = layout[2 * i + 1];
  view_moved (self);
}

void
instdisc_map_pan (InstdiscMap *self, double dx, double dy)
{
  g_return_if_fail (INSTDISC_IS_MAP (self));
  self->cx -= dx / self->zoom;
  self->cy += dy / self->zoom;   /* y up */
  view_moved (self);
}

void
instdisc_map_zoom_at (InstdiscMap *self, double x, double y, double factor)
{
  g_return_if_fail (INSTDISC_IS_MAP (self));
  double w = gtk_widget_get_width (GTK_WIDGET (self));
  double h = gtk_widget_get_height (GTK_WIDGET (self));
  /* keep the data point under (x, y) where it is */
  double px = x - w / 2.0, py = y - h / 2.0;
  double ax = self->cx + px / self->zoom, ay = self->cy - py / self->zoom;
  self->zoom = CLAMP (self->zoom * factor, 1e-6, 1e9);
  self->cx = ax - px / self->zoom;
  self->cy = ay + py / self->zoom;
  view_moved (self);
}

static void
on_drag_begin (GtkGestureDrag *gesture, double x, double y, InstdiscMap *self)
{
  self->drag_cx = self->cx;
  self->drag_cy = self->cy;
  self->dragged = FALSE;
}

static void
on_drag_update (GtkGestureDrag *gesture, double dx, double dy,
                InstdiscMap *self)
{
  if (fabs (dx) + fabs (dy) < 3.0 && !self->dragged)
    return;   /* a click, not a drag */
  self->dragged = TRUE;
  self->cx = self->drag_cx - dx / self->zoom;
  self->cy = self->drag_cy + dy / self->zoom;
  view_moved (self);
}

static gboolean
on_scroll (GtkEventControllerScroll *scroll, double dx, double dy,
           InstdiscMap *self)
{
  if (self->n == 0)
    return FALSE;
  instdisc_map_zoom_at (self, self->pointer_x, self->pointer_y,
                        pow (1.2, -dy));
  return TRUE;
}

static void
on_click_released (GtkGestureClick *click, int n_press, double x, double y,
                   InstdiscMap *self)
{
  if (n_press == 2)
    {
      instdisc_map_fit (self);
      return;
    }
  if (self->dragged)
    return;
  /* what the ring shows under the pointer is what is selected: picked
   * among the points drawn, where they were drawn */
  int i = instdisc_map_pick (self, x, y);
  instdisc_map_emit_point_selected (self, i);
}

/* ---- setting up ---- */

void
instdisc_map_init_input (InstdiscMap *self)
{
  /* the hover card: the image, its label and its name */
  self->popover = gtk_popover_new ();
  gtk_popover_set_autohide (GTK_POPOVER (self->popover), FALSE);
  gtk_popover_set_has_arrow (GTK_POPOVER (self->popover), TRUE);
  gtk_popover_set_position (GTK_POPOVER (self->popover), GTK_POS_TOP);
  gtk_widget_set_can_target (self->popover, FALSE);
  gtk_widget_set_can_focus (self->popover, FALSE);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  self->popover_thumb = instdisc_thumb_new (NULL, 112);
  self->popover_label = gtk_label_new (NULL);
  gtk_widget_add_css_class (self->popover_label, "heading");
  self->popover_name = gtk_label_new (NULL);
  gtk_widget_add_css_class (self->popover_name, "caption");
  gtk_widget_add_css_class (self->popover_name, "dim-label");
  gtk_label_set_ellipsize (GTK_LABEL (self->popover_name),
                           PANGO_ELLIPSIZE_START);
  gtk_label_set_max_width_chars (GTK_LABEL (self->popover_name), 28);
  gtk_box_append (GTK_BOX (box), self->popover_thumb);
  gtk_box_append (GTK_BOX (box), self->popover_label);
  gtk_box_append (GTK_BOX (box), self->popover_name);
  gtk_popover_set_child (GTK_POPOVER (self->popover), box);
  gtk_widget_set_parent (self->popover, GTK_WIDGET (self));

  GtkEventController *motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "enter", G_CALLBACK (on_enter), self);
  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), self);
  g_signal_connect (motion, "leave", G_CALLBACK (on_leave), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);

  GtkGesture *drag = gtk_gesture_drag_new ();
  g_signal_connect (drag, "drag-begin", G_CALLBACK (on_drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (on_drag_update), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));

  GtkEventController *scroll
    = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
  g_signal_connect (scroll, "scroll", G_CALLBACK (on_scroll), self);
  gtk_widget_add_controller (GTK_WIDGET (self), scroll);

  GtkGesture *click = gtk_gesture_click_new ();
  g_signal_connect (click, "released", G_CALLBACK (on_click_released), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
}
