/* instdisc-map.h: a scatter plot of a 2D layout of the memory bank.
 *
 * Built for every point of a large bank: the points are blended into one
 * image buffer as pre-rendered, per-class dot sprites (about 0.01 us a
 * pixel instead of a Cairo path per dot), drawn in a fixed shuffled order
 * so no class hides the others, and uploaded as one texture; the buffer is
 * redrawn only when the layout, the view or the size changes, so hovering
 * and selection (drawn on top) cost nothing. While drawing, each point is
 * filed in a grid of 8-pixel cells, which is how hovering finds the point
 * under the pointer without looking at the others.
 *
 * Drag to pan, scroll to zoom about the pointer, double-click to fit. The
 * view fits every new layout until the person pans or zooms.
 */
#pragma once

#include <gtk/gtk.h>

#include "dataset.h"

G_BEGIN_DECLS

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
/* The layout currently shown, (n, 2), or NULL. */
const float *instdisc_map_get_layout (InstdiscMap *self);
void instdisc_map_fit (InstdiscMap *self);

/* Where hovering finds images and names: data is borrowed, owner (may be
 * NULL) is referenced for as long as data is used. */
void instdisc_map_set_dataset (InstdiscMap *self, const Dataset *data,
                               GObject *owner);

/* Marks a point and its neighbours (may be NULL, n 0); -1 clears. */
void instdisc_map_set_selection (InstdiscMap *self, int selected,
                                 const int *neighbours, int n_neighbours);
int instdisc_map_get_selected (InstdiscMap *self);
int instdisc_map_get_hovered (InstdiscMap *self);

/* The point drawn nearest (within a few pixels) to (x, y) in widget
 * coordinates, or -1. */
int instdisc_map_pick (InstdiscMap *self, double x, double y);
/* Point i's place in widget coordinates. */
void instdisc_map_point_position (InstdiscMap *self, int i, double *x,
                                  double *y);
/* Simulates hovering at (x, y) (as a pointer motion would), for tests. */
void instdisc_map_hover (InstdiscMap *self, double x, double y);

/* The colour of class `label` of n_classes (unlabelled: label -1). */
void instdisc_map_class_color (int label, int n_classes, GdkRGBA *color);

/* Milliseconds the last full redraw of the points took. */
double instdisc_map_get_render_ms (InstdiscMap *self);

/* Signal "point-selected" (int index): a click chose a point (-1: none). */

G_END_DECLS
