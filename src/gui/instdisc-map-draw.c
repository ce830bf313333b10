/* instdisc-map-draw.c: how an InstdiscMap draws: renders on a worker, one
 * at a time, and the snapshot that shows the newest image moved to the
 * current view, with the selection and the hovered point over it. */
#define G_LOG_DOMAIN "instdisc-gui"

#include "instdisc-map-private.h"

/* widget pixels drawn beyond each edge, so that a pan shows points at once
 * on the side it uncovers, before the pan's own render arrives */
#define OVERSCAN 128

static void start_render (InstdiscMap *self);

void
instdisc_map_request_render (InstdiscMap *self)
{
  self->render_wanted = TRUE;
  if (!self->render_running)
    start_render (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* ---- rendering on a worker ---- */

typedef struct
{
  GWeakRef map;
  guint points_serial, paint_serial;
  InstdiscMapView view;
  /* the points to draw, or what to build them from */
  InstdiscMapPoints *points;
  GBytes *layout, *labels;
  int n_classes;
  float *palette;        /* with labels as slots into it, or NULL */
  int n_slots;
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
  g_free (job->palette);
  g_clear_pointer (&job->image, instdisc_map_image_free);
  g_free (job);
}

static void
render_thread (GTask *task, gpointer source, gpointer task_data,
               GCancellable *cancellable)
{
  RenderJob *job = task_data;
  gint64 start = g_get_monotonic_time ();
  if (!job->points && job->palette)
    job->points = instdisc_map_points_new_with_palette (job->layout,
                                                        job->labels,
                                                        job->palette,
                                                        job->n_slots);
  else if (!job->points)
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
      self->shown_paint_serial = job->paint_serial;
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
      /* what is under the pointer now (a zoom moved the points) */
      if (self->pointer_inside)
        instdisc_map_hover (self, self->pointer_x, self->pointer_y);
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
  job->paint_serial = self->paint_serial;
  job->view = view;
  job->view.width += 2 * OVERSCAN;
  job->view.height += 2 * OVERSCAN;
  /* a new view of the layout shown, in the same colours, reuses its
   * index */
  if (self->shown_points
      && instdisc_map_points_get_layout_bytes (self->shown_points)
           == self->layout
      && self->shown_paint_serial == self->paint_serial)
    job->points = instdisc_map_points_ref (self->shown_points);
  else if (self->paint_slots)
    {
      job->layout = g_bytes_ref (self->layout);
      job->labels = g_bytes_ref (self->paint_slots);
      job->palette = g_memdup2 (self->paint_palette,
                                4 * sizeof (float) * self->n_paint_slots);
      job->n_slots = self->n_paint_slots;
    }
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

void
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
