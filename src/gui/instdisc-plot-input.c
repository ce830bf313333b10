/* instdisc-plot-input.c: the plot under the pointer. Hovering shows a
 * vertical guide at the nearest point and a card with its x and each
 * series' value there, drawn in the widget's snapshot only, so exports
 * stay plain. A zoomable plot zooms its x axis about the pointer on
 * scrolling, pans on dragging and fits the data on a double click. */
#define G_LOG_DOMAIN "instdisc-gui"

#include "instdisc-plot-private.h"

#include <glib/gi18n.h>
#include <math.h>

typedef InstdiscPlotPoint Point;
typedef InstdiscPlotSeries Series;
typedef InstdiscPlotFrame Frame;

/* a series' point this far (pixels) across from the guide still counts
 * as being at it: another run's steps need not fall on this one's */
#define READOUT_SLACK_PX 6.0
/* one step of the scroll wheel zooms this much */
#define ZOOM_PER_SCROLL 1.25
/* the narrowest view: this share of the data, and two whole x for
 * counts */
#define ZOOM_MAX 2000.0

typedef struct
{
  guint series;
  double x, y;
} ReadoutEntry;

/* The index of the finite point of points nearest to x, or -1. */
static int
nearest_point (GArray *points, double x)
{
  guint lo = 0, hi = points->len;
  /* the first point at or after x */
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      if (g_array_index (points, Point, mid).x < x)
        lo = mid + 1;
      else
        hi = mid;
    }
  int best = -1;
  double best_d = INFINITY;
  /* a gap (NAN) may sit at either side: look a few points each way */
  for (int i = (int) lo - 4; i < (int) lo + 4; i++)
    {
      if (i < 0 || i >= (int) points->len)
        continue;
      const Point *p = &g_array_index (points, Point, i);
      if (isfinite (p->y) && fabs (p->x - x) < best_d)
        {
          best_d = fabs (p->x - x);
          best = i;
        }
    }
  return best;
}

/* The readout at pointer column px: the x it snaps to and, in series
 * order, the named series' values there. FALSE outside the plot area or
 * without a point to snap to. */
static gboolean
readout_at (InstdiscPlot *self, const Frame *f, double px, double *snap_x,
            GArray *entries)
{
  if (px < f->left || px > f->left + f->w)
    return FALSE;
  double x = f->x0 + (px - f->left) / f->w * (f->x1 - f->x0);
  double best_d = INFINITY;
  for (guint s = 0; s < self->series->len; s++)
    {
      Series *series = g_ptr_array_index (self->series, s);
      if (series->level || !series->name)
        continue;
      int i = nearest_point (series->points, x);
      if (i < 0)
        continue;
      double d = fabs (g_array_index (series->points, Point, i).x - x);
      if (d < best_d)
        {
          best_d = d;
          *snap_x = g_array_index (series->points, Point, i).x;
        }
    }
  if (!isfinite (best_d) || *snap_x < f->x0 || *snap_x > f->x1)
    return FALSE;
  double snap_px = instdisc_plot_frame_px (f, *snap_x);
  for (guint s = 0; s < self->series->len; s++)
    {
      Series *series = g_ptr_array_index (self->series, s);
      if (!series->name || series->points->len == 0)
        continue;
      ReadoutEntry e = { s, *snap_x, NAN };
      if (series->level)
        e.y = g_array_index (series->points, Point,
                             series->points->len - 1).y;
      else
        {
          int i = nearest_point (series->points, *snap_x);
          if (i < 0)
            continue;
          const Point *p = &g_array_index (series->points, Point, i);
          if (fabs (instdisc_plot_frame_px (f, p->x) - snap_px)
              > READOUT_SLACK_PX)
            continue;
          e.x = p->x;
          e.y = p->y;
        }
      if (instdisc_plot_frame_shows (f, e.y))
        g_array_append_val (entries, e);
    }
  return entries->len > 0;
}

