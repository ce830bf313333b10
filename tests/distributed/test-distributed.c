/* test-distributed.c: `mpirun -n 2 instdisc train` against one process
 * (docs/distributed.md), on a toy data set written here: the same losses,
 * memory bank, weights and kNN evaluations; a run resumed on another
 * number of ranks; and a job that loses a rank ends, with a message, and
 * does not hang.
 *
 * Comparing like with like. With its batch split over two ranks, each
 * rank's batch norm takes its statistics from its own half of the batch
 * (as PyTorch's DistributedDataParallel without SyncBatchNorm does), so
 * the two-rank run is not the one-process run of the same batch: its
 * normalisation differs by far more than any tolerance. The reference
 * here is one process that computes exactly what the two ranks compute:
 * the same trainer with batch norm in two groups of half the batch
 * (trainer_set_batch_norm_groups, "ghost batch norm"; the engine's tests
 * hold one process with two groups to two halves run alone). Everything
 * else (the global batch's images and augmentations, the objective's
 * means over the whole batch, NCE's noise and Z, the bank update, SGD) is
 * the whole batch's in both, so what remains between them is the order of
 * float sums: the gradient summed over ranks rather than in one pass, the
 * loss and Z summed by rank, the bank's first pass embedded in shares.
 * The tolerances: losses within 1e-4 relative, bank rows within 1e-5,
 * weights within 1e-4 (relative, or absolute below 1); they measured
 * 1e-5 and below here (the test prints them). The momentum (the gradients
 * summed) is held to thirty times the distance between two runs of one
 * process that differ only in the number of engine threads (its floor,
 * measured by the case): a convolution's weight gradient ahead of batch
 * norm is a sum of terms that nearly cancel (batch norm makes the gradient
 * of each channel's outputs sum to zero), so the order of its float sums
 * moves it by far more than an ulp of its value: at the toy's first steps
 * 5e-7 with OpenBLAS's SSE3 kernels, but 5e-4 (softmax) and 1e-2 (NCE)
 * with its AVX-512 ones, while a rank's gradient lost or counted twice is
 * off by tens of percent. They can hold only where
 * training does not amplify rounding, so those cases run at --lr 0 (all
 * but the weights still move: the bank, the gradients summed into the
 * momentum, the running statistics, the losses); test_training says why,
 * and what holds at the recipe's learning rate.
 *
 * Without MPI (meson option mpi off, or no MPI found) every case is
 * skipped, saying so. Each mpirun gets a deadline: a job still running
 * after it is killed and the case fails as a hang. */
#include <glib.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "blas-kernels.h"
#include "dataset.h"
#include "evaluate.h"
#include "run-dir.h"
#include "safetensors.h"
#include "test-data.h"
#include "testutil.h"
#include "threads.h"
#include "trainer.h"

static const char *instdisc_path;
static char *workdir;
static char *toy;          /* the toy data set's folder, its spec */

enum
{
  N_TRAIN = 320,           /* 20 steps of 16 make one epoch */
  N_TEST = 96,
  BATCH = 16,
  SEED = 7,
  DEADLINE_S = 180,        /* no job here needs a tenth of it, even
                            * under a sanitizer */
};

/* metrics.csv keeps 6 significant digits: a percentage read back from it
 * is the number to within this */
#define CSV_DIGITS 1e-3

/* ---- the data ---- */

/* A toy IDX set with its two splits in dir/NAME (as test-data.h's, the
 * class a bright half of the image) but with noise almost as strong as
 * the signal: raw pixels score 99 %, the untrained network about 30 %, so
 * the kNN numbers compared below are not all 100 % or all 25 %. */
static char *
write_noisy_toy (const char *dir, const char *name, int n_train)
{
  char *folder = g_build_filename (dir, name, NULL);
  g_assert_cmpint (g_mkdir_with_parents (folder, 0755), ==, 0);
  const struct { const char *stem; int n; guint32 seed; } splits[] = {
    { "train", n_train, 3 }, { "t10k", N_TEST, 4 },
  };
  const int side = TEST_TOY_SIDE;
  for (gsize s = 0; s < G_N_ELEMENTS (splits); s++)
    {
      const int n = splits[s].n;
      const gsize pixels = (gsize) n * side * side;
      g_autofree guint8 *images = g_new (guint8, 16 + pixels);
      g_autofree guint8 *labels = g_new (guint8, 8 + n);
      const guint32 image_header[4] = { GUINT32_TO_BE (0x803),
                                        GUINT32_TO_BE (n),
                                        GUINT32_TO_BE (side),
                                        GUINT32_TO_BE (side) };
      const guint32 label_header[2] = { GUINT32_TO_BE (0x801),
                                        GUINT32_TO_BE (n) };
      memcpy (images, image_header, 16);
      memcpy (labels, label_header, 8);
      g_autoptr (GRand) rand = g_rand_new_with_seed (splits[s].seed);
      for (int i = 0; i < n; i++)
        {
          const int c = i % TEST_TOY_CLASSES;
          labels[8 + i] = (guint8) c;
          for (int y = 0; y < side; y++)
            for (int x = 0; x < side; x++)
              {
                gboolean bright = (c == 0 && x < side / 2)
                                  || (c == 1 && y < side / 2)
                                  || (c == 2 && x >= side / 2)
                                  || (c == 3 && y >= side / 2);
                int v = (bright ? 140 : 115)
                        + g_rand_int_range (rand, -125, 126);
                images[16 + ((gsize) i * side + y) * side + x]
                    = (guint8) CLAMP (v, 0, 255);
              }
        }
      g_autofree char *images_name = g_strconcat (splits[s].stem,
                                                  "-images-idx3-ubyte", NULL);
      g_autofree char *labels_name = g_strconcat (splits[s].stem,
                                                  "-labels-idx1-ubyte", NULL);
      g_autofree char *images_path = g_build_filename (folder, images_name,
                                                       NULL);
      g_autofree char *labels_path = g_build_filename (folder, labels_name,
                                                       NULL);
      g_assert_true (g_file_set_contents (images_path, (char *) images,
                                          16 + pixels, NULL));
      g_assert_true (g_file_set_contents (labels_path, (char *) labels,
                                          8 + n, NULL));
    }
  return folder;
}

