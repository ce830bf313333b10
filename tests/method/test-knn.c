/* test-knn.c: top-k search and the weighted kNN classifier against a
 * brute-force implementation written from knn.h's rules: every similarity
 * in double-free float order-independent form, a full sort with ties to
 * the lower index, class sums in double. */
#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "knn.h"
#include "method-fixtures.h"
#include "rng.h"
#include "testutil.h"
#include "threads.h"

typedef struct
{
  double s;
  int i;
} Pair;

static int
compare_pairs (const void *a, const void *b)
{
  const Pair *x = a, *y = b;
  if (x->s != y->s)
    return x->s > y->s ? -1 : 1;
  return (x->i > y->i) - (x->i < y->i);
}

/* similarities in double: the fast path's float sums differ by ~1e-7, so
 * the comparison below allows index swaps only between near-equal scores */
static void
brute_force (Pair *out, const float *q, const float *base, int n, int dim)
{
  for (int i = 0; i < n; i++)
    {
      double s = 0.0;
      for (int d = 0; d < dim; d++)
        s += (double) q[d] * base[(size_t) i * dim + d];
      out[i] = (Pair) { s, i };
    }
  qsort (out, n, sizeof *out, compare_pairs);
}

/* The fast result on `threads` engine threads must equal brute force:
 * identical indices, except that two neighbours whose exact similarities
 * are within 1e-5 may come in either order (float rounding); exact
 * duplicates must follow the index rule, which the duplicated-row test
 * checks with bit-identical rows. */
static void
check_search (const float *queries, int nq, const float *base, int n, int dim,
              int k, int threads)
{
  float *sims = g_new (float, (size_t) nq * k);
  int *idx = g_new (int, (size_t) nq * k);
  Pair *pairs = g_new (Pair, n);
  engine_set_threads (threads);
  knn_search (sims, idx, queries, nq, base, n, dim, k);
  const int kk = MIN (k, n);
  for (int q = 0; q < nq; q++)
    {
      brute_force (pairs, queries + (size_t) q * dim, base, n, dim);
      for (int j = 0; j < kk; j++)
        {
          int got = idx[(size_t) q * k + j];
          g_assert_cmpint (got, >=, 0);
          g_assert_cmpint (got, <, n);
          g_assert_cmpfloat_with_epsilon (sims[(size_t) q * k + j], pairs[j].s, 1e-5);
          if (got != pairs[j].i)
            {
              /* a near-tie swapped by rounding: the brute-force score of
               * what we returned must equal the expected one */
              double s = 0.0;
              for (int d = 0; d < dim; d++)
                s += (double) queries[(size_t) q * dim + d] * base[(size_t) got * dim + d];
              g_assert_cmpfloat_with_epsilon (s, pairs[j].s, 1e-5);
            }
          if (j > 0)
            {
              float prev = sims[(size_t) q * k + j - 1], cur = sims[(size_t) q * k + j];
              g_assert_cmpfloat (prev, >=, cur);
              if (prev == cur)
                g_assert_cmpint (idx[(size_t) q * k + j - 1], <, idx[(size_t) q * k + j]);
            }
        }
      for (int j = kk; j < k; j++)
        {
          g_assert_cmpint (idx[(size_t) q * k + j], ==, -1);
          g_assert_true (isinf (sims[(size_t) q * k + j]) && sims[(size_t) q * k + j] < 0);
        }
    }
  g_free (sims);
  g_free (idx);
  g_free (pairs);
}

/* both paths (streaming for few queries, blocked products for many), one
 * and two threads, k from 1 to more than N */
static void
test_brute_force (void)
{
  Rng rng;
  rng_seed (&rng, 1);
  const int n = 5000, dim = 24;
  float *base = g_new (float, (size_t) n * dim);
  float *queries = g_new (float, 300 * dim);
  random_unit_rows (base, n, dim, &rng);
  random_unit_rows (queries, 300, dim, &rng);
  const int ks[] = { 1, 10, 200 };
  for (int t = 1; t <= 2; t++)
    for (size_t i = 0; i < G_N_ELEMENTS (ks); i++)
      {
        check_search (queries, 3, base, n, dim, ks[i], t);      /* streaming */
        check_search (queries, 300, base, n, dim, ks[i], t);    /* products */
      }
  g_free (base);
  g_free (queries);
}

