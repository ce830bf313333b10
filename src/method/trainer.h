/* trainer.h: instance discrimination training, one step at a time.
 *
 * The trainer owns the network, the optimizer and the memory bank and is
 * their only writer. A step: the next batch of the epoch's shuffled order,
 * augmented; forward; the objective's loss and gradient (exact softmax or
 * NCE); backward; the SGD step; then the memory-bank update with the batch's
 * fresh features (no gradient flows into the bank: docs/method.md, "Memory
 * bank"). The network comes from the model registry (model.h), the
 * objective from the objective registry (objective.h): the trainer names
 * neither, it calls their tables.
 *
 * All randomness is derived from the seed and counters (the epoch for the
 * shuffle, the epoch and position for augmentation, the iteration for the
 * objective's draws such as NCE's noise), so a run resumed from a checkpoint continues exactly as the same
 * run would have without the interruption. */
#pragma once

#include <glib.h>

#include "augment.h"
#include "dataset.h"
#include "distributed.h"
#include "memory-bank.h"
#include "model.h"
#include "nce.h"
#include "objective.h"
#include "resnet.h"
#include "sgd.h"

G_BEGIN_DECLS

typedef enum
{
  BANK_INIT_RANDOM,   /* the reference: uniform in [-s, s], not unit rows */
  BANK_INIT_FEATURES, /* the initial network's features (test transform);
                       * the default: without the reference's noise the
                       * features pass the untrained network's kNN in
                       * epoch 1 instead of epoch 4 (docs/learning.md) */
} BankInit;

typedef enum
{
  SCHEDULE_STEP,      /* lr x drop_factor at each epoch of lr_drops */
  SCHEDULE_COSINE,    /* lr x (1 + cos (pi t / T)) / 2 over all iterations */
} ScheduleKind;

#define TRAINER_MAX_LR_DROPS 8

/* The model and the objective are registry entries, not enums: the
 * trainer calls them without a switch, and a new one is added without
 * touching this struct. Their names are what config.ini stores.
 * Settings of a single objective stay plain fields (nce_k, nce_z), so
 * config.ini keeps one flat [training] group; the objective checks its
 * own. */
typedef struct _TrainerConfig TrainerConfig;
struct _TrainerConfig
{
  const ModelClass *model;          /* "small" (widths 16-128), "resnet18" */
  int low_dim;              /* D, 128 */
  const ObjectiveClass *objective;  /* "softmax", "nce" */
  int nce_k;                /* NCE: noise samples, 4096 */
  NceZMode nce_z;           /* NCE: fixed (reference) or running estimate */
  float tau;                /* temperature */
  float bank_momentum;      /* m of the memory update, 0.5 */
  BankInit bank_init;       /* how the bank starts, features (default) */
  float lr, momentum, weight_decay;
  ScheduleKind schedule;
  int lr_drops[TRAINER_MAX_LR_DROPS];  /* 0-based epochs, ascending */
  int n_lr_drops;
  float lr_drop_factor;     /* 0.1 */
  int warmup_epochs;        /* linear warm-up of lr from 0, 0 (reference) */
  int batch_size;
  int epochs;
  guint64 seed;
  /* augmentation, over the data set's preset (augment.h) */
  float crop_scale_min, crop_scale_max;  /* RandomResizedCrop's area
                                          * fraction, 0.2-1 (reference) */
  float jitter;             /* colour-jitter strength of every step the
                             * preset uses, 0.4 (reference); 0 turns it off */
  /* the paper's proximal regularisation, not in the
   * reference's code: lambda ||f_i - v_i||^2 added to each image's loss,
   * pulling the fresh feature towards its bank row; 0 turns it off */
  float proximal;
};

typedef enum
{
  TRAINER_RECIPE_DEFAULT,    /* instdisc's own, tuned on Fashion-MNIST */
  TRAINER_RECIPE_REFERENCE,  /* the reference code's CIFAR recipe */
  TRAINER_RECIPE_IMAGENET,   /* the reference code's ImageNet recipe */
} TrainerRecipe;

