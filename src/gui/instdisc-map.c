/* instdisc-map.c: the scatter plot (see instdisc-map.h for the approach). */
#define G_LOG_DOMAIN "instdisc-gui"

#include "instdisc-map.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "instdisc-thumb.h"

#define PICK_RADIUS 6.0      /* widget pixels around the pointer */
#define MAX_SPRITE 16
#define MAX_GRID_SIDE 4096   /* cells along one side of the index */
/* widget pixels drawn beyond each edge, so that a pan shows points at once
 * on the side it uncovers, before the pan's own render arrives */
#define OVERSCAN 128

/* ---- colours ---- */

static void
rgb_from_hex (guint32 hex, float rgb[3])
{
  rgb[0] = ((hex >> 16) & 0xff) / 255.0f;
  rgb[1] = ((hex >> 8) & 0xff) / 255.0f;
  rgb[2] = (hex & 0xff) / 255.0f;
}

/* h, s, v in [0, 1] */
static void
rgb_from_hsv (float h, float s, float v, float rgb[3])
{
  float f = h * 6.0f;
  int sector = (int) f % 6;
  f -= floorf (f);
  float p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
  const float table[6][3] = {
    { v, t, p }, { q, v, p }, { p, v, t }, { p, q, v }, { t, p, v },
    { v, p, q },
  };
  memcpy (rgb, table[sector], sizeof table[0]);
}

/* Plain C, no GTK: the renderer calls it on a worker. */
static void
class_rgb (int label, int n_classes, float rgb[3])
{
  /* Tableau 10, which stays distinguishable on white and on dark grey */
  static const guint32 palette[] = {
    0x4e79a7, 0xf28e2b, 0xe15759, 0x76b7b2, 0x59a14f,
    0xedc948, 0xb07aa1, 0xff9da7, 0x9c755f, 0xbab0ac,
  };
  if (label < 0)
    rgb_from_hex (0x3584e4, rgb);
  else if (n_classes <= (int) G_N_ELEMENTS (palette))
    rgb_from_hex (palette[label % G_N_ELEMENTS (palette)], rgb);
  else
    /* more classes: hues a golden angle apart, two lightnesses alternating */
    rgb_from_hsv (fmodf (label * 0.618034f, 1.0f), 0.65f,
                  label % 2 ? 0.75f : 0.95f, rgb);
}

void
instdisc_map_class_color (int label, int n_classes, GdkRGBA *color)
{
  float rgb[3];
  class_rgb (label, n_classes, rgb);
  *color = (GdkRGBA) { rgb[0], rgb[1], rgb[2], 1.0f };
}

/* ---- the point set and its index ---- */

struct _InstdiscMapPoints
{
  gatomicrefcount ref;
  GBytes *layout_bytes, *labels_bytes;
  const float *layout;       /* (n, 2) */
  const int *labels;         /* (n) or NULL */
  int n, n_classes;

  /* a uniform grid of square cells of side `cell` from (x0, y0), gw x gh;
   * the points (with finite coordinates) sorted by cell, row by row */
  double x0, y0, cell;
  double x1, y1;             /* the layout's bounds: (x0, y0) to (x1, y1) */
  int gw, gh;
  int *cell_start;           /* (gw gh + 1) */
  float *sorted;             /* (n_sorted, 2) positions */
  int *sorted_index;         /* (n_sorted) row of each */
  int *sorted_slot;          /* (n_sorted) its colour: the label, or
                                n_classes when unlabelled */
};

static inline int
grid_x (const InstdiscMapPoints *self, double x)
{
  double c = floor ((x - self->x0) / self->cell);
  return (int) CLAMP (c, 0.0, self->gw - 1.0);
}

static inline int
grid_y (const InstdiscMapPoints *self, double y)
{
  double c = floor ((y - self->y0) / self->cell);
  return (int) CLAMP (c, 0.0, self->gh - 1.0);
}

