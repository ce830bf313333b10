/* instdisc.c: the command-line tool. `instdisc COMMAND [OPTION...]`. */
#define G_LOG_DOMAIN "instdisc"

#include <gio/gio.h>
#include <locale.h>
#include <stdio.h>
#include <unistd.h>

#include "dataset.h"
#include "threads.h"
#include "trainer.h"

typedef int (*CommandFunc) (int argc, char **argv);

typedef struct
{
  const char *name;
  const char *summary;
  CommandFunc run;
} Command;

static int
fail (const GError *error)
{
  g_printerr ("instdisc: %s\n", error->message);
  return 1;
}

/* ---- train ---- */

static int
command_train (int argc, char **argv)
{
  TrainerConfig config;
  trainer_config_init_default (&config);
  g_autofree char *model = g_strdup ("small");
  gint64 steps = 0;
  int epochs = 1, threads = 0, log_every = 20;
  double lr = config.lr, tau = config.tau, bank_momentum = config.bank_momentum;
  gint64 seed = (gint64) config.seed;

  GOptionEntry entries[] = {
    { "model", 0, 0, G_OPTION_ARG_STRING, &model,
      "Network: small (widths 16-128) or resnet18", "NAME" },
    { "epochs", 0, 0, G_OPTION_ARG_INT, &epochs, "Epochs to train (1)", "N" },
    { "steps", 0, 0, G_OPTION_ARG_INT64, &steps,
      "Stop after this many steps (0: run all epochs)", "N" },
    { "batch-size", 0, 0, G_OPTION_ARG_INT, &config.batch_size,
      "Images per step (128)", "N" },
    { "lr", 0, 0, G_OPTION_ARG_DOUBLE, &lr, "Learning rate (0.03)", "LR" },
    { "tau", 0, 0, G_OPTION_ARG_DOUBLE, &tau,
      "Softmax temperature (0.1)", "T" },
    { "bank-momentum", 0, 0, G_OPTION_ARG_DOUBLE, &bank_momentum,
      "Memory bank momentum m (0.5)", "M" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Random seed (1)", "N" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads,
      "Worker threads (0: one per core)", "N" },
    { "log-every", 0, 0, G_OPTION_ARG_INT, &log_every,
      "Print the loss every N steps (20)", "N" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- train on the "
                                                             "built-in Fashion-MNIST");
  g_option_context_set_summary (context,
      "Learns 128-d unit embeddings of the training images by non-parametric\n"
      "instance discrimination with the exact softmax over a memory bank.");
  g_option_context_add_main_entries (context, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return fail (error);

  if (g_str_equal (model, "small"))
    config.model = MODEL_SMALL;
  else if (g_str_equal (model, "resnet18"))
    config.model = MODEL_RESNET18;
  else
    {
      g_printerr ("instdisc: unknown model “%s” (small or resnet18)\n", model);
      return 1;
    }
  config.lr = lr;
  config.tau = tau;
  config.bank_momentum = bank_momentum;
  config.seed = (guint64) seed;
  engine_set_threads (threads);

  g_autoptr (Dataset) data = dataset_load_fashion_mnist ("train", &error);
  if (!data)
    return fail (error);
  g_autoptr (Trainer) trainer = trainer_new (&config, data, &error);
  if (!trainer)
    return fail (error);

  gint64 total = (gint64) epochs * trainer_steps_per_epoch (trainer);
  if (steps > 0 && steps < total)
    total = steps;
  g_print ("training the %s ResNet on %s (%d images), batch %d, %" G_GINT64_FORMAT
           " steps, %d threads\n", model, data->name, data->n,
           config.batch_size, total, engine_get_threads ());

  gint64 start = g_get_monotonic_time ();
  TrainerStepInfo info = { 0 };
  while (info.iteration < total)
    {
      if (!trainer_step (trainer, &info, &error))
        return fail (error);
      if (info.iteration % log_every == 0 || info.iteration == total)
        {
          double seconds = (g_get_monotonic_time () - start) / 1e6;
          double rate = info.iteration * config.batch_size / seconds;
          double eta = (total - info.iteration) * config.batch_size / rate;
          g_print ("step %5" G_GINT64_FORMAT "/%" G_GINT64_FORMAT
                   "  epoch %d  loss %.4f  lr %.4g  %.0f img/s  eta %.0f s\n",
                   info.iteration, total, info.epoch + 1, info.loss, info.lr,
                   rate, eta);
        }
    }
  return 0;
}

static const Command commands[] = {
  { "train", "Train an embedding on a data set", command_train },
};

static void
usage (FILE *out)
{
  fprintf (out, "Usage: instdisc COMMAND [OPTION...]\n\nCommands:\n");
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-8s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\n`instdisc COMMAND --help` describes a command's options.\n");
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  if (argc < 2)
    {
      usage (stderr);
      return 2;
    }
  if (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h")
      || g_str_equal (argv[1], "help"))
    {
      usage (stdout);
      return 0;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (argv[1], commands[i].name))
      {
        /* the command parses "instdisc-COMMAND [OPTION...]" */
        g_autofree char *prgname = g_strdup_printf ("instdisc %s", argv[1]);
        argv[1] = prgname;
        return commands[i].run (argc - 1, argv + 1);
      }
  g_printerr ("instdisc: unknown command “%s”\n", argv[1]);
  usage (stderr);
  return 2;
}
