/* tsne.h: Barnes-Hut t-SNE of unit rows, in steps, for a live 2D map.
 *
 * van der Maaten, "Accelerating t-SNE using tree-based algorithms" (JMLR
 * 2014): input affinities only between each point and its 3 x perplexity
 * nearest neighbours (cosine similarity on the unit sphere, so squared
 * distance 2 - 2 s, found with knn_search), calibrated to the perplexity
 * and symmetrised; the attraction runs over those sparse pairs and the
 * repulsion over a quadtree whose far cells act as one point each (theta).
 * Gradient descent with momentum (0.5, then 0.8) and per-coordinate gains
 * (+0.2 when the gradient changes sign, x0.8 otherwise, at least 0.01), as
 * his reference code does, with early exaggeration (12 for 250 iterations).
 * The learning rate defaults to max (N / 12, 200) (Belkina et al. 2019):
 * van der Maaten's fixed 200 leaves 60,000 points half-converged after
 * 1,000 iterations.
 *
 * The optimisation runs in steps (tsne_step) so a worker can hand out the
 * layout between them and stop when cancelled. Warm start: a layout from
 * an earlier run (of an older bank) is taken as is, without exaggeration
 * and with the final momentum, so points move only as far as the new
 * affinities ask and stay where the eye left them.
 *
 * Large sets: above max_points rows a seeded random sample is laid out and
 * every other row is placed next to its most similar sample row among a
 * few thousand "landmarks" (one knn_search), so every point still has a
 * place on the map.
 *
 * Speed: the repulsion walks a flattened copy of the quadtree (non-empty
 * nodes in depth-first order, 32 bytes each, no stack), and the points are
 * taken in Morton (Z-curve) order of their place, so neighbouring points
 * walk nearly the same nodes while they are in cache: 2.5 times less CPU
 * an iteration than a walk of the insertion-ordered tree in row order at
 * 60,000 points (docs/performance-gui.md).
 *
 * Threads: a TSne is used by one thread at a time, never from inside an
 * engine task. Its kNN search and, inside a step, the forces run on the
 * engine's pool (engine/threads.h, sized by engine_set_threads), whose
 * threads take blocks of 512 points in that order as they finish the
 * last; Z is summed block by block in order, so a seeded run gives the
 * same layout every time, and the forces do not depend on the number of
 * threads (the kNN search's similarities may, in the last bit: knn.h,
 * and the layout with them). When the trainer has the pool, the t-SNE's
 * thread runs every share itself (engine_parallel), so the two never ask
 * for more threads than the pool has.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct
{
  double perplexity;          /* 30 */
  double theta;               /* Barnes-Hut accuracy, 0.5 */
  int n_iterations;           /* 1000 (warm start: 300) */
  int exaggeration_iterations;/* 250, without warm start */
  double exaggeration;        /* 12 */
  double learning_rate;       /* 0: max (N / exaggeration, 200) */
  int max_points;             /* 0: no limit; default 100,000 */
  guint64 seed;               /* initial layout and subsample */
} TSneOptions;

void tsne_options_init_default (TSneOptions *options);

typedef struct _TSne TSne;

/* How far tsne_new's neighbour search is: rows_done of rows_total rows
 * (the rows laid out) have their neighbours. Called on tsne_new's thread
 * after each block of rows, and once with rows_done == rows_total. */
typedef void (*TSneProgressFunc) (int rows_done, int rows_total,
                                  gpointer user_data);

/* data (N, D) unit rows. init (N, 2) may be NULL (a small random layout),
 * else with warm_start FALSE it is taken as a shape only (rescaled to a
 * small spread, e.g. a PCA layout), and with warm_start TRUE as the
 * starting layout itself. Computes the affinities (the kNN search is the
 * slow part: N^2 D multiply-adds, a minute or two at 60,000 points), so
 * call it from a worker; progress (may be NULL) hears how far that search
 * is. Returns NULL only when cancelled. */
TSne *tsne_new (const float *data, int n, int dim, const float *init,
                gboolean warm_start, const TSneOptions *options,
                TSneProgressFunc progress, gpointer progress_data,
                GCancellable *cancellable);
void tsne_free (TSne *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TSne, tsne_free)

/* Runs up to n_iterations more iterations (fewer at the end); returns how
 * many it ran (0 when finished). */
int tsne_step (TSne *self, int n_iterations);
int tsne_get_iteration (const TSne *self);
int tsne_get_n_iterations (const TSne *self);
gboolean tsne_is_done (const TSne *self);
/* The Kullback-Leibler divergence of the current layout, estimated with
 * the tree's normaliser (for tests and a progress label). */
double tsne_get_kl (TSne *self);

/* layout (N, 2) for every row, including the rows outside the sample. */
void tsne_get_layout (const TSne *self, float *layout);
/* how many rows the optimisation lays out (N, or max_points) */
int tsne_get_n_sampled (const TSne *self);

G_END_DECLS
