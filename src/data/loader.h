/* loader.h: batches of augmented images, prepared ahead by worker threads.
 *
 * An epoch visits the data set in an order that depends only on (seed,
 * epoch): Fisher-Yates driven by an Rng seeded with a hash of the two (see
 * loader_epoch_order). Step s of epoch e holds positions s*B .. s*B + B - 1
 * of that order; image b of it is augmented with the random stream of
 * (seed, e, s*B + b) (augment_train). So a batch's content is a function of
 * (seed, epoch, step) alone: the same for 0, 1 or 8 workers, whatever the
 * timing, and a run resumed at (epoch, step) sees exactly the batches the
 * uninterrupted run would have.
 *
 * With drop_last (the default here; the reference's training loader keeps
 * the partial batch, drop_last=False) an epoch is floor (N / B) full
 * batches and the last N mod B images of each epoch's order are not seen
 * that epoch (they are, in other epochs: the order changes). Every step
 * then has B images, which the exact softmax's and NCE's buffers and the
 * learning-rate schedule count on. Without it the last batch of an epoch
 * is partial.
 *
 * Workers fill a ring of `prefetch` batch buffers, each worker taking whole
 * batches in turn, so up to `prefetch` batches are ready before the trainer
 * asks. With n_workers = 0 batches are made in loader_next itself.
 */
#pragma once

#include <glib.h>

#include "augment.h"
#include "dataset.h"

G_BEGIN_DECLS

typedef struct
{
  int batch_size;       /* B */
  int n_workers;        /* threads that decode and augment; 0: inline */
  int prefetch;         /* batches in the ring, at least 1 */
  guint64 seed;
  gboolean train;       /* TRUE: shuffled, augment_train; FALSE: data set
                           order, augment_test (evaluation, feature export) */
  gboolean drop_last;   /* drop each epoch's last partial batch */
  /* One share of each batch (data-parallel training: a process's share,
   * method/distributed.h): only positions s*B + slice_first ..
   * s*B + slice_first + slice_size - 1 of step s, so a batch holds
   * slice_size images, each the very image (and augmentation) it has in
   * the whole batch. slice_size 0: the whole batch. Needs drop_last. */
  int slice_first, slice_size;
} LoaderOptions;

/* B 128, 2 workers, 4 batches ahead, seed 1, train, drop_last. */
void loader_options_init_default (LoaderOptions *options);

typedef struct
{
  int epoch;   /* 0-based */
  int step;    /* 0-based within the epoch */
  int n;       /* images in this batch: B (or the slice's), fewer only in
                * a last partial one */
  int unreadable;  /* a batch that failed: the row that could not be read;
                      else -1 */
} LoaderBatchInfo;

typedef struct _Loader Loader;

/* Starts the workers at (start_epoch, start_step); 0, 0 for a new run.
 * data must outlive the loader. NULL with an error when the options do not
 * fit the data (batch larger than the set, step past the epoch's end, or,
 * training, fewer readable rows than a batch).
 *
 * Rows that cannot be read. Training, the rows that are not DATASET_ROW_OK
 * when the loader starts (dataset.h: a run's file gone, changed or found
 * unreadable) are left out of every epoch's order: the order is the full
 * permutation of 0..N-1 with those rows removed, the others in their
 * places, and the epoch's positions past its end wrap to its start, so
 * that an epoch keeps its N / B full batches. The batches stay a function
 * of (seed, epoch, step) and the set of rows left out, whatever the
 * workers; and a row left out moves only the positions after its own, so
 * a run that meets an unreadable row, marks it and starts a loader again
 * at that batch makes the same batches as a run resumed there with the
 * row already marked. Rows marked while a loader runs count from the next
 * loader. In evaluation order (train = FALSE) every row is visited, and a
 * marked one fails as an unreadable one does. */
Loader *loader_new (const Dataset *data, const AugmentOptions *augment,
                    const LoaderOptions *options, int start_epoch,
                    int start_step, GError **error);

/* Waits for the next batch and copies it out: images (B, C, S, S) floats
 * with S = augment->size, indices (B) into the data set. FALSE with an error
 * naming the file when an image of the batch could not be read; that batch
 * is then skipped (info still says which it was) and the next call returns
 * the one after it. */
gboolean loader_next (Loader *self, float *images, int *indices,
                      LoaderBatchInfo *info, GError **error);

int loader_steps_per_epoch (const Loader *self);

/* Stops and joins the workers (a batch being made is abandoned). */
void loader_free (Loader *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Loader, loader_free)

/* The visiting order of epoch `epoch`: a permutation of 0..n-1 into
 * order (n). */
void loader_epoch_order (guint64 seed, int epoch, int n, int *order);

G_END_DECLS
