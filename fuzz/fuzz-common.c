/* fuzz-common.c: see fuzz-common.h. */
#include "fuzz-common.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *folder;

/* Removes the private folder and what the targets left in it (one level
 * of sub-folders is all they make). */
static void
remove_folder (void)
{
  if (!folder)
    return;
  GDir *dir = g_dir_open (folder, 0, NULL);
  const char *name;
  while (dir && (name = g_dir_read_name (dir)))
    {
      g_autofree char *path = g_build_filename (folder, name, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          GDir *sub = g_dir_open (path, 0, NULL);
          const char *inner;
          while (sub && (inner = g_dir_read_name (sub)))
            {
              g_autofree char *child = g_build_filename (path, inner, NULL);
              g_unlink (child);
            }
          if (sub)
            g_dir_close (sub);
          g_rmdir (path);
        }
      else
        g_unlink (path);
    }
  if (dir)
    g_dir_close (dir);
  g_rmdir (folder);
  g_clear_pointer (&folder, g_free);
}

/* GLib ends a fatal message (g_error, a critical made fatal, g_malloc
 * out of memory) with a breakpoint, SIGTRAP on Linux, which libFuzzer
 * does not catch: the input would be lost. abort () instead, which it
 * catches, printing the stack and keeping the input. */
static void
on_trap (int signal_number)
{
  abort ();
}

void
fuzz_setup (void)
{
  if (folder)
    return;
  signal (SIGTRAP, on_trap);
  /* Files, never remote locations: without this GIO may load a VFS module
   * that talks to a session bus, and the run would depend on one. */
  g_setenv ("GIO_USE_VFS", "local", TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  /* A g_return_if_fail or any critical of instdisc's own code reached by a
   * file's content is a bug: make it fatal so the input is kept. System
   * libraries' domains keep their defaults. */
  const char *domains[] = { "instdisc", "instdisc-data", "instdisc-io",
                            "instdisc-method" };
  for (gsize i = 0; i < G_N_ELEMENTS (domains); i++)
    g_log_set_fatal_mask (domains[i], G_LOG_LEVEL_CRITICAL
                                          | G_LOG_LEVEL_ERROR);
  g_autoptr (GError) error = NULL;
  folder = g_dir_make_tmp ("instdisc-fuzz-XXXXXX", &error);
  if (!folder)
    {
      fprintf (stderr, "fuzz: no temporary folder: %s\n", error->message);
      abort ();
    }
  atexit (remove_folder);
}

char *
fuzz_dir (const char *sub)
{
  g_assert (folder != NULL);
  if (!sub)
    return g_strdup (folder);
  char *path = g_build_filename (folder, sub, NULL);
  if (g_mkdir (path, 0700) != 0 && errno != EEXIST)
    {
      fprintf (stderr, "fuzz: %s: %s\n", path, g_strerror (errno));
      abort ();
    }
  return path;
}

char *
fuzz_write (const char *name, const uint8_t *data, size_t size)
{
  g_assert (folder != NULL);
  char *path = g_build_filename (folder, name, NULL);
  /* in place, not through a temporary and a rename: nothing else reads
   * the file, and millions of renames would only slow the run */
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  size_t done = 0;
  while (fd >= 0 && done < size)
    {
      ssize_t n = write (fd, data + done, size - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      done += (size_t) n;
    }
  if (fd < 0 || done < size || close (fd) != 0)
    {
      fprintf (stderr, "fuzz: cannot write %s: %s\n", path, g_strerror (errno));
      abort ();
    }
  return path;
}

void
fuzz_fail (const char *file, int line, const char *what)
{
  fprintf (stderr, "%s:%d: the target's check failed: %s\n", file, line,
           what);
  abort ();
}
