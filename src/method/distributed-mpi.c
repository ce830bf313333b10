/* distributed-mpi.c: distributed.h's operations on MPI.
 *
 * Every collective is started non-blocking and then waited for in a loop
 * that tests it, so that a wait can end: after `timeout` seconds without
 * an answer the job is aborted with a message naming this rank and the
 * operation. The loop spins for a tenth of a millisecond (a sum of a few
 * floats answers within that) and then yields the core between tests, so
 * a rank that waits for a slower one does not take its core from a
 * process that computes (two ranks on two cores, or a study beside).
 *
 * Sums are MPI_Allreduce's (MPI_Iallreduce). Open MPI's algorithms for
 * them give every rank the same bits (the MPI standard asks
 * implementations to), which keeps the replicas identical; the trainer
 * checks that at every checkpoint and repairs it if it ever fails
 * (trainer.c, "replicas"). MPI counts are ints, so large arrays go in
 * pieces. */
#define G_LOG_DOMAIN "instdisc-method"

#include "distributed-mpi.h"

#include <glib/gi18n-lib.h>
#include <limits.h>
#include <mpi.h>
#include <sched.h>
#include <stdio.h>

#include "threads.h"

/* the largest piece of one call: well inside an int count */
#define PIECE ((size_t) 1 << 28)

typedef struct
{
  Distributed parent;
  MPI_Comm comm;
  double timeout;          /* seconds a wait may last */
  GArray *pending;         /* MPI_Request: the sums start_sum started */
} MpiDistributed;

static void
mpi_abort (Distributed *parent, const char *message)
{
  MpiDistributed *self = (MpiDistributed *) parent;
  /* Translators: %d is a process's rank in an MPI job, %s what went
   * wrong there */
  g_autofree char *line = g_strdup_printf (_("rank %d: %s"), parent->rank,
                                           message);
  fprintf (stderr, "instdisc: %s\n", line);
  fflush (stderr);
  MPI_Abort (self->comm, 1);
}

/* Waits until every request is complete, at most timeout seconds; what
 * names the operation for the message that ends the job otherwise. */
static void
wait_all (MpiDistributed *self, MPI_Request *requests, int n,
          const char *what)
{
  const double start = engine_now ();
  for (;;)
    {
      int done = 0;
      MPI_Testall (n, requests, &done, MPI_STATUSES_IGNORE);
      if (done)
        return;
      double waited = engine_now () - start;
      if (waited > self->timeout)
        {
          g_autofree char *message = g_strdup_printf (
              _("no answer from the other ranks for %.0f s while %s; "
                "ending the job (INSTDISC_MPI_TIMEOUT sets the limit)"),
              waited, what);
          mpi_abort (&self->parent, message);
        }
      if (waited > 1e-4)
        sched_yield ();
    }
}

/* values (n) of type, combined by op over the ranks, in pieces */
static void
allreduce (MpiDistributed *self, void *values, size_t n, size_t size,
           MPI_Datatype type, MPI_Op op, const char *what)
{
  const size_t pieces = (n + PIECE - 1) / PIECE;
  g_autofree MPI_Request *requests = g_new (MPI_Request, MAX (pieces, 1));
  for (size_t p = 0; p < pieces; p++)
    {
      size_t first = p * PIECE, count = MIN (PIECE, n - first);
      MPI_Iallreduce (MPI_IN_PLACE, (char *) values + first * size,
                      (int) count, type, op, self->comm, &requests[p]);
    }
  wait_all (self, requests, (int) pieces, what);
}

static void
mpi_sum_floats (Distributed *parent, float *values, size_t n)
{
  allreduce ((MpiDistributed *) parent, values, n, sizeof (float), MPI_FLOAT,
             MPI_SUM, _("summing over the ranks"));
}

static void
mpi_sum_doubles (Distributed *parent, double *values, size_t n)
{
  allreduce ((MpiDistributed *) parent, values, n, sizeof (double),
             MPI_DOUBLE, MPI_SUM, _("summing over the ranks"));
}

static void
mpi_max_bytes (Distributed *parent, guint8 *values, size_t n)
{
  allreduce ((MpiDistributed *) parent, values, n, 1, MPI_UNSIGNED_CHAR,
             MPI_MAX, _("agreeing with the other ranks"));
}