static void
points_build_index (InstdiscMapPoints *self)
{
  int n = self->n;
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (int i = 0; i < n; i++)
    {
      float x = self->layout[2 * i], y = self->layout[2 * i + 1];
      if (!isfinite (x) || !isfinite (y))
        continue;
      x0 = MIN (x0, x);
      x1 = MAX (x1, x);
      y0 = MIN (y0, y);
      y1 = MAX (y1, y);
    }
  if (x0 > x1)
    x0 = x1 = y0 = y1 = 0.0;
  /* about four points a cell on average; a thin layout still gets cells
   * along its long side */
  double w = x1 - x0, h = y1 - y0, side = MAX (w, h);
  double target = CLAMP (n / 4.0, 1.0, (double) (1 << 20));
  double cell = side > 0.0
                  ? sqrt (MAX (w, side / 1024.0) * MAX (h, side / 1024.0)
                          / target)
                  : 1.0;
  cell = MAX (cell, side / (MAX_GRID_SIDE - 1));
  self->x0 = x0;
  self->y0 = y0;
  self->x1 = x1;
  self->y1 = y1;
  self->cell = cell;
  self->gw = MIN (MAX_GRID_SIDE, (int) (w / cell) + 1);
  self->gh = MIN (MAX_GRID_SIDE, (int) (h / cell) + 1);

  /* a counting sort by cell */
  size_t cells = (size_t) self->gw * self->gh;
  self->cell_start = g_new0 (int, cells + 1);
  g_autofree int *cell_of = g_new (int, MAX (n, 1));
  for (int i = 0; i < n; i++)
    {
      float x = self->layout[2 * i], y = self->layout[2 * i + 1];
      if (!isfinite (x) || !isfinite (y))
        {
          cell_of[i] = -1;
          continue;
        }
      cell_of[i] = grid_y (self, y) * self->gw + grid_x (self, x);
      self->cell_start[cell_of[i] + 1]++;
    }
  for (size_t c = 0; c < cells; c++)
    self->cell_start[c + 1] += self->cell_start[c];
  int n_sorted = self->cell_start[cells];
  self->sorted = g_new (float, 2 * (size_t) MAX (n_sorted, 1));
  self->sorted_index = g_new (int, MAX (n_sorted, 1));
  self->sorted_slot = g_new (int, MAX (n_sorted, 1));
  g_autofree int *fill = g_memdup2 (self->cell_start, cells * sizeof (int));
  for (int i = 0; i < n; i++)
    {
      if (cell_of[i] < 0)
        continue;
      int at = fill[cell_of[i]]++;
      self->sorted[2 * at] = self->layout[2 * i];
      self->sorted[2 * at + 1] = self->layout[2 * i + 1];
      self->sorted_index[at] = i;
      int label = self->labels ? self->labels[i] : -1;
      self->sorted_slot[at] = label >= 0 && label < self->n_classes
                                ? label : self->n_classes;
    }
}

InstdiscMapPoints *
instdisc_map_points_new (GBytes *layout, GBytes *labels, int n_classes)
{
  g_return_val_if_fail (layout != NULL, NULL);
  InstdiscMapPoints *self = g_new0 (InstdiscMapPoints, 1);
  g_atomic_ref_count_init (&self->ref);
  self->layout_bytes = g_bytes_ref (layout);
  self->layout = g_bytes_get_data (layout, NULL);
  self->n = (int) (g_bytes_get_size (layout) / (2 * sizeof (float)));
  if (labels)
    {
      g_return_val_if_fail (g_bytes_get_size (labels)
                              == (gsize) self->n * sizeof (int), NULL);
      self->labels_bytes = g_bytes_ref (labels);
      self->labels = g_bytes_get_data (labels, NULL);
    }
  self->n_classes = MAX (n_classes, 0);
  points_build_index (self);
  return self;
}

InstdiscMapPoints *
instdisc_map_points_ref (InstdiscMapPoints *self)
{
  g_atomic_ref_count_inc (&self->ref);
  return self;
}

void
instdisc_map_points_unref (InstdiscMapPoints *self)
{
  if (!self || !g_atomic_ref_count_dec (&self->ref))
    return;
  g_bytes_unref (self->layout_bytes);
  g_clear_pointer (&self->labels_bytes, g_bytes_unref);
  g_free (self->cell_start);
  g_free (self->sorted);
  g_free (self->sorted_index);
  g_free (self->sorted_slot);
  g_free (self);
}

int
instdisc_map_points_get_n (const InstdiscMapPoints *self)
{
  return self->n;
}

const float *
instdisc_map_points_get_layout (const InstdiscMapPoints *self)
{
  return self->layout;
}

