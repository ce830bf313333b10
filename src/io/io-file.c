/* io-file.c: checks before a file is opened; see io-file.h. */
#define G_LOG_DOMAIN "instdisc-io"

#include "io-file.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

gboolean
io_require_regular_file (const char *path, GError **error)
{
  GStatBuf st;
  g_autofree char *shown = g_filename_display_name (path);
  if (g_stat (path, &st) != 0)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   "%s: %s", shown, g_strerror (saved));
      return FALSE;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, G_FILE_ERROR,
                   S_ISDIR (st.st_mode) ? G_FILE_ERROR_ISDIR
                                        : G_FILE_ERROR_INVAL,
                   S_ISDIR (st.st_mode) ? _("%s: a folder, not a file")
                                        : _("%s: not a regular file"),
                   shown);
      return FALSE;
    }
  return TRUE;
}
