/* instdisc-plot-draw.c: the plot's frame (ranges, nice ticks, the
 * legend's rows) and its drawing with cairo, per-column decimation
 * included; the screen and the PNG / SVG exports share it. */
#define G_LOG_DOMAIN "instdisc-gui"

#include "instdisc-plot-private.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <math.h>
#include <string.h>

typedef InstdiscPlotPoint Point;
typedef InstdiscPlotSeries Series;
typedef InstdiscPlotFrame Frame;
#define frame_px instdisc_plot_frame_px
#define frame_py instdisc_plot_frame_py
#define format_tick instdisc_plot_format_tick
#define MARGIN_LEFT PLOT_MARGIN_LEFT
#define MARGIN_RIGHT PLOT_MARGIN_RIGHT
#define MARGIN_TOP PLOT_MARGIN_TOP
#define MARGIN_BOTTOM PLOT_MARGIN_BOTTOM
/* the legend: its rows' spacing, and its least distance from the title */
#define LEGEND_ROW_HEIGHT 16
#define set_color instdisc_plot_set_color
#define draw_text instdisc_plot_draw_text
/* the dashes of a reference level, in pixels */
static const double level_dashes[] = { 6.0, 4.0 };
#define LEGEND_TITLE_GAP 16

/* The 1, 2 or 5 times a power of ten at or below value (up: at or above
 * it). */
static double
snap_125 (double value, gboolean up)
{
  double power = pow (10.0, floor (log10 (value)));
  double f = value / power;
  if (up)
    return (f <= 1.0 + 1e-9 ? 1.0 : f <= 2.0 + 1e-9 ? 2.0
            : f <= 5.0 + 1e-9 ? 5.0 : 10.0) * power;
  return (f >= 5.0 - 1e-9 ? 5.0 : f >= 2.0 - 1e-9 ? 2.0 : 1.0) * power;
}

/* 1, 2 or 5 times a power of ten, near range / target */
static double
nice_step (double range, int target)
{
  if (!(range > 0.0))
    return 1.0;
  double raw = range / MAX (target, 1);
  double power = pow (10.0, floor (log10 (raw)));
  double f = raw / power;
  double nice = f < 1.5 ? 1.0 : f < 3.5 ? 2.0 : f < 7.5 ? 5.0 : 10.0;
  return nice * power;
}

/* An integer with the locale's thousands separator ("93,600"): iteration
 * counts read at a glance, and "93.6k" would hide that they are steps. The
 * C locale has no separator, so a comma stands in for it. */
static void
format_integer (char *buffer, gsize size, double value)
{
  const char *sep = localeconv ()->thousands_sep;
  if (!sep || !*sep)
    sep = ",";
  char digits[32];
  g_snprintf (digits, sizeof digits, "%.0f", fabs (value));
  GString *out = g_string_new (value < 0 && digits[0] != '0' ? "-" : "");
  int n = (int) strlen (digits);
  for (int i = 0; i < n; i++)
    {
      if (i > 0 && (n - i) % 3 == 0)
        g_string_append (out, sep);
      g_string_append_c (out, digits[i]);
    }
  g_strlcpy (buffer, out->str, size);
  g_string_free (out, TRUE);
}

void
instdisc_plot_format_tick (char *buffer, gsize size, double value, double step)
{
  if (fabs (value) < step * 1e-6)
    value = 0.0;
  if (step >= 1.0 && value == round (value))
    format_integer (buffer, size, value);
  else
    {
      int decimals = step >= 1.0 ? 0 : (int) ceil (-log10 (step) - 1e-9);
      g_snprintf (buffer, size, "%.*f", MIN (decimals, 6), value);
    }
}

/* a value the y axis can show: finite, and positive on a log axis */
static inline gboolean
shows_y (InstdiscPlot *self, double y)
{
  return isfinite (y) && (!self->y_log || y > 0.0);
}

void
instdisc_plot_points_within (GArray *points, double x0, double x1,
                             guint *start, guint *end)
{
  guint lo = 0, hi = points->len;
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      if (g_array_index (points, Point, mid).x < x0)
        lo = mid + 1;
      else
        hi = mid;
    }
  *start = lo;
  hi = points->len;
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      if (g_array_index (points, Point, mid).x <= x1)
        lo = mid + 1;
      else
        hi = mid;
    }
  *end = lo;
}

