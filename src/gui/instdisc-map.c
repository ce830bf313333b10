/* instdisc-map.c: the scatter plot widget (see instdisc-map.h for the
 * approach): its points, selection and view, its size, accessors and
 * GObject; instdisc-map-private.h names the files of the rest. */
#define G_LOG_DOMAIN "instdisc-gui"

#include "instdisc-map-private.h"

#include <math.h>
#include <string.h>

G_DEFINE_FINAL_TYPE (InstdiscMap, instdisc_map, GTK_TYPE_WIDGET)

enum { SIGNAL_POINT_SELECTED, N_SIGNALS };
static guint signals[N_SIGNALS];

enum { PROP_0, PROP_HOLDING, N_PROPS };
static GParamSpec *properties[N_PROPS];

void
instdisc_map_emit_point_selected (InstdiscMap *self, int index)
{
  g_signal_emit (self, signals[SIGNAL_POINT_SELECTED], 0, index);
}

/* ---- the view ---- */

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
  instdisc_map_request_render (self);
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
  gboolean was_holding = self->held_layout != NULL;
  g_clear_pointer (&self->held_layout, g_bytes_unref);
  /* colourings and highlights are of the old points */
  g_clear_pointer (&self->color_slots, g_bytes_unref);
  g_clear_pointer (&self->color_palette, g_free);
  g_clear_pointer (&self->highlight, g_free);
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
  instdisc_map_update_paint (self);
  instdisc_map_fit (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  if (was_holding)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HOLDING]);
}

void
instdisc_map_set_layout (InstdiscMap *self, const float *layout)
{
  g_return_if_fail (INSTDISC_IS_MAP (self));
  if (self->n == 0)
    return;
  GBytes *bytes = g_bytes_new (layout, (gsize) self->n * 2 * sizeof (float));
  if (self->pointer_inside && self->texture)
    {
      /* held until the pointer leaves: the point under it stays there,
       * so a click takes the point that is hovered */
      gboolean was_holding = self->held_layout != NULL;
      g_clear_pointer (&self->held_layout, g_bytes_unref);
      self->held_layout = bytes;
      if (!was_holding)
        g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HOLDING]);
      return;
    }
  g_bytes_unref (self->layout);
  self->layout = bytes;
  if (!self->user_moved)
    instdisc_map_fit (self);
  instdisc_map_request_render (self);
}

void
instdisc_map_set_pointer_inside (InstdiscMap *self, gboolean inside)
{
  self->pointer_inside = inside;
  if (inside || !self->held_layout)
    return;
  g_bytes_unref (self->layout);
  self->layout = g_steal_pointer (&self->held_layout);
  if (!self->user_moved)
    instdisc_map_fit (self);
  instdisc_map_request_render (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HOLDING]);
}

gboolean
instdisc_map_is_holding (InstdiscMap *self)
{
  g_return_val_if_fail (INSTDISC_IS_MAP (self), FALSE);
  return self->held_layout != NULL;
}

/* ---- colours ---- */

/* a highlight fades what it does not hold: toward grey, and a tenth of a
 * dot's cover, so the points found stand out wherever they are */
#define FADED_WEIGHT 0.12f

void
instdisc_map_update_paint (InstdiscMap *self)
{
  g_clear_pointer (&self->paint_slots, g_bytes_unref);
  g_clear_pointer (&self->paint_palette, g_free);
  self->n_paint_slots = 0;
  self->paint_serial++;
  if (self->n == 0 || (!self->color_slots && !self->highlight))
    return;   /* by label, as the point set colours itself */
  /* the base: the colouring, or the classes' colours */
  int n_base;
  g_autofree float *base = NULL;
  g_autofree int *slots = g_new (int, self->n);
  if (self->color_slots)
    {
      n_base = self->n_color_slots;
      base = g_memdup2 (self->color_palette, 4 * sizeof (float) * n_base);
      memcpy (slots, g_bytes_get_data (self->color_slots, NULL),
              sizeof (int) * self->n);
    }
  else
    {
      n_base = self->n_classes + 1;
      base = g_new (float, 4 * n_base);
      for (int c = 0; c < n_base; c++)
        {
          GdkRGBA rgba;
          instdisc_map_class_color (c < self->n_classes ? c : -1,
                                    self->n_classes, &rgba);
          base[4 * c] = rgba.red;
          base[4 * c + 1] = rgba.green;
          base[4 * c + 2] = rgba.blue;
          base[4 * c + 3] = 1.0f;
        }
      const int *labels = self->labels ? g_bytes_get_data (self->labels, NULL)
                                       : NULL;
      for (int i = 0; i < self->n; i++)
        {
          int label = labels ? labels[i] : -1;
          slots[i] = label >= 0 && label < self->n_classes ? label
                                                           : self->n_classes;
        }
    }
  int n_slots = self->highlight ? 2 * n_base : n_base;
  float *palette = g_new (float, 4 * n_slots);
  memcpy (palette, base, 4 * sizeof (float) * n_base);
  if (self->highlight)
    {
      for (int c = 0; c < n_base; c++)
        {
          float *f = palette + 4 * (n_base + c);
          for (int k = 0; k < 3; k++)
            f[k] = 0.35f * base[4 * c + k] + 0.65f * 0.6f;
          f[3] = FADED_WEIGHT * base[4 * c + 3];
        }
      for (int i = 0; i < self->n; i++)
        if (!self->highlight[i] && slots[i] >= 0 && slots[i] < n_base)
          slots[i] += n_base;
    }
  self->paint_slots = g_bytes_new_take (g_steal_pointer (&slots),
                                        sizeof (int) * self->n);
  self->paint_palette = palette;
  self->n_paint_slots = n_slots;
}

