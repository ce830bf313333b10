/* test-training-loop.c: the training loop's stop and resume semantics
 * (training-loop.h), on a small generated data set:
 *   /method/loop/stop-in-bank-pass   a stop while the bank is filled ends
 *                                    the run with nothing saved; --resume
 *                                    then starts it over, and the epoch 0
 *                                    rows are written once
 *   /method/loop/stop-in-evaluation  a stop during an epoch's evaluation
 *                                    keeps the epoch's checkpoint; the
 *                                    resumed run writes the missing
 *                                    evaluation before its first step
 *   /method/loop/saves-start         the state before the first step is
 *                                    saved: a run stopped at its first step
 *                                    resumes from iteration 0 with the
 *                                    filled bank, not from nothing
 *   /method/loop/unscorable-test     a test split without labels, or with a
 *                                    class training lacks: no evaluations,
 *                                    no abort
 *   /method/loop/pass-progress       the long passes report how far they
 *                                    are; the bank is ready after its pass */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#include "objective.h"
#include "run-dir.h"
#include "test-data.h"
#include "testutil.h"
#include "trainer-run.h"
#include "training-loop.h"

#define N_IMAGES 48
#define BATCH 8     /* 6 steps an epoch */

static TrainerConfig
loop_config (void)
{
  TrainerConfig c;
  trainer_config_init_default (&c);   /* the bank from features */
  c.batch_size = BATCH;
  c.epochs = 2;
  c.low_dim = 16;
  c.seed = 3;
  return c;
}

/* Stops the loop once it enters `stop_at` (or at step `stop_at_step`). */
typedef struct
{
  int stop_at;           /* a TrainingPhase, or -1 */
  gint64 stop_at_step;   /* 0: never */
  gboolean stop;
} Stopper;

static void
stopper_phase (TrainingLoop *loop, TrainingPhase phase, gpointer data)
{
  Stopper *s = data;
  if ((int) phase == s->stop_at)
    s->stop = TRUE;
}

static void
stopper_row (TrainingLoop *loop, const MetricsRow *row,
             const TrainerStepInfo *info, const LinearEvalResult *linear,
             gpointer data)
{
  Stopper *s = data;
  if (info && s->stop_at_step > 0 && info->iteration >= s->stop_at_step)
    s->stop = TRUE;
}

static gboolean
stopper_should_stop (TrainingLoop *loop, gpointer data)
{
  return ((Stopper *) data)->stop;
}

static const TrainingLoopCallbacks stopper_callbacks = {
  .phase_changed = stopper_phase,
  .row_written = stopper_row,
  .should_stop = stopper_should_stop,
};

typedef struct
{
  char *dir;
  Dataset *train, *test;
  TrainerConfig config;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer unused)
{
  g_autoptr (GError) error = NULL;
  f->dir = g_dir_make_tmp ("instdisc-loop-XXXXXX", &error);
  g_assert_no_error (error);
  f->train = test_generated_dataset (N_IMAGES, 1);
  f->test = test_generated_dataset (16, 2);
  f->config = loop_config ();
}

static void
fixture_tear_down (Fixture *f, gconstpointer unused)
{
  test_remove_tree (f->dir);
  g_free (f->dir);
  dataset_unref (f->train);
  dataset_unref (f->test);
}

/* Runs the loop on a trainer resumed from the folder (or a new one),
 * stopping as stopper says; returns the trainer's iteration after it. */
static gint64
run_loop (Fixture *f, gboolean resume, Stopper *stopper, gboolean *stopped)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (Trainer) trainer = trainer_new (&f->config, f->train, &error);
  g_assert_no_error (error);
  TrainingLoopOptions options;
  training_loop_options_init (&options, f->dir);
  if (resume)
    {
      g_assert_true (trainer_run_resume (trainer, f->dir,
                                         &options.wall_offset, &error));
      g_assert_no_error (error);
    }
  g_autoptr (TrainingLoop) loop = training_loop_new (trainer, f->train,
                                                     f->test, &options,
                                                     &stopper_callbacks,
                                                     stopper);
  g_assert_true (training_loop_run (loop, &error));
  g_assert_no_error (error);
  *stopped = training_loop_was_stopped (loop);
  return trainer_get_iteration (trainer);
}

