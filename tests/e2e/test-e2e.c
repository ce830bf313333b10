/* test-e2e.c: the method learns. A few hundred steps of the small ResNet on
 * a Fashion-MNIST subset must raise the weighted-kNN top-1 (K 200, sigma =
 * tau, test images against training images both embedded with the test
 * transform) above that of the same network untrained (same seed, no
 * steps). Recomputed features, not the memory bank: an untrained bank is
 * random vectors, so beating it would show nothing.
 *
 * The bank starts as the reference's noise here, not from the untrained
 * network's features (the default): on so small a subset, in so few
 * steps, a bank of features holds the network near its untrained start,
 * while the noise pushes it through the collapse described below and out
 * the other side.
 *
 * The settings are the reference's recipe (lr 0.03 without warm-up,
 * jitter 0.4, tau 0.1) at batch 64, and 300 steps. Measured on 2026-12-07
 * (optimised build, two engine threads, the AMD Zen 5 machine), once with
 * each of OpenBLAS's kernel sets, whose sums run in different orders and
 * so take the training on different paths: untrained 47.9%; after 300
 * steps 54.0% (SkylakeX), 55.4% (Cooperlake, OpenBLAS's own choice there),
 * 57.7% (Prescott, the Xeon's) and 61.2% (Haswell); after 250 steps 51.3%
 * to 58.0%. The default's lr 0.06 with its warm-up, which this test had
 * run (with jitter 0.4 and tau 0.1) and passed with on the Xeon, ended
 * 250 steps at 35.2% (Haswell), 35.5% (SkylakeX), 47.6% (Cooperlake) and
 * 53.8% (Prescott): below the untrained network on three of the four;
 * 400 steps did not save it (36.8% with Haswell). The default's tau 0.07
 * and jitter 0.8 had left it below too (46.7% and 42.8%, on the Xeon).
 * The recomputed top-1 wanders by a few points from one checkpoint to the
 * next (every 50 steps at lr 0.03, on the Xeon: 38.8, 44.0, 47.2, 48.8,
 * 57.7, 56.4, 51.1 and 61.2 at step 400), so the test stops where every
 * kernel set is well ahead. Alone on the quiet machine the 300 steps
 * took 20.6 s (Cooperlake) and 25.7 s (Haswell).
 *
 * Cheaper settings failed to beat the untrained network (measured with
 * one engine thread; recomputed top-1, trained against untrained 48.0%):
 * 150 steps of 64 with lr 0.1, 31.9%; with bank momentum 0, 40.1%; with
 * the bank from features, 49.1% (lr 0.01: 48.7%); 200 steps of 64 from
 * features, 48.8%; 150 steps of 128, 39.4%; 120 steps of 128 from
 * features, 37.1%; 150 steps of 64 on 1000 images, 27.6% and 30.4%
 * against 30.9%. Early instance discrimination first packs the features
 * into a narrow cone (mean cosine 0.5-0.8 between images) before it
 * spreads them, and a few hundred SGD steps are what it takes to get out
 * of it.
 *
 * Needs Debian's dataset-fashion-mnist; skipped without it. */
#define G_LOG_DOMAIN "instdisc"

#include <glib.h>
#include <string.h>

#include "dataset.h"
#include "knn.h"
#include "threads.h"
#include "trainer.h"

#define N_TRAIN 2000
#define N_TEST 1000
#define STEPS 300
#define BATCH 64

/* the first n images of full, as a data set of its own */
static Dataset *
subset (const Dataset *full, int n)
{
  g_assert_cmpint (full->n, >=, n);
  g_assert_nonnull (full->pixels);
  const gsize image_bytes = (gsize) full->channels * full->height * full->width;
  g_autofree char *name = g_strdup_printf ("%s[:%d]", full->name, n);
  Dataset *d = dataset_new_in_memory (name, n, full->channels, full->height,
                                      full->width);
  d->kind = full->kind;   /* keeps the published normalisation statistics */
  memcpy (d->pixels, full->pixels, image_bytes * n);
  memcpy (d->labels, full->labels, sizeof (gint32) * n);
  d->n_classes = full->n_classes;
  d->class_names = g_strdupv (full->class_names);
  d->resize = full->resize;
  return d;
}

