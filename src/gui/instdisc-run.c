/* instdisc-run.c: a training run on its own thread, or a run folder being
 * followed: the object, its progress queue, control and accessors; see
 * instdisc-run.h for the threading contract and instdisc-run-private.h for
 * the other files. */
#define G_LOG_DOMAIN "instdisc-gui"

#include "instdisc-run-private.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

GMutex instdisc_run_engine_lock;   /* instdisc-run-private.h */

G_DEFINE_FINAL_TYPE (InstdiscRun, instdisc_run, G_TYPE_OBJECT)

enum
{
  METRICS_ADDED,
  STATE_CHANGED,
  SNAPSHOT_READY,
  CHECKPOINT_SAVED,
  DATA_NOTICE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* read-only, notified on the main thread; "state-changed" stays for the
 * callers that want one signal for a state or an error */
enum
{
  PROP_0,
  PROP_STATE,
  PROP_PHASE,
  PROP_ITERATION,
  PROP_ERROR,
  PROP_PASS_PROGRESS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_ENUM_TYPE (InstdiscRunPhase, instdisc_run_phase,
                    G_DEFINE_ENUM_VALUE (INSTDISC_RUN_PHASE_NONE, "none"),
                    G_DEFINE_ENUM_VALUE (INSTDISC_RUN_PHASE_PREPARING,
                                         "preparing"),
                    G_DEFINE_ENUM_VALUE (INSTDISC_RUN_PHASE_REFERENCE,
                                         "reference"),
                    G_DEFINE_ENUM_VALUE (INSTDISC_RUN_PHASE_TRAINING,
                                         "training"),
                    G_DEFINE_ENUM_VALUE (INSTDISC_RUN_PHASE_EVALUATING,
                                         "evaluating"))

G_DEFINE_ENUM_TYPE (InstdiscRunState, instdisc_run_state,
                    G_DEFINE_ENUM_VALUE (INSTDISC_RUN_IDLE, "idle"),
                    G_DEFINE_ENUM_VALUE (INSTDISC_RUN_RUNNING, "running"),
                    G_DEFINE_ENUM_VALUE (INSTDISC_RUN_PAUSED, "paused"),
                    G_DEFINE_ENUM_VALUE (INSTDISC_RUN_STOPPED, "stopped"),
                    G_DEFINE_ENUM_VALUE (INSTDISC_RUN_FOLLOWING, "following"),
                    G_DEFINE_ENUM_VALUE (INSTDISC_RUN_STOPPING, "stopping"))

void
instdisc_run_emit_metrics_added (InstdiscRun *self, guint first)
{
  g_signal_emit (self, signals[METRICS_ADDED], 0, first);
}

G_DEFINE_BOXED_TYPE (InstdiscSnapshot, instdisc_snapshot,
                     instdisc_snapshot_ref, instdisc_snapshot_unref)

typedef struct
{
  InstdiscSnapshot public;
  gatomicrefcount refs;
} SnapshotPrivate;

InstdiscSnapshot *
instdisc_snapshot_ref (InstdiscSnapshot *self)
{
  g_atomic_ref_count_inc (&((SnapshotPrivate *) self)->refs);
  return self;
}

void
instdisc_snapshot_unref (InstdiscSnapshot *self)
{
  if (!self || !g_atomic_ref_count_dec (&((SnapshotPrivate *) self)->refs))
    return;
  g_free (self->bank);
  dataset_unref ((Dataset *) self->train);
  g_free (self);
}

InstdiscSnapshot *
instdisc_snapshot_new (gint64 iteration, int n, int dim, const float *bank,
                       const Dataset *train)
{
  SnapshotPrivate *priv = g_new0 (SnapshotPrivate, 1);
  g_atomic_ref_count_init (&priv->refs);
  InstdiscSnapshot *snapshot = &priv->public;
  snapshot->iteration = iteration;
  snapshot->n = n;
  snapshot->dim = dim;
  snapshot->bank = g_memdup2 (bank, sizeof (float) * (gsize) n * dim);
  snapshot->train = train ? dataset_ref (train) : NULL;
  return snapshot;
}

/* Called with queue_lock held. The snapshot references the training set
 * it points into, so it may outlive the run. */
static InstdiscSnapshot *
snapshot_new_locked (InstdiscRun *self, const MemoryBank *bank,
                     gint64 iteration)
{
  return instdisc_snapshot_new (iteration, bank->n, bank->dim, bank->vectors,
                                self->train);
}

/* ---- the main-thread side of the progress queue ---- */

/* Replaces the run's error (NULL clears it), taking error. */
static void
take_error (InstdiscRun *self, GError *error)
{
  if (!self->error && !error)
    return;
  g_clear_error (&self->error);
  self->error = error;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR]);
}