/* The data's x extent and its y extent; only the points with x in
 * [y_from, y_to] count for y (NAN: every point). */
static gboolean
data_range (InstdiscPlot *self, double y_from, double y_to, double *x0,
            double *x1, double *y0, double *y1)
{
  *x0 = *y0 = INFINITY;
  *x1 = *y1 = -INFINITY;
  for (guint s = 0; s < self->series->len; s++)
    {
      Series *series = g_ptr_array_index (self->series, s);
      GArray *points = series->points;
      if (points->len == 0)
        continue;
      if (series->level)
        {
          /* a level spans whatever the others span */
          double y = g_array_index (points, Point, points->len - 1).y;
          if (shows_y (self, y))
            {
              *y0 = MIN (*y0, y);
              *y1 = MAX (*y1, y);
            }
          continue;
        }
      *x0 = MIN (*x0, g_array_index (points, Point, 0).x);
      *x1 = MAX (*x1, g_array_index (points, Point, points->len - 1).x);
      guint start = 0, end = points->len;
      if (isfinite (y_from))
        instdisc_plot_points_within (points, y_from, y_to, &start, &end);
      for (guint i = start; i < end; i++)
        {
          double y = g_array_index (points, Point, i).y;
          if (shows_y (self, y))
            {
              *y0 = MIN (*y0, y);
              *y1 = MAX (*y1, y);
            }
        }
    }
  if (!isfinite (*x0) && isfinite (*y0))
    {
      /* only levels: the x span says where */
      *x0 = 0.0;
      *x1 = 1.0;
    }
  return isfinite (*x0) && isfinite (*y0);
}

/* The legend's entries (the series with points and a name), in series
 * order, in rows right-aligned to the plot area's right edge: the first
 * row beside the title, as many entries as fit there, the rest in rows
 * below it (which push the plot area down). Text is measured in a context
 * of its own, so that the frame (computed without one) and the drawing
 * agree. Fills row_of[s] (-1: not in the legend) when given; returns the
 * number of rows. */
static int
legend_layout (InstdiscPlot *self, int width, int *row_of)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32,
                                                         1, 1);
  cairo_t *cr = cairo_create (surface);
  double right = MARGIN_LEFT + MAX (width - MARGIN_LEFT - MARGIN_RIGHT, 10);
  double first_left = MARGIN_LEFT;
  cairo_text_extents_t e;
  if (self->title)
    {
      cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                              CAIRO_FONT_WEIGHT_BOLD);
      cairo_set_font_size (cr, 13.0);
      cairo_text_extents (cr, self->title, &e);
      first_left += e.x_advance + LEGEND_TITLE_GAP;
    }
  cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                          CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 11.0);
  int rows = 0;
  double used = 0.0;   /* by the current row's entries */
  for (guint s = 0; s < self->series->len; s++)
    {
      Series *series = g_ptr_array_index (self->series, s);
      if (row_of)
        row_of[s] = -1;
      if (series->points->len == 0 || !series->name)
        continue;
      cairo_text_extents (cr, series->name, &e);
      /* swatch 16, 6 to the text, 14 to the next entry (draw_legend) */
      double entry = 22 + e.x_advance;
      double room = right - (rows <= 1 ? first_left : MARGIN_LEFT);
      if (rows == 0)
        /* not even one entry beside the title: all below it */
        rows = entry > room ? 2 : 1;
      else if (used + 14 + entry > room)
        {
          rows++;
          used = 0.0;
        }
      used += (used > 0 ? 14 : 0) + entry;
      if (row_of)
        row_of[s] = rows - 1;
    }
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
  return rows;
}

