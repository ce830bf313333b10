/* test-sgd.c: sgd_step against torch.optim.SGD's update (dampening 0, not
 * Nesterov), recomputed here in double over several steps. */
#include <glib.h>
#include <math.h>

#include "gradcheck.h"
#include "rng.h"
#include "sgd.h"
#include "testutil.h"
#include "threads.h"

/* torch.optim.SGD, written from its documentation:
 *   d = g + wd p;  buf = d on the first step, else mu buf + d;  p -= lr buf
 * Three steps so that both the first-step rule and the momentum blend are
 * exercised twice. Float against double over a few O(1) operations:
 * atol 1e-6, rtol 1e-5. */
static void
check_sgd_momentum (size_t n)
{
  Rng rng;
  rng_seed (&rng, 51);
  const double lr = 0.03, mu = 0.9, wd = 5e-4;
  float *params = g_new (float, n);
  float *grads = g_new (float, n);
  float *expected = g_new (float, n);
  double *p = g_new (double, n);
  double *buf = g_new (double, n);
  fill_normal (&rng, params, n, 1.0f);
  for (size_t i = 0; i < n; i++)
    p[i] = params[i];

  Sgd sgd;
  g_assert_true (sgd_init (&sgd, n, (float) lr, (float) mu, (float) wd));
  for (int step = 0; step < 3; step++)
    {
      fill_normal (&rng, grads, n, 1.0f);
      for (size_t i = 0; i < n; i++)
        {
          double d = grads[i] + wd * p[i];
          buf[i] = step == 0 ? d : mu * buf[i] + d;
          p[i] -= lr * buf[i];
          expected[i] = (float) p[i];
        }
      sgd_step (&sgd, params, grads);
      g_autofree char *what = g_strdup_printf ("parameters after step %d",
                                               step + 1);
      assert_all_close (what, params, expected, n, 1e-6, 1e-5);
    }
  sgd_clear (&sgd);

  g_free (params);
  g_free (grads);
  g_free (expected);
  g_free (p);
  g_free (buf);
}

/* Momentum 0 is plain SGD with weight decay: p -= lr (g + wd p), every step. */
static void
check_sgd_plain (size_t n)
{
  Rng rng;
  rng_seed (&rng, 52);
  const double lr = 0.1, wd = 1e-2;
  float *params = g_new (float, n);
  float *grads = g_new (float, n);
  float *expected = g_new (float, n);
  double *p = g_new (double, n);
  fill_normal (&rng, params, n, 1.0f);
  for (size_t i = 0; i < n; i++)
    p[i] = params[i];

  Sgd sgd;
  g_assert_true (sgd_init (&sgd, n, (float) lr, 0.0f, (float) wd));
  for (int step = 0; step < 2; step++)
    {
      fill_normal (&rng, grads, n, 1.0f);
      for (size_t i = 0; i < n; i++)
        {
          p[i] -= lr * (grads[i] + wd * p[i]);
          expected[i] = (float) p[i];
        }
      sgd_step (&sgd, params, grads);
      assert_all_close ("plain sgd parameters", params, expected, n, 1e-6,
                        1e-5);
    }
  sgd_clear (&sgd);
  g_free (params);
  g_free (grads);
  g_free (expected);
  g_free (p);
}

static void
test_sgd_momentum (void)
{
  check_sgd_momentum (37);
}

static void
test_sgd_plain (void)
{
  check_sgd_plain (11);
}

/* A network's worth of parameters, split across two threads (sgd.c goes
 * parallel from 65,536), an odd count so that the halves differ. */
static void
test_sgd_threads (void)
{
  engine_set_threads (2);
  check_sgd_momentum (100003);
  check_sgd_plain (100003);
  engine_set_threads (1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/sgd/momentum", test_sgd_momentum);
  g_test_add_func ("/engine/sgd/plain", test_sgd_plain);
  g_test_add_func ("/engine/sgd/threads", test_sgd_threads);
  return g_test_run ();
}
