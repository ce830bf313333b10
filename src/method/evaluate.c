/* evaluate.c: kNN evaluation of a run's embedding. */
#define G_LOG_DOMAIN "instdisc"

#include "evaluate.h"

#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

/* The rows of a set that were embedded: all of them, borrowed, or, when
 * some could not be read (their features are NaN, dataset.h), a packed
 * copy of the others. A test image that cannot be read is not scored, and
 * a training image that cannot be read teaches no classifier. */
typedef struct
{
  int n;
  const float *features;   /* (n, D) */
  const gint32 *labels;    /* (n) */
  float *own_features;     /* what is freed */
  gint32 *own_labels;
} Embedded;

/* rows [first, first + count) of data, whose features (count, D) are
 * given */
static void
embedded_init_rows (Embedded *out, const Dataset *data, int first, int count,
                    const float *features, int dim)
{
  *out = (Embedded) { count, features, data->labels + first, NULL, NULL };
  int n_ok = 0;
  for (int i = first; i < first + count; i++)
    n_ok += dataset_row_is_ok (data, i);
  if (n_ok == count)
    return;
  out->own_features = g_new (float, (gsize) MAX (n_ok, 1) * dim);
  out->own_labels = g_new (gint32, MAX (n_ok, 1));
  int j = 0;
  for (int i = 0; i < count && j < n_ok; i++)
    if (dataset_row_is_ok (data, first + i))
      {
        memcpy (out->own_features + (gsize) j * dim,
                features + (gsize) i * dim, sizeof (float) * dim);
        out->own_labels[j++] = data->labels[first + i];
      }
  *out = (Embedded) { j, out->own_features, out->own_labels,
                      out->own_features, out->own_labels };
}

static void
embedded_init (Embedded *out, const Dataset *data, const float *features,
               int dim)
{
  embedded_init_rows (out, data, 0, data->n, features, dim);
}

static void
embedded_clear (Embedded *self)
{
  g_free (self->own_features);
  g_free (self->own_labels);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Embedded, embedded_clear)

/* knn_classify of the queries against base (n_base rows of train: rows
 * that are NaN do not vote): counts[] = { queries, top-1 right, top-5
 * right, 1-NN right } */
static void
knn_counts (const Embedded *queries, const float *base, const Dataset *train,
            int dim, int k, float sigma, double counts[4])
{
  KnnAccuracy accuracy;
  knn_classify (NULL, &accuracy, queries->features, queries->labels,
                queries->n, base, train->labels, train->n, dim,
                MAX (train->n_classes, 1), k, sigma);
  counts[0] = queries->n;
  counts[1] = accuracy.top1_correct;
  counts[2] = accuracy.top5_correct;
  counts[3] = accuracy.nn1_correct;
}

/* The ranks' counts summed (each scored its share of the queries), as
 * percentages of all the queries: knn_classify's fractions, times 100. */
