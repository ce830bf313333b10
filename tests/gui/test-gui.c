/* test-gui.c: the explorer's widgets and its run thread, under Xvfb.
 *   /gui/run/photos         a photo folder at 224 with the ImageNet recipe:
 *                           ResNet-18 (ImageNet stem) trains its steps
 *   /gui/thumb/off-main-loop   a folder's picture is decoded by a worker
 *                           and cached; the last one asked for is shown;
 *                           a broken file's reason is the tooltip
 *   /gui/run/train-pause-stop   a run on a tiny IDX set: steps arrive,
 *                           pause within one step, a snapshot, a valid
 *                           checkpoint after stop
 *   /gui/run/epoch-linear   an epoch with the linear evaluation on: the
 *                           eval row has the linear classifier's accuracy
 *                           (and the recomputed kNN it needs), in
 *                           metrics.csv, and the Training view plots it
 *   /gui/run/follow-grows   a followed folder grows: rows appended to
 *                           metrics.csv arrive by "metrics-added", the
 *                           renamed checkpoint is reloaded
 *   /gui/run/same-as-cli    the explorer and `instdisc train` with the same
 *                           settings: the same metrics.csv rows and
 *                           checkpoint (one training loop)
 *   /gui/training-view/nce   the NCE panel of an NCE run, filled by column
 *                           name from an old metrics.csv; none for softmax
 *   /gui/training-view/pass-time-left   the time a pass before the
 *                           first step (or an evaluation's) still takes,
 *                           from its rate since it was first seen
 *   /gui/training-view/knn-axis   the kNN axis spans the epochs done and
 *                           the next, never more than planned; 1-NN and
 *                           the untrained network's level are plotted
 *   /gui/training-view/loss-tools   the Smoothing slider recomputes the
 *                           smoothed loss from the rows and is remembered;
 *                           Log Scale puts the loss on a log axis
 *   /gui/training-view/compare   another run folder's loss and top-1 drawn
 *                           beside the run's, named after the folder;
 *                           Stop Comparing removes them; a folder without
 *                           metrics says why
 *   /gui/run/slow-gui       steps per second with and without a 50 ms
 *                           metrics handler (reported, not asserted)
 *   /gui/window/welcome, /gui/window/train   the window: welcome page;
 *                           a run trained, paused, plotted, stopped
 *   /gui/window/close-holds-application   closing mid-epoch (and
 *                           answering the question with Stop): the
 *                           application waits for the checkpoint
 *   /gui/window/export      the Export Features dialog's choices;
 *                           recomputed test-split features written
 *   /gui/dialog/new-training   the dialog builds with the defaults */
#define G_LOG_DOMAIN "instdisc-gui"

#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <math.h>
#include <string.h>

#include "blas-kernels.h"
#include "instdisc-embedding-view.h"
#include "instdisc-new-training-dialog.h"
#include "instdisc-notice-bar.h"
#include "instdisc-plot.h"
#include "instdisc-query-view.h"
#include "instdisc-retrievals-view.h"
#include "instdisc-run.h"
#include "instdisc-settings.h"
#include "instdisc-thumb.h"
#include "instdisc-training-view.h"
#include "instdisc-training-view-private.h"
#include "instdisc-window.h"
#include "trainer-run.h"

#include "gui-testutil.h"
#include "test-data.h"

#define N_IMAGES 96

static char *workdir;

/* workdir/toyN: the toy data set of N training and N test images
 * (test-data.h). */
static char *
write_idx (int n_images)
{
  g_autofree char *name = g_strdup_printf ("toy%d", n_images);
  return test_write_toy_splits (workdir, name, n_images, n_images);
}

static char *
write_tiny_idx (void)
{
  return write_idx (N_IMAGES);
}

static TrainerConfig
tiny_config (int epochs)
{
  TrainerConfig c;
  trainer_config_init_default (&c);
  c.batch_size = 16;   /* 6 steps per epoch */
  c.epochs = epochs;
  c.n_lr_drops = 0;
  return c;
}

static char *
new_run_dir (const char *name)
{
  return g_build_filename (workdir, name, NULL);
}

/* ---- the run thread ---- */

typedef struct
{
  InstdiscRun *run;
  guint metrics_signals;
  guint rows;
  InstdiscSnapshot *snapshot;
  guint sleep_ms;   /* a deliberately slow GUI */
} Watch;

static void
on_metrics (InstdiscRun *run, guint first, Watch *w)
{
  w->metrics_signals++;
  w->rows = instdisc_run_get_metrics (run)->len;
  if (w->sleep_ms)
    g_usleep (w->sleep_ms * 1000);
}

static void
on_snapshot (InstdiscRun *run, InstdiscSnapshot *snapshot, Watch *w)
{
  g_clear_pointer (&w->snapshot, instdisc_snapshot_unref);
  w->snapshot = instdisc_snapshot_ref (snapshot);
}

static gboolean
has_rows (gpointer data)
{
  return ((Watch *) data)->rows >= 2;
}

static gboolean
is_paused (gpointer data)
{
  return instdisc_run_get_state (((Watch *) data)->run) == INSTDISC_RUN_PAUSED;
}

static gboolean
is_stopped (gpointer data)
{
  return instdisc_run_get_state (((Watch *) data)->run) == INSTDISC_RUN_STOPPED;
}

static void
on_saved (InstdiscRun *run, gint64 iteration, gint64 *saved)
{
  *saved = iteration;
}

static gboolean
is_saved (gpointer data)
{
  return *(gint64 *) data >= 0;
}

static gboolean
has_snapshot (gpointer data)
{
  return ((Watch *) data)->snapshot != NULL;
}

static void
assert_valid_checkpoint (const char *dir, const Dataset *train,
                         const TrainerConfig *config, gint64 iteration)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (Trainer) fresh = trainer_new (config, train, &error);
  g_assert_no_error (error);
  g_autofree char *path = g_build_filename (dir, "checkpoint.safetensors", NULL);
  g_assert_true (trainer_load_checkpoint (fresh, path, &error));
  g_assert_no_error (error);
  g_assert_cmpint (trainer_get_iteration (fresh), ==, iteration);
}

static void
test_run_train_pause_stop (void)
{
  g_autofree char *data = write_tiny_idx ();
  g_autofree char *dir = new_run_dir ("run-pause");
  TrainerConfig config = tiny_config (100);
  g_autoptr (GError) error = NULL;
  g_autoptr (InstdiscRun) run = instdisc_run_new_training (dir, data, &config,
                                                           &error);
  g_assert_no_error (error);
  Watch w = { .run = run };
  g_signal_connect (run, "metrics-added", G_CALLBACK (on_metrics), &w);
  g_signal_connect (run, "snapshot-ready", G_CALLBACK (on_snapshot), &w);

  instdisc_run_start (run);
  g_assert_cmpint (instdisc_run_get_state (run), ==, INSTDISC_RUN_RUNNING);
  iterate_until (has_rows, &w, 60);
  g_assert_cmpuint (w.metrics_signals, >, 0);

  gint64 at_pause = instdisc_run_get_iteration (run);
  instdisc_run_pause (run);
  iterate_until (is_paused, &w, 30);
  gint64 paused_at = instdisc_run_get_iteration (run);
  /* the step under way when pause was asked may finish; no other */
  g_assert_cmpint (paused_at - at_pause, <=, 1);
  g_usleep (300 * 1000);
  g_assert_cmpint (instdisc_run_get_iteration (run), ==, paused_at);

  /* a snapshot while paused is the bank of the paused network */
  instdisc_run_request_snapshot (run);
  iterate_until (has_snapshot, &w, 30);
  g_assert_cmpint (w.snapshot->n, ==, N_IMAGES);
  g_assert_cmpint (w.snapshot->iteration, ==, paused_at);
  float norm = 0;
  for (int d = 0; d < w.snapshot->dim; d++)
    norm += w.snapshot->bank[d] * w.snapshot->bank[d];
  g_assert_true (w.snapshot->train == instdisc_run_get_train (run));

  /* save now while paused: done between steps, and said */
  gint64 saved = -1;
  g_signal_connect (run, "checkpoint-saved", G_CALLBACK (on_saved), &saved);
  instdisc_run_save_now (run);
  iterate_until (is_saved, &saved, 30);
  g_assert_cmpint (saved, ==, paused_at);
  assert_valid_checkpoint (dir, instdisc_run_get_train (run), &config,
                           paused_at);
  g_signal_handlers_disconnect_by_data (run, &saved);

  /* resume a little, then stop: a checkpoint of the last step. Stop does
   * not wait for the thread: the join completes on a later main-loop
   * iteration, so right after the call the run is still stopping. */
  instdisc_run_start (run);
  g_usleep (100 * 1000);
  instdisc_run_stop (run);
  g_assert_cmpint (instdisc_run_get_state (run), ==, INSTDISC_RUN_STOPPING);
  iterate_until (is_stopped, &w, 30);
  g_assert_null (instdisc_run_get_error (run));
  gint64 last = instdisc_run_get_iteration (run);
  g_assert_cmpint (last, >=, paused_at);
  assert_valid_checkpoint (dir, instdisc_run_get_train (run), &config, last);
  g_clear_pointer (&w.snapshot, instdisc_snapshot_unref);
  g_signal_handlers_disconnect_by_data (run, &w);
}

/* notify::phase: a bit for each phase the main loop saw */
static void
record_phase (guint *seen, GParamSpec *pspec, InstdiscRun *run)
{
  *seen |= 1u << instdisc_run_get_phase (run);
}

