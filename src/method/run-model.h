/* run-model.h: a run's learned embedding, read-only.
 *
 * What embeds images and answers neighbour queries, and nothing of
 * training: the network in evaluation mode with the test transform, the
 * memory bank, the iteration they come from. It has no optimizer state, no
 * objective buffers (the exact softmax's B x N logits are 655 MB at
 * ImageNet's N), no loader. `instdisc eval`, `export`, `query`, `embed`,
 * `finetune` and the explorer's inference copy load one from a checkpoint
 * (its network tensors and bank alone); a Trainer lends its own network and
 * bank as one (trainer_get_model), so evaluations are written once. */
#pragma once

#include <glib.h>

#include "augment.h"
#include "dataset.h"
#include "distributed.h"
#include "memory-bank.h"
#include "resnet.h"
#include "trainer.h"

G_BEGIN_DECLS

struct _RunModel
{
  TrainerConfig config;        /* the run's settings */
  const Dataset *data;         /* the training set the bank indexes
                                * (borrowed) */
  ResNet *net;
  AugmentOptions augment;      /* whose test transform embeds */
  MemoryBank *bank;            /* (N, D) unit rows */
  gint64 iteration;            /* the steps the weights and bank have had */
  /* the ranks a training run is split over (distributed.h), which its
   * evaluations split their work over too; NULL: one process */
  Distributed *dist;
  /* private */
  gboolean borrowed;           /* net and bank are a trainer's */
  /* asked between the batches of run_model_embed with the images done
   * and the pass's total: TRUE stops it (trainer_set_batch_hook) */
  gboolean (*between_batches) (gpointer data, int done, int total);
  gpointer between_batches_data;
};

/* A model of config's network for data's images, weights not yet loaded
 * (run_model_load). data is borrowed and must outlive it. Its network
 * only evaluates (resnet_new_sized), in batches of
 * run_model_inference_batch images. */
RunModel *run_model_new (const TrainerConfig *config, const Dataset *data,
                         GError **error);
void run_model_free (RunModel *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RunModel, run_model_free)

/* Reads the network's tensors, the memory bank and the iteration of a
 * checkpoint (trainer_save_checkpoint's, or a PyTorch state_dict with a
 * memory.bank); the optimizer's and the objective's tensors are not read.
 * On failure self is unchanged. */
gboolean run_model_load (RunModel *self, const char *path, GError **error);

/* Copies every parameter and buffer (batch norm's running statistics) of
 * net, which has self's architecture, into self's network. */
void run_model_copy_network (RunModel *self, const ResNet *net);

/* How many images a run model's network embeds at once: the run's batch,
 * but no more than hold as many pixels as 256 images of 32 x 32 (at 224
 * pixels, 5 images). */
int run_model_inference_batch (const TrainerConfig *config,
                               const Dataset *data);

/* A new network of self's architecture that trains at batches of up to
 * max_batch, with self's parameters and buffers: for what trains on from
 * a run (`instdisc finetune`). NULL when memory runs out. */
ResNet *run_model_new_network (const RunModel *self, int max_batch);

/* data's images [0, n) embedded with the test transform in evaluation
 * mode: features (n, D), unit rows. data must have the training images'
 * channels and size. Between batches it asks the cancel function, if one
 * is set: TRUE ends it with G_IO_ERROR_CANCELLED.
 * A row that cannot be read (marked in data, or failing now: it is marked
 * then, dataset_mark_unreadable) gets a row of NaN, which no kNN ranks;
 * callers that need every row finite check dataset_row_is_ok after the
 * call. Only an image of an in-memory set failing is an error. */
gboolean run_model_embed (const RunModel *self, const Dataset *data,
                          float *features, GError **error);

/* The same, asking between_batches (may be NULL) instead of the model's
 * own: for callers that share one model between threads, whose hooks
 * must not pass through the shared struct. */
typedef gboolean (*RunModelBatchHook) (gpointer data, int done, int total);
gboolean run_model_embed_with_hook (const RunModel *self,
                                    const Dataset *data, float *features,
                                    RunModelBatchHook between_batches,
                                    gpointer hook_data, GError **error);
/* The same for data's rows [first, first + count) only: features
 * (count, D). The hook sees the images done of count. */
gboolean run_model_embed_rows (const RunModel *self, const Dataset *data,
                               int first, int count, float *features,
                               RunModelBatchHook between_batches,
                               gpointer hook_data, GError **error);

/* run_model_embed with the work split over the model's ranks
 * (self->dist; collective): each embeds its share of data's rows and
 * every rank gets all of features (n, D), and the same rows of data
 * marked unreadable. Errors are every rank's (distributed_agree). One
 * process: run_model_embed. */
gboolean run_model_embed_shared (const RunModel *self, const Dataset *data,
                                 float *features, GError **error);

G_END_DECLS