typedef struct
{
  double bank, recomputed;   /* top-1, percent */
} Top1;

static Top1
measure (Trainer *trainer, const Dataset *train, const Dataset *test)
{
  const int D = trainer_get_config (trainer)->low_dim;
  const float sigma = trainer_get_config (trainer)->tau;
  g_autofree float *test_features = g_new (float, (gsize) test->n * D);
  g_autofree float *train_features = g_new (float, (gsize) train->n * D);
  g_autoptr (GError) error = NULL;
  trainer_embed (trainer, test, test_features, &error);
  g_assert_no_error (error);
  trainer_embed (trainer, train, train_features, &error);
  g_assert_no_error (error);
  KnnAccuracy bank, recomputed;
  knn_classify (NULL, &bank, test_features, test->labels, test->n,
                trainer_get_bank (trainer)->vectors, train->labels, train->n,
                D, train->n_classes, KNN_DEFAULT_K, sigma);
  knn_classify (NULL, &recomputed, test_features, test->labels, test->n,
                train_features, train->labels, train->n, D, train->n_classes,
                KNN_DEFAULT_K, sigma);
  return (Top1) { 100.0 * bank.top1, 100.0 * recomputed.top1 };
}

static void
test_training_beats_untrained (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (Dataset) full_train = dataset_open ("fashion-mnist", "train",
                                                 NULL, &error);
  if (!full_train)
    {
      g_test_skip (error->message);
      return;
    }
  g_autoptr (Dataset) full_test = dataset_open ("fashion-mnist", "test", NULL,
                                                &error);
  g_assert_no_error (error);
  g_autoptr (Dataset) train = subset (full_train, N_TRAIN);
  g_autoptr (Dataset) test = subset (full_test, N_TEST);
  g_clear_pointer (&full_train, dataset_unref);
  g_clear_pointer (&full_test, dataset_unref);

  /* the reference's recipe (random bank, lr 0.03 without warm-up,
   * jitter 0.4, tau 0.1) at the default's batch; the default's own
   * settings leave these 250 steps below the untrained network on some
   * kernels (see the top of this file) */
  TrainerConfig config;
  trainer_config_init_reference (&config);
  config.batch_size = BATCH;
  /* enough epochs that no step of the schedule drops within STEPS */
  config.epochs = 100;

  g_autoptr (Trainer) untrained = trainer_new (&config, train, &error);
  g_assert_no_error (error);
  Top1 before = measure (untrained, train, test);

  g_autoptr (Trainer) trainer = trainer_new (&config, train, &error);
  g_assert_no_error (error);
  gint64 start = g_get_monotonic_time ();
  TrainerStepInfo info = { 0 }, first = { 0 };
  for (int s = 0; s < STEPS; s++)
    {
      gboolean ok = trainer_step (trainer, &info, &error);
      g_assert_no_error (error);
      g_assert_true (ok);
      if (s == 0)
        first = info;
    }
  double seconds = (g_get_monotonic_time () - start) / 1e6;
  Top1 after = measure (trainer, train, test);

  g_test_message ("%d steps of %d in %.1f s (%.0f images/s); loss %.3f -> "
                  "%.3f", STEPS, BATCH, seconds, STEPS * BATCH / seconds,
                  first.loss, info.loss);
  g_test_message ("kNN top-1, recomputed features: untrained %.1f%%, trained "
                  "%.1f%%; memory bank: untrained %.1f%%, trained %.1f%%",
                  before.recomputed, after.recomputed, before.bank,
                  after.bank);
  g_assert_cmpfloat (after.recomputed, >, before.recomputed);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* every core, as `instdisc train` uses by default: without this call
   * the engine runs its kernels on one thread (and the test took 80 s) */
  engine_set_threads (0);
  g_test_add_func ("/e2e/training-beats-untrained",
                   test_training_beats_untrained);
  return g_test_run ();
}