/* a whole epoch: its evaluation row and the checkpoint arrive */
static void
test_run_epoch (void)
{
  g_autofree char *data = write_tiny_idx ();
  g_autofree char *dir = new_run_dir ("run-epoch");
  TrainerConfig config = tiny_config (1);
  g_autoptr (GError) error = NULL;
  g_autoptr (InstdiscRun) run = instdisc_run_new_training (dir, data, &config,
                                                           &error);
  g_assert_no_error (error);
  Watch w = { .run = run };
  g_signal_connect (run, "metrics-added", G_CALLBACK (on_metrics), &w);
  guint phases_seen = 0;
  g_signal_connect_swapped (run, "notify::phase", G_CALLBACK (record_phase),
                            &phases_seen);
  /* before the start the bank is noise that training never uses: no map
   * or query is made of it */
  g_signal_connect (run, "snapshot-ready", G_CALLBACK (on_snapshot), &w);
  instdisc_run_request_snapshot (run);
  for (int i = 0; i < 50; i++)
    g_main_context_iteration (NULL, FALSE);
  g_assert_null (w.snapshot);
  instdisc_run_start (run);
  iterate_until (is_stopped, &w, 120);
  g_assert_cmpfloat (instdisc_run_get_pass_progress (run, NULL, NULL), ==,
                     0.0);
  instdisc_run_request_snapshot (run);
  iterate_until (has_snapshot, &w, 30);
  g_assert_cmpint (w.snapshot->iteration, ==, 6);
  g_clear_pointer (&w.snapshot, instdisc_snapshot_unref);
  /* the thread said what it was doing, and says nothing once joined */
  g_assert_cmpuint (phases_seen & ~(1u << INSTDISC_RUN_PHASE_NONE), !=, 0);
  g_assert_cmpint (instdisc_run_get_phase (run), ==, INSTDISC_RUN_PHASE_NONE);
  GArray *rows = instdisc_run_get_metrics (run);
  /* the untrained network's kNN and raw pixels' before the first step,
   * 6 steps, one evaluation */
  g_assert_cmpuint (rows->len, ==, 9);
  const MetricsRow *untrained = &g_array_index (rows, MetricsRow, 0);
  const MetricsRow *pixels = &g_array_index (rows, MetricsRow, 1);
  g_assert_cmpstr (untrained->kind, ==, "eval");
  g_assert_cmpint (untrained->epoch, ==, 0);
  g_assert_cmpint (untrained->iteration, ==, 0);
  g_assert_true (untrained->knn_top1_recomputed >= 0
                 && untrained->knn_top1_recomputed <= 100);
  g_assert_cmpstr (pixels->kind, ==, "pixels");
  g_assert_cmpint (pixels->epoch, ==, 0);
  g_assert_true (pixels->knn_top1 >= 0 && pixels->knn_top1 <= 100);
  g_assert_cmpstr (g_array_index (rows, MetricsRow, 2).kind, ==, "step");
  const MetricsRow *eval = &g_array_index (rows, MetricsRow, 8);
  g_assert_cmpstr (eval->kind, ==, "eval");
  g_assert_cmpint (eval->epoch, ==, 1);
  g_assert_true (eval->knn_top1 >= 0 && eval->knn_top1 <= 100);
  assert_valid_checkpoint (dir, instdisc_run_get_train (run), &config, 6);

  /* the folder opened as another process would see it */
  g_autoptr (InstdiscRun) followed = instdisc_run_open (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (instdisc_run_get_state (followed), ==,
                   INSTDISC_RUN_FOLLOWING);
  g_assert_cmpuint (instdisc_run_get_metrics (followed)->len, ==, 9);
  g_signal_handlers_disconnect_by_data (run, &w);
}

/* One training loop for both front ends (training-loop.h): the explorer's
 * run and `instdisc train` with the same settings, threads and data leave
 * the same metrics.csv, row for row (all but the timing columns), and the
 * same checkpoint, byte for byte. */
static void
assert_same_rows (const MetricsRow *a, const MetricsRow *b)
{
  g_assert_cmpstr (a->kind, ==, b->kind);
  g_assert_cmpint (a->iteration, ==, b->iteration);
  g_assert_cmpint (a->epoch, ==, b->epoch);
  const double fa[] = { a->loss, a->lr, a->knn_top1, a->knn_top5, a->knn_1nn,
                        a->knn_top1_recomputed, a->knn_top5_recomputed,
                        a->linear_top1, a->linear_top5 };
  const double fb[] = { b->loss, b->lr, b->knn_top1, b->knn_top5, b->knn_1nn,
                        b->knn_top1_recomputed, b->knn_top5_recomputed,
                        b->linear_top1, b->linear_top5 };
  for (guint f = 0; f < G_N_ELEMENTS (fa); f++)
    {
      if (isnan (fa[f]))
        g_assert_true (isnan (fb[f]));
      else
        g_assert_cmpfloat (fa[f], ==, fb[f]);
    }
  /* the objective's columns, by name */
  g_assert_cmpuint (a->n_extra, ==, b->n_extra);
  for (guint e = 0; e < a->n_extra; e++)
    {
      g_assert_cmpstr (a->extra_names[e], ==, b->extra_names[e]);
      if (isnan (a->extra[e]))
        g_assert_true (isnan (b->extra[e]));
      else
        g_assert_cmpfloat (a->extra[e], ==, b->extra[e]);
    }
}

static void
test_run_same_as_cli (void)
{
  const char *cli = g_getenv ("INSTDISC_CLI");
  g_assert_nonnull (cli);
  g_autofree char *data = write_tiny_idx ();
  g_autofree char *gui_dir = new_run_dir ("same-gui");
  g_autofree char *cli_dir = new_run_dir ("same-cli");
  TrainerConfig config;
  trainer_config_init_default (&config);
  config.batch_size = 16;   /* 6 steps per epoch */
  config.epochs = 2;

  /* the command line first, on two engine threads */
  const char *argv[] = { cli, "train", "--data", data, "--run", cli_dir,
                         "--batch-size", "16", "--epochs", "2",
                         "--threads", "2", NULL };
  g_autoptr (GError) error = NULL;
  int status = 0;
  g_autofree char *out = NULL, *err = NULL;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT,
                               NULL, NULL, &out, &err, &status, &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, &error))
    g_error ("instdisc train: %s\n%s%s", error->message, out, err);

  /* then the explorer's run */
  instdisc_run_set_engine_threads (2);
  g_autoptr (InstdiscRun) run = instdisc_run_new_training (gui_dir, data,
                                                           &config, &error);
  g_assert_no_error (error);
  Watch w = { .run = run };
  instdisc_run_start (run);
  iterate_until (is_stopped, &w, 120);
  g_assert_null (instdisc_run_get_error (run));
  instdisc_run_set_engine_threads (0);

  g_autoptr (GArray) gui_rows = run_dir_load_metrics (gui_dir, &error);
  g_assert_no_error (error);
  g_autoptr (GArray) cli_rows = run_dir_load_metrics (cli_dir, &error);
  g_assert_no_error (error);
  /* epoch 0's two reference rows, 12 steps, two evaluations */
  g_assert_cmpuint (cli_rows->len, ==, 16);
  g_assert_cmpuint (gui_rows->len, ==, cli_rows->len);
  for (guint i = 0; i < cli_rows->len; i++)
    assert_same_rows (&g_array_index (gui_rows, MetricsRow, i),
                      &g_array_index (cli_rows, MetricsRow, i));

  g_autofree char *gui_checkpoint = g_build_filename (gui_dir,
                                                      "checkpoint.safetensors",
                                                      NULL);
  g_autofree char *cli_checkpoint = g_build_filename (cli_dir,
                                                      "checkpoint.safetensors",
                                                      NULL);
  g_autofree char *gui_bytes = NULL, *cli_bytes = NULL;
  gsize gui_len = 0, cli_len = 0;
  g_assert_true (g_file_get_contents (gui_checkpoint, &gui_bytes, &gui_len,
                                      &error));
  g_assert_true (g_file_get_contents (cli_checkpoint, &cli_bytes, &cli_len,
                                      &error));
  g_assert_cmpmem (gui_bytes, gui_len, cli_bytes, cli_len);
}

static GtkWidget *
find_label_with (GtkWidget *root, const char *text)
{
  g_autoptr (GPtrArray) labels = g_ptr_array_new ();
  find_all_by_type (root, GTK_TYPE_LABEL, labels);
  for (guint i = 0; i < labels->len; i++)
    if (strstr (gtk_label_get_text (labels->pdata[i]), text))
      return labels->pdata[i];
  return NULL;
}

static GtkWidget *
find_button_with_action (GtkWidget *root, const char *action)
{
  g_autoptr (GPtrArray) buttons = g_ptr_array_new ();
  find_all_by_type (root, GTK_TYPE_BUTTON, buttons);
  for (guint i = 0; i < buttons->len; i++)
    if (g_strcmp0 (gtk_actionable_get_action_name (buttons->pdata[i]),
                   action) == 0)
      return buttons->pdata[i];
  return NULL;
}

/* A run folder as a version before the objective registry left it: its
 * config.ini, and metrics.csv from tests/fixtures (where NCE's columns sat
 * before wall_s). Its data is not here, as for a run from another machine:
 * only the curves and numbers show. */
