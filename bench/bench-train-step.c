/* bench-train-step.c: how fast the trainer runs whole training steps.
 *
 * bench-engine times the network alone on random tensors; this times what a
 * training run actually does per step, through trainer_step on the real
 * Fashion-MNIST train set (60,000 images, 28x28x1): batch preparation
 * (shuffled order, decoding, augmentation, normalisation), forward, the
 * objective (exact softmax over all N, or NCE with K noise rows), backward,
 * SGD and the memory-bank update. Whatever the trainer does to prepare a
 * batch (inline today, a prefetching loader later) is inside the time.
 *
 * A few warm-up steps (first-touch of buffers, the thread pool waking up,
 * NCE fixing Z), then N timed steps. Reports the median images/s of the
 * per-step times and the overall images/s (total images / total time, which
 * includes any slow outliers), peak resident memory (getrusage) and the
 * memory bank's size N x D x 4 bytes.
 *
 * With --profile, a further set of steps runs with the engine's kernel
 * timers on, splitting the step into the network's kernels and the rest
 * (batch preparation, objective, SGD, bank update, glue); and the parts
 * outside the network are timed alone on the trainer's own bank and
 * network: the objective, the SGD step, the bank update, and the full
 * Fashion-MNIST augmentation (augment_train) of one batch on one thread,
 * which is what the prefetching loader's workers will have to keep up with.
 *
 *   bench-train-step [--model NAME] [--objective NAME]
 *                    [--nce-k K] [--steps N] [--warmup N] [--threads N]
 *                    [--batch B] [--profile] [--json]
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "augment.h"
#include "dataset.h"
#include "rng.h"
#include "sgd.h"
#include "threads.h"
#include "trainer.h"
#include "bench-util.h"

typedef struct
{
  const char *model, *objective;
  int nce_k;
  int steps, warmup, threads, batch;
  bool profile, json;
} Options;

static void
usage (void)
{
  g_autofree char *models = model_registry_names ();
  g_autofree char *objectives = objective_registry_names ();
  fprintf (stderr,
           "usage: bench-train-step [--model NAME] [--objective NAME]\n"
           "                        [--nce-k K]\n"
           "                        [--steps N] [--warmup N] [--threads N]\n"
           "                        [--batch B] [--profile] [--json]\n"
           "  models: %s; objectives: %s\n"
           "  trains on Debian's Fashion-MNIST train set (60,000 images)\n",
           models, objectives);
  exit (2);
}

/* Median seconds of the parts of a step outside the network. */
typedef struct
{
  double objective, sgd, bank_update, augment;
} Parts;

/* Times each part `reps` times on the trainer's own state, with random unit
 * features standing in for the network's output. Leaves the network as it
 * was (the SGD step runs with lr 0); the bank update does move the bank's
 * rows, which is harmless after the timed steps. */
static void
time_parts (Trainer *trainer, const Dataset *data, int reps, Parts *parts)
{
  const TrainerConfig *c = trainer_get_config (trainer);
  const int B = c->batch_size, D = c->low_dim;
  MemoryBank *bank = trainer_get_bank (trainer);
  ResNet *net = trainer_get_network (trainer);
  Rng rng;
  rng_seed (&rng, 7);
  g_autofree float *features = g_new (float, (gsize) B * D);
  g_autofree float *d_features = g_new (float, (gsize) B * D);
  g_autofree int *indices = g_new (int, B);
  g_autofree double *times = g_new (double, reps);
  for (int b = 0; b < B; b++)
    {
      float *row = features + (gsize) b * D;
      double sum_sq = 0.0;
      for (int d = 0; d < D; d++)
        {
          row[d] = rng_normal (&rng);
          sum_sq += (double) row[d] * row[d];
        }
      for (int d = 0; d < D; d++)
        row[d] /= (float) sqrt (sum_sq);
      indices[b] = (int) rng_below (&rng, data->n);
    }

  /* a fresh objective of the same shape: the trainer's is private */
  g_autoptr (Objective) objective = objective_new (c->objective, c, B,
                                                   data->n);
  if (!objective)
    {
      fprintf (stderr, "bench-train-step: out of memory\n");
      exit (1);
    }
  double metrics[OBJECTIVE_MAX_METRICS];
  for (int i = 0; i < reps; i++)
    {
      double t = engine_now ();
      objective_forward_backward (objective, d_features, features, indices, B,
                                  bank, &rng, metrics);
      times[i] = engine_now () - t;
    }
  parts->objective = bench_median (times, reps);

  Sgd sgd;
  if (!sgd_init (&sgd, net->n_params, 0.0f, c->momentum, c->weight_decay))
    {
      fprintf (stderr, "bench-train-step: out of memory\n");
      exit (1);
    }
  for (int i = 0; i < reps; i++)
    {
      double t = engine_now ();
      sgd_step (&sgd, net->params, net->grads);
      times[i] = engine_now () - t;
    }
  parts->sgd = bench_median (times, reps);
  sgd_clear (&sgd);

  for (int i = 0; i < reps; i++)
    {
      double t = engine_now ();
      memory_bank_update (bank, indices, features, B);
      times[i] = engine_now () - t;
    }
  parts->bank_update = bench_median (times, reps);

  AugmentOptions aug;
  augment_options_init_for_dataset (&aug, data);
  const gsize image_bytes = (gsize) data->channels * data->height
                            * data->width;
  g_autofree guint8 *pixels = g_malloc (image_bytes);
  g_autofree float *out = g_new (float, (gsize) data->channels * aug.size
                                          * aug.size);
  for (int i = 0; i < reps; i++)
    {
      double t = engine_now ();
      for (int b = 0; b < B; b++)
        {
          int image = (int) rng_below (&rng, data->n);
          if (!dataset_get_image (data, image, pixels, NULL))
            exit (1);
          augment_train (&aug, pixels, data->channels, data->height,
                         data->width, c->seed, i, b, out);
        }
      times[i] = engine_now () - t;
    }
  parts->augment = bench_median (times, reps);
}

