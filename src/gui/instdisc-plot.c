/* instdisc-plot.c: line plots with nice ticks and per-column decimation:
 * the widget, its series and its exports (instdisc-plot-private.h says
 * where the rest is). */
#define G_LOG_DOMAIN "instdisc-gui"

#include "instdisc-plot-private.h"

#include <cairo-svg.h>
#include <math.h>

typedef InstdiscPlotPoint Point;
typedef InstdiscPlotSeries Series;

G_DEFINE_FINAL_TYPE (InstdiscPlot, instdisc_plot, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_ZOOMED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
series_free (gpointer data)
{
  Series *s = data;
  g_free (s->name);
  g_array_unref (s->points);
  g_free (s);
}

static void
instdisc_plot_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  InstdiscPlot *self = INSTDISC_PLOT (widget);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  GdkRGBA fg;
  /* the theme's text colour, so the axes read in light and dark styles */
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &fg);
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot,
                                           &GRAPHENE_RECT_INIT (0, 0, width,
                                                                height));
  instdisc_plot_draw (self, cr, width, height, &fg, NULL);
  /* on screen only: the exports stay plain */
  if (self->hovering)
    instdisc_plot_draw_hover (self, cr, width, height, &fg);
  cairo_destroy (cr);
}

static void
instdisc_plot_measure (GtkWidget *widget, GtkOrientation orientation,
                       int for_size, int *minimum, int *natural,
                       int *minimum_baseline, int *natural_baseline)
{
  *minimum = orientation == GTK_ORIENTATION_HORIZONTAL ? 240 : 160;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 640 : 260;
}

static void
instdisc_plot_finalize (GObject *object)
{
  InstdiscPlot *self = INSTDISC_PLOT (object);
  g_free (self->title);
  g_free (self->x_label);
  g_free (self->y_label);
  g_ptr_array_unref (self->series);
  G_OBJECT_CLASS (instdisc_plot_parent_class)->finalize (object);
}

static void
instdisc_plot_get_property (GObject *object, guint id, GValue *value,
                            GParamSpec *pspec)
{
  if (id == PROP_ZOOMED)
    g_value_set_boolean (value, instdisc_plot_get_zoomed (INSTDISC_PLOT (object)));
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
}

