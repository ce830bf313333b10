/* evaluate.h: the weighted kNN evaluation of a run's embedding, as both the
 * command line and the explorer run it after each epoch (the reference's
 * test.py: the test set embedded with the test transform, classified by its
 * K = 200 nearest rows of the memory bank, sigma = tau), and on request
 * the linear evaluation of the paper's Tables 1 and 2. */
#pragma once

#include <glib.h>

#include "dataset.h"
#include "linear-eval.h"
#include "run-dir.h"
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

/* Fills row (kind "eval") with the test set's kNN top-1 / top-5 / 1-NN
 * accuracy in percent against the memory bank and, as options ask,
 * against the re-embedded training set (the *_recomputed fields) and the
 * linear classifier's (linear_top1, linear_top5; linear may be NULL, else
 * it receives the linear evaluation's details). Leaves the accuracies NAN
 * when the sets have no labels. Uses the trainer's network: call it where
 * the trainer's steps run. */
gboolean trainer_evaluate (Trainer *trainer, const Dataset *train,
                           const Dataset *test, const EvaluateOptions *options,
                           MetricsRow *row, LinearEvalResult *linear,
                           GError **error);

G_END_DECLS