/* metrics.csv's rows of one kind and epoch */
static guint
count_rows (const char *dir, const char *kind, int epoch)
{
  g_autoptr (GArray) rows = run_dir_load_metrics (dir, NULL);
  guint n = 0;
  for (guint i = 0; rows && i < rows->len; i++)
    {
      const MetricsRow *row = &g_array_index (rows, MetricsRow, i);
      n += g_str_equal (row->kind, kind) && row->epoch == epoch;
    }
  return n;
}

static gboolean
has_checkpoint (const char *dir)
{
  g_autofree char *path = run_dir_file (dir, RUN_CHECKPOINT_FILE);
  return g_file_test (path, G_FILE_TEST_EXISTS);
}

static void
test_stop_in_bank_pass (Fixture *f, gconstpointer unused)
{
  Stopper stop = { .stop_at = TRAINING_PHASE_PREPARING };
  gboolean stopped = FALSE;
  g_assert_cmpint (run_loop (f, FALSE, &stop, &stopped), ==, 0);
  g_assert_true (stopped);
  g_assert_false (has_checkpoint (f->dir));
  g_assert_cmpuint (count_rows (f->dir, "eval", 0), ==, 0);

  /* --resume of that folder starts the run over and finishes it */
  Stopper none = { .stop_at = -1 };
  g_assert_cmpint (run_loop (f, TRUE, &none, &stopped), ==, 12);
  g_assert_false (stopped);
  g_assert_true (has_checkpoint (f->dir));
  g_assert_cmpuint (count_rows (f->dir, "eval", 0), ==, 1);
  g_assert_cmpuint (count_rows (f->dir, "pixels", 0), ==, 1);
  g_assert_cmpuint (count_rows (f->dir, "eval", 1), ==, 1);
  g_assert_cmpuint (count_rows (f->dir, "eval", 2), ==, 1);
}

static void
test_stop_in_evaluation (Fixture *f, gconstpointer unused)
{
  Stopper stop = { .stop_at = TRAINING_PHASE_EVALUATING };
  gboolean stopped = FALSE;
  g_assert_cmpint (run_loop (f, FALSE, &stop, &stopped), ==, 6);
  g_assert_true (stopped);
  g_assert_true (has_checkpoint (f->dir));
  g_assert_cmpuint (count_rows (f->dir, "eval", 1), ==, 0);

  Stopper none = { .stop_at = -1 };
  g_assert_cmpint (run_loop (f, TRUE, &none, &stopped), ==, 12);
  g_assert_cmpuint (count_rows (f->dir, "eval", 0), ==, 1);
  g_assert_cmpuint (count_rows (f->dir, "eval", 1), ==, 1);
  g_assert_cmpuint (count_rows (f->dir, "eval", 2), ==, 1);
  /* the recovered row comes before epoch 2's steps, at the epoch's end */
  g_autoptr (GArray) rows = run_dir_load_metrics (f->dir, NULL);
  for (guint i = 0; i < rows->len; i++)
    {
      const MetricsRow *row = &g_array_index (rows, MetricsRow, i);
      if (g_str_equal (row->kind, "eval") && row->epoch == 1)
        {
          g_assert_cmpint (row->iteration, ==, 6);
          const MetricsRow *next = &g_array_index (rows, MetricsRow, i + 1);
          g_assert_cmpstr (next->kind, ==, "step");
          g_assert_cmpint (next->iteration, ==, 7);
        }
    }
}

