/*
 * mpi.c - the runtime's MPI part, build/libbprt_mpi.a (bprt_mpi.h, docs/DISTRIBUTED.md):
 * the gradient sums of data-parallel training, and the bprt_trainer_main that runs the
 * command-line trainer as one rank of MPI_COMM_WORLD.
 *
 * The sums are in rank order whatever the MPI library would choose: MPI_Allreduce may
 * add in any order and grouping (by message size, rank count, network), and float
 * addition is not associative, so its bits could change between runs and machines.
 * Here each rank adds up one slice of the buffer, the contributions in rank order, and
 * the slices are then gathered everywhere: the traffic of a ring allreduce (each rank
 * sends and receives the buffer's size times (R − 1)/R twice), in two collectives.  Two
 * ranks are the exception: each element is then one IEEE addition, which is commutative,
 * so MPI_Allreduce gives the same bits whatever its algorithm, and it is faster (one
 * collective; docs/DISTRIBUTED.md has the figures).
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* dup2 */
#endif
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bprt_mpi.h"

/* Where slice c of `count` elements split over `size` ranks starts. */
static int slice_start(long count, int size, int c)
{
    return (int)((long long)count * c / size);
}

static void scale(void *buf, long count, int elem_size, double weight)
{
    if (elem_size == 4) {
        float *f = buf, w = (float)weight;
        for (long i = 0; i < count; i++)
            f[i] *= w;
    } else {
        double *d = buf;
        for (long i = 0; i < count; i++)
            d[i] *= weight;
    }
}

/* out[0..n) := in[0..n) + in[n..2n) + ... + in[(size-1)n..size·n), added in that order. */
static void add_in_order(void *out, const void *in, int n, int size, int elem_size)
{
    if (elem_size == 4) {
        float *o = out;
        const float *a = in;
        for (int i = 0; i < n; i++)
            o[i] = a[i];
        for (int c = 1; c < size; c++)
            for (int i = 0; i < n; i++)
                o[i] += a[(size_t)c * n + i];
    } else {
        double *o = out;
        const double *a = in;
        for (int i = 0; i < n; i++)
            o[i] = a[i];
        for (int c = 1; c < size; c++)
            for (int i = 0; i < n; i++)
                o[i] += a[(size_t)c * n + i];
    }
}

/* buf := the sum over the ranks of weight_r · buf_r, in rank order. */
static int weighted_sum(void *buf, long count, int elem_size, double weight, MPI_Comm comm)
{
    int rank, size, rc;
    if ((rc = MPI_Comm_rank(comm, &rank)) != MPI_SUCCESS ||
        (rc = MPI_Comm_size(comm, &size)) != MPI_SUCCESS)
        return rc;
    if (count < 0 || count > INT_MAX || (elem_size != 4 && elem_size != 8))
        return MPI_ERR_COUNT; /* MPI counts and displacements are ints */
    if (weight != 1)
        scale(buf, count, elem_size, weight);
    if (size == 1 || count == 0)
        return MPI_SUCCESS;
    MPI_Datatype type = elem_size == 4 ? MPI_FLOAT : MPI_DOUBLE;
    if (size == 2) /* one addition per element, b_0 + b_1 = b_1 + b_0 in any algorithm */
        return MPI_Allreduce(MPI_IN_PLACE, buf, (int)count, type, MPI_SUM, comm);

    int *counts = malloc(4 * (size_t)size * sizeof *counts);
    const int first = slice_start(count, size, rank);
    const int mine = slice_start(count, size, rank + 1) - first;
    char *from = malloc((size_t)size * (size_t)mine * (size_t)elem_size + 1);
    if (!counts || !from) {
        free(counts);
        free(from);
        return MPI_ERR_NO_MEM;
    }
    /* slice c goes to rank c; from every rank, its copy of this rank's slice */
    int *send = counts, *send_at = counts + size, *recv = counts + 2 * size,
        *recv_at = counts + 3 * size;
    for (int c = 0; c < size; c++) {
        send_at[c] = slice_start(count, size, c);
        send[c] = slice_start(count, size, c + 1) - send_at[c];
        recv[c] = mine;
        recv_at[c] = c * mine;
    }
    rc = MPI_Alltoallv(buf, send, send_at, type, from, recv, recv_at, type, comm);
    if (rc == MPI_SUCCESS) {
        add_in_order((char *)buf + (size_t)first * elem_size, from, mine, size, elem_size);
        rc = MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf, send, send_at, type, comm);
    }
    free(counts);
    free(from);
    return rc;
}

int bprt_mpi_sum(void *buf, long count, int elem_size, MPI_Comm comm)
{
    return weighted_sum(buf, count, elem_size, 1, comm);
}

int bprt_mpi_average_grads(void *grads, long count, int elem_size, int n, MPI_Comm comm)
{
    /* the total, and whether any rank passed a negative n: every rank must return alike */
    int mine[2] = {n, n < 0}, all[2];
    int rc = MPI_Allreduce(mine, all, 2, MPI_INT, MPI_SUM, comm);
    if (rc != MPI_SUCCESS)
        return rc;
    if (all[1] > 0 || all[0] <= 0)
        return MPI_ERR_COUNT;
    return weighted_sum(grads, count, elem_size, (double)n / all[0], comm);
}

// ---- the data-parallel trainer ----

static MPI_Comm comm_of(const bprt_parallel *p)
{
    return *(const MPI_Comm *)p->ctx;
}

/* The trainer's operations cannot fail halfway on one rank only: the others would wait
 * for it forever.  So a failure ends every rank. */
static void check(const bprt_parallel *p, int rc, const char *what)
{
    if (rc == MPI_SUCCESS)
        return;
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, msg, &len) != MPI_SUCCESS)
        len = snprintf(msg, sizeof msg, "MPI error %d", rc);
    fprintf(stderr, "rank %d: error: %s: %.*s\n", p->rank, what, len, msg);
    MPI_Abort(comm_of(p), 1);
}

static void average(const bprt_parallel *p, void *buf, long count, int elem_size, double weight)
{
    check(p, weighted_sum(buf, count, elem_size, weight, comm_of(p)), "averaging the gradients");
}

static void sum(const bprt_parallel *p, double *v, int count)
{
    check(p, weighted_sum(v, count, 8, 1, comm_of(p)), "summing across the ranks");
}

int bprt_trainer_main(const bprt_trainer *t, int argc, char **argv)
{
    if (MPI_Init(&argc, &argv) != MPI_SUCCESS) {
        fprintf(stderr, "%s: error: MPI_Init failed\n", t->name);
        return 1;
    }
    MPI_Comm comm = MPI_COMM_WORLD;
    bprt_parallel par = {.ctx = &comm, .average = average, .sum = sum};
    MPI_Comm_rank(comm, &par.rank);
    MPI_Comm_size(comm, &par.size);
    /* Rank 0 prints; every rank reports its own errors on standard error. */
    int null = par.rank > 0 ? open("/dev/null", O_WRONLY) : -1;
    if (null >= 0) {
        dup2(null, STDOUT_FILENO);
        close(null);
    }
    int rc = bprt_trainer_run(t, &par, argc, argv);
    if (rc != 0 && par.size > 1)
        MPI_Abort(comm, rc); /* the others may be waiting in a collective */
    MPI_Finalize();
    return rc;
}
