/* test-loss.c: softmax cross-entropy against its definition in double and
 * against central differences of its own returned loss. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "gradcheck.h"
#include "loss.h"
#include "rng.h"
#include "testutil.h"
#include "threads.h"

typedef struct
{
  float *logits, *probs;
  const int *targets;
  int batch, n;
} LossCtx;

static double
ce_loss (void *data)
{
  LossCtx *c = data;
  return softmax_cross_entropy_forward (c->probs, c->logits, c->targets,
                                        c->batch, c->n);
}

/* -1/B sum_b log softmax(z_b)[t_b] and the probabilities, in double with the
 * log-sum-exp shifted by the row maximum */
static double
expected_loss (const float *logits, const int *targets, int batch, int n,
               float *probs)
{
  double total = 0.0;
  for (int b = 0; b < batch; b++)
    {
      const float *z = logits + (size_t) b * n;
      double max = z[0];
      for (int j = 1; j < n; j++)
        max = fmax (max, z[j]);
      double sum = 0.0;
      for (int j = 0; j < n; j++)
        sum += exp (z[j] - max);
      for (int j = 0; j < n; j++)
        probs[(size_t) b * n + j] = (float) (exp (z[j] - max) / sum);
      total += -(z[targets[b]] - max - log (sum));
    }
  return total / batch;
}

/* The returned loss is a float, so L carries ~1e-7 relative rounding, ~1e-4
 * after dividing by 2h = 2e-3; gradients are (p - onehot)/B, O(0.01 to
 * 0.3): atol 5e-4, rtol 1e-2. Probabilities and loss against double:
 * atol 1e-6, rtol 1e-5. */
static void
test_softmax_cross_entropy (void)
{
  Rng rng;
  rng_seed (&rng, 41);
  LossCtx c = { .batch = 4, .n = 7 };
  const size_t m = (size_t) c.batch * c.n;
  const int targets[4] = { 0, 6, 3, 3 };
  c.targets = targets;
  c.logits = g_new (float, m);
  c.probs = g_new (float, m);
  float *expected_probs = g_new (float, m);
  float *dlogits = g_new (float, m);
  fill_normal (&rng, c.logits, m, 2.0f);

  float loss = softmax_cross_entropy_forward (c.probs, c.logits, targets,
                                              c.batch, c.n);
  float expected = (float) expected_loss (c.logits, targets, c.batch, c.n,
                                          expected_probs);
  assert_all_close ("softmax probabilities", c.probs, expected_probs, m, 1e-6,
                    1e-5);
  assert_all_close ("cross-entropy loss", &loss, &expected, 1, 1e-6, 1e-5);

  fill_value (dlogits, m, NAN);
  softmax_cross_entropy_backward (dlogits, c.probs, targets, c.batch, c.n);
  float *ana = g_memdup2 (dlogits, sizeof (float) * m);
  check_gradient ("cross-entropy d logits", ce_loss, &c, c.logits, ana, m, m,
                  1e-3f, 5e-4, 1e-2, &rng);

  /* probs may equal logits (loss.h): same loss and probabilities */
  float *inplace = g_memdup2 (c.logits, sizeof (float) * m);
  float loss_inplace = softmax_cross_entropy_forward (inplace, inplace,
                                                      targets, c.batch, c.n);
  assert_all_close ("softmax in place over logits", inplace, expected_probs,
                    m, 1e-6, 1e-5);
  assert_all_close ("cross-entropy loss in place", &loss_inplace, &expected,
                    1, 1e-6, 1e-5);
  g_free (inplace);

  /* dlogits may equal probs */
  softmax_cross_entropy_forward (c.probs, c.logits, targets, c.batch, c.n);
  softmax_cross_entropy_backward (c.probs, c.probs, targets, c.batch, c.n);
  assert_all_close ("cross-entropy backward in place", c.probs, ana, m, 0.0,
                    1e-6);

  g_free (ana);
  g_free (dlogits);
  g_free (expected_probs);
  g_free (c.logits);
  g_free (c.probs);
}

/* Logits of the size exp overflows on (the non-parametric softmax divides
 * by tau = 0.07): the max shift must keep loss and probabilities finite and
 * equal to the double-precision values. */
static void
test_softmax_cross_entropy_large_logits (void)
{
  const float logits[6] = { 1000.0f, 998.0f, -1000.0f, 90.0f, 95.0f, 100.0f };
  const int targets[2] = { 1, 2 };
  float probs[6], expected_probs[6];
  float loss = softmax_cross_entropy_forward (probs, logits, targets, 2, 3);
  float expected = (float) expected_loss (logits, targets, 2, 3,
                                          expected_probs);
  g_assert_true (isfinite (loss));
  assert_all_close ("large-logit probabilities", probs, expected_probs, 6,
                    1e-7, 1e-5);
  assert_all_close ("large-logit loss", &loss, &expected, 1, 1e-6, 1e-5);
}

/* The exact softmax's shape, rows split across two threads (loss.c goes
 * parallel from 65,536 logits; 23 rows so that the halves differ):
 * probabilities and loss against double, out of place and in place. */
static void
test_softmax_cross_entropy_threads (void)
{
  Rng rng;
  rng_seed (&rng, 43);
  const int batch = 23, n = 4099;
  const size_t m = (size_t) batch * n;
  int targets[23];
  for (int b = 0; b < batch; b++)
    targets[b] = (b * 977) % n;
  float *logits = g_new (float, m), *probs = g_new (float, m);
  float *expected_probs = g_new (float, m);
  fill_normal (&rng, logits, m, 5.0f);
  const float expected = (float) expected_loss (logits, targets, batch, n,
                                                expected_probs);
  engine_set_threads (2);
  float loss = softmax_cross_entropy_forward (probs, logits, targets, batch,
                                              n);
  assert_all_close ("probabilities, two threads", probs, expected_probs, m,
                    1e-6, 1e-5);
  assert_all_close ("loss, two threads", &loss, &expected, 1, 1e-6, 1e-5);
  loss = softmax_cross_entropy_forward (logits, logits, targets, batch, n);
  assert_all_close ("probabilities in place, two threads", logits,
                    expected_probs, m, 1e-6, 1e-5);
  assert_all_close ("loss in place, two threads", &loss, &expected, 1, 1e-6,
                    1e-5);
  engine_set_threads (1);
  g_free (logits);
  g_free (probs);
  g_free (expected_probs);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/loss/softmax-cross-entropy",
                   test_softmax_cross_entropy);
  g_test_add_func ("/engine/loss/large-logits",
                   test_softmax_cross_entropy_large_logits);
  g_test_add_func ("/engine/loss/threads",
                   test_softmax_cross_entropy_threads);
  return g_test_run ();
}
