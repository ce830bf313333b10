/* instdisc-map.c: the scatter plot (see instdisc-map.h for the approach). */
#define G_LOG_DOMAIN "instdisc-gui"

#include "instdisc-map.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "instdisc-thumb.h"

#define GRID_CELL 8          /* device pixels per picking cell */
#define PICK_RADIUS 6.0      /* widget pixels around the pointer */
#define MAX_SPRITE 16

struct _InstdiscMap
{
  GtkWidget parent_instance;

  /* owned */
  float *layout;             /* (n, 2) */
  int *labels;               /* (n) or NULL */
  int *order;                /* (n) drawing order, a fixed shuffle */
  float *drawn;              /* (n, 3) x, y, label in drawing order: the
                                redraw reads it front to back, not at
                                random through order[] */
  int n, n_classes;
  GdkTexture *points_texture;  /* the last redraw of the points */
  guint32 *pixels;           /* (buf_h, buf_w) premultiplied ARGB */
  int buf_w, buf_h, buf_scale;
  int *grid_start;           /* (cells + 1) into grid_items */
  int *grid_items;           /* point indices, by cell */
  int grid_w, grid_h;
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
  gboolean user_moved;
  gboolean dragged;          /* the press being handled moved: not a click */
  double drag_cx, drag_cy;
  double pointer_x, pointer_y;
  gboolean dirty;
  int hovered, selected;
  double render_ms;
};

G_DEFINE_FINAL_TYPE (InstdiscMap, instdisc_map, GTK_TYPE_WIDGET)

enum { SIGNAL_POINT_SELECTED, N_SIGNALS };
static guint signals[N_SIGNALS];

/* ---- colours ---- */

void
instdisc_map_class_color (int label, int n_classes, GdkRGBA *color)
{
  /* Tableau 10, which stays distinguishable on white and on dark grey */
  static const char *palette[] = {
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
  };
  if (label < 0)
    {
      gdk_rgba_parse (color, "#3584e4");
      return;
    }
  if (n_classes <= (int) G_N_ELEMENTS (palette))
    {
      gdk_rgba_parse (color, palette[label % G_N_ELEMENTS (palette)]);
      return;
    }
  /* more classes: hues a golden angle apart, two lightnesses alternating */
  float h = fmodf (label * 0.618034f, 1.0f), s = 0.65f;
  float v = label % 2 ? 0.75f : 0.95f;
  gtk_hsv_to_rgb (h, s, v, &color->red, &color->green, &color->blue);
  color->alpha = 1.0f;
}

/* ---- the view transform ---- */

static void
data_to_widget (InstdiscMap *self, double x, double y, double *wx, double *wy)
{
  double w = gtk_widget_get_width (GTK_WIDGET (self));
  double h = gtk_widget_get_height (GTK_WIDGET (self));
  *wx = (x - self->cx) * self->zoom + w / 2.0;
  *wy = -(y - self->cy) * self->zoom + h / 2.0;   /* y up, as in a plot */
}

void
instdisc_map_point_position (InstdiscMap *self, int i, double *x, double *y)
{
  g_return_if_fail (i >= 0 && i < self->n);
  data_to_widget (self, self->layout[2 * i], self->layout[2 * i + 1], x, y);
}

