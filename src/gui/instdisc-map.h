/* instdisc-map.h: a scatter plot of a 2D layout of the memory bank.
 *
 * Built for every point of a large bank (a million stays usable) without
 * the main loop ever waiting for the points:
 *  - An immutable point set (InstdiscMapPoints) holds a layout, its labels
 *    and a spatial index: a uniform grid over the layout's bounds with the
 *    points sorted by cell. Hovering and clicking look only at the cells
 *    around the pointer; drawing walks the cells in the view, so it skips
 *    what is outside and writes pixels close to the last ones.
 *  - The renderer (instdisc_map_render) draws a point set at a view into a
 *    premultiplied ARGB buffer, order-independently: every point adds its
 *    dot's coverage and colour to a per-pixel sum, and a pixel's opacity
 *    is 1 - exp (-k coverage) with the mean colour of what covers it. So
 *    overlapping classes mix instead of one hiding another, and dense
 *    cores stay darker than their fringes. The dot size and opacity follow
 *    how many points are in the view per pixel: large opaque dots for a
 *    few thousand, one-pixel translucent ones for a million.
 *  - The widget renders on a worker (a GTask on the pool, one at a time;
 *    while one runs, later requests coalesce into one for the newest view
 *    and layout). Until a render arrives, each frame draws the last image
 *    moved and scaled from the view it was drawn at to the current one, so
 *    a pan or zoom answers at once and the new render replaces it.
 *
 * Drag to pan, scroll to zoom about the pointer, double-click to fit. The
 * view fits every new layout until the person pans or zooms.
 */
#pragma once

#include <gtk/gtk.h>

#include "dataset.h"

G_BEGIN_DECLS

/* ---- the renderer, without a widget ---- */

typedef struct _InstdiscMapPoints InstdiscMapPoints;

/* layout: n pairs of float (x, y); labels: n int (-1 = unlabelled) or
 * NULL. Both are referenced, not copied. Builds the index: O(n), about
 * 45 ms a million points (bench-map), so the widget builds it on a
 * worker. */
InstdiscMapPoints *instdisc_map_points_new (GBytes *layout, GBytes *labels,
                                            int n_classes);
/* The same with colours of a palette instead of classes' colours: slots
 * holds n ints, each point's entry of palette (n_slots entries of red,
 * green, blue in [0, 1] and a weight: how much one dot covers, 1 fully, 0
 * not drawn); a slot outside [0, n_slots) takes the last entry. */
InstdiscMapPoints *instdisc_map_points_new_with_palette (GBytes *layout,
                                                         GBytes *slots,
                                                         const float *palette,
                                                         int n_slots);
