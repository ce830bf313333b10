/* instdisc-map-private.h: what the files of InstdiscMap share.
 *
 * The map is one widget in four files, along its seams:
 *   instdisc-map.c          the widget: its points, selection and view,
 *                           size, accessors and GObject
 *   instdisc-map-render.c   the point set, its index and the renderer,
 *                           without a widget (class colours included)
 *   instdisc-map-draw.c     renders on a worker and the widget's snapshot
 *                           (the image shown, the selection's rings)
 *   instdisc-map-input.c    picking, hovering and its card, panning and
 *                           zooming, and the event controllers
 * Nothing outside these files includes this header. */
#pragma once

#include "instdisc-map.h"

G_BEGIN_DECLS

struct _InstdiscMap
{
  GtkWidget parent_instance;

  /* owned */
  GBytes *layout;            /* (n, 2) float: the newest shown */
  GBytes *held_layout;       /* a newer one, held while the pointer is on
                                the map (what is hovered stays put) */
  GBytes *labels;            /* (n) int, or NULL */
  int n, n_classes;
  /* colours: by label unless a colouring is set (slots into palette);
   * a highlight (search) fades every point not in it */
  GBytes *color_slots;       /* (n) int, or NULL: by label */
  float *color_palette;      /* (n_color_slots, 4) */
  int n_color_slots;
  guint8 *highlight;         /* (n) 1 for a point found, or NULL: none */
  GBytes *paint_slots;       /* what the renderer gets: NULL = labels */
  float *paint_palette;
  int n_paint_slots;
  guint paint_serial;        /* a new colouring or highlight */
  guint shown_paint_serial;  /* of the image shown */
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
  Dataset *data;                /* referenced; hovering shows its images */

  /* the view: data coordinates of the centre, pixels per data unit */
  double cx, cy, zoom;
  int alloc_width, alloc_height;
  gboolean user_moved;
  gboolean dragged;          /* the press being handled moved: not a click */
  double drag_cx, drag_cy;
  double pointer_x, pointer_y;
  gboolean pointer_inside;
  int hovered, selected;
};

/* ---- instdisc-map.c ---- */

/* emits "point-selected" */
void instdisc_map_emit_point_selected (InstdiscMap *self, int index);
/* the pointer entered (TRUE) or left the map: layouts are held while it
 * is on it, and the newest one shows when it leaves */
void instdisc_map_set_pointer_inside (InstdiscMap *self, gboolean inside);
/* the colours the renderer gets, from the colouring and the highlight */
void instdisc_map_update_paint (InstdiscMap *self);

/* ---- instdisc-map-render.c ---- */

/* the layout the point set was built from (to tell whether a new render
 * can reuse its index) */
GBytes *instdisc_map_points_get_layout_bytes (const InstdiscMapPoints *self);

/* ---- instdisc-map-draw.c ---- */

/* The newest view and layout need a render: one starts now unless one is
 * running, which then starts the next when it ends, for whatever the view
 * and layout are by then. */
void instdisc_map_request_render (InstdiscMap *self);
/* GtkWidgetClass.snapshot */
void instdisc_map_snapshot (GtkWidget *widget, GtkSnapshot *snapshot);

/* ---- instdisc-map-input.c ---- */

/* builds the hover card and adds the event controllers (from init) */
void instdisc_map_init_input (InstdiscMap *self);

G_END_DECLS