static void
test_saves_start (Fixture *f, gconstpointer unused)
{
  /* a run stopped right after its first step: its checkpoint is step 1's;
   * what matters here is the one written before it, so stop in the
   * reference points' pass instead, after the bank's */
  Stopper stop = { .stop_at = -1, .stop_at_step = 1 };
  gboolean stopped = FALSE;
  g_assert_cmpint (run_loop (f, FALSE, &stop, &stopped), ==, 1);
  g_assert_true (stopped);

  /* the start state alone: a loop that is stopped before its first step
   * but after the bank's pass and the reference points */
  test_remove_tree (f->dir);
  g_assert_cmpint (g_mkdir (f->dir, 0755), ==, 0);
  Stopper at_training = { .stop_at = TRAINING_PHASE_TRAINING };
  g_assert_cmpint (run_loop (f, FALSE, &at_training, &stopped), ==, 0);
  g_assert_true (stopped);
  g_assert_true (has_checkpoint (f->dir));

  /* resumed from iteration 0, the bank is the saved one, not filled again,
   * and the finished run equals one that never stopped */
  Stopper none = { .stop_at = -1 };
  g_assert_cmpint (run_loop (f, TRUE, &none, &stopped), ==, 12);
  g_autoptr (GError) error = NULL;
  g_autoptr (Trainer) resumed = trainer_new (&f->config, f->train, &error);
  g_autofree char *checkpoint = run_dir_file (f->dir, RUN_CHECKPOINT_FILE);
  g_assert_true (trainer_load_checkpoint (resumed, checkpoint, &error));

  g_autofree char *straight_dir = g_build_filename (f->dir, "straight", NULL);
  g_assert_cmpint (g_mkdir (straight_dir, 0755), ==, 0);
  char *kept = f->dir;
  f->dir = straight_dir;
  g_assert_cmpint (run_loop (f, FALSE, &none, &stopped), ==, 12);
  f->dir = kept;
  g_autoptr (Trainer) straight = trainer_new (&f->config, f->train, &error);
  g_autofree char *straight_checkpoint = run_dir_file (straight_dir,
                                                       RUN_CHECKPOINT_FILE);
  g_assert_true (trainer_load_checkpoint (straight, straight_checkpoint,
                                          &error));
  ResNet *a = trainer_get_network (resumed), *b = trainer_get_network (straight);
  g_assert_cmpmem (a->params, sizeof (float) * a->n_params, b->params,
                   sizeof (float) * b->n_params);
  MemoryBank *ba = trainer_get_bank (resumed), *bb = trainer_get_bank (straight);
  g_assert_cmpmem (ba->vectors, sizeof (float) * ba->n * ba->dim, bb->vectors,
                   sizeof (float) * bb->n * bb->dim);
}

/* A test split that cannot be scored (no labels; a class the training
 * split lacks) gives a run without reference points or evaluations, and
 * no abort. */
static void
test_unscorable_test (Fixture *f, gconstpointer unused)
{
  f->config.epochs = 1;
  for (int variant = 0; variant < 2; variant++)
    {
      if (variant == 0)
        {
          for (int i = 0; i < f->test->n; i++)
            f->test->labels[i] = -1;
          f->test->n_classes = 0;
        }
      else
        {
          f->test->labels[0] = 4;   /* training has classes 0-3 */
          f->test->n_classes = 5;
        }
      g_autofree char *dir = g_strdup_printf ("%s/variant-%d", f->dir,
                                              variant);
      g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
      char *kept = f->dir;
      f->dir = dir;
      Stopper none = { .stop_at = -1 };
      gboolean stopped = TRUE;
      g_assert_cmpint (run_loop (f, FALSE, &none, &stopped), ==, 6);
      g_assert_false (stopped);
      g_assert_cmpuint (count_rows (dir, "eval", 0), ==, 0);
      g_assert_cmpuint (count_rows (dir, "pixels", 0), ==, 0);
      g_assert_cmpuint (count_rows (dir, "eval", 1), ==, 0);
      f->dir = kept;
    }
}

/* NCE's state before the first step has no normaliser yet (Z = -1): the
 * saved start loads, and the resumed run finishes. */
static void
test_nce_saves_start (Fixture *f, gconstpointer unused)
{
  f->config.objective = objective_registry_lookup ("nce");
  f->config.nce_k = 8;
  f->config.epochs = 1;
  Stopper at_training = { .stop_at = TRAINING_PHASE_TRAINING };
  gboolean stopped = FALSE;
  g_assert_cmpint (run_loop (f, FALSE, &at_training, &stopped), ==, 0);
  g_assert_true (stopped);
  g_assert_true (has_checkpoint (f->dir));
  Stopper none = { .stop_at = -1 };
  g_assert_cmpint (run_loop (f, TRUE, &none, &stopped), ==, 6);
  g_assert_false (stopped);
}

