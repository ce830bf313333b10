/* instdisc-run.h: one training run as the GUI sees it.
 *
 * An InstdiscRun either trains (it owns a Trainer on its own GThread, the
 * only writer of the network and the memory bank) or follows a run folder
 * written elsewhere (GFileMonitor on metrics.csv and the checkpoint). The
 * main loop never waits on the trainer:
 *  - control (start, pause, resume, stop, save now) sets atomics that the
 *    trainer thread reads between steps, so each takes effect within a step;
 *  - progress leaves the thread as small immutable records, queued under a
 *    mutex and drained by one idle callback at a time ("metrics-added" is
 *    emitted on the main thread with every record since the last one), so a
 *    slow GUI coalesces many steps into one redraw and never slows training;
 *    and rows come at most five times a second even to a fast GUI, since
 *    each redraw costs CPU that training on a few cores would otherwise use
 *    (a state, a phase or an error comes at once);
 *  - readers of the bank ask for a snapshot: the trainer thread copies the
 *    bank between two steps and the copy arrives on the main thread as an
 *    immutable, reference-counted InstdiscSnapshot ("snapshot-ready").
 */
#pragma once

#include <gio/gio.h>

#include "dataset.h"
#include "run-dir.h"
#include "trainer.h"

G_BEGIN_DECLS

/* An immutable copy of the memory bank with what is needed to read it. */
typedef struct
{
  gint64 iteration;
  int n, dim;
  float *bank;                 /* (N, D) unit rows */
  const Dataset *train;        /* labels, class names, images: the run's
                                  training set, referenced by the snapshot */
} InstdiscSnapshot;

/* A snapshot of a copy of bank (n, dim) at iteration; train (may be NULL)
 * is referenced. The run makes them; tests make their own. */
InstdiscSnapshot *instdisc_snapshot_new (gint64 iteration, int n, int dim,
                                         const float *bank,
                                         const Dataset *train);
