/* test-trainer-files.c: training on an image folder whose files go away or
 * break, on a small folder the test writes:
 *   /method/trainer/unreadable-row    the trainer meets a file deleted
 *                                     under it, leaves its row out and goes
 *                                     on; a run resumed before that batch
 *                                     with the row already marked makes the
 *                                     same steps, bit for bit, and so does a
 *                                     run whose row an evaluation marked
 *   /method/loop/unreadable-recorded  a file broken in place (same size and
 *                                     time) is found by the run, written
 *                                     into files.txt and told once; a run
 *                                     stopped and resumed from that list
 *                                     ends as the uninterrupted one */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#include "file-list.h"
#include "loader.h"
#include "run-dir.h"
#include "run-folder.h"
#include "test-data.h"
#include "testutil.h"
#include "trainer-run.h"
#include "training-loop.h"

#define BATCH 8

static TrainerConfig
files_config (void)
{
  TrainerConfig c;
  trainer_config_init_default (&c);   /* the bank from features */
  c.batch_size = BATCH;
  c.epochs = 2;
  c.low_dim = 16;
  c.seed = 11;
  return c;
}

static Dataset *
open_folder (const char *root)
{
  DatasetOptions options;
  dataset_options_init_default (&options);
  options.image_size = 28;
  options.holdout_every = 0;
  g_autoptr (GError) error = NULL;
  Dataset *d = dataset_open (root, "train", &options, &error);
  g_assert_no_error (error);
  return d;
}

static void
run_steps (Trainer *t, int n, float *losses)
{
  for (int i = 0; i < n; i++)
    {
      TrainerStepInfo info;
      g_autoptr (GError) error = NULL;
      g_assert_true (trainer_step (t, &info, &error));
      g_assert_no_error (error);
      losses[i] = info.loss;
    }
}

static void
assert_same_state (Trainer *a, Trainer *b)
{
  ResNet *na = trainer_get_network (a), *nb = trainer_get_network (b);
  g_assert_cmpmem (na->params, sizeof (float) * na->n_params, nb->params,
                   sizeof (float) * nb->n_params);
  MemoryBank *ba = trainer_get_bank (a), *bb = trainer_get_bank (b);
  g_assert_cmpmem (ba->vectors, sizeof (float) * ba->n * ba->dim,
                   bb->vectors, sizeof (float) * bb->n * bb->dim);
}

static void
test_unreadable_row (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("instdisc-files-XXXXXX", &error);
  g_assert_no_error (error);
  /* 40 images: 5 steps an epoch */
  /* colour: normalised by ImageNet's statistics, not measured from the
   * folder, which loses a file below */
  g_autofree char *root = test_write_image_folder (dir, "pets", 4, 10, 12,
                                                   TRUE, 5);
  g_autoptr (Dataset) straight_set = open_folder (root);
  g_autoptr (Dataset) resumed_set = open_folder (root);
  g_autoptr (Dataset) marked_set = open_folder (root);
  g_assert_cmpint (straight_set->n, ==, 40);
  TrainerConfig config = files_config ();
  enum { TOTAL = 12, FIRST = 2 };
  /* the row at position 26 of epoch 0: step 3, after the checkpoint */
  int order[40];
  loader_epoch_order (config.seed, 0, 40, order);
  const int row = order[26];

  float straight[TOTAL], resumed[TOTAL - FIRST];
  g_autoptr (Trainer) a = trainer_new (&config, straight_set, &error);
  g_assert_no_error (error);
  trainer_set_workers (a, 0);   /* no batch read ahead of the deletion */
  run_steps (a, 1, straight);
  float marked[TOTAL];
  g_autoptr (Trainer) d = trainer_new (&config, marked_set, &error);
  trainer_set_workers (d, 0);
  run_steps (d, 1, marked);
  g_autofree char *checkpoint = g_build_filename (dir, "checkpoint", NULL);
  {
    g_autoptr (Trainer) b = trainer_new (&config, resumed_set, &error);
    trainer_set_workers (b, 0);
    float ignored[FIRST];
    run_steps (b, FIRST, ignored);
    g_assert_true (trainer_save_checkpoint (b, checkpoint, NULL, &error));
    g_assert_no_error (error);
  }
  g_assert_cmpint (g_unlink (straight_set->paths[row]), ==, 0);
  run_steps (a, TOTAL - 1, straight + 1);
  g_assert_cmpint (dataset_row_status (straight_set, row), ==,
                   DATASET_ROW_UNREADABLE);
  g_assert_cmpint (dataset_count_marked (straight_set), ==, 1);

  /* resumed with the row marked, as a run reopened from files.txt is */
  g_assert_true (dataset_mark_unreadable (resumed_set, row));
  g_autoptr (Trainer) c = trainer_new (&config, resumed_set, &error);
  trainer_set_workers (c, 2);
  g_assert_true (trainer_load_checkpoint (c, checkpoint, &error));
  g_assert_no_error (error);
  run_steps (c, TOTAL - FIRST, resumed);
  for (int i = 0; i < TOTAL - FIRST; i++)
    g_assert_cmpfloat (resumed[i], ==, straight[FIRST + i]);
  assert_same_state (a, c);

  /* the row marked by someone else (an evaluation that met it) while the
   * loader that meets it runs: the same steps again */
  g_assert_true (dataset_mark_unreadable (marked_set, row));
  run_steps (d, TOTAL - 1, marked + 1);
  for (int i = 0; i < TOTAL; i++)
    g_assert_cmpfloat (marked[i], ==, straight[i]);
  assert_same_state (a, d);
  test_remove_tree (dir);
}