/* k > N: all N rows, then -1 / -inf padding */
static void
test_k_larger_than_n (void)
{
  Rng rng;
  rng_seed (&rng, 2);
  const int n = 7, dim = 5;
  float base[7 * 5], queries[40 * 5];
  random_unit_rows (base, n, dim, &rng);
  random_unit_rows (queries, 40, dim, &rng);
  check_search (queries, 2, base, n, dim, 12, 2);
  check_search (queries, 40, base, n, dim, 12, 0);
  check_search (queries, 40, base, n, dim, 1, 2);
}

/* bit-identical duplicated base rows: equal similarity, the lower index
 * first, on both paths, whichever threads and blocks the rows land in */
static void
test_ties (void)
{
  Rng rng;
  rng_seed (&rng, 3);
  const int n = 6000, dim = 16, copies = 6;
  float *base = g_new (float, (size_t) n * dim);
  float *queries = g_new (float, 200 * dim);
  random_unit_rows (base, n, dim, &rng);
  random_unit_rows (queries, 200, dim, &rng);
  /* each query's own row copied to spread positions: rows 17, 1000 x c */
  const int q_dup = 5;
  for (int c = 0; c < copies; c++)
    memcpy (base + (size_t) (17 + 1000 * c) * dim, queries + q_dup * dim,
            sizeof (float) * dim);
  for (int nq = 1; nq <= 200; nq += 199)
    for (int t = 1; t <= 2; t++)
      {
        int idx[200 * 8];
        float sims[200 * 8];
        const float *qs = nq == 1 ? queries + q_dup * dim : queries;
        const int row = nq == 1 ? 0 : q_dup;
        engine_set_threads (t);
        knn_search (sims, idx, qs, nq, base, n, dim, 8);
        for (int c = 0; c < copies; c++)
          {
            g_assert_cmpint (idx[row * 8 + c], ==, 17 + 1000 * c);
            g_assert_cmpfloat (sims[row * 8 + c], ==, sims[row * 8]);
          }
        check_search (qs, nq, base, n, dim, 8, t);
      }
  g_free (base);
  g_free (queries);
}

/* ---- the engine's threads ---- */

enum { SPLIT_N = 9000, SPLIT_DIM = 24, SPLIT_K = 20, SPLIT_MAX_Q = 600 };

/* 9,000 base rows: enough for the streaming path to split the base over
 * two threads (at 4,096 rows a thread). Query 0's row is copied to base
 * rows 4499, 4500 (either side of the two-thread split) and 8999, so the
 * merge of the threads' candidates must keep the index rule. */
static void
split_fixture (float **base, float **queries)
{
  Rng rng;
  rng_seed (&rng, 4);
  *base = g_new (float, (size_t) SPLIT_N * SPLIT_DIM);
  *queries = g_new (float, (size_t) SPLIT_MAX_Q * SPLIT_DIM);
  random_unit_rows (*base, SPLIT_N, SPLIT_DIM, &rng);
  random_unit_rows (*queries, SPLIT_MAX_Q, SPLIT_DIM, &rng);
  const int copies[] = { 4499, 4500, 8999 };
  for (size_t c = 0; c < G_N_ELEMENTS (copies); c++)
    memcpy (*base + (size_t) copies[c] * SPLIT_DIM, *queries,
            sizeof (float) * SPLIT_DIM);
}

typedef struct
{
  float *sims;
  int *idx;
} Found;

static Found
search_on (int threads, const float *queries, int nq, const float *base)
{
  Found f = { g_new (float, (size_t) nq * SPLIT_K),
              g_new (int, (size_t) nq * SPLIT_K) };
  g_assert_cmpint (engine_set_threads (threads), ==, threads);
  knn_search (f.sims, f.idx, queries, nq, base, SPLIT_N, SPLIT_DIM, SPLIT_K);
  return f;
}

static void
found_free (Found f)
{
  g_free (f.sims);
  g_free (f.idx);
}

static void
assert_found_identical (Found a, Found b, int nq)
{
  g_assert_cmpmem (a.idx, sizeof (int) * nq * SPLIT_K, b.idx,
                   sizeof (int) * nq * SPLIT_K);
  g_assert_cmpmem (a.sims, sizeof (float) * nq * SPLIT_K, b.sims,
                   sizeof (float) * nq * SPLIT_K);
}

