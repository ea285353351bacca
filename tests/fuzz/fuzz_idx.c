/*
 * fuzz_idx.c - libFuzzer target: the IDX (MNIST) loader, bprt_idx_parse, on arbitrary
 * bytes.  The first 3 bytes choose where the input splits into the images file and the
 * labels file, and the class count; the rest holds the two files.  Besides the
 * sanitizers' checks: a successful load has pixels in [0, 1], labels in range and
 * one-hot targets.
 *
 * Built and run by `make fuzz` (docs/TESTING.md); seeds in tests/fuzz/corpus/idx/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bprt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)          \
    do {                     \
        if (!(cond))         \
            abort();         \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    size_t rest = size - 3;
    size_t split = ((size_t)data[0] << 8 | data[1]) % (rest + 1);
    int classes = (int)data[2] - 1; /* -1 and 0: from the largest label */
    const unsigned char *images = data + 3, *labels = images + split;

    /* Copies of exactly the files' lengths, so that ASan sees any read past them. */
    unsigned char *im = malloc(split ? split : 1), *lb = malloc(rest - split ? rest - split : 1);
    if (!im || !lb)
        abort();
    memcpy(im, images, split);
    memcpy(lb, labels, rest - split);

    char err[BPRT_ERR_SIZE];
    memset(err, 'x', sizeof err);
    bprt_data d;
    int rc = bprt_idx_parse("images.idx", im, split, "labels.idx", lb, rest - split, classes, &d,
                            err);
    if (rc == BPRT_OK) {
        CHECK(d.rows > 0 && d.inputs > 0 && d.x && d.label && d.t && d.classes > 0);
        CHECK(d.outputs == d.classes && (classes <= 0 || d.classes == classes));
        for (size_t i = 0; i < (size_t)d.rows * (size_t)d.inputs; i++)
            CHECK(d.x[i] >= 0 && d.x[i] <= 1);
        for (int r = 0; r < d.rows; r++) {
            CHECK(d.label[r] >= 0 && d.label[r] < d.classes);
            CHECK(d.t[(size_t)r * (size_t)d.classes + (size_t)d.label[r]] == 1);
        }
        bprt_data_free(&d);
    } else {
        CHECK(rc == BPRT_E_DATA || rc == BPRT_E_NOMEM || rc == BPRT_E_MAGIC ||
              rc == BPRT_E_TRUNCATED);
        CHECK(memchr(err, '\0', sizeof err) != NULL);
        CHECK(d.x == NULL && d.t == NULL && d.label == NULL);
    }
    free(im);
    free(lb);
    return 0;
}
