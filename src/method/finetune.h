/* finetune.h: semi-supervised evaluation, as in the paper's experiments: a
 * network (learned without labels, or freshly initialised for the
 * comparison) is trained with a classifier on a small labelled part of the
 * training set, then scored on the test set.
 *
 * The labelled part: the same number of images from every class
 * (fraction x N / classes, at least one), the first ones of a seeded
 * shuffle, so a seed names the subset and both networks of a comparison
 * see the same images.
 *
 * The classifier on the unit embedding z: logits = W z / tau + b, with W's
 * rows started at the labelled images' class means (normalised, from the
 * network before fine-tuning) and b at 0; a nearest-class-mean classifier
 * with the run's temperature to start from, for either network. Every
 * parameter, the network's and the classifier's, is trained by SGD with
 * momentum and weight decay on the softmax cross-entropy, with the
 * training augmentation, batch-norm in training mode, and a cosine
 * learning rate over the steps. */
#pragma once

#include <glib.h>

#include "augment.h"
#include "dataset.h"
#include "resnet.h"

G_BEGIN_DECLS

typedef struct
{
  double fraction;         /* of the training set that is labelled, (0, 1] */
  int steps;               /* SGD steps */
  int batch_size;          /* at most the network's max_batch */
  float lr, momentum, weight_decay;
  float tau;               /* the classifier's temperature */
  guint64 seed;            /* the subset, the order and the augmentation */
} FinetuneOptions;

/* fraction 0.1, 1000 steps, batch 128, lr 0.03, momentum 0.9, weight
 * decay 5e-4, tau 0.1, seed 1 */
void finetune_options_init_default (FinetuneOptions *options);

typedef struct
{
  int n_labelled;          /* images in the labelled part */
  double start_top1;       /* test top-1 of the starting classifier */
  double top1, top5;       /* test accuracy after fine-tuning, fractions */
  float last_loss;         /* mean loss over the last 10% of the steps */
  double seconds;
} FinetuneResult;

/* Called after each step with the step (1-based), the steps in all and the
 * step's loss. */
typedef void (*FinetuneProgress) (int step, int steps, float loss,
                                  gpointer user_data);

/* The labelled indices (n_labelled of them, in shuffled order) for these
 * options, rows that cannot be read left out (dataset.h); NULL with an
 * error when the set has no labels. The test set's unreadable images are
 * not scored. */
int *finetune_labelled_subset (const Dataset *train, double fraction,
                               guint64 seed, int *n_labelled, GError **error);

/* Fine-tunes net in place on the labelled part of train, scores test.
 * augment gives the training and test transforms. */
gboolean finetune_network (ResNet *net, const AugmentOptions *augment,
                           const Dataset *train, const Dataset *test,
                           const FinetuneOptions *options,
                           FinetuneProgress progress, gpointer user_data,
                           FinetuneResult *result, GError **error);

G_END_DECLS
