/* training-estimate.c: how long a training will take, from the speeds
 * measured on the project's machine (docs/design.md, "This machine": two
 * cores of an Intel Xeon with AVX-512), with nothing else running, of the
 * code `instdisc train` and the explorer run, with the OpenBLAS kernels
 * they choose (docs/performance.md, "OpenBLAS's kernels", 2026-12-06):
 *
 *   the whole training step, batch 128 on Fashion-MNIST, exact softmax
 *   (`bench-train-step`, three rounds): small ResNet 742-760 images/s,
 *   ResNet-18 110-120;
 *   the exact softmax over 60,000 rows with the bank's update, 18.2-19.3 ms
 *   a batch of 128, and NCE with K 4096 16.1-17.2 ms (`bench-objective`);
 *   embedding (inference, batch 256; `bench-engine`): small ResNet
 *   2716-2948 images/s, ResNet-18 386-419;
 *   the weighted kNN of 10,000 test images against 60,000 bank rows of
 *   128 numbers: 1.11-1.21 s (`bench-knn`).
 *
 * The figures below are those ranges' middles. A busy machine is several
 * times slower (docs/performance-gui.md, "How long a training takes"),
 * which is why the dialog calls this an estimate. */
#define G_LOG_DOMAIN "instdisc-method"

#include "training-estimate.h"

#include <glib/gi18n-lib.h>
#include <math.h>

#include "blas-kernels.h"

/* the images the speeds were measured on: Fashion-MNIST's 28 x 28 */
#define MEASURED_SIDE 28.0

typedef struct
{
  const char *model;   /* the model registry's name */
  /* seconds per training image for the network alone: forward, backward
   * and the SGD step (the whole step's less the exact softmax's) */
  double train_s;
  /* seconds per image embedded with the test transform (the bank's pass,
   * the evaluations) */
  double embed_s;
} ModelCost;

static const ModelCost costs[] = {
  /* 1 / 1050 - 0.0187 / 128: tools/main-job's step rate on the quiet
   * machine (2026-12-07, 1054 images/s with the exact softmax over
   * 60,000 rows); embedding 4300 images/s, from the time `instdisc eval
   * --recompute` takes beyond `instdisc eval` (60,000 more images and a
   * kNN; docs/performance.md, "after the small sgemm blocks") */
  { "small", 8.05e-4, 1.0 / 4300.0 },
  /* 1 / 116.6 - 0.0187 / 128 */
  { "resnet18", 8.43e-3, 1.0 / 400.0 },
  /* the engine alone at 224 x 224 x 3, batch 64, on the quiet machine
   * (docs/performance.md, "Quiet machine, the programs' kernels": 25.7
   * images/s to train and 69.1 to embed; ResNet-50 8.8 and 26.2), scaled
   * to 28 x 28 by pixels (/ 64). Decoding photographs is not in it: a
   * 1920 x 1080 JPEG costs a loader thread about 24 ms, which at these
   * rates takes a few tenths of a core from the training (docs/data.md).
   * The stride-2 stem and max pool make them cheaper than the CIFAR
   * ResNet-18 at the same size. */
  { "resnet18-imagenet", 1.0 / 25.7 / 64, 1.0 / 69.1 / 64 },
  { "resnet50-imagenet", 1.0 / 8.8 / 64, 1.0 / 26.2 / 64 },
};

/* the objectives per training image: the exact softmax in proportion to
 * the bank's rows (0.0187 s / 128 images at 60,000), NCE to its K (0.0167
 * s / 128 at 4096) */
#define SOFTMAX_S_PER_ROW (0.0187 / 128.0 / 60000.0)
#define NCE_S_PER_SAMPLE (0.0167 / 128.0 / 4096.0)
/* the kNN search per multiply-add (queries x bank rows x dimensions):
 * 1.16 s / (10,000 x 60,000 x 128) */
#define KNN_S_PER_MAC (1.16 / (10000.0 * 60000.0 * 128.0))

static const ModelCost *
model_cost (const ModelClass *model)
{
  for (gsize i = 0; i < G_N_ELEMENTS (costs); i++)
    if (g_str_equal (costs[i].model, model->name))
      return &costs[i];
  /* a network nobody has measured: the slowest known, rather than a
   * promise too short */
  const ModelCost *slowest = &costs[0];
  for (gsize i = 1; i < G_N_ELEMENTS (costs); i++)
    if (costs[i].train_s > slowest->train_s)
      slowest = &costs[i];
  return slowest;
}

