/* training-loop.c: the one training loop; see training-loop.h. */
#define G_LOG_DOMAIN "instdisc-method"

#include "training-loop.h"

#include <glib/gi18n-lib.h>
#include <gio/gio.h>
#include <math.h>

#include "file-list.h"
#include "trainer-run.h"
#include "training-estimate.h"
#include "training-pace.h"

struct _TrainingLoop
{
  Trainer *trainer;
  const Dataset *train;
  const Dataset *test;
  TrainingLoopOptions options;
  char *run_dir;
  char *checkpoint;
  TrainingLoopCallbacks callbacks;
  gpointer user_data;

  gint64 first, total;
  gboolean labelled;
  gboolean saved;              /* the checkpoint holds the last step */
  gboolean stopped;
  TrainingPace pace;         /* the recent steps', the last evaluation's */
  double eta;
  TrainingReferencePoints points;
  MetricsRow last_evaluation;
  /* train's and test's dataset_count_marked when last looked at, and the
   * rows told of already (GINT_TO_POINTER (row + 1)) */
  int marked[2];
  GHashTable *told[2];
  /* the ranks the trainer's batches are split over (distributed.h): rank
   * 0 alone writes the folder, and every rank takes every decision */
  Distributed *dist;
};

static gboolean stop_requested (TrainingLoop *self);

/* the trainer's long passes (the bank's, evaluations) ask this. On
 * several ranks a pass is not stopped: each rank embeds its own share,
 * between its own batches, where no rank can ask the others; a stop
 * asked for then waits for the next step. */
static gboolean
loop_between_batches (gpointer data, int done, int total)
{
  TrainingLoop *self = data;
  if (self->callbacks.pass_progress)
    self->callbacks.pass_progress (self, done, total, self->user_data);
  return distributed_is_single (self->dist) && stop_requested (self);
}

void
training_loop_options_init (TrainingLoopOptions *options, const char *run_dir)
{
  *options = (TrainingLoopOptions) {
    .run_dir = run_dir,
    .evaluate = TRUE,
  };
  evaluate_options_init (&options->evaluate_options);
}

TrainingLoop *
training_loop_new (Trainer *trainer, const Dataset *train, const Dataset *test,
                   const TrainingLoopOptions *options,
                   const TrainingLoopCallbacks *callbacks, gpointer user_data)
{
  TrainingLoop *self = g_new0 (TrainingLoop, 1);
  self->trainer = trainer;
  self->train = train;
  self->test = test;
  self->options = *options;
  self->run_dir = g_strdup (options->run_dir);
  self->options.run_dir = self->run_dir;
  /* the linear classifier learns from the recomputed features, so their
   * kNN comes at little extra cost: a run asked for one gets both */
  if (self->options.evaluate_options.linear)
    self->options.evaluate_options.recompute = TRUE;
  self->checkpoint = run_dir_file (self->run_dir, RUN_CHECKPOINT_FILE);
  if (callbacks)
    self->callbacks = *callbacks;
  self->user_data = user_data;
  self->dist = trainer_get_distributed (trainer);

  const TrainerConfig *config = trainer_get_config (trainer);
  self->first = trainer_get_iteration (trainer);
  self->total = (gint64) config->epochs * trainer_steps_per_epoch (trainer);
  if (options->max_steps > 0 && options->max_steps < self->total)
    self->total = options->max_steps;
  /* kNN accuracies and the reference points need labels on both sides */
  self->labelled = evaluate_can_score (train, test);
  self->saved = TRUE;
  self->eta = NAN;
  training_pace_init (&self->pace);
  self->points = (TrainingReferencePoints) { NAN, NAN };
  metrics_row_init (&self->last_evaluation, "eval");
  const Dataset *sets[2] = { train, test };
  for (int s = 0; s < 2; s++)
    {
      self->told[s] = g_hash_table_new (NULL, NULL);
      if (!sets[s])
        continue;
      /* what the front end said when it opened the run */
      self->marked[s] = dataset_count_marked (sets[s]);
      for (int i = 0; sets[s]->row_status && i < sets[s]->n; i++)
        if (!dataset_row_is_ok (sets[s], i))
          g_hash_table_add (self->told[s], GINT_TO_POINTER (i + 1));
    }
  trainer_set_batch_hook (trainer, loop_between_batches, self);
  return self;
}

