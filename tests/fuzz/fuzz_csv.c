/*
 * fuzz_csv.c - libFuzzer target: the CSV loader (bprt_csv_parse, bprt_csv_row) on
 * arbitrary bytes, then what a trainer does with what it loaded (one-hot labels,
 * statistics and standardization, shuffle, split, slice).  The first 4 bytes choose
 * the column specification; the rest is the file.  Besides the sanitizers' checks: a
 * successful load holds only finite numbers, labels in range and one-hot targets.
 *
 * Built and run by `make fuzz` (docs/TESTING.md); seeds in tests/fuzz/corpus/csv/.
 */
#include <math.h>
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

static void check_data(const bprt_data *d, const bprt_csv_spec *spec)
{
    CHECK(d->rows > 0 && d->inputs > 0 && d->x);
    if (spec->inputs > 0)
        CHECK(d->inputs == spec->inputs);
    for (size_t i = 0; i < (size_t)d->rows * (size_t)d->inputs; i++)
        CHECK(isfinite(d->x[i]));
    if (spec->classes > 0) {
        CHECK(d->classes == spec->classes && d->outputs == spec->classes && d->label && d->t);
        for (int r = 0; r < d->rows; r++) {
            CHECK(d->label[r] >= 0 && d->label[r] < d->classes);
            double sum = 0;
            for (int c = 0; c < d->classes; c++)
                sum += d->t[(size_t)r * (size_t)d->classes + (size_t)c];
            CHECK(sum == 1 && d->t[(size_t)r * (size_t)d->classes + (size_t)d->label[r]] == 1);
        }
    } else {
        CHECK(d->outputs == spec->targets && !d->label);
        CHECK(d->outputs == 0 || d->t);
        for (size_t i = 0; i < (size_t)d->rows * (size_t)d->outputs; i++)
            CHECK(isfinite(d->t[i]));
    }
}

/* What a trainer does with a loaded set. */
static void use_data(bprt_data *d, uint64_t seed)
{
    char err[BPRT_ERR_SIZE];
    double *mean = malloc((size_t)d->inputs * sizeof *mean);
    double *std = malloc((size_t)d->inputs * sizeof *std);
    if (mean && std) {
        bprt_data_stats(d, mean, std);
        bprt_data_standardize(d, mean, std);
    }
    free(mean);
    free(std);
    CHECK(bprt_data_shuffle(d, seed, err) == BPRT_OK);
    bprt_data train, valid, part;
    if (bprt_data_split(d, 0.25, &train, &valid, err) == BPRT_OK) {
        CHECK(train.rows + valid.rows == d->rows && train.rows > 0 && valid.rows > 0);
        bprt_data_free(&train);
        bprt_data_free(&valid);
    } else {
        CHECK(memchr(err, '\0', sizeof err) && train.x == NULL && valid.x == NULL);
    }
    if (bprt_data_slice(d, d->rows / 2, d->rows - d->rows / 2, &part, err) == BPRT_OK)
        bprt_data_free(&part);
    else
        abort();
    CHECK(bprt_data_slice(d, d->rows, 1, &part, err) != BPRT_OK && part.x == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    bprt_csv_spec spec = {
        .inputs = data[0] % 8,
        .targets = data[1] % 4,
        .classes = data[2] % 5,
        .label_column = data[3] % 9 - 1,
        .header = (data[3] >> 4) % 3 - 1,
    };
    const char *text = (const char *)data + 4;
    size_t len = size - 4;

    char err[BPRT_ERR_SIZE];
    memset(err, 'x', sizeof err);
    bprt_data d;
    int rc = bprt_csv_parse("fuzz.csv", text, len, &spec, &d, err);
    if (rc == BPRT_OK) {
        check_data(&d, &spec);
        use_data(&d, data[1]);
        bprt_data_free(&d);
    } else {
        CHECK(rc == BPRT_E_DATA || rc == BPRT_E_NOMEM || rc == BPRT_E_ARG);
        CHECK(memchr(err, '\0', sizeof err) != NULL); /* a message, terminated */
        CHECK(d.x == NULL && d.t == NULL && d.label == NULL && d.rows == 0);
    }

    /* The first line alone, as a trainer's predict reads rows. */
    const char *nl = memchr(text, '\n', len);
    size_t line_len = nl ? (size_t)(nl - text) : len;
    double values[16];
    int count = -1, max = data[0] % 17;
    rc = bprt_csv_row(text, line_len, values, max, &count, err);
    CHECK(count >= 0);
    if (rc == BPRT_OK) {
        CHECK(count <= max);
        for (int i = 0; i < count; i++)
            CHECK(isfinite(values[i]));
    }
    return 0;
}
