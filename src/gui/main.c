/* main.c: instdisc-explorer. Without a display it says so and, when asked
 * to train (--train-default), trains through `instdisc train` instead. Run
 * from the build tree or from an uninstalled prefix it finds its settings
 * schema there. */
#define G_LOG_DOMAIN "instdisc-gui"

#include <glib/gi18n.h>
#include <gtk/gtk.h>
#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "blas-kernels.h"
#include "instdisc-application.h"
#include "instdisc-settings.h"

static gboolean
has_display (void)
{
  const char *wayland = g_getenv ("WAYLAND_DISPLAY");
  const char *x11 = g_getenv ("DISPLAY");
  return (wayland && *wayland) || (x11 && *x11);
}

/* Installed in a prefix the desktop does not search, or run from the
 * build tree (tools/main-job), the explorer finds its settings schema where
 * meson put it: the prefix's schema folder, or the build tree's data/
 * beside src/gui/. */
static gboolean
find_settings_schema (const char *argv0)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *exe_dir = g_path_get_dirname (exe ? exe : argv0);
  g_autofree char *build_dir = g_build_filename (exe_dir, "..", "..", "data",
                                                 NULL);
  const char *const dirs[] = { SCHEMADIR, build_dir, NULL };
  return instdisc_settings_find_schema (dirs);
}

/* --help needs no display: GApplication answers it before GTK starts */
static gboolean
asks_for_help (int argc, char **argv)
{
  for (int i = 1; i < argc; i++)
    if (g_str_has_prefix (argv[i], "--help") || strcmp (argv[i], "-h") == 0
        || strcmp (argv[i], "-?") == 0)
      return TRUE;
  return FALSE;
}

int
main (int argc, char **argv)
{
  /* before anything else: it may run the program again (blas-kernels.h) */
  blas_kernels_choose (argv);
  setlocale (LC_ALL, "");
  /* A write past the file-size limit (ulimit -f) then fails with EFBIG,
   * which the writers report by name and undo, instead of the signal
   * killing the process mid-write. */
  signal (SIGXFSZ, SIG_IGN);
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  if (!asks_for_help (argc, argv) && (!has_display () || !gtk_init_check ()))
    {
      gboolean train = FALSE;
      for (int i = 1; i < argc; i++)
        train |= strcmp (argv[i], "--train-default") == 0;
      if (!train)
        {
          g_printerr (_("instdisc-explorer: no display to open a window on; "
                        "use the command line: instdisc train --help\n"));
          return 1;
        }
      /* the same run the window would start, through the command line */
      g_printerr (_("instdisc-explorer: no display: training through the "
                    "command line instead (instdisc train)\n"));
      g_autofree char *dir = g_path_get_dirname (argv[0]);
      g_autofree char *cli = g_build_filename (dir, "..", "cli", "instdisc",
                                               NULL);
      if (!g_file_test (cli, G_FILE_TEST_IS_EXECUTABLE))
        {
          g_free (cli);
          cli = g_strdup ("instdisc");
        }
      /* the other options (--epochs 1, ...) are the CLI's too */
      g_autoptr (GPtrArray) cli_argv = g_ptr_array_new ();
      g_ptr_array_add (cli_argv, cli);
      g_ptr_array_add (cli_argv, (char *) "train");
      for (int i = 1; i < argc; i++)
        if (strcmp (argv[i], "--train-default") != 0)
          g_ptr_array_add (cli_argv, argv[i]);
      g_ptr_array_add (cli_argv, NULL);
      execvp (cli, (char **) cli_argv->pdata);
      g_printerr (_("instdisc-explorer: cannot run %s: %s\n"), cli,
                  g_strerror (errno));
      return 1;
    }
  if (!find_settings_schema (argv[0]))
    {
      g_printerr (_("instdisc-explorer: its settings schema %s is not "
                    "installed (meson install, or GSETTINGS_SCHEMA_DIR)\n"),
                  INSTDISC_APPLICATION_ID);
      return 1;
    }
  g_autoptr (InstdiscApplication) app = instdisc_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
