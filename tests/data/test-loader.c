/* test-loader.c: the prefetching loader is deterministic whatever the
 * number of workers, resumes exactly, and reports unreadable images. */
#include <string.h>

#include "data-fixtures.h"
#include "loader.h"

enum { N = 50, C = 3, S = 8, B = 8 };

static Dataset *
make_memory_set (void)
{
  Dataset *d = dataset_new_in_memory ("memory", N, C, S, S);
  d->kind = DATASET_KIND_CIFAR10;
  Rng rng;
  rng_seed (&rng, 99);
  for (int i = 0; i < N * C * S * S; i++)
    d->pixels[i] = (guint8) rng_below (&rng, 256);
  for (int i = 0; i < N; i++)
    d->labels[i] = i % 10;
  return d;
}

static void
augment_for (AugmentOptions *o)
{
  augment_options_init_cifar (o);
  o->size = S;
  o->flip = TRUE;
}

typedef struct
{
  GArray *images;  /* float */
  GArray *indices; /* int */
  GArray *infos;   /* LoaderBatchInfo */
} Run;

static void
run_clear (Run *run)
{
  g_array_unref (run->images);
  g_array_unref (run->indices);
  g_array_unref (run->infos);
}

/* n_batches batches from a loader with the given workers and start. */
static Run
collect (const Dataset *d, int workers, int prefetch, int start_epoch,
         int start_step, int n_batches)
{
  AugmentOptions aug;
  augment_for (&aug);
  LoaderOptions lo;
  loader_options_init_default (&lo);
  lo.batch_size = B;
  lo.n_workers = workers;
  lo.prefetch = prefetch;
  lo.seed = 5;
  g_autoptr (GError) error = NULL;
  g_autoptr (Loader) loader = loader_new (d, &aug, &lo, start_epoch,
                                          start_step, &error);
  g_assert_no_error (error);
  Run run = { g_array_new (FALSE, FALSE, sizeof (float)),
              g_array_new (FALSE, FALSE, sizeof (int)),
              g_array_new (FALSE, FALSE, sizeof (LoaderBatchInfo)) };
  float images[B * C * S * S];
  int indices[B];
  for (int k = 0; k < n_batches; k++)
    {
      LoaderBatchInfo info;
      g_assert_true (loader_next (loader, images, indices, &info, &error));
      g_assert_no_error (error);
      g_assert_cmpint (info.n, ==, B);
      g_array_append_vals (run.images, images, G_N_ELEMENTS (images));
      g_array_append_vals (run.indices, indices, B);
      g_array_append_val (run.infos, info);
    }
  return run;
}

static void
assert_runs_equal (const Run *a, const Run *b, int a_offset)
{
  const gsize per = B * C * S * S;
  for (guint k = 0; k < b->infos->len; k++)
    {
      const LoaderBatchInfo *ia = &g_array_index (a->infos, LoaderBatchInfo,
                                                  k + a_offset);
      const LoaderBatchInfo *ib = &g_array_index (b->infos, LoaderBatchInfo, k);
      g_assert_cmpint (ia->epoch, ==, ib->epoch);
      g_assert_cmpint (ia->step, ==, ib->step);
      g_assert_cmpmem (&g_array_index (a->indices, int, (k + a_offset) * B),
                       B * sizeof (int),
                       &g_array_index (b->indices, int, k * B),
                       B * sizeof (int));
      g_assert_cmpmem (&g_array_index (a->images, float, (k + a_offset) * per),
                       per * sizeof (float),
                       &g_array_index (b->images, float, k * per),
                       per * sizeof (float));
    }
}

static void
test_order (void)
{
  int a[N], b[N], c[N];
  loader_epoch_order (5, 0, N, a);
  loader_epoch_order (5, 0, N, b);
  loader_epoch_order (5, 1, N, c);
  g_assert_cmpmem (a, sizeof a, b, sizeof b);
  g_assert_true (memcmp (a, c, sizeof a) != 0);
  gboolean seen[N] = { 0 };
  for (int i = 0; i < N; i++)
    {
      g_assert_cmpint (a[i], >=, 0);
      g_assert_cmpint (a[i], <, N);
      g_assert_false (seen[a[i]]);
      seen[a[i]] = TRUE;
    }
}

