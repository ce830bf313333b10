/* trainer.h: instance discrimination training, one step at a time.
 *
 * The trainer owns the network, the optimizer and the memory bank and is
 * their only writer. A step: draw the next batch of the epoch's shuffled
 * order, preprocess it, forward, objective loss and gradient, backward, SGD
 * step, then the memory-bank update with the batch's fresh features
 * (METHOD.md, "Memory bank": no gradient flows into the bank). */
#pragma once

#include <glib.h>

#include "dataset.h"
#include "full-softmax.h"
#include "memory-bank.h"
#include "resnet.h"
#include "sgd.h"

G_BEGIN_DECLS

typedef enum
{
  MODEL_SMALL,     /* widths 16/32/64/128 */
  MODEL_RESNET18,  /* the reference's widths 64/128/256/512 */
} ModelKind;

typedef struct
{
  ModelKind model;
  int low_dim;            /* D, 128 */
  float tau;              /* softmax temperature */
  float bank_momentum;    /* m of the memory update, 0.5 */
  float lr, momentum, weight_decay;
  int batch_size;
  guint64 seed;
} TrainerConfig;

/* The reference's CIFAR settings with the exact softmax (tau 0.1). */
void trainer_config_init_default (TrainerConfig *config);

typedef struct
{
  gint64 iteration;       /* steps done, counting this one */
  int epoch;              /* 0-based epoch this step belongs to */
  double epoch_progress;  /* fraction of the epoch done after this step */
  float loss;
  float lr;
} TrainerStepInfo;

typedef struct _Trainer Trainer;

/* data is borrowed and must outlive the trainer. */
Trainer *trainer_new (const TrainerConfig *config, const Dataset *data,
                      GError **error);
void trainer_free (Trainer *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Trainer, trainer_free)

/* One training step. FALSE with an error when the loss is not finite (the
 * network and bank are then those of before the step's update). */
gboolean trainer_step (Trainer *self, TrainerStepInfo *info, GError **error);

int trainer_steps_per_epoch (const Trainer *self);
ResNet *trainer_get_network (Trainer *self);
MemoryBank *trainer_get_bank (Trainer *self);

G_END_DECLS
