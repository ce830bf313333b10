/* evaluate.h: the weighted kNN evaluation of a run's embedding, as both the
 * command line and the explorer run it after each epoch (the reference's
 * test.py: the test set embedded with the test transform, classified by its
 * K = 200 nearest rows of the memory bank, sigma = tau). */
#pragma once

#include <glib.h>

#include "dataset.h"
#include "run-dir.h"
#include "trainer.h"

G_BEGIN_DECLS

/* Fills row (kind "eval") with the test set's kNN top-1 / top-5 / 1-NN
 * accuracy in percent against the memory bank and, when recompute, against
 * the training set re-embedded with the test transform (the *_recomputed
 * fields). Leaves the accuracies NAN when the sets have no labels. Uses the
 * trainer's network: call it where the trainer's steps run. */
gboolean trainer_evaluate_knn (Trainer *trainer, const Dataset *train,
                               const Dataset *test, gboolean recompute,
                               MetricsRow *row, GError **error);

G_END_DECLS
