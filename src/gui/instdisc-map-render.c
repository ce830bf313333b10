/* instdisc-map-render.c: the map without a widget: the class colours, the
 * point set with its spatial index, and the renderer that draws a point set
 * at a view into pixels (see instdisc-map.h for the approach). Plain C on
 * GLib apart from instdisc_map_class_color's GdkRGBA: the widget runs it on
 * a worker. */
#define G_LOG_DOMAIN "instdisc-gui"

#include "instdisc-map-private.h"

#include <math.h>
#include <string.h>

#define MAX_SPRITE 16
#define MAX_GRID_SIDE 4096   /* cells along one side of the index */

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
  const int *labels;         /* (n) or NULL: the class of each, or with a
                                palette its slot in [0, n_slots) */
  int n, n_classes;
  float *palette;            /* (n_slots, 4): red, green, blue and how much
                                a dot of the slot covers (1: fully) */
  int n_slots;

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
      if (self->n_classes < 0)
        /* a palette's slot; anything else takes the last one */
        self->sorted_slot[at] = label >= 0 && label < self->n_slots
                                  ? label : self->n_slots - 1;
      else
        self->sorted_slot[at] = label >= 0 && label < self->n_classes
                                  ? label : self->n_classes;
    }
}

static InstdiscMapPoints *
points_new (GBytes *layout, GBytes *labels)
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
  return self;
}

InstdiscMapPoints *
instdisc_map_points_new (GBytes *layout, GBytes *labels, int n_classes)
{
  InstdiscMapPoints *self = points_new (layout, labels);
  self->n_classes = MAX (n_classes, 0);
  self->n_slots = self->n_classes + 1;
  self->palette = g_new (float, 4 * (size_t) self->n_slots);
  for (int c = 0; c < self->n_slots; c++)
    {
      class_rgb (c < self->n_classes ? c : -1, self->n_classes,
                 self->palette + 4 * c);
      self->palette[4 * c + 3] = 1.0f;
    }
  points_build_index (self);
  return self;
}

InstdiscMapPoints *
instdisc_map_points_new_with_palette (GBytes *layout, GBytes *slots,
                                      const float *palette, int n_slots)
{
  g_return_val_if_fail (palette != NULL && n_slots > 0, NULL);
  InstdiscMapPoints *self = points_new (layout, slots);
  self->n_classes = -1;   /* slots, not classes */
  self->n_slots = n_slots;
  self->palette = g_memdup2 (palette, 4 * sizeof (float) * (size_t) n_slots);
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
  g_free (self->palette);
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

GBytes *
instdisc_map_points_get_layout_bytes (const InstdiscMapPoints *self)
{
  return self->layout_bytes;
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

  const float *rgb = p->palette;

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
        const float *c = rgb + 4 * p->sorted_slot[a];
        if (c[3] <= 0.0f)
          continue;
        int y0 = MAX (0, y - half), y1 = MIN (bh - 1, y + half);
        int x0 = MAX (0, x - half), x1 = MIN (bw - 1, x + half);
        for (int yy = y0; yy <= y1; yy++)
          {
            float *row = acc + 4 * ((size_t) yy * bw);
            const float *srow = coverage + (yy - y + half) * size
                                + (half - x);
            for (int xx = x0; xx <= x1; xx++)
              {
                float cov = srow[xx] * c[3];
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