void
instdisc_map_set_coloring (InstdiscMap *self, const int *slots,
                           const float *palette, int n_slots)
{
  g_return_if_fail (INSTDISC_IS_MAP (self));
  g_clear_pointer (&self->color_slots, g_bytes_unref);
  g_clear_pointer (&self->color_palette, g_free);
  self->n_color_slots = 0;
  if (slots && palette && n_slots > 0 && self->n > 0)
    {
      self->color_slots = g_bytes_new (slots, sizeof (int) * self->n);
      self->color_palette = g_memdup2 (palette,
                                       4 * sizeof (float) * n_slots);
      self->n_color_slots = n_slots;
    }
  instdisc_map_update_paint (self);
  instdisc_map_request_render (self);
}

void
instdisc_map_set_highlight (InstdiscMap *self, const int *indices, int n)
{
  g_return_if_fail (INSTDISC_IS_MAP (self));
  g_clear_pointer (&self->highlight, g_free);
  if (indices && self->n > 0)
    {
      self->highlight = g_new0 (guint8, self->n);
      for (int j = 0; j < n; j++)
        if (indices[j] >= 0 && indices[j] < self->n)
          self->highlight[indices[j]] = 1;
    }
  instdisc_map_update_paint (self);
  instdisc_map_request_render (self);
}

void
instdisc_map_get_point_color (InstdiscMap *self, int i, GdkRGBA *color)
{
  g_return_if_fail (i >= 0 && i < self->n);
  if (self->paint_slots)
    {
      const int *slots = g_bytes_get_data (self->paint_slots, NULL);
      int slot = CLAMP (slots[i], 0, self->n_paint_slots - 1);
      const float *c = self->paint_palette + 4 * slot;
      *color = (GdkRGBA) { c[0], c[1], c[2], c[3] };
      return;
    }
  const int *labels = self->labels ? g_bytes_get_data (self->labels, NULL)
                                   : NULL;
  instdisc_map_class_color (labels ? labels[i] : -1, self->n_classes, color);
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
instdisc_map_set_dataset (InstdiscMap *self, const Dataset *data)
{
  g_return_if_fail (INSTDISC_IS_MAP (self));
  Dataset *old = self->data;
  self->data = data ? dataset_ref (data) : NULL;
  dataset_unref (old);
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
        instdisc_map_request_render (self);
    }
  gtk_popover_present (GTK_POPOVER (self->popover));
}

static void
on_scale_factor (InstdiscMap *self, GParamSpec *pspec, gpointer data)
{
  instdisc_map_request_render (self);
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
  g_clear_pointer (&self->data, dataset_unref);
  G_OBJECT_CLASS (instdisc_map_parent_class)->dispose (object);
}

static void
instdisc_map_finalize (GObject *object)
{
  InstdiscMap *self = INSTDISC_MAP (object);
  g_clear_pointer (&self->layout, g_bytes_unref);
  g_clear_pointer (&self->held_layout, g_bytes_unref);
  g_clear_pointer (&self->labels, g_bytes_unref);
  g_clear_pointer (&self->color_slots, g_bytes_unref);
  g_clear_pointer (&self->paint_slots, g_bytes_unref);
  g_clear_object (&self->cancellable);
  g_free (self->neighbours);
  g_free (self->color_palette);
  g_free (self->paint_palette);
  g_free (self->highlight);
  G_OBJECT_CLASS (instdisc_map_parent_class)->finalize (object);
}

static void
instdisc_map_get_property (GObject *object, guint id, GValue *value,
                           GParamSpec *pspec)
{
  if (id == PROP_HOLDING)
    g_value_set_boolean (value, INSTDISC_MAP (object)->held_layout != NULL);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
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

  object_class->get_property = instdisc_map_get_property;
  /* TRUE while a newer layout waits for the pointer to leave the map */
  properties[PROP_HOLDING] =
    g_param_spec_boolean ("holding", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY
                          | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

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
  /* the hover card and the controllers for the pointer */
  instdisc_map_init_input (self);
}
