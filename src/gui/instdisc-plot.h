/* instdisc-plot.h: a line plot of a few series against a shared x axis,
 * drawn with cairo so that the widget, PNG and SVG exports share one
 * drawing function. Large series (200 epochs x 468 steps) are decimated to
 * the minimum and maximum of each pixel column, so a frame costs one pass
 * over the points and never more line segments than the plot is wide.
 * On screen only, hovering shows each series' value at the nearest point,
 * and a zoomable plot zooms and pans its x axis. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define INSTDISC_TYPE_PLOT (instdisc_plot_get_type ())
G_DECLARE_FINAL_TYPE (InstdiscPlot, instdisc_plot, INSTDISC, PLOT, GtkWidget)

GtkWidget *instdisc_plot_new (void);

void instdisc_plot_set_title (InstdiscPlot *self, const char *title);
void instdisc_plot_set_axis_labels (InstdiscPlot *self, const char *x_label,
                                    const char *y_label);
/* The x range shown at least, data or not (NAN per end: from the data
 * only); data beyond it widen it. */
void instdisc_plot_set_x_span (InstdiscPlot *self, double min, double max);
/* x counts something (epochs, iterations): ticks only at whole numbers. */
void instdisc_plot_set_x_integer (InstdiscPlot *self, gboolean integer);
/* The x axis' tick labels as drawn at width x height (transfer full); for
 * tests. */
char **instdisc_plot_dup_x_tick_labels (InstdiscPlot *self, int width,
                                        int height);
/* A log10 y axis: ticks at 1, 2 and 5 of each decade over a wide range,
 * at nice values within a narrow one; zero and negative values are left
 * out (a line breaks there). */
void instdisc_plot_set_y_log (InstdiscPlot *self, gboolean log);
gboolean instdisc_plot_get_y_log (InstdiscPlot *self);
/* The y axis' tick labels as drawn at width x height, bottom up (transfer
 * full); for tests. */
char **instdisc_plot_dup_y_tick_labels (InstdiscPlot *self, int width,
                                        int height);
/* Fixes the y range (NAN for automatic from the data, per end). */
void instdisc_plot_set_y_range (InstdiscPlot *self, double min, double max);

/* A new series drawn in color ("#rrggbb" or any CSS colour) with lines of
 * width pixels; with markers each point also gets a dot (for few points).
 * Returns its index. */
guint instdisc_plot_add_series (InstdiscPlot *self, const char *name,
                                const char *color, double width,
                                gboolean markers);
/* Makes series a reference level: its last y is drawn as a dashed line
 * across the whole plot area, whatever its x (which widens nothing). */
void instdisc_plot_set_series_level (InstdiscPlot *self, guint series,
                                     gboolean level);
/* Renames series (NULL: out of the legend). */
void instdisc_plot_set_series_name (InstdiscPlot *self, guint series,
                                    const char *name);
/* NAN y breaks the line; x must not decrease within a series. */
void instdisc_plot_append (InstdiscPlot *self, guint series, double x,
                           double y);
guint instdisc_plot_get_n_points (InstdiscPlot *self, guint series);
/* empties every series, keeping them */
void instdisc_plot_clear (InstdiscPlot *self);
/* empties one series */
void instdisc_plot_clear_series (InstdiscPlot *self, guint series);
/* The x range shown in a plot drawn at width x height. */
void instdisc_plot_get_x_range (InstdiscPlot *self, int width, int height,
                                double *min, double *max);

/* The whole plot into cr over (0, 0, width, height), axes and text in fg,
 * on a background of bg (NULL: transparent). */
void instdisc_plot_draw (InstdiscPlot *self, cairo_t *cr, int width,
                         int height, const GdkRGBA *fg, const GdkRGBA *bg);
/* The plot as a file of width x height, dark on white. */
gboolean instdisc_plot_save_png (InstdiscPlot *self, const char *path,
                                 int width, int height, GError **error);
gboolean instdisc_plot_save_svg (InstdiscPlot *self, const char *path,
                                 int width, int height, GError **error);
/* The pixel position of data point (x, y) in a plot drawn at width x
 * height; for tests that look for a known curve. */
void instdisc_plot_data_to_pixel (InstdiscPlot *self, int width, int height,
                                  double x, double y, double *px, double *py);

/* Zooming and panning the x axis with the pointer: scrolling zooms about
 * it, dragging pans, a double click fits the whole data again. */
void instdisc_plot_set_zoomable (InstdiscPlot *self, gboolean zoomable);
/* Whether a part of the data is shown (the property "zoomed"). */
gboolean instdisc_plot_get_zoomed (InstdiscPlot *self);
/* Zooms the x axis of a plot drawn at width x height by factor (> 1: in)
 * about pixel column x_px, as scrolling does. */
void instdisc_plot_zoom_x (InstdiscPlot *self, int width, int height,
                           double x_px, double factor);
/* Moves the x axis' view by dx_px pixels' worth (> 0: to later x), as
 * dragging to the left does. */
void instdisc_plot_pan_x (InstdiscPlot *self, int width, int height,
                          double dx_px);
/* The whole data again. */
void instdisc_plot_fit (InstdiscPlot *self);

/* What the hover readout says with the pointer at x_px of a plot drawn at
 * width x height: the x of the nearest point and each series' value there,
 * "iteration 1,234 · per step 9.87 · smoothed 9.91"; NULL outside the
 * plot area or without data. (transfer full) For tests. */
char *instdisc_plot_dup_readout (InstdiscPlot *self, int width, int height,
                                 double x_px);

G_END_DECLS