void
training_loop_free (TrainingLoop *self)
{
  if (!self)
    return;
  trainer_set_batch_hook (self->trainer, NULL, NULL);
  g_hash_table_unref (self->told[0]);
  g_hash_table_unref (self->told[1]);
  g_free (self->run_dir);
  g_free (self->checkpoint);
  g_free (self);
}

/* ---- the callbacks, each optional ---- */

static void
enter_phase (TrainingLoop *self, TrainingPhase phase)
{
  if (self->callbacks.phase_changed)
    self->callbacks.phase_changed (self, phase, self->user_data);
}

/* On several ranks a stop is every rank's when any rank asked for it (a
 * signal may reach them at different moments), so all stop after the
 * same step. */
static gboolean
stop_requested (TrainingLoop *self)
{
  guint8 asked = self->callbacks.should_stop
                 && self->callbacks.should_stop (self, self->user_data);
  distributed_max_bytes (self->dist, &asked, 1);
  return asked;
}

static void
engine_acquire (TrainingLoop *self)
{
  if (self->callbacks.engine_acquire)
    self->callbacks.engine_acquire (self, self->user_data);
}

static void
engine_release (TrainingLoop *self)
{
  if (self->callbacks.engine_release)
    self->callbacks.engine_release (self, self->user_data);
}

/* appends row to metrics.csv, then tells the front end */
static gboolean
write_row (TrainingLoop *self, const MetricsRow *row,
           const TrainerStepInfo *info, const LinearEvalResult *linear,
           GError **error)
{
  const TrainerConfig *config = trainer_get_config (self->trainer);
  gboolean written = self->dist->rank != 0
                     || run_dir_append_metrics (self->run_dir,
                                                trainer_run_metrics_columns (
                                                    config),
                                                row, error);
  if (!distributed_agree (self->dist, written, error))
    return FALSE;
  if (self->callbacks.row_written)
    self->callbacks.row_written (self, row, info, linear, self->user_data);
  return TRUE;
}

/* ---- images that cannot be read ---- */

/* One line on the rows of data marked since the last look, adding them to
 * told; NULL when there are none. */
static char *
describe_new_marks (const Dataset *data, GHashTable *told)
{
  g_autoptr (GString) names = g_string_new (NULL);
  int n = 0;
  for (int i = 0; i < data->n; i++)
    {
      if (dataset_row_status (data, i) != DATASET_ROW_UNREADABLE
          || !g_hash_table_add (told, GINT_TO_POINTER (i + 1)))
        continue;
      if (n < 3)
        {
          g_autofree char *name = dataset_get_item_name (data, i);
          g_string_append_printf (names, "%s%s", n ? ", " : "", name);
        }
      else if (n == 3)
        g_string_append (names, ", …");
      n++;
    }
  if (!n)
    return NULL;
  return g_strdup_printf (
      g_dngettext (GETTEXT_PACKAGE,
                   "%s: %d image could not be read and is left out from now "
                   "on: %s",
                   "%s: %d images could not be read and are left out from "
                   "now on: %s", n),
      data->name, n, names->str);
}

/* After anything that reads images: when rows were marked unreadable,
 * the run's files.txt is written with them (a run without one keeps them
 * in memory only) and the front end is told. */
