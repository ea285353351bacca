/*
 * bprt_mpi.h - the runtime's MPI part (build/libbprt_mpi.a, `make mpi`): data-parallel
 * training across processes and machines (docs/DISTRIBUTED.md).  Build with mpicc and
 * link libbprt_mpi.a before libbprt.a:
 *
 *     mpicc -std=c99 -O2 -Iruntime main.c model.c build/libbprt_mpi.a build/libbprt.a -lm
 *
 * The generated model code knows nothing of MPI; these functions work on its gradient
 * buffer (NAME_grads).  A program generated with bpc --main and linked this way is the
 * data-parallel trainer: this library's bprt_trainer_main initializes MPI and runs the
 * trainer as one of the processes of MPI_COMM_WORLD.
 */
#ifndef BPRT_MPI_H
#define BPRT_MPI_H

#include <mpi.h>

#include "bprt.h"

#ifdef __cplusplus
extern "C" {
#endif

/* buf := the sum of every rank's buf (count elements; elem_size 4: float, 8: double),
 * added in rank order, ((buf_0 + buf_1) + buf_2) + ..., whatever algorithms the MPI
 * library picks: every rank gets the same bits, and a run the same bits every time.
 * Each rank adds up one slice; when comm's ranks are all on one machine, through a
 * window of shared memory that comm keeps (an attribute, freed with comm or at
 * MPI_Finalize), else by messages (alltoall, then allgather).  Both give the same bits;
 * BPRT_MPI_SHARED=0 in the environment of any rank at comm's first sum chooses messages.
 * Collective: every rank of comm calls it with the same count and elem_size.  Returns
 * MPI_SUCCESS or an MPI error code (with comm's error handler, the default aborts). */
int bprt_mpi_sum(void *buf, long count, int elem_size, MPI_Comm comm);

/* grads := the mean gradient over all the samples of the ranks: each rank's grads
 * weighted by n / (the sum of every rank's n), then summed as bprt_mpi_sum.  n is the
 * number of samples this rank's grads are the mean over (0: its grads are zero, as
 * after NAME_step).  With the same n everywhere it is the plain average.  Collective;
 * returns as bprt_mpi_sum (MPI_ERR_COUNT for a negative n or a zero total). */
int bprt_mpi_average_grads(void *grads, long count, int elem_size, int n, MPI_Comm comm);

/* bprt_trainer_main of libbprt_mpi.a: MPI_Init, the trainer over MPI_COMM_WORLD, then
 * MPI_Finalize, or MPI_Abort with the exit status when a rank fails (the others may be
 * waiting for it in a collective). */

#ifdef __cplusplus
}
#endif
#endif