/* ---- the training loop ---- */

typedef struct
{
  gint64 stop_at_step;   /* 0: never */
  gboolean stop;
  GPtrArray *notices;
} Watch;

static void
watch_row (TrainingLoop *loop, const MetricsRow *row,
           const TrainerStepInfo *info, const LinearEvalResult *linear,
           gpointer data)
{
  Watch *w = data;
  if (info && w->stop_at_step > 0 && info->iteration >= w->stop_at_step)
    w->stop = TRUE;
}

static gboolean
watch_should_stop (TrainingLoop *loop, gpointer data)
{
  return ((Watch *) data)->stop;
}

static void
watch_notice (TrainingLoop *loop, const char *message, gpointer data)
{
  g_test_message ("notice: %s", message);
  g_ptr_array_add (((Watch *) data)->notices, g_strdup (message));
}

static const TrainingLoopCallbacks watch_callbacks = {
  .row_written = watch_row,
  .should_stop = watch_should_stop,
  .data_notice = watch_notice,
};

/* Trains the run in run_dir on its listed images (resumed from its
 * checkpoint when there is one) until the end or stop_at_step; returns
 * the notices. */
static GPtrArray *
run_loop (const char *run_dir, const char *root, gint64 stop_at_step)
{
  DatasetOptions options;
  dataset_options_init_default (&options);
  options.image_size = 28;
  g_autoptr (GError) error = NULL;
  g_autoptr (Dataset) train = run_folder_open_dataset (run_dir, root, "train",
                                                       &options, &error);
  g_assert_no_error (error);
  g_autoptr (Dataset) test = run_folder_open_dataset (run_dir, root, "test",
                                                      &options, &error);
  g_assert_no_error (error);
  g_assert_nonnull (train->file_list);
  TrainerConfig config = files_config ();
  g_autoptr (Trainer) trainer = trainer_new (&config, train, &error);
  g_assert_no_error (error);
  TrainingLoopOptions loop_options;
  training_loop_options_init (&loop_options, run_dir);
  g_autofree char *checkpoint = run_dir_file (run_dir, RUN_CHECKPOINT_FILE);
  if (g_file_test (checkpoint, G_FILE_TEST_EXISTS))
    {
      g_assert_true (trainer_run_resume (trainer, run_dir,
                                         &loop_options.wall_offset, &error));
      g_assert_no_error (error);
    }
  Watch watch = { .stop_at_step = stop_at_step,
                  .notices = g_ptr_array_new_with_free_func (g_free) };
  g_autoptr (TrainingLoop) loop = training_loop_new (trainer, train, test,
                                                     &loop_options,
                                                     &watch_callbacks, &watch);
  g_assert_true (training_loop_run (loop, &error));
  g_assert_no_error (error);
  return watch.notices;
}

