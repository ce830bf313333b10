/* bench-gui-vs-cli.c: does the explorer train as fast as `instdisc train`?
 *
 * The same training, the default recipe on Fashion-MNIST's 60,000 training
 * images given as their IDX file (a set without a test split, so neither
 * side measures the reference points or evaluates) with the bank started
 * at random (so no preparation pass), run by
 * the command line (a child process, `instdisc train --threads T`) and by
 * the explorer's InstdiscRun (its trainer thread, engine threads T, a
 * free main loop), in alternating rounds so that a drifting machine load
 * hits both alike. Both write metrics.csv the same way; each round's rate
 * is read from it, from the WARM_STEPS-th step row to the last:
 *
 *   images/s = (last iteration - its iteration) x batch
 *              / (last wall_s - its wall_s)
 *
 * so neither the start (data loading, the network's build, the first
 * touches of memory) nor the end (the checkpoint) is in it. Prints every
 * round, the medians and ranges, the ratio explorer / command line and
 * the load average before and after (docs/performance-gui.md).
 *
 *   bench-gui-vs-cli [--rounds 3] [--steps 60] [--threads 2]
 *                    [--data FASHION-MNIST'S TRAINING IDX FILE] */
#define G_LOG_DOMAIN "instdisc-bench"

#include <stdio.h>
#include <stdlib.h>

#include "instdisc-run.h"
#include "run-dir.h"

#include "bench-util.h"

/* step rows before the measured span: the first steps touch the
 * network's and the loader's memory for the first time */
#define WARM_STEPS 5

/* Debian's dataset-fashion-mnist: the training split alone */
#define FASHION_MNIST_TRAIN_IDX \
  "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"

/* images/s between the WARM_STEPS-th step row of dir's metrics.csv and
 * its last */
static double
metrics_rate (const char *dir, int batch_size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) rows = run_dir_load_metrics (dir, &error);
  if (!rows)
    g_error ("%s", error->message);
  const MetricsRow *first = NULL, *last = NULL;
  int seen = 0;
  for (guint i = 0; i < rows->len; i++)
    {
      const MetricsRow *row = &g_array_index (rows, MetricsRow, i);
      if (g_strcmp0 (row->kind, "step") != 0)
        continue;
      if (++seen == WARM_STEPS)
        first = row;
      last = row;
    }
  if (!first || last == first)
    g_error ("%s: fewer than %d steps", dir, WARM_STEPS + 1);
  return (double) (last->iteration - first->iteration) * batch_size
         / (last->wall_s - first->wall_s);
}

static void
run_cli (const char *dir, const char *data, int steps, int threads)
{
  g_autofree char *steps_arg = g_strdup_printf ("%d", steps);
  g_autofree char *threads_arg = g_strdup_printf ("%d", threads);
  const char *argv[] = {
    INSTDISC_CLI, "train", "--run", dir, "--data", data, "--bank-init",
    "random", "--steps", steps_arg, "--threads", threads_arg,
    NULL,
  };
  g_autoptr (GError) error = NULL;
  int status = 0;
  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL,
                     NULL, NULL, NULL, NULL, &status, &error)
      || !g_spawn_check_wait_status (status, &error))
    g_error ("%s: %s", INSTDISC_CLI, error->message);
}

static void
on_state (InstdiscRun *run, GMainLoop *loop)
{
  if (instdisc_run_get_state (run) == INSTDISC_RUN_STOPPED)
    g_main_loop_quit (loop);
}

static void
run_explorer (const char *dir, const char *data, int steps)
{
  TrainerConfig config;
  trainer_config_init_default (&config);
  config.bank_init = BANK_INIT_RANDOM;
  g_autoptr (GError) error = NULL;
  g_autoptr (InstdiscRun) run = instdisc_run_new_training (dir, data, &config,
                                                           &error);
  if (!run)
    g_error ("%s", error->message);
  instdisc_run_set_steps_limit (run, steps);
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_signal_connect (run, "state-changed", G_CALLBACK (on_state), loop);
  instdisc_run_start (run);
  g_main_loop_run (loop);
  if (instdisc_run_get_error (run))
    g_error ("%s", instdisc_run_get_error (run)->message);
  g_signal_handlers_disconnect_by_data (run, loop);
}

