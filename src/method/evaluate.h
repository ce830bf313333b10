/* evaluate.h: the weighted kNN evaluation of a run's embedding, as both the
 * command line and the explorer run it after each epoch (the reference's
 * test.py: the test set embedded with the test transform, classified by its
 * K = 200 nearest rows of the memory bank, sigma = tau), and on request
 * the linear evaluation of the paper's Tables 1 and 2. */
#pragma once

#include <glib.h>

#include "augment.h"
#include "dataset.h"
#include "knn.h"
#include "linear-eval.h"
#include "run-dir.h"
#include "run-model.h"
#include "trainer.h"

G_BEGIN_DECLS

typedef struct
{
  int k;               /* neighbours that vote: KNN_DEFAULT_K (200) */
  gboolean recompute;  /* also kNN against the training images re-embedded
                        * with the test transform */
  gboolean linear;     /* also a linear classifier trained on those
                        * re-embedded features (linear-eval.h) */
  double linear_l2;    /* its weight decay; <= 0 (default): chosen on a
                        * held-out tenth of the training set */
} EvaluateOptions;

/* k 200, kNN against the bank only */
void evaluate_options_init (EvaluateOptions *options);

/* Whether a classifier's accuracy on test means anything: both sets
 * labelled, and no test class that the training set lacks (its images
 * could never be classified right, and the kNN's votes have no place for
 * it). Every accuracy below is left NAN, or refused, otherwise. */
gboolean evaluate_can_score (const Dataset *train, const Dataset *test);

/* Fills row (kind "eval") with the test set's kNN top-1 / top-5 / 1-NN
 * accuracy in percent against the memory bank and, as options ask,
 * against the re-embedded training set (the *_recomputed fields) and the
 * linear classifier's (linear_top1, linear_top5; linear may be NULL, else
 * it receives the linear evaluation's details). Leaves the accuracies NAN
 * when the sets have no labels. Uses the trainer's network: call it where
 * the trainer's steps run.
 * Images that cannot be read (dataset.h: rows marked, or failing now) are
 * left out: a test image is not scored, a training image's recomputed
 * row does not vote and teaches the linear classifier nothing; its bank
 * row, learned while it could be read, still votes. */
gboolean trainer_evaluate (Trainer *trainer, const Dataset *train,
                           const Dataset *test, const EvaluateOptions *options,
                           MetricsRow *row, LinearEvalResult *linear,
                           GError **error);
/* The same on a run's model, a trainer's (trainer_get_model) or one loaded
 * read-only (run-model.h). */
gboolean evaluate_run_model (const RunModel *model, const Dataset *train,
                             const Dataset *test,
                             const EvaluateOptions *options, MetricsRow *row,
                             LinearEvalResult *linear, GError **error);

/* Where a run starts, the two reference points of its kNN curve, both
 * rows of metrics.csv at iteration 0, epoch 0:
 *  - untrained (kind "eval"): trainer_evaluate before the first step, the
 *    untrained network's kNN. The bank is prepared first (trainer_prepare);
 *    when it was started from the untrained network's features it holds
 *    exactly the recomputed features, so its kNN fills both the bank's and
 *    the recomputed columns; otherwise the recomputed columns are computed
 *    and the bank's are the random bank's.
 *  - pixels (kind "pixels"): evaluate_raw_pixels with the same k and sigma
 *    in the bank's columns; left NAN when the pixel matrices would take
 *    more than EVALUATE_PIXELS_MAX_BYTES.
 * Only before the first step. */
#define EVALUATE_PIXELS_MAX_BYTES ((gsize) 1000 * 1000 * 1000)
gboolean trainer_evaluate_start (Trainer *trainer, const Dataset *train,
                                 const Dataset *test, int k,
                                 MetricsRow *untrained, MetricsRow *pixels,
                                 GError **error);

/* The reference point every learned embedding is measured against: raw
 * pixels. data -> (N, C*H*W) rows: each image's test-transformed pixels
 * (normalised, at the data's own size), L2-normalised so that the dot
 * product is the cosine similarity; a row whose image cannot be read is
 * NaN, as in run_model_embed. NULL with an error when memory runs out. */
float *evaluate_pixel_vectors (const Dataset *data,
                               const AugmentOptions *augment, GError **error);

/* The weighted kNN (k neighbours, weights exp (s / sigma)) of the test
 * images' pixel vectors among the training images'. FALSE with an error
 * when the sets have no labels, or when the two (N, C*H*W) matrices would
 * take more than max_bytes (0: no limit). */
gboolean evaluate_raw_pixels (KnnAccuracy *accuracy, const Dataset *train,
                              const Dataset *test,
                              const AugmentOptions *augment, int k,
                              float sigma, gsize max_bytes, GError **error);

G_END_DECLS
