/* test-tsne.c: Barnes-Hut t-SNE separates well-separated clusters, a warm
 * start keeps points near where they were, a subsample still places every
 * row, the neighbour search says how far it is, and the layout does not
 * depend on the engine's threads. */
#include <math.h>
#include <string.h>

#include "rng.h"
#include "testutil.h"
#include "threads.h"
#include "tsne.h"

enum { D = 16, CLUSTERS = 3 };

/* n unit rows in CLUSTERS Gaussian blobs (spread `noise` around random
 * unit centres), labels (n) = the blob */
static float *
make_blobs (int n, double noise, guint64 seed, int *labels)
{
  Rng rng;
  rng_seed (&rng, seed);
  double centre[CLUSTERS][D];
  for (int c = 0; c < CLUSTERS; c++)
    {
      double norm = 0.0;
      for (int k = 0; k < D; k++)
        {
          centre[c][k] = rng_normal (&rng);
          norm += centre[c][k] * centre[c][k];
        }
      for (int k = 0; k < D; k++)
        centre[c][k] /= sqrt (norm);
    }
  float *x = g_new (float, (size_t) n * D);
  for (int i = 0; i < n; i++)
    {
      int c = i % CLUSTERS;
      labels[i] = c;
      double norm = 0.0, v[D];
      for (int k = 0; k < D; k++)
        {
          v[k] = centre[c][k] + noise * rng_normal (&rng);
          norm += v[k] * v[k];
        }
      for (int k = 0; k < D; k++)
        x[(size_t) i * D + k] = (float) (v[k] / sqrt (norm));
    }
  return x;
}

/* the fraction of points whose nearest other point in the layout has
 * their label */
static double
layout_1nn_agreement (const float *y, const int *labels, int n)
{
  int agree = 0;
  for (int i = 0; i < n; i++)
    {
      double best = INFINITY;
      int at = -1;
      for (int j = 0; j < n; j++)
        {
          if (j == i)
            continue;
          double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
          double d = dx * dx + dy * dy;
          if (d < best)
            {
              best = d;
              at = j;
            }
        }
      agree += labels[at] == labels[i];
    }
  return (double) agree / n;
}

static double
layout_spread (const float *y, int n)
{
  double mx = 0, my = 0, v = 0;
  for (int i = 0; i < n; i++)
    {
      mx += y[2 * i] / n;
      my += y[2 * i + 1] / n;
    }
  for (int i = 0; i < n; i++)
    v += ((y[2 * i] - mx) * (y[2 * i] - mx)
          + (y[2 * i + 1] - my) * (y[2 * i + 1] - my)) / n;
  return sqrt (v);
}