/* One engine thread and two give the same neighbours. Each path's split
 * (base rows when streaming, queries for the products) leaves every score
 * as it was, so those are bit-identical; 12 queries take the products on
 * one thread and the streaming on two (< 8 a thread), whose dot products
 * sum in another order: equal within rounding there. */
static void
test_thread_count (void)
{
  float *base, *queries;
  split_fixture (&base, &queries);
  const int same_path[] = { 1, 3, SPLIT_MAX_Q };
  for (size_t i = 0; i < G_N_ELEMENTS (same_path); i++)
    {
      const int nq = same_path[i];
      Found one = search_on (1, queries, nq, base);
      Found two = search_on (2, queries, nq, base);
      assert_found_identical (one, two, nq);
      /* the copies of query 0, in index order across the split */
      g_assert_cmpint (two.idx[0], ==, 4499);
      g_assert_cmpint (two.idx[1], ==, 4500);
      g_assert_cmpint (two.idx[2], ==, 8999);
      found_free (one);
      found_free (two);
      check_search (queries, nq, base, SPLIT_N, SPLIT_DIM, SPLIT_K, 2);
    }

  const int nq = 12;
  Found one = search_on (1, queries, nq, base);
  Found two = search_on (2, queries, nq, base);
  for (int q = 0; q < nq; q++)
    for (int j = 0; j < SPLIT_K; j++)
      {
        const int at = q * SPLIT_K + j;
        g_assert_cmpfloat_with_epsilon (one.sims[at], two.sims[at], 1e-6);
        if (one.idx[at] == two.idx[at])
          continue;
        /* a near-tie ordered the other way by rounding: both rows are as
         * similar to the query, in double */
        double s1 = 0.0, s2 = 0.0;
        for (int d = 0; d < SPLIT_DIM; d++)
          {
            const double x = queries[(size_t) q * SPLIT_DIM + d];
            s1 += x * base[(size_t) one.idx[at] * SPLIT_DIM + d];
            s2 += x * base[(size_t) two.idx[at] * SPLIT_DIM + d];
          }
        g_assert_cmpfloat_with_epsilon (s1, s2, 1e-6);
      }
  found_free (one);
  found_free (two);
  g_free (base);
  g_free (queries);
}

typedef struct
{
  const float *base, *queries;
  Found streaming, products;   /* what each search gives alone */
  int rounds_matching;
} Caller;

enum { CONCURRENT_ROUNDS = 4 };

static gpointer
search_repeatedly (gpointer data)
{
  Caller *c = data;
  for (int r = 0; r < CONCURRENT_ROUNDS; r++)
    {
      Found f[2];
      const int nq[2] = { 3, SPLIT_MAX_Q };
      const Found *expect[2] = { &c->streaming, &c->products };
      gboolean same = TRUE;
      for (int p = 0; p < 2; p++)
        {
          f[p] = (Found) { g_new (float, (size_t) nq[p] * SPLIT_K),
                           g_new (int, (size_t) nq[p] * SPLIT_K) };
          knn_search (f[p].sims, f[p].idx, c->queries, nq[p], c->base,
                      SPLIT_N, SPLIT_DIM, SPLIT_K);
          same &= memcmp (f[p].idx, expect[p]->idx,
                          sizeof (int) * nq[p] * SPLIT_K) == 0
                  && memcmp (f[p].sims, expect[p]->sims,
                             sizeof (float) * nq[p] * SPLIT_K) == 0;
          found_free (f[p]);
        }
      c->rounds_matching += same;
    }
  return NULL;
}

/* Two threads searching at once on a two-thread pool (the explorer's query
 * beside a t-SNE, or beside the trainer's evaluation): whichever gets the
 * pool, the other runs every share itself, and both get what they would
 * alone. */
static void
test_concurrent (void)
{
  float *base, *queries;
  split_fixture (&base, &queries);
  Found streaming = search_on (2, queries, 3, base);
  Found products = search_on (2, queries, SPLIT_MAX_Q, base);
  Caller callers[2];
  GThread *threads[2];
  for (int t = 0; t < 2; t++)
    {
      callers[t] = (Caller) { base, queries, streaming, products, 0 };
      threads[t] = g_thread_new ("knn-test", search_repeatedly, &callers[t]);
    }
  for (int t = 0; t < 2; t++)
    {
      g_thread_join (threads[t]);
      g_assert_cmpint (callers[t].rounds_matching, ==, CONCURRENT_ROUNDS);
    }
  found_free (streaming);
  found_free (products);
  g_free (base);
  g_free (queries);
}