/* The image side the ImageNet recipe trains at (the data's, not the
 * trainer's setting: instdisc train's --image-size starts from it). */
#define TRAINER_IMAGENET_IMAGE_SIZE 224

/* The reference's CIFAR recipe with the exact softmax at tau 0.1: small
 * ResNet, D 128, the bank started from noise, m 0.5, SGD lr 0.03 momentum
 * 0.9 weight decay 5e-4, step drops x0.1 at epochs 120 and 160, batch 128,
 * 200 epochs, crop scale 0.2-1, jitter 0.4, seed 1. */
void trainer_config_init_reference (TrainerConfig *config);
/* The default recipe: the reference's, with the bank started from the
 * untrained network's features, lr 0.06 warmed up over the first epoch
 * and a cosine schedule over 15 epochs (docs/learning.md says how it was
 * chosen). */
void trainer_config_init_default (TrainerConfig *config);
/* The reference's ImageNet recipe (its main.py's defaults and
 * lemniscate's README): ResNet-18 with the ImageNet stem, NCE with K 4096
 * at tau 0.07, the bank started from noise, m 0.5, SGD lr 0.03 momentum
 * 0.9 weight decay 1e-4, drops x0.1 at epochs 120 and 160, batch 256, 200
 * epochs, crop scale 0.2-1, jitter 0.4. Its augmentation (grey before
 * jitter, flip, ImageNet mean and std) is the folder preset
 * (augment_options_init_imagenet); its 224-pixel crops from the full
 * pictures follow from TRAINER_IMAGENET_IMAGE_SIZE (DATASET_DECODE_AUTO). */
void trainer_config_init_imagenet (TrainerConfig *config);
void trainer_config_init_recipe (TrainerConfig *config, TrainerRecipe recipe);
/* "default" or "reference"; FALSE for another name */
gboolean trainer_recipe_from_string (const char *name, int *recipe);

#define TRAINER_CONFIG_GROUP "training"

/* config.ini's [training] group, every field by name; the model and the
 * objective by their registry names. Reading fills the whole config: a key
 * that a run written before it existed lacks takes the reference recipe's
 * value, which is what such a run used, whatever today's defaults are. A
 * name no registry entry has is an error that lists the known ones (the
 * caller adds the file's name: trainer_run_load_config). */
void trainer_config_to_keyfile (const TrainerConfig *config, GKeyFile *file);
gboolean trainer_config_from_keyfile (TrainerConfig *config, GKeyFile *file,
                                      GError **error);
const char *schedule_kind_to_string (ScheduleKind kind);
const char *bank_init_to_string (BankInit init);

/* ---- the rules a configuration is held to (trainer-check.c) ---- */

/* trainer_new's check of config for training on data: the network takes
 * its images, then each setting's rule, the first broken one reported. */
gboolean trainer_config_check (const TrainerConfig *config,
                               const Dataset *data, GError **error);
/* The same rules one setting at a time, for a front end that shows each
 * problem beside its field (the New Training dialog) rather than the
 * first one. setting: a [training] key of config.ini: tau, lr,
 * weight_decay, momentum, lr_drop_factor, lr_drops, bank_momentum,
 * epochs, warmup_epochs, batch_size, crop_scale_min or crop_scale_max
 * (checked as a pair), jitter, proximal, or a key of the objective's
 * settings (its check); any other key passes. n_images and data_name:
 * the training set's size and name, or 0 and NULL while it is not known:
 * the batch size and the objective's settings then check only what does
 * not depend on it. FALSE with a message that gives the bounds and the
 * value: "the learning rate must be in [0, 10], not 20". */
gboolean trainer_config_check_setting (const TrainerConfig *config,
                                       const char *setting, int n_images,
                                       const char *data_name, GError **error);
