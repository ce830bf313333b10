/* distributed-mpi.h: distributed.h on MPI (Open MPI), for `instdisc train`
 * under mpirun. Built only with the meson option `mpi` (INSTDISC_HAVE_MPI);
 * nothing else links it, so the explorer, the other commands and the
 * engine need no MPI. */
#pragma once

#include <glib.h>

#include "distributed.h"

G_BEGIN_DECLS

/* MPI_Init, and this process's rank in the job. A collective that gets no
 * answer for `timeout` seconds (INSTDISC_MPI_TIMEOUT, default 1800: longer
 * than any pass one rank makes while the others wait) ends the job with a
 * message naming the rank and the operation. Free it with
 * distributed_free (MPI_Finalize), on every rank. */
Distributed *distributed_mpi_start (int *argc, char ***argv);

G_END_DECLS
