/* atomic-file.h: writing a file so that readers see the old file or the
 * whole new one, never a half-written one. Data goes to path.XXXXXX in the
 * same folder (same file system, so the rename is atomic), is flushed to
 * disk, then renamed over path; an abandoned or failed write removes the
 * temporary file. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _AtomicFile AtomicFile;

AtomicFile *atomic_file_open (const char *path, GError **error);
/* Appends length bytes. After a failed write every later write and the
 * commit fail too, so a caller cannot put a short file in place. */
gboolean atomic_file_write (AtomicFile *self, const void *data, gsize length,
                            GError **error);
/* Flushes, closes and renames; frees self whatever happens (on failure the
 * temporary file is removed and path is left as it was). */
gboolean atomic_file_commit (AtomicFile *self, GError **error);
/* Removes the temporary file and frees self. NULL is allowed. */
void atomic_file_abort (AtomicFile *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AtomicFile, atomic_file_abort)

/* The whole of contents, atomically. */
gboolean atomic_file_set_contents (const char *path, const void *contents,
                                   gsize length, GError **error);

G_END_DECLS
