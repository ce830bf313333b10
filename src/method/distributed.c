/* distributed.c: the single process, and what distributed.h builds on an
 * implementation's operations: timing, agreements, gradient buckets. */
#define G_LOG_DOMAIN "instdisc-method"

#include "distributed.h"

#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "threads.h"

/* ---- what the launcher says ---- */

/* the first of the variables that is set, as a number; fallback if none */
static int
environment_number (const char *const *names, int fallback)
{
  for (int i = 0; names[i]; i++)
    {
      const char *value = g_getenv (names[i]);
      gint64 number;
      if (value && g_ascii_string_to_signed (value, 10, 0, G_MAXINT, &number,
                                             NULL))
        return (int) number;
    }
  return fallback;
}

/* Open MPI's mpirun sets OMPI_COMM_WORLD_*; PMI launchers (Slurm's srun,
 * MPICH's Hydra) PMI_*; PMIx ones PMIX_RANK */
int
distributed_launched_rank (void)
{
  static const char *const names[] = { "OMPI_COMM_WORLD_RANK", "PMI_RANK",
                                       "PMIX_RANK", NULL };
  return environment_number (names, -1);
}

int
distributed_launched_size (void)
{
  static const char *const names[] = { "OMPI_COMM_WORLD_SIZE", "PMI_SIZE",
                                       NULL };
  return environment_number (names, distributed_launched_rank () >= 0);
}

int
distributed_launched_local_size (void)
{
  static const char *const names[] = { "OMPI_COMM_WORLD_LOCAL_SIZE",
                                       "MPI_LOCALNRANKS", NULL };
  return environment_number (names, 0);
}

/* ---- the single process: rank 0 of 1 ---- */

/* A job of one rank never reaches a collective: the operations below
 * return first (distributed_is_single), so the single process's class has
 * only what is called whatever the size. */

static void
single_free (Distributed *self)
{
}

static void
single_abort (Distributed *self, const char *message)
{
  fprintf (stderr, "instdisc: %s\n", message);
  exit (1);
}

static const DistributedClass single_class = {
  .name = "single",
  .abort = single_abort,
  .free = single_free,
};

Distributed *
distributed_single (void)
{
  static Distributed single = {
    .klass = &single_class,
    .rank = 0,
    .size = 1,
    .bucket_floats = DISTRIBUTED_BUCKET_FLOATS,
  };
  return &single;
}

void
distributed_free (Distributed *self)
{
  if (self)
    self->klass->free (self);
}

void
distributed_share (size_t n, int rank, int size, size_t *first,
                   size_t *count)
{
  size_t lo, hi;
  engine_split (n, rank, size, &lo, &hi);
  *first = lo;
  *count = hi - lo;
}

/* ---- timing ---- */

/* Starts timing an operation: with profiling on, the wait for the slowest
 * rank first, apart. Returns the operation's start. */
static double
time_start (Distributed *self)
{
  if (self->profiling)
    {
      double before = engine_now ();
      self->klass->barrier (self);
      self->seconds[DISTRIBUTED_TIME_WAITING] += engine_now () - before;
    }
  return engine_now ();
}

static void
time_stop (Distributed *self, DistributedTime what, double start)
{
  self->seconds[what] += engine_now () - start;
}

void
distributed_reset_times (Distributed *self)
{
  memset (self->seconds, 0, sizeof self->seconds);
}

/* ---- the operations ---- */

void
distributed_sum_floats (Distributed *self, float *values, size_t n)
{
  if (distributed_is_single (self))
    return;
  double start = time_start (self);
  self->klass->sum_floats (self, values, n);
  time_stop (self, DISTRIBUTED_TIME_OTHER, start);
}

void
distributed_sum_doubles (Distributed *self, double *values, size_t n)
{
  if (distributed_is_single (self))
    return;
  double start = time_start (self);
  self->klass->sum_doubles (self, values, n);
  time_stop (self, DISTRIBUTED_TIME_OTHER, start);
}

