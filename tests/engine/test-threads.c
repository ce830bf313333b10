/* test-threads.c: the engine's thread pool: the shares of items that
 * threads take as they come free (engine_shares_take), and the pool used
 * from two threads at once, as the explorer does (a trainer thread trains
 * while a worker embeds a query on its own copy of the network). */
#include <string.h>

#include "resnet.h"
#include "rng.h"
#include "testutil.h"
#include "threads.h"

enum { BATCH = 6, ROUNDS = 20 };

typedef struct
{
  ResNet *net;
  const float *images;   /* (ROUNDS, BATCH, 1, 28, 28): new images each
                            round, so a share left undone shows */
  float *out;          /* (BATCH, D) of the last round */
  gboolean training;
} Job;

/* how often a round began while the other job was inside one: the test
 * only means something when the two really overlap */
static gint active, overlaps;

static gpointer
run_job (gpointer data)
{
  Job *job = data;
  for (int r = 0; r < ROUNDS; r++)
    {
      if (g_atomic_int_add (&active, 1) > 0)
        g_atomic_int_inc (&overlaps);
      const float *e = resnet_forward (job->net,
                                       job->images + (gsize) r * BATCH * 784,
                                       BATCH, job->training);
      memcpy (job->out, e, sizeof (float) * BATCH * job->net->config.low_dim);
      if (job->training)
        {
          /* backward too, so both kernels' dispatches interleave */
          resnet_backward (job->net, e, BATCH, NULL);
        }
      g_atomic_int_add (&active, -1);
    }
  return NULL;
}

static ResNet *
make_net (guint64 seed)
{
  ResNetConfig config = resnet_config_small (1, 28, 28, 16);
  ResNet *net = resnet_new (&config, BATCH);
  Rng rng;
  rng_seed (&rng, seed);
  resnet_init_parameters (net, &rng);
  return net;
}

/* Two networks run side by side from two threads give exactly what each
 * gives alone. */
static void
test_concurrent_callers (void)
{
  engine_set_threads (2);
  const int D = 16;
  g_autofree float *images = g_new (float, ROUNDS * BATCH * 28 * 28);
  Rng rng;
  rng_seed (&rng, 3);
  for (int i = 0; i < ROUNDS * BATCH * 28 * 28; i++)
    images[i] = rng_normal (&rng);

  /* alone: an evaluation network, and a training one whose BN statistics
   * move each round (so alone and together must match round for round) */
  ResNet *eval_alone = make_net (1), *train_alone = make_net (2);
  float eval_ref[BATCH * 16], train_ref[BATCH * 16];
  Job a = { eval_alone, images, eval_ref, FALSE };
  Job b = { train_alone, images, train_ref, TRUE };
  run_job (&a);
  run_job (&b);
  overlaps = 0;

  ResNet *eval_net = make_net (1), *train_net = make_net (2);
  float eval_out[BATCH * 16], train_out[BATCH * 16];
  Job c = { eval_net, images, eval_out, FALSE };
  Job d = { train_net, images, train_out, TRUE };
  GThread *tc = g_thread_new ("eval", run_job, &c);
  GThread *td = g_thread_new ("train", run_job, &d);
  g_thread_join (tc);
  g_thread_join (td);
  g_test_message ("%d of %d rounds began while the other thread was in one",
                  overlaps, 2 * ROUNDS);
  g_assert_cmpint (overlaps, >, 0);

  /* the same arithmetic in the same order per share: the same bits */
  g_assert_cmpmem (eval_out, sizeof (float) * BATCH * D, eval_ref,
                   sizeof (float) * BATCH * D);
  g_assert_cmpmem (train_out, sizeof (float) * BATCH * D, train_ref,
                   sizeof (float) * BATCH * D);
  g_assert_cmpmem (train_net->grads, sizeof (float) * train_net->n_params,
                   train_alone->grads, sizeof (float) * train_alone->n_params);
  resnet_free (eval_alone);
  resnet_free (train_alone);
  resnet_free (eval_net);
  resnet_free (train_net);
}

