/* dataset-private.h: what the readers of the data layer share. */
#pragma once

#include <glib.h>

#include "dataset.h"

G_BEGIN_DECLS

/* The whole file, decompressed when its name ends in .gz. */
GBytes *data_read_file (const char *path, GError **error);

/* Decodes an image file into out (channels, size, size): resized as
 * `resize` says, alpha dropped, grey as PIL's convert ("L") when channels
 * is 1. When out is NULL only decodes; *is_grey (may be NULL) tells whether
 * every pixel has R = G = B. */
gboolean folder_decode_image (const char *path, int channels, int size,
                              DatasetResize resize, guint8 *out,
                              gboolean *is_grey, GError **error);

/* Class names read from a text file, one a line, blank lines dropped;
 * NULL when the file is missing or has fewer than n_classes names. */
char **data_read_class_names (const char *path, int n_classes);

G_END_DECLS
