/*
 * allreduce.c - the cost of the gradient sum of data-parallel training (bench/mpi.sh,
 * docs/DISTRIBUTED.md): bprt_mpi_sum in rank order through shared memory (the ranks all
 * on one machine) and by messages (as across machines: alltoall, add, allgather; for 2
 * ranks MPI_Allreduce itself), and, for comparison, MPI_Allreduce, over float buffers of
 * 16 to 16M elements; then a fit of t = a + b·n over the sizes, the cost model the
 * documentation uses.
 *
 *     mpirun -np R build/mpi-bench/allreduce [MAX_ELEMENTS]
 *
 * Each size is timed in trials of about 10 ms, the fastest of which estimates the cost
 * on a quiet machine (the median is printed beside it).  Rank 0 prints.
 */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include <stdio.h>
#include <stdlib.h>

#include "bprt_mpi.h"

/* The ways to sum, the columns: bprt_mpi_sum on a communicator whose first sum saw
 * BPRT_MPI_SHARED unset or 0, and MPI_Allreduce. */
enum { SHARED, MESSAGES, ALLREDUCE, WAYS };
static const char *const way_name[WAYS] = {"shared memory", "messages", "MPI_Allreduce"};

/* Seconds per sum: `reps` sums, timed on every rank; the slowest rank's (a step waits
 * for the slowest). */
static double trial(float *buf, long n, int way, int reps, MPI_Comm comm)
{
    MPI_Barrier(comm);
    double t0 = MPI_Wtime();
    for (int i = 0; i < reps; i++) {
        if (way == ALLREDUCE)
            MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, comm);
        else
            bprt_mpi_sum(buf, n, 4, comm);
    }
    double mine = (MPI_Wtime() - t0) / reps, t;
    MPI_Allreduce(&mine, &t, 1, MPI_DOUBLE, MPI_MAX, comm);
    return t;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The fastest and the median of TRIALS trials of about 10 ms each: on a busy machine
 * the fastest is the estimate of the cost on a quiet one. */
enum { TRIALS = 9 };
static void time_sums(float *buf, long n, int way, MPI_Comm comm, double *best,
                      double *median)
{
    int reps = 1;
    double t;
    while ((t = trial(buf, n, way, reps, comm)) * reps < 0.01 && reps < 1 << 20)
        reps *= 2; /* the same on every rank: t is everyone's */
    double ts[TRIALS];
    for (int i = 0; i < TRIALS; i++)
        ts[i] = trial(buf, n, way, reps, comm);
    qsort(ts, TRIALS, sizeof *ts, by_value);
    *best = ts[0];
    *median = ts[TRIALS / 2];
}

/* t = a + b·n fitted to the sizes' times by least squares of the relative errors
 * (weights 1/t²), so that the small sizes, which are latency, count as much as the large
 * ones, which are bandwidth. */
static void fit(const double *n, const double *t, int k, double *a, double *b)
{
    double sw = 0, sn = 0, st = 0, snn = 0, snt = 0;
    for (int i = 0; i < k; i++) {
        double w = 1 / (t[i] * t[i]);
        sw += w;
        sn += w * n[i];
        st += w * t[i];
        snn += w * n[i] * n[i];
        snt += w * n[i] * t[i];
    }
    *b = (sw * snt - sn * st) / (sw * snn - sn * sn);
    *a = (st - *b * sn) / sw;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    long max = argc > 1 ? atol(argv[1]) : 1L << 24;
    float *buf = calloc((size_t)max, sizeof *buf);
    if (!buf) {
        fprintf(stderr, "allreduce: out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    /* a communicator for each way: bprt_mpi_sum decides at a communicator's first sum */
    MPI_Comm comm[WAYS];
    for (int w = 0; w < WAYS; w++) {
        MPI_Comm_dup(MPI_COMM_WORLD, &comm[w]);
        setenv("BPRT_MPI_SHARED", w == MESSAGES ? "0" : "1", 1);
        bprt_mpi_sum(buf, 1, 4, comm[w]);
    }
    enum { MAXK = 32 };
    double ns[MAXK], ts[WAYS][MAXK];
    int k = 0;
    if (rank == 0)
        printf("%d ranks; float elements; microseconds per sum, fastest (median) of %d trials\n"
               "%10s %20s %20s %20s\n",
               size, TRIALS, "n", way_name[SHARED], way_name[MESSAGES], way_name[ALLREDUCE]);
    for (long n = 16; n <= max && k < MAXK; n *= 4, k++) {
        double median[WAYS];
        for (int w = 0; w < WAYS; w++)
            time_sums(buf, n, w, comm[w], &ts[w][k], &median[w]);
        ns[k] = (double)n;
        if (rank == 0) {
            printf("%10ld", n);
            for (int w = 0; w < WAYS; w++)
                printf(" %10.2f (%7.2f)", ts[w][k] * 1e6, median[w] * 1e6);
            printf("\n");
        }
    }
    if (rank == 0) {
        for (int w = 0; w < WAYS; w++) {
            double a, b;
            fit(ns, ts[w], k, &a, &b);
            printf("fit of the fastest, %-13s: t = %.2f us + n x %.3f ns (%.2f GB/s of floats)\n",
                   way_name[w], a * 1e6, b * 1e9, 4 / b * 1e-9);
        }
    }
    for (int w = 0; w < WAYS; w++)
        MPI_Comm_free(&comm[w]);
    free(buf);
    MPI_Finalize();
    return 0;
}
