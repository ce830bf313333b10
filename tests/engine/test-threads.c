/* test-threads.c: the engine's thread pool used from two threads at once,
 * as the explorer does (a trainer thread trains while a worker embeds a
 * query on its own copy of the network). */
#include <string.h>

#include "resnet.h"
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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/threads/concurrent-callers",
                   test_concurrent_callers);
  return g_test_run ();
}
