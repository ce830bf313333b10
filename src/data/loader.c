/* loader.c: a ring of batch buffers filled by worker threads.
 *
 * Batches are numbered t = 0, 1, 2, ... from the starting (epoch, step).
 * Batch t lives in slot t mod K. A worker may claim batch t once the
 * consumer has released batch t - K (the slot's previous tenant); the
 * consumer takes batches strictly in order and copies each out, releasing
 * its slot at once. One mutex and one condition guard the ring: the work
 * under them is a few integer updates, the decoding happens outside. */
#define G_LOG_DOMAIN "instdisc-data"

#include "loader.h"

#include <glib/gi18n-lib.h>
#include <string.h>

static const guint64 DOMAIN_ORDER = 0x6f72646572ull;  /* "order" */

typedef struct
{
  gint64 t;            /* the batch in the slot, -1 when none */
  gboolean ready;
  LoaderBatchInfo info;
  float *images;       /* (B, C, S, S) */
  int *indices;        /* (B) */
  GError *error;
} Slot;

/* What one producer (a worker, or loader_next when inline) keeps. */
typedef struct
{
  int *order;          /* (N) the order of order_epoch, readable rows only */
  int n_order;         /* its length: N less the rows left out */
  int order_epoch;
  guint8 *pixels;      /* (C, H, W) one decoded image */
} Producer;

struct _Loader
{
  const Dataset *data;
  AugmentOptions augment;
  LoaderOptions options;
  int start_epoch, start_step;
  int steps_per_epoch;
  gsize image_floats;  /* C * S * S */
  /* (N) the rows that were not DATASET_ROW_OK when the loader started, or
   * NULL when none: a snapshot, so that every worker leaves out the same
   * rows whatever is marked while they run */
  guint8 *left_out;

  GMutex lock;
  GCond changed;
  gboolean stop;
  gint64 next_claim;   /* the next batch a worker will take */
  gint64 released;     /* batches the consumer is done with */
  Slot *slots;         /* (K) */
  GThread **threads;   /* (n_workers) */

  gint64 next_take;    /* the next batch loader_next returns */
  Producer inline_producer;
};

void
loader_options_init_default (LoaderOptions *options)
{
  *options = (LoaderOptions) {
    .batch_size = 128,
    .n_workers = 2,
    .prefetch = 4,
    .seed = 1,
    .train = TRUE,
    .drop_last = TRUE,
  };
}

void
loader_epoch_order (guint64 seed, int epoch, int n, int *order)
{
  Rng rng;
  rng_seed (&rng, augment_hash (seed, DOMAIN_ORDER, epoch, 0));
  for (int i = 0; i < n; i++)
    order[i] = i;
  /* Fisher-Yates */
  for (int i = n - 1; i > 0; i--)
    {
      int j = (int) rng_below (&rng, (guint64) i + 1);
      int tmp = order[i];
      order[i] = order[j];
      order[j] = tmp;
    }
}

int
loader_steps_per_epoch (const Loader *self)
{
  return self->steps_per_epoch;
}

static void
producer_init (Producer *p, const Dataset *data)
{
  p->order = g_new (int, data->n);
  p->n_order = data->n;
  p->order_epoch = -1;
  p->pixels = g_malloc ((gsize) data->channels * data->height * data->width);
}

static void
producer_clear (Producer *p)
{
  g_free (p->order);
  g_free (p->pixels);
}

static LoaderBatchInfo
batch_info (const Loader *self, gint64 t)
{
  gint64 global = self->start_step + t;
  LoaderBatchInfo info = {
    .epoch = self->start_epoch + (int) (global / self->steps_per_epoch),
    .step = (int) (global % self->steps_per_epoch),
    .unreadable = -1,
  };
  const int B = self->options.batch_size;
  info.n = self->options.slice_size > 0
               ? self->options.slice_size
               : MIN (B, self->data->n - info.step * B);
  return info;
}

static gboolean
should_stop (Loader *self)
{
  g_mutex_lock (&self->lock);
  gboolean stop = self->stop;
  g_mutex_unlock (&self->lock);
  return stop;
}

/* The epoch's order with the rows left out removed, the others keeping
 * their relative order: a row left out shifts only the positions after
 * its own, so the batches before it are those of the full order. */