void
instdisc_plot_compute_frame (InstdiscPlot *self, int width, int height,
                             Frame *f)
{
  double x0, x1, y0, y1;
  gboolean any = data_range (self, NAN, NAN, &x0, &x1, &y0, &y1);
  if (any)
    {
      if (isfinite (self->x_min_span))
        x0 = MIN (x0, self->x_min_span);
      if (isfinite (self->x_max_span))
        x1 = MAX (x1, self->x_max_span);
    }
  f->full_x0 = x0;
  f->full_x1 = x1;
  if (any && isfinite (self->view_x0))
    {
      /* zoomed: the view within the data, y fitted to what it shows */
      double v0, v1;
      instdisc_plot_clamp_view (x0, x1, self->view_x0, self->view_x1, &v0,
                                &v1);
      double vy0, vy1;
      if (data_range (self, v0, v1, &x0, &x1, &vy0, &vy1))
        y0 = vy0, y1 = vy1;
      x0 = v0;
      x1 = v1;
    }
  if (!any)
    {
      /* an empty plot still shows the axes it will have */
      x0 = isfinite (self->x_min_span) ? self->x_min_span : 0;
      x1 = isfinite (self->x_max_span) ? self->x_max_span : 1;
      y0 = 0, y1 = 1;
      f->full_x0 = x0;
      f->full_x1 = x1;
    }
  if (isfinite (self->y_min_fixed))
    y0 = self->y_min_fixed;
  if (isfinite (self->y_max_fixed))
    y1 = self->y_max_fixed;
  if (x1 <= x0)
    x1 = x0 + 1;
  if (y1 <= y0)
    {
      double pad = fabs (y0) > 0 ? fabs (y0) * 0.1 : 1.0;
      y0 -= pad;
      y1 += pad;
    }
  f->left = MARGIN_LEFT;
  /* a legend too wide for the row beside the title takes more rows */
  int legend_rows = legend_layout (self, width, NULL);
  f->top = MARGIN_TOP + MAX (legend_rows - 1, 0) * LEGEND_ROW_HEIGHT;
  f->w = MAX (width - MARGIN_LEFT - MARGIN_RIGHT, 10);
  f->h = MAX (height - f->top - MARGIN_BOTTOM, 10);
  /* about one tick per 90 px across and 45 px up */
  f->x_step = nice_step (x1 - x0, (int) (f->w / 90));
  /* half an epoch or a tenth of a step means nothing */
  if (self->x_integer)
    f->x_step = MAX (f->x_step, 1.0);
  f->x0 = x0;
  f->x1 = x1;
  f->y_log = self->y_log;
  f->y_decades = FALSE;
  if (self->y_log)
    {
      /* what a log axis cannot show: zero and below */
      if (!(y1 > 0.0))
        y0 = 1.0, y1 = 10.0;
      else if (!(y0 > 0.0))
        y0 = y1 / 10.0;
      /* over a decade or so, ticks at 1, 2 and 5 of each decade; within
       * one, nice values on a linear step, placed logarithmically */
      f->y_decades = log10 (y1 / y0) >= 0.7;
      if (f->y_decades)
        {
          f->y_step = 0.0;
          if (!isfinite (self->y_min_fixed))
            y0 = snap_125 (y0, FALSE);
          if (!isfinite (self->y_max_fixed))
            y1 = snap_125 (y1, TRUE);
        }
      else
        {
          f->y_step = nice_step (y1 - y0, (int) (f->h / 45));
          double low = floor (y0 / f->y_step) * f->y_step;
          if (!isfinite (self->y_min_fixed) && low > 0.0)
            y0 = low;
          if (!isfinite (self->y_max_fixed))
            y1 = ceil (y1 / f->y_step) * f->y_step;
        }
      f->y0 = log10 (y0);
      f->y1 = log10 (y1);
      return;
    }
  f->y_step = nice_step (y1 - y0, (int) (f->h / 45));
  /* the automatic ends snap outwards to ticks, so the curve never touches
   * the frame; x starts at the data */
  if (!isfinite (self->y_min_fixed))
    y0 = floor (y0 / f->y_step) * f->y_step;
  if (!isfinite (self->y_max_fixed))
    y1 = ceil (y1 / f->y_step) * f->y_step;
  f->y0 = y0;
  f->y1 = y1;
}