static void
instdisc_plot_class_init (InstdiscPlotClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = instdisc_plot_finalize;
  object_class->get_property = instdisc_plot_get_property;
  /* a part of the x axis shown, not the whole data */
  properties[PROP_ZOOMED] =
    g_param_spec_boolean ("zoomed", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
  widget_class->snapshot = instdisc_plot_snapshot;
  widget_class->measure = instdisc_plot_measure;
  gtk_widget_class_set_css_name (widget_class, "plot");
}

static void
instdisc_plot_init (InstdiscPlot *self)
{
  self->series = g_ptr_array_new_with_free_func (series_free);
  self->y_min_fixed = self->y_max_fixed = NAN;
  self->x_min_span = self->x_max_span = NAN;
  self->view_x0 = self->view_x1 = NAN;
  instdisc_plot_init_input (self);
}

GtkWidget *
instdisc_plot_new (void)
{
  return g_object_new (INSTDISC_TYPE_PLOT, NULL);
}

void
instdisc_plot_set_title (InstdiscPlot *self, const char *title)
{
  g_free (self->title);
  self->title = g_strdup (title);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
instdisc_plot_set_axis_labels (InstdiscPlot *self, const char *x_label,
                               const char *y_label)
{
  g_free (self->x_label);
  g_free (self->y_label);
  self->x_label = g_strdup (x_label);
  self->y_label = g_strdup (y_label);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
instdisc_plot_set_x_span (InstdiscPlot *self, double min, double max)
{
  self->x_min_span = min;
  self->x_max_span = max;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
instdisc_plot_set_x_integer (InstdiscPlot *self, gboolean integer)
{
  self->x_integer = integer;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}
void
instdisc_plot_set_y_log (InstdiscPlot *self, gboolean log)
{
  g_return_if_fail (INSTDISC_IS_PLOT (self));
  self->y_log = log;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

gboolean
instdisc_plot_get_y_log (InstdiscPlot *self)
{
  return self->y_log;
}

char **
instdisc_plot_dup_y_tick_labels (InstdiscPlot *self, int width, int height)
{
  InstdiscPlotFrame f;
  instdisc_plot_compute_frame (self, width, height, &f);
  g_autoptr (GArray) ticks = g_array_new (FALSE, FALSE,
                                          sizeof (InstdiscPlotTick));
  instdisc_plot_frame_y_ticks (&f, ticks);
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  char label[32];
  for (guint i = 0; i < ticks->len; i++)
    {
      InstdiscPlotTick *t = &g_array_index (ticks, InstdiscPlotTick, i);
      instdisc_plot_format_tick (label, sizeof label, t->value, t->step);
      g_strv_builder_add (builder, label);
    }
  return g_strv_builder_end (builder);
}

void
instdisc_plot_set_y_range (InstdiscPlot *self, double min, double max)
{
  self->y_min_fixed = min;
  self->y_max_fixed = max;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

guint
instdisc_plot_add_series (InstdiscPlot *self, const char *name,
                          const char *color, double width, gboolean markers)
{
  Series *s = g_new0 (Series, 1);
  s->name = g_strdup (name);
  if (!gdk_rgba_parse (&s->color, color))
    gdk_rgba_parse (&s->color, "black");
  s->width = width;
  s->markers = markers;
  s->points = g_array_new (FALSE, FALSE, sizeof (Point));
  g_ptr_array_add (self->series, s);
  return self->series->len - 1;
}

void
instdisc_plot_append (InstdiscPlot *self, guint series, double x, double y)
{
  g_return_if_fail (series < self->series->len);
  Series *s = g_ptr_array_index (self->series, series);
  Point p = { x, y };
  g_array_append_val (s->points, p);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
instdisc_plot_set_series_level (InstdiscPlot *self, guint series,
                                gboolean level)
{
  g_return_if_fail (series < self->series->len);
  ((Series *) g_ptr_array_index (self->series, series))->level = level;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
instdisc_plot_set_series_name (InstdiscPlot *self, guint series,
                               const char *name)
{
  g_return_if_fail (series < self->series->len);
  Series *s = g_ptr_array_index (self->series, series);
  g_free (s->name);
  s->name = g_strdup (name);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
instdisc_plot_clear_series (InstdiscPlot *self, guint series)
{
  g_return_if_fail (series < self->series->len);
  g_array_set_size (((Series *) g_ptr_array_index (self->series,
                                                   series))->points, 0);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
instdisc_plot_get_x_range (InstdiscPlot *self, int width, int height,
                           double *min, double *max)
{
  InstdiscPlotFrame f;
  instdisc_plot_compute_frame (self, width, height, &f);
  *min = f.x0;
  *max = f.x1;
}

guint
instdisc_plot_get_n_points (InstdiscPlot *self, guint series)
{
  g_return_val_if_fail (series < self->series->len, 0);
  Series *s = g_ptr_array_index (self->series, series);
  return s->points->len;
}

void
instdisc_plot_clear (InstdiscPlot *self)
{
  for (guint s = 0; s < self->series->len; s++)
    g_array_set_size (((Series *) g_ptr_array_index (self->series, s))->points,
                      0);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static const GdkRGBA export_fg = { 0.1, 0.1, 0.1, 1.0 };
static const GdkRGBA export_bg = { 1.0, 1.0, 1.0, 1.0 };

static gboolean
cairo_failed (cairo_status_t status, const char *path, GError **error)
{
  if (status == CAIRO_STATUS_SUCCESS)
    return FALSE;
  g_autofree char *shown = g_filename_display_name (path);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", shown,
               cairo_status_to_string (status));
  return TRUE;
}

gboolean
instdisc_plot_save_png (InstdiscPlot *self, const char *path, int width,
                        int height, GError **error)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32,
                                                         width, height);
  cairo_t *cr = cairo_create (surface);
  instdisc_plot_draw (self, cr, width, height, &export_fg, &export_bg);
  cairo_destroy (cr);
  cairo_status_t status = cairo_surface_write_to_png (surface, path);
  cairo_surface_destroy (surface);
  return !cairo_failed (status, path, error);
}

gboolean
instdisc_plot_save_svg (InstdiscPlot *self, const char *path, int width,
                        int height, GError **error)
{
  cairo_surface_t *surface = cairo_svg_surface_create (path, width, height);
  cairo_t *cr = cairo_create (surface);
  instdisc_plot_draw (self, cr, width, height, &export_fg, &export_bg);
  cairo_destroy (cr);
  cairo_surface_finish (surface);
  cairo_status_t status = cairo_surface_status (surface);
  cairo_surface_destroy (surface);
  return !cairo_failed (status, path, error);
}
