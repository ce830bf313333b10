/* knn.c: blocked top-k search and the weighted kNN classifier.
 *
 * Many queries: scores (Qb, Nb) = queries (Qb, D) x base block (Nb, D)^T by
 * cblas_sgemm, then each query row of the block goes through that query's
 * selector. The block of scores (Qb x Nb floats, 1 MB) stays in the core's
 * cache between the product that writes it and the selection that reads
 * it. Most scores lose against the query's threshold, so the selection is
 * one compare per score (see the selector below).
 *
 * Few queries: no product is worth packing for; each thread streams its
 * share of the base rows once, dotting every row with the queries while it
 * is in cache. One query over a 1,000,000 x 128 bank reads 512 MB, so its
 * latency is the memory bandwidth (~22 GB/s here, ~23 ms).
 */
#define G_LOG_DOMAIN "instdisc-method"

#include "knn.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dot16.h"
#include "threads.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define KNN_CLONES __attribute__ ((target_clones ("arch=x86-64-v3", "default")))
#else
#define KNN_CLONES
#endif

/* block sizes of the product path: 256 x 1024 floats = 1 MB of scores,
 * in the core's L2 (measured against 128 x 2048, 512 x 512, 1000 x 1024) */
enum { BLOCK_QUERIES = 256, BLOCK_BASE = 1024 };
/* below this many queries per thread the streaming path wins */
#define FEW_QUERIES 8
/* the streaming path's rows per thread: fewer are not worth a thread */
#define STREAM_ROWS_PER_THREAD 4096

/* ---- per-query selection ----
 *
 * Each query keeps a buffer of candidates and a threshold: a score enters
 * only if it beats the threshold. When the buffer is full, a quickselect
 * keeps the best k and the threshold rises to the k-th best. Random data
 * let ~k ln (N / k) scores through (1,100 per query at k 200, N 60,000);
 * a heap paid a sift-down of log k mispredicted branches for each, the
 * buffer pays a linear select once per (cap - k) of them. */

typedef struct
{
  float s;
  int i;
} Candidate;

typedef struct
{
  Candidate *c;
  int size, cap, k;
  float threshold;   /* the k-th best kept once k are kept, else -inf */
} Selector;

static inline gboolean
better (Candidate a, Candidate b)
{
  return a.s > b.s || (a.s == b.s && a.i < b.i);
}

/* reorder c (n) so that c[0..m-1] are the m best, c[m-1] the worst of them */
static void
select_best (Candidate *c, int n, int m)
{
  int lo = 0, hi = n - 1;
  const int target = m - 1;
  while (lo < hi)
    {
      /* median of three as pivot, then Hoare-style partition: better
       * before, worse after */
      int mid = lo + (hi - lo) / 2;
      Candidate a = c[lo], b = c[mid], d = c[hi];
      Candidate pivot = better (a, b) ? (better (b, d) ? b : better (a, d) ? d : a)
                                      : (better (a, d) ? a : better (b, d) ? d : b);
      int i = lo, j = hi;
      while (i <= j)
        {
          while (better (c[i], pivot))
            i++;
          while (better (pivot, c[j]))
            j--;
          if (i <= j)
            {
              Candidate t = c[i];
              c[i] = c[j];
              c[j] = t;
              i++;
              j--;
            }
        }
      if (target <= j)
        hi = j;
      else if (target >= i)
        lo = i;
      else
        break;
    }
}

static void
selector_compact (Selector *sel)
{
  select_best (sel->c, sel->size, sel->k);
  sel->size = sel->k;
  sel->threshold = sel->c[sel->k - 1].s;
}

static inline void
selector_push (Selector *sel, float s, int i)
{
  sel->c[sel->size++] = (Candidate) { s, i };
  if (sel->size == sel->cap)
    selector_compact (sel);
}

typedef float Floats8 __attribute__ ((vector_size (32)));
typedef int Ints8 __attribute__ ((vector_size (32)));

