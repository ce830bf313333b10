/* linear-eval.h: linear evaluation of an embedding, as the paper's Tables 1
 * and 2 report beside the kNN: a linear classifier trained on the frozen
 * features of the labelled training images, scored on the test images.
 *
 * The classifier is multinomial logistic regression on standardised
 * features (each dimension shifted and scaled by the training set's mean
 * and standard deviation), trained to the minimum of
 *   mean_n -log softmax (W x_n + b)[y_n] + l2 / 2 ||W||^2
 * by L-BFGS (engine/lbfgs.h); the bias is not penalised. This is
 * scikit-learn's LogisticRegression (lbfgs, multinomial) with
 * C = 1 / (l2 N) on the same standardised features.
 *
 * The weight l2 is chosen, unless given, on a split of the training set:
 * every 10th image (index 9, 19, ...) is held out, a classifier is trained
 * on the other nine tenths for each candidate of LINEAR_EVAL_L2_GRID, and
 * the one with the best held-out accuracy (the larger l2 on a tie) is
 * trained again on the whole training set, starting from its minimum on
 * the split. Each candidate starts from the previous one's minimum. The
 * test set is never looked at until the end. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Every fit stops after this many L-BFGS iterations if it has not
 * converged before: on 128-d features of 60,000 images it has then come
 * within a few tenths of a point of the test accuracy of 1000 iterations
 * (docs/learning.md), in a fraction of the time. */
#define LINEAR_EVAL_MAX_ITERATIONS 300

/* the candidates for l2, strongest first */
#define LINEAR_EVAL_L2_GRID { 1e-2, 1e-3, 1e-4, 1e-5, 1e-6 }

typedef struct
{
  int dim, n_classes;
  float *mean, *inv_std;   /* (D) the standardisation */
  float *weights;          /* (C, D) */
  float *bias;             /* (C) */
} LinearClassifier;

void linear_classifier_free (LinearClassifier *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LinearClassifier, linear_classifier_free)

typedef struct
{
  int iterations;          /* L-BFGS iterations */
  double loss;             /* the objective at the end */
  gboolean converged;       /* stopped at a minimum, not at the iteration
                             * limit */
} LinearFitInfo;

/* features (N, D), labels (N) in [0, n_classes) -> a trained classifier;
 * info may be NULL. */
LinearClassifier *linear_classifier_fit (const float *features,
                                         const int *labels, int n, int dim,
                                         int n_classes, double l2,
                                         LinearFitInfo *info);

/* features (N, D) -> scores (N, C), the logits; predictions (N) their
 * argmax (lower class on a tie). Either may be NULL. */
void linear_classifier_predict (const LinearClassifier *self,
                                const float *features, int n, float *scores,
                                int *predictions);

/* The objective above and its gradient at params = (W (C, D) row-major,
 * then b (C)), for features already standardised: exposed for the
 * gradient check. grad has C (D + 1) entries. */
double linear_classifier_objective (const float *features, const int *labels,
                                    int n, int dim, int n_classes, double l2,
                                    const double *params, double *grad);

typedef struct
{
  double l2;               /* the weight used */
  gboolean l2_chosen;      /* chosen on the held-out split */
  double validation_top1;  /* its held-out accuracy (fraction), NAN if given */
  double top1, top5;       /* test accuracy, fractions */
  int iterations;          /* of the final fit */
  double seconds;          /* the whole evaluation */
} LinearEvalResult;

/* Trains on (train, train_labels) and scores (test, test_labels); l2 <= 0
 * chooses it as above. FALSE with an error when a label is outside
 * [0, n_classes) or a set is too small to split. */
gboolean linear_eval (LinearEvalResult *result, const float *train,
                      const int *train_labels, int n_train, const float *test,
                      const int *test_labels, int n_test, int dim,
                      int n_classes, double l2, GError **error);

G_END_DECLS