static void
knn_percentages (Distributed *dist, double counts[4], double *top1,
                 double *top5, double *nn1)
{
  distributed_sum_doubles (dist, counts, 4);
  *top1 = 100.0 * (counts[1] / counts[0]);
  *top5 = 100.0 * (counts[2] / counts[0]);
  if (nn1)
    *nn1 = 100.0 * (counts[3] / counts[0]);
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
evaluate_can_score (const Dataset *train, const Dataset *test)
{
  return train && test && train->labels && train->n_classes > 0
         && test->n > 0 && test->labels && test->n_classes > 0
         && test->n_classes <= train->n_classes;
}

gboolean
trainer_evaluate (Trainer *trainer, const Dataset *train, const Dataset *test,
                  const EvaluateOptions *options, MetricsRow *row,
                  LinearEvalResult *linear, GError **error)
{
  /* evaluation mode reads the running statistics: every rank's */
  trainer_sync_replicas (trainer);
  return evaluate_run_model (trainer_get_model (trainer), train, test,
                             options, row, linear, error);
}

/* Split over a training run's ranks (run-model.h, dist): every rank embeds
 * its share of each set and gets all of it (run_model_embed_shared), then
 * scores its share of the test images against the whole bank, which it
 * holds, and the ranks' counts are summed. The bank is replicated, so
 * this costs four counts per measure; splitting the bank instead would
 * send every query's 200 best of each rank to be merged. The linear
 * classifier is rank 0's alone (its row is the one written). */
gboolean
evaluate_run_model (const RunModel *model, const Dataset *train,
                    const Dataset *test, const EvaluateOptions *options,
                    MetricsRow *row, LinearEvalResult *linear, GError **error)
{
  metrics_row_init (row, "eval");
  if (!evaluate_can_score (train, test))
    return TRUE;   /* nothing to measure without labels */
  Distributed *dist = model->dist ? model->dist : distributed_single ();
  const TrainerConfig *config = &model->config;
  const int D = config->low_dim;
  g_autofree float *test_features = try_features (test->n, D, TRUE, error);
  if (!distributed_agree (dist, test_features != NULL, error)
      || !run_model_embed_shared (model, test, test_features, error))
    return FALSE;
  size_t first, count;
  distributed_share (test->n, dist->rank, dist->size, &first, &count);
  g_auto (Embedded) queries = { 0 };
  embedded_init_rows (&queries, test, (int) first, (int) count,
                      test_features + first * D, D);
  double scored = queries.n;
  distributed_sum_doubles (dist, &scored, 1);
  if (scored == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("%s: none of its images can be read"), test->name);
      return FALSE;
    }
  /* sigma = tau, as the reference's test.py; the bank keeps a row for an
   * image that cannot be read now, learned while it could */
  const MemoryBank *bank = model->bank;
  double counts[4];
  knn_counts (&queries, bank->vectors, train, D, options->k, config->tau,
              counts);
  knn_percentages (dist, counts, &row->knn_top1, &row->knn_top5,
                   &row->knn_1nn);
  if (!options->recompute && !options->linear)
    return TRUE;
  g_autofree float *train_features = try_features (train->n, D, FALSE, error);
  if (!distributed_agree (dist, train_features != NULL, error)
      || !run_model_embed_shared (model, train, train_features, error))
    return FALSE;
  if (options->recompute)
    {
      knn_counts (&queries, train_features, train, D, options->k,
                  config->tau, counts);
      knn_percentages (dist, counts, &row->knn_top1_recomputed,
                       &row->knn_top5_recomputed, NULL);
    }
  if (options->linear)
    {
      gboolean trained = TRUE;
      if (dist->rank == 0)
        {
          LinearEvalResult result;
          g_auto (Embedded) examples = { 0 };
          g_auto (Embedded) all_queries = { 0 };
          embedded_init (&examples, train, train_features, D);
          embedded_init (&all_queries, test, test_features, D);
          trained = linear_eval (&result, examples.features, examples.labels,
                                 examples.n, all_queries.features,
                                 all_queries.labels, all_queries.n, D,
                                 train->n_classes, options->linear_l2,
                                 error);
          if (trained)
            {
              row->linear_top1 = 100.0 * result.top1;
              row->linear_top5 = 100.0 * result.top5;
              if (linear)
                *linear = result;
            }
        }
      if (!distributed_agree (dist, trained, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean raw_pixels_shared (KnnAccuracy *accuracy,
                                   const Dataset *train, const Dataset *test,
                                   const AugmentOptions *augment, int k,
                                   float sigma, gsize max_bytes,
                                   Distributed *dist, GError **error);

gboolean
trainer_evaluate_start (Trainer *trainer, const Dataset *train,
                        const Dataset *test, int k, MetricsRow *untrained,
                        MetricsRow *pixels, GError **error)
{
  g_return_val_if_fail (trainer_get_iteration (trainer) == 0, FALSE);
  metrics_row_init (pixels, "pixels");
  if (!trainer_prepare (trainer, error))
    return FALSE;
  const TrainerConfig *config = trainer_get_config (trainer);
  const gboolean bank_is_features = config->bank_init == BANK_INIT_FEATURES;
  EvaluateOptions options;
  evaluate_options_init (&options);
  options.k = k;
  options.recompute = !bank_is_features;
  if (!trainer_evaluate (trainer, train, test, &options, untrained, NULL,
                         error))
    return FALSE;
  if (bank_is_features)
    {
      untrained->knn_top1_recomputed = untrained->knn_top1;
      untrained->knn_top5_recomputed = untrained->knn_top5;
    }
  untrained->iteration = pixels->iteration = 0;
  untrained->epoch = pixels->epoch = 0;
  if (!evaluate_can_score (train, test))
    return TRUE;

  KnnAccuracy raw;
  g_autoptr (GError) too_large = NULL;
  if (raw_pixels_shared (&raw, train, test, trainer_get_augment (trainer), k,
                         config->tau, EVALUATE_PIXELS_MAX_BYTES,
                         trainer_get_distributed (trainer), &too_large))
    {
      pixels->knn_top1 = 100.0 * raw.top1;
      pixels->knn_top5 = 100.0 * raw.top5;
      pixels->knn_1nn = 100.0 * raw.nn1;
    }
  else if (!g_error_matches (too_large, G_IO_ERROR, G_IO_ERROR_NO_SPACE))
    {
      g_propagate_error (error, g_steal_pointer (&too_large));
      return FALSE;
    }
  return TRUE;
}

float *
evaluate_pixel_vectors (const Dataset *data, const AugmentOptions *augment,
                        GError **error)
{
  const gsize dim = (gsize) data->channels * data->height * data->width;
  float *vectors = g_try_new (float, dim * data->n);
  if (!vectors)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOMEM,
                   _("not enough memory for the pixels of %d images"),
                   data->n);
      return NULL;
    }
  AugmentOptions at_own_size = *augment;
  at_own_size.size = data->height;
  g_autofree guint8 *pixels = g_malloc (dim);
  for (int i = 0; i < data->n; i++)
    {
      g_autoptr (GError) why = NULL;
      if (dataset_row_is_ok (data, i)
          && dataset_get_image (data, i, pixels, &why))
        {
          augment_test (&at_own_size, pixels, data->channels, data->height,
                        data->width, vectors + dim * i);
          continue;
        }
      /* a file that cannot be read: a NaN row, as run_model_embed's */
      if (why && !data->row_status)
        {
          g_propagate_error (error, g_steal_pointer (&why));
          g_free (vectors);
          return NULL;
        }
      dataset_mark_unreadable (data, i);
      for (gsize d = 0; d < dim; d++)
        vectors[dim * i + d] = NAN;
    }
  knn_normalise_rows (vectors, data->n, dim);
  return vectors;
}

/* evaluate_raw_pixels with the test images' scoring split over dist's
 * ranks (each builds every pixel vector: cheap beside the search) */
static gboolean
raw_pixels_shared (KnnAccuracy *accuracy, const Dataset *train,
                   const Dataset *test, const AugmentOptions *augment, int k,
                   float sigma, gsize max_bytes, Distributed *dist,
                   GError **error)
{
  if (!evaluate_can_score (train, test))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _("raw pixels: the data set has no labelled test "
                             "images"));
      return FALSE;
    }
  const gsize dim = (gsize) train->channels * train->height * train->width;
  const gsize bytes = sizeof (float) * dim * ((gsize) train->n + test->n);
  if (max_bytes > 0 && bytes > max_bytes)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                   _("raw pixels: %d + %d images of %zu values would take "
                     "%.0f MB"), train->n, test->n, dim, bytes / 1e6);
      return FALSE;
    }
  g_autofree float *train_pixels = evaluate_pixel_vectors (train, augment,
                                                           error);
  g_autofree float *test_pixels = train_pixels
                                      ? evaluate_pixel_vectors (test, augment,
                                                                error)
                                      : NULL;
  if (!distributed_agree (dist, test_pixels != NULL, error))
    return FALSE;
  size_t first, count;
  distributed_share (test->n, dist->rank, dist->size, &first, &count);
  g_auto (Embedded) queries = { 0 };
  embedded_init_rows (&queries, test, (int) first, (int) count,
                      test_pixels + first * dim, (int) dim);
  double counts[4];
  knn_counts (&queries, train_pixels, train, (int) dim, k, sigma, counts);
  distributed_sum_doubles (dist, counts, 4);
  *accuracy = (KnnAccuracy) {
    .n_queries = (int) counts[0],
    .top1_correct = (int) counts[1],
    .top5_correct = (int) counts[2],
    .nn1_correct = (int) counts[3],
  };
  if (counts[0] > 0)
    {
      accuracy->top1 = counts[1] / counts[0];
      accuracy->top5 = counts[2] / counts[0];
      accuracy->nn1 = counts[3] / counts[0];
    }
  return TRUE;
}

gboolean
evaluate_raw_pixels (KnnAccuracy *accuracy, const Dataset *train,
                     const Dataset *test, const AugmentOptions *augment,
                     int k, float sigma, gsize max_bytes, GError **error)
{
  return raw_pixels_shared (accuracy, train, test, augment, k, sigma,
                            max_bytes, distributed_single (), error);
}
