/* trainer-private.h: the Trainer's instance, for the files that make it.
 *
 *   trainer.c              construction, the step, checkpoints, embedding
 *   trainer-distributed.c  what a step and a checkpoint do when the batch
 *                          is split over ranks (distributed.h): agreeing
 *                          on a batch, sharing the bank's new rows, and
 *                          keeping the replicas identical
 *   trainer-config.c       the settings and their schedule
 *   trainer-check.c        the rules the settings are held to */
#pragma once

#include "augment.h"
#include "distributed.h"
#include "loader.h"
#include "run-model.h"
#include "trainer.h"

G_BEGIN_DECLS

/* what trainer.state holds, in order (I64) */
enum
{
  STATE_ITERATION,
  STATE_SEED,
  STATE_N_IMAGES,
  STATE_LENGTH,
};

/* streams of derived randomness (the loader derives the shuffle and the
 * augmentation from the same seed in its own way); the objective's is the
 * stream NCE's noise has always come from, so runs resume the same */
enum
{
  STREAM_INIT = 1,
  STREAM_OBJECTIVE = 4,
  STREAM_BANK_ROW = 5,   /* a bank row with no image to start from */
};

struct _Trainer
{
  TrainerConfig config;
  const Dataset *data;
  ResNet *net;
  Sgd sgd;
  MemoryBank *bank;
  Objective *objective;     /* an instance of config.objective */
  AugmentOptions augment;   /* the train and test transforms */
  Loader *loader;           /* started at the first step after a (re)start */
  int n_workers;

  gint64 iteration;         /* steps done */
  gboolean bank_from_features;  /* BANK_INIT_FEATURES done */
  RunModel model;           /* net and bank lent as a RunModel */

  /* Data parallelism (distributed.h): each batch of config.batch_size
   * images is split over dist's ranks, this one holding share_size of
   * them from share_first on. One process: the whole batch. */
  Distributed *dist;
  int share_first, share_size;

  float *images;            /* (b, C, H, W) this rank's preprocessed images */
  int *indices;             /* (b) */
  float *d_embedding;       /* (b, D) */
  void *buffers_before;     /* the network's BN buffers before this step */
  char *load_note;          /* settings the loaded checkpoint differs in */

  /* several ranks only: the step's rows of every rank, in batch order */
  int *batch_indices;       /* (B) */
  float *batch_features;    /* (B, D) */
  float *packed;            /* (B, 1 + D) as they travel: index, vector */
};

/* A generator for one (stream, a, b): the seed and counters hashed, so any
 * stream can be recreated from the counters alone. */
static inline void
derive_rng (Rng *rng, guint64 seed, guint64 stream, guint64 a, guint64 b)
{
  rng_seed (rng, augment_hash (seed, stream, (gint64) a, (gint64) b));
}

/* ---- trainer-distributed.c: several ranks ---- */

/* The ranks' tries at a step's batch, shared. filled: whether this rank
 * has its share; otherwise unreadable is the row it could not read (-1:
 * it failed otherwise) and *error says why. TRUE when every rank has its
 * share (*retry FALSE), or when only images that can be left out failed:
 * every rank then marks every one of them unreadable and drops its loader,
 * and *retry is TRUE (try again, as one process does, loader.h). FALSE,
 * on every rank, with the lowest failing rank's error otherwise. */
gboolean trainer_share_batch_outcome (Trainer *self, gboolean filled,
                                      int unreadable, gboolean *retry,
                                      GError **error);

/* After a step's SGD update: every rank's rows of the batch and their
 * fresh features (b, D) all-gathered, and the bank updated with the whole
 * batch in batch order, as one process updates it. */
void trainer_share_bank_update (Trainer *self, const float *features);

G_END_DECLS