static void
step_or_die (Trainer *trainer)
{
  TrainerStepInfo info;
  g_autoptr (GError) error = NULL;
  if (!trainer_step (trainer, &info, &error))
    {
      fprintf (stderr, "bench-train-step: %s\n", error->message);
      exit (1);
    }
}

int
main (int argc, char **argv)
{
  /* the kernels the programs run (blas-kernels.h); may run this again */
  bench_choose_kernels (argv, NULL);
  Options opt = { .model = "small", .objective = "softmax", .nce_k = 4096,
                  .steps = 20, .warmup = 3, .threads = 0, .batch = 128 };
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      const char *next = i + 1 < argc ? argv[i + 1] : NULL;
      if (strcmp (a, "--model") == 0 && next)
        opt.model = argv[++i];
      else if (strcmp (a, "--objective") == 0 && next)
        opt.objective = argv[++i];
      else if (strcmp (a, "--nce-k") == 0 && next)
        opt.nce_k = atoi (argv[++i]);
      else if (strcmp (a, "--steps") == 0 && next)
        opt.steps = atoi (argv[++i]);
      else if (strcmp (a, "--warmup") == 0 && next)
        opt.warmup = atoi (argv[++i]);
      else if (strcmp (a, "--threads") == 0 && next)
        opt.threads = atoi (argv[++i]);
      else if (strcmp (a, "--batch") == 0 && next)
        opt.batch = atoi (argv[++i]);
      else if (strcmp (a, "--profile") == 0)
        opt.profile = true;
      else if (strcmp (a, "--json") == 0)
        opt.json = true;
      else
        usage ();
    }

  TrainerConfig config;
  trainer_config_init_default (&config);
  /* the registries' names, as instdisc train --model and --objective */
  if (!(config.model = model_registry_lookup (opt.model))
      || !(config.objective = objective_registry_lookup (opt.objective)))
    usage ();
  if (opt.steps < 1 || opt.warmup < 0 || opt.batch < 1 || opt.nce_k < 1)
    usage ();
  config.nce_k = opt.nce_k;
  config.batch_size = opt.batch;
  /* the default recipe's tau 0.1, m 0.5, SGD 0.03 / 0.9 / 5e-4 stand; only
   * the shape of the work matters for speed */

  int threads = engine_set_threads (opt.threads);

  g_autoptr (GError) error = NULL;
  g_autoptr (Dataset) data = dataset_open ("fashion-mnist", "train", NULL,
                                           &error);
  if (!data)
    {
      fprintf (stderr, "bench-train-step: %s\n", error->message);
      return 1;
    }
  /* what the data set alone costs, so the trainer's share can be told */
  double data_rss_mib = bench_peak_memory_mib ();

  g_autoptr (Trainer) trainer = trainer_new (&config, data, &error);
  if (!trainer)
    {
      fprintf (stderr, "bench-train-step: %s\n", error->message);
      return 1;
    }
  const int N = data->n, D = config.low_dim, B = config.batch_size;
  const double bank_mib = (double) N * D * sizeof (float) / (1024.0 * 1024.0);

  for (int i = 0; i < opt.warmup; i++)
    step_or_die (trainer);

  g_autofree double *times = g_new (double, opt.steps);
  double start = engine_now ();
  for (int i = 0; i < opt.steps; i++)
    {
      double t = engine_now ();
      step_or_die (trainer);
      times[i] = engine_now () - t;
    }
  double total = engine_now () - start;
  double step_min = times[0], step_max = times[0];
  for (int i = 1; i < opt.steps; i++)
    {
      step_min = fmin (step_min, times[i]);
      step_max = fmax (step_max, times[i]);
    }
  double step_median = bench_median (times, opt.steps);
  double median_images_per_s = B / step_median;
  double overall_images_per_s = (double) B * opt.steps / total;

  /* the breakdown, in separate steps so the timers cannot slow the above */
  double kernels[ENGINE_N_TIMERS] = { 0 };
  double profiled_step = 0.0;
  Parts parts = { 0 };
  if (opt.profile)
    {
      engine_profile_enable (true);
      engine_profile_reset ();
      double t = engine_now ();
      for (int i = 0; i < opt.steps; i++)
        step_or_die (trainer);
      profiled_step = (engine_now () - t) / opt.steps;
      engine_profile_read (kernels);
      engine_profile_enable (false);
      for (int k = 0; k < ENGINE_N_TIMERS; k++)
        kernels[k] /= opt.steps;
      time_parts (trainer, data, opt.steps, &parts);
    }
  double peak_mib = bench_peak_memory_mib ();

  if (opt.json)
    {
      printf ("{\"model\": \"%s\", \"objective\": \"%s\", \"nce_k\": %d, "
              "\"n\": %d, \"dim\": %d, \"batch\": %d, \"threads\": %d, "
              "\"warmup\": %d, \"steps\": %d, \"step_ms_median\": %.3f, "
              "\"step_ms_min\": %.3f, \"step_ms_max\": %.3f, "
              "\"images_per_s_median\": %.2f, "
              "\"images_per_s_overall\": %.2f, \"peak_rss_mib\": %.1f, "
              "\"data_rss_mib\": %.1f, \"bank_mib\": %.2f",
              opt.model, opt.objective,
              objective_class_uses_setting (config.objective, "nce_k")
                  ? config.nce_k : 0, N, D, B,
              threads, opt.warmup, opt.steps, 1e3 * step_median,
              1e3 * step_min, 1e3 * step_max, median_images_per_s,
              overall_images_per_s, peak_mib, data_rss_mib, bank_mib);
      if (opt.profile)
        {
          printf (", \"profile_ms\": {\"step\": %.3f", 1e3 * profiled_step);
          for (int k = 0; k < ENGINE_N_TIMERS; k++)
            printf (", \"%s\": %.3f", engine_timer_name (k),
                    1e3 * kernels[k]);
          printf (", \"objective\": %.3f, \"sgd\": %.3f, "
                  "\"bank_update\": %.3f, \"augment_batch_1_thread\": %.3f}",
                  1e3 * parts.objective, 1e3 * parts.sgd,
                  1e3 * parts.bank_update, 1e3 * parts.augment);
        }
      printf ("}\n");
      return 0;
    }

  printf ("training step: %s, %s", opt.model, opt.objective);
  if (objective_class_uses_setting (config.objective, "nce_k"))
    printf (" K %d", config.nce_k);
  printf (", batch %d, %d thread(s), %s (N %d, D %d)\n", B, threads,
          data->name, N, D);
  printf ("  %d steps after %d warm-up: median %.1f ms/step (min %.1f, "
          "max %.1f)\n", opt.steps, opt.warmup, 1e3 * step_median,
          1e3 * step_min, 1e3 * step_max);
  printf ("  images/s: %.1f (median step), %.1f (overall)\n",
          median_images_per_s, overall_images_per_s);
  printf ("  peak resident memory %.0f MiB (%.0f MiB with the data set "
          "alone); memory bank %.1f MiB\n", peak_mib, data_rss_mib, bank_mib);
  if (opt.profile)
    {
      double rest = profiled_step;
      printf ("  step with timers on: %.1f ms\n", 1e3 * profiled_step);
      for (int k = 0; k < ENGINE_N_TIMERS; k++)
        {
          printf ("    %-16s %8.1f ms %5.1f%%\n", engine_timer_name (k),
                  1e3 * kernels[k], 100.0 * kernels[k] / profiled_step);
          rest -= kernels[k];
        }
      /* everything outside the network's kernels */
      printf ("    %-16s %8.1f ms %5.1f%%\n", "rest", 1e3 * rest,
              100.0 * rest / profiled_step);
      printf ("  the rest's parts, timed alone (median of %d):\n", opt.steps);
      printf ("    %-16s %8.1f ms\n", "objective", 1e3 * parts.objective);
      printf ("    %-16s %8.1f ms\n", "sgd", 1e3 * parts.sgd);
      printf ("    %-16s %8.1f ms\n", "bank update", 1e3 * parts.bank_update);
      printf ("  full augmentation of one batch on one thread (not yet in "
              "the step): %.1f ms\n", 1e3 * parts.augment);
    }
  return 0;
}