static void
test_workers (void)
{
  g_autoptr (Dataset) d = make_memory_set ();
  /* 6 steps per epoch (the last 2 images dropped); 15 batches cross two
   * epoch boundaries */
  const int n_batches = 15;
  Run inline_run = collect (d, 0, 1, 0, 0, n_batches);
  Run one = collect (d, 1, 2, 0, 0, n_batches);
  Run three = collect (d, 3, 4, 0, 0, n_batches);
  assert_runs_equal (&inline_run, &one, 0);
  assert_runs_equal (&inline_run, &three, 0);

  /* the batches follow the epoch order, and each image is augment_train
   * of its (seed, epoch, position) */
  int order[N];
  AugmentOptions aug;
  augment_for (&aug);
  for (int k = 0; k < n_batches; k++)
    {
      LoaderBatchInfo *info = &g_array_index (one.infos, LoaderBatchInfo, k);
      g_assert_cmpint (info->epoch, ==, k / 6);
      g_assert_cmpint (info->step, ==, k % 6);
      loader_epoch_order (5, info->epoch, N, order);
      for (int b = 0; b < B; b++)
        {
          int pos = info->step * B + b;
          int i = g_array_index (one.indices, int, k * B + b);
          g_assert_cmpint (i, ==, order[pos]);
          if (b == 3)
            {
              float want[C * S * S];
              augment_train (&aug, d->pixels + i * C * S * S, C, S, S, 5,
                             info->epoch, pos, want);
              g_assert_cmpmem (want, sizeof want,
                               &g_array_index (one.images, float,
                                               (k * B + b) * C * S * S),
                               sizeof want);
            }
        }
    }
  run_clear (&inline_run);
  run_clear (&one);
  run_clear (&three);
}

static void
test_resume (void)
{
  g_autoptr (Dataset) d = make_memory_set ();
  Run full = collect (d, 2, 3, 0, 0, 16);
  /* resume at epoch 1, step 2 = batch 8 of the uninterrupted run */
  Run resumed = collect (d, 3, 2, 1, 2, 8);
  assert_runs_equal (&full, &resumed, 8);
  Run inline_resumed = collect (d, 0, 1, 1, 2, 8);
  assert_runs_equal (&full, &inline_resumed, 8);
  run_clear (&full);
  run_clear (&resumed);
  run_clear (&inline_resumed);
}

/* A rank's share of each batch (LoaderOptions.slice_*, data-parallel
 * training): the shares of two and of four, from any start, are the whole
 * batch's images and indices cut in pieces, each with its augmentation. */
static void
test_slices (void)
{
  g_autoptr (Dataset) d = make_memory_set ();
  const int n_batches = 9;
  Run whole = collect (d, 2, 3, 0, 1, n_batches);
  const gsize per = C * S * S;
  for (int parts = 2; parts <= 4; parts += 2)
    for (int part = 0; part < parts; part++)
      {
        const int share = B / parts;
        AugmentOptions aug;
        augment_for (&aug);
        LoaderOptions lo;
        loader_options_init_default (&lo);
        lo.batch_size = B;
        lo.n_workers = part % 2;   /* inline and with a worker */
        lo.seed = 5;
        lo.slice_first = part * share;
        lo.slice_size = share;
        g_autoptr (GError) error = NULL;
        g_autoptr (Loader) loader = loader_new (d, &aug, &lo, 0, 1, &error);
        g_assert_no_error (error);
        float images[B * C * S * S];
        int indices[B];
        for (int k = 0; k < n_batches; k++)
          {
            LoaderBatchInfo info;
            g_assert_true (loader_next (loader, images, indices, &info,
                                        &error));
            g_assert_cmpint (info.n, ==, share);
            const int at = k * B + part * share;
            g_assert_cmpmem (indices, share * sizeof (int),
                             &g_array_index (whole.indices, int, at),
                             share * sizeof (int));
            g_assert_cmpmem (images, share * per * sizeof (float),
                             &g_array_index (whole.images, float, at * per),
                             share * per * sizeof (float));
          }
      }
  /* a slice past the batch's end is refused */
  AugmentOptions aug;
  augment_for (&aug);
  LoaderOptions lo;
  loader_options_init_default (&lo);
  lo.batch_size = B;
  lo.slice_first = B - 1;
  lo.slice_size = 2;
  g_autoptr (GError) error = NULL;
  g_assert_null (loader_new (d, &aug, &lo, 0, 0, &error));
  g_assert_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_INVALID);
  run_clear (&whole);
}

