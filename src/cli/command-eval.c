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

int
command_eval (int argc, char **argv)
{
  g_autofree char *run_dir = NULL;
  EvaluateOptions options;
  evaluate_options_init (&options);
  int threads = 0;
  GOptionEntry entries[] = {
    { "run", 'r', 0, G_OPTION_ARG_FILENAME, &run_dir,
      N_("Run folder (required)"), N_("DIR") },
    { "recompute", 0, 0, G_OPTION_ARG_NONE, &options.recompute,
      N_("Also classify against the training images re-embedded with the "
         "test transform"), NULL },
    { "linear", 0, 0, G_OPTION_ARG_NONE, &options.linear,
      N_("Also train a linear classifier (multinomial logistic regression) "
         "on the re-embedded training images and score the test images"),
      NULL },
    { "l2", 0, 0, G_OPTION_ARG_DOUBLE, &options.linear_l2,
      N_("The linear classifier's weight decay (0: chosen on a held-out "
         "tenth of the training set)"), N_("L2") },
    { "k", 0, 0, G_OPTION_ARG_INT, &options.k,
      N_("Neighbours that vote (200)"), N_("K") },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads,
      N_("Threads (0: one per core)"), N_("N") },
    { NULL },
  };
  if (!cli_parse_options (&argc, &argv, entries, NULL,
      _("Classifies the run's test images by weighted kNN (K neighbours,\n"
        "weights exp (similarity / tau)) among the training images'\n"
        "memory-bank vectors, and with --recompute among the training images\n"
        "embedded afresh with the test transform. Prints top-1, top-5 and\n"
        "1-NN accuracy. With --linear, also the linear evaluation: a\n"
        "multinomial logistic regression trained on the re-embedded training\n"
        "features, scored on the test set. The run folder is only read.")))
    return 1;
  g_autoptr (GError) error = NULL;
  if (!run_dir)
    return cli_fail_message (_("eval needs --run DIR"));
  if (options.k < 1)
    return cli_fail_message (_("--k must be at least 1, not %d"), options.k);
  if (!(options.linear_l2 >= 0.0 && options.linear_l2 < 1e6))
    return cli_fail_message (_("--l2 must be in [0, 1e6), not %g"),
                             options.linear_l2);
  if (!cli_set_threads (threads))
    return 1;

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
           run->config.model->name,
           run->model->iteration, test->name, test->n,
           run->train->name, run->train->n);
  g_print ("\n");
  MetricsRow row;
  if (!cli_evaluate (run->model, run->train, test, &options, &row, &error))
    return cli_fail (error);
  return 0;
}