void
distributed_max_bytes (Distributed *self, guint8 *values, size_t n)
{
  if (distributed_is_single (self))
    return;
  double start = time_start (self);
  self->klass->max_bytes (self, values, n);
  time_stop (self, DISTRIBUTED_TIME_OTHER, start);
}

void
distributed_gather (Distributed *self, const void *mine, void *all,
                    const size_t *counts, size_t unit, DistributedTime what)
{
  if (distributed_is_single (self))
    {
      /* one rank: all is its own share */
      if (all != mine)
        memmove (all, mine, counts[0] * unit);
      return;
    }
  double start = time_start (self);
  self->klass->gather (self, mine, all, counts, unit);
  time_stop (self, what, start);
}

void
distributed_broadcast (Distributed *self, void *data, size_t bytes, int root)
{
  if (distributed_is_single (self))
    return;
  double start = time_start (self);
  self->klass->broadcast (self, data, bytes, root);
  time_stop (self, DISTRIBUTED_TIME_OTHER, start);
}

void
distributed_abort (Distributed *self, const char *message)
{
  self->klass->abort (self, message);
  abort ();   /* an implementation's abort does not return */
}

/* ---- agreeing on failures ---- */

/* What the lowest failing rank tells the others: its error's domain, code
 * and message, cut to fit. */
typedef struct
{
  gint32 code;
  char domain[120];
  char message[1024];
} SharedError;

gboolean
distributed_agree (Distributed *self, gboolean ok, GError **error)
{
  if (distributed_is_single (self))
    return ok;
  double start = time_start (self);
  /* who failed: one byte per rank, summed by taking the maximum */
  g_autofree guint8 *failed = g_new0 (guint8, self->size);
  failed[self->rank] = !ok;
  self->klass->max_bytes (self, failed, self->size);
  int first = -1;
  for (int r = 0; r < self->size && first < 0; r++)
    if (failed[r])
      first = r;
  if (first < 0)
    {
      time_stop (self, DISTRIBUTED_TIME_OTHER, start);
      return TRUE;
    }
  SharedError shared = { 0 };
  if (self->rank == first)
    {
      const GError *mine = error ? *error : NULL;
      shared.code = mine ? mine->code : G_IO_ERROR_FAILED;
      g_strlcpy (shared.domain,
                 g_quark_to_string (mine ? mine->domain : G_IO_ERROR),
                 sizeof shared.domain);
      g_strlcpy (shared.message,
                 mine ? mine->message : _("failed without saying why"),
                 sizeof shared.message);
    }
  self->klass->broadcast (self, &shared, sizeof shared, first);
  time_stop (self, DISTRIBUTED_TIME_OTHER, start);
  if (error)
    {
      g_clear_error (error);
      /* Translators: %d is a process's rank in an MPI job, %s what went
       * wrong there */
      g_set_error (error, g_quark_from_string (shared.domain), shared.code,
                   _("rank %d: %s"), first, shared.message);
    }
  return FALSE;
}

/* ---- the gradient in buckets ---- */

void
distributed_gradient_begin (Distributed *self, float *grads, size_t n)
{
  self->grads = grads;
  self->started_from = n;
}

void
distributed_gradient_hook (void *data, size_t first)
{
  Distributed *self = data;
  if (distributed_is_single (self) || self->bucket_floats == 0)
    return;
  double start = engine_now ();
  /* the tail since the last bucket makes a bucket once it is large
   * enough; until then the started ones are given a chance to move */
  if (self->started_from - first >= self->bucket_floats)
    {
      self->klass->start_sum (self, self->grads + first,
                              self->started_from - first);
      self->started_from = first;
    }
  else
    self->klass->progress (self);
  time_stop (self, DISTRIBUTED_TIME_GRADIENT, start);
}

void
distributed_gradient_end (Distributed *self)
{
  if (distributed_is_single (self))
    return;
  double start = time_start (self);
  if (self->started_from > 0)
    self->klass->start_sum (self, self->grads, self->started_from);
  self->started_from = 0;
  self->klass->finish_sums (self);
  time_stop (self, DISTRIBUTED_TIME_GRADIENT, start);
}