InstdiscMapPoints *instdisc_map_points_ref (InstdiscMapPoints *self);
void instdisc_map_points_unref (InstdiscMapPoints *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (InstdiscMapPoints, instdisc_map_points_unref)
int instdisc_map_points_get_n (const InstdiscMapPoints *self);
/* (n, 2) */
const float *instdisc_map_points_get_layout (const InstdiscMapPoints *self);
/* The point nearest to data coordinates (x, y) no further than radius
 * (data units), or -1; of equally near points, the lowest index. */
int instdisc_map_points_nearest (const InstdiscMapPoints *self, double x,
                                 double y, double radius);

typedef struct
{
  double cx, cy;       /* data coordinates at the centre */
  double zoom;         /* widget pixels per data unit; y points up */
  int width, height;   /* widget pixels */
  int scale;           /* device pixels per widget pixel */
} InstdiscMapView;

typedef struct
{
  InstdiscMapView view;   /* what it shows */
  int width, height;      /* device pixels */
  guint32 *pixels;        /* (height, width), cairo's premultiplied ARGB32 */
  int n_visible;          /* points inside the view */
  double dot_radius;      /* widget pixels */
  double ms;              /* how long the render took */
} InstdiscMapImage;

/* Draws points at view (background: transparent). Thread-safe: reads
 * only the immutable point set. */
InstdiscMapImage *instdisc_map_render (const InstdiscMapPoints *points,
                                       const InstdiscMapView *view);
void instdisc_map_image_free (InstdiscMapImage *image);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (InstdiscMapImage, instdisc_map_image_free)

/* Where data point (x, y) lands in view, widget pixels. */
void instdisc_map_view_to_widget (const InstdiscMapView *view, double x,
                                  double y, double *wx, double *wy);

/* The colour of class `label` of n_classes (unlabelled: label -1). */
void instdisc_map_class_color (int label, int n_classes, GdkRGBA *color);

/* ---- the widget ---- */

#define INSTDISC_TYPE_MAP (instdisc_map_get_type ())
G_DECLARE_FINAL_TYPE (InstdiscMap, instdisc_map, INSTDISC, MAP, GtkWidget)

GtkWidget *instdisc_map_new (void);

/* layout (n, 2) and labels (n, may be NULL; -1 = unlabelled) are copied.
 * A new set of points clears the selection and fits the view. */
void instdisc_map_set_points (InstdiscMap *self, const float *layout,
                              const int *labels, int n, int n_classes);
/* A new layout of the same points (a live PCA, a t-SNE iteration). */
void instdisc_map_set_layout (InstdiscMap *self, const float *layout);
int instdisc_map_get_n_points (InstdiscMap *self);
/* The newest layout, (n, 2), or NULL. */
const float *instdisc_map_get_layout (InstdiscMap *self);
void instdisc_map_fit (InstdiscMap *self);

/* The view now (the image shown may still be of an earlier one). */
void instdisc_map_get_view (InstdiscMap *self, InstdiscMapView *view);
/* Moves the map by (dx, dy) widget pixels, as a drag does. */
void instdisc_map_pan (InstdiscMap *self, double dx, double dy);
/* Zooms by factor, keeping what is under (x, y) (widget pixels) there. */
void instdisc_map_zoom_at (InstdiscMap *self, double x, double y,
                           double factor);

/* TRUE until the image shown is of the newest points and view. */
gboolean instdisc_map_is_rendering (InstdiscMap *self);
/* How many renders have been shown; and the view the shown one is of
 * (FALSE when none is). */
guint instdisc_map_get_n_renders (InstdiscMap *self);
gboolean instdisc_map_get_shown_view (InstdiscMap *self,
                                      InstdiscMapView *view);

/* While the pointer is on the map a new layout (instdisc_map_set_layout)
 * is held, not shown: the point under the pointer stays where it is, so
 * what is hovered is what a click selects. The newest layout shows when
 * the pointer leaves. Property "holding": a layout waits. */
gboolean instdisc_map_is_holding (InstdiscMap *self);

/* Colours the points by slots (n ints, each an entry of palette: n_slots
 * of red, green, blue in [0, 1] and a weight, see
 * instdisc_map_points_new_with_palette); slots NULL: by label again. A
 * new set of points goes back to labels. */
void instdisc_map_set_coloring (InstdiscMap *self, const int *slots,
                                const float *palette, int n_slots);
/* Highlights the points of indices (n of them, 0 for none found): every
 * other point fades. indices NULL: no highlight. */
void instdisc_map_set_highlight (InstdiscMap *self, const int *indices,
                                 int n);
/* the colour point i is drawn in now (its weight as alpha) */
void instdisc_map_get_point_color (InstdiscMap *self, int i, GdkRGBA *color);

/* Where hovering finds images and names (referenced; NULL: none). */
void instdisc_map_set_dataset (InstdiscMap *self, const Dataset *data);

/* Marks a point and its neighbours (may be NULL, n 0); -1 clears. */
void instdisc_map_set_selection (InstdiscMap *self, int selected,
                                 const int *neighbours, int n_neighbours);
int instdisc_map_get_selected (InstdiscMap *self);
int instdisc_map_get_hovered (InstdiscMap *self);

/* The point drawn nearest (within a few pixels) to (x, y) in widget
 * coordinates, or -1: among the points of the image shown. */
int instdisc_map_pick (InstdiscMap *self, double x, double y);
/* Point i's place in widget coordinates, where the image shown has it. */
void instdisc_map_point_position (InstdiscMap *self, int i, double *x,
                                  double *y);
/* Moves the view so that point i is at the centre (the zoom stays). */
void instdisc_map_center_on_point (InstdiscMap *self, int i);
/* Simulates hovering at (x, y) (as a pointer motion would), for tests. */
void instdisc_map_hover (InstdiscMap *self, double x, double y);

/* Milliseconds the worker took for the last render shown (building the
 * index of a new layout included). */
double instdisc_map_get_render_ms (InstdiscMap *self);

/* Signal "point-selected" (int index): a click chose a point (-1: none). */

G_END_DECLS
