/* training-loop.h: the one training loop that `instdisc train` and the
 * explorer both drive.
 *
 * It owns what a run does between "start" and "stopped": the bank's pass
 * over the training set and the reference points before the clock starts,
 * the steps, one metrics.csv row per step, a checkpoint at every epoch end
 * and at the last step, the evaluation after every epoch, and what a stop
 * means. The front ends differ only in how they show it and how a person
 * asks for a pause, a stop or a save, which reach the loop through the
 * callbacks below; so a run trained by either leaves the same folder, row
 * for row (tests/gui, "/gui/run/same-as-cli").
 *
 * Stop semantics: a stop request is seen between steps and between the
 * batches of the long passes (the bank's, the evaluations); the step under
 * way finishes, an evaluation under way is dropped, and the checkpoint is
 * saved if the last step is not in it yet. The state before the first
 * step is saved too, so a run is resumable from the moment its bank is
 * filled; a resumed run first writes the evaluation a stop left out. The
 * loop runs on one thread, the caller's; every callback is called on it.
 *
 * Images that cannot be read. The trainer leaves out a training image it
 * cannot read (trainer.h), the evaluations a test or training image; the
 * loop then writes the run's files.txt (file-list.h) with those rows
 * marked unreadable, before the next checkpoint, so that a resumed run
 * leaves them out as this one does from then on, and tells the front end
 * (data_notice). */
#pragma once

#include <glib.h>

#include "dataset.h"
#include "evaluate.h"
#include "run-dir.h"
#include "trainer.h"

G_BEGIN_DECLS

typedef struct _TrainingLoop TrainingLoop;

/* What the loop is doing, for a front end's status line. */
typedef enum
{
  TRAINING_PHASE_PREPARING,     /* the bank's pass over the training set
                                 * (--bank-init features), before step 1 */
  TRAINING_PHASE_REFERENCE,     /* measuring raw pixels and the untrained
                                 * network, before step 1 */
  TRAINING_PHASE_TRAINING,      /* steps */
  TRAINING_PHASE_EVALUATING,    /* the kNN (and linear) evaluation after an
                                 * epoch */
} TrainingPhase;

/* Every member may be NULL. */
typedef struct
{
  /* the loop enters a phase */
  void (*phase_changed) (TrainingLoop *loop, TrainingPhase phase,
                         gpointer user_data);
  /* a row was appended to metrics.csv: a step's (info is the step's),
   * an evaluation's (linear holds the linear evaluation's details when it
   * ran), or one of the two reference rows of epoch 0 (both NULL) */
  void (*row_written) (TrainingLoop *loop, const MetricsRow *row,
                       const TrainerStepInfo *info,
                       const LinearEvalResult *linear, gpointer user_data);
  /* between the batches of the long passes (the bank's, the reference
   * points', the evaluations): images embedded so far of the pass's
   * total; a phase may hold several passes (the test set, then the
   * training set recomputed) */
  void (*pass_progress) (TrainingLoop *loop, int done, int total,
                         gpointer user_data);
  /* polled before every step and before an evaluation */
  gboolean (*should_stop) (TrainingLoop *loop, gpointer user_data);
  /* Called before every step: where a front end serves what can only
   * happen between steps (a pause, which waits here; a save asked for;
   * a copy of the bank or the network). Its time does not count in the
   * rate. FALSE with an error ends the run. */
  gboolean (*between_steps) (TrainingLoop *loop, gpointer user_data,
                             GError **error);
  /* around every use of the trainer's network and the engine's threads
   * (the bank's pass, evaluations, each step), for a front end whose other
   * threads embed images with the engine too */
  void (*engine_acquire) (TrainingLoop *loop, gpointer user_data);
  void (*engine_release) (TrainingLoop *loop, gpointer user_data);
  /* images of the training or test set could not be read and are left out
   * from now on (one line naming the first few), after the step or the
   * pass that met them; the run's files.txt says so already */
  void (*data_notice) (TrainingLoop *loop, const char *message,
                       gpointer user_data);
} TrainingLoopCallbacks;

typedef struct
{
  const char *run_dir;       /* config.ini is there already */
  gint64 max_steps;          /* stop after this iteration; 0: the config's
                              * epochs */
  double wall_offset;        /* wall_s reached before (a resumed run) */
  gboolean evaluate;         /* after each epoch (TRUE), when the test set
                              * can be scored (evaluate_can_score) */
  EvaluateOptions evaluate_options;  /* linear implies recompute */
} TrainingLoopOptions;

void training_loop_options_init (TrainingLoopOptions *options,
                                 const char *run_dir);

/* What a run is measured against, kNN top-1 in percent (NAN: unknown):
 * raw pixels and the untrained network, as the epoch 0 rows say. */
typedef struct
{
  double raw_pixels;
  double untrained;
} TrainingReferencePoints;

/* trainer, train and test (test may be NULL: no evaluations and no
 * reference points) are borrowed and must outlive the loop. */
TrainingLoop *training_loop_new (Trainer *trainer, const Dataset *train,
                                 const Dataset *test,
                                 const TrainingLoopOptions *options,
                                 const TrainingLoopCallbacks *callbacks,
                                 gpointer user_data);
void training_loop_free (TrainingLoop *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TrainingLoop, training_loop_free)

/* Runs to the last step or to a stop request. FALSE with an error when a
 * step fails (the loss is not finite: the message says the last
 * checkpoint is kept), or a file cannot be written. */
gboolean training_loop_run (TrainingLoop *self, GError **error);

/* Saves the checkpoint now (between steps, e.g. from between_steps);
 * nothing to do when it already holds the last step. */
gboolean training_loop_save (TrainingLoop *self, GError **error);

Trainer *training_loop_get_trainer (TrainingLoop *self);
/* the iteration the run ends at: the config's epochs, or max_steps */
gint64 training_loop_get_total (const TrainingLoop *self);
/* the iteration the loop started from (0, or a resumed run's) */
gint64 training_loop_get_first (const TrainingLoop *self);
/* seconds left at the current rate, evaluations included; NAN before
 * the first step */
double training_loop_get_eta (const TrainingLoop *self);
/* TRUE when the test set makes reference points and evaluations
 * meaningful (evaluate_can_score); without it the loop measures neither
 * and writes no eval rows */
gboolean training_loop_is_labelled (const TrainingLoop *self);
/* measured before step 1, or read back from metrics.csv on a resumed
 * run; valid once training_loop_run has passed its start */
const TrainingReferencePoints *
training_loop_get_reference_points (const TrainingLoop *self);
/* the last evaluation row; its epoch is 0 when none ran */
const MetricsRow *training_loop_get_last_evaluation (const TrainingLoop *self);
/* TRUE when the run ended on a stop request, not at its last step */
gboolean training_loop_was_stopped (const TrainingLoop *self);

G_END_DECLS
