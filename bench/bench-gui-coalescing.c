/* bench-gui-coalescing.c: does a slow GUI slow training down?
 *
 * An InstdiscRun trains on its own thread and sends its metrics rows to
 * the main loop through one coalescing idle ("metrics-added" carries every
 * row since the last emission). This measures training steps per second
 * of a run whose main loop is free against one whose "metrics-added"
 * handler sleeps (50 ms per emission by default), in alternating rounds so
 * that a drifting machine load hits both alike, and prints the medians,
 * their ratio and the load average (docs/performance-gui.md).
 *
 *   bench-gui-coalescing [--rounds 4] [--steps 20] [--sleep-ms 50]
 *                        [--batch-size 16]
 *
 * Two rates per round: the trainer thread's own (the last row's images/s,
 * which excludes nothing but the thread's start) and the wall rate from
 * start until the run is STOPPED (which includes the last checkpoint's
 * write and the main loop's lag in delivering the end). No display is
 * needed: a run is a GObject, not a widget. */
#define G_LOG_DOMAIN "instdisc-bench"

#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "instdisc-run.h"

#include "bench-util.h"

#define N_IMAGES 1024
#define SIDE 28

/* Four classes, each a bright half of the image, with noise. */
static char *
write_idx (const char *dir)
{
  const gsize header = 16, pixels = (gsize) N_IMAGES * SIDE * SIDE;
  g_autofree guint8 *images = g_new (guint8, header + pixels);
  guint8 labels[8 + N_IMAGES];
  const guint32 image_header[4] = { GUINT32_TO_BE (0x803),
                                    GUINT32_TO_BE (N_IMAGES),
                                    GUINT32_TO_BE (SIDE), GUINT32_TO_BE (SIDE) };
  const guint32 label_header[2] = { GUINT32_TO_BE (0x801),
                                    GUINT32_TO_BE (N_IMAGES) };
  memcpy (images, image_header, header);
  memcpy (labels, label_header, 8);
  g_autoptr (GRand) rand = g_rand_new_with_seed (3);
  for (int i = 0; i < N_IMAGES; i++)
    {
      int c = i % 4;
      labels[8 + i] = (guint8) c;
      for (int y = 0; y < SIDE; y++)
        for (int x = 0; x < SIDE; x++)
          {
            gboolean bright = (c == 0 && x < SIDE / 2) || (c == 1 && y < SIDE / 2)
                              || (c == 2 && x >= SIDE / 2)
                              || (c == 3 && y >= SIDE / 2);
            images[header + ((gsize) i * SIDE + y) * SIDE + x]
                = (guint8) ((bright ? 200 : 30) + g_rand_int_range (rand, -25, 26));
          }
    }
  char *images_path = g_build_filename (dir, "bench-images-idx3-ubyte", NULL);
  g_autofree char *labels_path = g_build_filename (dir, "bench-labels-idx1-ubyte",
                                                   NULL);
  g_autoptr (GError) error = NULL;
  if (!g_file_set_contents (images_path, (char *) images, header + pixels, &error)
      || !g_file_set_contents (labels_path, (char *) labels, sizeof labels,
                               &error))
    g_error ("%s", error->message);
  return images_path;
}

typedef struct
{
  GMainLoop *loop;
  guint sleep_ms;
  guint signals;
  guint rows;
} Round;

static void
on_metrics (InstdiscRun *run, guint first, Round *round)
{
  round->signals++;
  round->rows = instdisc_run_get_metrics (run)->len;
  /* the deliberately slow GUI: a redraw that takes this long */
  if (round->sleep_ms)
    g_usleep (round->sleep_ms * 1000);
}

static void
on_state (InstdiscRun *run, Round *round)
{
  if (instdisc_run_get_state (run) == INSTDISC_RUN_STOPPED)
    g_main_loop_quit (round->loop);
}

/* steps/s of the trainer thread (*thread_rate) and from start to STOPPED
 * (*wall_rate) */