InstdiscSnapshot *instdisc_snapshot_ref (InstdiscSnapshot *self);
void instdisc_snapshot_unref (InstdiscSnapshot *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (InstdiscSnapshot, instdisc_snapshot_unref)

typedef enum
{
  INSTDISC_RUN_IDLE,       /* built, not started */
  INSTDISC_RUN_RUNNING,
  INSTDISC_RUN_PAUSED,
  INSTDISC_RUN_STOPPED,    /* finished, stopped, or failed (see error) */
  INSTDISC_RUN_FOLLOWING,  /* reading a folder another process writes */
  INSTDISC_RUN_STOPPING,   /* stop asked: the thread finishes its step and
                              writes the checkpoint; STOPPED follows */
} InstdiscRunState;

#define INSTDISC_TYPE_RUN_STATE (instdisc_run_state_get_type ())
GType instdisc_run_state_get_type (void);

/* What a running trainer thread is doing (the training loop's phases),
 * for the status a person reads while no step has come yet. */
typedef enum
{
  INSTDISC_RUN_PHASE_NONE,        /* no thread */
  INSTDISC_RUN_PHASE_PREPARING,   /* filling the bank from the untrained
                                   * network: one pass over the training set */
  INSTDISC_RUN_PHASE_REFERENCE,   /* measuring raw pixels and the untrained
                                   * network */
  INSTDISC_RUN_PHASE_TRAINING,
  INSTDISC_RUN_PHASE_EVALUATING,  /* the kNN after an epoch */
} InstdiscRunPhase;

#define INSTDISC_TYPE_RUN_PHASE (instdisc_run_phase_get_type ())
GType instdisc_run_phase_get_type (void);

/* Properties (read-only, notified on the main thread): "state", the
 * InstdiscRunState; "phase", the InstdiscRunPhase; "iteration", the steps
 * done (gint64); "error", the GError of the last failed start or of the
 * thread, or NULL. */
#define INSTDISC_TYPE_RUN (instdisc_run_get_type ())
G_DECLARE_FINAL_TYPE (InstdiscRun, instdisc_run, INSTDISC, RUN, GObject)

/* A new training run in run_dir on data_spec ("fashion-mnist", a CIFAR
 * folder, an image folder). Loads the data and builds the trainer
 * synchronously: call it from a GTask thread for large data sets. */
InstdiscRun *instdisc_run_new_training (const char *run_dir,
                                        const char *data_spec,
                                        const TrainerConfig *config,
                                        GError **error);
/* Opens a run folder written by `instdisc train` (here or elsewhere),
 * follows it while it grows, and can continue training it (resume). */
InstdiscRun *instdisc_run_open (const char *run_dir, GError **error);

void instdisc_run_start (InstdiscRun *self);   /* or resume after pause */
void instdisc_run_pause (InstdiscRun *self);
/* Returns at once: the state is STOPPING until the trainer thread has
 * finished its step, written the checkpoint and been joined (off the main
 * loop), then STOPPED. The run keeps itself alive until then. */
void instdisc_run_stop (InstdiscRun *self);
void instdisc_run_save_now (InstdiscRun *self);
/* Asks for a bank snapshot; "snapshot-ready" follows on the main loop. */
void instdisc_run_request_snapshot (InstdiscRun *self);

InstdiscRunState instdisc_run_get_state (InstdiscRun *self);
InstdiscRunPhase instdisc_run_get_phase (InstdiscRun *self);
/* The phase's long pass (the bank's, the reference points', an
 * evaluation's): images embedded so far of the pass's total, 0 of 0
 * before its first batch, as a fraction ("pass-progress"). A phase may
 * hold several passes one after the other. */
double instdisc_run_get_pass_progress (InstdiscRun *self, int *done,
                                       int *total);
const char *instdisc_run_get_dir (InstdiscRun *self);
const TrainerConfig *instdisc_run_get_config (InstdiscRun *self);
const Dataset *instdisc_run_get_train (InstdiscRun *self);
const Dataset *instdisc_run_get_test (InstdiscRun *self);   /* may be NULL */
int instdisc_run_get_steps_per_epoch (InstdiscRun *self);
/* every metrics row so far (MetricsRow), in order; owned by the run */
GArray *instdisc_run_get_metrics (InstdiscRun *self);
/* the error that stopped the run, or NULL */
const GError *instdisc_run_get_error (InstdiscRun *self);

/* Embeds images given as (n, C, H, W) bytes at the training size with the
 * current network (test transform) in a worker thread; the result is a
 * float array (n, D) (GBytes) for instdisc_run_embed_finish. */
void instdisc_run_embed_async (InstdiscRun *self, GBytes *pixels, int n,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data);
GBytes *instdisc_run_embed_finish (InstdiscRun *self, GAsyncResult *result,
                                   GError **error);

/* ---- additions beyond the first version of this interface ---- */

#define INSTDISC_TYPE_SNAPSHOT (instdisc_snapshot_get_type ())
GType instdisc_snapshot_get_type (void);

/* config.ini's [data] spec */
const char *instdisc_run_get_data_spec (InstdiscRun *self);
/* A followed run whose data set cannot be opened here (another machine's
 * folder) still shows its metrics; then get_train is NULL, no snapshot
 * arrives, and this says why. */
const GError *instdisc_run_get_data_error (InstdiscRun *self);
/* A run opened from its folder whose images are not all as its files.txt
 * lists them (some missing or changed, new files in the folder): one line
 * saying so, to show once; else NULL. */
const char *instdisc_run_get_data_notice (InstdiscRun *self);
/* The engine's threads (0: one per core) for every run; effective only
 * before the first run is made (the explorer calls it at start-up). */
void instdisc_run_set_engine_threads (int n);
/* steps done, as last reported by the trainer thread */
gint64 instdisc_run_get_iteration (InstdiscRun *self);
/* While it trains here: seconds to the run's end, evaluations included,
 * as of the last step (training-pace.h); else NAN. */
double instdisc_run_get_seconds_left (InstdiscRun *self);
/* the step the run ends at: epochs x steps per epoch, or the limit */
gint64 instdisc_run_get_total_steps (InstdiscRun *self);
/* Before start: stop after this many steps in total (0: all epochs), as
 * `instdisc train --steps`. */
void instdisc_run_set_steps_limit (InstdiscRun *self, gint64 steps);
/* Before start: also evaluate kNN on recomputed training features
 * (`instdisc train --recompute`). */
void instdisc_run_set_evaluate_recomputed (InstdiscRun *self,
                                           gboolean recompute);
/* Before start: also train a linear classifier on the recomputed training
 * features after each epoch and measure it on the test set
 * (`instdisc train --linear`); the recomputed kNN comes with it. */
void instdisc_run_set_evaluate_linear (InstdiscRun *self, gboolean linear);
gboolean instdisc_run_get_evaluate_linear (InstdiscRun *self);
/* Writes the snapshot's bank as `instdisc export` does (features.npy,
 * labels.npy, paths.txt, vectors.tsv, metadata.tsv) into folder. Blocking:
 * call it from a GTask thread. */
gboolean instdisc_run_export_snapshot (InstdiscSnapshot *snapshot,
                                       const char *folder, GError **error);

/* How far a long task is: images done of total, called on the thread
 * that started it (the main loop). */
typedef void (*InstdiscRunProgressFunc) (int done, int total, gpointer data);

/* Embeds every image of the training split (or the test split, when
 * test_split and the run has one) with the current network and the test
 * transform, and writes them as instdisc_run_export_snapshot does, in a
 * worker thread. Training waits for the engine meanwhile. progress (may
 * be NULL) hears how far the embedding is; progress_data must outlive the
 * task; a cancel is seen within a batch. */
void instdisc_run_export_recomputed_async (InstdiscRun *self,
                                           gboolean test_split,
                                           const char *folder,
                                           InstdiscRunProgressFunc progress,
                                           gpointer progress_data,
                                           GCancellable *cancellable,
                                           GAsyncReadyCallback callback,
                                           gpointer user_data);
gboolean instdisc_run_export_recomputed_finish (InstdiscRun *self,
                                                GAsyncResult *result,
                                                GError **error);

/* As instdisc_run_new_training, with an image folder's images resized to
 * image_size pixels a side (`instdisc train --image-size`; the other
 * data sets have their own size). */
InstdiscRun *instdisc_run_new_training_sized (const char *run_dir,
                                              const char *data_spec,
                                              int image_size,
                                              const TrainerConfig *config,
                                              GError **error);
/* As instdisc_run_new_training_sized; progress (may be NULL) is told,
 * from the calling thread, how far the check of an image folder's files
 * has come: a folder of a million photographs takes minutes. */
InstdiscRun *instdisc_run_new_training_with_progress (
  const char *run_dir, const char *data_spec, int image_size,
  const TrainerConfig *config, DatasetProgressFunc progress,
  gpointer progress_data, GError **error);
/* While no trainer thread runs (stopped, finished, followed): gives the
 * run epochs in all, written into config.ini as `instdisc train --resume
 * --epochs N` does (trainer_run_set_epochs), so the next start trains on
 * to the new end. Takes the folder's lock, as a start does: FALSE with
 * the error when another process writes the run, or the rules refuse the
 * number. */
gboolean instdisc_run_set_epochs (InstdiscRun *self, int epochs,
                                  GError **error);

/* The steps the run has done: the trainer's count, or for a followed run
 * the last step metrics.csv has. */
gint64 instdisc_run_get_steps_done (InstdiscRun *self);

/* Signals (all on the main thread):
 *   "metrics-added" (guint first_new_row): rows were appended to
 *                   instdisc_run_get_metrics
 *   "state-changed" ()
 *   "snapshot-ready" (InstdiscSnapshot *snapshot)
 *   "checkpoint-saved" (gint64 iteration): a save_now was done
 *   "data-notice" (const char *message): training met images it could not
 *                 read and leaves them out (the run's files.txt says so) */

G_END_DECLS