int
instdisc_map_points_nearest (const InstdiscMapPoints *self, double x,
                             double y, double radius)
{
  if (self->n == 0 || !(radius >= 0.0))
    return -1;
  /* the cells the disc around (x, y) touches; none when it misses the
   * grid altogether */
  double gx_lo = floor ((x - radius - self->x0) / self->cell);
  double gx_hi = floor ((x + radius - self->x0) / self->cell);
  double gy_lo = floor ((y - radius - self->y0) / self->cell);
  double gy_hi = floor ((y + radius - self->y0) / self->cell);
  if (gx_hi < 0 || gy_hi < 0 || gx_lo >= self->gw || gy_lo >= self->gh)
    return -1;
  int gx0 = (int) MAX (gx_lo, 0.0), gx1 = (int) MIN (gx_hi, self->gw - 1.0);
  int gy0 = (int) MAX (gy_lo, 0.0), gy1 = (int) MIN (gy_hi, self->gh - 1.0);
  int best = -1;
  double best_d2 = radius * radius;
  for (int gy = gy0; gy <= gy1; gy++)
    for (int a = self->cell_start[gy * self->gw + gx0];
         a < self->cell_start[gy * self->gw + gx1 + 1]; a++)
      {
        double dx = self->sorted[2 * a] - x, dy = self->sorted[2 * a + 1] - y;
        double d2 = dx * dx + dy * dy;
        int i = self->sorted_index[a];
        if (d2 < best_d2 || (d2 == best_d2 && (best < 0 || i < best)))
          {
            best_d2 = d2;
            best = i;
          }
      }
  return best;
}

/* ---- the renderer ---- */

void
instdisc_map_view_to_widget (const InstdiscMapView *view, double x, double y,
                             double *wx, double *wy)
{
  *wx = (x - view->cx) * view->zoom + view->width / 2.0;
  *wy = -(y - view->cy) * view->zoom + view->height / 2.0;   /* y up */
}

/* Dot radius (widget pixels) and the opacity of one dot, from the points
 * per widget pixel of the area they span. The radii are those that looked
 * right for 5,000, 30,000, 120,000, 400,000 and more points spread over
 * two thirds of an 800 x 600 map; past 0.6 points a pixel the dots also
 * fade, so that a core holding hundreds of points a pixel still looks
 * denser than its fringe. */
static void
dot_style (double density, double *radius, double *opacity)
{
  if (density <= 0.016)
    *radius = 3.5;
  else if (density <= 0.094)
    *radius = 2.6;
  else if (density <= 0.375)
    *radius = 2.0;
  else if (density <= 1.3)
    *radius = 1.4;
  else
    *radius = 1.0;
  *opacity = density <= 0.6 ? 0.85 : MAX (0.25, 0.85 * sqrt (0.6 / density));
}

/* How much of each pixel a disc of radius r (device pixels) centred on
 * the middle pixel covers, from 4 x 4 samples a pixel. */
static int
sprite_make (float *coverage, double r)
{
  int half = (int) ceil (r - 0.5);
  half = CLAMP (half, 0, (MAX_SPRITE - 1) / 2);
  int size = 2 * half + 1;
  for (int y = 0; y < size; y++)
    for (int x = 0; x < size; x++)
      {
        int inside = 0;
        for (int sy = 0; sy < 4; sy++)
          for (int sx = 0; sx < 4; sx++)
            {
              double dx = x - half + (sx + 0.5) / 4.0 - 0.5;
              double dy = y - half + (sy + 0.5) / 4.0 - 0.5;
              inside += dx * dx + dy * dy <= r * r;
            }
        coverage[y * size + x] = inside / 16.0f;
      }
  return size;
}

void
instdisc_map_image_free (InstdiscMapImage *image)
{
  if (!image)
    return;
  g_free (image->pixels);
  g_free (image);
}