/* ---- running mpirun ---- */

typedef struct
{
  int status;              /* exit status; -1: killed by a signal */
  char *out, *err;
} Job;

static void
job_clear (Job *job)
{
  g_free (job->out);
  g_free (job->err);
}

/* mpirun's arguments for P ranks of `instdisc ARGS` (NULL-terminated):
 * oversubscribed (the machine may have fewer cores than ranks) */
static GPtrArray *
mpirun_argv (int ranks, const char *const *args)
{
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (argv, g_find_program_in_path ("mpirun"));
  g_ptr_array_add (argv, g_strdup ("--oversubscribe"));
  g_ptr_array_add (argv, g_strdup ("-n"));
  g_ptr_array_add (argv, g_strdup_printf ("%d", ranks));
  g_ptr_array_add (argv, g_strdup (instdisc_path));
  for (int i = 0; args[i]; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
  g_ptr_array_add (argv, NULL);
  return argv;
}

/* The environment of a job: Open MPI refuses to start as root unless
 * told, and CI machines run as root. */
static char **
job_environment (void)
{
  char **env = g_get_environ ();
  if (getuid () == 0)
    {
      env = g_environ_setenv (env, "OMPI_ALLOW_RUN_AS_ROOT", "1", TRUE);
      env = g_environ_setenv (env, "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1",
                              TRUE);
    }
  return env;
}

typedef struct
{
  GPid pid;
  int out_fd, err_fd;
} Running;

static Running
job_start (char **argv)
{
  g_auto (GStrv) env = job_environment ();
  Running running = { 0 };
  g_autoptr (GError) error = NULL;
  g_spawn_async_with_pipes (workdir, argv, env, G_SPAWN_DO_NOT_REAP_CHILD,
                            NULL, NULL, &running.pid, NULL, &running.out_fd,
                            &running.err_fd, &error);
  g_assert_no_error (error);
  return running;
}

/* everything left in fd, then closes it */
static char *
drain (int fd)
{
  GString *text = g_string_new (NULL);
  char buffer[4096];
  ssize_t n;
  while ((n = read (fd, buffer, sizeof buffer)) > 0)
    g_string_append_len (text, buffer, n);
  close (fd);
  return g_string_free (text, FALSE);
}

/* Waits for the job to end, at most DEADLINE_S seconds: past that it is
 * killed and the case fails as a hang. The pipes are read as it runs. */
static Job
job_wait (Running *running)
{
  GString *out = g_string_new (NULL), *err = g_string_new (NULL);
  g_unix_set_fd_nonblocking (running->out_fd, TRUE, NULL);
  g_unix_set_fd_nonblocking (running->err_fd, TRUE, NULL);
  const gint64 deadline = g_get_monotonic_time () + DEADLINE_S * G_USEC_PER_SEC;
  int wait_status = 0;
  for (;;)
    {
      char buffer[4096];
      ssize_t n;
      while ((n = read (running->out_fd, buffer, sizeof buffer)) > 0)
        g_string_append_len (out, buffer, n);
      while ((n = read (running->err_fd, buffer, sizeof buffer)) > 0)
        g_string_append_len (err, buffer, n);
      if (waitpid (running->pid, &wait_status, WNOHANG) == running->pid)
        break;
      if (g_get_monotonic_time () > deadline)
        {
          kill (running->pid, SIGKILL);
          waitpid (running->pid, &wait_status, 0);
          g_error ("the job did not end within %d s: a hang; its output: "
                   "%s", DEADLINE_S, err->str);
        }
      g_usleep (20000);
    }
  g_autofree char *out_rest = drain (running->out_fd);
  g_autofree char *err_rest = drain (running->err_fd);
  g_string_append (out, out_rest);
  g_string_append (err, err_rest);
  Job job = {
    .status = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : -1,
    .out = g_string_free (out, FALSE),
    .err = g_string_free (err, FALSE),
  };
  g_test_message ("exit %d; stderr: %s", job.status, job.err);
  return job;
}

/* `mpirun -n ranks instdisc ARG...` (ranks 1: instdisc alone), to the end */
static Job
run_ranks (int ranks, const char *first, ...)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  va_list ap;
  va_start (ap, first);
  for (const char *a = first; a; a = va_arg (ap, const char *))
    g_ptr_array_add (args, (char *) a);
  va_end (ap);
  g_ptr_array_add (args, NULL);
  g_autoptr (GPtrArray) argv = NULL;
  if (ranks > 1)
    argv = mpirun_argv (ranks, (const char *const *) args->pdata);
  else
    {
      argv = g_ptr_array_new_with_free_func (g_free);
      g_ptr_array_add (argv, g_strdup (instdisc_path));
      for (guint i = 0; i + 1 < args->len; i++)
        g_ptr_array_add (argv, g_strdup (args->pdata[i]));
      g_ptr_array_add (argv, NULL);
    }
  Running running = job_start ((char **) argv->pdata);
  return job_wait (&running);
}

