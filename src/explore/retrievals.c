/* retrievals.c: rank queries by the quality of their k nearest neighbours. */
#define G_LOG_DOMAIN "instdisc-explore"

#include "retrievals.h"

#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "knn.h"

/* better (a, b) > 0 when query a ranks above query b, by (n_same, score) */
static int
compare_quality (const Retrievals *self, int a, int b)
{
  if (self->labelled && self->n_same[a] != self->n_same[b])
    return self->n_same[a] > self->n_same[b] ? 1 : -1;
  if (self->score[a] != self->score[b])
    return self->score[a] > self->score[b] ? 1 : -1;
  return 0;
}

static int
compare_best (const void *x, const void *y, gpointer data)
{
  int a = *(const int *) x, b = *(const int *) y;
  int c = compare_quality (data, a, b);
  if (c != 0)
    return -c;
  return (a > b) - (a < b);
}

static int
compare_worst (const void *x, const void *y, gpointer data)
{
  int a = *(const int *) x, b = *(const int *) y;
  int c = compare_quality (data, a, b);
  if (c != 0)
    return c;
  return (a > b) - (a < b);
}

Retrievals *
retrievals_rank (const int *neighbours, const float *similarities,
                 const int *query_labels, int n_queries,
                 const int *bank_labels, int k)
{
  ENGINE_CHECK (n_queries >= 0 && k >= 1);
  Retrievals *self = g_new0 (Retrievals, 1);
  size_t q = (size_t) n_queries;
  self->n_queries = n_queries;
  self->k = k;
  self->neighbours = g_memdup2 (neighbours, q * k * sizeof (int));
  self->similarities = g_memdup2 (similarities, q * k * sizeof (float));
  self->labelled = query_labels != NULL && bank_labels != NULL;
  for (size_t i = 0; self->labelled && i < q; i++)
    if (query_labels[i] < 0)
      self->labelled = FALSE;

  self->score = g_new (float, MAX (q, 1));
  if (self->labelled)
    self->n_same = g_new (int, MAX (q, 1));
  for (size_t i = 0; i < q; i++)
    {
      const int *nb = neighbours + i * k;
      const float *sim = similarities + i * k;
      if (!self->labelled)
        {
          self->score[i] = sim[0];
          continue;
        }
      /* the mean in double, summed in neighbour order, so equal rows give
       * bit-equal scores and tie as they should */
      double sum = 0.0;
      int same = 0, valid = 0;
      for (int j = 0; j < k; j++)
        {
          if (nb[j] < 0)
            continue;
          valid++;
          sum += sim[j];
          same += bank_labels[nb[j]] == query_labels[i];
        }
      self->n_same[i] = same;
      self->score[i] = valid ? (float) (sum / valid) : 0.0f;
    }

  self->best = g_new (int, MAX (q, 1));
  self->worst = g_new (int, MAX (q, 1));
  for (size_t i = 0; i < q; i++)
    self->best[i] = self->worst[i] = (int) i;
  g_qsort_with_data (self->best, n_queries, sizeof (int), compare_best, self);
  g_qsort_with_data (self->worst, n_queries, sizeof (int), compare_worst,
                     self);
  return self;
}

Retrievals *
retrievals_compute (const float *queries, const int *query_labels,
                    int n_queries, const float *bank, const int *bank_labels,
                    int n_bank, int dim, int k)
{
  if (k <= 0)
    k = RETRIEVALS_K;
  size_t q = (size_t) n_queries;
  g_autofree int *nb = g_new (int, MAX (q * k, 1));
  g_autofree float *sim = g_new (float, MAX (q * k, 1));
  if (n_queries > 0)
    knn_search (sim, nb, queries, n_queries, bank, n_bank, dim, k);
  return retrievals_rank (nb, sim, query_labels, n_queries, bank_labels, k);
}

void
retrievals_free (Retrievals *self)
{
  if (!self)
    return;
  g_free (self->neighbours);
  g_free (self->similarities);
  g_free (self->n_same);
  g_free (self->score);
  g_free (self->best);
  g_free (self->worst);
  g_free (self);
}
