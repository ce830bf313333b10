/* evaluate.c: kNN evaluation of a run's embedding. */
#define G_LOG_DOMAIN "instdisc"

#include "evaluate.h"

#include <glib/gi18n-lib.h>

#include "knn.h"

/* knn_classify of queries against base, as percentages */
static void
knn_percentages (const float *queries, const Dataset *test, const float *base,
                 const Dataset *train, int dim, int k, float sigma,
                 double *top1, double *top5, double *nn1)
{
  KnnAccuracy accuracy;
  knn_classify (NULL, &accuracy, queries, test->labels, test->n, base,
                train->labels, train->n, dim, MAX (train->n_classes, 1), k,
                sigma, 0);
  *top1 = 100.0 * accuracy.top1;
  *top5 = 100.0 * accuracy.top5;
  if (nn1)
    *nn1 = 100.0 * accuracy.nn1;
}

static float *
try_features (int n, int dim, gboolean test, GError **error)
{
  float *features = g_try_new (float, (gsize) n * dim);
  if (!features)
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOMEM,
                 test ? _("not enough memory for %d test features")
                      : _("not enough memory for %d training features"), n);
  return features;
}

void
evaluate_options_init (EvaluateOptions *options)
{
  *options = (EvaluateOptions) { .k = KNN_DEFAULT_K };
}

gboolean
trainer_evaluate (Trainer *trainer, const Dataset *train, const Dataset *test,
                  const EvaluateOptions *options, MetricsRow *row,
                  LinearEvalResult *linear, GError **error)
{
  metrics_row_init (row, "eval");
  if (train->n_classes == 0 || test->n == 0)
    return TRUE;   /* nothing to measure without labels */
  const TrainerConfig *config = trainer_get_config (trainer);
  const int D = config->low_dim;
  g_autofree float *test_features = try_features (test->n, D, TRUE, error);
  if (!test_features || !trainer_embed (trainer, test, test_features, error))
    return FALSE;
  /* sigma = tau, as the reference's test.py */
  const MemoryBank *bank = trainer_get_bank (trainer);
  knn_percentages (test_features, test, bank->vectors, train, D, options->k,
                   config->tau, &row->knn_top1, &row->knn_top5,
                   &row->knn_1nn);
  if (!options->recompute && !options->linear)
    return TRUE;
  g_autofree float *train_features = try_features (train->n, D, FALSE, error);
  if (!train_features || !trainer_embed (trainer, train, train_features, error))
    return FALSE;
  if (options->recompute)
    knn_percentages (test_features, test, train_features, train, D,
                     options->k, config->tau, &row->knn_top1_recomputed,
                     &row->knn_top5_recomputed, NULL);
  if (options->linear)
    {
      LinearEvalResult result;
      if (!linear_eval (&result, train_features, train->labels, train->n,
                        test_features, test->labels, test->n, D,
                        train->n_classes, options->linear_l2, error))
        return FALSE;
      row->linear_top1 = 100.0 * result.top1;
      row->linear_top5 = 100.0 * result.top5;
      if (linear)
        *linear = result;
    }
  return TRUE;
}