/* The rule trainer_config_check_setting holds setting to, in words, for a
 * person who typed something that is not a number at all: "the learning
 * rate must be in [0, 10]". NULL for the objective's settings and keys
 * without a rule. (transfer full) */
char *trainer_config_describe_rule (const TrainerConfig *config,
                                    const char *setting, int n_images,
                                    const char *data_name);
/* Whether config's network takes images of channels x height x width
 * (the reference's pooling needs 25 x 25 or more); the message starts
 * with data_name. */
gboolean trainer_config_check_input (const TrainerConfig *config,
                                     int channels, int height, int width,
                                     const char *data_name, GError **error);

/* The learning rate at this iteration (0-based) of a run. */
float trainer_config_lr_at (const TrainerConfig *config, gint64 iteration,
                            int steps_per_epoch);

typedef struct
{
  gint64 iteration;       /* steps done, counting this one */
  int epoch;              /* 0-based epoch this step belongs to */
  int step_in_epoch;      /* 1-based position of this step in its epoch */
  float loss;
  float lr;
  /* the objective's metrics.csv columns (config->objective->metrics), in
   * that order */
  double metrics[OBJECTIVE_MAX_METRICS];
} TrainerStepInfo;

typedef struct _Trainer Trainer;
typedef struct _RunModel RunModel;   /* run-model.h */

/* data is borrowed and must outlive the trainer. */
Trainer *trainer_new (const TrainerConfig *config, const Dataset *data,
                      GError **error);
/* The same as one rank of data-parallel training (distributed.h,
 * docs/distributed.md): each step takes this rank's share of the global
 * batch of config->batch_size (which must split evenly over the ranks) and
 * works with the others in every step; the network, optimizer and bank
 * stay identical on every rank. Everything that computes (trainer_step,
 * trainer_prepare, trainer_evaluate, trainer_save_checkpoint) is then
 * collective: every rank calls it, in the same order. Rank 0 alone writes
 * the checkpoint. Batch norm's statistics are each rank's own share's, as
 * PyTorch's DistributedDataParallel has them without SyncBatchNorm; the
 * running statistics are averaged over the ranks before each checkpoint
 * and evaluation. dist is borrowed. */
Trainer *trainer_new_distributed (const TrainerConfig *config,
                                  const Dataset *data, Distributed *dist,
                                  GError **error);
/* The ranks the batch is split over: distributed_single () for
 * trainer_new's. */
Distributed *trainer_get_distributed (Trainer *self);
/* Before a checkpoint or an evaluation on several ranks (collective):
 * batch norm's running statistics averaged over the ranks, and the
 * replicas checked to be identical (repaired from rank 0's, with a
 * warning, if they ever are not). Nothing in one process.
 * trainer_save_checkpoint and trainer_evaluate call it. */
void trainer_sync_replicas (Trainer *self);
/* One process that computes what `groups` ranks compute: batch norm's
 * statistics per group of B / groups images (resnet.h), each group the
 * share a rank would hold. A run on P ranks and one process with P groups
 * are the same arithmetic (tests/distributed holds them to it). FALSE when
 * the batch does not split into groups or memory runs out. */
gboolean trainer_set_batch_norm_groups (Trainer *self, int groups);
void trainer_free (Trainer *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Trainer, trainer_free)

/* Worker threads that decode and augment the next batches (default 1;
 * 0 prepares each batch inside trainer_step). Takes effect when the loader
 * (re)starts: before the first step or after a checkpoint load. */
void trainer_set_workers (Trainer *self, int n_workers);

/* TRUE when the bank holds what training starts from: filled from the
 * untrained network's features (trainer_prepare has run, or a checkpoint
 * was loaded), or the reference's random start. Before that a map or a
 * query of the bank would show noise that training never uses. */
gboolean trainer_bank_is_ready (const Trainer *self);

/* One training step. FALSE with an error when the loss is not finite; the
 * network, optimizer and bank are then left as they were before the step. */