static void
run_round (const char *workdir, const char *data, int index, int steps,
           int batch_size, guint sleep_ms, double *thread_rate,
           double *wall_rate, guint *signals, guint *rows)
{
  g_autofree char *name = g_strdup_printf ("run-%d", index);
  g_autofree char *dir = g_build_filename (workdir, name, NULL);
  TrainerConfig config;
  trainer_config_init_default (&config);
  config.batch_size = batch_size;
  config.n_lr_drops = 0;
  g_autoptr (GError) error = NULL;
  g_autoptr (InstdiscRun) run = instdisc_run_new_training (dir, data, &config,
                                                           &error);
  if (!run)
    g_error ("%s", error->message);
  /* inside the first epoch: steps only, no evaluation */
  instdisc_run_set_steps_limit (run, steps);
  Round round = { .loop = g_main_loop_new (NULL, FALSE), .sleep_ms = sleep_ms };
  g_signal_connect (run, "metrics-added", G_CALLBACK (on_metrics), &round);
  g_signal_connect (run, "state-changed", G_CALLBACK (on_state), &round);
  gint64 start = g_get_monotonic_time ();
  instdisc_run_start (run);
  g_main_loop_run (round.loop);
  double seconds = (g_get_monotonic_time () - start) / 1e6;
  if (instdisc_run_get_error (run))
    g_error ("%s", instdisc_run_get_error (run)->message);
  GArray *metrics = instdisc_run_get_metrics (run);
  const MetricsRow *last = &g_array_index (metrics, MetricsRow, metrics->len - 1);
  *thread_rate = last->images_per_s / batch_size;
  *wall_rate = instdisc_run_get_iteration (run) / seconds;
  *signals = round.signals;
  *rows = round.rows;
  g_signal_handlers_disconnect_by_data (run, &round);
  g_main_loop_unref (round.loop);
}

int
main (int argc, char **argv)
{
  int rounds = 4, steps = 20, sleep_ms = 50, batch_size = 16;
  GOptionEntry entries[] = {
    { "rounds", 0, 0, G_OPTION_ARG_INT, &rounds,
      "Rounds of each kind, alternating (4)", "N" },
    { "steps", 0, 0, G_OPTION_ARG_INT, &steps, "Steps per round (20)", "N" },
    { "sleep-ms", 0, 0, G_OPTION_ARG_INT, &sleep_ms,
      "The slow handler's sleep per emission (50)", "MS" },
    { "batch-size", 0, 0, G_OPTION_ARG_INT, &batch_size,
      "Images per step (16)", "N" },
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
  /* steps stay inside the first epoch, so no evaluation runs */
  if (rounds < 1 || batch_size < 1 || steps < 1
      || steps >= N_IMAGES / batch_size)
    {
      fprintf (stderr, "need rounds >= 1 and 1 <= steps < %d / batch size\n",
               N_IMAGES);
      return 1;
    }

  g_autofree char *workdir = g_dir_make_tmp ("bench-gui-XXXXXX", &error);
  if (!workdir)
    g_error ("%s", error->message);
  g_autofree char *data = write_idx (workdir);
  printf ("%d images %dx%d, batch %d, %d steps per round, %d rounds each, "
          "slow handler %d ms per emission\n", N_IMAGES, SIDE, SIDE,
          batch_size, steps, rounds, sleep_ms);
  bench_print_loadavg ("before");

  double thread_rate, wall_rate;
  guint signals, rows;
  /* warm-up: first-touch of the engine's buffers and the page cache */
  run_round (workdir, data, 0, MIN (steps, 5), batch_size, 0, &thread_rate,
             &wall_rate, &signals, &rows);

  g_autofree double *free_thread = g_new (double, rounds);
  g_autofree double *free_wall = g_new (double, rounds);
  g_autofree double *slow_thread = g_new (double, rounds);
  g_autofree double *slow_wall = g_new (double, rounds);
  guint slow_signals = 0, slow_rows = 0, free_signals = 0, free_rows = 0;
  for (int r = 0; r < rounds; r++)
    {
      /* alternate which kind goes first, so neither always follows the
       * other's checkpoint write */
      for (int k = 0; k < 2; k++)
        {
          gboolean slow = (r + k) % 2 == 1;
          run_round (workdir, data, 1 + 2 * r + k, steps, batch_size,
                     slow ? sleep_ms : 0, &thread_rate, &wall_rate, &signals,
                     &rows);
          printf ("round %d %-5s thread %6.2f steps/s  wall %6.2f steps/s  "
                  "%u rows in %u signals\n", r + 1, slow ? "slow" : "free",
                  thread_rate, wall_rate, rows, signals);
          fflush (stdout);
          if (slow)
            {
              slow_thread[r] = thread_rate;
              slow_wall[r] = wall_rate;
              slow_signals += signals;
              slow_rows += rows;
            }
          else
            {
              free_thread[r] = thread_rate;
              free_wall[r] = wall_rate;
              free_signals += signals;
              free_rows += rows;
            }
        }
    }
  bench_print_loadavg ("after");
  double ft = bench_median (free_thread, rounds),
         st = bench_median (slow_thread, rounds);
  double fw = bench_median (free_wall, rounds),
         sw = bench_median (slow_wall, rounds);
  printf ("median thread rate: free %.2f, slow %.2f steps/s, slow/free %.3f\n",
          ft, st, st / ft);
  printf ("median wall rate:   free %.2f, slow %.2f steps/s, slow/free %.3f\n",
          fw, sw, sw / fw);
  printf ("rows per signal: free %.2f, slow %.2f\n",
          free_signals ? (double) free_rows / free_signals : 0.0,
          slow_signals ? (double) slow_rows / slow_signals : 0.0);
  return 0;
}