static int
compact_order (const guint8 *left_out, int *order, int n)
{
  int kept = 0;
  for (int k = 0; k < n; k++)
    if (!left_out[order[k]])
      order[kept++] = order[k];
  return kept;
}

/* Makes batch `info` into images / indices; on a read error, names the
 * row in info->unreadable. */
static gboolean
make_batch (Loader *self, Producer *p, LoaderBatchInfo *info, float *images,
            int *indices, gboolean check_stop, GError **error)
{
  const Dataset *d = self->data;
  const int B = self->options.batch_size;
  if (self->options.train && p->order_epoch != info->epoch)
    {
      loader_epoch_order (self->options.seed, info->epoch, d->n, p->order);
      p->n_order = self->left_out
                       ? compact_order (self->left_out, p->order, d->n)
                       : d->n;
      p->order_epoch = info->epoch;
    }
  for (int b = 0; b < info->n; b++)
    {
      if (check_stop && should_stop (self))
        return TRUE;
      const gint64 position = (gint64) info->step * B
                              + self->options.slice_first + b;
      /* with rows left out the epoch's last positions start the order
       * again: every step keeps a full batch of readable images */
      const int i = self->options.train ? p->order[position % p->n_order]
                                        : (int) position;
      indices[b] = i;
      float *out = images + (gsize) b * self->image_floats;
      if (self->options.train && d->full_resolution)
        {
          /* the crop comes from the file at its own size; a marked row
           * fails through dataset_get_image, which says why */
          if (!dataset_row_is_ok (d, i)
                  ? !dataset_get_image (d, i, p->pixels, error)
                  : !augment_train_full_resolution (
                        out, &self->augment, d->paths[i], d->channels,
                        self->options.seed, info->epoch, position, error))
            {
              info->unreadable = i;
              return FALSE;
            }
          continue;
        }
      if (!dataset_get_image (d, i, p->pixels, error))
        {
          info->unreadable = i;
          return FALSE;
        }
      if (self->options.train)
        augment_train (&self->augment, p->pixels, d->channels, d->height,
                       d->width, self->options.seed, info->epoch, position,
                       out);
      else
        augment_test (&self->augment, p->pixels, d->channels, d->height,
                      d->width, out);
    }
  return TRUE;
}

static gpointer
worker_main (gpointer user_data)
{
  Loader *self = user_data;
  const int K = self->options.prefetch;
  Producer producer;
  producer_init (&producer, self->data);

  g_mutex_lock (&self->lock);
  for (;;)
    {
      while (!self->stop && self->next_claim - self->released >= K)
        g_cond_wait (&self->changed, &self->lock);
      if (self->stop)
        break;
      gint64 t = self->next_claim++;
      Slot *slot = &self->slots[t % K];
      g_mutex_unlock (&self->lock);

      LoaderBatchInfo info = batch_info (self, t);
      GError *error = NULL;
      make_batch (self, &producer, &info, slot->images, slot->indices, TRUE,
                  &error);

      g_mutex_lock (&self->lock);
      slot->t = t;
      slot->info = info;
      slot->error = error;
      slot->ready = TRUE;
      g_cond_broadcast (&self->changed);
    }
  g_mutex_unlock (&self->lock);
  producer_clear (&producer);
  return NULL;
}