static void
format_x (InstdiscPlot *self, char *buffer, gsize size, double x)
{
  if (self->x_integer || x == round (x))
    instdisc_plot_format_tick (buffer, size, round (x), 1.0);
  else
    g_snprintf (buffer, size, "%.4g", x);
}

/* the readout's lines: the x first, then one per entry */
static char **
readout_lines (InstdiscPlot *self, double snap_x, GArray *entries)
{
  char **lines = g_new0 (char *, entries->len + 2);
  char value[48];
  format_x (self, value, sizeof value, snap_x);
  /* TRANSLATORS: the hover readout's first line, the x axis' title and
   * the value there, e.g. "iteration 1,234" */
  lines[0] = self->x_label ? g_strdup_printf (_("%s %s"), self->x_label,
                                              value)
                           : g_strdup (value);
  for (guint i = 0; i < entries->len; i++)
    {
      ReadoutEntry *e = &g_array_index (entries, ReadoutEntry, i);
      Series *series = g_ptr_array_index (self->series, e->series);
      g_snprintf (value, sizeof value, "%.4g", e->y);
      lines[i + 1] = g_strdup_printf (_("%s %s"), series->name, value);
    }
  return lines;
}

char *
instdisc_plot_dup_readout (InstdiscPlot *self, int width, int height,
                           double x_px)
{
  g_return_val_if_fail (INSTDISC_IS_PLOT (self), NULL);
  Frame f;
  instdisc_plot_compute_frame (self, width, height, &f);
  g_autoptr (GArray) entries = g_array_new (FALSE, FALSE,
                                            sizeof (ReadoutEntry));
  double snap_x;
  if (!readout_at (self, &f, x_px, &snap_x, entries))
    return NULL;
  g_auto (GStrv) lines = readout_lines (self, snap_x, entries);
  return g_strjoinv (" · ", lines);
}

void
instdisc_plot_draw_hover (InstdiscPlot *self, cairo_t *cr, int width,
                          int height, const GdkRGBA *fg)
{
  Frame f;
  instdisc_plot_compute_frame (self, width, height, &f);
  if (self->hover_y < f.top || self->hover_y > f.top + f.h)
    return;
  g_autoptr (GArray) entries = g_array_new (FALSE, FALSE,
                                            sizeof (ReadoutEntry));
  double snap_x;
  if (!readout_at (self, &f, self->hover_x, &snap_x, entries))
    return;
  cairo_save (cr);
  double gx = round (instdisc_plot_frame_px (&f, snap_x)) + 0.5;
  instdisc_plot_set_color (cr, fg, 0.45);
  cairo_set_line_width (cr, 1.0);
  cairo_move_to (cr, gx, f.top);
  cairo_line_to (cr, gx, f.top + f.h);
  cairo_stroke (cr);
  /* a dot where the guide meets each curve */
  for (guint i = 0; i < entries->len; i++)
    {
      ReadoutEntry *e = &g_array_index (entries, ReadoutEntry, i);
      Series *series = g_ptr_array_index (self->series, e->series);
      if (series->level)
        continue;
      gdk_cairo_set_source_rgba (cr, &series->color);
      cairo_arc (cr, instdisc_plot_frame_px (&f, e->x),
                 instdisc_plot_frame_py (&f, e->y), 3.5, 0, 2 * G_PI);
      cairo_fill (cr);
    }

  /* the card: the x, then a swatch, name and value per series */
  g_auto (GStrv) lines = readout_lines (self, snap_x, entries);
  cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                          CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 11.0);
  const double row = 15.0, pad = 6.0, swatch = 14.0;
  double text_w = 0;
  for (guint i = 0; lines[i]; i++)
    {
      cairo_text_extents_t ext;
      cairo_text_extents (cr, lines[i], &ext);
      text_w = MAX (text_w, ext.x_advance + (i > 0 ? swatch + 4 : 0));
    }
  double card_w = text_w + 2 * pad;
  double card_h = (entries->len + 1) * row + 2 * pad - 3;
  double cx = gx + 10;
  if (cx + card_w > f.left + f.w)
    cx = gx - 10 - card_w;
  cx = MAX (cx, 2.0);
  double cy = f.top + 6;
  /* the card in the text colour, its text in the inverse: it reads over
   * curves and grid alike, in light and dark styles */
  GdkRGBA back = *fg;
  instdisc_plot_set_color (cr, &back, 0.85);
  cairo_rectangle (cr, cx, cy, card_w, card_h);
  cairo_fill (cr);
  GdkRGBA text = { 1.0 - fg->red, 1.0 - fg->green, 1.0 - fg->blue, 1.0 };
  for (guint i = 0; lines[i]; i++)
    {
      double y = cy + pad + i * row + row / 2 - 1.5;
      double x = cx + pad;
      if (i > 0)
        {
          ReadoutEntry *e = &g_array_index (entries, ReadoutEntry, i - 1);
          Series *series = g_ptr_array_index (self->series, e->series);
          GdkRGBA c = series->color;
          c.alpha = MAX (c.alpha, 0.8);
          gdk_cairo_set_source_rgba (cr, &c);
          cairo_rectangle (cr, x, y - 4, swatch, 8);
          cairo_fill (cr);
          x += swatch + 4;
        }
      instdisc_plot_set_color (cr, &text, 1.0);
      instdisc_plot_draw_text (cr, lines[i], x, y, 0.0, 0.5);
    }
  cairo_restore (cr);
}

