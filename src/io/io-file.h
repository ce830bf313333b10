/* io-file.h: what the readers of src/io check before they open a file.
 *
 * open(2) on a FIFO waits for a writer, and a device such as /dev/zero
 * never ends: a reader that is handed one of them by mistake (a run folder
 * assembled by hand, a path typed wrong) would hang or grow without bound.
 * So every reader here first asks that the path be a regular file. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* FALSE with a G_FILE_ERROR naming path when it does not exist, cannot be
 * examined, or is not a regular file (symbolic links are followed). */
gboolean io_require_regular_file (const char *path, GError **error);

G_END_DECLS
