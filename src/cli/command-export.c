/* command-export.c: `instdisc export`, a run's embeddings as files other
 * tools read (NumPy, the TensorBoard projector, any text tool). */
#define G_LOG_DOMAIN "instdisc"

#include <inttypes.h>
#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>

#include "cli-common.h"
#include "cli-run.h"
#include "commands.h"
#include "npy.h"
#include "threads.h"
#include "trainer-run.h"

int
command_export (int argc, char **argv)
{
  g_autofree char *run_dir = NULL, *out_dir = NULL;
  g_autofree char *source = NULL, *split = NULL;
  int threads = 0;
  GOptionEntry entries[] = {
    { "run", 'r', 0, G_OPTION_ARG_FILENAME, &run_dir,
      N_("Run folder (required)"), N_("DIR") },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out_dir,
      N_("Folder for the files (default: the run folder)"), N_("DIR") },
    { "source", 0, 0, G_OPTION_ARG_STRING, &source,
      N_("bank (the memory bank; training images only) or recomputed (the "
         "network with the test transform). Default: bank for train, else "
         "recomputed"), N_("WHAT") },
    { "split", 0, 0, G_OPTION_ARG_STRING, &split,
      N_("train (default) or test"), N_("SPLIT") },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads,
      N_("Threads (0: one per core)"), N_("N") },
    { NULL },
  };
  if (!cli_parse_options (&argc, &argv, entries, NULL,
      _("Writes the embeddings of a split of the run's data set:\n"
        "  features.npy   float32, N x D, unit rows\n"
        "  labels.npy     int32, N (-1 for unlabelled images)\n"
        "  paths.txt      line i + 1 names image i: its file, or NAME[i]\n"
        "  vectors.tsv + metadata.tsv   for the TensorBoard projector")))
    return 1;
  g_autoptr (GError) error = NULL;
  if (!run_dir)
    return cli_fail_message (_("export needs --run DIR"));
  if (!split)
    split = g_strdup ("train");
  if (!g_str_equal (split, "train") && !g_str_equal (split, "test"))
    return cli_fail_message (_("unknown --split “%s” (train or test)"),
                             split);
  if (!source)
    source = g_strdup (g_str_equal (split, "train") ? "bank" : "recomputed");
  gboolean from_bank = g_str_equal (source, "bank");
  if (!from_bank && !g_str_equal (source, "recomputed"))
    return cli_fail_message (_("unknown --source “%s” (bank or recomputed)"),
                             source);
  if (from_bank && !g_str_equal (split, "train"))
    return cli_fail_message (_("the memory bank holds only the training "
                               "images: use --source recomputed for "
                               "--split %s"), split);
  if (!cli_set_threads (threads))
    return 1;

  g_autoptr (CliRun) run = cli_run_open (run_dir, &error);
  if (!run)
    return cli_fail (error);
  g_autoptr (Dataset) other = NULL;
  const Dataset *data = run->train;
  if (!g_str_equal (split, "train"))
    {
      other = cli_run_open_split (run, split, &error);
      if (!other)
        return cli_fail (error);
      data = other;
    }
  const int N = data->n, D = run->config.low_dim;
  const float *features;
  g_autofree float *recomputed = NULL;
  if (from_bank)
    features = run->model->bank->vectors;
  else
    {
      recomputed = g_try_new (float, (gsize) N * D);
      if (!recomputed)
        return cli_fail_message (_("not enough memory for %d x %d features"),
                                 N, D);
      g_print (_("embedding %s (%d images) with the test transform"),
               data->name, N);
      g_print ("\n");
      if (!run_model_embed (run->model, data, recomputed, &error))
        return cli_fail (error);
      features = recomputed;
    }

  const char *dir = out_dir ? out_dir : run_dir;
  if (g_mkdir_with_parents (dir, 0777) != 0)
    {
      int saved = errno;
      g_autofree char *shown = g_filename_display_name (dir);
      return cli_fail_message (_("%s: cannot create the folder: %s"), shown,
                               g_strerror (saved));
    }
  if (!trainer_run_export (dir, data, features, D, &error))
    return cli_fail (error);
  g_print (from_bank
           ? _("%s: %d x %d features of %s from the memory bank, after %"
               PRId64 " steps: features.npy labels.npy paths.txt "
               "vectors.tsv metadata.tsv")
           : _("%s: %d x %d features of %s from the network, after %"
               PRId64 " steps: features.npy labels.npy paths.txt "
               "vectors.tsv metadata.tsv"),
           dir, N, D, data->name, run->model->iteration);
  g_print ("\n");
  int unavailable = dataset_count_unavailable (data);
  if (unavailable > 0)
    {
      g_print (g_dngettext (GETTEXT_PACKAGE,
                            "%d row whose image cannot be read keeps its "
                            "place; metadata.tsv's status column marks it",
                            "%d rows whose images cannot be read keep their "
                            "places; metadata.tsv's status column marks "
                            "them", unavailable),
               unavailable);
      if (!from_bank)
        g_print ("%s", _(" (NaN in features.npy)"));
      g_print ("\n");
    }
  return 0;
}
