/* command-query.c: `instdisc query`, the training images nearest to image
 * files. */
#define G_LOG_DOMAIN "instdisc"

#include <glib/gi18n.h>
#include <stdio.h>

#include "cli-common.h"
#include "cli-run.h"
#include "commands.h"
#include "knn.h"
#include "threads.h"

int
command_query (int argc, char **argv)
{
  g_autofree char *run_dir = NULL;
  int k = 10, threads = 0;
  GOptionEntry entries[] = {
    { "run", 'r', 0, G_OPTION_ARG_FILENAME, &run_dir,
      N_("Run folder (required)"), N_("DIR") },
    { "k", 0, 0, G_OPTION_ARG_INT, &k, N_("Neighbours to list (10)"),
      N_("K") },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads,
      N_("Threads (0: one per core)"), N_("N") },
    { NULL },
  };
  if (!cli_parse_options (&argc, &argv, entries, _("IMAGE..."),
      _("Embeds each image file as the network sees a test image (converted\n"
        "to the training images' channels, resized and centre-cropped to\n"
        "their size, normalised) and lists the K training images whose\n"
        "memory-bank vectors are most similar (cosine similarity, most\n"
        "similar first): rank, index, image (its file, or NAME[index]),\n"
        "label, similarity.")))
    return 1;
  g_autoptr (GError) error = NULL;
  if (!run_dir)
    return cli_fail_message (_("query needs --run DIR"));
  if (argc < 2)
    return cli_fail_message (_("query needs at least one IMAGE file"));
  if (k < 1)
    return cli_fail_message (_("--k must be at least 1, not %d"), k);
  if (!cli_set_threads (threads))
    return 1;

  g_autoptr (CliRun) run = cli_run_open (run_dir, &error);
  if (!run)
    return cli_fail (error);
  const int n = argc - 1, D = run->config.low_dim;
  const char *const *paths = (const char *const *) argv + 1;
  g_autofree float *features = cli_run_embed_images (run, paths, n, &error);
  if (!features)
    return cli_fail (error);

  const Dataset *train = run->train;
  k = MIN (k, train->n);
  g_autofree float *similarities = g_new (float, (gsize) n * k);
  g_autofree int *indices = g_new (int, (gsize) n * k);
  knn_search (similarities, indices, features, n,
              run->model->bank->vectors, train->n, D, k);
  for (int q = 0; q < n; q++)
    {
      g_autofree char *shown = g_filename_display_name (paths[q]);
      if (q > 0)
        printf ("\n");
      printf (_("%s: the %d nearest of %d training images"), shown, k,
              train->n);
      printf ("\n");
      for (int r = 0; r < k; r++)
        {
          int i = indices[(gsize) q * k + r];
          if (i < 0)
            break;   /* fewer rows could be ranked than asked for */
          int label = train->labels[i];
          g_autofree char *name = dataset_get_item_name (train, i);
          g_autofree char *label_text
              = label < 0 ? g_strdup ("-")
                : train->class_names ? g_strdup (train->class_names[label])
                : g_strdup_printf ("%d", label);
          printf ("%4d  %7d  %s  %s  %.4f\n", r + 1, i, name, label_text,
                  similarities[(gsize) q * k + r]);
        }
    }
  fflush (stdout);
  return 0;
}
