/* command-finetune.c: `instdisc finetune`, the semi-supervised evaluation
 * of the paper (method/finetune.h). */
#define G_LOG_DOMAIN "instdisc"

#include <glib/gi18n.h>
#include <math.h>
#include <stdio.h>
#include <unistd.h>

#include "cli-common.h"
#include "cli-run.h"
#include "commands.h"
#include "finetune.h"
#include "threads.h"

/* the engine knows nothing of GLib; its network is freed here */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ResNet, resnet_free)

/* "10%" or "0.1" -> 0.1 */
static gboolean
parse_fraction (const char *text, double *fraction)
{
  char *end;
  double value = g_ascii_strtod (text, &end);
  if (end == text)
    return FALSE;
  if (*end == '%')
    {
      value /= 100.0;
      end++;
    }
  if (*end || !(value > 0.0 && value <= 1.0))
    return FALSE;
  *fraction = value;
  return TRUE;
}

typedef struct
{
  const char *what;
  gint64 last_print;
  gboolean tty;
} Progress;

static void
on_progress (int step, int steps, float loss, gpointer user_data)
{
  Progress *p = user_data;
  gint64 now = g_get_monotonic_time ();
  if (step != steps && now - p->last_print < (p->tty ? 200000 : 10000000))
    return;
  p->last_print = now;
  /* Translators: "%s" is "fine-tuning" or "from scratch" */
  g_print (p->tty ? "\r%s: step %d/%d  loss %.4f   " : "%s: step %d/%d  "
                                                       "loss %.4f\n",
           p->what, step, steps, loss);
  if (p->tty && step == steps)
    g_print ("\n");
  fflush (stdout);
}

static gboolean
run_one (ResNet *net, const AugmentOptions *augment, const Dataset *train,
         const Dataset *test, const FinetuneOptions *options,
         const char *what, FinetuneResult *result, GError **error)
{
  Progress progress = { .what = what, .tty = isatty (STDOUT_FILENO) };
  return finetune_network (net, augment, train, test, options, on_progress,
                           &progress, result, error);
}

int
command_finetune (int argc, char **argv)
{
  g_autofree char *run_dir = NULL, *labels = NULL;
  FinetuneOptions options;
  finetune_options_init_default (&options);
  double lr = options.lr;
  gint64 seed = (gint64) options.seed;
  int threads = 0;
  gboolean no_scratch = FALSE;
  GOptionEntry entries[] = {
    { "run", 'r', 0, G_OPTION_ARG_FILENAME, &run_dir,
      N_("Run folder (required)"), N_("DIR") },
    { "labels", 'l', 0, G_OPTION_ARG_STRING, &labels,
      N_("The labelled part of the training set: 1%, 10% (default) or any "
         "fraction"), N_("FRACTION") },
    { "steps", 0, 0, G_OPTION_ARG_INT, &options.steps,
      N_("SGD steps (1000)"), N_("N") },
    { "batch-size", 'b', 0, G_OPTION_ARG_INT, &options.batch_size,
      N_("Images per step (128, at most the run's batch)"), N_("N") },
    { "lr", 0, 0, G_OPTION_ARG_DOUBLE, &lr,
      N_("Learning rate, cosine to 0 over the steps (0.03)"), N_("LR") },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed,
      N_("Seed of the labelled subset, order and augmentation (1)"),
      N_("N") },
    { "no-scratch", 0, 0, G_OPTION_ARG_NONE, &no_scratch,
      N_("Skip the comparison with the same network trained from scratch"),
      NULL },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads,
      N_("Threads (0: one per core)"), N_("N") },
    { NULL },
  };
  if (!cli_parse_options (&argc, &argv, entries, NULL,
      _("Semi-supervised evaluation (as in the paper): the run's\n"
        "network and a classifier on its embedding are trained on a\n"
        "labelled part of the training set (the same number of images per\n"
        "class), then scored on the test set; and, for comparison, the same\n"
        "network from a random start, on the same images for as many\n"
        "steps. The run folder is only read.")))
    return 1;
  g_autoptr (GError) error = NULL;
  if (!run_dir)
    return cli_fail_message (_("finetune needs --run DIR"));
  if (labels && !parse_fraction (labels, &options.fraction))
    return cli_fail_message (_("--labels takes a percentage (10%%) or a "
                               "fraction in (0, 1], not “%s”"), labels);
  options.lr = (float) lr;
  options.seed = (guint64) seed;
  if (!cli_set_threads (threads))
    return 1;

  g_autoptr (CliRun) run = cli_run_open (run_dir, &error);
  if (!run)
    return cli_fail (error);
  g_autoptr (Dataset) test = cli_run_open_split (run, "test", &error);
  if (!test)
    return cli_fail (error);
  options.tau = run->config.tau;
  if (options.batch_size > run->config.batch_size)
    return cli_fail_message (_("--batch-size %d is larger than the run's "
                               "batch (%d)"), options.batch_size,
                             run->config.batch_size);
  /* the run model's network only evaluates; the fine-tuning trains a
   * copy at its own batch */
  g_autoptr (ResNet) learned = run_model_new_network (run->model,
                                                      options.batch_size);
  if (!learned)
    return cli_fail_message (_("not enough memory for a second network"));
  const AugmentOptions *augment = &run->model->augment;

  FinetuneResult tuned, scratch = { 0 };
  if (!run_one (learned, augment, run->train, test, &options,
                _("fine-tuning"), &tuned, &error))
    return cli_fail (error);
  g_print (_("%s: %d labelled images (%.4g%% of %s), %d steps of %d"),
           run_dir, tuned.n_labelled, 100.0 * options.fraction,
           run->train->name, options.steps, MIN (options.batch_size,
                                                 tuned.n_labelled));
  g_print ("\n");
  g_print (_("fine-tuned from the run:  test top-1 %.2f%%  top-5 %.2f%%  "
             "(%.2f%% before fine-tuning; %.0f s)"),
           100.0 * tuned.top1, 100.0 * tuned.top5, 100.0 * tuned.start_top1,
           tuned.seconds);
  g_print ("\n");
  if (no_scratch)
    return 0;

  /* the same architecture with PyTorch's default initialisation, drawn
   * from --seed */
  ResNetConfig config = trainer_network_config (&run->config, run->train);
  ResNet *fresh = resnet_new (&config, learned->max_batch);
  if (!fresh)
    return cli_fail_message (_("not enough memory for a second network"));
  Rng init;
  rng_seed (&init, options.seed);
  resnet_init_parameters (fresh, &init);
  gboolean ok = run_one (fresh, augment, run->train, test, &options,
                         _("from scratch"), &scratch, &error);
  resnet_free (fresh);
  if (!ok)
    return cli_fail (error);
  g_print (_("trained from scratch:     test top-1 %.2f%%  top-5 %.2f%%  "
             "(%.0f s)"), 100.0 * scratch.top1, 100.0 * scratch.top5,
           scratch.seconds);
  g_print ("\n");
  return 0;
}