InstdiscMapImage *
instdisc_map_render (const InstdiscMapPoints *points,
                     const InstdiscMapView *view)
{
  gint64 start = g_get_monotonic_time ();
  int scale = MAX (view->scale, 1);
  int bw = MAX (view->width, 0) * scale, bh = MAX (view->height, 0) * scale;
  InstdiscMapImage *image = g_new0 (InstdiscMapImage, 1);
  image->view = *view;
  image->width = bw;
  image->height = bh;
  image->pixels = g_new0 (guint32, MAX ((size_t) bw * bh, 1));
  if (points->n == 0 || bw == 0 || bh == 0)
    return image;

  /* device pixel (px, py) of data point (x, y): px = ox + x z,
   * py = oy - y z */
  double z = view->zoom * scale;
  double ox = bw / 2.0 - view->cx * z, oy = bh / 2.0 + view->cy * z;
  /* the cells under the view, with a dot's margin around it */
  double margin = (MAX_SPRITE / 2 + 1) / z;
  double vx0 = -ox / z - margin, vx1 = (bw - ox) / z + margin;
  double vy0 = (oy - bh) / z - margin, vy1 = oy / z + margin;
  const InstdiscMapPoints *p = points;
  if (vx1 < p->x0 || vy1 < p->y0 || vx0 > p->x0 + p->gw * p->cell
      || vy0 > p->y0 + p->gh * p->cell)
    {
      image->ms = (g_get_monotonic_time () - start) / 1000.0;
      return image;
    }
  int gx0 = grid_x (p, vx0), gx1 = grid_x (p, vx1);
  int gy0 = grid_y (p, vy0), gy1 = grid_y (p, vy1);

  /* the density: points per pixel of the part of the view the layout's
   * bounds cover (so neither empty margins nor a small window of a large
   * layout dilute it), the points counted by whole cells: exact when
   * zoomed out, a little high for cells the view's edge cuts */
  gint64 in_cells = 0;
  for (int gy = gy0; gy <= gy1; gy++)
    in_cells += p->cell_start[gy * p->gw + gx1 + 1]
                - p->cell_start[gy * p->gw + gx0];
  double cover_w = MIN (vx1 - margin, p->x1) - MAX (vx0 + margin, p->x0);
  double cover_h = MIN (vy1 - margin, p->y1) - MAX (vy0 + margin, p->y0);
  double cover = MAX (cover_w * view->zoom, 1.0) * MAX (cover_h * view->zoom,
                                                        1.0);
  double radius, opacity;
  dot_style ((double) in_cells / cover, &radius, &opacity);
  image->dot_radius = radius;
  float coverage[MAX_SPRITE * MAX_SPRITE];
  int size = sprite_make (coverage, radius * scale), half = size / 2;

  int n_slots = p->n_classes + 1;
  g_autofree float *rgb = g_new (float, 3 * (size_t) n_slots);
  for (int c = 0; c < n_slots; c++)
    class_rgb (c < p->n_classes ? c : -1, p->n_classes, rgb + 3 * c);

  /* per pixel: coverage-weighted red, green, blue and the coverage */
  g_autofree float *acc = g_new0 (float, 4 * (size_t) bw * bh);
  int n_visible = 0;
  for (int gy = gy0; gy <= gy1; gy++)
    for (int a = p->cell_start[gy * p->gw + gx0];
         a < p->cell_start[gy * p->gw + gx1 + 1]; a++)
      {
        double px = ox + p->sorted[2 * a] * z;
        double py = oy - p->sorted[2 * a + 1] * z;
        if (!(px >= -half && px < bw + half && py >= -half
              && py < bh + half))
          continue;
        int x = (int) floor (px), y = (int) floor (py);
        n_visible += x >= 0 && x < bw && y >= 0 && y < bh;
        const float *c = rgb + 3 * p->sorted_slot[a];
        int y0 = MAX (0, y - half), y1 = MIN (bh - 1, y + half);
        int x0 = MAX (0, x - half), x1 = MIN (bw - 1, x + half);
        for (int yy = y0; yy <= y1; yy++)
          {
            float *row = acc + 4 * ((size_t) yy * bw);
            const float *srow = coverage + (yy - y + half) * size
                                + (half - x);
            for (int xx = x0; xx <= x1; xx++)
              {
                float cov = srow[xx];
                float *q = row + 4 * xx;
                q[0] += cov * c[0];
                q[1] += cov * c[1];
                q[2] += cov * c[2];
                q[3] += cov;
              }
          }
      }
  image->n_visible = n_visible;

  /* opacity 1 - exp (-k coverage) with k from one dot's opacity: where
   * dots do not overlap this is the dot itself; where m overlap, as m
   * translucent dots over one another, in no particular order */
  float k = (float) -log (1.0 - opacity);
  for (size_t i = 0; i < (size_t) bw * bh; i++)
    {
      const float *q = acc + 4 * i;
      if (q[3] <= 0.0f)
        continue;
      float alpha = 1.0f - expf (-k * q[3]);
      float f = 255.0f * alpha / q[3];
      guint32 A = (guint32) (255.0f * alpha + 0.5f);
      guint32 R = MIN ((guint32) (q[0] * f + 0.5f), A);
      guint32 G = MIN ((guint32) (q[1] * f + 0.5f), A);
      guint32 B = MIN ((guint32) (q[2] * f + 0.5f), A);
      image->pixels[i] = A << 24 | R << 16 | G << 8 | B;
    }
  image->ms = (g_get_monotonic_time () - start) / 1000.0;
  return image;
}

/* ---- the widget ---- */

struct _InstdiscMap
{
  GtkWidget parent_instance;

  /* owned */
  GBytes *layout;            /* (n, 2) float: the newest */
  GBytes *labels;            /* (n) int, or NULL */
  int n, n_classes;
  guint points_serial;       /* renders of an older set of points are
                                dropped */
  InstdiscMapPoints *shown_points;   /* of the image shown: picking and
                                        the rings follow what is seen */
  GdkTexture *texture;       /* the image shown */
  InstdiscMapView shown_view;
  double shown_dot_radius;
  GCancellable *cancellable;
  gboolean render_running, render_wanted;
  guint n_renders;
  double render_ms;
  int *neighbours;
  int n_neighbours;
  GtkWidget *popover;
  GtkWidget *popover_thumb;
  GtkWidget *popover_label;
  GtkWidget *popover_name;
  GObject *data_owner;

