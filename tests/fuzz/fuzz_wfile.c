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
 * the parameters NaN; INT64_MAX overflows at the next step).
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

/* Reads the file as `info` describes, with xor's 2 inputs' statistics; the buffers
 * and the statistics hold a canary unless it succeeded.  The refusal's message is made
 * too (bprt_file_explain reads the file again). */
static void read_as(const char *file, uint32_t kind, uint32_t elem_size, uint32_t nbuffers)
{
    bprt_file_info info = {.kind = kind, .elem_size = elem_size, .count = COUNT,
                           .nbuffers = nbuffers, .fingerprint = bprt_fingerprint(SHAPE)};
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
    read_as(file, BPRT_FILE_WEIGHTS, 4, 1);
    read_as(file, BPRT_FILE_WEIGHTS, 8, 1);
    read_as(file, BPRT_FILE_CHECKPOINT, 8, 3);
    return 0;
}