/* ---- weighted kNN ---- */

typedef struct
{
  int prediction;
  gboolean top1, top5, nn1;
} Expect;

static Expect
classify_brute (const float *q, int truth, const float *base, const int *labels,
                int n, int dim, int n_classes, int k, double sigma)
{
  Pair *pairs = g_new (Pair, n);
  double *w = g_new0 (double, n_classes);
  brute_force (pairs, q, base, n, dim);
  const int kk = MIN (k, n);
  for (int j = 0; j < kk; j++)
    w[labels[pairs[j].i]] += exp (pairs[j].s / sigma);
  /* rank all classes: by weight, ties to the lower class */
  int *order = g_new (int, n_classes);
  for (int c = 0; c < n_classes; c++)
    order[c] = c;
  for (int a = 0; a < n_classes; a++)
    for (int b = a + 1; b < n_classes; b++)
      if (w[order[b]] > w[order[a]]
          || (w[order[b]] == w[order[a]] && order[b] < order[a]))
        {
          int t = order[a];
          order[a] = order[b];
          order[b] = t;
        }
  Expect e = { .prediction = order[0], .top1 = order[0] == truth,
               .nn1 = labels[pairs[0].i] == truth };
  for (int c = 0; c < MIN (5, n_classes); c++)
    e.top5 |= order[c] == truth;
  g_free (pairs);
  g_free (w);
  g_free (order);
  return e;
}

static void
check_classify (int nq, int n, int dim, int n_classes, int used_classes, int k,
                guint64 seed)
{
  Rng rng;
  rng_seed (&rng, seed);
  float *base = g_new (float, (size_t) n * dim);
  float *queries = g_new (float, (size_t) nq * dim);
  int *labels = g_new (int, n), *truth = g_new (int, nq);
  int *pred = g_new (int, nq);
  /* class centres so the classifier has something to find */
  float *centres = g_new (float, (size_t) used_classes * dim);
  random_unit_rows (centres, used_classes, dim, &rng);
  for (int i = 0; i < n + nq; i++)
    {
      int c = (int) rng_below (&rng, used_classes);
      float *x = i < n ? base + (size_t) i * dim : queries + (size_t) (i - n) * dim;
      double sum = 0.0;
      for (int d = 0; d < dim; d++)
        {
          x[d] = centres[c * dim + d] + 0.6f * rng_normal (&rng);
          sum += (double) x[d] * x[d];
        }
      for (int d = 0; d < dim; d++)
        x[d] = (float) (x[d] / sqrt (sum));
      /* used classes spread over 0..n_classes-1, leaving gaps */
      int label = c * (n_classes / used_classes);
      if (i < n)
        labels[i] = label;
      else
        truth[i - n] = label;
    }
  KnnAccuracy acc;
  const float sigma = 0.1f;
  knn_classify (pred, &acc, queries, truth, nq, base, labels, n, dim, n_classes,
                k, sigma);
  int top1 = 0, top5 = 0, nn1 = 0;
  for (int q = 0; q < nq; q++)
    {
      Expect e = classify_brute (queries + (size_t) q * dim, truth[q], base,
                                 labels, n, dim, n_classes, k, sigma);
      g_assert_cmpint (pred[q], ==, e.prediction);
      top1 += e.top1;
      top5 += e.top5;
      nn1 += e.nn1;
    }
  g_test_message ("Q %d N %d classes %d (used %d) k %d: top1 %d top5 %d 1-NN %d",
                  nq, n, n_classes, used_classes, k, top1, top5, nn1);
  g_assert_cmpint (acc.n_queries, ==, nq);
  g_assert_cmpint (acc.top1_correct, ==, top1);
  g_assert_cmpint (acc.top5_correct, ==, top5);
  g_assert_cmpint (acc.nn1_correct, ==, nn1);
  g_assert_cmpfloat_with_epsilon (acc.top1, (double) top1 / nq, 1e-12);
  g_assert_cmpfloat_with_epsilon (acc.top5, (double) top5 / nq, 1e-12);
  g_assert_cmpfloat_with_epsilon (acc.nn1, (double) nn1 / nq, 1e-12);
  g_free (base);
  g_free (queries);
  g_free (labels);
  g_free (truth);
  g_free (pred);
  g_free (centres);
}