void
instdisc_plot_frame_y_ticks (const Frame *f, GArray *ticks)
{
  InstdiscPlotTick t;
  if (!f->y_log || !f->y_decades)
    {
      double first = f->y_log ? pow (10.0, f->y0) : f->y0;
      double last = f->y_log ? pow (10.0, f->y1) : f->y1;
      for (double y = ceil (first / f->y_step - 1e-9) * f->y_step;
           y <= last + f->y_step * 1e-9; y += f->y_step)
        {
          if (f->y_log && y <= 0.0)
            continue;
          t.value = y;
          t.step = f->y_step;
          g_array_append_val (ticks, t);
        }
      return;
    }
  /* 1, 2 and 5 of each decade while each has room for three labels, else
   * the powers of ten (every second, third... when even those crowd) */
  double decades = f->y1 - f->y0;
  double per_decade = f->h / MAX (decades, 1e-9);
  static const double all[] = { 1.0, 2.0, 5.0 };
  int n_mantissas = per_decade >= 3 * 22 ? 3 : 1;
  int every = MAX (1, (int) ceil (22.0 / per_decade));
  for (int k = (int) floor (f->y0 - 1e-9); k <= (int) ceil (f->y1 + 1e-9); k++)
    for (int m = 0; m < n_mantissas; m++)
      {
        if (n_mantissas == 1 && k % every != 0)
          continue;
        double v = all[m] * pow (10.0, k);
        double lv = log10 (v);
        if (lv < f->y0 - 1e-9 || lv > f->y1 + 1e-9)
          continue;
        t.value = v;
        t.step = v;
        g_array_append_val (ticks, t);
      }
}

void
instdisc_plot_data_to_pixel (InstdiscPlot *self, int width, int height,
                             double x, double y, double *px, double *py)
{
  Frame f;
  instdisc_plot_compute_frame (self, width, height, &f);
  *px = frame_px (&f, x);
  *py = frame_py (&f, y);
}

void
instdisc_plot_set_color (cairo_t *cr, const GdkRGBA *c, double alpha)
{
  cairo_set_source_rgba (cr, c->red, c->green, c->blue, c->alpha * alpha);
}

void
instdisc_plot_draw_text (cairo_t *cr, const char *text, double x, double y, double align_x,
           double align_y)
{
  cairo_text_extents_t e;
  cairo_text_extents (cr, text, &e);
  cairo_move_to (cr, x - e.x_advance * align_x - e.x_bearing * 0,
                 y - e.height * align_y - e.y_bearing);
  cairo_show_text (cr, text);
}

static void
draw_axes (InstdiscPlot *self, cairo_t *cr, const Frame *f, const GdkRGBA *fg)
{
  char label[32];
  cairo_set_line_width (cr, 1.0);
  cairo_set_font_size (cr, 11.0);

  /* grid and ticks: lines at half pixels stay sharp */
  g_autoptr (GArray) ticks = g_array_new (FALSE, FALSE,
                                          sizeof (InstdiscPlotTick));
  instdisc_plot_frame_y_ticks (f, ticks);
  for (guint i = 0; i < ticks->len; i++)
    {
      double y = g_array_index (ticks, InstdiscPlotTick, i).value;
      double py = round (frame_py (f, y)) + 0.5;
      set_color (cr, fg, 0.12);
      cairo_move_to (cr, f->left, py);
      cairo_line_to (cr, f->left + f->w, py);
      cairo_stroke (cr);
      set_color (cr, fg, 0.8);
      format_tick (label, sizeof label, y,
                   g_array_index (ticks, InstdiscPlotTick, i).step);
      draw_text (cr, label, f->left - 6, py, 1.0, 0.5);
    }
  for (double x = ceil (f->x0 / f->x_step - 1e-9) * f->x_step;
       x <= f->x1 + f->x_step * 1e-9; x += f->x_step)
    {
      double px = round (frame_px (f, x)) + 0.5;
      set_color (cr, fg, 0.12);
      cairo_move_to (cr, px, f->top);
      cairo_line_to (cr, px, f->top + f->h);
      cairo_stroke (cr);
      set_color (cr, fg, 0.8);
      format_tick (label, sizeof label, x, f->x_step);
      draw_text (cr, label, px, f->top + f->h + 8, 0.5, 0.0);
    }
  set_color (cr, fg, 0.5);
  cairo_rectangle (cr, f->left + 0.5, f->top + 0.5, f->w - 1, f->h - 1);
  cairo_stroke (cr);

  set_color (cr, fg, 0.9);
  if (self->x_label)
    draw_text (cr, self->x_label, f->left + f->w / 2, f->top + f->h + 26, 0.5,
               0.0);
  if (self->y_label)
    {
      cairo_save (cr);
      cairo_translate (cr, 14, f->top + f->h / 2);
      cairo_rotate (cr, -G_PI / 2);
      draw_text (cr, self->y_label, 0, 0, 0.5, 0.5);
      cairo_restore (cr);
    }
  if (self->title)
    {
      cairo_save (cr);
      cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                              CAIRO_FONT_WEIGHT_BOLD);
      cairo_set_font_size (cr, 13.0);
      draw_text (cr, self->title, f->left, 8, 0.0, 0.0);
      cairo_restore (cr);
    }
}