static void
invalidate (InstdiscMap *self)
{
  self->dirty = TRUE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
instdisc_map_fit (InstdiscMap *self)
{
  self->user_moved = FALSE;
  int w = gtk_widget_get_width (GTK_WIDGET (self));
  int h = gtk_widget_get_height (GTK_WIDGET (self));
  if (self->n == 0)
    return;
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (int i = 0; i < self->n; i++)
    {
      x0 = MIN (x0, self->layout[2 * i]);
      x1 = MAX (x1, self->layout[2 * i]);
      y0 = MIN (y0, self->layout[2 * i + 1]);
      y1 = MAX (y1, self->layout[2 * i + 1]);
    }
  self->cx = (x0 + x1) / 2.0;
  self->cy = (y0 + y1) / 2.0;
  /* a margin of 24 pixels so edge points and their rings stay visible */
  double sx = MAX (w - 48, 16) / MAX (x1 - x0, 1e-9);
  double sy = MAX (h - 48, 16) / MAX (y1 - y0, 1e-9);
  self->zoom = w > 0 && h > 0 ? MIN (sx, sy) : 1.0;
  invalidate (self);
}

/* ---- drawing the points ---- */

static void
pack_drawn (InstdiscMap *self)
{
  g_free (self->drawn);
  self->drawn = g_new (float, (size_t) MAX (self->n, 1) * 3);
  for (int o = 0; o < self->n; o++)
    {
      int i = self->order[o];
      self->drawn[3 * o] = self->layout[2 * i];
      self->drawn[3 * o + 1] = self->layout[2 * i + 1];
      /* labels are small integers: exact in a float */
      self->drawn[3 * o + 2] = self->labels ? (float) self->labels[i] : -1.0f;
    }
}

typedef struct
{
  int size;                         /* sprite side, odd */
  guint32 argb[MAX_SPRITE * MAX_SPRITE];
} Sprite;

/* A disc of radius r (pixels) with antialiased edges (coverage from 4 x 4
 * samples per pixel), premultiplied, at the given opacity. */
static void
sprite_make (Sprite *sprite, const GdkRGBA *color, double r, double opacity)
{
  int half = (int) ceil (r - 0.5);
  half = CLAMP (half, 0, (MAX_SPRITE - 1) / 2);
  sprite->size = 2 * half + 1;
  for (int y = 0; y < sprite->size; y++)
    for (int x = 0; x < sprite->size; x++)
      {
        int inside = 0;
        for (int sy = 0; sy < 4; sy++)
          for (int sx = 0; sx < 4; sx++)
            {
              double dx = x - half + (sx + 0.5) / 4.0 - 0.5;
              double dy = y - half + (sy + 0.5) / 4.0 - 0.5;
              inside += dx * dx + dy * dy <= r * r;
            }
        double a = opacity * inside / 16.0;
        guint32 A = (guint32) lround (a * 255.0);
        guint32 R = (guint32) lround (color->red * a * 255.0);
        guint32 G = (guint32) lround (color->green * a * 255.0);
        guint32 B = (guint32) lround (color->blue * a * 255.0);
        sprite->argb[y * sprite->size + x] = A << 24 | R << 16 | G << 8 | B;
      }
}

/* dst over: dst = src + dst (255 - src alpha) / 255, per channel */
static inline guint32
blend_over (guint32 src, guint32 dst)
{
  guint32 keep = 255 - (src >> 24);
  if (keep == 0)
    return src;
  guint32 rb = (dst & 0x00ff00ff) * keep + 0x00800080;
  guint32 ag = ((dst >> 8) & 0x00ff00ff) * keep + 0x00800080;
  rb = ((rb + ((rb >> 8) & 0x00ff00ff)) >> 8) & 0x00ff00ff;
  ag = (ag + ((ag >> 8) & 0x00ff00ff)) & 0xff00ff00;
  return src + (rb | ag);
}

static double
dot_radius (int n)
{
  /* smaller dots as the map fills up, so clusters keep their shape */
  if (n <= 5000)
    return 3.5;
  if (n <= 30000)
    return 2.6;
  if (n <= 120000)
    return 2.0;
  if (n <= 400000)
    return 1.4;
  return 1.0;
}

static void
render_points (InstdiscMap *self, int w, int h, int scale)
{
  gint64 start = g_get_monotonic_time ();
  int bw = w * scale, bh = h * scale;
  if (bw != self->buf_w || bh != self->buf_h)
    {
      g_free (self->pixels);
      self->pixels = g_new (guint32, (size_t) bw * bh);
      self->buf_w = bw;
      self->buf_h = bh;
      self->grid_w = (bw + GRID_CELL - 1) / GRID_CELL;
      self->grid_h = (bh + GRID_CELL - 1) / GRID_CELL;
      g_free (self->grid_start);
      self->grid_start = g_new (int, (size_t) self->grid_w * self->grid_h + 1);
    }
  self->buf_scale = scale;
  memset (self->pixels, 0, (size_t) bw * bh * sizeof (guint32));

  int n_sprites = MAX (self->n_classes, 1);
  g_autofree Sprite *sprites = g_new (Sprite, n_sprites + 1);
  double r = dot_radius (self->n) * scale;
  double opacity = self->n > 200000 ? 0.6 : 0.85;
  for (int c = 0; c <= n_sprites; c++)
    {
      GdkRGBA color;
      /* the last sprite is for points without a label */
      instdisc_map_class_color (c < n_sprites ? c : -1, self->n_classes,
                                &color);
      sprite_make (&sprites[c], &color, r, opacity);
    }

  /* device pixel of each point, or -1 when outside; counted per cell */
  int cells = self->grid_w * self->grid_h;
  g_autofree int *cell_of = g_new (int, MAX (self->n, 1));
  memset (self->grid_start, 0, ((size_t) cells + 1) * sizeof (int));
  double ox = bw / 2.0 - self->cx * self->zoom * scale;
  double oy = bh / 2.0 + self->cy * self->zoom * scale;
  double z = self->zoom * scale;
  for (int o = 0; o < self->n; o++)
    {
      const float *d = self->drawn + 3 * o;
      double px = ox + d[0] * z;
      double py = oy - d[1] * z;
      cell_of[o] = -1;
      if (!(px >= 0 && px < bw && py >= 0 && py < bh))
        continue;
      int x = (int) px, y = (int) py;
      int label = (int) d[2];
      const Sprite *sp = &sprites[label >= 0 && label < n_sprites
                                  ? label : n_sprites];
      int half = sp->size / 2;
      int y0 = MAX (0, y - half), y1 = MIN (bh - 1, y + half);
      int x0 = MAX (0, x - half), x1 = MIN (bw - 1, x + half);
      for (int yy = y0; yy <= y1; yy++)
        {
          guint32 *row = self->pixels + (size_t) yy * bw;
          const guint32 *srow = sp->argb + (yy - y + half) * sp->size
                                + (half - x);
          for (int xx = x0; xx <= x1; xx++)
            if (srow[xx] >> 24)
              row[xx] = blend_over (srow[xx], row[xx]);
        }
      int cell = (y / GRID_CELL) * self->grid_w + x / GRID_CELL;
      cell_of[o] = cell;
      self->grid_start[cell + 1]++;
    }
  for (int c = 0; c < cells; c++)
    self->grid_start[c + 1] += self->grid_start[c];
  g_free (self->grid_items);
  self->grid_items = g_new (int, MAX (self->grid_start[cells], 1));
  g_autofree int *fill = g_memdup2 (self->grid_start, cells * sizeof (int));
  /* in drawing order within a cell, so the last one is the one on top */
  for (int o = 0; o < self->n; o++)
    if (cell_of[o] >= 0)
      self->grid_items[fill[cell_of[o]]++] = self->order[o];

  g_clear_object (&self->points_texture);
  g_autoptr (GBytes) bytes = g_bytes_new (self->pixels,
                                          (size_t) bw * bh * sizeof (guint32));
  /* cairo's ARGB32 in native byte order: B, G, R, A on little-endian */
  self->points_texture = gdk_memory_texture_new (bw, bh, GDK_MEMORY_DEFAULT,
                                                 bytes, bw * 4);
  self->dirty = FALSE;
  self->render_ms = (g_get_monotonic_time () - start) / 1000.0;
}

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
  int scale = gtk_widget_get_scale_factor (widget);
  if (self->dirty || !self->points_texture || self->buf_w != w * scale
      || self->buf_h != h * scale)
    render_points (self, w, h, scale);
  gtk_snapshot_append_texture (snapshot, self->points_texture,
                               &GRAPHENE_RECT_INIT (0, 0, w, h));

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
  if (self->n == 0 || self->dirty || !self->grid_items)
    return -1;
  int scale = self->buf_scale;
  double px = x * scale, py = y * scale;
  double r = (PICK_RADIUS + dot_radius (self->n)) * scale;
  int gx0 = MAX (0, (int) floor ((px - r) / GRID_CELL));
  int gx1 = MIN (self->grid_w - 1, (int) floor ((px + r) / GRID_CELL));
  int gy0 = MAX (0, (int) floor ((py - r) / GRID_CELL));
  int gy1 = MIN (self->grid_h - 1, (int) floor ((py + r) / GRID_CELL));
  int best = -1;
  double best_d2 = r * r;
  for (int gy = gy0; gy <= gy1; gy++)
    for (int gx = gx0; gx <= gx1; gx++)
      {
        int cell = gy * self->grid_w + gx;
        for (int a = self->grid_start[cell]; a < self->grid_start[cell + 1];
             a++)
          {
            int i = self->grid_items[a];
            double wx, wy;
            instdisc_map_point_position (self, i, &wx, &wy);
            double dx = (wx - x) * scale, dy = (wy - y) * scale;
            double d2 = dx * dx + dy * dy;
            /* <=: of points at the same place, the one drawn last (on top) */
            if (d2 <= best_d2)
              {
                best_d2 = d2;
                best = i;
              }
          }
      }
  return best;
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
  int label = self->labels ? self->labels[i] : -1;
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
  self->user_moved = TRUE;
  self->hovered = -1;
  gtk_popover_popdown (GTK_POPOVER (self->popover));
  invalidate (self);
}

