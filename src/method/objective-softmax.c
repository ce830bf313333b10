/* objective-softmax.c: the exact non-parametric softmax (full-softmax.h) as
 * an objective of the registry (objective.h). It keeps nothing across
 * steps, so it adds no metrics.csv column and no checkpoint state. */
#define G_LOG_DOMAIN "instdisc-method"

#include <glib/gi18n-lib.h>

#include "full-softmax.h"
#include "objective.h"
#include "trainer.h"

typedef struct
{
  Objective parent;
  FullSoftmax *softmax;
} SoftmaxObjective;

static char *
softmax_describe (const TrainerConfig *config)
{
  return g_strdup (_("exact softmax"));
}

static Objective *
softmax_create (const TrainerConfig *config, int max_batch, int n)
{
  FullSoftmax *softmax = full_softmax_new (max_batch, n, config->tau);
  if (!softmax)
    return NULL;
  SoftmaxObjective *self = g_new0 (SoftmaxObjective, 1);
  self->softmax = softmax;
  return &self->parent;
}

static void
softmax_free (Objective *objective)
{
  SoftmaxObjective *self = (SoftmaxObjective *) objective;
  full_softmax_free (self->softmax);
  g_free (self);
}

static void
softmax_set_share (Objective *objective, const ObjectiveShare *share)
{
  SoftmaxObjective *self = (SoftmaxObjective *) objective;
  self->softmax->total = share->total;
}

static float
softmax_step (Objective *objective, float *d_features, const float *features,
              const int *indices, int batch, const MemoryBank *bank, Rng *rng,
              double *metrics)
{
  SoftmaxObjective *self = (SoftmaxObjective *) objective;
  float loss = full_softmax_forward_backward (self->softmax, d_features,
                                              features, indices, batch, bank);
  if (distributed_is_single (objective->share.dist))
    return loss;
  /* each row's loss needs only its own row and the bank: the ranks' parts
   * add up to the whole batch's */
  double sum = loss;
  distributed_sum_doubles (objective->share.dist, &sum, 1);
  return (float) sum;
}

const ObjectiveClass objective_softmax = {
  .name = "softmax",
  .label = N_("Exact non-parametric softmax"),
  .summary = N_("the exact non-parametric softmax over all N images"),
  .describe = softmax_describe,
  .create = softmax_create,
  .free = softmax_free,
  .set_share = softmax_set_share,
  .forward_backward = softmax_step,
};