static InstdiscRun *
open_old_folder (const char *name, const char *objective)
{
  g_autofree char *dir = new_run_dir (name);
  g_autoptr (GError) error = NULL;
  g_assert_true (run_dir_ensure (dir, &error));
  TrainerConfig config;
  trainer_config_init_default (&config);
  config.objective = objective_registry_lookup (objective);
  config.nce_k = 16;
  config.batch_size = 8;
  config.epochs = 2;
  g_autoptr (GKeyFile) keyfile = g_key_file_new ();
  trainer_config_to_keyfile (&config, keyfile);
  g_key_file_set_string (keyfile, "data", "spec", "/no/such/data");
  g_assert_true (run_dir_save_config (dir, keyfile, &error));
  g_autofree char *fixture_name = g_strdup_printf ("old-metrics-%s.csv",
                                                   objective);
  g_autofree char *fixture = g_test_build_filename (G_TEST_DIST, "fixtures",
                                                    fixture_name, NULL);
  g_autofree char *csv = NULL;
  g_assert_true (g_file_get_contents (fixture, &csv, NULL, &error));
  g_autofree char *metrics = g_build_filename (dir, RUN_METRICS_FILE, NULL);
  g_assert_true (g_file_set_contents (metrics, csv, -1, &error));
  InstdiscRun *run = instdisc_run_open (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (instdisc_run_get_metrics (run)->len, ==, 16);
  return run;
}

/* The Training view's NCE panel: shown for an objective that reports
 * NCE's columns, and filled from them by name, here from an old file; a
 * softmax run has no panel. */
static void
test_training_view_nce (void)
{
  InstdiscTrainingView *view = g_object_ref_sink (
      g_object_new (INSTDISC_TYPE_TRAINING_VIEW, NULL));
  g_autoptr (InstdiscRun) nce = open_old_folder ("old-nce", "nce");
  instdisc_training_view_set_run (view, nce);
  GtkWidget *heading = find_label_with (GTK_WIDGET (view), "Z (fixed)");
  g_assert_nonnull (heading);
  g_assert_true (gtk_widget_is_visible (heading));
  /* the last step's: Z 4431.12, its estimate 5568.24, P 0.00949 (the
   * thousands separator is the locale's) */
  g_assert_nonnull (find_label_with (GTK_WIDGET (view), "431"));
  g_assert_nonnull (find_label_with (GTK_WIDGET (view), "568"));
  g_assert_nonnull (find_label_with (GTK_WIDGET (view), "0.009"));
  g_assert_nonnull (find_label_with (GTK_WIDGET (view), "NCE, K = 16"));

  g_autoptr (InstdiscRun) softmax = open_old_folder ("old-softmax",
                                                     "softmax");
  instdisc_training_view_set_run (view, softmax);
  g_assert_false (gtk_widget_is_visible (heading));
  g_assert_nonnull (find_label_with (GTK_WIDGET (view), "exact softmax"));
  InstdiscPlot *loss = instdisc_training_view_get_loss_plot (view);
  g_assert_cmpuint (instdisc_plot_get_n_points (loss, 0), ==, 12);
  instdisc_training_view_set_run (view, NULL);
  g_object_unref (view);
}

/* The NCE panel diagnoses a failing run from its rows: the positive's
 * probability a hundredfold below its best, then a kNN fallen below the
 * untrained network's; P reads in significant digits, not "0.000". */
static void
test_training_view_nce_diagnosis (void)
{
  g_autofree char *dir = new_run_dir ("nce-failing");
  g_autoptr (GError) error = NULL;
  g_assert_true (run_dir_ensure (dir, &error));
  TrainerConfig config;
  trainer_config_init_default (&config);
  config.objective = objective_registry_lookup ("nce");
  config.nce_k = 16;
  config.batch_size = 8;
  config.epochs = 3;
  g_autoptr (GKeyFile) keyfile = g_key_file_new ();
  trainer_config_to_keyfile (&config, keyfile);
  g_key_file_set_string (keyfile, "data", "spec", "/no/such/data");
  g_assert_true (run_dir_save_config (dir, keyfile, &error));
  const char *const *columns = config.objective->metrics;
  MetricsRow row;
  metrics_row_init (&row, "eval");
  row.knn_top1 = row.knn_top1_recomputed = 69.0;
  g_assert_true (run_dir_append_metrics (dir, columns, &row, &error));
  /* P from 2e-4 to 7e-7 while Z and its estimate agree */
  const double p[] = { 2e-4, 1.5e-4, 3e-6, 7e-7 };
  for (int i = 0; i < 4; i++)
    {
      metrics_row_init (&row, "step");
      row.iteration = i + 1;
      row.epoch = 1;
      row.loss = 5.0;
      metrics_row_set_extra (&row, "nce_z", 1000.0);
      metrics_row_set_extra (&row, "nce_z_estimate", 1200.0);
      metrics_row_set_extra (&row, "p_positive", p[i]);
      g_assert_true (run_dir_append_metrics (dir, columns, &row, &error));
    }
  g_autoptr (InstdiscRun) run = instdisc_run_open (dir, &error);
  g_assert_no_error (error);
  InstdiscTrainingView *view = g_object_ref_sink (
      g_object_new (INSTDISC_TYPE_TRAINING_VIEW, NULL));
  instdisc_training_view_set_run (view, run);
  g_assert_nonnull (find_label_with (GTK_WIDGET (view), "7e-07"));
  g_assert_nonnull (find_label_with (GTK_WIDGET (view),
                                     "fell from 0.0002 to 7e-07"));
  g_assert_nonnull (find_label_with (GTK_WIDGET (view), "--nce-z ema"));

  /* P recovered, but kNN has collapsed: 15 % after epoch 1 */
  metrics_row_init (&row, "step");
  row.iteration = 5;
  row.epoch = 1;
  row.loss = 5.0;
  metrics_row_set_extra (&row, "nce_z", 1000.0);
  metrics_row_set_extra (&row, "nce_z_estimate", 1100.0);
  metrics_row_set_extra (&row, "p_positive", 1.9e-4);
  g_assert_true (run_dir_append_metrics (dir, columns, &row, &error));
  metrics_row_init (&row, "eval");
  row.iteration = 5;
  row.epoch = 1;
  row.knn_top1 = 12.0;
  row.knn_top1_recomputed = 15.0;
  g_assert_true (run_dir_append_metrics (dir, columns, &row, &error));
  g_autoptr (InstdiscRun) again = instdisc_run_open (dir, &error);
  g_assert_no_error (error);
  instdisc_training_view_set_run (view, again);
  g_assert_null (find_label_with (GTK_WIDGET (view), "fell from"));
  g_assert_nonnull (find_label_with (GTK_WIDGET (view),
                                     "kNN top-1 fell to 15.0 % after "
                                     "epoch 1"));
  instdisc_training_view_set_run (view, NULL);
  g_object_unref (view);
}

/* A run folder of epochs evaluations out of planned epochs, with steps
 * of loss 10 - iteration / 100 and the reference rows; steps_per_epoch
 * steps an epoch. */
static char *
write_curves_folder (const char *name, int planned, int epochs,
                     int steps_per_epoch)
{
  char *dir = new_run_dir (name);
  g_autoptr (GError) error = NULL;
  g_assert_true (run_dir_ensure (dir, &error));
  TrainerConfig config = tiny_config (planned);
  g_autoptr (GKeyFile) keyfile = g_key_file_new ();
  trainer_config_to_keyfile (&config, keyfile);
  g_key_file_set_string (keyfile, "data", "spec", "/no/such/data");
  g_assert_true (run_dir_save_config (dir, keyfile, &error));
  const char *const *columns = config.objective->metrics;
  MetricsRow row;
  metrics_row_init (&row, "pixels");
  row.knn_top1 = 77.0;
  g_assert_true (run_dir_append_metrics (dir, columns, &row, &error));
  gint64 iteration = 0;
  for (int epoch = 0; epoch <= epochs; epoch++)
    {
      for (int i = 0; epoch > 0 && i < steps_per_epoch; i++)
        {
          metrics_row_init (&row, "step");
          row.iteration = ++iteration;
          row.epoch = epoch;
          row.loss = 10.0 - iteration / 100.0;
          row.lr = 0.03;
          g_assert_true (run_dir_append_metrics (dir, columns, &row, &error));
        }
      metrics_row_init (&row, "eval");
      row.iteration = iteration;
      row.epoch = epoch;
      row.knn_top1 = 60.0 + epoch;
      row.knn_top5 = 90.0 + epoch / 2.0;
      row.knn_1nn = 55.0 + epoch;
      if (epoch == 0)
        row.knn_top1_recomputed = row.knn_top5_recomputed = 66.0;
      g_assert_true (run_dir_append_metrics (dir, columns, &row, &error));
    }
  return dir;
}

static InstdiscRun *
open_curves_folder (const char *name, int planned, int epochs,
                    int steps_per_epoch)
{
  g_autofree char *dir = write_curves_folder (name, planned, epochs,
                                              steps_per_epoch);
  g_autoptr (GError) error = NULL;
  InstdiscRun *run = instdisc_run_open (dir, &error);
  g_assert_no_error (error);
  return run;
}

/* The kNN axis fits the epochs done, with the next one ahead, and stops
 * at the run's planned epochs; the 1-NN is a series of its own and the
 * untrained network and raw pixels are levels across the plot. */
/* The time left of a pass before the first step: unknown for 3 seconds,
 * then the rest at the rate since the pass was first seen; a new phase,
 * a new total or a count that went back starts over. */
static void
test_training_view_pass_time_left (void)
{
  const gint64 s = G_USEC_PER_SEC;
  const int preparing = INSTDISC_RUN_PHASE_PREPARING;
  InstdiscPassClock clock = { 0 };
  g_assert_true (isnan (instdisc_pass_clock_left (&clock, preparing, 1000,
                                                  60000, 100 * s)));
  g_assert_true (isnan (instdisc_pass_clock_left (&clock, preparing, 5000,
                                                  60000, 102 * s)));
  /* 11,000 images in 4 s: the other 48,000 in about 17.5 s */
  g_assert_cmpfloat_with_epsilon (
      instdisc_pass_clock_left (&clock, preparing, 12000, 60000, 104 * s),
      48000.0 * 4.0 / 11000.0, 1e-9);
  /* the evaluation's pass after it: a new clock */
  const int evaluating = INSTDISC_RUN_PHASE_EVALUATING;
  g_assert_true (isnan (instdisc_pass_clock_left (&clock, evaluating, 0,
                                                  10000, 200 * s)));
  g_assert_cmpfloat_with_epsilon (
      instdisc_pass_clock_left (&clock, evaluating, 2500, 10000, 205 * s),
      7500.0 * 5.0 / 2500.0, 1e-9);
  /* its next pass (the test images after the training images) */
  g_assert_true (isnan (instdisc_pass_clock_left (&clock, evaluating, 100,
                                                  10000, 206 * s)));
  /* nothing done in the first seconds: no guess */
  g_assert_true (isnan (instdisc_pass_clock_left (&clock, evaluating, 100,
                                                  10000, 210 * s)));
}

static void
test_training_view_knn_axis (void)
{
  InstdiscTrainingView *view = g_object_ref_sink (
      g_object_new (INSTDISC_TYPE_TRAINING_VIEW, NULL));
  InstdiscPlot *knn = instdisc_training_view_get_knn_plot (view);
  double x0, x1;
  g_autoptr (InstdiscRun) three = open_curves_folder ("knn-3-of-50", 50, 3,
                                                      4);
  instdisc_training_view_set_run (view, three);
  instdisc_plot_get_x_range (knn, 700, 300, &x0, &x1);
  g_assert_cmpfloat (x0, ==, 0.0);
  g_assert_cmpfloat (x1, ==, 4.0);
  g_assert_cmpuint (instdisc_plot_get_n_points (
                        knn, instdisc_training_view_get_1nn_series (view)),
                    ==, 4);
  g_assert_cmpuint (instdisc_plot_get_n_points (
                        knn, instdisc_training_view_get_untrained_series (view)),
                    ==, 1);
  /* the levels widen nothing: no point beyond the epochs */
  g_auto (GStrv) ticks = instdisc_plot_dup_x_tick_labels (knn, 700, 300);
  g_assert_cmpstr (ticks[g_strv_length (ticks) - 1], ==, "4");

  g_autoptr (InstdiscRun) done = open_curves_folder ("knn-5-of-5", 5, 5, 2);
  instdisc_training_view_set_run (view, done);
  instdisc_plot_get_x_range (knn, 700, 300, &x0, &x1);
  g_assert_cmpfloat (x1, ==, 5.0);
  instdisc_training_view_set_run (view, NULL);
  g_object_unref (view);
}

/* The Smoothing slider: the smoothed loss is recomputed from the rows at
 * its factor (0: the loss itself), and the factor is remembered for the
 * next view; Log Scale (an action) puts the loss plot on a log axis. */
static void
test_training_view_loss_tools (void)
{
  InstdiscTrainingView *view = g_object_ref_sink (
      g_object_new (INSTDISC_TYPE_TRAINING_VIEW, NULL));
  g_autoptr (InstdiscRun) run = open_curves_folder ("loss-tools", 5, 3, 40);
  instdisc_training_view_set_run (view, run);
  InstdiscPlot *loss = instdisc_training_view_get_loss_plot (view);
  GtkAdjustment *smoothing = instdisc_training_view_get_loss_smoothing (view);
  double px, py;
  instdisc_plot_data_to_pixel (loss, 800, 300, 100, 9.0, &px, &py);
  /* the loss falls by 0.01 a step: an average lags behind it */
  g_autofree char *smoothed = instdisc_plot_dup_readout (loss, 800, 300, px);
  g_test_message ("at 0.98: %s", smoothed);
  g_assert_nonnull (strstr (smoothed, "per step 9 · smoothed 9.3"));
  gtk_adjustment_set_value (smoothing, 0.0);
  g_autofree char *raw = instdisc_plot_dup_readout (loss, 800, 300, px);
  g_test_message ("at 0: %s", raw);
  g_assert_true (g_str_has_suffix (raw, "per step 9 · smoothed 9"));
  g_assert_cmpuint (instdisc_plot_get_n_points (loss, 1), ==, 120);

  /* remembered */
  g_autoptr (GSettings) settings = instdisc_settings_new ();
  g_assert_cmpfloat (g_settings_get_double (settings, "loss-smoothing"), ==,
                     0.0);
  InstdiscTrainingView *next = g_object_ref_sink (
      g_object_new (INSTDISC_TYPE_TRAINING_VIEW, NULL));
  g_assert_cmpfloat (gtk_adjustment_get_value (
                         instdisc_training_view_get_loss_smoothing (next)),
                     ==, 0.0);
  g_object_unref (next);

  g_assert_false (instdisc_plot_get_y_log (loss));
  gtk_widget_activate_action (GTK_WIDGET (view), "training.loss-log-scale",
                              NULL);
  g_assert_true (instdisc_plot_get_y_log (loss));
  g_assert_true (g_settings_get_boolean (settings, "loss-log-scale"));
  g_settings_reset (settings, "loss-log-scale");
  g_settings_reset (settings, "loss-smoothing");
  g_assert_false (instdisc_plot_get_y_log (loss));

  /* Fit is there while zoomed */
  GtkWidget *fit = find_button_with_action (GTK_WIDGET (view),
                                            "training.fit-loss");
  g_assert_nonnull (fit);
  /* a button follows its action's state once in a window */
  GtkWidget *window = gtk_window_new ();
  gtk_window_set_child (GTK_WINDOW (window), GTK_WIDGET (view));
  g_assert_false (gtk_widget_get_sensitive (fit));
  instdisc_plot_zoom_x (loss, 800, 300, 400, 3.0);
  g_assert_true (instdisc_plot_get_zoomed (loss));
  g_assert_true (gtk_widget_get_sensitive (fit));
  gtk_widget_activate_action (GTK_WIDGET (view), "training.fit-loss", NULL);
  g_assert_false (instdisc_plot_get_zoomed (loss));
  g_assert_false (gtk_widget_get_sensitive (fit));
  instdisc_training_view_set_run (view, NULL);
  g_object_unref (view);
  gtk_window_destroy (GTK_WINDOW (window));
}

static gboolean
compare_settled (gpointer data)
{
  InstdiscTrainingView *view = data;
  InstdiscPlot *loss = instdisc_training_view_get_loss_plot (view);
  return instdisc_plot_get_n_points (
             loss, instdisc_training_view_get_compare_loss_series (view))
             > 0
         || find_label_with (GTK_WIDGET (view), "Could not compare");
}

static void
wait_for_compare (InstdiscTrainingView *view)
{
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while (!compare_settled (view) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (compare_settled (view));
}

/* Compare with Run: the other folder's metrics.csv is read on a worker,
 * its smoothed loss and bank top-1 drawn under its folder's name (the
 * hover readout names them), kept when the smoothing changes, removed by
 * Stop Comparing. */
static void
test_training_view_compare (void)
{
  InstdiscTrainingView *view = g_object_ref_sink (
      g_object_new (INSTDISC_TYPE_TRAINING_VIEW, NULL));
  GtkWidget *window = gtk_window_new ();
  gtk_window_set_child (GTK_WINDOW (window), GTK_WIDGET (view));
  g_autoptr (InstdiscRun) run = open_curves_folder ("compare-this", 5, 3, 20);
  instdisc_training_view_set_run (view, run);
  g_autofree char *other = write_curves_folder ("compare-other", 8, 6, 30);
  InstdiscPlot *loss = instdisc_training_view_get_loss_plot (view);
  InstdiscPlot *knn = instdisc_training_view_get_knn_plot (view);
  guint loss_series = instdisc_training_view_get_compare_loss_series (view);
  guint top1_series = instdisc_training_view_get_compare_top1_series (view);
  GtkWidget *stop = find_button_with_action (GTK_WIDGET (view),
                                             "training.stop-comparing");
  g_assert_false (gtk_widget_get_visible (stop));

  instdisc_training_view_compare (view, other);
  wait_for_compare (view);
  g_assert_cmpuint (instdisc_plot_get_n_points (loss, loss_series), ==, 180);
  g_assert_cmpuint (instdisc_plot_get_n_points (knn, top1_series), ==, 7);
  g_assert_true (gtk_widget_get_visible (stop));
  g_assert_nonnull (find_label_with (GTK_WIDGET (view),
                                     "Compared with compare-other"));
  double px, py;
  instdisc_plot_data_to_pixel (loss, 800, 300, 40, 9.0, &px, &py);
  g_autofree char *loss_text = instdisc_plot_dup_readout (loss, 800, 300, px);
  g_test_message ("loss: %s", loss_text);
  g_assert_nonnull (strstr (loss_text, " · compare-other 9."));
  /* the other run's six epochs widen this one's axis */
  instdisc_plot_data_to_pixel (knn, 800, 300, 6, 50.0, &px, &py);
  g_autofree char *knn_text = instdisc_plot_dup_readout (knn, 800, 300, px);
  g_test_message ("kNN: %s", knn_text);
  g_assert_nonnull (strstr (knn_text, "epoch 6"));
  g_assert_nonnull (strstr (knn_text, "compare-other top-1 66"));

  /* the smoothing applies to both */
  gtk_adjustment_set_value (instdisc_training_view_get_loss_smoothing (view),
                            0.5);
  g_assert_cmpuint (instdisc_plot_get_n_points (loss, loss_series), ==, 180);

  gtk_widget_activate_action (GTK_WIDGET (view), "training.stop-comparing",
                              NULL);
  g_assert_cmpuint (instdisc_plot_get_n_points (loss, loss_series), ==, 0);
  g_assert_cmpuint (instdisc_plot_get_n_points (knn, top1_series), ==, 0);
  g_assert_false (gtk_widget_get_visible (stop));
  g_autofree char *after = instdisc_plot_dup_readout (loss, 800, 300, 300);
  g_assert_null (strstr (after, "compare-other"));

  /* a folder without metrics */
  g_autofree char *empty = new_run_dir ("compare-empty");
  g_assert_cmpint (g_mkdir_with_parents (empty, 0755), ==, 0);
  instdisc_training_view_compare (view, empty);
  wait_for_compare (view);
  g_assert_false (gtk_widget_get_visible (stop));

  g_autoptr (GSettings) settings = instdisc_settings_new ();
  g_settings_reset (settings, "loss-smoothing");
  instdisc_training_view_set_run (view, NULL);
  g_object_unref (view);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* The notice bar: an error stays and is not hidden by news; progress
 * carries its fraction; news has its action and goes by itself. */
static void
test_notice_bar (void)
{
  InstdiscNoticeBar *bar = g_object_ref_sink (
      g_object_new (INSTDISC_TYPE_NOTICE_BAR, NULL));
  g_assert_null (instdisc_notice_bar_get_message (bar));
  g_assert_true (instdisc_notice_bar_show (bar, INSTDISC_NOTICE_PROGRESS,
                                           "Exporting…"));
  instdisc_notice_bar_set_progress (bar, 0.25);
  g_assert_cmpfloat (instdisc_notice_bar_get_progress (bar), ==, 0.25);
  g_assert_true (instdisc_notice_bar_show (bar, INSTDISC_NOTICE_INFO,
                                           "Exported"));
  instdisc_notice_bar_set_action (bar, "_Open Folder", "file:///tmp");
  g_assert_cmpstr (instdisc_notice_bar_get_action_uri (bar), ==,
                   "file:///tmp");
  g_assert_true (instdisc_notice_bar_show (bar, INSTDISC_NOTICE_ERROR,
                                           "disk full"));
  g_assert_null (instdisc_notice_bar_get_action_uri (bar));
  g_assert_false (instdisc_notice_bar_show (bar, INSTDISC_NOTICE_INFO,
                                            "Checkpoint saved"));
  g_assert_cmpstr (instdisc_notice_bar_get_message (bar), ==, "disk full");
  g_assert_cmpint (instdisc_notice_bar_get_kind (bar), ==,
                   INSTDISC_NOTICE_ERROR);
  instdisc_notice_bar_dismiss (bar);
  g_assert_null (instdisc_notice_bar_get_message (bar));
  g_assert_true (instdisc_notice_bar_show (bar, INSTDISC_NOTICE_INFO,
                                           "Checkpoint saved"));
  g_object_unref (bar);
}

/* The same epoch with the linear evaluation asked for (Preferences'
 * evaluate-linear): the eval row carries the linear classifier's top-1 and
 * top-5 and, since it learns from them, the recomputed features' kNN; the
 * row reaches metrics.csv, and the Training view plots the linear top-1
 * and shows it in its text. */
static void
test_run_epoch_linear (void)
{
  g_autofree char *data = write_tiny_idx ();
  g_autofree char *dir = new_run_dir ("run-epoch-linear");
  TrainerConfig config = tiny_config (1);
  g_autoptr (GError) error = NULL;
  g_autoptr (InstdiscRun) run = instdisc_run_new_training (dir, data, &config,
                                                           &error);
  g_assert_no_error (error);
  g_assert_false (instdisc_run_get_evaluate_linear (run));
  instdisc_run_set_evaluate_linear (run, TRUE);
  g_assert_true (instdisc_run_get_evaluate_linear (run));
  InstdiscTrainingView *view = g_object_ref_sink (
      g_object_new (INSTDISC_TYPE_TRAINING_VIEW, NULL));
  instdisc_training_view_set_run (view, run);
  InstdiscPlot *knn = instdisc_training_view_get_knn_plot (view);
  guint linear = instdisc_training_view_get_linear_series (view);
  g_assert_cmpuint (instdisc_plot_get_n_points (knn, linear), ==, 0);

  Watch w = { .run = run };
  g_signal_connect (run, "metrics-added", G_CALLBACK (on_metrics), &w);
  instdisc_run_start (run);
  iterate_until (is_stopped, &w, 120);
  g_assert_null (instdisc_run_get_error (run));
  GArray *rows = instdisc_run_get_metrics (run);
  g_assert_cmpuint (rows->len, ==, 9);
  const MetricsRow *eval = &g_array_index (rows, MetricsRow, 8);
  g_assert_cmpstr (eval->kind, ==, "eval");
  g_assert_cmpint (eval->epoch, ==, 1);
  g_test_message ("linear top-1 %.2f %%, top-5 %.2f %%; kNN recomputed "
                  "top-1 %.2f %%", eval->linear_top1, eval->linear_top5,
                  eval->knn_top1_recomputed);
  g_assert_true (isfinite (eval->linear_top1));
  g_assert_true (eval->linear_top1 >= 0 && eval->linear_top1 <= 100);
  g_assert_true (eval->linear_top5 >= eval->linear_top1
                 && eval->linear_top5 <= 100);
  /* linear needs the recomputed features: their kNN comes with it */
  g_assert_true (eval->knn_top1_recomputed >= 0
                 && eval->knn_top1_recomputed <= 100);

  /* the view: one linear point, at epoch 1, and the numbers in its text */
  g_assert_cmpuint (instdisc_plot_get_n_points (knn, linear), ==, 1);
  g_assert_nonnull (find_label_with (GTK_WIDGET (view), "Linear classifier"));

  /* in metrics.csv, for a followed run to plot the same */
  g_autoptr (InstdiscRun) followed = instdisc_run_open (dir, &error);
  g_assert_no_error (error);
  GArray *read = instdisc_run_get_metrics (followed);
  g_assert_cmpuint (read->len, ==, 9);
  g_assert_cmpfloat_with_epsilon (
      g_array_index (read, MetricsRow, 8).linear_top1, eval->linear_top1,
      1e-3);
  g_signal_handlers_disconnect_by_data (run, &w);
  instdisc_training_view_set_run (view, NULL);
  g_object_unref (view);
}

/* Another process's run, as the CLI writes it: each step appends a row to
 * metrics.csv (one write on O_APPEND), checkpoints replace the file by a
 * rename. */
typedef struct
{
  guint signals;
  guint first_new;     /* the smallest first_new_row since reset */
  guint rows;
  InstdiscSnapshot *snapshot;
} Follow;

static void
on_follow_metrics (InstdiscRun *run, guint first, Follow *f)
{
  f->signals++;
  f->first_new = MIN (f->first_new, first);
  f->rows = instdisc_run_get_metrics (run)->len;
}

static void
on_follow_snapshot (InstdiscRun *run, InstdiscSnapshot *snapshot, Follow *f)
{
  g_clear_pointer (&f->snapshot, instdisc_snapshot_unref);
  f->snapshot = instdisc_snapshot_ref (snapshot);
}

static void
write_steps (Trainer *trainer, const char *dir, int n_steps)
{
  g_autoptr (GError) error = NULL;
  for (int i = 0; i < n_steps; i++)
    {
      TrainerStepInfo info;
      g_assert_true (trainer_step (trainer, &info, &error));
      MetricsRow row;
      const TrainerConfig *config = trainer_get_config (trainer);
      trainer_run_step_row (&row, config, &info, 100.0,
                            (double) info.iteration);
      g_assert_true (run_dir_append_metrics (
          dir, trainer_run_metrics_columns (config), &row, &error));
      g_assert_no_error (error);
    }
  /* trainer_save_checkpoint writes a temporary file and renames it over
   * the old one, as the CLI's checkpoints arrive */
  g_autofree char *path = g_build_filename (dir, "checkpoint.safetensors", NULL);
  g_assert_true (trainer_save_checkpoint (trainer, path, NULL, &error));
  g_assert_no_error (error);
}

/* A run folder written as `instdisc train` in another process writes it:
 * config.ini from a run built here (*writer, to outlive the trainer), steps
 * from a Trainer of its own (returned; write_steps). */
static Trainer *
new_writer (const char *dir, const char *data, const TrainerConfig *config,
            InstdiscRun **writer)
{
  g_autoptr (GError) error = NULL;
  *writer = instdisc_run_new_training (dir, data, config, &error);
  g_assert_no_error (error);
  Trainer *trainer = trainer_new (config, instdisc_run_get_train (*writer),
                                  &error);
  g_assert_no_error (error);
  return trainer;
}

static gboolean
set_flag (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main loop until done or timeout_s, without failing, so the
 * caller's assertion says what was missing. The loop blocks in poll (),
 * where the file monitor's events arrive; the timeout source wakes it at
 * the deadline. */
static gboolean
iterate_for (gboolean (*done) (gpointer), gpointer data, double timeout_s)
{
  gboolean timed_out = FALSE;
  guint deadline = g_timeout_add ((guint) (timeout_s * 1000), set_flag,
                                  &timed_out);
  while (!done (data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (deadline);
  return done (data);
}

static gboolean
follow_has_rows (gpointer data)
{
  return ((Follow *) data)->rows >= 5;
}

static gboolean
follow_has_new_checkpoint (gpointer data)
{
  Follow *f = data;
  return f->snapshot && f->snapshot->iteration == 4;
}

static void
test_run_follow_grows (void)
{
  g_autofree char *data = write_tiny_idx ();
  g_autofree char *dir = new_run_dir ("run-follow");
  TrainerConfig config = tiny_config (2);
  g_autoptr (GError) error = NULL;
  g_autoptr (InstdiscRun) writer = NULL;
  g_autoptr (Trainer) trainer = new_writer (dir, data, &config, &writer);
  write_steps (trainer, dir, 2);

  g_autoptr (InstdiscRun) followed = instdisc_run_open (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (instdisc_run_get_state (followed), ==,
                   INSTDISC_RUN_FOLLOWING);
  g_assert_cmpuint (instdisc_run_get_metrics (followed)->len, ==, 2);
  Follow f = { .first_new = G_MAXUINT };
  g_signal_connect (followed, "metrics-added", G_CALLBACK (on_follow_metrics),
                    &f);
  g_signal_connect (followed, "snapshot-ready",
                    G_CALLBACK (on_follow_snapshot), &f);
  /* let the monitors settle on the files as they are now */
  for (int i = 0; i < 10; i++)
    g_main_context_iteration (NULL, FALSE);
  g_assert_cmpuint (f.signals, ==, 0);

  /* the writer goes on: two steps, an evaluation row, a new checkpoint */
  write_steps (trainer, dir, 2);
  MetricsRow eval;
  metrics_row_init (&eval, "eval");
  eval.iteration = 4;
  eval.epoch = 1;
  eval.knn_top1 = 42.0;
  eval.knn_top5 = 90.0;
  g_assert_true (run_dir_append_metrics (
      dir, trainer_run_metrics_columns (&config), &eval, &error));
  g_assert_no_error (error);

  g_assert_true (iterate_for (follow_has_rows, &f, 10));
  g_test_message ("3 rows appended: %u signal(s), first new row %u",
                  f.signals, f.first_new);
  g_assert_cmpuint (f.first_new, ==, 2);
  GArray *rows = instdisc_run_get_metrics (followed);
  g_assert_cmpuint (rows->len, ==, 5);
  g_assert_cmpint (g_array_index (rows, MetricsRow, 2).iteration, ==, 3);
  g_assert_cmpint (g_array_index (rows, MetricsRow, 3).iteration, ==, 4);
  g_assert_cmpstr (g_array_index (rows, MetricsRow, 4).kind, ==, "eval");
  g_assert_cmpfloat (g_array_index (rows, MetricsRow, 4).knn_top1, ==, 42.0);
  g_assert_cmpint (instdisc_run_get_state (followed), ==,
                   INSTDISC_RUN_FOLLOWING);

  /* the renamed checkpoint is reloaded (in a worker): a snapshot of the
   * followed run soon has the writer's newest iteration */
  gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (!follow_has_new_checkpoint (&f) && g_get_monotonic_time () < end)
    {
      instdisc_run_request_snapshot (followed);
      iterate_for (follow_has_new_checkpoint, &f, 0.2);
    }
  g_assert_nonnull (f.snapshot);
  g_assert_cmpint (f.snapshot->iteration, ==, 4);
  g_clear_pointer (&f.snapshot, instdisc_snapshot_unref);
  g_signal_handlers_disconnect_by_data (followed, &f);
}

static double
steps_per_second (const char *data, guint sleep_ms, guint *signals,
                  guint *rows, double *seconds_out)
{
  static int n_runs;
  g_autofree char *name = g_strdup_printf ("run-slow-%d", n_runs++);
  g_autofree char *dir = new_run_dir (name);
  TrainerConfig config = tiny_config (100);
  config.batch_size = 32;
  g_autoptr (GError) error = NULL;
  g_autoptr (InstdiscRun) run = instdisc_run_new_training (dir, data, &config,
                                                           &error);
  g_assert_no_error (error);
  Watch w = { .run = run, .sleep_ms = sleep_ms };
  g_signal_connect (run, "metrics-added", G_CALLBACK (on_metrics), &w);
  /* 60 steps inside the first epoch: the measurement is of steps, not of
   * checkpoint writes (each one flushed to disk) and evaluations */
  instdisc_run_set_steps_limit (run, 60);
  gint64 start = g_get_monotonic_time ();
  instdisc_run_start (run);
  iterate_until (is_stopped, &w, 300);
  double seconds = (g_get_monotonic_time () - start) / 1e6;
  *signals = w.metrics_signals;
  *rows = w.rows;
  *seconds_out = seconds;
  g_signal_handlers_disconnect_by_data (run, &w);
  return instdisc_run_get_iteration (run) / seconds;
}

static void
test_run_slow_gui (void)
{
  /* 2048 images: 64 steps an epoch at batch 32 */
  g_autofree char *data = write_idx (2048);
  guint fast_signals, fast_rows, slow_signals, slow_rows;
  double fast_seconds, slow_seconds;
  double fast = steps_per_second (data, 0, &fast_signals, &fast_rows,
                                  &fast_seconds);
  double slow = steps_per_second (data, 50, &slow_signals, &slow_rows,
                                  &slow_seconds);
  double fast2 = steps_per_second (data, 0, &fast_signals, &fast_rows,
                                   &fast_seconds);
  double base = (fast + fast2) / 2;
  g_test_message ("steps/s: %.1f / %.1f with a free main loop, %.1f with a "
                  "50 ms metrics handler (%+.1f %%); %u rows in %u signals "
                  "when slow", fast, fast2, slow, 100.0 * (slow - base) / base,
                  slow_rows, slow_signals);
  g_print ("# slow-gui: steps/s free %.1f, %.1f; 50 ms handler %.1f (%+.1f %%);"
           " %u rows in %u signals\n", fast, fast2, slow,
           100.0 * (slow - base) / base, slow_rows, slow_signals);
  /* coalescing: the slow handler saw every row (the two reference rows
   * before the first step, then 60 steps) in fewer signals */
  g_assert_cmpuint (slow_rows, ==, 2 + 60);
  g_assert_cmpuint (slow_signals, <=, slow_rows);
  /* pacing: with a free main loop too, rows come at most five times a
   * second (instdisc-run.c, ROWS_INTERVAL_US), plus a delivery at once for
   * each of the few phase and state changes of the run; where the steps
   * are faster than that (12 a second here on two cores) the rows must
   * share signals, and where they are slower the bound holds anyway */
  g_test_message ("free main loop: %u rows in %u signals in %.1f s",
                  fast_rows, fast_signals, fast_seconds);
  g_assert_cmpuint (fast_rows, ==, 2 + 60);
  g_assert_cmpfloat (fast_signals, <=, 5.0 * fast_seconds + 8.0);
}

/* ---- the window ---- */

static void
test_window_welcome (void)
{
  InstdiscWindow *window = instdisc_window_new (NULL);
  gtk_window_present (GTK_WINDOW (window));
  for (int i = 0; i < 20; i++)
    g_main_context_iteration (NULL, FALSE);
  g_assert_cmpstr (instdisc_window_get_page (window), ==, "welcome");
  g_assert_null (instdisc_window_get_run (window));
  /* the header bar says what this is while no run gives it a switcher */
  GtkWidget *header = gtk_window_get_titlebar (GTK_WINDOW (window));
  GtkWidget *title = gtk_header_bar_get_title_widget (GTK_HEADER_BAR (header));
  GtkWidget *label = find_by_type (title, GTK_TYPE_LABEL);
  g_assert_nonnull (label);
  g_assert_true (gtk_widget_is_visible (label));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (label)), !=, "");
  gtk_window_destroy (GTK_WINDOW (window));
}

static gboolean
window_shows_views (gpointer data)
{
  return g_strcmp0 (instdisc_window_get_page (data), "views") == 0
         && instdisc_window_get_run (data) != NULL;
}

static gboolean
window_has_steps (gpointer data)
{
  InstdiscRun *run = instdisc_window_get_run (data);
  return run && instdisc_run_get_iteration (run) >= 3;
}

static void
test_window_train (void)
{
  g_autofree char *data = write_tiny_idx ();
  g_autofree char *dir = new_run_dir ("run-window");
  TrainerConfig config = tiny_config (100);
  InstdiscWindow *window = instdisc_window_new (NULL);
  gtk_window_present (GTK_WINDOW (window));
  instdisc_window_new_training (window, dir, data, &config, TRUE);
  iterate_until (window_shows_views, window, 60);
  InstdiscRun *run = g_object_ref (instdisc_window_get_run (window));
  iterate_until (window_has_steps, window, 60);

  Watch w = { .run = run };
  gtk_widget_activate_action (GTK_WIDGET (window), "win.toggle-training", NULL);
  iterate_until (is_paused, &w, 30);
  for (int i = 0; i < 20; i++)
    g_main_context_iteration (NULL, FALSE);
  InstdiscTrainingView *view = INSTDISC_TRAINING_VIEW (
      find_by_type (GTK_WIDGET (window), INSTDISC_TYPE_TRAINING_VIEW));
  g_assert_nonnull (view);
  /* every view shows the window's run, through its "run" binding, and the
   * run's properties say where it is */
  const GType views[] = { INSTDISC_TYPE_TRAINING_VIEW,
                          INSTDISC_TYPE_EMBEDDING_VIEW,
                          INSTDISC_TYPE_QUERY_VIEW,
                          INSTDISC_TYPE_RETRIEVALS_VIEW };
  for (guint i = 0; i < G_N_ELEMENTS (views); i++)
    {
      g_autoptr (InstdiscRun) shown = NULL;
      g_object_get (find_by_type (GTK_WIDGET (window), views[i]), "run",
                    &shown, NULL);
      g_assert_true (shown == run);
    }
  InstdiscRunState state;
  gint64 iteration_property;
  g_object_get (run, "state", &state, "iteration", &iteration_property, NULL);
  g_assert_cmpint (state, ==, INSTDISC_RUN_PAUSED);
  g_assert_cmpint (iteration_property, ==, instdisc_run_get_iteration (run));
  InstdiscPlot *loss = instdisc_training_view_get_loss_plot (view);
  /* every step shown, raw and smoothed */
  g_assert_cmpuint (instdisc_plot_get_n_points (loss, 0), ==,
                    instdisc_run_get_iteration (run));
  g_assert_cmpuint (instdisc_plot_get_n_points (loss, 1), ==,
                    instdisc_run_get_iteration (run));

  /* the Training view as a picture, for people reading the test log */
  g_autoptr (GdkTexture) texture = render_widget (GTK_WIDGET (view));
  g_autofree char *png = g_build_filename (workdir, "training-view.png", NULL);
  g_assert_true (gdk_texture_save_to_png (texture, png));

  /* closing the window stops the run and leaves its checkpoint */
  gint64 iteration = instdisc_run_get_iteration (run);
  gtk_window_close (GTK_WINDOW (window));
  iterate_until (is_stopped, &w, 30);
  assert_valid_checkpoint (dir, instdisc_run_get_train (run), &config,
                           iteration);
  g_object_unref (run);
}

/* Closing the only window mid-epoch: the application outlives the window
 * until the trainer thread has written its checkpoint, so
 * g_application_run returns with the run stopped and the checkpoint
 * whole. */
typedef struct
{
  char *data;
  char *dir;
  TrainerConfig config;
  InstdiscWindow *window;
  InstdiscRun *run;
  gint64 closed_at;
  gboolean closed_while_running;
} AppClose;

/* Closing a window that trains asks first (test-dialogs.c has the
 * question's tests): the person answers Stop. */
static gboolean
answer_stop (gpointer data)
{
  AppClose *t = data;
  GListModel *toplevels = gtk_window_get_toplevels ();
  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GtkWidget) window = g_list_model_get_item (toplevels, i);
      if (GTK_IS_MESSAGE_DIALOG (window) && gtk_widget_get_visible (window))
        {
          t->closed_at = instdisc_run_get_iteration (t->run);
          gtk_dialog_response (GTK_DIALOG (window), GTK_RESPONSE_ACCEPT);
          return G_SOURCE_REMOVE;
        }
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
close_when_training (gpointer data)
{
  AppClose *t = data;
  InstdiscRun *run = instdisc_window_get_run (t->window);
  if (!run || instdisc_run_get_iteration (run) < 3)
    return G_SOURCE_CONTINUE;
  t->run = g_object_ref (run);
  t->closed_while_running = instdisc_run_get_state (run) == INSTDISC_RUN_RUNNING;
  gtk_window_close (GTK_WINDOW (t->window));
  g_timeout_add (10, answer_stop, t);
  return G_SOURCE_REMOVE;
}

static void
on_app_activate (GtkApplication *application, AppClose *t)
{
  t->window = instdisc_window_new (application);
  gtk_window_present (GTK_WINDOW (t->window));
  instdisc_window_new_training (t->window, t->dir, t->data, &t->config, TRUE);
  g_timeout_add (10, close_when_training, t);
}

static void
test_window_close_holds_application (void)
{
  AppClose t = { 0 };
  t.data = write_tiny_idx ();
  t.dir = new_run_dir ("run-app-close");
  t.config = tiny_config (100);
  g_autoptr (GtkApplication) application = gtk_application_new (
      "org.instdisc.ExplorerTest", G_APPLICATION_NON_UNIQUE);
  g_signal_connect (application, "activate", G_CALLBACK (on_app_activate), &t);
  int status = g_application_run (G_APPLICATION (application), 0, NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (t.run);
  g_assert_true (t.closed_while_running);
  g_assert_cmpint (instdisc_run_get_state (t.run), ==, INSTDISC_RUN_STOPPED);
  g_assert_null (instdisc_run_get_error (t.run));
  gint64 last = instdisc_run_get_iteration (t.run);
  /* the step under way when the window closed may have finished */
  g_assert_cmpint (last - t.closed_at, <=, 1);
  assert_valid_checkpoint (t.dir, instdisc_run_get_train (t.run), &t.config,
                           last);
  g_object_unref (t.run);
  g_free (t.data);
  g_free (t.dir);
}

/* Export Features: the dialog offers bank or recomputed features and the
 * training or test images (the bank has only the training images), and
 * recomputed features of the test split reach the files. */
static gboolean
export_finished (gpointer data)
{
  return *(int *) data != 0;
}

/* the thread main () runs on */
static GThread *main_thread;

static void
record_progress (int done, int total, gpointer data)
{
  /* on the main thread itself: a worker that acquires the idle default
   * context owns it too */
  g_assert_true (g_main_context_is_owner (g_main_context_default ()));
  g_assert_true (g_thread_self () == main_thread);
  g_assert_cmpint (done, <, total);
  g_array_append_val ((GArray *) data, done);
}

static void
on_exported (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GError) error = NULL;
  gboolean ok = instdisc_run_export_recomputed_finish (INSTDISC_RUN (source),
                                                       result, &error);
  g_assert_no_error (error);
  *(int *) data = ok ? 1 : -1;
}

static GtkCheckButton *
find_check_button (GtkWidget *widget, const char *mnemonic)
{
  if (GTK_IS_CHECK_BUTTON (widget))
    {
      GtkWidget *label = find_by_type (gtk_check_button_get_child (
                                           GTK_CHECK_BUTTON (widget)),
                                       GTK_TYPE_LABEL);
      if (label && g_strcmp0 (gtk_label_get_label (GTK_LABEL (label)),
                              mnemonic) == 0)
        return GTK_CHECK_BUTTON (widget);
    }
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkCheckButton *found = find_check_button (child, mnemonic);
      if (found)
        return found;
    }
  return NULL;
}

static void
test_window_export (void)
{
  g_autofree char *data = write_tiny_idx ();
  g_autofree char *dir = new_run_dir ("run-export");
  TrainerConfig config = tiny_config (2);
  g_autoptr (GError) error = NULL;
  g_autoptr (InstdiscRun) writer = NULL;
  g_autoptr (Trainer) trainer = new_writer (dir, data, &config, &writer);
  write_steps (trainer, dir, 1);
  g_autoptr (InstdiscRun) run = instdisc_run_open (dir, &error);
  g_assert_no_error (error);

  InstdiscWindow *window = instdisc_window_new (NULL);
  gtk_window_present (GTK_WINDOW (window));
  instdisc_window_set_run (window, run);
  GtkWidget *dialog = instdisc_window_new_export_dialog (window);
  gtk_window_present (GTK_WINDOW (dialog));
  for (int i = 0; i < 10; i++)
    g_main_context_iteration (NULL, FALSE);
  GtkCheckButton *bank = find_check_button (dialog, "_Memory bank");
  GtkCheckButton *recomputed = find_check_button (dialog, "_Recomputed");
  GtkCheckButton *test = find_check_button (dialog, "T_est set");
  g_assert_nonnull (bank);
  g_assert_nonnull (recomputed);
  g_assert_nonnull (test);
  g_assert_true (gtk_check_button_get_active (bank));
  g_assert_false (gtk_widget_get_sensitive (GTK_WIDGET (test)));
  gtk_check_button_set_active (recomputed, TRUE);
  g_assert_true (gtk_widget_get_sensitive (GTK_WIDGET (test)));
  gtk_check_button_set_active (test, TRUE);
  /* back to the bank: the test images are not in it */
  gtk_check_button_set_active (bank, TRUE);
  g_assert_false (gtk_check_button_get_active (test));
  gtk_window_destroy (GTK_WINDOW (dialog));

  /* what the dialog's recomputed / test choice runs */
  g_autofree char *out = g_build_filename (workdir, "export-test", NULL);
  int done = 0;
  g_autoptr (GArray) progress = g_array_new (FALSE, FALSE, sizeof (int));
  instdisc_run_export_recomputed_async (run, TRUE, out, record_progress,
                                        progress, NULL, on_exported, &done);
  iterate_until (export_finished, &done, 60);
  g_assert_cmpint (done, ==, 1);
  /* on the main loop, batch by batch, before the end */
  g_assert_cmpuint (progress->len, >, 0);
  for (guint i = 0; i < progress->len; i++)
    g_assert_cmpint (g_array_index (progress, int, i), ==,
                     (int) i * config.batch_size);
  const char *files[] = { "features.npy", "labels.npy", "paths.txt",
                          "vectors.tsv", "metadata.tsv" };
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (out, files[i], NULL);
      g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
    }
  g_autofree char *vectors_path = g_build_filename (out, "vectors.tsv", NULL);
  g_autofree char *vectors = NULL;
  g_file_get_contents (vectors_path, &vectors, NULL, &error);
  g_assert_no_error (error);
  int lines = 0;
  for (const char *c = vectors; *c; c++)
    lines += *c == '\n';
  g_assert_cmpint (lines, ==, N_IMAGES);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_dialog (void)
{
  GtkWidget *dialog = instdisc_new_training_dialog_new (NULL);
  InstdiscNewTrainingDialog *d = INSTDISC_NEW_TRAINING_DIALOG (dialog);
  gtk_window_present (GTK_WINDOW (dialog));
  for (int i = 0; i < 10; i++)
    g_main_context_iteration (NULL, FALSE);
  TrainerConfig config, defaults;
  trainer_config_init_default (&defaults);
  instdisc_new_training_dialog_get_config (d, &config);
  g_assert_true (config.model == defaults.model);
  g_assert_true (config.objective == defaults.objective);
  g_assert_cmpint (config.batch_size, ==, defaults.batch_size);
  g_assert_cmpint (config.epochs, ==, defaults.epochs);
  g_assert_cmpfloat_with_epsilon (config.tau, defaults.tau, 1e-6);
  /* the default recipe's cosine schedule: no drops */
  g_assert_cmpint (config.schedule, ==, defaults.schedule);
  g_assert_cmpint (config.schedule, ==, SCHEDULE_COSINE);
  g_assert_cmpint (config.n_lr_drops, ==, 0);
  g_assert_cmpstr (instdisc_new_training_dialog_get_data_spec (d), ==,
                   "fashion-mnist");
  g_assert_true (g_str_has_prefix (instdisc_new_training_dialog_get_run_dir (d),
                                   "runs/"));
  gtk_window_destroy (GTK_WINDOW (dialog));
}

static gboolean
thumb_loaded (gpointer data)
{
  return !instdisc_thumb_is_loading (data);
}

/* A folder's picture is decoded off the main loop: the thumb is empty and
 * loading at first, shows the picture once the worker is done, and a
 * second thumb of the same picture shows it at once from the cache. A file
 * that breaks leaves the thumb empty with the reason as its tooltip; an
 * in-memory set's image is shown at once. */
static void
test_thumb_off_main_loop (void)
{
  g_autofree char *spec = test_write_image_folder (workdir, "thumbs", 2, 3,
                                                   40, TRUE, 3);
  DatasetOptions options;
  dataset_options_init_default (&options);
  options.holdout_every = 0;
  g_autoptr (GError) error = NULL;
  g_autoptr (Dataset) data = dataset_open (spec, "train", &options, &error);
  g_assert_no_error (error);
  g_assert_null (data->pixels);

  GtkWidget *first = g_object_ref_sink (instdisc_thumb_new (NULL, 84));
  instdisc_thumb_set_image (INSTDISC_THUMB (first), data, 1);
  g_assert_true (instdisc_thumb_is_loading (INSTDISC_THUMB (first)));
  g_assert_null (instdisc_thumb_get_texture (INSTDISC_THUMB (first)));
  iterate_until (thumb_loaded, first, 30);
  GdkTexture *texture = instdisc_thumb_get_texture (INSTDISC_THUMB (first));
  g_assert_nonnull (texture);
  /* 32-pixel images at the largest whole multiple within 84 */
  g_assert_cmpint (gdk_texture_get_width (texture), ==, 64);

  GtkWidget *second = g_object_ref_sink (instdisc_thumb_new (NULL, 84));
  instdisc_thumb_set_image (INSTDISC_THUMB (second), data, 1);
  g_assert_false (instdisc_thumb_is_loading (INSTDISC_THUMB (second)));
  g_assert_true (instdisc_thumb_get_texture (INSTDISC_THUMB (second))
                 == texture);

  /* a thumb asked for another picture before the first came back shows
   * the last one asked for */
  instdisc_thumb_set_image (INSTDISC_THUMB (second), data, 2);
  instdisc_thumb_set_image (INSTDISC_THUMB (second), data, 3);
  iterate_until (thumb_loaded, second, 30);
  GdkTexture *third = instdisc_thumb_get_texture (INSTDISC_THUMB (second));
  g_assert_nonnull (third);
  g_assert_true (third != texture);
  for (int i = 0; i < 50; i++)
    g_main_context_iteration (NULL, FALSE);
  g_assert_true (instdisc_thumb_get_texture (INSTDISC_THUMB (second))
                 == third);

  /* broken after the load */
  g_assert_true (g_file_set_contents (data->paths[4], "not a PNG", -1, NULL));
  instdisc_thumb_set_image (INSTDISC_THUMB (first), data, 4);
  iterate_until (thumb_loaded, first, 30);
  g_assert_null (instdisc_thumb_get_texture (INSTDISC_THUMB (first)));
  const char *why = gtk_widget_get_tooltip_text (first);
  g_assert_nonnull (why);
  g_assert_nonnull (strstr (why, data->paths[4]));

  /* in memory: at once */
  g_autoptr (Dataset) memory = dataset_new_in_memory ("m", 2, 1, 28, 28);
  instdisc_thumb_set_image (INSTDISC_THUMB (first), memory, 0);
  g_assert_false (instdisc_thumb_is_loading (INSTDISC_THUMB (first)));
  g_assert_nonnull (instdisc_thumb_get_texture (INSTDISC_THUMB (first)));
  g_object_unref (first);
  g_object_unref (second);
}

/* A photo folder at 224 pixels through the explorer's run, as New
 * Training's ImageNet button sets it up: ResNet-18 with the ImageNet stem,
 * NCE, crops from the full pictures (300 x 300 here, larger than the
 * crops); the steps run and the checkpoint is the ImageNet net's. */
static void
test_run_photos (void)
{
  g_autofree char *data = test_write_image_folder (workdir, "photos", 2, 5,
                                                   300, TRUE, 9);
  g_autofree char *dir = new_run_dir ("run-photos");
  TrainerConfig config;
  trainer_config_init_recipe (&config, TRAINER_RECIPE_IMAGENET);
  config.batch_size = 4;
  config.nce_k = 2;
  config.epochs = 1;
  g_autoptr (GError) error = NULL;
  g_autoptr (InstdiscRun) run = instdisc_run_new_training_sized (
      dir, data, TRAINER_IMAGENET_IMAGE_SIZE, &config, &error);
  g_assert_no_error (error);
  Watch w = { .run = run };
  g_signal_connect (run, "metrics-added", G_CALLBACK (on_metrics), &w);
  instdisc_run_start (run);
  iterate_until (is_stopped, &w, 300);
  g_assert_null (instdisc_run_get_error (run));
  GArray *rows = instdisc_run_get_metrics (run);
  guint steps = 0;
  for (guint i = 0; i < rows->len; i++)
    steps += g_str_equal (g_array_index (rows, MetricsRow, i).kind, "step");
  /* 10 training images (the hold-out takes every 10th of a class: none of
   * 5), batch 4 */
  g_assert_cmpuint (steps, ==, 2);
  g_autofree char *checkpoint = g_build_filename (dir, "checkpoint.safetensors",
                                                  NULL);
  g_assert_true (g_file_test (checkpoint, G_FILE_TEST_EXISTS));
  g_autofree char *ini = g_build_filename (dir, "config.ini", NULL);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (ini, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, "model=resnet18-imagenet"));
  g_assert_nonnull (strstr (text, "image_size=224"));
}

int
main (int argc, char **argv)
{
  /* the kernels the command line runs (blas-kernels.h), since these tests
   * compare its results with this process's to a few ulps */
  blas_kernels_choose (argv);
  gtk_test_init (&argc, &argv, NULL);
  main_thread = g_thread_self ();
  g_autoptr (GError) error = NULL;
  workdir = g_dir_make_tmp ("instdisc-gui-XXXXXX", &error);
  g_assert_no_error (error);
  g_test_message ("files in %s", workdir);

  g_test_add_func ("/gui/run/train-pause-stop", test_run_train_pause_stop);
  g_test_add_func ("/gui/thumb/off-main-loop", test_thumb_off_main_loop);
  g_test_add_func ("/gui/run/epoch", test_run_epoch);
  g_test_add_func ("/gui/run/photos", test_run_photos);
  g_test_add_func ("/gui/run/epoch-linear", test_run_epoch_linear);
  g_test_add_func ("/gui/run/same-as-cli", test_run_same_as_cli);
  g_test_add_func ("/gui/run/follow-grows", test_run_follow_grows);
  g_test_add_func ("/gui/training-view/nce", test_training_view_nce);
  g_test_add_func ("/gui/notice-bar", test_notice_bar);
  g_test_add_func ("/gui/training-view/pass-time-left",
                   test_training_view_pass_time_left);
  g_test_add_func ("/gui/training-view/knn-axis",
                   test_training_view_knn_axis);
  g_test_add_func ("/gui/training-view/loss-tools",
                   test_training_view_loss_tools);
  g_test_add_func ("/gui/training-view/compare",
                   test_training_view_compare);
  g_test_add_func ("/gui/training-view/nce-diagnosis",
                   test_training_view_nce_diagnosis);
  g_test_add_func ("/gui/run/slow-gui", test_run_slow_gui);
  g_test_add_func ("/gui/window/welcome", test_window_welcome);
  g_test_add_func ("/gui/window/train", test_window_train);
  g_test_add_func ("/gui/window/close-holds-application",
                   test_window_close_holds_application);
  g_test_add_func ("/gui/window/export", test_window_export);
  g_test_add_func ("/gui/dialog/new-training", test_dialog);
  return g_test_run ();
}