static void
test_tsne_clusters_and_warm_start (void)
{
  enum { N = 900 };
  int labels[N];
  g_autofree float *x = make_blobs (N, 0.25, 11, labels);
  TSneOptions options;
  tsne_options_init_default (&options);
  engine_set_threads (2);

  g_autoptr (TSne) tsne = tsne_new (x, N, D, NULL, FALSE, &options, NULL, NULL,
                                    NULL);
  g_assert_nonnull (tsne);
  double kl_start = tsne_get_kl (tsne);
  /* in steps, as the explorer's worker runs it */
  int steps = 0;
  while (tsne_step (tsne, 50) > 0)
    steps++;
  g_assert_true (tsne_is_done (tsne));
  g_assert_cmpint (tsne_get_iteration (tsne), ==, 1000);
  g_assert_cmpint (steps, ==, 20);
  double kl_end = tsne_get_kl (tsne);
  g_autofree float *y = g_new (float, 2 * N);
  tsne_get_layout (tsne, y);
  double agreement = layout_1nn_agreement (y, labels, N);
  g_test_message ("KL %.3f -> %.3f; 1-NN agreement %.4f; spread %.2f",
                  kl_start, kl_end, agreement, layout_spread (y, N));
  g_assert_cmpfloat (kl_end, <, kl_start);
  g_assert_cmpfloat (agreement, >, 0.95);
  for (int a = 0; a < 2 * N; a++)
    g_assert_true (isfinite (y[a]));

  /* warm start on a slightly changed bank (as after more training): the
   * points stay close to where they were, far closer than the map's size */
  Rng rng;
  rng_seed (&rng, 99);
  g_autofree float *x2 = g_memdup2 (x, sizeof (float) * N * D);
  for (int i = 0; i < N; i++)
    {
      double norm = 0.0;
      for (int k = 0; k < D; k++)
        {
          x2[i * D + k] += 0.02f * rng_normal (&rng);
          norm += (double) x2[i * D + k] * x2[i * D + k];
        }
      for (int k = 0; k < D; k++)
        x2[i * D + k] /= (float) sqrt (norm);
    }
  options.n_iterations = 300;
  g_autoptr (TSne) warm = tsne_new (x2, N, D, y, TRUE, &options, NULL, NULL,
                                    NULL);
  while (tsne_step (warm, 100) > 0)
    ;
  g_autofree float *y2 = g_new (float, 2 * N);
  tsne_get_layout (warm, y2);
  double spread = layout_spread (y, N), moved = 0.0;
  for (int i = 0; i < N; i++)
    {
      double dx = y2[2 * i] - y[2 * i], dy = y2[2 * i + 1] - y[2 * i + 1];
      moved += sqrt (dx * dx + dy * dy) / N;
    }
  double agreement2 = layout_1nn_agreement (y2, labels, N);
  g_test_message ("warm start: mean move %.3f of spread %.3f (%.1f%%), "
                  "1-NN agreement %.4f", moved, spread,
                  100.0 * moved / spread, agreement2);
  g_assert_cmpfloat (moved, <, 0.15 * spread);
  g_assert_cmpfloat (agreement2, >, 0.95);

  /* a cold start on the same data lands elsewhere: the test above is not
   * passing only because every layout looks alike */
  options.n_iterations = 1000;
  options.seed = 1234;
  g_autoptr (TSne) cold = tsne_new (x2, N, D, NULL, FALSE, &options, NULL,
                                    NULL, NULL);
  while (tsne_step (cold, 200) > 0)
    ;
  g_autofree float *y3 = g_new (float, 2 * N);
  tsne_get_layout (cold, y3);
  double moved_cold = 0.0;
  for (int i = 0; i < N; i++)
    {
      double dx = y3[2 * i] - y[2 * i], dy = y3[2 * i + 1] - y[2 * i + 1];
      moved_cold += sqrt (dx * dx + dy * dy) / N;
    }
  g_test_message ("cold start moved %.3f", moved_cold);
  g_assert_cmpfloat (moved_cold, >, 2.0 * moved);
}

static void
test_tsne_subsample (void)
{
  enum { N = 4000 };
  static int labels[N];
  g_autofree float *x = make_blobs (N, 0.25, 5, labels);
  TSneOptions options;
  tsne_options_init_default (&options);
  options.max_points = 800;
  options.n_iterations = 600;
  engine_set_threads (2);
  g_autoptr (TSne) tsne = tsne_new (x, N, D, NULL, FALSE, &options, NULL, NULL,
                                    NULL);
  g_assert_cmpint (tsne_get_n_sampled (tsne), ==, 800);
  while (tsne_step (tsne, 100) > 0)
    ;
  g_autofree float *y = g_new (float, 2 * N);
  tsne_get_layout (tsne, y);
  double agreement = layout_1nn_agreement (y, labels, N);
  g_test_message ("subsample 800 of %d: 1-NN agreement over all rows %.4f",
                  N, agreement);
  g_assert_cmpfloat (agreement, >, 0.95);
}

typedef struct
{
  int calls;
  int last_done, total;
  gboolean increasing;
} Progress;

static void
record_progress (int rows_done, int rows_total, gpointer data)
{
  Progress *p = data;
  if (p->calls > 0 && (rows_done <= p->last_done || rows_total != p->total))
    p->increasing = FALSE;
  p->calls++;
  p->last_done = rows_done;
  p->total = rows_total;
}

/* The neighbour search reports block by block, rows done rising to the
 * rows laid out (the sample's, not all of them), and ends at the total. */
static void
test_tsne_progress (void)
{
  enum { N = 5000, SAMPLED = 4500 };
  static int labels[N];
  g_autofree float *x = make_blobs (N, 0.25, 9, labels);
  TSneOptions options;
  tsne_options_init_default (&options);
  options.max_points = SAMPLED;
  Progress p = { .increasing = TRUE };
  g_autoptr (TSne) tsne = tsne_new (x, N, D, NULL, FALSE, &options,
                                    record_progress, &p, NULL);
  g_assert_nonnull (tsne);
  g_test_message ("%d progress calls", p.calls);
  g_assert_cmpint (p.calls, >=, 2);
  g_assert_true (p.increasing);
  g_assert_cmpint (p.total, ==, SAMPLED);
  g_assert_cmpint (p.last_done, ==, SAMPLED);
}