/* ---- zoom and pan ---- */

void
instdisc_plot_clamp_view (double x0, double x1, double v0, double v1,
                          double *out0, double *out1)
{
  double width = MIN (v1 - v0, x1 - x0);
  if (v0 < x0)
    v0 = x0;
  if (v0 + width > x1)
    v0 = x1 - width;
  *out0 = v0;
  *out1 = v0 + width;
}

/* Shows [v0, v1] of the data (NAN: all of it). */
static void
set_view (InstdiscPlot *self, double v0, double v1)
{
  gboolean was = isfinite (self->view_x0);
  self->view_x0 = v0;
  self->view_x1 = v1;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  if (was != isfinite (v0))
    g_object_notify (G_OBJECT (self), "zoomed");
}

void
instdisc_plot_fit (InstdiscPlot *self)
{
  g_return_if_fail (INSTDISC_IS_PLOT (self));
  set_view (self, NAN, NAN);
}

gboolean
instdisc_plot_get_zoomed (InstdiscPlot *self)
{
  g_return_val_if_fail (INSTDISC_IS_PLOT (self), FALSE);
  return isfinite (self->view_x0);
}

void
instdisc_plot_zoom_x (InstdiscPlot *self, int width, int height,
                      double x_px, double factor)
{
  g_return_if_fail (INSTDISC_IS_PLOT (self));
  Frame f;
  instdisc_plot_compute_frame (self, width, height, &f);
  double full = f.full_x1 - f.full_x0;
  double span = (f.x1 - f.x0) / factor;
  double least = MAX (full / ZOOM_MAX, self->x_integer ? 2.0 : 0.0);
  span = MAX (span, MIN (least, full));
  if (span >= full * (1 - 1e-9))
    {
      instdisc_plot_fit (self);
      return;
    }
  /* the x under the pointer stays under it */
  double t = CLAMP ((x_px - f.left) / f.w, 0.0, 1.0);
  double anchor = f.x0 + t * (f.x1 - f.x0);
  double v0, v1;
  instdisc_plot_clamp_view (f.full_x0, f.full_x1, anchor - t * span,
                            anchor - t * span + span, &v0, &v1);
  set_view (self, v0, v1);
}

void
instdisc_plot_pan_x (InstdiscPlot *self, int width, int height, double dx_px)
{
  g_return_if_fail (INSTDISC_IS_PLOT (self));
  if (!isfinite (self->view_x0))
    return;
  Frame f;
  instdisc_plot_compute_frame (self, width, height, &f);
  double dx = dx_px / f.w * (f.x1 - f.x0);
  double v0, v1;
  instdisc_plot_clamp_view (f.full_x0, f.full_x1, f.x0 + dx, f.x1 + dx, &v0,
                            &v1);
  set_view (self, v0, v1);
}

