/* instdisc-plot-private.h: what the files of InstdiscPlot share.
 *
 * The plot is one widget in three files, along its seams:
 *   instdisc-plot.c         the widget: its series, setters, exports and
 *                           GObject
 *   instdisc-plot-draw.c    the frame (ranges, ticks, the legend's rows)
 *                           and the drawing shared by screen and files
 *   instdisc-plot-input.c   the pointer: the hover readout, zooming and
 *                           panning the x axis, and the event controllers
 * Nothing outside these files includes this header. */
#pragma once

#include "instdisc-plot.h"

#include <math.h>

G_BEGIN_DECLS

typedef struct
{
  double x, y;
} InstdiscPlotPoint;

typedef struct
{
  char *name;
  GdkRGBA color;
  double width;
  gboolean markers;
  /* a reference level: its last point's y drawn dashed across the whole
   * plot area; its x widens nothing */
  gboolean level;
  GArray *points;   /* InstdiscPlotPoint, x non-decreasing */
} InstdiscPlotSeries;

struct _InstdiscPlot
{
  GtkWidget parent_instance;

  char *title, *x_label, *y_label;
  double y_min_fixed, y_max_fixed;   /* NAN: from the data */
  double x_min_span, x_max_span;     /* NAN: from the data */
  gboolean x_integer;                /* counts: whole-number ticks */
  gboolean y_log;                    /* log10 y axis */
  GPtrArray *series;                 /* InstdiscPlotSeries */

  /* the pointer, in widget pixels, while it is over the plot */
  gboolean hovering;
  double hover_x, hover_y;

  /* zooming and panning the x axis (instdisc_plot_set_zoomable) */
  gboolean zoomable;
  double view_x0, view_x1;           /* NAN: the whole data */
  double drag_x0, drag_x1;           /* the view when a drag began */
  double drag_px_per_unit;
};

/* room for tick labels and axis titles, in pixels */
#define PLOT_MARGIN_LEFT 64
#define PLOT_MARGIN_RIGHT 18
#define PLOT_MARGIN_TOP 30
#define PLOT_MARGIN_BOTTOM 42

typedef struct
{
  double x0, x1, y0, y1;          /* data range shown */
  double full_x0, full_x1;        /* the x range unzoomed */
  double left, top, w, h;         /* plot area in pixels */
  double x_step, y_step;          /* tick spacing (y on a log axis: of the
                                     values, when not by decades) */
  gboolean y_log;                 /* y0, y1 are log10 of the values */
  gboolean y_decades;             /* log ticks at 1, 2, 5 per decade */
} InstdiscPlotFrame;

typedef struct
{
  double value, step;             /* step: for the label's decimals */
} InstdiscPlotTick;

void instdisc_plot_compute_frame (InstdiscPlot *self, int width, int height,
                                  InstdiscPlotFrame *f);

static inline double
instdisc_plot_frame_px (const InstdiscPlotFrame *f, double x)
{
  return f->left + (x - f->x0) / (f->x1 - f->x0) * f->w;
}

static inline double
instdisc_plot_frame_py (const InstdiscPlotFrame *f, double y)
{
  double v = f->y_log ? log10 (y) : y;
  return f->top + f->h - (v - f->y0) / (f->y1 - f->y0) * f->h;
}

/* whether y can be drawn: finite, and positive on a log axis */
static inline gboolean
instdisc_plot_frame_shows (const InstdiscPlotFrame *f, double y)
{
  return isfinite (y) && (!f->y_log || y > 0.0);
}

/* [*start, *end): the points of points (x non-decreasing) with x in
 * [x0, x1]. */
void instdisc_plot_points_within (GArray *points, double x0, double x1,
                                  guint *start, guint *end);
/* A view [v0, v1] moved (and narrowed) into [x0, x1]. */
void instdisc_plot_clamp_view (double x0, double x1, double v0, double v1,
                               double *out0, double *out1);

/* The y axis' ticks (InstdiscPlotTick), bottom up. */
void instdisc_plot_frame_y_ticks (const InstdiscPlotFrame *f, GArray *ticks);

/* A tick's label: whole numbers with the locale's thousands separator,
 * others with the decimals step needs. */
void instdisc_plot_format_tick (char *buffer, gsize size, double value,
                                double step);

/* instdisc-plot-input.c: the controllers, and the hover readout drawn
 * over the plot on screen only (cr already holds the plot) */
void instdisc_plot_init_input (InstdiscPlot *self);
void instdisc_plot_draw_hover (InstdiscPlot *self, cairo_t *cr, int width,
                               int height, const GdkRGBA *fg);

void instdisc_plot_set_color (cairo_t *cr, const GdkRGBA *c, double alpha);
/* text with its advance times align_x left of x and its height times
 * align_y above y */
void instdisc_plot_draw_text (cairo_t *cr, const char *text, double x,
                              double y, double align_x, double align_y);

G_END_DECLS