static void
test_classify (void)
{
  /* ten classes, default k, both search paths */
  check_classify (300, 3000, 16, 10, 10, KNN_DEFAULT_K, 10);
  check_classify (5, 3000, 16, 10, 10, KNN_DEFAULT_K, 11);
  /* 12 classes of which 4 used (labels 0, 3, 6, 9) */
  check_classify (200, 1000, 8, 12, 4, 50, 12);
  /* k larger than N, and k = 1 */
  check_classify (150, 120, 8, 10, 10, 500, 13);
  check_classify (150, 1000, 8, 10, 10, 1, 14);
  /* top-5 with 3 classes: always correct */
  check_classify (150, 1000, 8, 3, 3, 20, 15);
}

static void
test_classify_small (void)
{
  /* hand-checkable: N 4 rows in 2D, sigma 1 */
  const float base[] = { 1, 0, 0, 1, -1, 0, 0.6f, 0.8f };
  const int labels[] = { 0, 1, 1, 2 };
  const float q[] = { 1, 0 };
  int truth = 1, pred;
  KnnAccuracy acc;
  /* k 2: rows 0 (s 1, class 0) and 3 (s 0.6, class 2) -> class 0 */
  knn_classify (&pred, &acc, q, &truth, 1, base, labels, 4, 2, 3, 2, 1.0f);
  g_assert_cmpint (pred, ==, 0);
  g_assert_cmpint (acc.top1_correct, ==, 0);
  g_assert_cmpint (acc.top5_correct, ==, 1);   /* 3 classes: always */
  g_assert_cmpint (acc.nn1_correct, ==, 0);
  /* k 4: class 1 gets e^0 + e^-1 = 1.37 < class 0's e^1 = 2.72 */
  knn_classify (&pred, &acc, q, &truth, 1, base, labels, 4, 2, 3, 4, 1.0f);
  g_assert_cmpint (pred, ==, 0);
  /* sigma 0.1 sharpens: still class 0 */
  knn_classify (&pred, NULL, q, NULL, 1, base, labels, 4, 2, 3, 4, 0.1f);
  g_assert_cmpint (pred, ==, 0);
}

/* Rows that cannot be ranked (a NaN in a row, or in the query) are padded
 * with -1 by the search; the classifier reads only ranked rows: no read
 * before the labels (the sanitizer build catches one), and the vote of the
 * rows that remain. */
static void
test_classify_nan (void)
{
  const float base[] = { 1, 0, NAN, 0, 0, 1, -1, 0 };
  const int labels[] = { 0, 1, 1, 2 };
  const float q[] = { 1, 0 };
  int truth = 0, pred = -1;
  KnnAccuracy acc;
  float sims[4];
  int idx[4];
  knn_search (sims, idx, q, 1, base, 4, 2, 4);
  g_assert_cmpint (idx[3], ==, -1);
  knn_classify (&pred, &acc, q, &truth, 1, base, labels, 4, 2, 3, 4, 1.0f);
  g_assert_cmpint (pred, ==, 0);
  g_assert_cmpint (acc.top1_correct, ==, 1);
  g_assert_cmpint (acc.nn1_correct, ==, 1);
  /* a NaN query ranks nothing: no vote, no 1-NN, no crash */
  const float nan_query[] = { NAN, 0 };
  knn_classify (&pred, &acc, nan_query, &truth, 1, base, labels, 4, 2, 3, 4,
                1.0f);
  g_assert_cmpint (acc.nn1_correct, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/method/knn/brute-force", test_brute_force);
  g_test_add_func ("/method/knn/k-larger-than-n", test_k_larger_than_n);
  g_test_add_func ("/method/knn/ties", test_ties);
  g_test_add_func ("/method/knn/thread-count", test_thread_count);
  g_test_add_func ("/method/knn/concurrent", test_concurrent);
  g_test_add_func ("/method/knn/classify", test_classify);
  g_test_add_func ("/method/knn/classify-small", test_classify_small);
  g_test_add_func ("/method/knn/classify-nan", test_classify_nan);
  return g_test_run ();
}
