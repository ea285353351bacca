/*
 * mpi.c - the runtime's MPI part, build/libbprt_mpi.a (bprt_mpi.h, docs/DISTRIBUTED.md):
 * the gradient sums of data-parallel training, and the bprt_trainer_main that runs the
 * command-line trainer as one rank of MPI_COMM_WORLD.
 *
 * The sums are in rank order whatever the MPI library would choose: MPI_Allreduce may
 * add in any order and grouping (by message size, rank count, network), and float
 * addition is not associative, so its bits could change between runs and machines.
 * Each rank adds up one slice of the buffer, the contributions in rank order, and every
 * rank then copies the others' slices.  Ranks that all share one machine's memory do it
 * in a window of MPI-3 shared memory: copies and two barriers, no messages and nothing
 * allocated per call (for two ranks as fast as MPI_Allreduce, docs/DISTRIBUTED.md).
 * Ranks on several machines use messages, an alltoall to the slices' owners and an
 * allgather of the sums (the traffic of a ring allreduce), or for two ranks
 * MPI_Allreduce itself: each element is then one IEEE addition, which is commutative,
 * so any algorithm gives the same bits.  Both ways give the same bits.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* dup2 */
#endif
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bprt_mpi.h"

/* Where slice c of `count` elements split over `size` ranks starts. */
static int slice_start(long count, int size, int c)
{
    return (int)((long long)count * c / size);
}

/* The loops over the elements, for float (_f) and double (_d), most of a sum's time: 8
 * elements at a time, then the rest, since gcc -O2 vectorizes no loop that needs a rest
 * (its "very cheap" cost model). */
#define EACH(n, statement)                                                                 \
    long i = 0;                                                                            \
    for (; i + 8 <= (n); i += 8)                                                           \
        for (int k = 0; k < 8; k++) {                                                      \
            const long j = i + k;                                                          \
            statement;                                                                     \
        }                                                                                  \
    for (; i < (n); i++) {                                                                 \
        const long j = i;                                                                  \
        statement;                                                                         \
    }

#define ELEMENT_LOOPS(T, S)                                                                \
    static void scale_##S(T *restrict d, const T *restrict a, long n, T w)                 \
    {                                                                                      \
        EACH(n, d[j] = a[j] * w)                                                           \
    }                                                                                      \
    static void scale_in_place_##S(T *d, long n, T w)                                      \
    {                                                                                      \
        EACH(n, d[j] *= w)                                                                 \
    }                                                                                      \
    static void add_##S(T *restrict o, const T *restrict a, const T *restrict b, long n)   \
    {                                                                                      \
        EACH(n, o[j] = a[j] + b[j])                                                        \
    }                                                                                      \
    static void add_to_##S(T *restrict o, const T *restrict a, long n)                     \
    {                                                                                      \
        EACH(n, o[j] += a[j])                                                              \
    }
ELEMENT_LOOPS(float, f)
ELEMENT_LOOPS(double, d)

/* dst[0..n) := src[0..n) · weight, in the element type (weight rounded to it first);
 * dst may be src. */
static void scale(void *dst, const void *src, long n, int elem_size, double weight)
{
    if (elem_size == 4 && dst == src)
        scale_in_place_f(dst, n, (float)weight);
    else if (elem_size == 4)
        scale_f(dst, src, n, (float)weight);
    else if (dst == src)
        scale_in_place_d(dst, n, weight);
    else
        scale_d(dst, src, n, weight);
}

/* out[0..n) := in[0][0..n) + in[1][0..n) + ... + in[size-1][0..n), added in that order
 * (size >= 2; out is none of the in). */
static void add_in_order(void *out, char *const *in, int size, int n, int elem_size)
{
    if (elem_size == 4) {
        add_f(out, (const float *)in[0], (const float *)in[1], n);
        for (int c = 2; c < size; c++)
            add_to_f(out, (const float *)in[c], n);
    } else {
        add_d(out, (const double *)in[0], (const double *)in[1], n);
        for (int c = 2; c < size; c++)
            add_to_d(out, (const double *)in[c], n);
    }
}

// ---- the sum through shared memory, for ranks on one machine ----

/* Each rank's share of the window: two segments of SEGMENT bytes, used by turns.  A
 * longer buffer is summed in pieces of a segment (which stays within L2). */
enum { SEGMENT = 256 * 1024 };

/* What a communicator's sums keep from call to call (cached on it as an attribute). */
typedef struct Shared {
    int on;        /* every rank of the communicator is on one machine, and may share */
    MPI_Comm comm; /* the communicator, and a copy of it for the window's barriers */
    MPI_Comm node;
    MPI_Win win;
    int rank, size;
    unsigned turn; /* which of the two segments the next piece uses */
    char **seg;    /* seg[t·size + q]: rank q's segment t */
    char **terms;  /* add_in_order's, one per rank */
    struct Shared *next;
} Shared;