static void
print_summary (const char *name, const char *unit, double *rates,
               int rounds)
{
  double lo = rates[0], hi = rates[0];
  for (int r = 1; r < rounds; r++)
    {
      lo = MIN (lo, rates[r]);
      hi = MAX (hi, rates[r]);
    }
  printf ("%-12s median %7.3f%s, range %.3f - %.3f\n", name,
          bench_median (rates, rounds), unit, lo, hi);
}

int
main (int argc, char **argv)
{
  /* the kernels the programs run (blas-kernels.h); may run this again */
  bench_choose_kernels (argv, NULL);
  int rounds = 3, steps = 60, threads = 2;
  g_autofree char *data = NULL;
  GOptionEntry entries[] = {
    { "rounds", 0, 0, G_OPTION_ARG_INT, &rounds,
      "Rounds of each, alternating (3)", "N" },
    { "steps", 0, 0, G_OPTION_ARG_INT, &steps,
      "Steps per round, inside the first epoch (60)", "N" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads,
      "Engine threads of both (2)", "N" },
    { "data", 0, 0, G_OPTION_ARG_STRING, &data,
      "The data set (Fashion-MNIST's training images)", "SPEC" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_option_context_add_main_entries (context, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  if (rounds < 1 || steps <= WARM_STEPS + 1 || threads < 1)
    {
      fprintf (stderr, "need rounds >= 1, steps > %d and threads >= 1\n",
               WARM_STEPS + 1);
      return 1;
    }
  if (!data)
    data = g_strdup (FASHION_MNIST_TRAIN_IDX);
  instdisc_run_set_engine_threads (threads);
  TrainerConfig config;
  trainer_config_init_default (&config);

  g_autofree char *workdir = g_dir_make_tmp ("bench-gui-cli-XXXXXX", &error);
  if (!workdir)
    g_error ("%s", error->message);
  printf ("%s, the default recipe (batch %d) with a random bank start; %d "
          "steps per round, rate from step %d on; %d rounds "
          "each, %d threads\n", data, config.batch_size, steps, WARM_STEPS,
          rounds, threads);
  bench_print_loadavg ("before");

  g_autofree double *cli = g_new (double, rounds);
  g_autofree double *explorer = g_new (double, rounds);
  for (int r = 0; r < rounds; r++)
    for (int k = 0; k < 2; k++)
      {
        /* alternate which goes first */
        gboolean gui = (r + k) % 2 == 1;
        g_autofree char *name = g_strdup_printf ("%s-%d", gui ? "gui" : "cli",
                                                 r);
        g_autofree char *dir = g_build_filename (workdir, name, NULL);
        if (gui)
          run_explorer (dir, data, steps);
        else
          run_cli (dir, data, steps, threads);
        double rate = metrics_rate (dir, config.batch_size);
        (gui ? explorer : cli)[r] = rate;
        printf ("round %d %-8s %7.1f images/s\n", r + 1,
                gui ? "explorer" : "cli", rate);
        fflush (stdout);
      }
  bench_print_loadavg ("after");
  /* each round's ratio before the medians sort the rates */
  double ratios[rounds];
  for (int r = 0; r < rounds; r++)
    ratios[r] = explorer[r] / cli[r];
  print_summary ("cli", " images/s", cli, rounds);
  print_summary ("explorer", " images/s", explorer, rounds);
  print_summary ("ratio", "", ratios, rounds);
  printf ("explorer / cli, medians: %.3f\n",
          bench_median (explorer, rounds) / bench_median (cli, rounds));
  g_autofree char *rm = g_strdup_printf ("rm -rf '%s'", workdir);
  if (system (rm) != 0)
    g_warning ("could not remove %s", workdir);
  return 0;
}