/* engine_shares_take under arbitrary interleavings of the threads (each
 * step a random thread takes a run): every item is taken once, a run lies
 * in one share and starts a whole number of runs after the share's start
 * (so which items one run holds does not depend on who took it), and a
 * thread takes from its own share while that has items left. */
static void
test_shares_interleaved (void)
{
  const size_t sizes[] = { 0, 1, 7, 64, 1000 };
  const size_t runs[] = { 1, 3, 64, 2000 };
  Rng rng;
  rng_seed (&rng, 11);
  for (gsize si = 0; si < G_N_ELEMENTS (sizes); si++)
    for (gsize ri = 0; ri < G_N_ELEMENTS (runs); ri++)
      for (int nth = 1; nth <= 5; nth++)
        {
          const size_t n = sizes[si], run = runs[ri];
          EngineShares shares;
          engine_shares_init (&shares, n, nth);
          g_autofree int *taken = g_new0 (int, n + 1);
          gboolean done[8] = { FALSE };
          int finished = 0;
          while (finished < nth)
            {
              const int ith = (int) rng_below (&rng, (uint64_t) nth);
              if (done[ith])
                continue;
              size_t lo, hi;
              size_t own_lo, own_hi;
              engine_split (n, ith, nth, &own_lo, &own_hi);
              const size_t own_next = atomic_load (&shares.share[ith].next);
              if (!engine_shares_take (&shares, ith, run, &lo, &hi))
                {
                  done[ith] = TRUE;
                  finished++;
                  continue;
                }
              g_assert_cmpuint (lo, <, hi);
              g_assert_cmpuint (hi - lo, <=, run);
              if (own_next < own_hi)
                {
                  g_assert_cmpuint (lo, ==, own_next);
                  g_assert_cmpuint (hi, <=, own_hi);
                }
              /* the share the run lies in, and its place there */
              int owner = -1;
              for (int i = 0; i < nth; i++)
                {
                  size_t a, b;
                  engine_split (n, i, nth, &a, &b);
                  if (lo >= a && lo < b)
                    {
                      owner = i;
                      g_assert_cmpuint (hi, <=, b);
                      g_assert_cmpuint ((lo - a) % run, ==, 0);
                      g_assert_true (hi == b || hi - lo == run);
                    }
                }
              g_assert_cmpint (owner, >=, 0);
              for (size_t i = lo; i < hi; i++)
                taken[i]++;
            }
          for (size_t i = 0; i < n; i++)
            g_assert_cmpint (taken[i], ==, 1);
        }
}

/* The same through the pool: the items a task takes with two and three
 * threads are each taken once. */
typedef struct
{
  EngineShares shares;
  gint *count;
} CountTask;

static void
count_task (void *arg, int ith, int nth)
{
  CountTask *task = arg;
  size_t lo, hi;
  while (engine_shares_take (&task->shares, ith, 5, &lo, &hi))
    for (size_t i = lo; i < hi; i++)
      g_atomic_int_inc (&task->count[i]);
}

static void
test_shares_pool (void)
{
  enum { N = 10007 };
  g_autofree gint *count = g_new0 (gint, N);
  for (int nth = 2; nth <= 3; nth++)
    {
      engine_set_threads (nth);
      for (int round = 0; round < 50; round++)
        {
          CountTask task = { .count = count };
          memset (count, 0, sizeof (gint) * N);
          engine_shares_init (&task.shares, N, engine_get_threads ());
          engine_parallel (count_task, &task);
          for (int i = 0; i < N; i++)
            g_assert_cmpint (count[i], ==, 1);
        }
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/threads/shares-interleaved",
                   test_shares_interleaved);
  g_test_add_func ("/engine/threads/shares-pool", test_shares_pool);
  g_test_add_func ("/engine/threads/concurrent-callers",
                   test_concurrent_callers);
  return g_test_run ();
}
