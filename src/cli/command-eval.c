/* command-eval.c: `instdisc eval`, weighted kNN of a run's checkpoint. */
#define G_LOG_DOMAIN "instdisc"

#include <inttypes.h>
#include <glib/gi18n.h>
#include <stdio.h>

#include "cli-common.h"
#include "cli-run.h"
#include "commands.h"
#include "knn.h"
#include "threads.h"

/* Weighted kNN at a K other than the default, which cli_evaluate is fixed
 * to: the same measurement, printed the same way. */
static gboolean
evaluate_at_k (CliRun *run, const Dataset *test, gboolean recompute, int k,
               GError **error)
{
  const Dataset *train = run->train;
  const int D = run->config.low_dim;
  if (train->n_classes == 0 || test->n == 0)
    return TRUE;
  g_autofree float *test_features = g_new (float, (gsize) test->n * D);
  if (!trainer_embed (run->trainer, test, test_features, error))
    return FALSE;
  const float *bases[2] = { trainer_get_bank (run->trainer)->vectors, NULL };
  g_autofree float *recomputed = NULL;
  if (recompute)
    {
      recomputed = g_new (float, (gsize) train->n * D);
      if (!trainer_embed (run->trainer, train, recomputed, error))
        return FALSE;
      bases[1] = recomputed;
    }
  for (int b = 0; b < 2 && bases[b]; b++)
    {
      KnnAccuracy accuracy;
      /* sigma = tau, as the reference's test.py */
      knn_classify (NULL, &accuracy, test_features, test->labels, test->n,
                    bases[b], train->labels, train->n, D, train->n_classes, k,
                    run->config.tau, 0);
      printf (b == 0 ? _("kNN (K %d) from the memory bank: top-1 %.2f%%  "
                         "top-5 %.2f%%  1-NN %.2f%%")
                     : _("kNN (K %d) from recomputed features: top-1 %.2f%%  "
                         "top-5 %.2f%%  1-NN %.2f%%"),
              k, 100.0 * accuracy.top1, 100.0 * accuracy.top5,
              100.0 * accuracy.nn1);
      printf ("\n");
    }
  return TRUE;
}

int
command_eval (int argc, char **argv)
{
  g_autofree char *run_dir = NULL;
  gboolean recompute = FALSE;
  int k = KNN_DEFAULT_K, threads = 0;
  GOptionEntry entries[] = {
    { "run", 'r', 0, G_OPTION_ARG_FILENAME, &run_dir,
      N_("Run folder (required)"), N_("DIR") },
    { "recompute", 0, 0, G_OPTION_ARG_NONE, &recompute,
      N_("Also classify against the training images re-embedded with the "
         "test transform"), NULL },
    { "k", 0, 0, G_OPTION_ARG_INT, &k, N_("Neighbours that vote (200)"),
      N_("K") },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads,
      N_("Threads (0: one per core)"), N_("N") },
    { NULL },
  };
  if (!cli_parse_options (&argc, &argv, entries, NULL,
      _("Classifies the run's test images by weighted kNN (K neighbours,\n"
        "weights exp (similarity / tau)) among the training images'\n"
        "memory-bank vectors, and with --recompute among the training images\n"
        "embedded afresh with the test transform. Prints top-1, top-5 and\n"
        "1-NN accuracy. The run folder is only read.")))
    return 1;
  g_autoptr (GError) error = NULL;
  if (!run_dir)
    return cli_fail_message (_("eval needs --run DIR"));
  if (k < 1)
    return cli_fail_message (_("--k must be at least 1, not %d"), k);
  engine_set_threads (threads);

  g_autoptr (CliRun) run = cli_run_open (run_dir, &error);
  if (!run)
    return cli_fail (error);
  g_autoptr (Dataset) test = cli_run_open_split (run, "test", &error);
  if (!test)
    return cli_fail (error);
  if (run->train->n_classes == 0 || test->n == 0)
    return cli_fail_message (_("%s: kNN accuracy needs labelled training "
                               "images and a non-empty test set"),
                             run->train->name);
  /* Translators: the second %s is the model's name ("small" or
   * "resnet18"); then the test set and its size, the training set and its
   * size */
  g_print (_("%s: the %s ResNet after %" PRId64 " steps; %s (%d) "
             "against %s (%d)"), run_dir,
           model_kind_to_string (run->config.model),
           trainer_get_iteration (run->trainer), test->name, test->n,
           run->train->name, run->train->n);
  g_print ("\n");
  if (k == KNN_DEFAULT_K)
    {
      MetricsRow row;
      if (!cli_evaluate (run->trainer, run->train, test, recompute, &row,
                         &error))
        return cli_fail (error);
    }
  else if (!evaluate_at_k (run, test, recompute, k, &error))
    return cli_fail (error);
  return 0;
}