/* scores (n) of base rows first..first+n-1. Rows come in increasing index,
 * so a score equal to the threshold loses the tie and never enters; the
 * compare is done 16 scores at a time, the common case being none. */
KNN_CLONES static void
selector_scan (Selector *sel, const float *scores, int n, int first)
{
  int j = 0;
  for (; j + 16 <= n; j += 16)
    {
      /* GCC vector extensions: two 8-wide compares and one test, where a
       * plain loop stays scalar */
      const float t = sel->threshold;
      Floats8 a, b;
      memcpy (&a, scores + j, sizeof a);
      memcpy (&b, scores + j + 8, sizeof b);
      Ints8 m = (a > t) | (b > t);
      Ints8 zero = { 0 };
      if (memcmp (&m, &zero, sizeof m) != 0)
        for (int l = 0; l < 16; l++)
          if (scores[j + l] > sel->threshold)
            selector_push (sel, scores[j + l], first + j + l);
    }
  for (; j < n; j++)
    if (scores[j] > sel->threshold)
      selector_push (sel, scores[j], first + j);
}

static int
compare_candidates (const void *a, const void *b)
{
  const Candidate *x = a, *y = b;
  return better (*x, *y) ? -1 : better (*y, *x) ? 1 : 0;
}

/* the best k, sorted best first, padded with -1 / -inf */
static void
selector_emit (Selector *sel, float *sims, int *idx, int k)
{
  int n = MIN (sel->size, sel->k);
  if (sel->size > sel->k)
    select_best (sel->c, sel->size, sel->k);
  qsort (sel->c, n, sizeof (Candidate), compare_candidates);
  for (int j = 0; j < k; j++)
    {
      if (sims)
        sims[j] = j < n ? sel->c[j].s : -INFINITY;
      if (idx)
        idx[j] = j < n ? sel->c[j].i : -1;
    }
}

/* ---- scores ---- */

/* scores (Q, n) = queries (Q, D) . base rows (n, D), streaming the rows */
KNN_CLONES static void
stream_scores (float *scores, const float *queries, int n_queries,
               const float *base, int n, int D)
{
  for (int r = 0; r < n; r++)
    {
      const float *v = base + (size_t) r * D;
      for (int q = 0; q < n_queries; q++)
        {
          const float *f = queries + (size_t) q * D;
          scores[(size_t) q * n + r] = dot16 (v, f, D);
        }
    }
}

typedef struct
{
  const float *queries, *base;
  int n_queries, n_base, dim;
  gboolean streaming;
  /* streaming: one set of (Q) selectors per thread, merged after; products:
   * one shared set, each query's selector touched by one thread */
  Selector **sets;
  int n_sets;
} Search;

/* queries [first, end) against every base row, into the shared selectors */
static void
search_products (const Search *s, Selector *selectors, int first, int end)
{
  const int D = s->dim;
  const int qb = BLOCK_QUERIES, nb = BLOCK_BASE;
  float *scores = engine_alloc (sizeof (float) * qb * nb);
  ENGINE_CHECK (scores != NULL);
  for (int q0 = first; q0 < end; q0 += qb)
    {
      const int nq = MIN (qb, end - q0);
      for (int b0 = 0; b0 < s->n_base; b0 += nb)
        {
          const int n = MIN (nb, s->n_base - b0);
          // scores (nq, n) = queries (nq, D) x base[b0:b0+n] (n, D)^T
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, nq, n, D, 1.0f,
                       s->queries + (size_t) q0 * D, D,
                       s->base + (size_t) b0 * D, D, 0.0f, scores, n);
          for (int q = 0; q < nq; q++)
            selector_scan (&selectors[q0 + q], scores + (size_t) q * n, n, b0);
        }
    }
  engine_free (scores);
}

/* base rows [first, end) against every query, into this thread's
 * selectors */