static void
assert_job_succeeded (const Job *job)
{
  if (job->status != 0)
    g_error ("the job failed (exit %d): %s", job->status, job->err);
}

/* ---- the one-process reference ---- */

/* The CLI's default recipe with the test's options, as `instdisc train`
 * builds it from "--batch-size 16 --epochs E --seed 7 [--lr 0]
 * [--objective nce --nce-k 32 --proximal 0.1]" */
static void
reference_config (TrainerConfig *config, int epochs, gboolean learn,
                  gboolean nce)
{
  trainer_config_init_default (config);
  config->batch_size = BATCH;
  config->epochs = epochs;
  config->seed = SEED;
  if (!learn)
    config->lr = 0.0f;
  if (nce)
    {
      config->objective = objective_registry_lookup ("nce");
      config->nce_k = 32;
      config->proximal = 0.1f;
    }
}

static Dataset *
open_split (const char *split)
{
  DatasetOptions options;
  dataset_options_init_default (&options);
  options.image_size = 32;
  g_autoptr (GError) error = NULL;
  Dataset *data = dataset_open (toy, split, &options, &error);
  g_assert_no_error (error);
  return data;
}

/* One process that computes what two ranks do: batch norm in two groups.
 * Its losses (one per step) go to losses. */
typedef struct
{
  Dataset *train, *test;
  Trainer *trainer;
  GArray *losses;          /* float, step i at i - 1 */
  GArray *evals;           /* MetricsRow: epoch 0's, then each epoch's */
  MetricsRow pixels;       /* raw pixels' kNN, epoch 0 */
} Reference;

/* learn: at the recipe's learning rate, else 0 (the ranks' --lr 0);
 * threads: the engine's, 1 as the ranks' --threads 1 */
static void
reference_init (Reference *ref, gboolean learn, gboolean nce, int groups,
                int threads)
{
  engine_set_threads (threads);
  ref->train = open_split ("train");
  ref->test = open_split ("test");
  TrainerConfig config;
  reference_config (&config, 1, learn, nce);
  g_autoptr (GError) error = NULL;
  ref->trainer = trainer_new (&config, ref->train, &error);
  g_assert_no_error (error);
  g_assert_true (trainer_set_batch_norm_groups (ref->trainer, groups));
  ref->losses = g_array_new (FALSE, FALSE, sizeof (float));
  ref->evals = g_array_new (FALSE, FALSE, sizeof (MetricsRow));
}

static void
reference_clear (Reference *ref)
{
  trainer_free (ref->trainer);
  dataset_unref (ref->train);
  dataset_unref (ref->test);
  g_array_unref (ref->losses);
  g_array_unref (ref->evals);
}

/* the reference points of epoch 0, as the training loop measures them */
static void
reference_start (Reference *ref)
{
  MetricsRow untrained, pixels;
  g_autoptr (GError) error = NULL;
  g_assert_true (trainer_evaluate_start (ref->trainer, ref->train, ref->test,
                                         KNN_DEFAULT_K, &untrained, &pixels,
                                         &error));
  g_assert_no_error (error);
  g_array_append_val (ref->evals, untrained);
  ref->pixels = pixels;
}

static void
reference_steps (Reference *ref, int steps, gboolean evaluate)
{
  g_autoptr (GError) error = NULL;
  g_assert_true (trainer_prepare (ref->trainer, &error));
  const int per_epoch = trainer_steps_per_epoch (ref->trainer);
  for (int s = 0; s < steps; s++)
    {
      TrainerStepInfo info;
      g_assert_true (trainer_step (ref->trainer, &info, &error));
      g_assert_no_error (error);
      g_array_append_val (ref->losses, info.loss);
      if (evaluate && info.iteration % per_epoch == 0)
        {
          EvaluateOptions options;
          evaluate_options_init (&options);
          MetricsRow row;
          g_assert_true (trainer_evaluate (ref->trainer, ref->train,
                                           ref->test, &options, &row, NULL,
                                           &error));
          g_array_append_val (ref->evals, row);
        }
    }
}

