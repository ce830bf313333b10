/* knn.h: nearest neighbours on the unit sphere, and the weighted kNN
 * classifier that evaluates the embedding (the reference's test.py,
 * docs/method.md, "Evaluation: weighted kNN").
 *
 * Features are unit rows, so cosine similarity is a dot product.
 *
 * Ties: neighbours are ordered by similarity, descending; equal similarities
 * by the lower base index first (a duplicated base row is found at its
 * first copy first). Classes with equal weight sums are ordered by the
 * lower class index first. Both rules are deterministic and independent of
 * the number of threads and of the block sizes.
 *
 * Threads: the search runs on the engine's pool (engine/threads.h, sized
 * by engine_set_threads: --threads, the explorer's Preferences). Many
 * queries are split over its threads, each running its own one-thread
 * products and its own selection, so selecting runs in parallel too. Few
 * queries (< 8 per thread) stream the base instead, split over the threads
 * by rows, no BLAS. Small searches stay on the calling thread. Must not be
 * called from inside an engine task (engine_parallel does not nest).
 * Neither split changes a score (a query's row of an sgemm does not depend
 * on the rows beside it; the tests check that), so a path gives the same
 * result on any number of threads; but the two paths sum a dot product in
 * different orders (sgemm, dot16), and which one runs for 8 to 8 x nth - 1
 * queries depends on the thread count, so there similarities may differ in
 * the last bit between thread counts. docs/benchmarks-method.md has the
 * measurements. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define KNN_DEFAULT_K 200

/* queries (Q, D), base (N, D) -> similarities (Q, k) and indices (Q, k) of
 * each query's k most similar base rows, sorted as above. When k > N, or
 * when rows cannot be ranked (a NaN similarity: a NaN in the query or the
 * row), the last columns hold index -1 and similarity -INFINITY. Either
 * output may be NULL. */
void knn_search (float *similarities, int *indices, const float *queries,
                 int n_queries, const float *base, int n_base, int dim, int k);

typedef struct
{
  int n_queries;
  int top1_correct, top5_correct, nn1_correct;
  double top1, top5, nn1;   /* fractions of n_queries */
} KnnAccuracy;

/* Weighted kNN (test.py): for each query its k = min (K, N) nearest base
 * rows, weights exp (s / sigma), per-class weight sums over n_classes
 * classes (labels in 0..n_classes-1, classes may be unused), prediction =
 * the class with the largest sum. Top-5 counts a query as correct when its
 * class is among the min (5, n_classes) largest sums (ranked with the tie
 * rule above, unused classes included at weight 0, as test.py's sort
 * does); 1-NN uses the single nearest row's label. Rows that cannot be
 * ranked, and rows whose label is outside 0..n_classes-1, do not vote.
 *   predictions (Q), may be NULL; query_labels (Q), may be NULL (then
 *   accuracy is left zero); accuracy may be NULL. */
void knn_classify (int *predictions, KnnAccuracy *accuracy,
                   const float *queries, const int *query_labels,
                   int n_queries, const float *base, const int *base_labels,
                   int n_base, int dim, int n_classes, int k, float sigma);

/* rows (N, D) scaled to unit length in place, so that dot products are
 * cosine similarities; an all-zero row stays zero. */
void knn_normalise_rows (float *rows, size_t n, size_t dim);

G_END_DECLS