static void
search_streaming (const Search *s, Selector *selectors, int first, int end)
{
  const int chunk = 1024;
  float *scores = engine_alloc (sizeof (float) * chunk * s->n_queries);
  ENGINE_CHECK (scores != NULL);
  for (int b0 = first; b0 < end; b0 += chunk)
    {
      const int n = MIN (chunk, end - b0);
      stream_scores (scores, s->queries, s->n_queries,
                     s->base + (size_t) b0 * s->dim, n, s->dim);
      for (int q = 0; q < s->n_queries; q++)
        selector_scan (&selectors[q], scores + (size_t) q * n, n, b0);
    }
  engine_free (scores);
}

/* How many of nth threads take a share: one per block of queries begun,
 * or per STREAM_ROWS_PER_THREAD base rows when streaming; with less work a
 * thread costs more than it saves. */
static int
search_threads (const Search *s, int nth)
{
  const int useful = s->streaming
                       ? s->n_base / STREAM_ROWS_PER_THREAD
                       : (s->n_queries + BLOCK_QUERIES - 1) / BLOCK_QUERIES;
  return CLAMP (useful, 1, nth);
}

/* thread ith of nth: streaming splits the base rows, products split the
 * queries in whole blocks of BLOCK_QUERIES. Either way every score is
 * computed by the same kernel with the same operands whatever the split
 * (an sgemm's vector kernels may round a row differently at another place
 * in its block: OpenBLAS's AVX2 ones do, so the blocks stay where they are),
 * and the selection keeps the k best under a total order, so a path's
 * result does not depend on nth (which path runs may: knn.h). */
static void
search_task (void *arg, int ith, int nth)
{
  const Search *s = arg;
  const int active = search_threads (s, nth);
  if (ith >= active)
    return;
  size_t lo, hi;
  if (s->streaming)
    {
      ENGINE_CHECK (ith < s->n_sets);
      engine_split ((size_t) s->n_base, ith, active, &lo, &hi);
      search_streaming (s, s->sets[ith], (int) lo, (int) hi);
    }
  else
    {
      const size_t blocks = ((size_t) s->n_queries + BLOCK_QUERIES - 1)
                            / BLOCK_QUERIES;
      engine_split (blocks, ith, active, &lo, &hi);
      search_products (s, s->sets[0], (int) (lo * BLOCK_QUERIES),
                       (int) MIN (hi * BLOCK_QUERIES, (size_t) s->n_queries));
    }
}

static Selector *
selectors_new (int n, int k)
{
  /* room for k kept plus as many again (and some) before each compaction */
  const int cap = 2 * k + 64;
  Selector *sel = g_new (Selector, n);
  Candidate *c = g_new (Candidate, (size_t) n * cap);
  for (int i = 0; i < n; i++)
    sel[i] = (Selector) { c + (size_t) i * cap, 0, cap, k, -INFINITY };
  return sel;
}

static void
selectors_free (Selector *sel)
{
  g_free (sel[0].c);
  g_free (sel);
}

void
knn_search (float *similarities, int *indices, const float *queries,
            int n_queries, const float *base, int n_base, int dim, int k)
{
  ENGINE_CHECK (n_queries >= 0 && n_base > 0 && dim > 0 && k > 0);
  if (n_queries == 0)
    return;
  const int kk = MIN (k, n_base);
  const int nth = engine_get_threads ();
  Search s = { .queries = queries, .base = base, .n_queries = n_queries,
               .n_base = n_base, .dim = dim,
               .streaming = n_queries < FEW_QUERIES * nth };
  const int active = search_threads (&s, nth);
  s.n_sets = s.streaming ? active : 1;
  s.sets = g_new (Selector *, s.n_sets);
  for (int t = 0; t < s.n_sets; t++)
    s.sets[t] = selectors_new (n_queries, kk);

  /* One thread's worth stays on the caller, without waking the pool. The
   * products are one-thread sgemms inside each engine thread, as the
   * engine's convolutions do (engine_set_threads holds OpenBLAS at one
   * thread). */
  if (active == 1)
    search_task (&s, 0, 1);
  else
    engine_parallel (search_task, &s);

  /* merging per-thread sets: no threshold, the compaction's full
   * comparison decides ties between ranges */
  Selector *const *sets = s.sets;
  for (int t = 1; t < s.n_sets; t++)
    for (int q = 0; q < n_queries; q++)
      for (int j = 0; j < sets[t][q].size; j++)
        selector_push (&sets[0][q], sets[t][q].c[j].s, sets[t][q].c[j].i);
  for (int q = 0; q < n_queries; q++)
    selector_emit (&sets[0][q], similarities ? similarities + (size_t) q * k : NULL,
               indices ? indices + (size_t) q * k : NULL, k);
  for (int t = 0; t < s.n_sets; t++)
    selectors_free (s.sets[t]);
  g_free (s.sets);
}

