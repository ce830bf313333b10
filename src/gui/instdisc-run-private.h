/* instdisc-run-private.h: what the files of InstdiscRun share.
 *
 * The run is one GObject in four files, along its seams:
 *   instdisc-run.c          the object, its progress queue to the main
 *                           loop, control (start, pause, stop, save) and
 *                           accessors
 *   instdisc-run-thread.c   the trainer thread: the training loop's
 *                           callbacks and the inference copy
 *   instdisc-run-follow.c   opening a run folder and following it while
 *                           another process writes it
 *   instdisc-run-tasks.c    query embeddings and exports, off the main loop
 * Nothing outside these files includes this header. */
#pragma once

#include "instdisc-run.h"

#include "evaluate.h"
#include "run-folder.h"
#include "run-lock.h"
#include "run-model.h"
#include "threads.h"
#include "trainer-run.h"
#include "training-loop.h"

G_BEGIN_DECLS

/* The engine's thread pool takes one caller at a time (threads.h), and both
 * the trainer thread and query embeddings use it: each holds this lock for
 * one step or one embedding. */
extern GMutex instdisc_run_engine_lock;

/* how often the trainer thread refreshes the inference copy of the network */
#define INFER_REFRESH_US (1 * G_USEC_PER_SEC)

struct _InstdiscRun
{
  GObject parent_instance;

  /* fixed at construction */
  char *dir;
  char *data_spec;
  int image_size;
  TrainerConfig config;
  Dataset *train;               /* NULL when a followed run's data is not here */
  Dataset *test;
  GError *data_error;           /* why train is NULL */
  char *data_notice;            /* what differs from the run's files.txt
                                 * (dataset_file_list_describe), or NULL */
  gboolean evaluate_recomputed;
  gboolean evaluate_linear;     /* implies evaluate_recomputed's features */

  /* main thread only */
  InstdiscRunState state;
  InstdiscRunPhase phase;
  int pass_done, pass_total;    /* the phase's pass: images embedded */
  GArray *metrics;              /* MetricsRow, kinds interned */
  GError *error;
  GFileMonitor *metrics_monitor;
  GFileMonitor *checkpoint_monitor;
  GCancellable *cancellable;    /* reloads of a followed checkpoint */
  gint64 steps_limit;           /* 0: every epoch of the config */

  /* the training network; only the trainer thread touches it while the
   * thread runs */
  Trainer *trainer;
  GThread *thread;              /* until joined, even while it ends */
  gint64 last_refresh;          /* trainer thread: infer's last refresh */
  RunLock *lock;                /* the folder's, from creation or a start
                                 * until the thread is joined */
  gboolean joining;             /* a worker is joining thread */
  double wall_offset;

  /* a copy of the network for queries, refreshed by the trainer thread */
  GMutex infer_lock;
  /* under infer_lock: how many embeddings have lent infer to waiting ones
   * between two of their batches (instdisc-run-tasks.c); while any has,
   * infer is not replaced, so each set is embedded by one network, and
   * infer_cond is signalled when the last takes it back */
  int infer_lent;
  GCond infer_cond;
  RunModel *infer;
  gboolean infer_loaded;        /* infer holds trained weights */

  /* control: main thread -> trainer thread */
  GMutex control_lock;
  GCond control_cond;
  int pause_requested;          /* atomics */
  int stop_requested;
  int save_requested;
  int snapshot_requested;
  int embed_waiting;

  /* progress: trainer thread -> main thread, under queue_lock */
  GMutex queue_lock;
  GArray *pending_rows;
  InstdiscSnapshot *pending_snapshot;
  int pending_state;            /* -1 or an InstdiscRunState */
  int pending_phase;            /* -1 or an InstdiscRunPhase */
  int pending_pass_done;        /* -1, or the pass's images done ... */
  int pending_pass_total;       /* ... of this many */
  gint64 pending_saved;         /* -1, or the steps a "save now" saved */
  char *pending_notice;         /* images the trainer left out, or NULL */
  GError *pending_error;
  gboolean idle_queued;         /* a drain of the queue is due */
  gboolean paced;               /* ... and one waits for ROWS_INTERVAL_US */
  gboolean shutting_down;       /* dispose started: queue no more idles */
  gint64 rows_delivered_at;     /* main thread: monotonic us, or 0 */
  gint64 thread_iteration;
  double pending_seconds_left;  /* the loop's time left at the last row */
  double seconds_left;          /* the same, on the main thread */
};

/* ---- instdisc-run.c ---- */

/* the progress queue, from any thread: delivered on the main loop */
void instdisc_run_post_rows (InstdiscRun *self, const MetricsRow *rows,
                             guint n, gint64 iteration, double seconds_left);
void instdisc_run_post_state (InstdiscRun *self, InstdiscRunState state,
                              GError *error);
void instdisc_run_post_phase (InstdiscRun *self, InstdiscRunPhase phase);
void instdisc_run_post_pass_progress (InstdiscRun *self, int done, int total);
void instdisc_run_post_saved (InstdiscRun *self, gint64 iteration);
void instdisc_run_post_data_notice (InstdiscRun *self, const char *message);
void instdisc_run_post_snapshot (InstdiscRun *self, const MemoryBank *bank,
                                 gint64 iteration);
/* main thread: "metrics-added" for the rows from first on */
void instdisc_run_emit_metrics_added (InstdiscRun *self, guint first);
/* the training data and, when there is one, the test split; progress
 * (may be NULL) hears how far a folder's load has come */
gboolean instdisc_run_open_data (InstdiscRun *self,
                                 DatasetProgressFunc progress,
                                 gpointer progress_data, GError **error);

/* ---- instdisc-run-tasks.c ---- */

/* Takes infer_lock to replace infer: waits while an embedding has lent it
 * (infer_lent), so no set is embedded by two networks. */
void instdisc_run_lock_infer_for_writing (InstdiscRun *self);

/* ---- instdisc-run-thread.c ---- */

/* the trainer thread's body (g_thread_new's function, data the run) */
gpointer instdisc_run_trainer_thread (gpointer data);

/* ---- instdisc-run-follow.c ---- */

/* main thread: the rows metrics.csv has gained since the last read */
void instdisc_run_reload_metrics (InstdiscRun *self);

G_END_DECLS
