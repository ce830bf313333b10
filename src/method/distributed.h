/* distributed.h: the collective operations that data-parallel training
 * needs, behind one interface that a single process and an MPI job both
 * implement (docs/distributed.md).
 *
 * Data parallelism: P processes, ranks 0 .. P-1, each hold the whole
 * network, optimizer and memory bank; each step splits the global batch of
 * B images into P shares of B / P. A rank computes its share's forward,
 * loss and backward; the gradients are summed over the ranks, the bank's
 * new rows are shared, and every rank applies the same update to the same
 * state, so the replicas stay identical bit for bit. The trainer
 * (trainer.h), the evaluation (evaluate.h) and the training loop call the
 * functions below and never MPI itself.
 *
 * Every call is collective: every rank makes the same calls in the same
 * order with the same sizes; only the data differ. Sums come back with the
 * same bits on every rank. A single process (distributed_single) is rank 0
 * of 1, where the calls do nothing or copy. The MPI implementation
 * (distributed-mpi.h) is built with the meson option `mpi`, and only
 * `instdisc train` starts it; the explorer and every other program get the
 * single process and do not link MPI.
 *
 * Failures. A rank that fails where the others cannot see it (a file it
 * cannot read, memory) says so at the next distributed_agree, which every
 * rank reaches at the same point: all then fail with the same error,
 * "rank R: ...", and rank 0 reports it. Anything else ends the whole job:
 * a rank that dies (mpirun then ends the others), an error that cannot
 * wait for an agreement (distributed_abort), or a collective that gets no
 * answer within the timeout (the MPI implementation aborts, naming the
 * rank and the operation). No rank waits forever. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _Distributed Distributed;
typedef struct _DistributedClass DistributedClass;

/* Where the time in collective calls goes, for the scaling measurements
 * (bench/bench-distributed.c). */
typedef enum
{
  DISTRIBUTED_TIME_GRADIENT,   /* summing the gradient: the time spent in
                                * MPI during backward and after it */
  DISTRIBUTED_TIME_BANK,       /* all-gathering the bank's new rows */
  DISTRIBUTED_TIME_OTHER,      /* losses, agreements, embeddings */
  DISTRIBUTED_TIME_WAITING,    /* with profiling on: waiting for the
                                * slowest rank before each of the above */
  DISTRIBUTED_N_TIMES,
} DistributedTime;

/* The operations an implementation provides; distributed.c builds the
 * rest (agreements, timing, gradient buckets) on them, and calls none of
 * the collectives (sum_floats to finish_sums) in a job of one rank. */
struct _DistributedClass
{
  const char *name;
  /* values (n) <- their sum over the ranks, identical on every rank */
  void (*sum_floats) (Distributed *self, float *values, size_t n);
  void (*sum_doubles) (Distributed *self, double *values, size_t n);
  /* values (n) <- their maximum over the ranks */
  void (*max_bytes) (Distributed *self, guint8 *values, size_t n);
  /* all <- every rank's counts[r] units of unit bytes, in rank order;
   * mine holds this rank's counts[rank] units, and may be its own place
   * in all */
  void (*gather) (Distributed *self, const void *mine, void *all,
                  const size_t *counts, size_t unit);
  /* data (bytes) <- root's */
  void (*broadcast) (Distributed *self, void *data, size_t bytes, int root);
  void (*barrier) (Distributed *self);
  /* A sum of values (n) in place that runs in the background from now on:
   * progress lets the started sums advance, finish_sums waits for all of
   * them. */
  void (*start_sum) (Distributed *self, float *values, size_t n);
  void (*progress) (Distributed *self);
  void (*finish_sums) (Distributed *self);
  /* prints message naming this rank and ends every rank of the job; does
   * not return */
  void (*abort) (Distributed *self, const char *message);
  void (*free) (Distributed *self);
};

struct _Distributed
{
  const DistributedClass *klass;
  int rank, size;
  /* seconds per DistributedTime since distributed_reset_times */
  double seconds[DISTRIBUTED_N_TIMES];
  /* with profiling on, a barrier before each timed operation measures how
   * long this rank waits for the others (DISTRIBUTED_TIME_WAITING) apart
   * from the operation itself; it costs a barrier's latency, so it is for
   * measurements only */
  gboolean profiling;
  /* gradient buckets: a sum is started during backward once this many
   * floats at the block's end are final; 0: one sum after backward */
  size_t bucket_floats;
  /* the gradient sum under way (distributed_gradient_*) */
  float *grads;
  size_t started_from;     /* grads[started_from, n) is being summed */
};

/* The default gradient bucket: 1 MB of floats, the size of PyTorch
 * DistributedDataParallel's first bucket. */
#define DISTRIBUTED_BUCKET_FLOATS ((size_t) 1 << 18)

/* What an MPI launcher (mpirun) told this process in its environment,
 * before MPI starts: its rank (-1: not launched so), the job's number of
 * ranks and how many of them run on this machine (0: not said). A
 * process started alone trains as one process and never starts MPI. */
int distributed_launched_rank (void);
int distributed_launched_size (void);
int distributed_launched_local_size (void);

/* The single process: rank 0 of 1. Shared and never freed. */
Distributed *distributed_single (void);
/* Ends the implementation (MPI_Finalize for MPI); nothing for the single
 * process. Collective. */
void distributed_free (Distributed *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Distributed, distributed_free)

static inline gboolean
distributed_is_single (const Distributed *self)
{
  return !self || self->size == 1;
}

/* [*first, *first + *count): rank's share of n items split over size
 * ranks, as even as can be, in rank order. */
void distributed_share (size_t n, int rank, int size, size_t *first,
                        size_t *count);

/* ---- the operations, timed ---- */

void distributed_sum_floats (Distributed *self, float *values, size_t n);
void distributed_sum_doubles (Distributed *self, double *values, size_t n);
void distributed_max_bytes (Distributed *self, guint8 *values, size_t n);
/* what: the time's category (DISTRIBUTED_TIME_BANK for the bank's rows,
 * else DISTRIBUTED_TIME_OTHER) */
void distributed_gather (Distributed *self, const void *mine, void *all,
                         const size_t *counts, size_t unit,
                         DistributedTime what);
void distributed_broadcast (Distributed *self, void *data, size_t bytes,
                            int root);
/* Does not return. */
G_NORETURN void distributed_abort (Distributed *self, const char *message);

/* TRUE when every rank had ok. Otherwise every rank returns FALSE with the
 * same error: that of the lowest rank that failed (its domain, code and
 * message, as "rank R: message"); a rank with ok FALSE passes its error
 * in *error and gets the shared one back. A single process returns ok and
 * leaves *error as it is. */
gboolean distributed_agree (Distributed *self, gboolean ok, GError **error);

/* ---- the gradient, summed while backward runs ----
 *
 *   distributed_gradient_begin (d, net->grads);
 *   resnet_set_gradient_hook (net, distributed_gradient_hook, d);
 *   resnet_backward (...);   // the hook starts buckets as tails finish
 *   distributed_gradient_end (d, net->n_params);
 *
 * The buckets are the tails the hook reports, grouped until they hold
 * bucket_floats; which parts make a bucket depends on the network alone,
 * so every rank starts the same sums in the same order. */
void distributed_gradient_begin (Distributed *self, float *grads,
                                 size_t n);
/* a ResNetGradientHook: grads[first, n) are final */
void distributed_gradient_hook (void *self, size_t first);
/* sums what is left and waits for every bucket: grads hold the sum */
void distributed_gradient_end (Distributed *self);

/* ---- time spent ---- */

void distributed_reset_times (Distributed *self);

G_END_DECLS