/* The attribute's key, and every communicator that has one: MPI_Finalize deletes the
 * attributes of MPI_COMM_WORLD only when it can no longer free a window, but those of
 * MPI_COMM_SELF first, so one there deletes the others' before. */
static int shared_key = MPI_KEYVAL_INVALID;
static Shared *shared_all;

static void shared_delete(Shared *sh)
{
    free(sh->seg);
    free(sh->terms);
    free(sh);
}

static int shared_free(MPI_Comm comm, int key, void *attr, void *extra)
{
    (void)comm, (void)key, (void)extra;
    Shared *sh = attr, **p = &shared_all;
    while (*p != sh)
        p = &(*p)->next;
    *p = sh->next;
    int rc = MPI_SUCCESS;
    if (sh->on) {
        MPI_Win_unlock_all(sh->win);
        MPI_Win_free(&sh->win);
        rc = MPI_Comm_free(&sh->node);
    }
    shared_delete(sh);
    return rc;
}

static int shared_free_all(MPI_Comm comm, int key, void *attr, void *extra)
{
    (void)comm, (void)key, (void)attr, (void)extra;
    int rc = MPI_SUCCESS;
    while (shared_all && rc == MPI_SUCCESS)
        rc = MPI_Comm_delete_attr(shared_all->comm, shared_key);
    return rc;
}

/* The window of comm's ranks when they all share one machine's memory and none has
 * BPRT_MPI_SHARED=0 in its environment; else sh->on stays 0 (messages). */
static int shared_make(MPI_Comm comm, Shared *sh)
{
    const char *env = getenv("BPRT_MPI_SHARED");
    int want = !(env && strcmp(env, "0") == 0), all, size, rc;
    if ((rc = MPI_Allreduce(&want, &all, 1, MPI_INT, MPI_MIN, comm)) != MPI_SUCCESS ||
        (rc = MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &sh->node)) !=
            MPI_SUCCESS)
        return rc;
    MPI_Comm_size(comm, &size);
    MPI_Comm_rank(sh->node, &sh->rank);
    MPI_Comm_size(sh->node, &sh->size);
    if (!all || sh->size < size) /* the same on every rank: the split partitions comm */
        return MPI_Comm_free(&sh->node);
    sh->seg = malloc(2 * (size_t)size * sizeof *sh->seg);
    sh->terms = malloc((size_t)size * sizeof *sh->terms);
    if (!sh->seg || !sh->terms)
        return MPI_ERR_NO_MEM;
    void *mine;
    if ((rc = MPI_Win_allocate_shared(2 * SEGMENT, 1, MPI_INFO_NULL, sh->node, &mine,
                                      &sh->win)) != MPI_SUCCESS)
        return rc;
    sh->on = 1;
    for (int q = 0; q < size; q++) {
        MPI_Aint bytes;
        int unit;
        char *base;
        if ((rc = MPI_Win_shared_query(sh->win, q, &bytes, &unit, &base)) != MPI_SUCCESS)
            return rc;
        sh->seg[q] = base;
        sh->seg[size + q] = base + SEGMENT;
    }
    /* one passive epoch for the window's life: MPI_Win_sync orders the copies */
    return MPI_Win_lock_all(MPI_MODE_NOCHECK, sh->win);
}

/* comm's Shared, made at its first sum. */
static int shared_of(MPI_Comm comm, Shared **out)
{
    int rc, found;
    if (shared_key == MPI_KEYVAL_INVALID) {
        int self_key;
        if ((rc = MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, shared_free, &shared_key,
                                         NULL)) != MPI_SUCCESS ||
            (rc = MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, shared_free_all, &self_key,
                                         NULL)) != MPI_SUCCESS ||
            (rc = MPI_Comm_set_attr(MPI_COMM_SELF, self_key, NULL)) != MPI_SUCCESS)
            return rc;
    }
    if ((rc = MPI_Comm_get_attr(comm, shared_key, out, &found)) != MPI_SUCCESS || found)
        return rc;
    Shared *sh = calloc(1, sizeof *sh);
    if (!sh)
        return MPI_ERR_NO_MEM;
    sh->comm = comm;
    if ((rc = shared_make(comm, sh)) != MPI_SUCCESS) {
        shared_delete(sh); /* MPI errors here are fatal unless comm returns them */
        return rc;
    }
    if ((rc = MPI_Comm_set_attr(comm, shared_key, sh)) != MPI_SUCCESS)
        return rc;
    sh->next = shared_all;
    shared_all = *out = sh;
    return MPI_SUCCESS;
}