static gboolean
note_unreadable (TrainingLoop *self, GError **error)
{
  const Dataset *sets[2] = { self->train, self->test };
  gboolean marked = FALSE;
  for (int s = 0; s < 2; s++)
    {
      if (!sets[s] || dataset_count_marked (sets[s]) == self->marked[s])
        continue;
      self->marked[s] = dataset_count_marked (sets[s]);
      marked = TRUE;
      g_autofree char *message = describe_new_marks (sets[s], self->told[s]);
      if (message && self->callbacks.data_notice)
        self->callbacks.data_notice (self, message, self->user_data);
    }
  const char *list = self->train->file_list;
  if (!marked || !list)
    return TRUE;
  /* the test split is written too when it comes from the same list; on
   * several ranks every rank has the same rows marked (trainer.h), and
   * rank 0 writes the list */
  const Dataset *test = self->test && self->test->file_list
                                && g_str_equal (self->test->file_list, list)
                            ? self->test : NULL;
  gboolean written = self->dist->rank != 0
                     || dataset_file_list_record_unreadable (list,
                                                             self->train,
                                                             test, error);
  return distributed_agree (self->dist, written, error);
}

/* ---- before the clock starts ---- */

static gboolean
is_cancelled (const GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* What metrics.csv already says: the reference points of epoch 0 (found
 * when either row is there) and whether the evaluation after `epoch` was
 * written. */
static gboolean
read_earlier_rows (TrainingLoop *self, int epoch, gboolean *evaluated)
{
  gboolean found = FALSE;
  *evaluated = FALSE;
  g_autoptr (GArray) rows = run_dir_load_metrics (self->run_dir, NULL);
  for (guint i = 0; rows && i < rows->len; i++)
    {
      const MetricsRow *row = &g_array_index (rows, MetricsRow, i);
      if (row->epoch == epoch && g_str_equal (row->kind, "eval"))
        *evaluated = TRUE;
      if (row->epoch != 0)
        continue;
      if (g_str_equal (row->kind, "eval"))
        self->points.untrained = row->knn_top1_recomputed;
      else if (g_str_equal (row->kind, "pixels"))
        self->points.raw_pixels = row->knn_top1;
      else
        continue;
      found = TRUE;
    }
  return found;
}

static gboolean evaluate_epoch (TrainingLoop *self,
                                const TrainerStepInfo *info, double wall_s,
                                GError **error);

/* Before the first step: the bank's pass over the training set and, with
 * labels, the untrained network's kNN and raw pixels' (the epoch 0 rows),
 * so that the rate and the ETA are those of training steps; then the state
 * is saved, so that a run stopped from here on resumes rather than starts
 * over. A resumed run reads its reference points back from metrics.csv,
 * and first writes the evaluation of its last epoch if a stop between that
 * epoch's checkpoint and its evaluation left it out. */
static gboolean
start_run (TrainingLoop *self, GError **error)
{
  const TrainerConfig *config = trainer_get_config (self->trainer);
  const int steps_per_epoch = trainer_steps_per_epoch (self->trainer);
  const int epochs_done = (int) (self->first / steps_per_epoch);
  gboolean evaluated;
  gboolean have_points = read_earlier_rows (self, epochs_done, &evaluated);
  /* rank 0's file decides what is done again, for every rank */
  struct
  {
    gint32 have_points, evaluated;
    TrainingReferencePoints points;
  } known = { have_points, evaluated, self->points };
  distributed_broadcast (self->dist, &known, sizeof known, 0);
  have_points = known.have_points;
  evaluated = known.evaluated;
  self->points = known.points;
  if (self->first > 0)
    {
      if (!self->options.evaluate || !self->labelled || evaluated
          || self->first % steps_per_epoch != 0)
        return TRUE;
      TrainerStepInfo info = {
        .iteration = self->first,
        .epoch = epochs_done - 1,
        .lr = trainer_config_lr_at (config, self->first - 1, steps_per_epoch),
      };
      return evaluate_epoch (self, &info, self->options.wall_offset, error);
    }

  if (config->bank_init == BANK_INIT_FEATURES)
    enter_phase (self, TRAINING_PHASE_PREPARING);
  engine_acquire (self);
  gboolean prepared = trainer_prepare (self->trainer, error);
  engine_release (self);
  if (!prepared || !note_unreadable (self, error))
    return FALSE;

  if (self->labelled && !have_points)
    {
      enter_phase (self, TRAINING_PHASE_REFERENCE);
      MetricsRow untrained, pixels;
      engine_acquire (self);
      gboolean measured = trainer_evaluate_start (self->trainer, self->train,
                                                  self->test, KNN_DEFAULT_K,
                                                  &untrained, &pixels, error);
      engine_release (self);
      if (!measured || !note_unreadable (self, error))
        return FALSE;
      untrained.wall_s = pixels.wall_s = self->options.wall_offset;
      if (!write_row (self, &untrained, NULL, NULL, error)
          || !write_row (self, &pixels, NULL, NULL, error))
        return FALSE;
      self->points.untrained = untrained.knn_top1_recomputed;
      self->points.raw_pixels = pixels.knn_top1;
    }
  self->saved = FALSE;
  return training_loop_save (self, error);
}

/* ---- the steps ---- */

gboolean
training_loop_save (TrainingLoop *self, GError **error)
{
  if (self->saved)
    return TRUE;
  if (!trainer_save_checkpoint (self->trainer, self->checkpoint, NULL, error))
    return FALSE;
  self->saved = TRUE;
  return TRUE;
}

/* The evaluation after an epoch, as metrics.csv's "eval" row. */
static gboolean
evaluate_epoch (TrainingLoop *self, const TrainerStepInfo *info,
                double wall_s, GError **error)
{
  enter_phase (self, TRAINING_PHASE_EVALUATING);
  gint64 began = g_get_monotonic_time ();
  MetricsRow eval;
  LinearEvalResult linear;
  engine_acquire (self);
  gboolean evaluated = trainer_evaluate (self->trainer, self->train,
                                         self->test,
                                         &self->options.evaluate_options,
                                         &eval, &linear, error);
  engine_release (self);
  if (!evaluated || !note_unreadable (self, error))
    return FALSE;
  eval.iteration = info->iteration;
  eval.epoch = info->epoch + 1;
  eval.lr = info->lr;
  eval.wall_s = wall_s;
  if (!write_row (self, &eval, NULL,
                  self->options.evaluate_options.linear ? &linear : NULL,
                  error))
    return FALSE;
  self->last_evaluation = eval;
  training_pace_add_evaluation (&self->pace,
                                (g_get_monotonic_time () - began) / 1e6);
  enter_phase (self, TRAINING_PHASE_TRAINING);
  return TRUE;
}

/* The evaluations still to come after step iteration: one at each epoch's
 * end up to the run's last step. */
static int
evaluations_left (const TrainingLoop *self, gint64 iteration)
{
  if (!self->options.evaluate || !self->labelled)
    return 0;
  int steps_per_epoch = trainer_steps_per_epoch (self->trainer);
  return (int) (self->total / steps_per_epoch - iteration / steps_per_epoch);
}

/* Until the first evaluation is timed, the time left counts each as long
 * as the estimate says, in steps: on a busy machine both take longer. */
static void
guess_evaluation (TrainingLoop *self)
{
  if (!self->train || !self->test)
    return;
  const TrainerConfig *config = trainer_get_config (self->trainer);
  int side = self->train->width;
  double evaluation_s = training_estimate_evaluation_seconds (
      config, self->train->n, self->test->n, side,
      self->options.evaluate_options.recompute);
  double step_s = training_estimate_step_seconds (config, self->train->n,
                                                  side);
  training_pace_guess_evaluation (&self->pace, evaluation_s / step_s);
}

gboolean
training_loop_run (TrainingLoop *self, GError **error)
{
  if (self->first >= self->total)
    return TRUE;
  if (stop_requested (self))
    {
      self->stopped = TRUE;
      return TRUE;
    }
  g_autoptr (GError) start_error = NULL;
  if (!start_run (self, &start_error))
    {
      /* a stop during the bank's pass or an evaluation: nothing trained,
       * nothing to save */
      if (!is_cancelled (start_error))
        {
          g_propagate_error (error, g_steal_pointer (&start_error));
          return FALSE;
        }
      self->stopped = TRUE;
      return TRUE;
    }

  enter_phase (self, TRAINING_PHASE_TRAINING);
  const TrainerConfig *config = trainer_get_config (self->trainer);
  const int steps_per_epoch = trainer_steps_per_epoch (self->trainer);
  guess_evaluation (self);
  const gint64 start = g_get_monotonic_time ();
  TrainerStepInfo info = { 0 };
  while (trainer_get_iteration (self->trainer) < self->total)
    {
      if (stop_requested (self))
        {
          self->stopped = TRUE;
          break;
        }
      if (self->callbacks.between_steps)
        {
          gboolean served = self->callbacks.between_steps (self,
                                                           self->user_data,
                                                           error);
          if (!served)
            return FALSE;
          if (stop_requested (self))
            {
              self->stopped = TRUE;
              break;
            }
        }

      /* a step's time starts after a pause, and includes waiting for
       * the engine while the explorer embeds a query */
      gint64 step_began = g_get_monotonic_time ();
      engine_acquire (self);
      g_autoptr (GError) step_error = NULL;
      gboolean stepped = trainer_step (self->trainer, &info, &step_error);
      engine_release (self);
      if (!stepped)
        {
          g_set_error (error, step_error->domain, step_error->code,
                       _("%s; the last checkpoint (%s) is kept"),
                       step_error->message, self->checkpoint);
          return FALSE;
        }
      self->saved = FALSE;
      if (!note_unreadable (self, error))
        return FALSE;

      /* wall time counts pauses, as it counts the time between a stop and
       * a resume; the rate is the recent steps' (training-pace.h) */
      gint64 now = g_get_monotonic_time ();
      double wall = self->options.wall_offset + (now - start) / 1e6;
      training_pace_add_step (&self->pace, (now - step_began) / 1e6);
      double rate = training_pace_images_per_second (&self->pace,
                                                     config->batch_size);
      self->eta = training_pace_seconds_left (
          &self->pace, self->total - info.iteration,
          evaluations_left (self, info.iteration));
      MetricsRow row;
      trainer_run_step_row (&row, config, &info, rate, wall);
      if (!write_row (self, &row, &info, NULL, error))
        return FALSE;

      gboolean epoch_done = info.step_in_epoch == steps_per_epoch;
      if ((epoch_done || info.iteration == self->total)
          && !training_loop_save (self, error))
        return FALSE;
      if (epoch_done && self->options.evaluate && self->labelled
          && !stop_requested (self))
        {
          double wall_now = self->options.wall_offset
                            + (g_get_monotonic_time () - start) / 1e6;
          g_autoptr (GError) eval_error = NULL;
          if (!evaluate_epoch (self, &info, wall_now, &eval_error))
            {
              /* a stop during the evaluation: the checkpoint holds the
               * epoch, and a resume evaluates it first */
              if (!is_cancelled (eval_error))
                {
                  g_propagate_error (error, g_steal_pointer (&eval_error));
                  return FALSE;
                }
              self->stopped = TRUE;
              break;
            }
        }
    }
  /* stopped, or done: leave a checkpoint that holds the last step */
  return training_loop_save (self, error);
}

/* ---- what the front ends read ---- */

Trainer *
training_loop_get_trainer (TrainingLoop *self)
{
  return self->trainer;
}

gint64
training_loop_get_total (const TrainingLoop *self)
{
  return self->total;
}

gint64
training_loop_get_first (const TrainingLoop *self)
{
  return self->first;
}

double
training_loop_get_eta (const TrainingLoop *self)
{
  return self->eta;
}

gboolean
training_loop_is_labelled (const TrainingLoop *self)
{
  return self->labelled;
}

const TrainingReferencePoints *
training_loop_get_reference_points (const TrainingLoop *self)
{
  return &self->points;
}

const MetricsRow *
training_loop_get_last_evaluation (const TrainingLoop *self)
{
  return &self->last_evaluation;
}

gboolean
training_loop_was_stopped (const TrainingLoop *self)
{
  return self->stopped;
}
