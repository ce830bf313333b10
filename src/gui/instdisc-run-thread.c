/* instdisc-run-thread.c: the trainer thread of an InstdiscRun, which
 * drives the training loop (training-loop.h) and keeps the inference copy
 * of the network fresh. */
#define G_LOG_DOMAIN "instdisc-gui"

#include "instdisc-run-private.h"

#include <string.h>

/* ---- the trainer thread ---- */

/* Between steps: the copy is refreshed unless a query is using it (then
 * the next step tries again), so training never waits for a query. */
static void
refresh_infer (InstdiscRun *self, gboolean wait)
{
  if (wait)
    instdisc_run_lock_infer_for_writing (self);
  else if (!g_mutex_trylock (&self->infer_lock))
    return;
  else if (self->infer_lent > 0)
    {
      /* an embedding is halfway through a set: the next refresh */
      g_mutex_unlock (&self->infer_lock);
      return;
    }
  run_model_copy_network (self->infer, trainer_get_network (self->trainer));
  self->infer_loaded = TRUE;
  g_mutex_unlock (&self->infer_lock);
}

static void
engine_acquire (InstdiscRun *self)
{
  /* a waiting query goes first: GMutex is not fair, and the thread would
   * otherwise take the lock again at once */
  while (g_atomic_int_get (&self->embed_waiting) > 0)
    g_usleep (200);
  g_mutex_lock (&instdisc_run_engine_lock);
}

/* ---- the trainer thread's side of the training loop ---- */

static void
loop_engine_acquire (TrainingLoop *loop, gpointer data)
{
  engine_acquire (data);
}

static void
loop_engine_release (TrainingLoop *loop, gpointer data)
{
  g_mutex_unlock (&instdisc_run_engine_lock);
}

static gboolean
loop_should_stop (TrainingLoop *loop, gpointer data)
{
  InstdiscRun *self = data;
  return g_atomic_int_get (&self->stop_requested);
}

static void
loop_row_written (TrainingLoop *loop, const MetricsRow *row,
                  const TrainerStepInfo *info, const LinearEvalResult *linear,
                  gpointer data)
{
  InstdiscRun *self = data;
  instdisc_run_post_rows (self, row, 1, row->iteration,
                          training_loop_get_eta (loop));
  gint64 now = g_get_monotonic_time ();
  if (info && now - self->last_refresh >= INFER_REFRESH_US)
    {
      refresh_infer (self, FALSE);
      self->last_refresh = now;
    }
}

/* The requests that can be served between steps. */
static gboolean
serve_requests (InstdiscRun *self, TrainingLoop *loop, GError **error)
{
  if (g_atomic_int_compare_and_exchange (&self->save_requested, 1, 0))
    {
      if (!training_loop_save (loop, error))
        return FALSE;
      instdisc_run_post_saved (self, trainer_get_iteration (self->trainer));
    }
  if (g_atomic_int_compare_and_exchange (&self->snapshot_requested, 1, 0))
    instdisc_run_post_snapshot (self, trainer_get_bank (self->trainer),
                   trainer_get_iteration (self->trainer));
  return TRUE;
}

/* Between steps: the requests, and a pause, which waits here. */
static gboolean
loop_between_steps (TrainingLoop *loop, gpointer data, GError **error)
{
  InstdiscRun *self = data;
  if (!serve_requests (self, loop, error))
    return FALSE;
  if (!g_atomic_int_get (&self->pause_requested))
    return TRUE;

  /* Pausing: the inference copy catches up, so whatever the person looks
   * at now is the paused network. */
  refresh_infer (self, TRUE);
  instdisc_run_post_state (self, INSTDISC_RUN_PAUSED, NULL);
  g_mutex_lock (&self->control_lock);
  while (g_atomic_int_get (&self->pause_requested)
         && !g_atomic_int_get (&self->stop_requested))
    {
      g_mutex_unlock (&self->control_lock);
      if (!serve_requests (self, loop, error))
        return FALSE;
      g_mutex_lock (&self->control_lock);
      if (g_atomic_int_get (&self->pause_requested)
          && !g_atomic_int_get (&self->stop_requested)
          && !g_atomic_int_get (&self->save_requested)
          && !g_atomic_int_get (&self->snapshot_requested))
        g_cond_wait (&self->control_cond, &self->control_lock);
    }
  g_mutex_unlock (&self->control_lock);
  if (!g_atomic_int_get (&self->stop_requested))
    instdisc_run_post_state (self, INSTDISC_RUN_RUNNING, NULL);
  return TRUE;
}

static void
loop_phase_changed (TrainingLoop *loop, TrainingPhase phase, gpointer data)
{
  static const InstdiscRunPhase phases[] = {
    [TRAINING_PHASE_PREPARING] = INSTDISC_RUN_PHASE_PREPARING,
    [TRAINING_PHASE_REFERENCE] = INSTDISC_RUN_PHASE_REFERENCE,
    [TRAINING_PHASE_TRAINING] = INSTDISC_RUN_PHASE_TRAINING,
    [TRAINING_PHASE_EVALUATING] = INSTDISC_RUN_PHASE_EVALUATING,
  };
  instdisc_run_post_phase (data, phases[phase]);
}

static void
loop_pass_progress (TrainingLoop *loop, int done, int total, gpointer data)
{
  instdisc_run_post_pass_progress (data, done, total);
}

/* images left out while training: the run's files.txt records them; the
 * window says which */
static void
loop_data_notice (TrainingLoop *loop, const char *message, gpointer data)
{
  instdisc_run_post_data_notice (data, message);
}

static const TrainingLoopCallbacks run_loop_callbacks = {
  .phase_changed = loop_phase_changed,
  .pass_progress = loop_pass_progress,
  .row_written = loop_row_written,
  .should_stop = loop_should_stop,
  .between_steps = loop_between_steps,
  .engine_acquire = loop_engine_acquire,
  .engine_release = loop_engine_release,
  .data_notice = loop_data_notice,
};

gpointer
instdisc_run_trainer_thread (gpointer data)
{
  InstdiscRun *self = data;
  g_autoptr (GError) error = NULL;
  TrainingLoopOptions options;
  training_loop_options_init (&options, self->dir);
  options.max_steps = self->steps_limit;
  options.wall_offset = self->wall_offset;
  options.evaluate_options.recompute = self->evaluate_recomputed;
  options.evaluate_options.linear = self->evaluate_linear;
  self->last_refresh = 0;
  g_autoptr (TrainingLoop) loop = training_loop_new (self->trainer,
                                                     self->train, self->test,
                                                     &options,
                                                     &run_loop_callbacks,
                                                     self);
  if (!training_loop_run (loop, &error))
    {
      g_warning ("%s: %s", self->dir, error->message);
      instdisc_run_post_state (self, INSTDISC_RUN_STOPPED, error);
      return NULL;
    }
  refresh_infer (self, TRUE);
  instdisc_run_post_state (self, INSTDISC_RUN_STOPPED, NULL);
  return NULL;
}