/* ---- comparing a run folder with the reference ---- */

/* Largest |a - b| / max (1, |b|): relative, or absolute below 1. */
static double
max_scaled_difference (const float *a, const float *b, size_t n)
{
  double worst = 0.0;
  for (size_t i = 0; i < n; i++)
    {
      double d = fabs ((double) a[i] - b[i]) / MAX (1.0, fabs ((double) b[i]));
      if (!(d <= worst))
        worst = isnan (d) ? INFINITY : d;
    }
  return worst;
}

/* How far two checkpoints are apart: the bank's largest absolute
 * difference; the network's tensors (weights and running statistics) and
 * the optimizer's momentum (the gradients summed over the steps), each
 * max_scaled_difference. */
typedef struct
{
  double bank, network, momentum;
} Apart;

static Apart
checkpoints_apart (const char *path_a, const char *path_b)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SafetensorsFile) a = safetensors_file_load (path_a, &error);
  g_assert_no_error (error);
  g_autoptr (SafetensorsFile) b = safetensors_file_load (path_b, &error);
  g_assert_no_error (error);
  Apart apart = { 0 };
  int compared = 0;
  for (gsize i = 0; i < safetensors_file_get_n_tensors (a); i++)
    {
      const SafetensorsTensor *ta = safetensors_file_get_tensor (a, i);
      if (ta->dtype != DTYPE_F32 || g_str_has_prefix (ta->name, "trainer."))
        continue;
      const SafetensorsTensor *tb = safetensors_file_lookup (b, ta->name);
      g_assert_nonnull (tb);
      g_assert_cmpuint (ta->numel, ==, tb->numel);
      double *into = g_str_equal (ta->name, "memory.bank") ? &apart.bank
                     : g_str_has_prefix (ta->name, "optimizer.")
                         ? &apart.momentum
                         : &apart.network;
      double d = into == &apart.bank
                     ? test_max_violation (ta->name, ta->data, tb->data,
                                           ta->numel, 1.0, 0.0)
                     : max_scaled_difference (ta->data, tb->data, ta->numel);
      *into = MAX (*into, isnan (d) ? INFINITY : d);
      compared++;
    }
  g_assert_cmpint (compared, >, 3);
  return apart;
}

/* The reference's state as a checkpoint file beside the run's, and how
 * far the run's is from it. */
