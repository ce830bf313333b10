/* test-retrievals.c: best and worst retrievals on a bank built by hand, so
 * the order is known before running: unit vectors in the plane at chosen
 * angles, labels chosen per group. */
#include <math.h>

#include "retrievals.h"

/* the bank: four groups of three rows, at 0, 90, 180 and 270 degrees and
 * one and two degrees past each */
static const double bank_deg[12] = { 0, 1, 2, 90, 91, 92,
                                     180, 181, 182, 270, 271, 272 };
static const int bank_labels[12] = { 0, 0, 0, 1, 1, 0,
                                     2, 2, 2, 0, 0, 0 };

static void
unit (float *out, double degrees)
{
  out[0] = (float) cos (degrees * G_PI / 180.0);
  out[1] = (float) sin (degrees * G_PI / 180.0);
}

static void
fill (float *rows, const double *deg, int n)
{
  for (int i = 0; i < n; i++)
    unit (rows + 2 * i, deg[i]);
}

static void
assert_order (const char *what, const int *got, const int *want, int n)
{
  GString *s = g_string_new (NULL);
  for (int i = 0; i < n; i++)
    g_string_append_printf (s, " %d", got[i]);
  g_test_message ("%s:%s", what, s->str);
  g_string_free (s, TRUE);
  for (int i = 0; i < n; i++)
    if (got[i] != want[i])
      g_error ("%s: position %d holds query %d, expected %d", what, i,
               got[i], want[i]);
}

static void
test_labelled (void)
{
  /* query : angle, label -> (matching neighbours of 3, mean similarity)
   *  0 :   1, 0 -> group 0 (0 0 0): 3, (1 + 2 cos 1) / 3
   *  1 : 180.5, 2 -> group 180 (2 2 2): 3, (2 cos 0.5 + cos 1.5) / 3,
   *       a little lower than query 0: a tie on count, broken by similarity
   *  2 :  91, 1 -> group 90 (1 1 0): 2
   *  3 : 271, 2 -> group 270 (0 0 0): 0, similar rows, wrong label
   *  4 :  40, 0 -> group 0 (0 0 0): 3, but at ~39 degrees: lowest of the 3s
   *  5 : 275, 1 -> group 270: 0, less similar than query 3
   *  6 = query 3 again: bit-equal, so the lower index (3) comes first */
  const double deg[7] = { 1, 180.5, 91, 271, 40, 275, 271 };
  const int labels[7] = { 0, 2, 1, 2, 0, 1, 2 };
  float bank[12 * 2], queries[7 * 2];
  fill (bank, bank_deg, 12);
  fill (queries, deg, 7);

  g_autoptr (Retrievals) r = retrievals_compute (queries, labels, 7, bank,
                                                 bank_labels, 12, 2, 3);
  g_assert_true (r->labelled);
  g_assert_cmpint (r->k, ==, 3);
  const int same[7] = { 3, 3, 2, 0, 3, 0, 0 };
  for (int q = 0; q < 7; q++)
    g_assert_cmpint (r->n_same[q], ==, same[q]);
  g_assert_cmpfloat (r->score[0], >, r->score[1]);
  g_assert_cmpfloat (r->score[3], ==, r->score[6]);
  /* neighbours most similar first: query 0 at 1 degree finds row 1 first */
  g_assert_cmpint (r->neighbours[0], ==, 1);
  g_assert_cmpfloat (r->similarities[0], >=, r->similarities[1]);
  g_assert_cmpfloat (r->similarities[1], >=, r->similarities[2]);

  const int best[7] = { 0, 1, 4, 2, 3, 6, 5 };
  const int worst[7] = { 5, 3, 6, 2, 4, 1, 0 };
  assert_order ("best first", r->best, best, 7);
  assert_order ("worst first", r->worst, worst, 7);
}

static void
test_unlabelled (void)
{
  /* by top-1 similarity: the smaller the angle to the nearest bank row,
   * the better. Angles to the nearest row: 3, 0.5, 30, 0.25, 43; query 5
   * repeats query 1 (a tie, the lower index first) */
  const double deg[6] = { 5, 180.5, 60, 271.25, 135, 180.5 };
  float bank[12 * 2], queries[6 * 2];
  fill (bank, bank_deg, 12);
  fill (queries, deg, 6);

  g_autoptr (Retrievals) r = retrievals_compute (queries, NULL, 6, bank,
                                                 NULL, 12, 2, 3);
  g_assert_false (r->labelled);
  g_assert_null (r->n_same);
  const int best[6] = { 3, 1, 5, 0, 2, 4 };
  const int worst[6] = { 4, 2, 0, 1, 5, 3 };
  assert_order ("best first", r->best, best, 6);
  assert_order ("worst first", r->worst, worst, 6);

  /* labels on the bank but a query without one: ranked as unlabelled */
  const int labels[6] = { 0, 2, 1, -1, 0, 2 };
  g_autoptr (Retrievals) mixed = retrievals_compute (queries, labels, 6, bank,
                                                     bank_labels, 12, 2, 3);
  g_assert_false (mixed->labelled);
  assert_order ("mixed, best first", mixed->best, best, 6);
}

static void
test_default_k (void)
{
  float bank[12 * 2], queries[2];
  fill (bank, bank_deg, 12);
  unit (queries, 40.0);
  const int label = 0;
  g_autoptr (Retrievals) r = retrievals_compute (queries, &label, 1, bank,
                                                 bank_labels, 12, 2, 0);
  g_assert_cmpint (r->k, ==, RETRIEVALS_K);
  for (int j = 0; j + 1 < RETRIEVALS_K; j++)
    g_assert_cmpfloat (r->similarities[j], >=, r->similarities[j + 1]);
  /* the 10 nearest of 12 to 40 degrees leave out 181 and 182 (141, 142
   * degrees away); of the rest, label 0 holds 0, 1, 2, 92 and the 270
   * group: 3 + 1 + 3 = 7 */
  g_assert_cmpint (r->n_same[0], ==, 7);
  g_assert_cmpint (r->best[0], ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/explore/retrievals/labelled", test_labelled);
  g_test_add_func ("/explore/retrievals/unlabelled", test_unlabelled);
  g_test_add_func ("/explore/retrievals/default-k", test_default_k);
  return g_test_run ();
}