gboolean trainer_step (Trainer *self, TrainerStepInfo *info, GError **error);
/* The work the first step does before it trains: with BANK_INIT_FEATURES,
 * one pass over the training set to fill the bank. trainer_step calls it;
 * calling it first keeps that pass out of the first step's time. Does
 * nothing after the first step or when done already. */
gboolean trainer_prepare (Trainer *self, GError **error);

int trainer_steps_per_epoch (const Trainer *self);
/* the same for a configuration on n_images training images */
int trainer_config_steps_per_epoch (const TrainerConfig *config,
                                    int n_images);
gint64 trainer_get_iteration (const Trainer *self);
const TrainerConfig *trainer_get_config (const Trainer *self);
ResNet *trainer_get_network (Trainer *self);
/* the training and test transforms the trainer uses */
const AugmentOptions *trainer_get_augment (const Trainer *self);
/* the network a configuration's model builds for a data set's images */
ResNetConfig trainer_network_config (const TrainerConfig *config,
                                     const Dataset *data);
/* the training and test transforms a configuration uses on a data set:
 * the data set's preset (docs/method.md, "Data presets and augmentation")
 * at the network's input size, with the config's crop scale and jitter */
void trainer_augment_options (const TrainerConfig *config,
                              const Dataset *data, AugmentOptions *augment);
/* The trainer's network and bank as a RunModel (run-model.h), borrowed:
 * what evaluations and embeddings read, the same for a training run and
 * a run loaded read-only. Valid as long as the trainer; its iteration is
 * the trainer's at the call. */
RunModel *trainer_get_model (Trainer *self);
MemoryBank *trainer_get_bank (Trainer *self);

/* The whole state (network, optimizer, bank, counters, the objective's
 * state such as NCE's Z, config) to path, atomically. extra_metadata (may
 * be NULL) is added to the file's. */
gboolean trainer_save_checkpoint (Trainer *self, const char *path,
                                  GHashTable *extra_metadata, GError **error);
/* FALSE with an error naming the file when the settings a checkpoint was
 * saved with (its "config" metadata) differ from config in what its
 * tensors depend on: the model, the objective, the embedding size. A file
 * without them (a plain state_dict) matches. */
gboolean trainer_checkpoint_matches (const SafetensorsFile *file,
                                     const TrainerConfig *config,
                                     GError **error);
/* NULL, or a sentence naming the settings (other than the number of
 * epochs) that the checkpoint was trained with and config differs in: the
 * learning rate, tau, the seed... They do not stop a resume, whose
 * settings are config's, but a person should know. */
char *trainer_checkpoint_differences (const SafetensorsFile *file,
                                      const TrainerConfig *config);
/* Restores a state saved by trainer_save_checkpoint for the same data set
 * size and model; on failure the trainer is unchanged. Afterwards
 * trainer_get_load_note gives trainer_checkpoint_differences' sentence
 * for that file, or NULL. */
gboolean trainer_load_checkpoint (Trainer *self, const char *path,
                                  GError **error);
const char *trainer_get_load_note (const Trainer *self);

/* Embeds images [0, n) of data with the test transform (normalisation only)
 * in evaluation mode: features (n, D), unit rows. The data must have the
 * training data's channels and size. Between batches it calls the batch
 * hook, if one is set (trainer_set_batch_hook): TRUE ends it with
 * G_IO_ERROR_CANCELLED. */
gboolean trainer_embed (Trainer *self, const Dataset *data, float *features,
                        GError **error);
/* What trainer_embed calls between batches (and so the bank's pass of
 * trainer_prepare and the evaluations), with the images done and the
 * pass's total: a front end shows how far a long pass is, and a TRUE
 * return stops it within one batch (G_IO_ERROR_CANCELLED). NULL removes
 * it. */
void trainer_set_batch_hook (Trainer *self,
                             gboolean (*between_batches) (gpointer data,
                                                          int done,
                                                          int total),
                             gpointer data);

G_END_DECLS
