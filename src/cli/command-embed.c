/* command-embed.c: `instdisc embed`, image files to embeddings in .npy. */
#define G_LOG_DOMAIN "instdisc"

#include <glib/gi18n.h>

#include "cli-common.h"
#include "cli-run.h"
#include "commands.h"
#include "npy.h"
#include "threads.h"

int
command_embed (int argc, char **argv)
{
  g_autofree char *run_dir = NULL, *out = NULL;
  int threads = 0;
  GOptionEntry entries[] = {
    { "run", 'r', 0, G_OPTION_ARG_FILENAME, &run_dir,
      N_("Run folder (required)"), N_("DIR") },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out,
      N_("The .npy file to write (required)"), N_("FILE") },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads,
      N_("Threads (0: one per core)"), N_("N") },
    { NULL },
  };
  if (!cli_parse_options (&argc, &argv, entries, _("IMAGE..."),
      _("Embeds each image file with the run's network as a test image\n"
        "(converted to the training images' channels, resized and\n"
        "centre-cropped to their size, normalised) and writes the\n"
        "embeddings, row i for the i-th IMAGE, as a float32 N x D .npy file\n"
        "of unit rows.")))
    return 1;
  g_autoptr (GError) error = NULL;
  if (!run_dir || !out)
    return cli_fail_message (_("embed needs --run DIR and --out FILE.npy"));
  if (argc < 2)
    return cli_fail_message (_("embed needs at least one IMAGE file"));
  if (!cli_set_threads (threads))
    return 1;

  g_autoptr (CliRun) run = cli_run_open (run_dir, &error);
  if (!run)
    return cli_fail (error);
  const int n = argc - 1, D = run->config.low_dim;
  g_autofree float *features
      = cli_run_embed_images (run, (const char *const *) argv + 1, n, &error);
  if (!features)
    return cli_fail (error);
  const gint64 shape[2] = { n, D };
  if (!npy_save (out, NPY_FLOAT32, 2, shape, features, &error))
    return cli_fail (error);
  g_autofree char *shown = g_filename_display_name (out);
  g_print (_("%s: %d x %d float32 embeddings"), shown, n, D);
  g_print ("\n");
  return 0;
}