static void
test_tsne_cancel (void)
{
  enum { N = 300 };
  int labels[N];
  g_autofree float *x = make_blobs (N, 0.25, 3, labels);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_cancellable_cancel (cancellable);
  TSne *tsne = tsne_new (x, N, D, NULL, FALSE, NULL, NULL, NULL, cancellable);
  g_assert_null (tsne);
}

static void
test_tsne_duplicates (void)
{
  /* many identical rows must neither recurse forever in the tree nor give
   * NaNs */
  enum { N = 200 };
  int labels[N];
  g_autofree float *x = make_blobs (N, 0.25, 8, labels);
  for (int i = 0; i < N / 2; i++)
    memcpy (x + i * D, x, D * sizeof (float));
  TSneOptions options;
  tsne_options_init_default (&options);
  options.n_iterations = 300;
  g_autoptr (TSne) tsne = tsne_new (x, N, D, NULL, FALSE, &options, NULL, NULL,
                                    NULL);
  while (tsne_step (tsne, 100) > 0)
    ;
  float y[2 * N];
  tsne_get_layout (tsne, y);
  for (int a = 0; a < 2 * N; a++)
    g_assert_true (isfinite (y[a]));
}

/* enough points for the forces to go on the engine's threads */
enum { THREADED_N = 2400, THREADED_ITERATIONS = 60 };

typedef struct
{
  const float *x;
  float *layout;   /* (THREADED_N, 2) */
  double kl;
} TSneRun;

/* affinities, then the iterations in steps, as the explorer runs it */
static void
tsne_run (TSneRun *run)
{
  TSneOptions options;
  tsne_options_init_default (&options);
  options.n_iterations = THREADED_ITERATIONS;
  g_autoptr (TSne) tsne = tsne_new (run->x, THREADED_N, D, NULL, FALSE,
                                    &options, NULL, NULL, NULL);
  while (tsne_step (tsne, 20) > 0)
    ;
  tsne_get_layout (tsne, run->layout);
  run->kl = tsne_get_kl (tsne);
}

static gpointer
tsne_run_thread (gpointer data)
{
  tsne_run (data);
  return NULL;
}

static void
assert_same_layout (const TSneRun *a, const TSneRun *b)
{
  g_assert_cmpmem (a->layout, sizeof (float) * 2 * THREADED_N, b->layout,
                   sizeof (float) * 2 * THREADED_N);
  g_assert_cmpfloat (a->kl, ==, b->kl);
}

/* The forces' blocks and Z's block sums come out alike whichever engine
 * thread takes them, and the kNN search splits without changing a score,
 * so one thread and two give the same layout bit for bit; so do two
 * t-SNEs at once on a two-thread pool (two explorer windows), one of them
 * running every share itself. */
static void
test_tsne_thread_count (void)
{
  int *labels = g_new (int, THREADED_N);
  g_autofree float *x = make_blobs (THREADED_N, 0.25, 17, labels);
  g_free (labels);
  TSneRun one = { x, g_new (float, 2 * THREADED_N), 0.0 };
  TSneRun two = { x, g_new (float, 2 * THREADED_N), 0.0 };
  engine_set_threads (1);
  tsne_run (&one);
  engine_set_threads (2);
  tsne_run (&two);
  g_test_message ("KL after %d iterations: %.6f", THREADED_ITERATIONS,
                  one.kl);
  assert_same_layout (&one, &two);

  TSneRun side[2];
  GThread *threads[2];
  for (int t = 0; t < 2; t++)
    {
      side[t] = (TSneRun) { x, g_new (float, 2 * THREADED_N), 0.0 };
      threads[t] = g_thread_new ("tsne-test", tsne_run_thread, &side[t]);
    }
  for (int t = 0; t < 2; t++)
    {
      g_thread_join (threads[t]);
      assert_same_layout (&one, &side[t]);
      g_free (side[t].layout);
    }
  g_free (one.layout);
  g_free (two.layout);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/explore/tsne/clusters-warm-start",
                   test_tsne_clusters_and_warm_start);
  g_test_add_func ("/explore/tsne/subsample", test_tsne_subsample);
  g_test_add_func ("/explore/tsne/progress", test_tsne_progress);
  g_test_add_func ("/explore/tsne/cancel", test_tsne_cancel);
  g_test_add_func ("/explore/tsne/duplicates", test_tsne_duplicates);
  g_test_add_func ("/explore/tsne/thread-count", test_tsne_thread_count);
  return g_test_run ();
}