static void
test_eval_mode (void)
{
  g_autoptr (Dataset) d = make_memory_set ();
  AugmentOptions aug;
  augment_for (&aug);
  LoaderOptions lo;
  loader_options_init_default (&lo);
  lo.batch_size = B;
  lo.train = FALSE;
  lo.drop_last = FALSE;
  for (int workers = 0; workers <= 2; workers++)
    {
      lo.n_workers = workers;
      g_autoptr (GError) error = NULL;
      g_autoptr (Loader) loader = loader_new (d, &aug, &lo, 0, 0, &error);
      g_assert_no_error (error);
      g_assert_cmpint (loader_steps_per_epoch (loader), ==, 7);
      float images[B * C * S * S], want[C * S * S];
      int indices[B], seen = 0;
      for (int k = 0; k < 7; k++)
        {
          LoaderBatchInfo info;
          g_assert_true (loader_next (loader, images, indices, &info, &error));
          g_assert_cmpint (info.n, ==, k < 6 ? B : N - 6 * B);
          for (int b = 0; b < info.n; b++)
            {
              g_assert_cmpint (indices[b], ==, seen);
              augment_test (&aug, d->pixels + seen * C * S * S, C, S, S, want);
              g_assert_cmpmem (want, sizeof want, images + b * C * S * S,
                               sizeof want);
              seen++;
            }
        }
      g_assert_cmpint (seen, ==, N);
      /* and it goes on into the next epoch */
      LoaderBatchInfo info;
      g_assert_true (loader_next (loader, images, indices, &info, &error));
      g_assert_cmpint (info.epoch, ==, 1);
      g_assert_cmpint (indices[0], ==, 0);
    }
}

static void
test_bad_options (void)
{
  g_autoptr (Dataset) d = make_memory_set ();
  AugmentOptions aug;
  augment_for (&aug);
  LoaderOptions lo;
  loader_options_init_default (&lo);
  lo.batch_size = N + 1;
  g_autoptr (GError) error = NULL;
  g_assert_null (loader_new (d, &aug, &lo, 0, 0, &error));
  assert_error_names (error, "memory");
  g_clear_error (&error);
  lo.batch_size = B;
  g_assert_null (loader_new (d, &aug, &lo, 0, 6, &error));
  assert_error_names (error, "step 6");
}

static void
test_shutdown (void)
{
  /* freed at once, after part of an epoch, and with workers blocked on a
   * full ring: all must join without hanging or leaking */
  g_autoptr (Dataset) d = make_memory_set ();
  AugmentOptions aug;
  augment_for (&aug);
  LoaderOptions lo;
  loader_options_init_default (&lo);
  lo.batch_size = B;
  lo.n_workers = 3;
  lo.prefetch = 2;
  for (int consume = 0; consume < 3; consume++)
    {
      g_autoptr (GError) error = NULL;
      Loader *loader = loader_new (d, &aug, &lo, 0, 0, &error);
      g_assert_no_error (error);
      float images[B * C * S * S];
      int indices[B];
      LoaderBatchInfo info;
      for (int k = 0; k < consume * 4; k++)
        g_assert_true (loader_next (loader, images, indices, &info, &error));
      if (consume == 2)
        g_usleep (20000);  /* let the workers fill the ring and wait */
      loader_free (loader);
    }
}

static void
test_unreadable (void)
{
  g_autofree char *dir = fixture_tmpdir ();
  for (int i = 0; i < 4; i++)
    {
      g_autofree char *name = g_strdup_printf ("img%d.png", i);
      g_free (fixture_save_solid (dir, name, 12, 12, 40 * i, 100, 200, "png"));
    }
  DatasetOptions dopt;
  dataset_options_init_default (&dopt);
  dopt.image_size = S;
  dopt.holdout_every = 0;
  g_autoptr (GError) error = NULL;
  g_autoptr (Dataset) d = dataset_open (dir, "train", &dopt, &error);
  g_assert_no_error (error);
  g_assert_cmpint (d->n, ==, 4);
  g_autofree char *victim = g_build_filename (dir, "img2.png", NULL);
  g_unlink (victim);

  AugmentOptions aug;
  augment_options_init_for_dataset (&aug, d);
  LoaderOptions lo;
  loader_options_init_default (&lo);
  lo.batch_size = 1;
  lo.train = FALSE;
  for (int workers = 0; workers <= 2; workers++)
    {
      lo.n_workers = workers;
      g_autoptr (Loader) loader = loader_new (d, &aug, &lo, 0, 0, &error);
      g_assert_no_error (error);
      float images[C * S * S];
      int index;
      LoaderBatchInfo info;
      for (int k = 0; k < 4; k++)
        {
          gboolean ok = loader_next (loader, images, &index, &info, &error);
          g_assert_cmpint (info.step, ==, k);
          if (k == 2)
            {
              g_assert_false (ok);
              assert_error_names (error, "img2.png");
              g_assert_cmpint (info.unreadable, ==, 2);
              g_clear_error (&error);
            }
          else
            {
              g_assert_true (ok);
              g_assert_no_error (error);
              g_assert_cmpint (index, ==, k);
            }
        }
    }
  fixture_rmtree (dir);
}

/* Rows that cannot be read are left out of training: never in a batch,
 * the same batches with any number of workers and on a resume, and the
 * batches before a left-out row's place in its epoch the same as without
 * it (so a run that meets the row and starts again there equals one that
 * had it marked all along). Too few readable rows for a batch: an error. */
