/*
 * fuzz_wfile.c - libFuzzer target: the weight-file and checkpoint reader
 * (bprt_file_read_stats, bprt_file_explain, docs/WEIGHTS.md) on arbitrary bytes, for a
 * small fixed network: xor's shapes, 2-4-1, 17 parameters.  Each input is read three
 * ways: as a float weights file, a double weights file and a double checkpoint with
 * Adam's two state buffers.  The reader takes a path, so the bytes go through a file in
 * /dev/shm (or $TMPDIR).  The reader must never touch the buffers or the statistics
 * unless it returns BPRT_OK, and
 * a checkpoint it accepts must have a step counter the generated code can go on from
 * (0 <= step < INT64_MAX: a negative step makes Adam's bias correction negative and
 * the parameters NaN; INT64_MAX overflows at the next step).  The same bytes in memory
 * (bprt_mem_read, bprt_stats_read_mem) must read exactly as the file does.
 *
 * Built and run by `make fuzz` (docs/TESTING.md); seeds in tests/fuzz/corpus/wfile/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bprt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { COUNT = 2 * 4 + 4 + 4 * 1 + 1 }; /* xor: W1 [4][2], b1 [4], W2 [1][4], b2 [1] */
#define SHAPE "in=2;dense=4;dense=1"

static char path[256];

static void remove_file(void)
{
    remove(path);
}

static const char *scratch_path(void)
{
    if (!path[0]) {
        const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
        snprintf(path, sizeof path, "%s/bpc-fuzz-wfile-%ld", dir ? dir : "/tmp", (long)getpid());
        atexit(remove_file);
    }
    return path;
}

/* bprt_mem_read on the file's bytes gives bprt_file_read's code and values. */
static void same_in_memory(const char *file, const uint8_t *data, size_t size,
                           const bprt_file_info *info)
{
    double fbufs[3][COUNT], mbufs[3][COUNT];
    void *fptrs[3] = {fbufs[0], fbufs[1], fbufs[2]}, *mptrs[3] = {mbufs[0], mbufs[1], mbufs[2]};
    memset(fbufs, 0xA5, sizeof fbufs);
    memset(mbufs, 0xA5, sizeof mbufs);
    int64_t fstep = -1, mstep = -1;
    int from_file = bprt_file_read(file, info, fptrs, &fstep);
    if (bprt_mem_read(data, size, info, mptrs, &mstep) != from_file ||
        memcmp(fbufs, mbufs, sizeof fbufs) != 0 || fstep != mstep)
        abort();
}

/* Reads the file as `info` describes, with xor's 2 inputs' statistics; the buffers
 * and the statistics hold a canary unless it succeeded.  The refusal's message is made
 * too (bprt_file_explain reads the file again). */
static void read_as(const char *file, const uint8_t *data, size_t size, uint32_t kind,
                    uint32_t elem_size, uint32_t nbuffers)
{
    bprt_file_info info = {.kind = kind, .elem_size = elem_size, .count = COUNT,
                           .nbuffers = nbuffers, .fingerprint = bprt_fingerprint(SHAPE)};
    same_in_memory(file, data, size, &info);
    double bufs[3][COUNT], mean[2], std[2]; /* large enough for doubles */
    void *ptrs[3] = {bufs[0], bufs[1], bufs[2]};
    memset(bufs, 0xA5, sizeof bufs);
    memset(mean, 0xA5, sizeof mean);
    memset(std, 0xA5, sizeof std);
    bprt_stats stats = {.inputs = 2, .found = -1, .mean = mean, .std = std};
    int64_t step = -12345;
    int err = bprt_file_read_stats(file, &info, ptrs, &step, &stats);
    char msg[BPRT_ERR_SIZE];
    bprt_file_explain(msg, file, &info, err);
    if (err == BPRT_OK) {
        if (stats.found != 0 && stats.found != 1)
            abort();
        if (kind == BPRT_FILE_CHECKPOINT && (step < 0 || step == INT64_MAX))
            abort();
        return;
    }
    if (err < 0 || !strcmp(bprt_strerror(err), "unknown error code"))
        abort();
    for (size_t i = 0; i < sizeof bufs; i++)
        if (((unsigned char *)bufs)[i] != 0xA5)
            abort(); /* a failed read wrote into the buffers */
    for (size_t i = 0; i < sizeof mean; i++)
        if (((unsigned char *)mean)[i] != 0xA5 || ((unsigned char *)std)[i] != 0xA5)
            abort(); /* or into the statistics */
    if (stats.found != -1)
        abort();
    if (step != -12345)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *file = scratch_path();
    FILE *f = fopen(file, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
    read_as(file, data, size, BPRT_FILE_WEIGHTS, 4, 1);
    read_as(file, data, size, BPRT_FILE_WEIGHTS, 8, 1);
    read_as(file, data, size, BPRT_FILE_CHECKPOINT, 8, 3);
    /* the statistics alone, against the file's own header */
    double fm[2], fs[2], mm[2], ms[2];
    memset(fm, 0xA5, sizeof fm);
    memset(fs, 0xA5, sizeof fs);
    memcpy(mm, fm, sizeof mm);
    memcpy(ms, fs, sizeof ms);
    bprt_stats fst = {.inputs = 2, .found = -1, .mean = fm, .std = fs}, mst = fst;
    mst.mean = mm;
    mst.std = ms;
    if (bprt_stats_read(file, &fst) != bprt_stats_read_mem(data, size, &mst) ||
        fst.found != mst.found || memcmp(fm, mm, sizeof fm) || memcmp(fs, ms, sizeof fs))
        abort();
    return 0;
}