static void
set_pass_progress (InstdiscRun *self, int done, int total)
{
  if (self->pass_done == done && self->pass_total == total)
    return;
  self->pass_done = done;
  self->pass_total = total;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PASS_PROGRESS]);
}

static void
set_phase (InstdiscRun *self, InstdiscRunPhase phase)
{
  if (self->phase == phase)
    return;
  self->phase = phase;
  /* a new phase has made no progress yet */
  set_pass_progress (self, 0, 0);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PHASE]);
}

static void
set_state (InstdiscRun *self, InstdiscRunState state)
{
  if (self->state == state)
    return;
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
  g_signal_emit (self, signals[STATE_CHANGED], 0);
}

static void join_thread_async (InstdiscRun *self);

/* The shortest time between two deliveries of metrics rows (or of a
 * pass's progress): five a second. Each delivery redraws the Training
 * view, and a window redrawn at every step (15 a second for the small
 * ResNet here) took a third of a core in Mesa's software rasteriser and
 * a tenth on the main loop, which on two cores the trainer's threads
 * lost (docs/performance-gui.md, "With its window drawing").
 * A state, a phase, an error, a notice, a checkpoint or a snapshot does
 * not wait: it is delivered at once, with whatever rows are queued. */
#define ROWS_INTERVAL_US (200 * G_TIME_SPAN_MILLISECOND)

/* Called with queue_lock held: whether something other than rows and a
 * pass's progress is waiting */
static gboolean
urgent_pending_locked (InstdiscRun *self)
{
  return self->pending_state >= 0 || self->pending_phase >= 0
         || self->pending_saved >= 0 || self->pending_notice
         || self->pending_error || self->pending_snapshot;
}

static gboolean paced_drain (gpointer data);

/* Delivers what the thread queued; rows and a pass's progress that come
 * too soon after the last wait for a paced drain, unless at_once. */
static void
deliver_queue (InstdiscRun *self, gboolean at_once)
{
  g_autoptr (GArray) rows = NULL;
  g_autoptr (InstdiscSnapshot) snapshot = NULL;
  g_autoptr (GError) error = NULL;
  int state;

  g_mutex_lock (&self->queue_lock);
  const gint64 now = g_get_monotonic_time ();
  const gint64 due = self->rows_delivered_at + ROWS_INTERVAL_US;
  const gboolean progress = self->pending_rows->len > 0
                            || self->pending_pass_done >= 0;
  if (!at_once && progress && self->rows_delivered_at > 0 && now < due
      && !self->shutting_down && !urgent_pending_locked (self))
    {
      /* too soon after the last rows: one paced drain when it is time,
       * the queue still marked as due so that the thread adds no idle
       * (but for something urgent, queue_idle_locked) */
      if (!self->paced)
        g_timeout_add_full (G_PRIORITY_DEFAULT,
                            (guint) ((due - now + 999) / 1000), paced_drain,
                            g_object_ref (self), g_object_unref);
      self->paced = TRUE;
      self->idle_queued = TRUE;
      g_mutex_unlock (&self->queue_lock);
      return;
    }
  self->idle_queued = FALSE;
  if (self->pending_rows->len > 0)
    {
      rows = self->pending_rows;
      self->pending_rows = g_array_new (FALSE, FALSE, sizeof (MetricsRow));
    }
  snapshot = g_steal_pointer (&self->pending_snapshot);
  state = self->pending_state;
  self->pending_state = -1;
  int phase = self->pending_phase;
  self->pending_phase = -1;
  gint64 saved = self->pending_saved;
  self->pending_saved = -1;
  g_autofree char *notice = g_steal_pointer (&self->pending_notice);
  int pass_done = self->pending_pass_done;
  int pass_total = self->pending_pass_total;
  self->pending_pass_done = -1;
  error = g_steal_pointer (&self->pending_error);
  if (rows)
    self->seconds_left = self->pending_seconds_left;
  g_mutex_unlock (&self->queue_lock);

  if (rows || pass_done >= 0)
    self->rows_delivered_at = now;
  if (rows)
    {
      guint first = self->metrics->len;
      g_array_append_vals (self->metrics, rows->data, rows->len);
      g_signal_emit (self, signals[METRICS_ADDED], 0, first);
    }
  if (snapshot)
    g_signal_emit (self, signals[SNAPSHOT_READY], 0, snapshot);
  if (saved >= 0)
    g_signal_emit (self, signals[CHECKPOINT_SAVED], 0, saved);
  if (notice)
    g_signal_emit (self, signals[DATA_NOTICE], 0, notice);
  if (phase >= 0)
    set_phase (self, phase);
  if (pass_done >= 0)
    set_pass_progress (self, pass_done, pass_total);
  if (error && !self->error)
    take_error (self, g_steal_pointer (&error));
  if (rows)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ITERATION]);
  /* STOPPED from the thread means it is ending (finished, failed or asked
   * to stop): the state follows once it is joined. PAUSED and RUNNING
   * confirm a request, and are stale once a stop was asked. */
  if (state == INSTDISC_RUN_STOPPED)
    join_thread_async (self);
  else if (state >= 0 && (self->state == INSTDISC_RUN_RUNNING
                          || self->state == INSTDISC_RUN_PAUSED))
    set_state (self, state);
}

