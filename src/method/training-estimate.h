/* training-estimate.h: how long a training will take, said before it
 * starts ("about 50 minutes").
 *
 * An estimate, from the speeds of the training step, the embedding and
 * the kNN search measured on the project's two-core machine with nothing
 * else running (training-estimate.c has the numbers and where they were
 * measured): a busier machine takes longer, a faster one less. Images
 * larger than Fashion-MNIST's 28 x 28 are taken to cost in proportion to
 * their pixels, the exact softmax in proportion to the training images,
 * NCE to its K. */
#pragma once

#include <glib.h>

#include "trainer.h"

G_BEGIN_DECLS

/* Seconds a training of config takes on n_train training images of
 * side x side pixels, with the kNN evaluation on n_test test images after
 * each epoch (0: none), from now to its last step when steps_done steps
 * are done already. A new run (steps_done 0) also fills the memory bank
 * from the untrained network's features (BANK_INIT_FEATURES) and
 * measures the two reference points first. */
double training_estimate_seconds (const TrainerConfig *config, int n_train,
                                  int n_test, int side, gint64 steps_done);

/* The same for a run that ends at step steps_total (`instdisc train
 * --steps`), its evaluations of recomputed features when recompute. */
double training_estimate_run_seconds (const TrainerConfig *config,
                                      int n_train, int n_test, int side,
                                      gint64 steps_done, gint64 steps_total,
                                      gboolean recompute);

/* Seconds one training step of config takes (batch_size images). */
double training_estimate_step_seconds (const TrainerConfig *config,
                                       int n_train, int side);

/* Seconds one evaluation after an epoch takes: the test set embedded and
 * its kNN over the bank, and with recompute the training set embedded
 * and the kNN over those features too. */
double training_estimate_evaluation_seconds (const TrainerConfig *config,
                                             int n_train, int n_test,
                                             int side, gboolean recompute);

/* The length for people, translated: "less than a minute", "about 25
 * minutes", "about 3 hours", "about 2 days". (transfer full) */
char *training_estimate_describe (double seconds);

/* What the user's OPENBLAS_CORETYPE costs, when it keeps OpenBLAS on
 * narrower kernels than this processor runs (blas-kernels.h), so that
 * training takes longer than the estimates above: one translated sentence
 * without a final stop, for the programs to show beside their estimate;
 * NULL when the variable is unset or costs nothing. (transfer full) */
char *training_estimate_kernels_note (void);

G_END_DECLS