static gboolean
on_scroll (GtkEventControllerScroll *scroll, double dx, double dy,
           InstdiscMap *self)
{
  if (self->n == 0)
    return FALSE;
  double factor = pow (1.2, -dy);
  double w = gtk_widget_get_width (GTK_WIDGET (self));
  double h = gtk_widget_get_height (GTK_WIDGET (self));
  /* keep the data point under the pointer where it is */
  double px = self->pointer_x - w / 2.0, py = self->pointer_y - h / 2.0;
  double ax = self->cx + px / self->zoom, ay = self->cy - py / self->zoom;
  self->zoom = CLAMP (self->zoom * factor, 1e-6, 1e9);
  self->cx = ax - px / self->zoom;
  self->cy = ay + py / self->zoom;
  self->user_moved = TRUE;
  self->hovered = -1;
  gtk_popover_popdown (GTK_POPOVER (self->popover));
  invalidate (self);
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
  g_clear_pointer (&self->layout, g_free);
  g_clear_pointer (&self->labels, g_free);
  g_clear_pointer (&self->order, g_free);
  g_clear_pointer (&self->drawn, g_free);
  self->n = n;
  self->n_classes = n_classes;
  if (n > 0)
    {
      self->layout = g_memdup2 (layout, (size_t) n * 2 * sizeof (float));
      if (labels)
        self->labels = g_memdup2 (labels, (size_t) n * sizeof (int));
      self->order = g_new (int, n);
      for (int i = 0; i < n; i++)
        self->order[i] = i;
      /* a fixed shuffle (seeded from n), so the same points always stack
       * the same way and no class is drawn entirely over another */
      GRand *rand = g_rand_new_with_seed ((guint32) n);
      for (int i = n - 1; i > 0; i--)
        {
          int j = g_rand_int_range (rand, 0, i + 1);
          int t = self->order[i];
          self->order[i] = self->order[j];
          self->order[j] = t;
        }
      g_rand_free (rand);
      pack_drawn (self);
    }
  self->selected = self->hovered = -1;
  self->n_neighbours = 0;
  gtk_popover_popdown (GTK_POPOVER (self->popover));
  instdisc_map_fit (self);
  invalidate (self);
}