static gboolean
drain_queue (gpointer data)
{
  deliver_queue (data, FALSE);
  return G_SOURCE_REMOVE;
}

/* the paced drain's timeout: no longer waiting */
static gboolean
paced_drain (gpointer data)
{
  InstdiscRun *self = data;
  g_mutex_lock (&self->queue_lock);
  self->paced = FALSE;
  g_mutex_unlock (&self->queue_lock);
  return drain_queue (data);
}

/* Called with queue_lock held, from any thread: one idle at a time, however
 * many records the thread queues before the main loop gets to it; and one
 * more for something urgent while the drain due is a paced one. */
static void
queue_idle_locked (InstdiscRun *self, gboolean urgent)
{
  if (self->shutting_down || (self->idle_queued && !(urgent && self->paced)))
    return;
  self->idle_queued = TRUE;
  g_idle_add_full (G_PRIORITY_DEFAULT, drain_queue, g_object_ref (self),
                   g_object_unref);
}

void
instdisc_run_post_rows (InstdiscRun *self, const MetricsRow *rows, guint n,
                        gint64 iteration, double seconds_left)
{
  g_mutex_lock (&self->queue_lock);
  g_array_append_vals (self->pending_rows, rows, n);
  self->thread_iteration = iteration;
  self->pending_seconds_left = seconds_left;
  queue_idle_locked (self, FALSE);
  g_mutex_unlock (&self->queue_lock);
}

void
instdisc_run_post_phase (InstdiscRun *self, InstdiscRunPhase phase)
{
  g_mutex_lock (&self->queue_lock);
  self->pending_phase = phase;
  /* progress queued so far belongs to the phase that ended */
  self->pending_pass_done = -1;
  queue_idle_locked (self, TRUE);
  g_mutex_unlock (&self->queue_lock);
}

void
instdisc_run_post_saved (InstdiscRun *self, gint64 iteration)
{
  g_mutex_lock (&self->queue_lock);
  self->pending_saved = iteration;
  queue_idle_locked (self, TRUE);
  g_mutex_unlock (&self->queue_lock);
}

void
instdisc_run_post_data_notice (InstdiscRun *self, const char *message)
{
  g_mutex_lock (&self->queue_lock);
  /* two before the main loop drains them: both said, in one line */
  char *joined = self->pending_notice
                     ? g_strjoin ("; ", self->pending_notice, message, NULL)
                     : g_strdup (message);
  g_free (self->pending_notice);
  self->pending_notice = joined;
  queue_idle_locked (self, TRUE);
  g_mutex_unlock (&self->queue_lock);
}

void
instdisc_run_post_pass_progress (InstdiscRun *self, int done, int total)
{
  g_mutex_lock (&self->queue_lock);
  self->pending_pass_done = done;
  self->pending_pass_total = total;
  queue_idle_locked (self, FALSE);
  g_mutex_unlock (&self->queue_lock);
}

void
instdisc_run_post_state (InstdiscRun *self, InstdiscRunState state, GError *error)
{
  g_mutex_lock (&self->queue_lock);
  self->pending_state = state;
  if (error && !self->pending_error)
    self->pending_error = g_error_copy (error);
  queue_idle_locked (self, TRUE);
  g_mutex_unlock (&self->queue_lock);
}

void
instdisc_run_post_snapshot (InstdiscRun *self, const MemoryBank *bank, gint64 iteration)
{
  g_mutex_lock (&self->queue_lock);
  if (!self->shutting_down)
    {
      /* an undelivered older snapshot is stale: replace it */
      g_clear_pointer (&self->pending_snapshot, instdisc_snapshot_unref);
      self->pending_snapshot = snapshot_new_locked (self, bank, iteration);
      queue_idle_locked (self, TRUE);
    }
  g_mutex_unlock (&self->queue_lock);
}

/* ---- ending the thread without blocking the main loop ---- */

/* The thread has been asked to stop or has posted its last state; what is
 * left (the rest of a step, an epoch's evaluation, the checkpoint's write)
 * can take seconds, so a worker waits for it rather than the main loop. */