/* The long passes say how far they are: the bank's pass over the 48
 * training images reports each batch's start, in order, under the
 * PREPARING phase, and the evaluation its own passes; the bank counts as
 * ready only once that pass is done. */
typedef struct
{
  TrainingPhase phase;
  GArray *preparing;     /* (done) of each call in PREPARING */
  int preparing_total;
  int evaluating_calls;
} ProgressLog;

static void
log_phase (TrainingLoop *loop, TrainingPhase phase, gpointer data)
{
  ((ProgressLog *) data)->phase = phase;
}

static void
log_progress (TrainingLoop *loop, int done, int total, gpointer data)
{
  ProgressLog *log = data;
  g_assert_cmpint (done, >=, 0);
  g_assert_cmpint (done, <, total);
  if (log->phase == TRAINING_PHASE_PREPARING)
    {
      g_array_append_val (log->preparing, done);
      log->preparing_total = total;
      g_assert_false (trainer_bank_is_ready (training_loop_get_trainer (loop)));
    }
  else if (log->phase == TRAINING_PHASE_EVALUATING)
    log->evaluating_calls++;
}

static void
test_pass_progress (Fixture *f, gconstpointer unused)
{
  f->config.epochs = 1;
  ProgressLog log = { .phase = -1,
                      .preparing = g_array_new (FALSE, FALSE, sizeof (int)) };
  const TrainingLoopCallbacks callbacks = { .phase_changed = log_phase,
                                            .pass_progress = log_progress };
  g_autoptr (GError) error = NULL;
  g_autoptr (Trainer) trainer = trainer_new (&f->config, f->train, &error);
  g_assert_no_error (error);
  g_assert_false (trainer_bank_is_ready (trainer));
  TrainingLoopOptions options;
  training_loop_options_init (&options, f->dir);
  g_autoptr (TrainingLoop) loop = training_loop_new (trainer, f->train,
                                                     f->test, &options,
                                                     &callbacks, &log);
  g_assert_true (training_loop_run (loop, &error));
  g_assert_no_error (error);
  g_assert_true (trainer_bank_is_ready (trainer));
  g_assert_cmpint (log.preparing_total, ==, N_IMAGES);
  g_assert_cmpuint (log.preparing->len, ==, N_IMAGES / BATCH);
  for (guint i = 0; i < log.preparing->len; i++)
    g_assert_cmpint (g_array_index (log.preparing, int, i), ==,
                     (int) i * BATCH);
  g_assert_cmpint (log.evaluating_calls, >, 0);
  g_array_unref (log.preparing);

  /* the reference's random start is the bank training uses */
  f->config.bank_init = BANK_INIT_RANDOM;
  g_autoptr (Trainer) random_start = trainer_new (&f->config, f->train,
                                                  &error);
  g_assert_true (trainer_bank_is_ready (random_start));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/method/loop/stop-in-bank-pass", Fixture, NULL,
              fixture_set_up, test_stop_in_bank_pass, fixture_tear_down);
  g_test_add ("/method/loop/stop-in-evaluation", Fixture, NULL,
              fixture_set_up, test_stop_in_evaluation, fixture_tear_down);
  g_test_add ("/method/loop/saves-start", Fixture, NULL, fixture_set_up,
              test_saves_start, fixture_tear_down);
  g_test_add ("/method/loop/unscorable-test", Fixture, NULL, fixture_set_up,
              test_unscorable_test, fixture_tear_down);
  g_test_add ("/method/loop/nce-saves-start", Fixture, NULL, fixture_set_up,
              test_nce_saves_start, fixture_tear_down);
  g_test_add ("/method/loop/pass-progress", Fixture, NULL, fixture_set_up,
              test_pass_progress, fixture_tear_down);
  return g_test_run ();
}
