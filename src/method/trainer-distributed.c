/* trainer-distributed.c: what the trainer does beyond one process when
 * each batch is split over ranks (trainer-private.h, distributed.h,
 * docs/distributed.md). Nothing here runs in a single process. */
#define G_LOG_DOMAIN "instdisc-method"

#include <string.h>

#include "trainer-private.h"

gboolean
trainer_share_batch_outcome (Trainer *self, gboolean filled, int unreadable,
                             gboolean *retry, GError **error)
{
  Distributed *dist = self->dist;
  const int P = dist->size;
  *retry = FALSE;
  /* each rank's outcome: -1 has its share, a row could not be read and
   * can be left out (a file of a folder), -2 failed */
  const gint32 mine = filled ? -1
                      : unreadable >= 0 && self->data->row_status
                          ? unreadable
                          : -2;
  g_autofree gint32 *all = g_new (gint32, P);
  g_autofree size_t *ones = g_new (size_t, P);
  for (int r = 0; r < P; r++)
    ones[r] = 1;
  distributed_gather (dist, &mine, all, ones, sizeof (gint32),
                      DISTRIBUTED_TIME_OTHER);
  gboolean failed = FALSE, left_out = FALSE;
  for (int r = 0; r < P; r++)
    {
      failed = failed || all[r] == -2;
      left_out = left_out || all[r] >= 0;
    }
  if (failed)
    return distributed_agree (dist, mine != -2, error);
  if (!left_out)
    return TRUE;
  /* every rank leaves out every such row and starts its loader again at
   * this batch, so the ranks go on taking slices of one order */
  g_clear_error (error);
  for (int r = 0; r < P; r++)
    if (all[r] >= 0)
      dataset_mark_unreadable (self->data, all[r]);
  g_clear_pointer (&self->loader, loader_free);
  *retry = TRUE;
  return TRUE;
}

void
trainer_share_bank_update (Trainer *self, const float *features)
{
  Distributed *dist = self->dist;
  const int B = self->config.batch_size, b = self->share_size;
  const int D = self->bank->dim;
  const size_t row = 1 + (size_t) D;   /* the index's bits, then the vector */
  /* this rank's rows, packed where the batch has them */
  float *mine = self->packed + (size_t) self->share_first * row;
  for (int j = 0; j < b; j++)
    {
      memcpy (mine + j * row, &self->indices[j], sizeof (float));
      memcpy (mine + j * row + 1, features + (size_t) j * D,
              sizeof (float) * D);
    }
  g_autofree size_t *counts = g_new (size_t, dist->size);
  for (int r = 0; r < dist->size; r++)
    counts[r] = b;
  distributed_gather (dist, mine, self->packed, counts, sizeof (float) * row,
                      DISTRIBUTED_TIME_BANK);
  for (int j = 0; j < B; j++)
    {
      memcpy (&self->batch_indices[j], self->packed + j * row,
              sizeof (float));
      memcpy (self->batch_features + (size_t) j * D,
              self->packed + j * row + 1, sizeof (float) * D);
    }
  /* the same update in the same order as one process: every replica of
   * the bank gets the same rows */
  memory_bank_update (self->bank, self->batch_indices, self->batch_features,
                      B);
}

/* ---- the replicas ---- */

/* FNV-1a over 64-bit words: a fingerprint of a replica's state, not a
 * defence against anything */
static guint64
fingerprint (guint64 hash, const void *data, size_t bytes)
{
  const guint8 *p = data;
  size_t i = 0;
  for (; i + 8 <= bytes; i += 8)
    {
      guint64 word;
      memcpy (&word, p + i, 8);
      hash = (hash ^ word) * 0x100000001b3ull;
    }
  for (; i < bytes; i++)
    hash = (hash ^ p[i]) * 0x100000001b3ull;
  return hash;
}

/* The batch norm running statistics (every float buffer of the network):
 * each rank's moved with its own share's statistics, and their mean is
 * what one process that computes the P shares as groups keeps
 * (batchnorm.h; the update is linear, so averaging now equals averaging
 * every step). */
static void
average_running_statistics (Trainer *self)
{
  ResNet *net = self->net;
  size_t n = 0;
  for (int i = 0; i < net->n_state; i++)
    if (net->state[i].dtype == DTYPE_F32 && !net->state[i].trainable)
      n += net->state[i].numel;
  g_autofree float *stats = g_new (float, MAX (n, 1));
  size_t at = 0;
  for (int i = 0; i < net->n_state; i++)
    if (net->state[i].dtype == DTYPE_F32 && !net->state[i].trainable)
      {
        memcpy (stats + at, net->state[i].data,
                sizeof (float) * net->state[i].numel);
        at += net->state[i].numel;
      }
  distributed_sum_floats (self->dist, stats, n);
  at = 0;
  for (int i = 0; i < net->n_state; i++)
    if (net->state[i].dtype == DTYPE_F32 && !net->state[i].trainable)
      {
        float *data = net->state[i].data;
        for (size_t j = 0; j < net->state[i].numel; j++)
          data[j] = stats[at + j] / self->dist->size;
        at += net->state[i].numel;
      }
}

void
trainer_sync_replicas (Trainer *self)
{
  Distributed *dist = self->dist;
  if (distributed_is_single (dist))
    return;
  average_running_statistics (self);

  /* Every rank applies the same sums to the same state, so the replicas
   * stay identical as long as the sums come back with the same bits
   * everywhere (distributed-mpi.c). Checked here, at every checkpoint and
   * evaluation, for what a step changes: should they ever differ, rank
   * 0's state, the one its checkpoint holds, is given to every rank. */
  ResNet *net = self->net;
  const size_t buffers = resnet_buffers_size (net);
  g_autofree void *block = g_malloc (buffers);
  resnet_save_buffers (net, block);
  guint64 hash = 0xcbf29ce484222325ull;
  hash = fingerprint (hash, net->params, sizeof (float) * net->n_params);
  hash = fingerprint (hash, self->sgd.momentum_buffer,
                      sizeof (float) * net->n_params);
  hash = fingerprint (hash, self->bank->vectors,
                      sizeof (float) * self->bank->n * self->bank->dim);
  hash = fingerprint (hash, block, buffers);
  g_autofree guint64 *all = g_new (guint64, dist->size);
  g_autofree size_t *ones = g_new (size_t, dist->size);
  int differing = 0;
  for (int r = 0; r < dist->size; r++)
    ones[r] = 1;
  distributed_gather (dist, &hash, all, ones, sizeof hash,
                      DISTRIBUTED_TIME_OTHER);
  for (int r = 1; r < dist->size; r++)
    differing += all[r] != all[0];
  if (differing == 0)
    return;
  distributed_broadcast (dist, net->params, sizeof (float) * net->n_params,
                         0);
  distributed_broadcast (dist, self->sgd.momentum_buffer,
                         sizeof (float) * net->n_params, 0);
  distributed_broadcast (dist, self->bank->vectors,
                         sizeof (float) * self->bank->n * self->bank->dim, 0);
  distributed_broadcast (dist, block, buffers, 0);
  resnet_restore_buffers (net, block);
  if (dist->rank == 0)
    g_warning ("at iteration %" G_GINT64_FORMAT ", %d of %d ranks held a "
               "state that differed from rank 0's; rank 0's was given to "
               "every rank",
               self->iteration, differing, dist->size);
}
