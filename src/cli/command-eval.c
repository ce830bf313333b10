/* command-eval.c: `instdisc eval`, weighted kNN of a run's checkpoint. */
#define G_LOG_DOMAIN "instdisc"

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
  static const char *const what[] = { "the memory bank", "recomputed features" };
  for (int b = 0; b < 2 && bases[b]; b++)
    {
      KnnAccuracy accuracy;
      /* sigma = tau, as the reference's test.py */
      knn_classify (NULL, &accuracy, test_features, test->labels, test->n,
                    bases[b], train->labels, train->n, D, train->n_classes, k,
                    run->config.tau, 0);
      printf ("kNN (K %d) from %s: top-1 %.2f%%  top-5 %.2f%%  1-NN %.2f%%\n",
              k, what[b], 100.0 * accuracy.top1, 100.0 * accuracy.top5,
              100.0 * accuracy.nn1);
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
      "Run folder (required)", "DIR" },
    { "recompute", 0, 0, G_OPTION_ARG_NONE, &recompute,
      "Also classify against the training images re-embedded with the test "
      "transform", NULL },
    { "k", 0, 0, G_OPTION_ARG_INT, &k, "Neighbours that vote (200)", "K" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads,
      "Threads (0: one per core)", "N" },
    { NULL },
  };
  if (!cli_parse_options (&argc, &argv, entries, NULL,
      "Classifies the run's test images by weighted kNN (K neighbours,\n"
      "weights exp (similarity / tau)) among the training images' memory-bank\n"
      "vectors, and with --recompute among the training images embedded\n"
      "afresh with the test transform. Prints top-1, top-5 and 1-NN accuracy.\n"
      "The run folder is only read."))
    return 1;
  g_autoptr (GError) error = NULL;
  if (!run_dir)
    return cli_fail_message ("eval needs --run DIR");
  if (k < 1)
    return cli_fail_message ("--k must be at least 1, not %d", k);
  engine_set_threads (threads);

  g_autoptr (CliRun) run = cli_run_open (run_dir, &error);
  if (!run)
    return cli_fail (error);
  g_autoptr (Dataset) test = cli_run_open_split (run, "test", &error);
  if (!test)
    return cli_fail (error);
  if (run->train->n_classes == 0 || test->n == 0)
    return cli_fail_message ("%s: kNN accuracy needs labelled training "
                             "images and a non-empty test set",
                             run->train->name);
  g_print ("%s: the %s ResNet after %" G_GINT64_FORMAT " steps; %s (%d) "
           "against %s (%d)\n", run_dir, model_kind_to_string (run->config.model),
           trainer_get_iteration (run->trainer), test->name, test->n,
           run->train->name, run->train->n);
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