static void
mpi_gather (Distributed *parent, const void *mine, void *all,
            const size_t *counts, size_t unit)
{
  MpiDistributed *self = (MpiDistributed *) parent;
  const int P = parent->size;
  g_autofree int *units = g_new (int, P);
  g_autofree int *displacements = g_new (int, P);
  size_t total = 0;
  for (int r = 0; r < P; r++)
    {
      if (total + counts[r] > INT_MAX)
        mpi_abort (parent, _("an all-gather of more than 2^31 rows: too "
                             "large for one MPI call"));
      units[r] = (int) counts[r];
      displacements[r] = (int) total;
      total += counts[r];
    }
  MPI_Datatype row;
  MPI_Type_contiguous ((int) unit, MPI_BYTE, &row);
  MPI_Type_commit (&row);
  /* mine already in its place in all: MPI wants that said */
  const gboolean in_place = (const char *) mine
                            == (char *) all
                                   + (size_t) displacements[parent->rank]
                                         * unit;
  MPI_Request request;
  MPI_Iallgatherv (in_place ? MPI_IN_PLACE : mine, units[parent->rank], row,
                   all, units, displacements, row, self->comm, &request);
  wait_all (self, &request, 1, _("gathering rows from the other ranks"));
  MPI_Type_free (&row);
}

static void
mpi_broadcast (Distributed *parent, void *data, size_t bytes, int root)
{
  MpiDistributed *self = (MpiDistributed *) parent;
  const size_t pieces = (bytes + PIECE - 1) / PIECE;
  g_autofree MPI_Request *requests = g_new (MPI_Request, MAX (pieces, 1));
  for (size_t p = 0; p < pieces; p++)
    {
      size_t first = p * PIECE, count = MIN (PIECE, bytes - first);
      MPI_Ibcast ((char *) data + first, (int) count, MPI_BYTE, root,
                  self->comm, &requests[p]);
    }
  wait_all (self, requests, (int) pieces,
            _("receiving from another rank"));
}

static void
mpi_barrier (Distributed *parent)
{
  MpiDistributed *self = (MpiDistributed *) parent;
  MPI_Request request;
  MPI_Ibarrier (self->comm, &request);
  wait_all (self, &request, 1, _("waiting for the other ranks"));
}

static void
mpi_start_sum (Distributed *parent, float *values, size_t n)
{
  MpiDistributed *self = (MpiDistributed *) parent;
  for (size_t first = 0; first < n; first += PIECE)
    {
      MPI_Request request;
      MPI_Iallreduce (MPI_IN_PLACE, values + first,
                      (int) MIN (PIECE, n - first), MPI_FLOAT, MPI_SUM,
                      self->comm, &request);
      g_array_append_val (self->pending, request);
    }
}

static void
mpi_progress (Distributed *parent)
{
  MpiDistributed *self = (MpiDistributed *) parent;
  if (self->pending->len == 0)
    return;
  /* testing is what moves a non-blocking collective along: Open MPI has
   * no progress thread of its own */
  int done;
  MPI_Testall ((int) self->pending->len,
               (MPI_Request *) self->pending->data, &done,
               MPI_STATUSES_IGNORE);
}

static void
mpi_finish_sums (Distributed *parent)
{
  MpiDistributed *self = (MpiDistributed *) parent;
  wait_all (self, (MPI_Request *) self->pending->data,
            (int) self->pending->len, _("summing the gradient"));
  g_array_set_size (self->pending, 0);
}

static void
mpi_free (Distributed *parent)
{
  MpiDistributed *self = (MpiDistributed *) parent;
  MPI_Comm_free (&self->comm);
  MPI_Finalize ();
  g_array_unref (self->pending);
  g_free (self);
}

static const DistributedClass mpi_class = {
  .name = "mpi",
  .sum_floats = mpi_sum_floats,
  .sum_doubles = mpi_sum_doubles,
  .max_bytes = mpi_max_bytes,
  .gather = mpi_gather,
  .broadcast = mpi_broadcast,
  .barrier = mpi_barrier,
  .start_sum = mpi_start_sum,
  .progress = mpi_progress,
  .finish_sums = mpi_finish_sums,
  .abort = mpi_abort,
  .free = mpi_free,
};

Distributed *
distributed_mpi_start (int *argc, char ***argv)
{
  /* only the main thread calls MPI; the engine's and the loader's threads
   * never do */
  int provided;
  MPI_Init_thread (argc, argv, MPI_THREAD_FUNNELED, &provided);
  MpiDistributed *self = g_new0 (MpiDistributed, 1);
  MPI_Comm_dup (MPI_COMM_WORLD, &self->comm);
  self->parent.klass = &mpi_class;
  MPI_Comm_rank (self->comm, &self->parent.rank);
  MPI_Comm_size (self->comm, &self->parent.size);
  self->parent.bucket_floats = DISTRIBUTED_BUCKET_FLOATS;
  const char *timeout = g_getenv ("INSTDISC_MPI_TIMEOUT");
  self->timeout = timeout ? g_ascii_strtod (timeout, NULL) : 0.0;
  if (!(self->timeout > 0.0))
    self->timeout = 1800.0;
  self->pending = g_array_new (FALSE, FALSE, sizeof (MPI_Request));
  return &self->parent;
}
