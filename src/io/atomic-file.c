/* atomic-file.c: temporary file, fsync, rename. */
#define G_LOG_DOMAIN "instdisc-io"

#include "atomic-file.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <unistd.h>

struct _AtomicFile
{
  char *path;
  char *display;    /* path for messages */
  char *tmp_path;
  int fd;
  /* a write failed: committing would put a short file in place of a good
   * one, so commit refuses */
  gboolean failed;
};

static gboolean
fail_errno (GError **error, int saved_errno, const char *display,
            const char *doing)
{
  g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
               "%s: %s: %s", display, doing, g_strerror (saved_errno));
  return FALSE;
}

AtomicFile *
atomic_file_open (const char *path, GError **error)
{
  g_autofree char *tmp = g_strconcat (path, ".XXXXXX", NULL);
  int fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0666);
  if (fd < 0)
    {
      int saved_errno = errno;
      g_autofree char *display = g_filename_display_name (path);
      fail_errno (error, saved_errno, display,
                  _("cannot create a temporary file next to it"));
      return NULL;
    }
  AtomicFile *self = g_new0 (AtomicFile, 1);
  self->path = g_strdup (path);
  self->display = g_filename_display_name (path);
  self->tmp_path = g_steal_pointer (&tmp);
  self->fd = fd;
  return self;
}

gboolean
atomic_file_write (AtomicFile *self, const void *data, gsize length,
                   GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (data != NULL || length == 0, FALSE);
  if (self->failed)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                   _("%s: cannot write: an earlier write failed"),
                   self->display);
      return FALSE;
    }
  const char *p = data;
  while (length > 0)
    {
      ssize_t n = write (self->fd, p, MIN (length, (gsize) 1 << 30));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          int saved_errno = n < 0 ? errno : EIO;
          self->failed = TRUE;
          return fail_errno (error, saved_errno, self->display,
                             _("cannot write"));
        }
      p += n;
      length -= (gsize) n;
    }
  return TRUE;
}

static void
atomic_file_free (AtomicFile *self)
{
  g_free (self->path);
  g_free (self->display);
  g_free (self->tmp_path);
  g_free (self);
}

void
atomic_file_abort (AtomicFile *self)
{
  if (!self)
    return;
  if (self->fd >= 0)
    close (self->fd);
  g_unlink (self->tmp_path);
  atomic_file_free (self);
}

gboolean
atomic_file_commit (AtomicFile *self, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  if (self->failed)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                   _("%s: not replaced: an earlier write failed"),
                   self->display);
      atomic_file_abort (self);
      return FALSE;
    }
  const char *doing = NULL;
  int saved_errno = 0;
  if (fsync (self->fd) != 0)
    {
      saved_errno = errno;
      doing = _("cannot flush to disk");
    }
  if (close (self->fd) != 0 && !doing)
    {
      saved_errno = errno;
      doing = _("cannot close");
    }
  self->fd = -1;
  if (!doing && g_rename (self->tmp_path, self->path) != 0)
    {
      saved_errno = errno;
      doing = _("cannot rename the temporary file over it");
    }
  if (doing)
    {
      fail_errno (error, saved_errno, self->display, doing);
      atomic_file_abort (self);
      return FALSE;
    }
  /* make the rename itself durable; failing here loses nothing written */
  g_autofree char *dir = g_path_get_dirname (self->path);
  int dir_fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0)
    {
      fsync (dir_fd);
      close (dir_fd);
    }
  atomic_file_free (self);
  return TRUE;
}

gboolean
atomic_file_set_contents (const char *path, const void *contents, gsize length,
                          GError **error)
{
  AtomicFile *file = atomic_file_open (path, error);
  if (!file)
    return FALSE;
  if (!atomic_file_write (file, contents, length, error))
    {
      atomic_file_abort (file);
      return FALSE;
    }
  return atomic_file_commit (file, error);
}