static Apart
run_apart (const char *run, Trainer *reference)
{
  g_autofree char *mine = g_build_filename (workdir, run,
                                            RUN_CHECKPOINT_FILE, NULL);
  g_autofree char *name = g_strconcat (run, "-reference.safetensors", NULL);
  g_autofree char *theirs = g_build_filename (workdir, name, NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (trainer_save_checkpoint (reference, theirs, NULL, &error));
  g_assert_no_error (error);
  Apart apart = checkpoints_apart (mine, theirs);
  g_test_message ("%s against one process: bank %.3g, weights and running "
                  "statistics %.3g, momentum %.3g", run, apart.bank,
                  apart.network, apart.momentum);
  return apart;
}

/* How far the momentum of one process moves with the order of its float
 * sums: the reference's run (steps at lr 0 with its batch-norm groups,
 * then, where then_steps > 0, then_steps more with then_groups, as a run
 * resumed on another number of ranks; no evaluations) with 1 engine
 * thread against 2. The floor must come from the case's own run: how far
 * rounding moves the momentum depends on how nearly its terms cancel,
 * which depends on the groups. */
static double
momentum_floor (gboolean nce, int groups, int steps, int then_groups,
                int then_steps)
{
  Reference one, two;
  reference_init (&one, FALSE, nce, groups, 1);
  reference_steps (&one, steps, FALSE);
  reference_init (&two, FALSE, nce, groups, 2);
  reference_steps (&two, steps, FALSE);
  if (then_steps > 0)
    {
      g_assert_true (trainer_set_batch_norm_groups (one.trainer, then_groups));
      g_assert_true (trainer_set_batch_norm_groups (two.trainer, then_groups));
      engine_set_threads (1);
      reference_steps (&one, then_steps, FALSE);
      engine_set_threads (2);
      reference_steps (&two, then_steps, FALSE);
    }
  g_autofree char *a = g_build_filename (workdir, "floor-1.safetensors", NULL);
  g_autofree char *b = g_build_filename (workdir, "floor-2.safetensors", NULL);
  g_assert_true (trainer_save_checkpoint (one.trainer, a, NULL, NULL));
  g_assert_true (trainer_save_checkpoint (two.trainer, b, NULL, NULL));
  Apart floor = checkpoints_apart (b, a);
  g_test_message ("one process, 2 engine threads against 1: momentum %.3g",
                  floor.momentum);
  reference_clear (&one);
  reference_clear (&two);
  engine_set_threads (1);
  return floor.momentum;
}

/* The tolerances: bank rows within 1e-5, weights and running statistics
 * within 1e-4, momentum within 1e-4 or thirty times its floor (why: at the
 * top). */
static void
compare_checkpoint (const char *run, Trainer *reference, double floor)
{
  Apart apart = run_apart (run, reference);
  const double momentum_tolerance = MAX (1e-4, 30 * floor);
  if (!(apart.bank <= 1e-5 && apart.network <= 1e-4
        && apart.momentum <= momentum_tolerance))
    g_error ("%s: the state differs from one process's beyond the "
             "tolerances (bank 1e-5, weights 1e-4, momentum %.3g)", run,
             momentum_tolerance);
}

/* The run's step rows' losses against the reference's, steps first ..
 * first + n - 1 (1-based), within loss_tolerance relative; and its eval
 * rows against the reference's. */
static void
compare_metrics (const char *run, const Reference *ref, int first, int n,
                 gboolean evals, double loss_tolerance)
{
  g_autofree char *dir = g_build_filename (workdir, run, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) rows = run_dir_load_metrics (dir, &error);
  g_assert_no_error (error);
  double worst = 0.0;
  int steps = 0, evaluations = 0;
  for (guint i = 0; i < rows->len; i++)
    {
      const MetricsRow *row = &g_array_index (rows, MetricsRow, i);
      if (g_str_equal (row->kind, "step"))
        {
          g_assert_cmpint (row->iteration, ==, first + steps);
          float want = g_array_index (ref->losses, float, first - 1 + steps);
          double d = fabs (row->loss - want) / fabs (want);
          worst = MAX (worst, isnan (d) ? INFINITY : d);
          steps++;
        }
      else if (evals && g_str_equal (row->kind, "eval"))
        {
          g_assert_cmpuint (evaluations, <, ref->evals->len);
          const MetricsRow *want = &g_array_index (ref->evals, MetricsRow,
                                                   evaluations);
          g_test_message ("%s: eval at epoch %d: kNN top-1 %.4g top-5 %.4g "
                          "1-NN %.4g, one process %.4g %.4g %.4g",
                          run, (int) row->epoch, row->knn_top1,
                          row->knn_top5, row->knn_1nn, want->knn_top1,
                          want->knn_top5, want->knn_1nn);
          /* Before training both have the untrained network's weights to
           * the bit, and the two ranks' shares of the bank's first pass
           * and of the test set add up to the same counts. After training
           * the weights differ in their last bits, which may move a test
           * image across a vote: within one image of the 96 (the exact
           * comparison of the split evaluation is against `instdisc eval`
           * on the same checkpoint, below). */
          const double slack = row->epoch == 0 ? CSV_DIGITS
                                               : 100.0 / N_TEST + CSV_DIGITS;
          g_assert_cmpfloat_with_epsilon (row->knn_top1, want->knn_top1,
                                          slack);
          g_assert_cmpfloat_with_epsilon (row->knn_top5, want->knn_top5,
                                          slack);
          g_assert_cmpfloat_with_epsilon (row->knn_1nn, want->knn_1nn, slack);
          evaluations++;
        }
      else if (evals && g_str_equal (row->kind, "pixels"))
        {
          g_test_message ("%s: raw pixels: kNN top-1 %.4g top-5 %.4g 1-NN "
                          "%.4g, one process %.4g %.4g %.4g", run,
                          row->knn_top1, row->knn_top5, row->knn_1nn,
                          ref->pixels.knn_top1, ref->pixels.knn_top5,
                          ref->pixels.knn_1nn);
          g_assert_cmpfloat_with_epsilon (row->knn_top1,
                                          ref->pixels.knn_top1, CSV_DIGITS);
          g_assert_cmpfloat_with_epsilon (row->knn_top5,
                                          ref->pixels.knn_top5, CSV_DIGITS);
          g_assert_cmpfloat_with_epsilon (row->knn_1nn, ref->pixels.knn_1nn,
                                          CSV_DIGITS);
        }
    }
  g_assert_cmpint (steps, ==, n);
  if (evals)
    g_assert_cmpuint (evaluations, ==, ref->evals->len);
  g_test_message ("%s: %d losses within %.3g relative", run, steps, worst);
  if (!(worst <= loss_tolerance))
    g_error ("%s: a loss differs by %.3g relative from the reference "
             "(tolerance %.3g)", run, worst, loss_tolerance);
}

/* the line of a JSON object printed one key a line that holds key */
static char *
json_line (const char *json, const char *key)
{
  g_autofree char *quoted = g_strdup_printf ("\"%s\":", key);
  const char *at = strstr (json, quoted);
  g_assert_nonnull (at);
  const char *end = strchr (at, '\n');
  return g_strndup (at, end ? (gsize) (end - at) : strlen (at));
}

/* ---- the cases ---- */

static gboolean
skip_without_mpi (void)
{
#ifndef INSTDISC_HAVE_MPI
  g_test_skip ("instdisc was built without MPI (meson option mpi, "
               "libopenmpi-dev): nothing distributed to test");
  return TRUE;
#else
  return FALSE;
#endif
}

/* 20 steps of 16 images on two ranks, the exact softmax, with the
 * evaluations of epoch 0 (the untrained network, its bank's first pass
 * split over the ranks) and epoch 1: the losses, the bank, the weights and
 * the kNN numbers of one process with two batch-norm groups. */
static void
test_softmax (void)
{
  if (skip_without_mpi ())
    return;
  Job job = run_ranks (2, "train", "--data", toy, "--run", "softmax",
                       "--batch-size", "16", "--epochs", "1", "--seed", "7",
                       "--lr", "0", "--threads", "1", "--recompute", NULL);
  assert_job_succeeded (&job);
  /* rank 0 alone spoke, and config.ini says how many ranks trained */
  g_assert_nonnull (strstr (job.out, "on 2 ranks"));
  g_assert_null (strstr (strstr (job.out, "done:") + 1, "done:"));
  g_autofree char *ini = g_build_filename (workdir, "softmax", "config.ini",
                                           NULL);
  g_autoptr (GKeyFile) config = g_key_file_new ();
  g_assert_true (g_key_file_load_from_file (config, ini, 0, NULL));
  g_assert_cmpint (g_key_file_get_integer (config, "distributed", "ranks",
                                           NULL), ==, 2);
  job_clear (&job);

  Reference ref;
  reference_init (&ref, FALSE, FALSE, 2, 1);
  reference_start (&ref);
  reference_steps (&ref, 20, TRUE);
  compare_metrics ("softmax", &ref, 1, 20, TRUE, 1e-4);
  compare_checkpoint ("softmax", ref.trainer, momentum_floor (FALSE, 2, 20, 0, 0));
  reference_clear (&ref);

  /* The evaluation split over the ranks (each embeds a share of the sets
   * and scores a share of the test images) gives exactly what one process
   * gives on the same checkpoint. */
  Job eval = run_ranks (1, "eval", "--run", "softmax", "--recompute",
                        "--format", "json", "--threads", "1", NULL);
  assert_job_succeeded (&eval);
  g_autofree char *dir = g_build_filename (workdir, "softmax", NULL);
  g_autoptr (GArray) rows = run_dir_load_metrics (dir, NULL);
  const MetricsRow *last = &g_array_index (rows, MetricsRow, rows->len - 1);
  g_assert_cmpstr (last->kind, ==, "eval");
  const struct { const char *key; double value; } measures[] = {
    { "knn_top1", last->knn_top1 },
    { "knn_top5", last->knn_top5 },
    { "knn_1nn", last->knn_1nn },
    { "knn_top1_recomputed", last->knn_top1_recomputed },
    { "knn_top5_recomputed", last->knn_top5_recomputed },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (measures); i++)
    {
      g_autofree char *expected = g_strdup_printf ("\"%s\": %.17g",
                                                   measures[i].key,
                                                   measures[i].value);
      g_autofree char *line = json_line (eval.out, measures[i].key);
      g_test_message ("two ranks %s, one process %s", expected, line);
      g_assert_cmpfloat_with_epsilon (
          g_ascii_strtod (strchr (line, ':') + 1, NULL), measures[i].value,
          CSV_DIGITS);
    }
  job_clear (&eval);
}

/* NCE (noise drawn for the whole batch on every rank, Z's estimate and
 * the loss summed over them) with the proximal term, without
 * evaluations. */
static void
test_nce (void)
{
  if (skip_without_mpi ())
    return;
  Job job = run_ranks (2, "train", "--data", toy, "--run", "nce",
                       "--batch-size", "16", "--epochs", "1", "--seed", "7",
                       "--lr", "0", "--objective", "nce", "--nce-k", "32", "--proximal",
                       "0.1", "--threads", "1", "--no-eval", NULL);
  assert_job_succeeded (&job);
  job_clear (&job);
  Reference ref;
  reference_init (&ref, FALSE, TRUE, 2, 1);
  reference_steps (&ref, 20, FALSE);
  compare_metrics ("nce", &ref, 1, 20, FALSE, 1e-4);
  compare_checkpoint ("nce", ref.trainer, momentum_floor (TRUE, 2, 20, 0, 0));
  reference_clear (&ref);
}

/* A run started on two ranks resumes in one process, and one started in
 * one process resumes on two: the checkpoint is the same file either way.
 * The reference switches its batch-norm groups where the run switched
 * ranks. */
static void
test_resume_across_ranks (void)
{
  if (skip_without_mpi ())
    return;
  const int order[2][2] = { { 2, 1 }, { 1, 2 } };
  for (int o = 0; o < 2; o++)
    {
      g_autofree char *run = g_strdup_printf ("resume-%d-%d", order[o][0],
                                              order[o][1]);
      Job first = run_ranks (order[o][0], "train", "--data", toy, "--run",
                             run, "--batch-size", "16", "--epochs", "1",
                             "--seed", "7", "--lr", "0", "--threads", "1",
                             "--no-eval", "--steps", "10", NULL);
      assert_job_succeeded (&first);
      job_clear (&first);
      Job second = run_ranks (order[o][1], "train", "--run", run, "--resume",
                              "--threads", "1", NULL);
      assert_job_succeeded (&second);
      /* the note that says the batch norm's statistics changed */
      g_assert_nonnull (strstr (second.err, "continues on"));
      job_clear (&second);

      Reference ref;
      reference_init (&ref, FALSE, FALSE, order[o][0], 1);
      reference_steps (&ref, 10, FALSE);
      g_assert_true (trainer_set_batch_norm_groups (ref.trainer,
                                                    order[o][1]));
      reference_steps (&ref, 10, FALSE);
      compare_metrics (run, &ref, 1, 20, FALSE, 1e-4);
      compare_checkpoint (run, ref.trainer,
                          momentum_floor (FALSE, order[o][0], 10,
                                          order[o][1], 10));
      reference_clear (&ref);
    }
}

/* Training proper, at the recipe's learning rate: 20 steps on two ranks
 * against one process. Here rounding does not stay rounding: the first
 * steps of instance discrimination amplify a difference in the last bit
 * about tenfold a step (one process against itself with 2 engine threads
 * instead of 1, nothing else changed, is 4e-4 apart in the weights after
 * 20 steps, measured), so no tolerance near 1e-4 can hold between any two
 * summation orders. The losses and the state are held to 1e-4 or thirty
 * times the distance of those two one-process runs, measured
 * here (the ranks were 0.4 to 4 times it on this machine with OpenBLAS's
 * various kernels; chaos makes the ratio vary from one processor's
 * rounding to another's): the ranks are as far
 * from one process as one process is from itself, not a wrong sum away. */
static void
test_training (void)
{
  if (skip_without_mpi ())
    return;
  Job job = run_ranks (2, "train", "--data", toy, "--run", "training",
                       "--batch-size", "16", "--epochs", "1", "--seed", "7",
                       "--threads", "1", "--no-eval", NULL);
  assert_job_succeeded (&job);
  job_clear (&job);
  Reference one, two;
  reference_init (&one, TRUE, FALSE, 2, 1);
  reference_steps (&one, 20, FALSE);
  reference_init (&two, TRUE, FALSE, 2, 2);
  reference_steps (&two, 20, FALSE);
  /* the losses' floor likewise: one process's against itself */
  double loss_floor = 0.0;
  for (guint i = 0; i < one.losses->len; i++)
    {
      const float a = g_array_index (one.losses, float, i);
      const float b = g_array_index (two.losses, float, i);
      loss_floor = MAX (loss_floor, fabs (a - b) / fabs (a));
    }
  g_test_message ("one process, 2 engine threads against 1: losses %.3g "
                  "relative", loss_floor);
  compare_metrics ("training", &one, 1, 20, FALSE,
                   MAX (1e-4, 30 * loss_floor));
  Apart ranks = run_apart ("training", one.trainer);
  g_autofree char *a = g_build_filename (workdir, "one.safetensors", NULL);
  g_autofree char *b = g_build_filename (workdir, "two.safetensors", NULL);
  g_assert_true (trainer_save_checkpoint (one.trainer, a, NULL, NULL));
  g_assert_true (trainer_save_checkpoint (two.trainer, b, NULL, NULL));
  Apart floor = checkpoints_apart (b, a);
  g_test_message ("one process, 2 engine threads against 1: bank %.3g, "
                  "weights and running statistics %.3g, momentum %.3g",
                  floor.bank, floor.network, floor.momentum);
  g_assert_cmpfloat (ranks.bank, <=, MAX (1e-5, 30 * floor.bank));
  g_assert_cmpfloat (ranks.network, <=, MAX (1e-4, 30 * floor.network));
  g_assert_cmpfloat (ranks.momentum, <=, MAX (1e-4, 30 * floor.momentum));
  reference_clear (&one);
  reference_clear (&two);
  engine_set_threads (1);
}

/* A batch that two ranks cannot share is one clear error, from rank 0
 * alone. */
static void
test_uneven_batch (void)
{
  if (skip_without_mpi ())
    return;
  Job job = run_ranks (2, "train", "--data", toy, "--run", "uneven",
                       "--batch-size", "15", "--threads", "1", NULL);
  g_assert_cmpint (job.status, !=, 0);
  g_assert_nonnull (strstr (job.err, "instdisc: rank 0: a batch of 15 "
                                     "images cannot be split evenly over 2 "
                                     "ranks"));
  g_assert_null (strstr (strstr (job.err, "cannot be split") + 1,
                         "cannot be split"));
  job_clear (&job);
}

/* Rank 1's command line differs from rank 0's only in its data (mpirun's
 * "A : B" form, as when a path means another folder on another machine):
 * a folder that is not there, or one with other images. Every rank stops
 * before anything is written, and rank 0 says which rank and why. */
static void
test_rank_error (void)
{
  if (skip_without_mpi ())
    return;
  g_autofree char *fewer = write_noisy_toy (workdir, "fewer", N_TRAIN - 16);
  const struct { const char *data, *says; } cases[] = {
    { "no-such-folder", "instdisc: rank 1: no-such-folder" },
    { fewer, "instdisc: rank 1 has another training set than rank 0 (304 "
             "images against 320)" },
  };
  for (gsize c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      const char *args0[] = { "train", "--data", toy, "--run", "rank-error",
                              "--threads", "1", NULL };
      g_autoptr (GPtrArray) argv = mpirun_argv (1, args0);
      g_ptr_array_remove_index (argv, argv->len - 1);   /* the NULL */
      const char *tail[] = { ":", "-n", "1", instdisc_path, "train",
                             "--data", cases[c].data, "--run", "rank-error",
                             "--threads", "1" };
      for (gsize i = 0; i < G_N_ELEMENTS (tail); i++)
        g_ptr_array_add (argv, g_strdup (tail[i]));
      g_ptr_array_add (argv, NULL);
      Running running = job_start ((char **) argv->pdata);
      Job job = job_wait (&running);
      g_assert_cmpint (job.status, ==, 1);
      g_assert_nonnull (strstr (job.err, cases[c].says));
      /* nothing of the run was written before the ranks agreed */
      g_autofree char *ini = g_build_filename (workdir, "rank-error",
                                               "config.ini", NULL);
      g_assert_false (g_file_test (ini, G_FILE_TEST_EXISTS));
      job_clear (&job);
    }
}

/* Rank 1 of a training is killed: mpirun ends the job, with an error, and
 * the checkpoint of the last epoch is left whole. */
static void
test_killed_rank (void)
{
  if (skip_without_mpi ())
    return;
  const char *args[] = { "train", "--data", toy, "--run", "killed",
                         "--batch-size", "16", "--epochs", "50",
                         "--threads", "1", "--no-eval", NULL };
  g_autoptr (GPtrArray) argv = mpirun_argv (2, args);
  Running running = job_start ((char **) argv->pdata);
  /* once it trains (a few step rows written), find rank 1 among mpirun's
   * children by the rank Open MPI gave it */
  g_autofree char *metrics = g_build_filename (workdir, "killed",
                                               "metrics.csv", NULL);
  GPid rank1 = 0;
  const gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while (!rank1 && g_get_monotonic_time () < deadline)
    {
      g_usleep (100000);
      g_autofree char *text = NULL;
      if (!g_file_get_contents (metrics, &text, NULL, NULL)
          || !strstr (text, "\nstep,3,"))
        continue;
      g_autoptr (GDir) proc = g_dir_open ("/proc", 0, NULL);
      const char *name;
      while (proc && (name = g_dir_read_name (proc)))
        {
          g_autofree char *status_path = g_build_filename ("/proc", name,
                                                           "stat", NULL);
          g_autofree char *environ_path = g_build_filename ("/proc", name,
                                                            "environ", NULL);
          g_autofree char *stat = NULL, *environ = NULL;
          gsize length = 0;
          if (!g_file_get_contents (status_path, &stat, NULL, NULL)
              || !g_file_get_contents (environ_path, &environ, &length, NULL))
            continue;
          /* "pid (comm) state ppid ..." */
          const char *after = strrchr (stat, ')');
          int ppid = 0;
          char state;
          if (!after || sscanf (after + 1, " %c %d", &state, &ppid) != 2
              || ppid != running.pid)
            continue;
          for (gsize at = 0; at < length; at += strlen (environ + at) + 1)
            if (g_str_equal (environ + at, "OMPI_COMM_WORLD_RANK=1"))
              rank1 = atoi (name);
        }
    }
  g_assert_cmpint (rank1, >, 0);
  kill (rank1, SIGKILL);
  Job job = job_wait (&running);
  g_assert_cmpint (job.status, !=, 0);
  g_assert_cmpuint (strlen (job.err), >, 0);
  /* the checkpoint is whole: the run resumes from it in one process */
  Job resumed = run_ranks (1, "train", "--run", "killed", "--resume",
                           "--steps", "2", "--threads", "1", NULL);
  assert_job_succeeded (&resumed);
  job_clear (&resumed);
  job_clear (&job);
}

int
main (int argc, char **argv)
{
  /* the kernels the command line runs (blas-kernels.h), since these tests
   * compare its results with this process's to a few ulps */
  blas_kernels_choose (argv);
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (argc, ==, 2);
  instdisc_path = g_canonicalize_filename (argv[1], NULL);
  workdir = g_dir_make_tmp ("instdisc-distributed-XXXXXX", NULL);
  g_assert_nonnull (workdir);
  toy = write_noisy_toy (workdir, "toy", N_TRAIN);

  g_test_add_func ("/distributed/softmax", test_softmax);
  g_test_add_func ("/distributed/nce", test_nce);
  g_test_add_func ("/distributed/training", test_training);
  g_test_add_func ("/distributed/resume-across-ranks",
                   test_resume_across_ranks);
  g_test_add_func ("/distributed/uneven-batch", test_uneven_batch);
  g_test_add_func ("/distributed/rank-error", test_rank_error);
  g_test_add_func ("/distributed/killed-rank", test_killed_rank);
  int status = g_test_run ();
  test_remove_tree (workdir);
  g_free (toy);
  g_free (workdir);
  return status;
}