static void
join_worker (GTask *task, gpointer source, gpointer task_data,
             GCancellable *cancellable)
{
  g_thread_join (task_data);
  g_task_return_boolean (task, TRUE);
}

static void
join_done (GObject *source, GAsyncResult *result, gpointer data)
{
  InstdiscRun *self = INSTDISC_RUN (source);
  g_task_propagate_boolean (G_TASK (result), NULL);
  self->thread = NULL;
  self->joining = FALSE;
  set_phase (self, INSTDISC_RUN_PHASE_NONE);
  /* the thread wrote its last checkpoint: another writer may take over */
  g_clear_pointer (&self->lock, run_lock_release);
  /* deliver what the thread queued last, the error among it */
  deliver_queue (self, TRUE);
  /* a snapshot asked for while the thread was ending is served from the
   * stopped network, so no caller waits for one that never comes */
  if (g_atomic_int_compare_and_exchange (&self->snapshot_requested, 1, 0))
    instdisc_run_request_snapshot (self);
  set_state (self, INSTDISC_RUN_STOPPED);
}

/* The task holds a reference on the run, so the run (and the trainer the
 * thread uses) lives until the thread has ended, whoever drops theirs. */
static void
join_thread_async (InstdiscRun *self)
{
  if (!self->thread || self->joining)
    return;
  self->joining = TRUE;
  g_autoptr (GTask) task = g_task_new (self, NULL, join_done, NULL);
  g_task_set_source_tag (task, join_thread_async);
  g_task_set_task_data (task, self->thread, NULL);
  g_task_run_in_thread (task, join_worker);
}

/* ---- construction ---- */

static void
instdisc_run_dispose (GObject *object)
{
  InstdiscRun *self = INSTDISC_RUN (object);

  g_mutex_lock (&self->queue_lock);
  self->shutting_down = TRUE;
  g_mutex_unlock (&self->queue_lock);
  if (self->thread)
    {
      g_atomic_int_set (&self->stop_requested, 1);
      g_mutex_lock (&self->control_lock);
      g_cond_signal (&self->control_cond);
      g_mutex_unlock (&self->control_lock);
      g_clear_pointer (&self->thread, g_thread_join);
    }
  g_cancellable_cancel (self->cancellable);
  if (self->metrics_monitor)
    g_file_monitor_cancel (self->metrics_monitor);
  if (self->checkpoint_monitor)
    g_file_monitor_cancel (self->checkpoint_monitor);
  g_clear_object (&self->metrics_monitor);
  g_clear_object (&self->checkpoint_monitor);
  g_clear_object (&self->cancellable);
  G_OBJECT_CLASS (instdisc_run_parent_class)->dispose (object);
}

static void
instdisc_run_finalize (GObject *object)
{
  InstdiscRun *self = INSTDISC_RUN (object);

  g_clear_pointer (&self->lock, run_lock_release);
  /* the trainers borrow the data sets */
  g_clear_pointer (&self->trainer, trainer_free);
  g_clear_pointer (&self->infer, run_model_free);
  g_clear_pointer (&self->train, dataset_unref);
  g_clear_pointer (&self->test, dataset_unref);
  g_clear_pointer (&self->metrics, g_array_unref);
  g_clear_pointer (&self->pending_rows, g_array_unref);
  g_clear_pointer (&self->pending_snapshot, instdisc_snapshot_unref);
  g_clear_error (&self->pending_error);
  g_clear_pointer (&self->pending_notice, g_free);
  g_clear_error (&self->error);
  g_clear_error (&self->data_error);
  g_free (self->data_notice);
  g_free (self->dir);
  g_free (self->data_spec);
  g_mutex_clear (&self->infer_lock);
  g_cond_clear (&self->infer_cond);
  g_mutex_clear (&self->control_lock);
  g_mutex_clear (&self->queue_lock);
  g_cond_clear (&self->control_cond);
  G_OBJECT_CLASS (instdisc_run_parent_class)->finalize (object);
}

/* 0: one per core */
static int engine_threads;

void
instdisc_run_set_engine_threads (int n)
{
  /* read once, as the class initialises: a run may be using the pool
   * after that */
  engine_threads = MAX (n, 0);
}