void
knn_classify (int *predictions, KnnAccuracy *accuracy, const float *queries,
              const int *query_labels, int n_queries, const float *base,
              const int *base_labels, int n_base, int dim, int n_classes,
              int k, float sigma)
{
  ENGINE_CHECK (n_classes > 0 && sigma > 0.0f && k > 0 && n_base > 0);
  const int kk = MIN (k, n_base);
  /* a few thousand queries at a time bounds the (Q, k) neighbour lists */
  const int chunk = 4096;
  float *sims = g_new (float, (size_t) MIN (chunk, MAX (n_queries, 1)) * kk);
  int *idx = g_new (int, (size_t) MIN (chunk, MAX (n_queries, 1)) * kk);
  double *weight = g_new (double, n_classes);
  KnnAccuracy acc = { .n_queries = n_queries };

  for (int c0 = 0; c0 < n_queries; c0 += chunk)
    {
      const int nq = MIN (chunk, n_queries - c0);
      knn_search (sims, idx, queries + (size_t) c0 * dim, nq, base, n_base,
                  dim, kk);
      for (int q = 0; q < nq; q++)
        {
          memset (weight, 0, sizeof (double) * n_classes);
          for (int j = 0; j < kk; j++)
            {
              /* fewer than k rows could be ranked (a NaN row or query):
               * the padding (-1) ends the list, and only ranked rows with
               * a class vote */
              const int row = idx[(size_t) q * kk + j];
              if (row < 0)
                break;
              int label = base_labels[row];
              if (label < 0 || label >= n_classes)
                continue;
              /* test.py: exp (s / sigma), sigma = tau */
              weight[label] += exp ((double) sims[(size_t) q * kk + j] / sigma);
            }
          int best = 0;
          for (int c = 1; c < n_classes; c++)
            if (weight[c] > weight[best])
              best = c;
          if (predictions)
            predictions[c0 + q] = best;
          if (!query_labels)
            continue;
          const int truth = query_labels[c0 + q];
          ENGINE_CHECK (truth >= 0 && truth < n_classes);
          /* rank of the true class: classes ahead of it by weight, ties to
           * the lower class index */
          int ahead = 0;
          for (int c = 0; c < n_classes; c++)
            if (weight[c] > weight[truth] || (weight[c] == weight[truth] && c < truth))
              ahead++;
          acc.top1_correct += ahead == 0;
          acc.top5_correct += ahead < 5;
          acc.nn1_correct += idx[(size_t) q * kk] >= 0
                             && base_labels[idx[(size_t) q * kk]] == truth;
        }
    }
  if (query_labels && n_queries > 0)
    {
      acc.top1 = (double) acc.top1_correct / n_queries;
      acc.top5 = (double) acc.top5_correct / n_queries;
      acc.nn1 = (double) acc.nn1_correct / n_queries;
    }
  if (accuracy)
    *accuracy = acc;
  g_free (sims);
  g_free (idx);
  g_free (weight);
}

void
knn_normalise_rows (float *rows, size_t n, size_t dim)
{
  for (size_t i = 0; i < n; i++)
    {
      float *v = rows + i * dim;
      double norm = 0.0;
      for (size_t d = 0; d < dim; d++)
        norm += (double) v[d] * v[d];
      float inv = norm > 0.0 ? (float) (1.0 / sqrt (norm)) : 0.0f;
      for (size_t d = 0; d < dim; d++)
        v[d] *= inv;
    }
}