/* A new run on root in dir/NAME: config.ini is not needed by the loop, the
 * list is. */
static char *
new_run (const char *dir, const char *name, const char *root)
{
  char *run = g_build_filename (dir, name, NULL);
  g_assert_cmpint (g_mkdir (run, 0755), ==, 0);
  DatasetOptions options;
  dataset_options_init_default (&options);
  options.image_size = 28;
  g_autoptr (GError) error = NULL;
  g_autoptr (Dataset) train = dataset_open (root, "train", &options, &error);
  g_assert_no_error (error);
  g_autoptr (Dataset) test = dataset_open (root, "test", &options, &error);
  g_assert_no_error (error);
  g_assert_true (trainer_run_pin_data (run, train, test, &error));
  g_assert_no_error (error);
  /* a second call, or a list already there: nothing written */
  g_assert_true (trainer_run_pin_data (run, train, test, &error));
  return run;
}

static Trainer *
load_final (const char *run_dir, const Dataset *train)
{
  TrainerConfig config = files_config ();
  g_autoptr (GError) error = NULL;
  Trainer *t = trainer_new (&config, train, &error);
  g_assert_no_error (error);
  g_autofree char *checkpoint = run_dir_file (run_dir, RUN_CHECKPOINT_FILE);
  g_assert_true (trainer_load_checkpoint (t, checkpoint, &error));
  g_assert_no_error (error);
  return t;
}

static void
test_unreadable_recorded (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("instdisc-files-XXXXXX", &error);
  g_assert_no_error (error);
  /* 4 classes of 12: 44 training images (5 steps an epoch), 4 test */
  g_autofree char *root = test_write_image_folder (dir, "pets", 4, 12, 12,
                                                   FALSE, 9);
  g_autofree char *straight = new_run (dir, "straight", root);
  g_autofree char *stopped = new_run (dir, "stopped", root);
  g_autofree char *victim = g_build_filename (root, "c1", "img04.png", NULL);
  test_corrupt_keeping_stamp (victim);

  g_autoptr (GPtrArray) told = run_loop (straight, root, 0);
  g_assert_cmpuint (told->len, ==, 1);
  g_assert_nonnull (strstr (told->pdata[0], "c1/img04.png"));
  g_autofree char *list = g_build_filename (straight, DATASET_FILE_LIST_NAME,
                                            NULL);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (list, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, "\ntrain\tunreadable\t1\t"));
  g_assert_nonnull (strstr (text, "\tc1/img04.png\n"));

  /* stopped inside the first epoch, resumed from its list: the row is out
   * from the start, told of once, and the run ends as the straight one */
  g_autoptr (GPtrArray) first = run_loop (stopped, root, 3);
  g_assert_cmpuint (first->len, ==, 1);
  g_autoptr (GPtrArray) second = run_loop (stopped, root, 0);
  g_assert_cmpuint (second->len, ==, 0);
  DatasetOptions options;
  dataset_options_init_default (&options);
  options.image_size = 28;
  g_autoptr (Dataset) train = run_folder_open_dataset (stopped, root, "train",
                                                       &options, &error);
  g_assert_no_error (error);
  g_assert_cmpint (dataset_count_unavailable (train), ==, 1);
  g_autoptr (Trainer) a = load_final (straight, train);
  g_autoptr (Trainer) b = load_final (stopped, train);
  g_assert_cmpint (trainer_get_iteration (a), ==, 10);
  assert_same_state (a, b);
  test_remove_tree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/method/trainer/unreadable-row", test_unreadable_row);
  g_test_add_func ("/method/loop/unreadable-recorded",
                   test_unreadable_recorded);
  return g_test_run ();
}
