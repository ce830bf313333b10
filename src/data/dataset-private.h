/* dataset-private.h: what the readers of the data layer share. */
#pragma once

#include <gio/gio.h>

#include "dataset.h"

G_BEGIN_DECLS

/* A regular file (not a folder, FIFO or device, which could block or
 * never end), opened for reading, decompressed when its name ends in .gz;
 * its size on disk in *size. The error names the file. */
GInputStream *data_open_file (const char *path, goffset *size,
                              GError **error);
/* Reads length bytes into buffer: FALSE with an error naming the file
 * when the stream fails; *got tells how many arrived before its end. */
gboolean data_read_exactly (GInputStream *stream, const char *path,
                            void *buffer, gsize length, gsize *got,
                            GError **error);

/* The most pixels (width x height) an image file may declare before it is
 * decoded: INSTDISC_MAX_IMAGE_PIXELS from the environment, else 100
 * megapixels, above any camera's photographs and below what a
 * decompression bomb asks (a 65535 x 65535 PNG is 4,295 megapixels). */
#define DATA_MAX_IMAGE_PIXELS_DEFAULT (100 * 1000 * 1000)
gint64 data_max_image_pixels (void);

/* What an image file must pass before it is decoded (image-probe.c): a
 * regular, non-empty file whose header GdkPixbuf reads, declaring at most
 * max_pixels pixels, and (PNG, JPEG, GIF, BMP, WebP) not cut short.
 * Fills *width and *height (either may be NULL) from the header. */
gboolean data_image_probe (const char *path, gint64 max_pixels, int *width,
                           int *height, GError **error);

/* Decodes an image file into out (channels, size, size): resized as
 * `resize` says, alpha dropped, grey as PIL's convert ("L") when channels
 * is 1. When out is NULL only decodes; *is_grey (may be NULL) tells whether
 * every pixel has R = G = B. The file passes data_image_probe first. */
gboolean folder_decode_image (const char *path, int channels, int size,
                              DatasetResize resize, guint8 *out,
                              gboolean *is_grey, GError **error);

/* The size and modification time of the regular file at path (stat
 * follows links); FALSE when there is no such file. */
gboolean data_file_stamp (const char *path, DatasetFileStamp *stamp);

/* Every image file a load of the folder at path considers, in either
 * split, in its order (a GPtrArray of paths). */
GPtrArray *folder_list_images (const char *path);

/* Class names read from a text file, one a line, blank lines dropped;
 * NULL when the file is missing or has fewer than n_classes names. */
char **data_read_class_names (const char *path, int n_classes);

G_END_DECLS