static gboolean
on_scroll (GtkEventControllerScroll *scroll, double dx, double dy,
           InstdiscPlot *self)
{
  if (!self->zoomable || dy == 0)
    return FALSE;
  GtkWidget *widget = GTK_WIDGET (self);
  instdisc_plot_zoom_x (self, gtk_widget_get_width (widget),
                        gtk_widget_get_height (widget), self->hover_x,
                        pow (ZOOM_PER_SCROLL, -dy));
  return TRUE;
}

static void
on_drag_begin (GtkGestureDrag *drag, double x, double y, InstdiscPlot *self)
{
  if (!self->zoomable || !isfinite (self->view_x0))
    {
      gtk_gesture_set_state (GTK_GESTURE (drag), GTK_EVENT_SEQUENCE_DENIED);
      return;
    }
  GtkWidget *widget = GTK_WIDGET (self);
  Frame f;
  instdisc_plot_compute_frame (self, gtk_widget_get_width (widget),
                               gtk_widget_get_height (widget), &f);
  self->drag_x0 = f.x0;
  self->drag_x1 = f.x1;
  self->drag_px_per_unit = f.w / (f.x1 - f.x0);
  gtk_widget_set_cursor_from_name (widget, "grabbing");
}

static void
on_drag_update (GtkGestureDrag *drag, double dx, double dy,
                InstdiscPlot *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  Frame f;
  instdisc_plot_compute_frame (self, gtk_widget_get_width (widget),
                               gtk_widget_get_height (widget), &f);
  /* the data follows the pointer */
  double shift = -dx / self->drag_px_per_unit;
  double v0, v1;
  instdisc_plot_clamp_view (f.full_x0, f.full_x1, self->drag_x0 + shift,
                            self->drag_x1 + shift, &v0, &v1);
  set_view (self, v0, v1);
}

static void
on_drag_end (GtkGestureDrag *drag, double dx, double dy, InstdiscPlot *self)
{
  gtk_widget_set_cursor (GTK_WIDGET (self), NULL);
}

static void
on_pressed (GtkGestureClick *click, int n_press, double x, double y,
            InstdiscPlot *self)
{
  if (self->zoomable && n_press == 2)
    instdisc_plot_fit (self);
}

void
instdisc_plot_set_zoomable (InstdiscPlot *self, gboolean zoomable)
{
  g_return_if_fail (INSTDISC_IS_PLOT (self));
  self->zoomable = zoomable;
  if (!zoomable)
    instdisc_plot_fit (self);
}

/* ---- hovering ---- */

static void
on_motion (GtkEventControllerMotion *motion, double x, double y,
           InstdiscPlot *self)
{
  self->hovering = TRUE;
  self->hover_x = x;
  self->hover_y = y;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_leave (GtkEventControllerMotion *motion, InstdiscPlot *self)
{
  self->hovering = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
instdisc_plot_init_input (InstdiscPlot *self)
{
  GtkEventController *motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "enter", G_CALLBACK (on_motion), self);
  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), self);
  g_signal_connect (motion, "leave", G_CALLBACK (on_leave), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);

  GtkEventController *scroll = gtk_event_controller_scroll_new (
      GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
  g_signal_connect (scroll, "scroll", G_CALLBACK (on_scroll), self);
  gtk_widget_add_controller (GTK_WIDGET (self), scroll);

  GtkGesture *drag = gtk_gesture_drag_new ();
  g_signal_connect (drag, "drag-begin", G_CALLBACK (on_drag_begin), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (on_drag_update), self);
  g_signal_connect (drag, "drag-end", G_CALLBACK (on_drag_end), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));

  GtkGesture *click = gtk_gesture_click_new ();
  g_signal_connect (click, "pressed", G_CALLBACK (on_pressed), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
}
