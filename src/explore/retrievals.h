/* retrievals.h: the best and worst retrievals of a set of queries against
 * the memory bank, the two halves of the paper's Figure 5.
 *
 * Each query's k nearest bank rows (cosine similarity, knn_search). With
 * labels, a query is better the more of its k neighbours share its label,
 * and among equals the higher the mean similarity of its k neighbours (a
 * retrieval that is both right and confident is the best one to show);
 * without labels, the higher its top-1 similarity. Remaining ties go to
 * the lower query index. The worst-first list is exactly the reverse of
 * the best-first one except for that last tie rule (lower index first in
 * both), so the worst queries are the ones with the fewest matching
 * neighbours, least similar first: the clearest failures.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RETRIEVALS_K 10

typedef struct
{
  int n_queries, k;
  gboolean labelled;     /* ranked by matching labels */
  int *neighbours;       /* (Q, k) bank rows, most similar first */
  float *similarities;   /* (Q, k) */
  int *n_same;           /* (Q) neighbours sharing the query's label, or
                            NULL when unlabelled */
  float *score;          /* (Q) the tie-break: mean similarity (labelled)
                            or top-1 similarity (unlabelled) */
  int *best;             /* (Q) query indices, best first */
  int *worst;            /* (Q) query indices, worst first */
} Retrievals;

/* queries (Q, D) and bank (N, D) unit rows. query_labels (Q) and
 * bank_labels (N) may be NULL; the ranking uses labels only when both are
 * given and every query label is >= 0. k <= 0 means RETRIEVALS_K. The
 * search runs on the engine's threads (knn.h). */
Retrievals *retrievals_compute (const float *queries, const int *query_labels,
                                int n_queries, const float *bank,
                                const int *bank_labels, int n_bank, int dim,
                                int k);

/* Ranks already known neighbours (Q, k) (bank rows, similarities sorted
 * descending); copies them. The ranking half of retrievals_compute. */
Retrievals *retrievals_rank (const int *neighbours, const float *similarities,
                             const int *query_labels, int n_queries,
                             const int *bank_labels, int k);

void retrievals_free (Retrievals *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Retrievals, retrievals_free)

G_END_DECLS
