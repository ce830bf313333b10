/* image-formats.h: which image files this machine reads.
 *
 * One list, built once from GdkPixbuf's loaders (gdk_pixbuf_get_formats),
 * so that every place that picks image files agrees with the decoder: a
 * folder data set's scan, the probe's messages, `instdisc query` and
 * `embed`, and the explorer's Open dialog and drops. PNG, JPEG, GIF, BMP,
 * TIFF, ICO and the others GdkPixbuf has built in; WebP (GNOME's own
 * wallpapers) once its loader is installed (Debian: webp-pixbuf-loader);
 * whatever other loader is added later, without a change here. Formats
 * GdkPixbuf lists but has disabled are left out. Thread-safe. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The file extensions, lower-case without the dot ("png", "jpg", "svg.gz",
 * "webp", ...), sorted; NULL-terminated, owned by the data layer. */
const char *const *data_image_extensions (void);

/* The MIME types of the same formats ("image/png", ...), sorted;
 * NULL-terminated, owned by the data layer. */
const char *const *data_image_mime_types (void);

/* Whether a file name ends in one of the extensions (any case). */
gboolean data_is_image_name (const char *name);

/* Whether GdkPixbuf reads format `name` here ("webp", "png": GdkPixbuf's
 * own format names). */
gboolean data_image_format_available (const char *name);

/* The formats for a message, upper-case and comma-separated: "ANI, BMP,
 * GIF, ..." (transfer full). */
char *data_image_formats_describe (void);

G_END_DECLS