/* Every rank's writes to the window before it are seen by every rank's reads after it. */
static int shared_barrier(const Shared *sh)
{
    int rc;
    if ((rc = MPI_Win_sync(sh->win)) != MPI_SUCCESS ||
        (rc = MPI_Barrier(sh->node)) != MPI_SUCCESS)
        return rc;
    return MPI_Win_sync(sh->win);
}

/* buf := the sum over the ranks of weight_r · buf_r, in rank order, a piece at a time:
 * each rank weighs its terms and writes those of the others' slices into its segment;
 * after a barrier it adds up its own slice, its term from buf and the others' from their
 * segments, into its segment; after another it copies every slice's sum into buf.  The
 * two segments take turns, so that a rank writing the next piece's terms cannot
 * overwrite a sum that another is still copying: that one has passed the next piece's
 * first barrier before the segment comes round again. */
static int shared_sum(Shared *sh, char *buf, long count, int elem_size, double weight)
{
    const int piece = SEGMENT / elem_size, me = sh->rank, size = sh->size;
    for (long at = 0; at < count; at += piece) {
        const int n = count - at < piece ? (int)(count - at) : piece;
        const int first = slice_start(n, size, me), end = slice_start(n, size, me + 1);
        char *b = buf + at * elem_size, *const *seg = sh->seg + (sh->turn++ & 1) * size;
        const size_t f = (size_t)first * elem_size, e = (size_t)end * elem_size;
        scale(seg[me], b, first, elem_size, weight);
        scale(seg[me] + e, b + e, n - end, elem_size, weight);
        if (weight != 1)
            scale(b + f, b + f, end - first, elem_size, weight);
        int rc = shared_barrier(sh);
        if (rc != MPI_SUCCESS)
            return rc;
        for (int q = 0; q < size; q++)
            sh->terms[q] = (q == me ? b : seg[q]) + f;
        add_in_order(seg[me] + f, sh->terms, size, end - first, elem_size);
        if ((rc = shared_barrier(sh)) != MPI_SUCCESS)
            return rc;
        for (int q = 0; q < size; q++) {
            const size_t from = (size_t)slice_start(n, size, q) * elem_size,
                         to = (size_t)slice_start(n, size, q + 1) * elem_size;
            memcpy(b + from, seg[q] + from, to - from);
        }
    }
    return MPI_SUCCESS;
}

// ---- the sum by messages, across machines ----

static int message_sum(char *buf, long count, int elem_size, double weight, MPI_Comm comm)
{
    int rank, size, rc;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    if (weight != 1)
        scale(buf, buf, count, elem_size, weight);
    MPI_Datatype type = elem_size == 4 ? MPI_FLOAT : MPI_DOUBLE;
    if (size == 2) /* one addition per element, b_0 + b_1 = b_1 + b_0 in any algorithm */
        return MPI_Allreduce(MPI_IN_PLACE, buf, (int)count, type, MPI_SUM, comm);

    int *counts = malloc(4 * (size_t)size * sizeof *counts);
    char **terms = malloc((size_t)size * sizeof *terms);
    const int first = slice_start(count, size, rank);
    const int mine = slice_start(count, size, rank + 1) - first;
    char *from = malloc((size_t)size * (size_t)mine * (size_t)elem_size + 1);
    if (!counts || !terms || !from) {
        free(counts);
        free(terms);
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
        terms[c] = from + (size_t)recv_at[c] * elem_size;
    }
    rc = MPI_Alltoallv(buf, send, send_at, type, from, recv, recv_at, type, comm);
    if (rc == MPI_SUCCESS) {
        add_in_order(buf + (size_t)first * elem_size, terms, size, mine, elem_size);
        rc = MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf, send, send_at, type, comm);
    }
    free(counts);
    free(terms);
    free(from);
    return rc;
}

/* buf := the sum over the ranks of weight_r · buf_r, in rank order. */
static int weighted_sum(void *buf, long count, int elem_size, double weight, MPI_Comm comm)
{
    int size, rc;
    if ((rc = MPI_Comm_size(comm, &size)) != MPI_SUCCESS)
        return rc;
    if (count < 0 || count > INT_MAX || (elem_size != 4 && elem_size != 8))
        return MPI_ERR_COUNT; /* MPI counts and displacements are ints */
    if (size == 1 || count == 0) {
        if (weight != 1)
            scale(buf, buf, count, elem_size, weight);
        return MPI_SUCCESS;
    }
    Shared *sh;
    if ((rc = shared_of(comm, &sh)) != MPI_SUCCESS)
        return rc;
    return sh->on ? shared_sum(sh, buf, count, elem_size, weight)
                  : message_sum(buf, count, elem_size, weight, comm);
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