  /* borrowed */
  const Dataset *data;

  /* the view: data coordinates of the centre, pixels per data unit */
  double cx, cy, zoom;
  int alloc_width, alloc_height;
  gboolean user_moved;
  gboolean dragged;          /* the press being handled moved: not a click */
  double drag_cx, drag_cy;
  double pointer_x, pointer_y;
  int hovered, selected;
};

G_DEFINE_FINAL_TYPE (InstdiscMap, instdisc_map, GTK_TYPE_WIDGET)

enum { SIGNAL_POINT_SELECTED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void start_render (InstdiscMap *self);

void
instdisc_map_get_view (InstdiscMap *self, InstdiscMapView *view)
{
  GtkWidget *widget = GTK_WIDGET (self);
  *view = (InstdiscMapView) {
    .cx = self->cx,
    .cy = self->cy,
    .zoom = self->zoom,
    .width = gtk_widget_get_width (widget),
    .height = gtk_widget_get_height (widget),
    .scale = gtk_widget_get_scale_factor (widget),
  };
}

/* The newest view and layout need a render: one starts now unless one is
 * running, which then starts the next when it ends, for whatever the view
 * and layout are by then. */
static void
request_render (InstdiscMap *self)
{
  self->render_wanted = TRUE;
  if (!self->render_running)
    start_render (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static const float *
shown_layout (InstdiscMap *self)
{
  if (self->shown_points)
    return self->shown_points->layout;
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

void
instdisc_map_fit (InstdiscMap *self)
{
  self->user_moved = FALSE;
  int w = gtk_widget_get_width (GTK_WIDGET (self));
  int h = gtk_widget_get_height (GTK_WIDGET (self));
  if (self->n == 0)
    return;
  const float *layout = g_bytes_get_data (self->layout, NULL);
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (int i = 0; i < self->n; i++)
    {
      if (!isfinite (layout[2 * i]) || !isfinite (layout[2 * i + 1]))
        continue;
      x0 = MIN (x0, layout[2 * i]);
      x1 = MAX (x1, layout[2 * i]);
      y0 = MIN (y0, layout[2 * i + 1]);
      y1 = MAX (y1, layout[2 * i + 1]);
    }
  if (x0 > x1)
    x0 = x1 = y0 = y1 = 0.0;
  self->cx = (x0 + x1) / 2.0;
  self->cy = (y0 + y1) / 2.0;
  /* a margin of 24 pixels so edge points and their rings stay visible */
  double sx = MAX (w - 48, 16) / MAX (x1 - x0, 1e-9);
  double sy = MAX (h - 48, 16) / MAX (y1 - y0, 1e-9);
  self->zoom = w > 0 && h > 0 ? MIN (sx, sy) : 1.0;
  request_render (self);
}

/* ---- rendering on a worker ---- */

typedef struct
{
  GWeakRef map;
  guint points_serial;
  InstdiscMapView view;
  /* the points to draw, or what to build them from */
  InstdiscMapPoints *points;
  GBytes *layout, *labels;
  int n_classes;
  InstdiscMapImage *image;
  double ms;
} RenderJob;

static void
render_job_free (RenderJob *job)
{
  g_weak_ref_clear (&job->map);
  g_clear_pointer (&job->points, instdisc_map_points_unref);
  g_clear_pointer (&job->layout, g_bytes_unref);
  g_clear_pointer (&job->labels, g_bytes_unref);
  g_clear_pointer (&job->image, instdisc_map_image_free);
  g_free (job);
}

static void
render_thread (GTask *task, gpointer source, gpointer task_data,
               GCancellable *cancellable)
{
  RenderJob *job = task_data;
  gint64 start = g_get_monotonic_time ();
  if (!job->points)
    job->points = instdisc_map_points_new (job->layout, job->labels,
                                           job->n_classes);
  job->image = instdisc_map_render (job->points, &job->view);
  job->ms = (g_get_monotonic_time () - start) / 1000.0;
  g_task_return_boolean (task, TRUE);
}

static void
render_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  RenderJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr (InstdiscMap) self = g_weak_ref_get (&job->map);
  if (!self || g_cancellable_is_cancelled (self->cancellable))
    return;
  self->render_running = FALSE;
  if (job->points_serial == self->points_serial)
    {
      g_clear_pointer (&self->shown_points, instdisc_map_points_unref);
      self->shown_points = g_steal_pointer (&job->points);
      InstdiscMapImage *image = g_steal_pointer (&job->image);
      self->shown_view = image->view;
      self->shown_dot_radius = image->dot_radius;
      self->render_ms = job->ms;
      self->n_renders++;
      /* the texture owns the image: no copy of the pixels */
      g_autoptr (GBytes) bytes
        = g_bytes_new_with_free_func (image->pixels,
                                      (gsize) image->width * image->height * 4,
                                      (GDestroyNotify) instdisc_map_image_free,
                                      image);
      g_clear_object (&self->texture);
      /* cairo's ARGB32 in native byte order: B, G, R, A on little-endian */
      self->texture = gdk_memory_texture_new (image->width, image->height,
                                              GDK_MEMORY_DEFAULT, bytes,
                                              image->width * 4);
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
  if (self->render_wanted)
    start_render (self);
}

static void
start_render (InstdiscMap *self)
{
  self->render_wanted = FALSE;
  InstdiscMapView view;
  instdisc_map_get_view (self, &view);
  if (self->n == 0 || view.width <= 0 || view.height <= 0)
    return;
  RenderJob *job = g_new0 (RenderJob, 1);
  g_weak_ref_init (&job->map, self);
  job->points_serial = self->points_serial;
  job->view = view;
  job->view.width += 2 * OVERSCAN;
  job->view.height += 2 * OVERSCAN;
  /* a new view of the layout shown reuses its index */
  if (self->shown_points && self->shown_points->layout_bytes == self->layout)
    job->points = instdisc_map_points_ref (self->shown_points);
  else
    {
      job->layout = g_bytes_ref (self->layout);
      job->labels = self->labels ? g_bytes_ref (self->labels) : NULL;
      job->n_classes = self->n_classes;
    }
  g_autoptr (GTask) task = g_task_new (NULL, self->cancellable, render_done,
                                       NULL);
  g_task_set_source_tag (task, start_render);
  g_task_set_task_data (task, job, (GDestroyNotify) render_job_free);
  self->render_running = TRUE;
  g_task_run_in_thread (task, render_thread);
}

/* ---- drawing ---- */

static void
append_ring (GtkSnapshot *snapshot, double x, double y, double r,
             const GdkRGBA *color, float width)
{
  GskRoundedRect ring;
  gsk_rounded_rect_init_from_rect (&ring,
                                   &GRAPHENE_RECT_INIT (x - r, y - r,
                                                        2 * r, 2 * r), r);
  float widths[4] = { width, width, width, width };
  GdkRGBA colors[4] = { *color, *color, *color, *color };
  gtk_snapshot_append_border (snapshot, &ring, widths, colors);
}

static void
instdisc_map_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  InstdiscMap *self = INSTDISC_MAP (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  if (w <= 0 || h <= 0 || self->n == 0)
    return;
  if (!self->texture || self->shown_view.width != w + 2 * OVERSCAN
      || self->shown_view.height != h + 2 * OVERSCAN
      || self->shown_view.scale != gtk_widget_get_scale_factor (widget))
    {
      /* a size or scale the shown image is not of (no queue_draw from
       * here: the render's arrival draws) */
      self->render_wanted = TRUE;
      if (!self->render_running)
        start_render (self);
    }
  if (self->texture)
    {
      /* the image moved and scaled from the view it was drawn at to this
       * one: widget x = s (u - w0 / 2) + (cx0 - cx) zoom + w / 2 for its
       * pixel column u, with s = zoom / zoom0, and the same for y, upwards */
      const InstdiscMapView *v = &self->shown_view;
      double s = self->zoom / v->zoom;
      double tx = w / 2.0 + (v->cx - self->cx) * self->zoom - s * v->width / 2.0;
      double ty = h / 2.0 - (v->cy - self->cy) * self->zoom
                  - s * v->height / 2.0;
      gtk_snapshot_save (snapshot);
      gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (tx, ty));
      gtk_snapshot_scale (snapshot, (float) s, (float) s);
      gtk_snapshot_append_texture (snapshot, self->texture,
                                   &GRAPHENE_RECT_INIT (0, 0, v->width,
                                                        v->height));
      gtk_snapshot_restore (snapshot);
    }

  /* the selection: lines to its neighbours, rings around them */
  GdkRGBA ink, light;
  gdk_rgba_parse (&ink, "#1e1e1e");
  gdk_rgba_parse (&light, "#ffffff");
  if (self->selected >= 0 && self->selected < self->n)
    {
      double sx, sy;
      instdisc_map_point_position (self, self->selected, &sx, &sy);
      cairo_t *cr = gtk_snapshot_append_cairo (snapshot,
                                               &GRAPHENE_RECT_INIT (0, 0, w, h));
      cairo_set_line_width (cr, 1.0);
      cairo_set_source_rgba (cr, 0.12, 0.12, 0.12, 0.6);
      for (int j = 0; j < self->n_neighbours; j++)
        {
          int nb = self->neighbours[j];
          if (nb < 0 || nb >= self->n)
            continue;
          double nx, ny;
          instdisc_map_point_position (self, nb, &nx, &ny);
          cairo_move_to (cr, sx, sy);
          cairo_line_to (cr, nx, ny);
        }
      cairo_stroke (cr);
      cairo_destroy (cr);
      for (int j = 0; j < self->n_neighbours; j++)
        {
          int nb = self->neighbours[j];
          if (nb < 0 || nb >= self->n)
            continue;
          double nx, ny;
          instdisc_map_point_position (self, nb, &nx, &ny);
          append_ring (snapshot, nx, ny, 5, &light, 3);
          append_ring (snapshot, nx, ny, 5, &ink, 1.5);
        }
      append_ring (snapshot, sx, sy, 8, &light, 4);
      append_ring (snapshot, sx, sy, 8, &ink, 2);
    }
  if (self->hovered >= 0 && self->hovered < self->n)
    {
      double hx, hy;
      instdisc_map_point_position (self, self->hovered, &hx, &hy);
      append_ring (snapshot, hx, hy, 6, &light, 3);
      append_ring (snapshot, hx, hy, 6, &ink, 1.5);
    }
}

/* ---- picking and hovering ---- */

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
  g_autoptr (GError) error = NULL;
  g_autoptr (GdkTexture) texture
    = instdisc_texture_new_from_dataset (self->data, i, 112, &error);
  instdisc_thumb_set_texture (INSTDISC_THUMB (self->popover_thumb), texture);
  const int *labels = self->labels ? g_bytes_get_data (self->labels, NULL)
                                   : NULL;
  int label = labels ? labels[i] : -1;
  g_autofree char *text = NULL;
  if (error)
    text = g_strdup (error->message);
  else if (label >= 0 && self->data->class_names
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
on_motion (GtkEventControllerMotion *motion, double x, double y,
           InstdiscMap *self)
{
  instdisc_map_hover (self, x, y);
}

static void
on_leave (GtkEventControllerMotion *motion, InstdiscMap *self)
{
  self->hovered = -1;
  gtk_popover_popdown (GTK_POPOVER (self->popover));
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* ---- panning and zooming ---- */

static void
view_moved (InstdiscMap *self)
{
  self->user_moved = TRUE;
  self->hovered = -1;
  gtk_popover_popdown (GTK_POPOVER (self->popover));
  request_render (self);
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
  int i = instdisc_map_pick (self, x, y);
  g_signal_emit (self, signals[SIGNAL_POINT_SELECTED], 0, i);
}

/* ---- public ---- */

void
instdisc_map_set_points (InstdiscMap *self, const float *layout,
                         const int *labels, int n, int n_classes)
{
  g_return_if_fail (INSTDISC_IS_MAP (self));
  g_clear_pointer (&self->layout, g_bytes_unref);
  g_clear_pointer (&self->labels, g_bytes_unref);
  g_clear_pointer (&self->shown_points, instdisc_map_points_unref);
  g_clear_object (&self->texture);
  self->points_serial++;
  self->n = MAX (n, 0);
  self->n_classes = n_classes;
  if (self->n > 0)
    {
      self->layout = g_bytes_new (layout, (gsize) n * 2 * sizeof (float));
      if (labels)
        self->labels = g_bytes_new (labels, (gsize) n * sizeof (int));
    }
  self->selected = self->hovered = -1;
  self->n_neighbours = 0;
  gtk_popover_popdown (GTK_POPOVER (self->popover));
  instdisc_map_fit (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
instdisc_map_set_layout (InstdiscMap *self, const float *layout)
{
  g_return_if_fail (INSTDISC_IS_MAP (self));
  if (self->n == 0)
    return;
  g_bytes_unref (self->layout);
  self->layout = g_bytes_new (layout, (gsize) self->n * 2 * sizeof (float));
  if (!self->user_moved)
    instdisc_map_fit (self);
  request_render (self);
}

int
instdisc_map_get_n_points (InstdiscMap *self)
{
  return self->n;
}

const float *
instdisc_map_get_layout (InstdiscMap *self)
{
  return self->layout ? g_bytes_get_data (self->layout, NULL) : NULL;
}

gboolean
instdisc_map_is_rendering (InstdiscMap *self)
{
  g_return_val_if_fail (INSTDISC_IS_MAP (self), FALSE);
  if (self->render_running || self->render_wanted)
    return TRUE;
  /* points but no image yet: one comes once the widget has a size */
  return self->n > 0 && !self->texture
         && gtk_widget_get_width (GTK_WIDGET (self)) > 0;
}

guint
instdisc_map_get_n_renders (InstdiscMap *self)
{
  return self->n_renders;
}

gboolean
instdisc_map_get_shown_view (InstdiscMap *self, InstdiscMapView *view)
{
  if (!self->texture)
    return FALSE;
  *view = self->shown_view;
  return TRUE;
}

void
instdisc_map_set_dataset (InstdiscMap *self, const Dataset *data,
                          GObject *owner)
{
  g_return_if_fail (INSTDISC_IS_MAP (self));
  if (owner)
    g_object_ref (owner);
  g_clear_object (&self->data_owner);
  self->data_owner = owner;
  self->data = data;
}

void
instdisc_map_set_selection (InstdiscMap *self, int selected,
                            const int *neighbours, int n_neighbours)
{
  g_return_if_fail (INSTDISC_IS_MAP (self));
  self->selected = selected;
  g_clear_pointer (&self->neighbours, g_free);
  self->n_neighbours = selected >= 0 && neighbours ? n_neighbours : 0;
  if (self->n_neighbours > 0)
    self->neighbours = g_memdup2 (neighbours, n_neighbours * sizeof (int));
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

int
instdisc_map_get_selected (InstdiscMap *self)
{
  return self->selected;
}

int
instdisc_map_get_hovered (InstdiscMap *self)
{
  return self->hovered;
}

double
instdisc_map_get_render_ms (InstdiscMap *self)
{
  return self->render_ms;
}

GtkWidget *
instdisc_map_new (void)
{
  return g_object_new (INSTDISC_TYPE_MAP, NULL);
}

/* ---- GObject ---- */

static void
instdisc_map_size_allocate (GtkWidget *widget, int width, int height,
                            int baseline)
{
  InstdiscMap *self = INSTDISC_MAP (widget);
  /* allocations of the same size (the popover's come through here) need
   * no new render */
  if (width != self->alloc_width || height != self->alloc_height)
    {
      self->alloc_width = width;
      self->alloc_height = height;
      if (!self->user_moved)
        instdisc_map_fit (self);
      else
        request_render (self);
    }
  gtk_popover_present (GTK_POPOVER (self->popover));
}

static void
on_scale_factor (InstdiscMap *self, GParamSpec *pspec, gpointer data)
{
  request_render (self);
}

static void
instdisc_map_dispose (GObject *object)
{
  InstdiscMap *self = INSTDISC_MAP (object);
  /* a render still running finds the map gone and drops its image */
  g_cancellable_cancel (self->cancellable);
  g_clear_pointer (&self->popover, gtk_widget_unparent);
  g_clear_object (&self->texture);
  g_clear_pointer (&self->shown_points, instdisc_map_points_unref);
  g_clear_object (&self->data_owner);
  self->data = NULL;
  G_OBJECT_CLASS (instdisc_map_parent_class)->dispose (object);
}

static void
instdisc_map_finalize (GObject *object)
{
  InstdiscMap *self = INSTDISC_MAP (object);
  g_clear_pointer (&self->layout, g_bytes_unref);
  g_clear_pointer (&self->labels, g_bytes_unref);
  g_clear_object (&self->cancellable);
  g_free (self->neighbours);
  G_OBJECT_CLASS (instdisc_map_parent_class)->finalize (object);
}

static void
instdisc_map_class_init (InstdiscMapClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  object_class->dispose = instdisc_map_dispose;
  object_class->finalize = instdisc_map_finalize;
  widget_class->snapshot = instdisc_map_snapshot;
  widget_class->size_allocate = instdisc_map_size_allocate;
  gtk_widget_class_set_css_name (widget_class, "scattermap");

  signals[SIGNAL_POINT_SELECTED]
    = g_signal_new ("point-selected", G_TYPE_FROM_CLASS (klass),
                    G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                    G_TYPE_INT);
}

static void
instdisc_map_init (InstdiscMap *self)
{
  self->zoom = 1.0;
  self->hovered = self->selected = -1;
  self->cancellable = g_cancellable_new ();
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);
  g_signal_connect (self, "notify::scale-factor",
                    G_CALLBACK (on_scale_factor), NULL);

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
