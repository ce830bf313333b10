/* test-novelty.c: the novelty statistic and its calibration (novelty.h)
 * on a bank built so that the answers are known: rows in tight clusters,
 * images of the clusters score like the calibration, a direction far from
 * every cluster scores below all of it. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "knn.h"
#include "novelty.h"

enum { DIM = 16, N_CLUSTERS = 8, PER = 50, N_BANK = N_CLUSTERS * PER };

static void
normalise (float *v)
{
  double n = 0;
  for (int d = 0; d < DIM; d++)
    n += v[d] * v[d];
  n = sqrt (n);
  for (int d = 0; d < DIM; d++)
    v[d] /= n;
}

/* cluster c around axis c, a little noise */
static void
point_of (int c, GRand *rand, float *v)
{
  for (int d = 0; d < DIM; d++)
    v[d] = (float) g_rand_double_range (rand, -0.05, 0.05);
  v[c] += 1.0f;
  normalise (v);
}

static void
test_score (void)
{
  const float s[12] = { 0.9f, 0.8f, 0.7f, 0.6f, 0.5f, 0.4f, 0.3f, 0.2f, 0.1f,
                        0.05f, 0.01f, 0.0f };
  g_assert_cmpfloat (novelty_score (s, 12), ==, 0.05f);
  g_assert_cmpfloat (novelty_score (s, 3), ==, 0.7f);
  const float padded[3] = { 0.5f, -INFINITY, -INFINITY };
  g_assert_cmpfloat (novelty_score (padded, 3), ==, 0.5f);
  g_assert_true (isnan (novelty_score (padded + 1, 2)));
}

static void
test_calibrate (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (7);
  g_autofree float *bank = g_new (float, N_BANK * DIM);
  for (int i = 0; i < N_BANK; i++)
    point_of (i % N_CLUSTERS, rand, bank + i * DIM);

  /* fresh images of the clusters */
  enum { N_CAL = 80 };
  g_autofree float *cal = g_new (float, N_CAL * DIM);
  for (int i = 0; i < N_CAL; i++)
    point_of (i % N_CLUSTERS, rand, cal + i * DIM);
  g_autoptr (NoveltyCalibration) c
    = novelty_calibrate (cal, N_CAL, NULL, bank, N_BANK, DIM, 42);
  g_assert_cmpint (c->n, ==, N_CAL);
  g_assert_cmpint (c->iteration, ==, 42);
  g_assert_true (c->from_test);
  for (int i = 1; i < c->n; i++)
    g_assert_cmpfloat (c->scores[i - 1], <=, c->scores[i]);
  g_assert_cmpfloat (c->scores[0], >, 0.9);

  /* a query between every cluster: below all of the calibration */
  float far[DIM];
  for (int d = 0; d < DIM; d++)
    far[d] = d < N_CLUSTERS ? 0.0f : 1.0f;
  normalise (far);
  float sim[NOVELTY_K];
  int idx[NOVELTY_K];
  knn_search (sim, idx, far, 1, bank, N_BANK, DIM, NOVELTY_K);
  g_assert_cmpfloat (novelty_rank (c, novelty_score (sim, NOVELTY_K)), ==,
                     0.0);
  /* an image of a cluster: somewhere inside */
  float near[DIM];
  point_of (3, rand, near);
  knn_search (sim, idx, near, 1, bank, N_BANK, DIM, NOVELTY_K);
  g_assert_cmpfloat (novelty_rank (c, novelty_score (sim, NOVELTY_K)), >,
                     0.01);
  g_assert_cmpfloat (novelty_rank (c, 2.0), ==, 1.0);
  g_assert_true (isnan (novelty_rank (c, NAN)));

  /* training images leaving their own row out score like fresh ones,
   * while with it each would find itself (similarity 1) */
  int own[N_CAL];
  for (int i = 0; i < N_CAL; i++)
    own[i] = i;
  g_autoptr (NoveltyCalibration) loo
    = novelty_calibrate (bank, N_CAL, own, bank, N_BANK, DIM, 42);
  g_assert_false (loo->from_test);
  g_assert_cmpint (loo->n, ==, N_CAL);
  g_assert_cmpfloat (loo->scores[loo->n - 1], <, 0.9999);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/explore/novelty/score", test_score);
  g_test_add_func ("/explore/novelty/calibrate", test_calibrate);
  return g_test_run ();
}
