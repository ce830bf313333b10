/* novelty.c: how unlike the training images a query is (see novelty.h). */
#define G_LOG_DOMAIN "instdisc-explore"

#include "novelty.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "knn.h"

double
novelty_score (const float *similarities, int k)
{
  /* knn_search pads rows it could not rank with -INFINITY */
  int last = -1;
  for (int j = 0; j < MIN (k, NOVELTY_K); j++)
    if (isfinite (similarities[j]))
      last = j;
  return last >= 0 ? similarities[last] : NAN;
}

static int
compare_floats (const void *a, const void *b)
{
  float x = *(const float *) a, y = *(const float *) b;
  return (x > y) - (x < y);
}

NoveltyCalibration *
novelty_calibrate (const float *features, int n, const int *own_rows,
                   const float *bank, int n_bank, int dim, gint64 iteration)
{
  NoveltyCalibration *self = g_new0 (NoveltyCalibration, 1);
  self->iteration = iteration;
  self->from_test = own_rows == NULL;
  self->scores = g_new (float, MAX (n, 1));
  /* one more neighbour when the image's own row is to be left out */
  int k = MIN (NOVELTY_K + (own_rows ? 1 : 0), n_bank);
  if (n <= 0 || k <= 0)
    return self;
  g_autofree float *sim = g_new (float, (size_t) n * k);
  g_autofree int *idx = g_new (int, (size_t) n * k);
  knn_search (sim, idx, features, n, bank, n_bank, dim, k);
  float kept[NOVELTY_K + 1];
  for (int i = 0; i < n; i++)
    {
      int m = 0;
      for (int j = 0; j < k && m < NOVELTY_K; j++)
        if (!own_rows || idx[(size_t) i * k + j] != own_rows[i])
          kept[m++] = sim[(size_t) i * k + j];
      double score = novelty_score (kept, m);
      if (!isnan (score))
        self->scores[self->n++] = (float) score;
    }
  qsort (self->scores, self->n, sizeof (float), compare_floats);
  return self;
}

void
novelty_calibration_free (NoveltyCalibration *self)
{
  if (!self)
    return;
  g_free (self->scores);
  g_free (self);
}

double
novelty_rank (const NoveltyCalibration *self, double score)
{
  if (!self || self->n == 0 || isnan (score))
    return NAN;
  int below = 0, equal = 0;
  for (int i = 0; i < self->n; i++)
    {
      below += self->scores[i] < score;
      equal += self->scores[i] == score;
    }
  return (below + 0.5 * equal) / self->n;
}

int
novelty_calibration_rows (int n_set, int *rows)
{
  int n = MIN (NOVELTY_CALIBRATION_IMAGES, MAX (n_set, 0));
  for (int j = 0; j < n; j++)
    rows[j] = (int) ((gint64) j * n_set / n);
  return n;
}

NoveltyJudgement
novelty_judge (double rank)
{
  if (isnan (rank))
    return NOVELTY_UNKNOWN;
  if (rank < 0.01)
    return NOVELTY_UNLIKE;
  if (rank < 0.05)
    return NOVELTY_LESS_TYPICAL;
  return NOVELTY_TYPICAL;
}

int
novelty_count_above (const NoveltyCalibration *self, double rank)
{
  return (int) lround ((1.0 - rank) * self->n);
}
