/* instdisc-thumb.h: small images of the data set, shown pixel for pixel.
 *
 * A 28 x 28 Fashion-MNIST image shown at 84 x 84 must stay sharp: GTK 4.8
 * has no nearest-neighbour texture node (gtk_snapshot_append_scaled_texture
 * is 4.10), so the texture itself is made at an integer multiple of the
 * image with each pixel repeated, and InstdiscThumb draws it 1:1.
 */
#pragma once

#include <gtk/gtk.h>

#include "dataset.h"

G_BEGIN_DECLS

/* pixels (C, H, W), C = 1 or 3 -> an RGB texture of (H * scale, W * scale).
 * (transfer full) */
GdkTexture *instdisc_texture_new_from_pixels (const guint8 *pixels,
                                              int channels, int height,
                                              int width, int scale);
/* image i of data at about `size` pixels (an integer scale, at least 1);
 * NULL with error when an on-disk image cannot be decoded */
GdkTexture *instdisc_texture_new_from_dataset (const Dataset *data, int i,
                                               int size, GError **error);

#define INSTDISC_TYPE_THUMB (instdisc_thumb_get_type ())
G_DECLARE_FINAL_TYPE (InstdiscThumb, instdisc_thumb, INSTDISC, THUMB,
                      GtkWidget)

typedef enum
{
  INSTDISC_THUMB_PLAIN,        /* a thin grey outline: no class to judge */
  INSTDISC_THUMB_SAME_CLASS,   /* a green frame: the query's class */
  INSTDISC_THUMB_OTHER_CLASS,  /* a thin red frame: another class */
  INSTDISC_THUMB_QUERY,        /* an accent frame: the query itself */
} InstdiscThumbMark;

GtkWidget *instdisc_thumb_new (GdkTexture *texture, int size);
void instdisc_thumb_set_texture (InstdiscThumb *self, GdkTexture *texture);
GdkTexture *instdisc_thumb_get_texture (InstdiscThumb *self);
/* Shows image i of data at the thumb's size, without blocking the main
 * loop: an image held in memory (Fashion-MNIST, CIFAR) is shown at once;
 * one read from its file (a folder's photograph: a 4096 x 4096 WebP takes
 * half a second to decode) is decoded by one of two worker threads and
 * shown when it arrives, the thumb empty until then. The last
 * INSTDISC_THUMB_CACHE_SIZE decoded images are kept, so a neighbour seen
 * a moment ago comes back at once, and no view ever decodes a whole set.
 * A file that cannot be read leaves the thumb empty, the reason as its
 * tooltip. */
void instdisc_thumb_set_image (InstdiscThumb *self, const Dataset *data,
                               int i);
#define INSTDISC_THUMB_CACHE_SIZE 512
/* TRUE while set_image's decode is under way */
gboolean instdisc_thumb_is_loading (InstdiscThumb *self);
void instdisc_thumb_set_mark (InstdiscThumb *self, InstdiscThumbMark mark);
InstdiscThumbMark instdisc_thumb_get_mark (InstdiscThumb *self);

/* A thumb with up to two lines under it (either may be NULL), as the
 * query and retrievals rows show them; the thumb is reachable through
 * g_object_get_data (card, "thumb"). */
GtkWidget *instdisc_thumb_card_new (GdkTexture *texture, int size,
                                    InstdiscThumbMark mark, const char *line1,
                                    const char *line2);
/* The same card for image i of data, shown as instdisc_thumb_set_image
 * shows it. */
GtkWidget *instdisc_thumb_card_new_for_image (const Dataset *data, int i,
                                              int size, InstdiscThumbMark mark,
                                              const char *line1,
                                              const char *line2);

/* A row as in the paper's Figure 5: the query card, then its k neighbours
 * (rows of train) each with its similarity and class. When query_label >= 0
 * the neighbours of that class are framed green and the others thin red.
 * The neighbour cards are in a box reachable through
 * g_object_get_data (row, "neighbours"). */
GtkWidget *instdisc_neighbour_row_new (GtkWidget *query_card,
                                       const Dataset *train,
                                       const int *neighbours,
                                       const float *similarities, int k,
                                       int query_label, int size);

/* The name of a class: its name in data, "Class N", or NULL for -1.
 * (transfer full) */
char *instdisc_class_name (const Dataset *data, int label);

G_END_DECLS