/* Each pixel column the series crosses becomes at most four vertices
 * (first, min, max, last of its points), so what is drawn has the shape
 * of the full data, spikes included, at a cost bounded by the width. */
static void
draw_series (cairo_t *cr, const Frame *f, const Series *s)
{
  GArray *points = s->points;
  if (points->len == 0)
    return;
  cairo_save (cr);
  cairo_rectangle (cr, f->left, f->top, f->w, f->h);
  cairo_clip (cr);
  cairo_set_source_rgba (cr, s->color.red, s->color.green, s->color.blue,
                         s->color.alpha);
  cairo_set_line_width (cr, s->width);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
  if (s->level)
    {
      double y = g_array_index (points, Point, points->len - 1).y;
      if (instdisc_plot_frame_shows (f, y))
        {
          double py = round (frame_py (f, y)) + 0.5;
          cairo_set_line_cap (cr, CAIRO_LINE_CAP_BUTT);
          cairo_set_dash (cr, level_dashes, G_N_ELEMENTS (level_dashes), 0);
          cairo_move_to (cr, f->left, py);
          cairo_line_to (cr, f->left + f->w, py);
          cairo_stroke (cr);
        }
      cairo_restore (cr);
      return;
    }

  gboolean pen_down = FALSE;
  long column = LONG_MIN;
  double first = 0, lo = 0, hi = 0, last = 0;
  gboolean column_open = FALSE;
  /* only what is in view, and the points either side of it for the
   * lines that leave it: zoomed in, a frame still costs the plot's width */
  guint from, to;
  instdisc_plot_points_within (points, f->x0, f->x1, &from, &to);
  guint visible_from = from, visible_to = to;
  from = from > 0 ? from - 1 : 0;
  to = MIN (to + 1, points->len);
  for (guint i = from; i <= to; i++)
    {
      gboolean end = i == to;
      const Point *p = end ? NULL : &g_array_index (points, Point, i);
      long c = end ? LONG_MAX : (long) floor (frame_px (f, p->x));
      gboolean gap = !end && !instdisc_plot_frame_shows (f, p->y);
      if (column_open && (end || gap || c != column))
        {
          /* flush the column */
          double px = column + 0.5;
          if (!pen_down)
            cairo_move_to (cr, px, first);
          else
            cairo_line_to (cr, px, first);
          if (lo != first || hi != first)
            {
              cairo_line_to (cr, px, lo);
              cairo_line_to (cr, px, hi);
            }
          cairo_line_to (cr, px, last);
          pen_down = TRUE;
          column_open = FALSE;
        }
      if (end)
        break;
      if (gap)
        {
          if (pen_down)
            cairo_stroke (cr);
          pen_down = FALSE;
          continue;
        }
      double py = frame_py (f, p->y);
      if (!column_open)
        {
          column = c;
          first = lo = hi = last = py;
          column_open = TRUE;
        }
      else
        {
          lo = MIN (lo, py);
          hi = MAX (hi, py);
          last = py;
        }
    }
  /* a lone point still shows */
  if (pen_down)
    {
      if (points->len == 1)
        cairo_rel_line_to (cr, 0.01, 0);
      cairo_stroke (cr);
    }
  /* markers are not clipped: the first epoch sits on the left edge, and a
   * half dot there would look like a drawing fault */
  cairo_restore (cr);
  cairo_save (cr);
  cairo_set_source_rgba (cr, s->color.red, s->color.green, s->color.blue,
                         s->color.alpha);
  if (s->markers)
    for (guint i = visible_from; i < visible_to; i++)
      {
        const Point *p = &g_array_index (points, Point, i);
        if (!instdisc_plot_frame_shows (f, p->y))
          continue;
        cairo_arc (cr, frame_px (f, p->x), frame_py (f, p->y),
                   s->width + 1.5, 0, 2 * G_PI);
        cairo_fill (cr);
      }
  cairo_restore (cr);
}