/* the convolutions cost in proportion to the pixels */
static double
pixels_scale (int side)
{
  return ((double) side * side) / (MEASURED_SIDE * MEASURED_SIDE);
}

static double
knn_seconds (const TrainerConfig *config, int n_train, int n_test)
{
  return (double) n_test * n_train * config->low_dim * KNN_S_PER_MAC;
}

double
training_estimate_step_seconds (const TrainerConfig *config, int n_train,
                                int side)
{
  const ModelCost *cost = model_cost (config->model);
  double objective_s = objective_class_uses_setting (config->objective, "nce_k")
                           ? NCE_S_PER_SAMPLE * config->nce_k
                           : SOFTMAX_S_PER_ROW * n_train;
  return config->batch_size * (cost->train_s * pixels_scale (side)
                               + objective_s);
}

double
training_estimate_evaluation_seconds (const TrainerConfig *config,
                                      int n_train, int n_test, int side,
                                      gboolean recompute)
{
  double embed_s = model_cost (config->model)->embed_s * pixels_scale (side);
  double seconds = n_test * embed_s + knn_seconds (config, n_train, n_test);
  /* the training images' features again, and their own kNN */
  if (recompute)
    seconds += n_train * embed_s + knn_seconds (config, n_train, n_test);
  return seconds;
}

double
training_estimate_run_seconds (const TrainerConfig *config, int n_train,
                               int n_test, int side, gint64 steps_done,
                               gint64 steps_total, gboolean recompute)
{
  double embed_s = model_cost (config->model)->embed_s * pixels_scale (side);
  int steps_per_epoch = trainer_config_steps_per_epoch (config, n_train);
  gint64 steps_left = MAX (steps_total - steps_done, 0);
  double seconds = (double) steps_left
                   * training_estimate_step_seconds (config, n_train, side);
  /* each epoch still to end is evaluated after it */
  if (n_test > 0 && steps_per_epoch > 0)
    {
      gint64 evaluations = steps_total / steps_per_epoch
                           - steps_done / steps_per_epoch;
      seconds += (double) MAX (evaluations, 0)
                 * training_estimate_evaluation_seconds (config, n_train,
                                                         n_test, side,
                                                         recompute);
    }
  if (steps_done == 0)
    {
      if (config->bank_init == BANK_INIT_FEATURES)
        seconds += n_train * embed_s;
      /* the untrained network's kNN (an evaluation of the bank it was
       * filled with), and raw pixels' over every pixel */
      if (n_test > 0)
        seconds += training_estimate_evaluation_seconds (config, n_train,
                                                         n_test, side, FALSE)
                   + (double) n_test * n_train * side * side * KNN_S_PER_MAC;
    }
  return seconds;
}

double
training_estimate_seconds (const TrainerConfig *config, int n_train,
                           int n_test, int side, gint64 steps_done)
{
  gint64 total = (gint64) config->epochs
                 * trainer_config_steps_per_epoch (config, n_train);
  return training_estimate_run_seconds (config, n_train, n_test, side,
                                        steps_done, total, FALSE);
}

char *
training_estimate_describe (double seconds)
{
  double minutes = seconds / 60.0;
  if (minutes < 1.0)
    return g_strdup (_("less than a minute"));
  if (minutes < 90.0)
    {
      /* to the minute below 10, then to 5 minutes */
      int m = minutes < 10.0 ? (int) ceil (minutes)
                             : (int) (5.0 * round (minutes / 5.0));
      return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                           "about %d minute",
                                           "about %d minutes", m), m);
    }
  double hours = minutes / 60.0;
  if (hours < 48.0)
    {
      int h = (int) round (hours);
      return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "about %d hour",
                                           "about %d hours", h), h);
    }
  int d = (int) round (hours / 24.0);
  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "about %d day",
                                       "about %d days", d), d);
}

char *
training_estimate_kernels_note (void)
{
  const char *value = g_getenv ("OPENBLAS_CORETYPE");
  const char *instead = blas_kernels_held_back (value,
                                                blas_kernels_preferred ());
  if (!instead)
    return NULL;
  /* the vectors, not a core's name: without the variable OpenBLAS may
   * choose another core with the same vectors (Cooperlake on a Zen 5) */
  const char *vectors = blas_kernels_vectors (instead);
  /* Translators: the first %s is the variable's value, the second
   * "AVX-512" or "AVX2" */
  return g_strdup_printf (_("OPENBLAS_CORETYPE=%s keeps OpenBLAS on "
                            "narrower vectors than this processor has, so "
                            "training takes longer than estimated; without "
                            "the variable, OpenBLAS runs its %s kernels"),
                          value, vectors);
}
