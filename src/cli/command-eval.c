/* command-eval.c: `instdisc eval`, weighted kNN of a run's checkpoint. */
#define G_LOG_DOMAIN "instdisc"

#include <inttypes.h>
#include <glib/gi18n.h>
#include <math.h>
#include <stdio.h>

#include "cli-common.h"
#include "cli-output.h"
#include "cli-run.h"
#include "commands.h"
#include "knn.h"
#include "threads.h"

/* --format tsv|json: the same numbers, as one object or one table row */
static int
print_machine_readable (const char *run_dir, const CliRun *run,
                        const Dataset *test, const EvaluateOptions *options,
                        CliFormat format)
{
  g_autoptr (GError) error = NULL;
  MetricsRow row;
  LinearEvalResult linear;
  if (!evaluate_run_model (run->model, run->train, test, options, &row,
                           &linear, &error))
    return cli_fail (error);
  g_autoptr (CliValue) table = cli_object_new ();
  CliValue *rows = cli_add_array (table, "rows");
  CliValue *o = cli_add_object (rows, NULL);
  g_autofree char *shown = g_filename_display_name (run_dir);
  cli_set_string (o, "run", shown);
  cli_set_string (o, "model", run->config.model->name);
  cli_set_int (o, "step", run->model->iteration);
  cli_set_string (o, "test_set", test->name);
  cli_set_int (o, "test_images", test->n);
  cli_set_string (o, "training_set", run->train->name);
  cli_set_int (o, "training_images", run->train->n);
  cli_set_int (o, "k", options->k);
  /* percentages, as metrics.csv holds them; null when not measured */
  cli_set_double (o, "knn_top1", row.knn_top1);
  cli_set_double (o, "knn_top5", row.knn_top5);
  cli_set_double (o, "knn_1nn", row.knn_1nn);
  cli_set_double (o, "knn_top1_recomputed", row.knn_top1_recomputed);
  cli_set_double (o, "knn_top5_recomputed", row.knn_top5_recomputed);
  cli_set_double (o, "linear_top1", row.linear_top1);
  cli_set_double (o, "linear_top5", row.linear_top5);
  cli_set_double (o, "linear_l2", options->linear ? linear.l2 : NAN);
  if (format == CLI_FORMAT_JSON)
    cli_print_json (o);
  else
    {
      static const char *const columns[] = {
        "run", "model", "step", "test_set", "test_images", "training_set",
        "training_images", "k", "knn_top1", "knn_top5", "knn_1nn",
        "knn_top1_recomputed", "knn_top5_recomputed", "linear_top1",
        "linear_top5", "linear_l2", NULL,
      };
      cli_print_tsv_rows (rows, columns);
    }
  return 0;
}

int
command_eval (int argc, char **argv)
{
  g_autofree char *run_dir = NULL;
  g_autofree char *format_name = NULL;
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
    { "format", 0, 0, G_OPTION_ARG_STRING, &format_name,
      N_("Output: text (the default), tsv (a header row and a row of "
         "numbers) or json (one object)"), N_("FORMAT") },
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
  CliFormat format;
  if (!cli_format_parse (format_name, &format))
    return 1;
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
  if (format != CLI_FORMAT_TEXT)
    return print_machine_readable (run_dir, run, test, &options, format);
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