static void
test_left_out (void)
{
  g_autoptr (Dataset) full_set = make_memory_set ();
  g_autoptr (Dataset) d = make_memory_set ();
  d->row_status = g_new0 (gint, N);
  /* the row at position 27 of epoch 1 (step 3), and one more */
  int order[N];
  loader_epoch_order (5, 1, N, order);
  const int row = order[27], other = order[44];
  g_assert_true (dataset_mark_unreadable (d, row));
  g_assert_false (dataset_mark_unreadable (d, row));   /* once */
  g_assert_true (dataset_mark_unreadable (d, other));
  g_assert_cmpint (dataset_count_unavailable (d), ==, 2);
  g_assert_cmpint (dataset_count_marked (d), ==, 2);

  const int n_batches = 18;   /* three epochs of 6 */
  Run plain = collect (full_set, 0, 1, 0, 0, n_batches);
  Run inline_run = collect (d, 0, 1, 0, 0, n_batches);
  Run workers = collect (d, 3, 4, 0, 0, n_batches);
  assert_runs_equal (&inline_run, &workers, 0);
  for (guint k = 0; k < inline_run.indices->len; k++)
    {
      int i = g_array_index (inline_run.indices, int, k);
      g_assert_cmpint (i, !=, row);
      g_assert_cmpint (i, !=, other);
    }
  /* epoch 1's first three steps hold positions 0..23, before the row's */
  for (int k = 6; k < 9; k++)
    g_assert_cmpmem (&g_array_index (plain.indices, int, k * B),
                     B * sizeof (int),
                     &g_array_index (inline_run.indices, int, k * B),
                     B * sizeof (int));
  g_assert_true (memcmp (&g_array_index (plain.indices, int, 9 * B),
                         &g_array_index (inline_run.indices, int, 9 * B),
                         B * sizeof (int)) != 0);
  /* the rows marked, a start at epoch 1 step 3 makes the same batches */
  Run resumed = collect (d, 2, 3, 1, 3, 9);
  assert_runs_equal (&inline_run, &resumed, 9);

  /* fewer than a batch left: refused, naming the set */
  for (int i = 0; i < N - B + 1; i++)
    dataset_mark_unreadable (d, i);
  AugmentOptions aug;
  augment_for (&aug);
  LoaderOptions lo;
  loader_options_init_default (&lo);
  lo.batch_size = B;
  g_autoptr (GError) error = NULL;
  g_assert_null (loader_new (d, &aug, &lo, 0, 0, &error));
  g_assert_error (error, INSTDISC_DATA_ERROR,
                  INSTDISC_DATA_ERROR_UNAVAILABLE);
  assert_error_names (error, "memory");
  run_clear (&plain);
  run_clear (&inline_run);
  run_clear (&workers);
  run_clear (&resumed);
}

static void
test_folder_workers (void)
{
  /* on-disk images through 0 and 2 workers: the same batches */
  g_autofree char *dir = fixture_tmpdir ();
  for (int i = 0; i < 12; i++)
    {
      g_autofree char *name = g_strdup_printf ("c%d/img%02d.png", i % 2, i);
      g_free (fixture_save_solid (dir, name, 10 + i, 12, 20 * i, 255 - 20 * i,
                                  90, "png"));
    }
  DatasetOptions dopt;
  dataset_options_init_default (&dopt);
  dopt.image_size = S;
  dopt.holdout_every = 0;
  g_autoptr (GError) error = NULL;
  g_autoptr (Dataset) d = dataset_open (dir, "train", &dopt, &error);
  g_assert_no_error (error);
  g_assert_cmpint (d->channels, ==, 3);
  Run a = collect (d, 0, 1, 0, 0, 4);
  Run b = collect (d, 2, 3, 0, 0, 4);
  assert_runs_equal (&a, &b, 0);
  run_clear (&a);
  run_clear (&b);
  fixture_rmtree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/data/loader/order", test_order);
  g_test_add_func ("/data/loader/workers", test_workers);
  g_test_add_func ("/data/loader/resume", test_resume);
  g_test_add_func ("/data/loader/slices", test_slices);
  g_test_add_func ("/data/loader/eval-mode", test_eval_mode);
  g_test_add_func ("/data/loader/bad-options", test_bad_options);
  g_test_add_func ("/data/loader/shutdown", test_shutdown);
  g_test_add_func ("/data/loader/unreadable", test_unreadable);
  g_test_add_func ("/data/loader/left-out", test_left_out);
  g_test_add_func ("/data/loader/folder-workers", test_folder_workers);
  return g_test_run ();
}
