/* test-full-softmax.c: the fused exact softmax (vexp row pass, the
 * normalisation folded into the gradient, products split over the threads)
 * against the plain sequence it replaced, with 1, 2 and 3 engine threads:
 * one sgemm for the logits, the engine's softmax cross-entropy forward and
 * backward over the whole B x N matrix, one sgemm for the gradient. Also:
 * bit-identical results on repeated calls, fewer batch or bank rows than
 * threads, and a NaN feature giving a NaN loss. */
#include <cblas.h>
#include <glib.h>
#include <math.h>
#include <string.h>

#include "full-softmax.h"
#include "loss.h"
#include "memory-bank.h"
#include "method-fixtures.h"
#include "rng.h"
#include "testutil.h"
#include "threads.h"

/* the plain objective: logits, probabilities, dlogits, gradient */
static float
plain_softmax (float *d_features, const float *features, const int *indices,
               int B, const MemoryBank *bank, float tau)
{
  const int N = bank->n, D = bank->dim;
  float *logits = g_new (float, (size_t) B * N);
  // logits (B, N) = f (B, D) x V^T (D, N) / tau
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, B, N, D, 1.0f / tau,
               features, D, bank->vectors, D, 0.0f, logits, N);
  float loss = softmax_cross_entropy_forward (logits, logits, indices, B, N);
  softmax_cross_entropy_backward (logits, logits, indices, B, N);
  // d_features (B, D) = dlogits (B, N) x V (N, D) / tau
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, B, D, N, 1.0f / tau,
               logits, N, bank->vectors, D, 0.0f, d_features, D);
  g_free (logits);
  return loss;
}

typedef struct
{
  int B, N, D;
  float tau;
  gboolean unit_bank;   /* else the reference's init, rows not normalised */
} Case;

static void
compare_case (const Case *c, int threads, Rng *rng)
{
  engine_set_threads (threads);
  MemoryBank *bank = memory_bank_new (c->N, c->D, 0.5f, rng);
  g_assert_nonnull (bank);
  if (c->unit_bank)
    random_unit_rows (bank->vectors, c->N, c->D, rng);
  float *f = g_new (float, c->B * c->D);
  float *grad = g_new (float, c->B * c->D);
  float *want_grad = g_new (float, c->B * c->D);
  int *indices = g_new (int, c->B);
  random_unit_rows (f, c->B, c->D, rng);
  for (int b = 0; b < c->B; b++)
    indices[b] = (int) rng_below (rng, c->N);
  indices[c->B - 1] = indices[0];   /* a repeated index */

  FullSoftmax *softmax = full_softmax_new (c->B, c->N, c->tau);
  float loss = full_softmax_forward_backward (softmax, grad, f, indices, c->B,
                                              bank);
  float want = plain_softmax (want_grad, f, indices, c->B, bank, c->tau);
  g_test_message ("B %d N %d D %d tau %g %s bank, %d threads: loss %.7g vs "
                  "%.7g", c->B, c->N, c->D, c->tau,
                  c->unit_bank ? "unit" : "initial", threads, loss, want);
  assert_all_close ("loss", &loss, &want, 1, 1e-6, 1e-6);
  /* the gradient's entries are up to ~1 / (tau B); atol a 1e-5 part of it */
  const double scale = 1.0 / (c->tau * c->B);
  assert_all_close ("gradient", grad, want_grad, (size_t) c->B * c->D,
                    1e-5 * scale, 1e-4);

  /* repeated calls give the same bits */
  float *again = g_new (float, c->B * c->D);
  for (int rep = 0; rep < 3; rep++)
    {
      float loss2 = full_softmax_forward_backward (softmax, again, f, indices,
                                                   c->B, bank);
      g_assert_true (memcmp (&loss2, &loss, sizeof loss) == 0);
      g_assert_true (memcmp (again, grad, sizeof (float) * c->B * c->D) == 0);
    }
  g_free (again);
  full_softmax_free (softmax);
  memory_bank_free (bank);
  g_free (f);
  g_free (grad);
  g_free (want_grad);
  g_free (indices);
}

static void
test_against_plain (void)
{
  Rng rng;
  rng_seed (&rng, 41);
  const Case cases[] = {
    { 37, 5003, 24, 0.07f, TRUE },
    { 37, 5003, 24, 0.07f, FALSE },
    { 128, 12000, 128, 0.07f, TRUE },
    { 64, 3001, 128, 0.1f, FALSE },
    { 1, 17, 5, 0.1f, TRUE },     /* fewer rows than threads */
    { 3, 9, 3, 0.05f, TRUE },
    { 2, 1, 4, 0.1f, TRUE },      /* fewer bank rows than threads */
  };
  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    for (int threads = 1; threads <= 3; threads++)
      compare_case (&cases[i], threads, &rng);
  engine_set_threads (0);
}

static void
test_nan_feature (void)
{
  Rng rng;
  rng_seed (&rng, 43);
  enum { B = 4, N = 100, D = 8 };
  engine_set_threads (2);
  MemoryBank *bank = memory_bank_new (N, D, 0.5f, &rng);
  float f[B * D], grad[B * D];
  random_unit_rows (f, B, D, &rng);
  f[2 * D + 3] = NAN;
  int indices[B] = { 0, 1, 2, 3 };
  FullSoftmax *softmax = full_softmax_new (B, N, 0.1f);
  float loss = full_softmax_forward_backward (softmax, grad, f, indices, B, bank);
  g_assert_true (isnan (loss));
  full_softmax_free (softmax);
  memory_bank_free (bank);
  engine_set_threads (0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/method/full-softmax/against-plain", test_against_plain);
  g_test_add_func ("/method/full-softmax/nan-feature", test_nan_feature);
  return g_test_run ();
}
