/* run-lock.c: one writer per run folder; see run-lock.h. */
#define G_LOG_DOMAIN "instdisc-io"

#include "run-lock.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "run-dir.h"

struct _RunLock
{
  int fd;
  char *path;
};

/* An atomic write's temporary: NAME.XXXXXX (g_mkstemp's six characters)
 * for one of the files a run writes atomically. */
static gboolean
is_stale_temporary (const char *name)
{
  static const char *const written[] = {
    RUN_CONFIG_FILE, RUN_METRICS_FILE, RUN_CHECKPOINT_FILE,
  };
  for (guint i = 0; i < G_N_ELEMENTS (written); i++)
    {
      gsize n = strlen (written[i]);
      if (strncmp (name, written[i], n) == 0 && name[n] == '.'
          && strlen (name + n + 1) == 6)
        return TRUE;
    }
  return FALSE;
}

static void
remove_stale_temporaries (const char *dir)
{
  g_autoptr (GDir) folder = g_dir_open (dir, 0, NULL);
  const char *name;
  while (folder && (name = g_dir_read_name (folder)))
    if (is_stale_temporary (name))
      {
        g_autofree char *path = g_build_filename (dir, name, NULL);
        if (g_unlink (path) == 0)
          g_debug ("removed %s, left by an interrupted write", path);
      }
}

RunLock *
run_lock_acquire (const char *dir, GError **error)
{
  g_autofree char *path = g_build_filename (dir, RUN_LOCK_FILE, NULL);
  g_autofree char *shown = g_filename_display_name (dir);
  int fd = g_open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      int saved = errno;
      g_autofree char *shown_path = g_filename_display_name (path);
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   _("%s: cannot open the run's lock file: %s"), shown_path,
                   g_strerror (saved));
      return NULL;
    }
  if (flock (fd, LOCK_EX | LOCK_NB) != 0)
    {
      int saved = errno;
      char holder[32] = { 0 };
      ssize_t n = pread (fd, holder, sizeof holder - 1, 0);
      close (fd);
      if (saved == EWOULDBLOCK)
        {
          g_strstrip (holder);
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY,
                       n > 0 && holder[0]
                           ? _("%s is in use: another instdisc (process %s) "
                               "is training in it; wait for it to end or "
                               "stop it, or choose another folder")
                           : _("%s is in use: another instdisc is training "
                               "in it; wait for it to end or stop it, or "
                               "choose another folder"),
                       shown, holder);
        }
      else
        g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                     _("%s: cannot lock the run folder: %s"), shown,
                     g_strerror (saved));
      return NULL;
    }
  /* ours now: say who holds it (a failure here only costs the message) */
  char pid[32];
  int len = g_snprintf (pid, sizeof pid, "%ld\n", (long) getpid ());
  if (ftruncate (fd, 0) != 0 || pwrite (fd, pid, len, 0) != len)
    g_debug ("%s: could not write the process id", path);
  remove_stale_temporaries (dir);

  RunLock *self = g_new0 (RunLock, 1);
  self->fd = fd;
  self->path = g_steal_pointer (&path);
  return self;
}

void
run_lock_release (RunLock *self)
{
  if (!self)
    return;
  /* the file stays: removing it would race with a writer that has just
   * opened it and is about to lock it */
  flock (self->fd, LOCK_UN);
  close (self->fd);
  g_free (self->path);
  g_free (self);
}