Loader *
loader_new (const Dataset *data, const AugmentOptions *augment,
            const LoaderOptions *options, int start_epoch, int start_step,
            GError **error)
{
  const int B = options->batch_size;
  if (B < 1 || (options->drop_last && B > data->n) || data->n < 1)
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_INVALID,
                   _("%s: a batch of %d does not fit its %d images"),
                   data->name,
                   B, data->n);
      return NULL;
    }
  if (options->slice_size < 0 || options->slice_first < 0
      || (options->slice_size > 0
          && (!options->drop_last
              || options->slice_first + options->slice_size > B)))
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_INVALID,
                   _("%s: cannot take images %d to %d of each batch of %d"),
                   data->name, options->slice_first,
                   options->slice_first + options->slice_size - 1, B);
      return NULL;
    }
  if (data->channels < 1 || data->channels > 3 || augment->size < 1
      || options->n_workers < 0 || options->n_workers > 256
      || options->prefetch < 1)
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_INVALID,
                   _("%s: cannot load %d-channel images at size %d with %d "
                     "workers and %d batches ahead"),
                   data->name, data->channels,
                   augment->size, options->n_workers, options->prefetch);
      return NULL;
    }
  const int steps = options->drop_last ? data->n / B : (data->n + B - 1) / B;
  if (start_epoch < 0 || start_step < 0 || start_step >= steps)
    {
      g_set_error (error, INSTDISC_DATA_ERROR, INSTDISC_DATA_ERROR_INVALID,
                   _("%s: cannot start at epoch %d step %d: an epoch has %d "
                     "steps"), data->name, start_epoch, start_step, steps);
      return NULL;
    }
  g_autofree guint8 *left_out = NULL;
  int n_readable = data->n;
  if (options->train && dataset_count_unavailable (data) > 0)
    {
      left_out = g_new0 (guint8, data->n);
      for (int i = 0; i < data->n; i++)
        if (!dataset_row_is_ok (data, i))
          {
            left_out[i] = 1;
            n_readable--;
          }
      if (n_readable < B)
        {
          g_set_error (error, INSTDISC_DATA_ERROR,
                       INSTDISC_DATA_ERROR_UNAVAILABLE,
                       _("%s: only %d of its %d images can be read, fewer "
                         "than a batch of %d"), data->name, n_readable,
                       data->n, B);
          return NULL;
        }
    }

  Loader *self = g_new0 (Loader, 1);
  self->data = data;
  self->augment = *augment;
  self->options = *options;
  self->start_epoch = start_epoch;
  self->start_step = start_step;
  self->steps_per_epoch = steps;
  self->image_floats = (gsize) data->channels * augment->size * augment->size;
  self->left_out = g_steal_pointer (&left_out);
  g_mutex_init (&self->lock);
  g_cond_init (&self->changed);

  if (options->n_workers == 0)
    {
      producer_init (&self->inline_producer, data);
      return self;
    }
  const int K = options->prefetch;
  self->slots = g_new0 (Slot, K);
  for (int k = 0; k < K; k++)
    {
      self->slots[k].t = -1;
      self->slots[k].images = g_new (float, self->image_floats * B);
      self->slots[k].indices = g_new (int, B);
    }
  self->threads = g_new0 (GThread *, options->n_workers);
  for (int w = 0; w < options->n_workers; w++)
    {
      g_autofree char *name = g_strdup_printf ("loader-%d", w);
      self->threads[w] = g_thread_new (name, worker_main, self);
    }
  return self;
}

gboolean
loader_next (Loader *self, float *images, int *indices, LoaderBatchInfo *info,
             GError **error)
{
  const gint64 t = self->next_take++;
  if (self->options.n_workers == 0)
    {
      *info = batch_info (self, t);
      return make_batch (self, &self->inline_producer, info, images, indices,
                         FALSE, error);
    }

  Slot *slot = &self->slots[t % self->options.prefetch];
  g_mutex_lock (&self->lock);
  while (!(slot->ready && slot->t == t))
    g_cond_wait (&self->changed, &self->lock);
  g_mutex_unlock (&self->lock);

  /* the slot is ours until released: no worker touches it meanwhile */
  *info = slot->info;
  GError *slot_error = g_steal_pointer (&slot->error);
  if (!slot_error)
    {
      memcpy (images, slot->images,
              sizeof (float) * self->image_floats * info->n);
      memcpy (indices, slot->indices, sizeof (int) * info->n);
    }

  g_mutex_lock (&self->lock);
  slot->ready = FALSE;
  self->released = t + 1;
  g_cond_broadcast (&self->changed);
  g_mutex_unlock (&self->lock);

  if (slot_error)
    {
      g_propagate_error (error, slot_error);
      return FALSE;
    }
  return TRUE;
}

void
loader_free (Loader *self)
{
  if (!self)
    return;
  if (self->threads)
    {
      g_mutex_lock (&self->lock);
      self->stop = TRUE;
      g_cond_broadcast (&self->changed);
      g_mutex_unlock (&self->lock);
      for (int w = 0; w < self->options.n_workers; w++)
        g_thread_join (self->threads[w]);
      g_free (self->threads);
    }
  if (self->slots)
    for (int k = 0; k < self->options.prefetch; k++)
      {
        g_free (self->slots[k].images);
        g_free (self->slots[k].indices);
        g_clear_error (&self->slots[k].error);
      }
  g_free (self->slots);
  g_free (self->left_out);
  producer_clear (&self->inline_producer);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->changed);
  g_free (self);
}