static void
instdisc_run_get_property (GObject *object, guint id, GValue *value,
                           GParamSpec *pspec)
{
  InstdiscRun *self = INSTDISC_RUN (object);
  switch (id)
    {
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_PHASE:
      g_value_set_enum (value, self->phase);
      break;
    case PROP_ITERATION:
      g_value_set_int64 (value, instdisc_run_get_iteration (self));
      break;
    case PROP_ERROR:
      g_value_set_boxed (value, self->error);
      break;
    case PROP_PASS_PROGRESS:
      g_value_set_double (value, instdisc_run_get_pass_progress (self, NULL,
                                                                 NULL));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
instdisc_run_class_init (InstdiscRunClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = instdisc_run_dispose;
  object_class->finalize = instdisc_run_finalize;
  object_class->get_property = instdisc_run_get_property;

  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, INSTDISC_TYPE_RUN_STATE,
                       INSTDISC_RUN_IDLE,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_PHASE] =
    g_param_spec_enum ("phase", NULL, NULL, INSTDISC_TYPE_RUN_PHASE,
                       INSTDISC_RUN_PHASE_NONE,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /* the steps done, as far as the main loop has heard */
  properties[PROP_ITERATION] =
    g_param_spec_int64 ("iteration", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /* why the last start or the thread failed, or NULL */
  properties[PROP_ERROR] =
    g_param_spec_boxed ("error", NULL, NULL, G_TYPE_ERROR,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /* how far the phase's pass over images is, 0 to 1 (0 also before its
   * first batch): instdisc_run_get_pass_progress */
  properties[PROP_PASS_PROGRESS] =
    g_param_spec_double ("pass-progress", NULL, NULL, 0.0, 1.0, 0.0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* The engine's one threading scheme (threads.h): its own pool, one
   * engine thread per core (or as many as the Preferences ask) and
   * OpenBLAS single-threaded inside them. Without this OpenBLAS keeps its
   * own threads, which spin against the engine's on two cores (measured:
   * 1 step/s instead of dozens on the tests' tiny set). Set before any run
   * uses the engine. */
  engine_set_threads (engine_threads);

  signals[METRICS_ADDED] =
    g_signal_new ("metrics-added", G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                  G_TYPE_UINT);
  signals[STATE_CHANGED] =
    g_signal_new ("state-changed", G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SNAPSHOT_READY] =
    g_signal_new ("snapshot-ready", G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                  instdisc_snapshot_get_type ());
  /* a "save now" was done: the checkpoint holds this many steps */
  signals[CHECKPOINT_SAVED] =
    g_signal_new ("checkpoint-saved", G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                  G_TYPE_INT64);
  /* training left out images it could not read (one line naming them) */
  signals[DATA_NOTICE] =
    g_signal_new ("data-notice", G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                  G_TYPE_STRING);
}

static void
instdisc_run_init (InstdiscRun *self)
{
  g_mutex_init (&self->infer_lock);
  g_cond_init (&self->infer_cond);
  g_mutex_init (&self->control_lock);
  g_mutex_init (&self->queue_lock);
  g_cond_init (&self->control_cond);
  self->metrics = g_array_new (FALSE, FALSE, sizeof (MetricsRow));
  self->pending_rows = g_array_new (FALSE, FALSE, sizeof (MetricsRow));
  self->pending_state = -1;
  self->pending_seconds_left = self->seconds_left = NAN;
  self->pending_phase = -1;
  self->pending_pass_done = -1;
  self->pending_saved = -1;
  self->cancellable = g_cancellable_new ();
  self->state = INSTDISC_RUN_IDLE;
  trainer_config_init_default (&self->config);
}

/* The training data and, when it has one, the test split for the
 * evaluation; one IDX or CIFAR file has none (dataset.h), and its run is
 * not evaluated, as on the command line. */
gboolean
instdisc_run_open_data (InstdiscRun *self, DatasetProgressFunc progress,
                        gpointer progress_data, GError **error)
{
  DatasetOptions options;
  dataset_options_init_default (&options);
  options.image_size = self->image_size;
  options.progress = progress;
  options.progress_data = progress_data;
  self->train = dataset_open (self->data_spec, "train", &options, error);
  if (!self->train)
    return FALSE;
  g_autoptr (GError) test_error = NULL;
  self->test = dataset_open (self->data_spec, "test", &options, &test_error);
  if (!self->test)
    g_debug ("%s: no test split, no kNN evaluation: %s", self->data_spec,
             test_error->message);
  return TRUE;
}

InstdiscRun *
instdisc_run_new_training (const char *run_dir, const char *data_spec,
                           const TrainerConfig *config, GError **error)
{
  DatasetOptions defaults;
  dataset_options_init_default (&defaults);
  return instdisc_run_new_training_sized (run_dir, data_spec,
                                          defaults.image_size, config, error);
}

InstdiscRun *
instdisc_run_new_training_sized (const char *run_dir, const char *data_spec,
                                 int image_size, const TrainerConfig *config,
                                 GError **error)
{
  return instdisc_run_new_training_with_progress (run_dir, data_spec,
                                                  image_size, config, NULL,
                                                  NULL, error);
}

InstdiscRun *
instdisc_run_new_training_with_progress (const char *run_dir,
                                         const char *data_spec,
                                         int image_size,
                                         const TrainerConfig *config,
                                         DatasetProgressFunc progress,
                                         gpointer progress_data,
                                         GError **error)
{
  g_autoptr (InstdiscRun) self = g_object_new (INSTDISC_TYPE_RUN, NULL);
  self->dir = g_strdup (run_dir);
  self->data_spec = g_strdup (data_spec);
  self->image_size = image_size;
  self->config = *config;

  g_autofree char *existing = run_dir_file (run_dir, RUN_CONFIG_FILE);
  if (g_file_test (existing, G_FILE_TEST_EXISTS))
    {
      g_autofree char *shown = g_filename_display_name (run_dir);
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_EXIST,
                   _("%s already holds a run: open it to continue it, or "
                     "choose another folder"), shown);
      return NULL;
    }
  if (!instdisc_run_open_data (self, progress, progress_data, error))
    return NULL;
  self->trainer = trainer_new (&self->config, self->train, error);
  if (!self->trainer)
    return NULL;
  self->infer = run_model_new (&self->config, self->train, error);
  if (!self->infer)
    return NULL;
  run_model_copy_network (self->infer, trainer_get_network (self->trainer));
  self->infer_loaded = TRUE;

  g_autoptr (GKeyFile) keyfile = trainer_run_keyfile_new (&self->config,
                                                          data_spec,
                                                          self->train,
                                                          self->image_size);
  if (!run_dir_ensure (run_dir, error)
      || !(self->lock = run_lock_acquire (run_dir, error)))
    return NULL;
  /* again, now that no other writer can start one */
  if (g_file_test (existing, G_FILE_TEST_EXISTS))
    {
      g_autofree char *shown = g_filename_display_name (run_dir);
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_EXIST,
                   _("%s already holds a run: open it to continue it, or "
                     "choose another folder"), shown);
      return NULL;
    }
  if (!run_dir_save_config (run_dir, keyfile, error)
      || !trainer_run_pin_data (run_dir, self->train, self->test, error))
    return NULL;
  return g_steal_pointer (&self);
}

/* ---- control ---- */

static void
wake_thread (InstdiscRun *self)
{
  g_mutex_lock (&self->control_lock);
  g_cond_signal (&self->control_cond);
  g_mutex_unlock (&self->control_lock);
}

/* A followed run continues training here from its checkpoint, as
 * `instdisc train --resume` would. */
static gboolean
prepare_resume (InstdiscRun *self, GError **error)
{
  if (!self->train)
    {
      *error = g_error_copy (self->data_error);
      return FALSE;
    }
  g_autoptr (Trainer) trainer = trainer_new (&self->config, self->train, error);
  if (!trainer)
    return FALSE;
  if (!self->lock && !(self->lock = run_lock_acquire (self->dir, error)))
    return FALSE;
  g_autofree char *checkpoint = run_dir_file (self->dir, RUN_CHECKPOINT_FILE);
  if (g_file_test (checkpoint, G_FILE_TEST_EXISTS))
    {
      if (!trainer_run_resume (trainer, self->dir, &self->wall_offset, error))
        return FALSE;
    }
  else if (!run_dir_truncate_metrics (
               self->dir, trainer_run_metrics_columns (&self->config), 0,
               error))
    return FALSE;
  /* a run made before files.txt existed lists its images from now on; one
   * an MPI job trained continues in this one process */
  if (!trainer_run_pin_data (self->dir, self->train, self->test, error)
      || !trainer_run_record_ranks (self->dir, 1, error))
    return FALSE;
  if (self->metrics_monitor)
    g_file_monitor_cancel (self->metrics_monitor);
  if (self->checkpoint_monitor)
    g_file_monitor_cancel (self->checkpoint_monitor);
  g_clear_object (&self->metrics_monitor);
  g_clear_object (&self->checkpoint_monitor);
  g_cancellable_cancel (self->cancellable);
  /* the shown rows now match the truncated file */
  g_autoptr (GArray) rows = run_dir_load_metrics (self->dir, NULL);
  g_array_set_size (self->metrics, 0);
  if (rows && rows->len)
    g_array_append_vals (self->metrics, rows->data, rows->len);
  g_signal_emit (self, signals[METRICS_ADDED], 0, 0u);
  self->trainer = g_steal_pointer (&trainer);
  return TRUE;
}

void
instdisc_run_start (InstdiscRun *self)
{
  g_return_if_fail (INSTDISC_IS_RUN (self));

  switch (self->state)
    {
    case INSTDISC_RUN_RUNNING:
    case INSTDISC_RUN_STOPPING:
      return;
    case INSTDISC_RUN_PAUSED:
      g_atomic_int_set (&self->pause_requested, 0);
      wake_thread (self);
      /* the thread confirms too; this makes the button flip at once */
      set_state (self, INSTDISC_RUN_RUNNING);
      return;
    case INSTDISC_RUN_FOLLOWING:
    case INSTDISC_RUN_STOPPED:
      {
        g_autoptr (GError) error = NULL;
        if (self->state == INSTDISC_RUN_FOLLOWING || !self->trainer)
          {
            if (!prepare_resume (self, &error))
              {
                /* a folder that another process is training stays
                 * followed */
                if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BUSY))
                  {
                    self->state = INSTDISC_RUN_STOPPED;
                    g_object_notify_by_pspec (G_OBJECT (self),
                                              properties[PROP_STATE]);
                  }
                take_error (self, g_steal_pointer (&error));
                /* the error is news even when the state is not */
                g_signal_emit (self, signals[STATE_CHANGED], 0);
                return;
              }
          }
        else if (!self->lock
                 && !(self->lock = run_lock_acquire (self->dir, &error)))
          {
            take_error (self, g_steal_pointer (&error));
            g_signal_emit (self, signals[STATE_CHANGED], 0);
            return;
          }
        else
          {
            /* a stopped run continues where its last step left it */
            g_autoptr (GArray) rows = run_dir_load_metrics (self->dir, NULL);
            if (rows && rows->len)
              self->wall_offset = g_array_index (rows, MetricsRow,
                                                 rows->len - 1).wall_s;
          }
      }
      break;
    case INSTDISC_RUN_IDLE:
      break;
    }
  /* a thread that finished on its own was joined before STOPPED */
  g_return_if_fail (self->thread == NULL);
  take_error (self, NULL);
  g_atomic_int_set (&self->stop_requested, 0);
  g_atomic_int_set (&self->pause_requested, 0);
  g_mutex_lock (&self->queue_lock);
  self->thread_iteration = trainer_get_iteration (self->trainer);
  g_mutex_unlock (&self->queue_lock);
  self->thread = g_thread_new ("instdisc-trainer", instdisc_run_trainer_thread, self);
  set_state (self, INSTDISC_RUN_RUNNING);
}

gboolean
instdisc_run_set_epochs (InstdiscRun *self, int epochs, GError **error)
{
  g_return_val_if_fail (INSTDISC_IS_RUN (self), FALSE);
  g_return_val_if_fail (self->thread == NULL, FALSE);
  /* the folder is this process's to write from here on, as for a start */
  if (!self->lock && !(self->lock = run_lock_acquire (self->dir, error)))
    return FALSE;
  if (!trainer_run_set_epochs (self->dir, NULL, &self->config, epochs, error))
    return FALSE;
  /* the stopped trainer keeps the old length: the next start builds
   * another from the new config.ini and the checkpoint, which matches the
   * last step (a run that stops or finishes saves it), as
   * `instdisc train --resume` does */
  g_clear_pointer (&self->trainer, trainer_free);
  g_signal_emit (self, signals[STATE_CHANGED], 0);
  return TRUE;
}

void
instdisc_run_pause (InstdiscRun *self)
{
  g_return_if_fail (INSTDISC_IS_RUN (self));
  if (self->state != INSTDISC_RUN_RUNNING)
    return;
  g_atomic_int_set (&self->pause_requested, 1);
}

void
instdisc_run_stop (InstdiscRun *self)
{
  g_return_if_fail (INSTDISC_IS_RUN (self));
  if (self->thread)
    {
      if (self->state == INSTDISC_RUN_STOPPING)
        return;
      /* the thread ends after at most one step (or an epoch's evaluation
       * already under way) and the checkpoint's write */
      g_atomic_int_set (&self->stop_requested, 1);
      wake_thread (self);
      set_state (self, INSTDISC_RUN_STOPPING);
      join_thread_async (self);
      return;
    }
  if (self->state == INSTDISC_RUN_FOLLOWING)
    return;
  set_state (self, INSTDISC_RUN_STOPPED);
}

void
instdisc_run_save_now (InstdiscRun *self)
{
  g_return_if_fail (INSTDISC_IS_RUN (self));
  if (self->thread)
    {
      g_atomic_int_set (&self->save_requested, 1);
      wake_thread (self);
    }
}

void
instdisc_run_request_snapshot (InstdiscRun *self)
{
  g_return_if_fail (INSTDISC_IS_RUN (self));
  if (self->thread)
    {
      g_atomic_int_set (&self->snapshot_requested, 1);
      wake_thread (self);
      return;
    }
  /* no writer: the bank of the stopped run (none before the bank is
   * filled: its noise would show as a map), or of the last checkpoint */
  if (self->trainer)
    {
      if (!trainer_bank_is_ready (self->trainer))
        return;
      instdisc_run_post_snapshot (self, trainer_get_bank (self->trainer),
                                  trainer_get_iteration (self->trainer));
      return;
    }
  g_mutex_lock (&self->infer_lock);
  if (self->infer && self->infer_loaded)
    instdisc_run_post_snapshot (self, self->infer->bank,
                                self->infer->iteration);
  g_mutex_unlock (&self->infer_lock);
}

/* ---- accessors ---- */

InstdiscRunState
instdisc_run_get_state (InstdiscRun *self)
{
  return self->state;
}

double
instdisc_run_get_pass_progress (InstdiscRun *self, int *done, int *total)
{
  if (done)
    *done = self->pass_done;
  if (total)
    *total = self->pass_total;
  return self->pass_total > 0 ? CLAMP ((double) self->pass_done
                                       / self->pass_total, 0.0, 1.0)
                              : 0.0;
}

InstdiscRunPhase
instdisc_run_get_phase (InstdiscRun *self)
{
  return self->phase;
}

const char *
instdisc_run_get_dir (InstdiscRun *self)
{
  return self->dir;
}

const TrainerConfig *
instdisc_run_get_config (InstdiscRun *self)
{
  return &self->config;
}

const Dataset *
instdisc_run_get_train (InstdiscRun *self)
{
  return self->train;
}

const Dataset *
instdisc_run_get_test (InstdiscRun *self)
{
  return self->test;
}

int
instdisc_run_get_steps_per_epoch (InstdiscRun *self)
{
  if (self->trainer)
    return trainer_steps_per_epoch (self->trainer);
  if (self->train)
    return trainer_config_steps_per_epoch (&self->config, self->train->n);
  /* a followed run without its data: from the size config.ini recorded */
  const MetricsRow *rows = (const MetricsRow *) self->metrics->data;
  for (guint i = 1; i < self->metrics->len; i++)
    if (rows[i].epoch == 2 && rows[i - 1].epoch == 1)
      return (int) rows[i - 1].iteration;
  return 0;
}

GArray *
instdisc_run_get_metrics (InstdiscRun *self)
{
  return self->metrics;
}

const GError *
instdisc_run_get_error (InstdiscRun *self)
{
  return self->error;
}

const char *
instdisc_run_get_data_spec (InstdiscRun *self)
{
  return self->data_spec;
}

const GError *
instdisc_run_get_data_error (InstdiscRun *self)
{
  return self->data_error;
}

const char *
instdisc_run_get_data_notice (InstdiscRun *self)
{
  return self->data_notice;
}

gint64
instdisc_run_get_iteration (InstdiscRun *self)
{
  g_mutex_lock (&self->queue_lock);
  gint64 iteration = self->thread_iteration;
  g_mutex_unlock (&self->queue_lock);
  if (!self->thread && self->trainer)
    iteration = trainer_get_iteration (self->trainer);
  return iteration;
}

gint64
instdisc_run_get_steps_done (InstdiscRun *self)
{
  gint64 done = instdisc_run_get_iteration (self);
  if (self->metrics->len)
    done = MAX (done, g_array_index (self->metrics, MetricsRow,
                                     self->metrics->len - 1).iteration);
  return done;
}

double
instdisc_run_get_seconds_left (InstdiscRun *self)
{
  if (self->state != INSTDISC_RUN_RUNNING)
    return NAN;
  return self->seconds_left;
}

gint64
instdisc_run_get_total_steps (InstdiscRun *self)
{
  gint64 total = (gint64) self->config.epochs
                 * instdisc_run_get_steps_per_epoch (self);
  if (self->steps_limit > 0 && self->steps_limit < total)
    total = self->steps_limit;
  return total;
}

void
instdisc_run_set_steps_limit (InstdiscRun *self, gint64 steps)
{
  g_return_if_fail (self->thread == NULL);
  self->steps_limit = steps;
}

void
instdisc_run_set_evaluate_recomputed (InstdiscRun *self, gboolean recompute)
{
  g_return_if_fail (self->thread == NULL);
  self->evaluate_recomputed = recompute;
}

void
instdisc_run_set_evaluate_linear (InstdiscRun *self, gboolean linear)
{
  g_return_if_fail (self->thread == NULL);
  self->evaluate_linear = linear;
}

gboolean
instdisc_run_get_evaluate_linear (InstdiscRun *self)
{
  return self->evaluate_linear;
}

gboolean
instdisc_run_export_snapshot (InstdiscSnapshot *snapshot, const char *folder,
                              GError **error)
{
  if (!snapshot->train)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                           _("The run's data set is not available here"));
      return FALSE;
    }
  return run_dir_ensure (folder, error)
         && trainer_run_export (folder, snapshot->train, snapshot->bank,
                                snapshot->dim, error);
}