void
instdisc_map_set_layout (InstdiscMap *self, const float *layout)
{
  g_return_if_fail (INSTDISC_IS_MAP (self));
  if (self->n == 0)
    return;
  memcpy (self->layout, layout, (size_t) self->n * 2 * sizeof (float));
  pack_drawn (self);
  if (!self->user_moved)
    instdisc_map_fit (self);
  invalidate (self);
}

int
instdisc_map_get_n_points (InstdiscMap *self)
{
  return self->n;
}

const float *
instdisc_map_get_layout (InstdiscMap *self)
{
  return self->layout;
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
  if (!self->user_moved)
    instdisc_map_fit (self);
  self->dirty = TRUE;
  gtk_popover_present (GTK_POPOVER (self->popover));
}

static void
instdisc_map_dispose (GObject *object)
{
  InstdiscMap *self = INSTDISC_MAP (object);
  g_clear_pointer (&self->popover, gtk_widget_unparent);
  g_clear_object (&self->points_texture);
  g_clear_object (&self->data_owner);
  self->data = NULL;
  G_OBJECT_CLASS (instdisc_map_parent_class)->dispose (object);
}

static void
instdisc_map_finalize (GObject *object)
{
  InstdiscMap *self = INSTDISC_MAP (object);
  g_free (self->layout);
  g_free (self->labels);
  g_free (self->order);
  g_free (self->drawn);
  g_free (self->pixels);
  g_free (self->grid_start);
  g_free (self->grid_items);
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
  self->dirty = TRUE;
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);

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