static void
draw_legend (InstdiscPlot *self, cairo_t *cr, const Frame *f, int width,
             const GdkRGBA *fg)
{
  int *row_of = g_new (int, MAX (self->series->len, 1));
  int rows = legend_layout (self, width, row_of);
  cairo_set_font_size (cr, 11.0);
  /* each row right to left along the top margin, the first beside the
   * title */
  for (int r = 0; r < rows; r++)
    {
      double x = f->left + f->w;
      double y = 15 + r * LEGEND_ROW_HEIGHT;
      for (int s = (int) self->series->len - 1; s >= 0; s--)
        {
          Series *series = g_ptr_array_index (self->series, s);
          if (row_of[s] != r)
            continue;
          cairo_text_extents_t e;
          cairo_text_extents (cr, series->name, &e);
          x -= e.x_advance;
          set_color (cr, fg, 0.85);
          draw_text (cr, series->name, x, y, 0.0, 0.5);
          x -= 22;
          cairo_set_source_rgba (cr, series->color.red, series->color.green,
                                 series->color.blue,
                                 MAX (series->color.alpha, 0.6));
          cairo_set_line_width (cr, MAX (series->width, 2.0));
          if (series->level)
            cairo_set_dash (cr, (const double[]) { 4.0, 2.0 }, 2, 0);
          cairo_move_to (cr, x, y);
          cairo_line_to (cr, x + 16, y);
          cairo_stroke (cr);
          cairo_set_dash (cr, NULL, 0, 0);
          x -= 14;
        }
    }
  g_free (row_of);
}

void
instdisc_plot_draw (InstdiscPlot *self, cairo_t *cr, int width, int height,
                    const GdkRGBA *fg, const GdkRGBA *bg)
{
  g_return_if_fail (INSTDISC_IS_PLOT (self));
  Frame f;
  instdisc_plot_compute_frame (self, width, height, &f);
  cairo_save (cr);
  if (bg)
    {
      gdk_cairo_set_source_rgba (cr, bg);
      cairo_paint (cr);
    }
  cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                          CAIRO_FONT_WEIGHT_NORMAL);
  draw_axes (self, cr, &f, fg);
  gboolean any = FALSE;
  for (guint s = 0; s < self->series->len; s++)
    {
      Series *series = g_ptr_array_index (self->series, s);
      any |= series->points->len > 0;
      draw_series (cr, &f, series);
    }
  if (!any)
    {
      set_color (cr, fg, 0.55);
      cairo_set_font_size (cr, 13.0);
      draw_text (cr, _("No data yet"), f.left + f.w / 2, f.top + f.h / 2, 0.5,
                 0.5);
    }
  draw_legend (self, cr, &f, width, fg);
  cairo_restore (cr);
}


char **
instdisc_plot_dup_x_tick_labels (InstdiscPlot *self, int width, int height)
{
  Frame f;
  instdisc_plot_compute_frame (self, width, height, &f);
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  char label[32];
  for (double x = ceil (f.x0 / f.x_step - 1e-9) * f.x_step;
       x <= f.x1 + f.x_step * 1e-9; x += f.x_step)
    {
      format_tick (label, sizeof label, x, f.x_step);
      g_strv_builder_add (builder, label);
    }
  return g_strv_builder_end (builder);
}

