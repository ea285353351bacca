/*
 * test_runtime.c - tests of the runtime library (runtime/bprt.h): the random number
 * generator against independently computed values and statistical tolerances, the
 * weight-file format byte for byte and every error it reports, and the helpers.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bprt.h"

// ---- random numbers ----

/* The expected values come from a 20-line Python re-implementation of splitmix64
 * and xoshiro256** written from the published reference code and run once. */
Test(runtime, rng_known_outputs)
{
    bprt_rng r;
    bprt_rng_seed(&r, 0);
    cr_expect_eq(bprt_rng_next(&r), 0x99ec5f36cb75f2b4u);
    cr_expect_eq(bprt_rng_next(&r), 0xbf6e1f784956452au);
    cr_expect_eq(bprt_rng_next(&r), 0x1a5f849d4933e6e0u);
    cr_expect_eq(bprt_rng_next(&r), 0x6aa594f1262d2d2cu);
    for (int i = 4; i < 999; i++)
        bprt_rng_next(&r);
    cr_expect_eq(bprt_rng_next(&r), 0x7aac8c483a2edd2fu); /* the 1000th */
    bprt_rng_seed(&r, 12345);
    cr_expect_eq(bprt_rng_next(&r), 0xbe6a36374160d49bu);
    cr_expect_eq(bprt_rng_next(&r), 0x214aaa0637a688c6u);
}

/* Computed by the same Python code: uniform is lo + (hi - lo) * (x >> 11) * 2^-53;
 * normal is Box-Muller, u1 = 1 - (first draw), u2 = second, keeping the cosine. */
Test(runtime, rng_known_uniform_and_normal)
{
    bprt_rng r;
    bprt_rng_seed(&r, 0);
    cr_expect_eq(bprt_rng_uniform(&r, -1, 1), 0.20252599883580968);
    cr_expect(fabs(bprt_rng_normal(&r, 3, 2) - 5.648070603693521) < 1e-12);
}

Test(runtime, rng_same_seed_same_stream)
{
    bprt_rng a, b;
    bprt_rng_seed(&a, 42);
    bprt_rng_seed(&b, 42);
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(bprt_rng_next(&a), bprt_rng_next(&b), "draw %d", i);
    bprt_rng_seed(&a, 42);
    bprt_rng_seed(&b, 42);
    for (int i = 0; i < 100; i++) {
        cr_assert_eq(bprt_rng_uniform(&a, -1, 1), bprt_rng_uniform(&b, -1, 1));
        cr_assert_eq(bprt_rng_normal(&a, 0, 1), bprt_rng_normal(&b, 0, 1));
        cr_assert_eq(bprt_rng_below(&a, 7), bprt_rng_below(&b, 7));
    }
}

Test(runtime, rng_different_seeds_differ)
{
    bprt_rng a, b;
    bprt_rng_seed(&a, 1);
    bprt_rng_seed(&b, 2);
    int same = 0;
    for (int i = 0; i < 100; i++)
        same += bprt_rng_next(&a) == bprt_rng_next(&b);
    cr_expect_eq(same, 0);
}

/* [-2, 3): mean 0.5, variance 25/12.  The standard error of the mean over 1e5 draws
 * is 0.005, so the tolerances are several standard errors wide. */
Test(runtime, rng_uniform_range_and_moments)
{
    enum { N = 100000 };
    bprt_rng r;
    bprt_rng_seed(&r, 7);
    double sum = 0, sq = 0, lo = 3, hi = -2;
    for (int i = 0; i < N; i++) {
        double x = bprt_rng_uniform(&r, -2, 3);
        cr_assert(x >= -2 && x < 3, "draw %d = %g", i, x);
        sum += x;
        sq += x * x;
        lo = fmin(lo, x);
        hi = fmax(hi, x);
    }
    double mean = sum / N, var = sq / N - mean * mean;
    cr_expect(fabs(mean - 0.5) < 0.03, "mean %g", mean);
    cr_expect(fabs(var - 25.0 / 12) < 0.05, "variance %g", var);
    cr_expect(lo < -1.99 && hi > 2.99, "range [%g, %g]", lo, hi);
}

Test(runtime, rng_uniform_empty_interval)
{
    bprt_rng r;
    bprt_rng_seed(&r, 7);
    cr_expect_eq(bprt_rng_uniform(&r, 1.5, 1.5), 1.5);
}

Test(runtime, rng_normal_moments)
{
    enum { N = 100000 };
    bprt_rng r;
    bprt_rng_seed(&r, 8);
    double sum = 0, sq = 0;
    int within = 0;
    for (int i = 0; i < N; i++) {
        double x = bprt_rng_normal(&r, 1.5, 0.5);
        cr_assert(isfinite(x), "draw %d", i);
        sum += x;
        sq += x * x;
        within += fabs(x - 1.5) < 0.5;
    }
    double mean = sum / N, sd = sqrt(sq / N - mean * mean);
    cr_expect(fabs(mean - 1.5) < 0.01, "mean %g", mean);
    cr_expect(fabs(sd - 0.5) < 0.01, "std %g", sd);
    cr_expect(fabs((double)within / N - 0.6827) < 0.01, "within one std: %d", within);
}

/* Each of 10 values expects 10000 hits with a standard deviation of 95. */
Test(runtime, rng_below_range_and_uniformity)
{
    enum { N = 100000, K = 10 };
    bprt_rng r;
    bprt_rng_seed(&r, 9);
    int hits[K] = {0};
    for (int i = 0; i < N; i++) {
        uint64_t x = bprt_rng_below(&r, K);
        cr_assert_lt(x, K);
        hits[x]++;
    }
    for (int k = 0; k < K; k++)
        cr_expect(abs(hits[k] - N / K) < 500, "value %d drawn %d times", k, hits[k]);
    for (int i = 0; i < 100; i++) {
        cr_assert_eq(bprt_rng_below(&r, 1), 0);
        cr_assert_lt(bprt_rng_below(&r, (UINT64_C(1) << 63) + 1), (UINT64_C(1) << 63) + 1);
    }
}

/* For n = 3 * 2^62, plain x % n would give values below 2^62 half the time instead
 * of a third: the rejection step is what removes that bias. */
Test(runtime, rng_below_unbiased_for_large_n)
{
    enum { N = 30000 };
    const uint64_t n = UINT64_C(3) << 62;
    bprt_rng r;
    bprt_rng_seed(&r, 10);
    int low = 0;
    for (int i = 0; i < N; i++)
        low += bprt_rng_below(&r, n) < UINT64_C(1) << 62;
    cr_expect(fabs((double)low / N - 1.0 / 3) < 0.02, "%d of %d below 2^62", low, N);
}

// ---- weight files ----

static char dir[64];

static void make_dir(void)
{
    strcpy(dir, "/tmp/bprt_test_XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    char path[512];
    for (struct dirent *e; (e = readdir(d));) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            remove(path);
        }
    }
    closedir(d);
    rmdir(dir);
}

/* A path in the test's directory, valid until the next call. */
static const char *in_dir(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    static unsigned char data[4096];
    *len = fread(data, 1, sizeof data, f);
    fclose(f);
    return data;
}

static void spit(const char *path, const unsigned char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
}

static int exists(const char *path)
{
    return access(path, F_OK) == 0;
}

/* A small checkpoint: float, 3 buffers of 5 elements, step 77. */
enum { COUNT = 5, NBUF = 3, HEADER = 48, FILE_LEN = HEADER + NBUF * COUNT * 4 + 4 };

static bprt_file_info sample_info(void)
{
    return (bprt_file_info){.kind = BPRT_FILE_CHECKPOINT,
                            .elem_size = 4,
                            .fingerprint = bprt_fingerprint("in=4;dense=1"),
                            .count = COUNT,
                            .nbuffers = NBUF,
                            .step = 77};
}

static float src[NBUF][COUNT];

static const char *write_sample(void)
{
    for (int b = 0; b < NBUF; b++)
        for (int i = 0; i < COUNT; i++)
            src[b][i] = (float)(b * 10 + i) + 0.25f;
    bprt_file_info info = sample_info();
    const void *bufs[NBUF] = {src[0], src[1], src[2]};
    const char *path = in_dir("w.bin");
    cr_assert_eq(bprt_file_write(path, &info, bufs), BPRT_OK);
    return path;
}

/* Reads the sample back expecting `want`, into buffers pre-filled with a sentinel,
 * and asserts they are untouched and the step not set; from the file, and (for errors
 * of the contents) from the file's bytes in memory, which must fail alike. */
static void expect_read_error(const char *path, const bprt_file_info *expect, int want)
{
    float dst[NBUF][COUNT];
    for (int b = 0; b < NBUF; b++)
        for (int i = 0; i < COUNT; i++)
            dst[b][i] = -999.0f;
    void *bufs[NBUF] = {dst[0], dst[1], dst[2]};
    int64_t step = -1;
    int got = bprt_file_read(path, expect, bufs, &step);
    cr_assert_eq(got, want, "got %d (%s), want %d (%s)", got, bprt_strerror(got), want,
                 bprt_strerror(want));
    if (want != BPRT_E_OPEN && want != BPRT_E_IO) {
        size_t len;
        const unsigned char *data = slurp(path, &len);
        got = bprt_mem_read(data, len, expect, bufs, &step);
        cr_assert_eq(got, want, "in memory: got %d (%s), want %d (%s)", got, bprt_strerror(got),
                     want, bprt_strerror(want));
    }
    for (int b = 0; b < NBUF; b++)
        for (int i = 0; i < COUNT; i++)
            cr_assert_eq(dst[b][i], -999.0f, "buffer %d element %d changed", b, i);
    cr_assert_eq(step, -1);
}

/* Writes the sample, sets the byte at `offset` to `value` and expects `want`. */
static void expect_corrupt(size_t offset, unsigned char value, int want)
{
    const char *path = write_sample();
    size_t len;
    unsigned char *data = slurp(path, &len);
    cr_assert_eq(len, FILE_LEN);
    cr_assert_lt(offset, len);
    data[offset] = value;
    spit(path, data, len);
    bprt_file_info info = sample_info();
    expect_read_error(path, &info, want);
}

/* The exact bytes of a small checkpoint, made independently with Python's struct
 * and zlib.crc32:  b"BPCWGT\0\0" + struct.pack("<IIIIQQq", 1, 1, 4, 2, 3, fnv1a64(
 * b"in=2;dense=1"), 7) + struct.pack("<6f", 1, -2.5, 0.125, 0, 3, -0.0), then the
 * "<I" CRC-32 of all that. */
Test(runtime, file_golden_bytes, .init = make_dir, .fini = remove_dir)
{
    static const unsigned char want[] = {
        0x42, 0x50, 0x43, 0x57, 0x47, 0x54, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
        0x01, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
        0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xd3, 0x3a, 0xa7, 0x3c,
        0x84, 0xa5, 0xd5, 0x2a, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x20, 0xc0, 0x00, 0x00, 0x00, 0x3e,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x40, 0x00, 0x00, 0x00, 0x80,
        0x2b, 0xbf, 0xd2, 0x8a,
    };
    const float params[3] = {1, -2.5f, 0.125f}, moment[3] = {0, 3, -0.0f};
    const void *bufs[2] = {params, moment};
    bprt_file_info info = {.kind = BPRT_FILE_CHECKPOINT,
                           .elem_size = 4,
                           .fingerprint = bprt_fingerprint("in=2;dense=1"),
                           .count = 3,
                           .nbuffers = 2,
                           .step = 7};
    const char *path = in_dir("golden.bin");
    cr_assert_eq(bprt_file_write(path, &info, bufs), BPRT_OK);
    size_t len;
    unsigned char *data = slurp(path, &len);
    cr_assert_eq(len, sizeof want);
    for (size_t i = 0; i < len; i++)
        cr_expect_eq(data[i], want[i], "byte %zu: 0x%02x, want 0x%02x", i, data[i], want[i]);
    cr_expect(!exists(in_dir("golden.bin.tmp")), "temporary file left behind");

    /* the same bytes in memory, and nothing written past them */
    unsigned char mem[sizeof want + 1];
    memset(mem, 0xa5, sizeof mem);
    cr_assert_eq(bprt_mem_write(mem, sizeof mem, &info, bufs), BPRT_OK);
    cr_expect_eq(memcmp(mem, want, sizeof want), 0);
    cr_expect_eq(mem[sizeof want], 0xa5);
}

/* A buffer one byte short is refused and left as it was; the bytes read back from
 * memory exactly as from a file, step included. */
Test(runtime, mem_write_and_read)
{
    float w[COUNT] = {1, -2, 0.5f, 3, -0.0f}, m1[COUNT] = {4, 5, 6, 7, 8}, m2[COUNT] = {9};
    const void *out[NBUF] = {w, m1, m2};
    bprt_file_info info = sample_info();
    unsigned char mem[FILE_LEN];
    memset(mem, 0xa5, sizeof mem);
    cr_expect_eq(bprt_mem_write(mem, FILE_LEN - 1, &info, out), BPRT_E_SPACE);
    for (size_t i = 0; i < sizeof mem; i++)
        cr_assert_eq(mem[i], 0xa5, "byte %zu written", i);
    info.elem_size = 3;
    cr_expect_eq(bprt_mem_write(mem, sizeof mem, &info, out), BPRT_E_TYPE);
    info = sample_info();
    cr_assert_eq(bprt_mem_write(mem, sizeof mem, &info, out), BPRT_OK);

    float r[NBUF][COUNT];
    void *in[NBUF] = {r[0], r[1], r[2]};
    int64_t step = 0;
    cr_assert_eq(bprt_mem_read(mem, sizeof mem, &info, in, &step), BPRT_OK);
    cr_expect_eq(step, 77);
    cr_expect_eq(memcmp(r[0], w, sizeof w), 0);
    cr_expect_eq(memcmp(r[1], m1, sizeof m1), 0);
    cr_expect_eq(memcmp(r[2], m2, sizeof m2), 0);
    cr_expect(signbit(r[0][4]));
    cr_expect_eq(bprt_mem_read(NULL, 0, &info, in, &step), BPRT_E_TRUNCATED);
}

/* Bit patterns survive, NaN payload, -0 and infinities included. */
Test(runtime, file_roundtrip_float_weights, .init = make_dir, .fini = remove_dir)
{
    enum { N = 1000 }; /* several stack chunks, not a multiple of one */
    static float w[N], r[N];
    for (int i = 0; i < N; i++)
        w[i] = (float)i * 0.37f - 100.0f;
    w[1] = -0.0f;
    w[2] = INFINITY;
    w[3] = -INFINITY;
    w[4] = 1e-40f; /* subnormal */
    uint32_t nan_bits = 0x7fc12345;
    memcpy(&w[5], &nan_bits, 4);
    bprt_file_info info = {.kind = BPRT_FILE_WEIGHTS,
                           .elem_size = 4,
                           .fingerprint = 1,
                           .count = N,
                           .nbuffers = 1,
                           .step = 0};
    const void *out[1] = {w};
    void *in[1] = {r};
    const char *path = in_dir("f.bin");
    cr_assert_eq(bprt_file_write(path, &info, out), BPRT_OK);
    int64_t step = -1;
    cr_assert_eq(bprt_file_read(path, &info, in, &step), BPRT_OK);
    cr_expect_eq(step, 0);
    cr_expect_eq(memcmp(w, r, sizeof w), 0);
    cr_expect(signbit(r[1]));
}

Test(runtime, file_roundtrip_double_checkpoint, .init = make_dir, .fini = remove_dir)
{
    enum { N = 300 };
    static double w[3][N], r[3][N];
    for (int b = 0; b < 3; b++)
        for (int i = 0; i < N; i++)
            w[b][i] = sin(b * 1000 + i) * 1e10;
    bprt_file_info info = {.kind = BPRT_FILE_CHECKPOINT,
                           .elem_size = 8,
                           .fingerprint = bprt_fingerprint("in=3;dense=100"),
                           .count = N,
                           .nbuffers = 3,
                           .step = INT64_C(1) << 40};
    const void *out[3] = {w[0], w[1], w[2]};
    void *in[3] = {r[0], r[1], r[2]};
    const char *path = in_dir("d.bin");
    cr_assert_eq(bprt_file_write(path, &info, out), BPRT_OK);
    int64_t step = 0;
    cr_assert_eq(bprt_file_read(path, &info, in, &step), BPRT_OK);
    cr_expect_eq(step, INT64_C(1) << 40);
    for (int b = 0; b < 3; b++)
        for (int i = 0; i < N; i++)
            cr_assert_eq(r[b][i], w[b][i], "buffer %d element %d", b, i);
}

/* A negative step checks the two's complement conversion back; step may be NULL. */
/* A checkpoint's step goes on counting in the generated code: a negative one, or one
 * at INT64_MAX (which would overflow), is refused with the buffers untouched. */
Test(runtime, checkpoint_step_out_of_range, .init = make_dir, .fini = remove_dir)
{
    const int64_t bad[] = {-1, INT64_MIN + 3, INT64_MAX};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        double w = 2.5, r = 7;
        bprt_file_info info = {.kind = BPRT_FILE_CHECKPOINT, .elem_size = 8, .count = 1,
                               .nbuffers = 1, .step = bad[k]};
        const void *out[1] = {&w};
        void *in[1] = {&r};
        const char *path = in_dir("s.bin");
        cr_assert_eq(bprt_file_write(path, &info, out), BPRT_OK);
        int64_t step = 11;
        cr_expect_eq(bprt_file_read(path, &info, in, &step), BPRT_E_STEP);
        cr_expect_eq(step, 11);
        cr_expect_eq(r, 7);
    }
}

Test(runtime, file_roundtrip_largest_step_and_null_step, .init = make_dir, .fini = remove_dir)
{
    double w = 2.5, r = 0;
    bprt_file_info info = {.kind = BPRT_FILE_CHECKPOINT, .elem_size = 8, .count = 1,
                           .nbuffers = 1, .step = INT64_MAX - 1};
    const void *out[1] = {&w};
    void *in[1] = {&r};
    const char *path = in_dir("s.bin");
    cr_assert_eq(bprt_file_write(path, &info, out), BPRT_OK);
    int64_t step = 0;
    cr_assert_eq(bprt_file_read(path, &info, in, &step), BPRT_OK);
    cr_expect_eq(step, INT64_MAX - 1);
    r = 0;
    cr_assert_eq(bprt_file_read(path, &info, in, NULL), BPRT_OK);
    cr_expect_eq(r, 2.5);
}

Test(runtime, file_write_replaces_old_file, .init = make_dir, .fini = remove_dir)
{
    const char *path = write_sample();
    float w[COUNT] = {9, 8, 7, 6, 5}, r[COUNT] = {0};
    bprt_file_info info = sample_info();
    info.kind = BPRT_FILE_WEIGHTS;
    info.nbuffers = 1;
    const void *out[1] = {w};
    void *in[1] = {r};
    cr_assert_eq(bprt_file_write(path, &info, out), BPRT_OK);
    cr_assert_eq(bprt_file_read(path, &info, in, NULL), BPRT_OK);
    cr_expect_eq(memcmp(w, r, sizeof w), 0);
}

Test(runtime, file_write_errors_leave_no_file, .init = make_dir, .fini = remove_dir)
{
    float w[COUNT] = {0};
    const void *out[1] = {w};
    bprt_file_info info = sample_info();
    info.nbuffers = 1;
    const char *path = in_dir("x.bin");

    info.elem_size = 2;
    cr_expect_eq(bprt_file_write(path, &info, out), BPRT_E_TYPE);
    info.elem_size = 4;
    info.kind = 2;
    cr_expect_eq(bprt_file_write(path, &info, out), BPRT_E_KIND);
    cr_expect(!exists(path));
    cr_expect(!exists(in_dir("x.bin.tmp")));
    info.kind = BPRT_FILE_WEIGHTS;
    cr_expect_eq(bprt_file_write(in_dir("no/such/dir.bin"), &info, out), BPRT_E_OPEN);
}

Test(runtime, file_error_open, .init = make_dir, .fini = remove_dir)
{
    bprt_file_info info = sample_info();
    expect_read_error(in_dir("missing.bin"), &info, BPRT_E_OPEN);
}

/* A directory opens but cannot be read. */
Test(runtime, file_error_io, .init = make_dir, .fini = remove_dir)
{
    bprt_file_info info = sample_info();
    expect_read_error(dir, &info, BPRT_E_IO);
}

Test(runtime, file_error_magic, .init = make_dir, .fini = remove_dir)
{
    expect_corrupt(0, 'X', BPRT_E_MAGIC);
    expect_corrupt(7, 1, BPRT_E_MAGIC);
    /* a short file that is not a weight file at all */
    spit(in_dir("text"), (const unsigned char *)"hi\n", 3);
    bprt_file_info info = sample_info();
    expect_read_error(in_dir("text"), &info, BPRT_E_MAGIC);
}

Test(runtime, file_error_version, .init = make_dir, .fini = remove_dir)
{
    expect_corrupt(8, 3, BPRT_E_VERSION);
    expect_corrupt(11, 1, BPRT_E_VERSION);
}

Test(runtime, file_error_kind, .init = make_dir, .fini = remove_dir)
{
    expect_corrupt(12, BPRT_FILE_WEIGHTS, BPRT_E_KIND);
    /* the same file read where weights are expected */
    const char *path = write_sample();
    bprt_file_info info = sample_info();
    info.kind = BPRT_FILE_WEIGHTS;
    expect_read_error(path, &info, BPRT_E_KIND);
}

Test(runtime, file_error_type, .init = make_dir, .fini = remove_dir)
{
    expect_corrupt(16, 8, BPRT_E_TYPE);
    const char *path = write_sample();
    bprt_file_info info = sample_info();
    info.elem_size = 8;
    expect_read_error(path, &info, BPRT_E_TYPE);
    info.elem_size = 3; /* an impossible expectation is refused too */
    expect_read_error(path, &info, BPRT_E_TYPE);
}

Test(runtime, file_error_fingerprint, .init = make_dir, .fini = remove_dir)
{
    expect_corrupt(32, 0, BPRT_E_FINGERPRINT);
    const char *path = write_sample();
    bprt_file_info info = sample_info();
    info.fingerprint = bprt_fingerprint("in=4;dense=2");
    expect_read_error(path, &info, BPRT_E_FINGERPRINT);
}

Test(runtime, file_error_size, .init = make_dir, .fini = remove_dir)
{
    expect_corrupt(20, NBUF - 1, BPRT_E_SIZE); /* nbuffers */
    expect_corrupt(24, COUNT + 1, BPRT_E_SIZE); /* count */
    expect_corrupt(31, 0x80, BPRT_E_SIZE);      /* count's top byte: a huge count */
    const char *path = write_sample();
    bprt_file_info info = sample_info();
    info.count = COUNT - 1;
    expect_read_error(path, &info, BPRT_E_SIZE);
}

Test(runtime, file_error_truncated, .init = make_dir, .fini = remove_dir)
{
    static const size_t lengths[] = {0, 1, 7, 8, 30, 47, 48, 49, 60, FILE_LEN - 4, FILE_LEN - 1};
    const char *path = write_sample();
    size_t len;
    unsigned char data[FILE_LEN];
    memcpy(data, slurp(path, &len), FILE_LEN);
    cr_assert_eq(len, FILE_LEN);
    bprt_file_info info = sample_info();
    for (size_t i = 0; i < sizeof lengths / sizeof *lengths; i++) {
        spit(path, data, lengths[i]);
        cr_log_info("truncated to %zu bytes", lengths[i]);
        expect_read_error(path, &info, BPRT_E_TRUNCATED);
    }
}

Test(runtime, file_error_checksum, .init = make_dir, .fini = remove_dir)
{
    expect_corrupt(HEADER + 5, 0x55, BPRT_E_CHECKSUM);   /* a payload byte */
    expect_corrupt(40, 78, BPRT_E_CHECKSUM);             /* the step, which is not compared */
    expect_corrupt(FILE_LEN - 1, 0x00, BPRT_E_CHECKSUM); /* the checksum itself */
}

Test(runtime, file_error_trailing, .init = make_dir, .fini = remove_dir)
{
    const char *path = write_sample();
    size_t len;
    unsigned char *data = slurp(path, &len);
    data[len] = 0;
    spit(path, data, len + 1);
    bprt_file_info info = sample_info();
    expect_read_error(path, &info, BPRT_E_TRAILING);
}

Test(runtime, strerror_messages)
{
    static const char *const want[] = {
        "success",
        "cannot open the file",
        "read or write error",
        "not a bpc weight file",
        "unsupported weight file format version",
        "weights file where a checkpoint was expected, or the reverse",
        "element type differs (float or double)",
        "written for a network with different shapes",
        "parameter or buffer count differs",
        "the file is truncated",
        "checksum mismatch: the file is corrupt",
        "unexpected bytes after the end of the data",
        "the checkpoint's step counter is out of range",
        "the buffer is too small for the data",
        ("the standardization statistics are for another number of inputs, or a mean is not "
         "finite or a deviation not positive"),
        "a malformed or unknown section",
    };
    cr_assert_eq(sizeof want / sizeof *want, BPRT_E_SECTION + 1);
    for (int c = BPRT_OK; c <= BPRT_E_SECTION; c++)
        cr_expect_str_eq(bprt_strerror(c), want[c]);
    cr_expect_str_eq(bprt_strerror(-1), "unknown error code");
    cr_expect_str_eq(bprt_strerror(BPRT_E_SECTION + 1), "unknown error code");
    cr_expect_str_eq(bprt_strerror(1000000), "unknown error code");
    cr_expect_str_eq(bprt_strerror(BPRT_E_DATA), "malformed data");
    cr_expect_str_eq(bprt_strerror(BPRT_E_NOMEM), "out of memory");
    cr_expect_str_eq(bprt_strerror(BPRT_E_ARG), "invalid argument");
    cr_expect_str_eq(bprt_strerror(BPRT_E_ARG + 1), "unknown error code");
}

// ---- standardization statistics in the file (format version 2) ----

/* CRC-32 bit by bit, independent of wfile.c's table, to re-seal patched files. */
static uint32_t crc32_bits(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? c >> 1 ^ 0xEDB88320u : c >> 1;
    }
    return ~c;
}

static void reseal(unsigned char *data, size_t len)
{
    uint32_t crc = crc32_bits(data, len - 4);
    for (int i = 0; i < 4; i++)
        data[len - 4 + i] = (unsigned char)(crc >> 8 * i);
}

static uint64_t le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Weights: float, 1 buffer of 3; statistics for 2 inputs. */
enum { SP = 3, SIN = 2, STATS_AT = HEADER + SP * 4,
       STATS_LEN = STATS_AT + 8 + 16 + 8 + 16 * SIN + 4 };
static const float sweights[SP] = {1, 2, 3};
static double smean[SIN] = {5, -1}, sstd[SIN] = {2, 0.5};

static bprt_file_info stats_info(void)
{
    return (bprt_file_info){.kind = BPRT_FILE_WEIGHTS, .elem_size = 4,
                            .fingerprint = bprt_fingerprint("in=2;dense=1"), .count = SP,
                            .nbuffers = 1};
}

static const char *write_stats_sample(void)
{
    bprt_file_info info = stats_info();
    const void *bufs[1] = {sweights};
    bprt_stats st = {.inputs = SIN, .mean = smean, .std = sstd};
    const char *path = in_dir("s.bin");
    cr_assert_eq(bprt_file_write_stats(path, &info, bufs, &st), BPRT_OK);
    return path;
}

/* Reads the statistics sample expecting `want`; on an error nothing is written.  The
 * file's bytes in memory must read alike: the weights as bprt_file_read reads the file,
 * the statistics as bprt_stats_read does. */
static void expect_stats_read(const char *path, uint32_t inputs, int want)
{
    float w[SP] = {-9, -9, -9};
    double mean[4] = {-9, -9, -9, -9}, std[4] = {-9, -9, -9, -9};
    bprt_stats st = {.inputs = inputs, .found = -1, .mean = mean, .std = std};
    bprt_file_info info = stats_info();
    void *bufs[1] = {w};
    int got = bprt_file_read_stats(path, &info, bufs, NULL, &st);
    cr_assert_eq(got, want, "got %d (%s), want %d (%s)", got, bprt_strerror(got), want,
                 bprt_strerror(want));
    if (want != BPRT_OK)
        cr_expect(w[0] == -9 && mean[0] == -9 && std[0] == -9 && st.found == -1,
                  "changed on error");

    size_t len;
    const unsigned char *data = slurp(path, &len);
    float wm[SP] = {-9, -9, -9};
    void *mbufs[1] = {wm};
    int file = bprt_file_read(path, &info, bufs, NULL);
    got = bprt_mem_read(data, len, &info, mbufs, NULL);
    cr_assert_eq(got, file, "weights in memory: got %d (%s), the file %d (%s)", got,
                 bprt_strerror(got), file, bprt_strerror(file));
    cr_expect(file ? wm[0] == -9 : memcmp(wm, w, sizeof w) == 0, "weights from memory");
    double mm[4] = {-9, -9, -9, -9}, sm[4] = {-9, -9, -9, -9};
    bprt_stats mst = {.inputs = inputs, .found = -1, .mean = mm, .std = sm};
    file = bprt_stats_read(path, &st);
    got = bprt_stats_read_mem(data, len, &mst);
    cr_assert_eq(got, file, "statistics in memory: got %d (%s), the file %d (%s)", got,
                 bprt_strerror(got), file, bprt_strerror(file));
    cr_expect(file ? mst.found == -1 && mm[0] == -9
                   : mst.found == st.found && !memcmp(mm, mean, sizeof mm) &&
                         !memcmp(sm, std, sizeof sm),
              "statistics from memory");
}

/* The layout of docs/WEIGHTS.md: version 2, one section after the buffers. */
Test(runtime, file_stats_layout, .init = make_dir, .fini = remove_dir)
{
    size_t len;
    unsigned char *data = slurp(write_stats_sample(), &len);
    cr_assert_eq(len, STATS_LEN);
    cr_expect_eq(data[8], 2, "version");
    cr_expect_eq(le64(data + STATS_AT), 1, "the number of sections");
    cr_expect_eq(le64(data + STATS_AT + 8), 1, "id 1 and reserved 0");
    cr_expect_eq(le64(data + STATS_AT + 16), 8 + 16 * SIN, "the section's size");
    cr_expect_eq(le64(data + STATS_AT + 24), SIN, "inputs");
    double v[2 * SIN];
    for (int i = 0; i < 2 * SIN; i++) {
        uint64_t u = le64(data + STATS_AT + 32 + 8 * i);
        memcpy(&v[i], &u, 8);
    }
    cr_expect(v[0] == 5 && v[1] == -1 && v[2] == 2 && v[3] == 0.5);
    cr_expect_eq(crc32_bits(data, len - 4), (uint32_t)le64(data + len - 4) & 0xFFFFFFFFu);
    cr_expect(!exists(in_dir("s.bin.tmp")), "temporary file left behind");
}

Test(runtime, file_stats_roundtrip, .init = make_dir, .fini = remove_dir)
{
    const char *path = write_stats_sample();
    float w[SP];
    double mean[SIN], std[SIN];
    bprt_stats st = {.inputs = SIN, .mean = mean, .std = std};
    bprt_file_info info = stats_info();
    void *bufs[1] = {w};
    cr_assert_eq(bprt_file_read_stats(path, &info, bufs, NULL, &st), BPRT_OK);
    cr_expect_eq(st.found, 1);
    cr_expect(w[0] == 1 && w[2] == 3 && mean[0] == 5 && mean[1] == -1 && std[1] == 0.5);
    /* the generated NAME_load's call reads the weights of such a file */
    w[0] = 0;
    cr_assert_eq(bprt_file_read(path, &info, bufs, NULL), BPRT_OK);
    cr_expect_eq(w[0], 1);
    /* the statistics alone, as a program that loaded the weights with NAME_load */
    memset(mean, 0, sizeof mean);
    st.found = -1;
    cr_assert_eq(bprt_stats_read(path, &st), BPRT_OK);
    cr_expect(st.found == 1 && mean[0] == 5 && std[0] == 2);
    float x[2 * SIN] = {7, 0, 5, -1};
    bprt_standardize_f(x, 2, SIN, mean, std);
    cr_expect(x[0] == 1 && x[1] == 2 && x[2] == 0 && x[3] == 0);
}

/* The same bytes in memory, statistics included: a buffer one byte short is refused
 * and left as it was; the image reads back as the file does. */
Test(runtime, mem_stats_roundtrip, .init = make_dir, .fini = remove_dir)
{
    size_t len;
    const unsigned char *file = slurp(write_stats_sample(), &len);
    bprt_file_info info = stats_info();
    const void *out[1] = {sweights};
    bprt_stats st = {.inputs = SIN, .mean = smean, .std = sstd};
    unsigned char mem[STATS_LEN + 1];
    memset(mem, 0xa5, sizeof mem);
    cr_expect_eq(bprt_mem_write_stats(mem, STATS_LEN - 1, &info, out, &st), BPRT_E_SPACE);
    for (size_t i = 0; i < sizeof mem; i++)
        cr_assert_eq(mem[i], 0xa5, "byte %zu written", i);
    cr_assert_eq(bprt_mem_write_stats(mem, sizeof mem, &info, out, &st), BPRT_OK);
    cr_assert_eq(len, STATS_LEN);
    cr_expect_eq(memcmp(mem, file, STATS_LEN), 0, "the file's bytes");
    cr_expect_eq(mem[STATS_LEN], 0xa5, "nothing past them");

    float w[SP];
    double mean[SIN], std[SIN];
    void *in[1] = {w};
    cr_assert_eq(bprt_mem_read(mem, STATS_LEN, &info, in, NULL), BPRT_OK);
    cr_expect(w[0] == 1 && w[1] == 2 && w[2] == 3);
    bprt_stats got = {.inputs = SIN, .mean = mean, .std = std};
    cr_assert_eq(bprt_stats_read_mem(mem, STATS_LEN, &got), BPRT_OK);
    cr_expect(got.found == 1 && mean[0] == 5 && mean[1] == -1 && std[0] == 2 && std[1] == 0.5);
    cr_expect_eq(bprt_mem_read(mem, STATS_LEN + 1, &info, in, NULL), BPRT_E_TRAILING);
    cr_expect_eq(bprt_stats_read_mem(mem, STATS_LEN - 1, &got), BPRT_E_TRUNCATED);

    /* the writers refuse the same statistics */
    double zero[SIN] = {1, 0};
    st.std = zero;
    cr_expect_eq(bprt_mem_write_stats(mem, sizeof mem, &info, out, &st), BPRT_E_STATS);
    info.shape = "in=2\n";
    cr_expect_eq(bprt_mem_write(mem, sizeof mem, &info, out), BPRT_E_SECTION);
}

/* Reading the statistics alone takes the file's header as the expectation only once
 * the magic says it is a weight file: any other file is not one. */
Test(runtime, stats_read_not_a_weight_file, .init = make_dir, .fini = remove_dir)
{
    static const char text[] = "id,sepal_length,sepal_width,petal_length,petal_width,species\n";
    spit(in_dir("iris.csv"), (const unsigned char *)text, sizeof text - 1);
    double mean[SIN], std[SIN];
    bprt_stats st = {.inputs = SIN, .mean = mean, .std = std};
    cr_expect_eq(bprt_stats_read(in_dir("iris.csv"), &st), BPRT_E_MAGIC);
    cr_expect_eq(bprt_stats_read_mem(text, sizeof text - 1, &st), BPRT_E_MAGIC);
}

/* Files without statistics: version 1 as before, read with found = 0. */
Test(runtime, file_stats_absent, .init = make_dir, .fini = remove_dir)
{
    bprt_file_info info = stats_info();
    const void *out[1] = {sweights};
    const char *path = in_dir("plain.bin");
    cr_assert_eq(bprt_file_write_stats(path, &info, out, NULL), BPRT_OK);
    size_t len;
    unsigned char *data = slurp(path, &len);
    cr_expect_eq(len, HEADER + SP * 4 + 4);
    cr_expect_eq(data[8], 1, "version");
    double mean[SIN] = {-9, -9}, std[SIN] = {-9, -9};
    bprt_stats st = {.inputs = SIN, .found = -1, .mean = mean, .std = std};
    cr_assert_eq(bprt_stats_read(path, &st), BPRT_OK);
    cr_expect(st.found == 0 && mean[0] == -9 && std[0] == -9);
}

Test(runtime, file_stats_errors, .init = make_dir, .fini = remove_dir)
{
    /* for another number of inputs than the caller's */
    expect_stats_read(write_stats_sample(), SIN + 1, BPRT_E_STATS);
    expect_stats_read(write_stats_sample(), 0, BPRT_E_STATS);
    expect_stats_read(write_stats_sample(), SIN, BPRT_OK);

    size_t len;
    unsigned char data[STATS_LEN];
    memcpy(data, slurp(write_stats_sample(), &len), STATS_LEN);
    const char *path = in_dir("s.bin");
    static const struct {
        size_t at;
        unsigned char value;
        bool reseal;
        int want;
    } cases[] = {
        {STATS_AT + 40, 0x55, false, BPRT_E_CHECKSUM}, /* a mean's byte */
        {STATS_AT + 0, 0, true, BPRT_E_SECTION},       /* no sections in version 2 */
        {STATS_AT + 0, 9, true, BPRT_E_SECTION},       /* more than there are kinds */
        {STATS_AT + 8, 9, true, BPRT_E_SECTION},       /* an unknown section */
        {STATS_AT + 12, 1, true, BPRT_E_SECTION},      /* reserved is not 0 */
        {STATS_AT + 16, 8 + 16 * SIN + 1, true, BPRT_E_SECTION}, /* size and inputs disagree */
        {STATS_AT + 24, SIN + 1, true, BPRT_E_SECTION},
        {STATS_AT + 24, 0, true, BPRT_E_SECTION},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        unsigned char bad[STATS_LEN];
        memcpy(bad, data, STATS_LEN);
        bad[cases[i].at] = cases[i].value;
        if (cases[i].reseal)
            reseal(bad, STATS_LEN);
        spit(path, bad, STATS_LEN);
        cr_log_info("case %zu", i);
        expect_stats_read(path, SIN, cases[i].want);
        double mean[SIN], std[SIN];
        bprt_stats st = {.inputs = SIN, .mean = mean, .std = std};
        cr_expect_eq(bprt_stats_read(path, &st), cases[i].want, "case %zu", i);
    }
    /* values a model cannot use, in a well-formed file */
    static const struct {
        int index; /* 0, 1 the means, 2, 3 the deviations */
        double value;
    } values[] = {{2, -2}, {3, 0}, {2, INFINITY}, {3, NAN}, {0, NAN}, {1, -INFINITY}};
    for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
        unsigned char bad[STATS_LEN];
        memcpy(bad, data, STATS_LEN);
        uint64_t u;
        memcpy(&u, &values[i].value, 8);
        for (int k = 0; k < 8; k++)
            bad[STATS_AT + 32 + 8 * values[i].index + k] = (unsigned char)(u >> 8 * k);
        reseal(bad, STATS_LEN);
        spit(path, bad, STATS_LEN);
        cr_log_info("value %zu", i);
        expect_stats_read(path, SIN, BPRT_E_STATS);
    }
    /* the writer refuses what the reader would */
    bprt_file_info info = stats_info();
    const void *out[1] = {sweights};
    double zero[SIN] = {1, 0}, nan_mean[SIN] = {NAN, 0};
    bprt_stats st = {.inputs = SIN, .mean = smean, .std = zero};
    cr_expect_eq(bprt_file_write_stats(in_dir("z.bin"), &info, out, &st), BPRT_E_STATS);
    st = (bprt_stats){.inputs = SIN, .mean = nan_mean, .std = sstd};
    cr_expect_eq(bprt_file_write_stats(in_dir("z.bin"), &info, out, &st), BPRT_E_STATS);
    st = (bprt_stats){.inputs = 0, .mean = smean, .std = sstd};
    cr_expect_eq(bprt_file_write_stats(in_dir("z.bin"), &info, out, &st), BPRT_E_STATS);
    cr_expect(!exists(in_dir("z.bin")) && !exists(in_dir("z.bin.tmp")));
}

// ---- messages that say what differs ----

/* The message for reading `path` with `expect`, after asserting the read's code. */
static const char *explained(const char *path, const bprt_file_info *expect, int want)
{
    static char msg[BPRT_ERR_SIZE];
    float dst[NBUF][COUNT];
    void *bufs[NBUF] = {dst[0], dst[1], dst[2]};
    int got = bprt_file_read(path, expect, bufs, NULL);
    cr_assert_eq(got, want, "got %d (%s)", got, bprt_strerror(got));
    bprt_file_explain(msg, path, expect, got);
    return msg;
}

Test(runtime, file_explain, .init = make_dir, .fini = remove_dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s", write_sample()); /* float, 3 buffers: adam's state */
    bprt_file_info e = sample_info();
    e.elem_size = 8;
    cr_expect_str_eq(explained(path, &e, BPRT_E_TYPE),
                     strcat(strcpy((char[600]){0}, path),
                            ": element type differs (float or double): the file holds float "
                            "values, the network is double"));
    e = sample_info();
    e.nbuffers = 2;
    cr_expect(strstr(explained(path, &e, BPRT_E_SIZE),
                     ": parameter or buffer count differs: the file holds the state of adam or "
                     "adamw (3 buffers), this network's optimizer is sgd with momentum (2 "
                     "buffers)"));
    e = sample_info();
    e.count = 4;
    cr_expect(strstr(explained(path, &e, BPRT_E_SIZE),
                     ": parameter or buffer count differs: the file holds 5 parameters, the "
                     "network 4"));
    e = sample_info();
    e.kind = BPRT_FILE_WEIGHTS;
    e.nbuffers = 1;
    cr_expect(strstr(explained(path, &e, BPRT_E_KIND),
                     ": the file is a checkpoint, a weights file was expected"));
    e = sample_info();
    e.fingerprint = bprt_fingerprint("in=4;dense=2");
    e.shape = "in=4;dense=2";
    cr_expect(strstr(explained(path, &e, BPRT_E_FINGERPRINT),
                     ": written for a network with different shapes: the file's are not "
                     "recorded in it (5 parameters), this network's in=4;dense=2 (5)"));

    /* a file that records its shape (a section) names it */
    bprt_file_info info = sample_info();
    info.shape = "in=4;dense=1";
    const void *bufs[NBUF] = {src[0], src[1], src[2]};
    cr_assert_eq(bprt_file_write(path, &info, bufs), BPRT_OK);
    cr_expect(strstr(explained(path, &e, BPRT_E_FINGERPRINT),
                     ": written for a network with different shapes: the file's are "
                     "in=4;dense=1 (5 parameters), this network's in=4;dense=2 (5)"));
    info.shape = NULL;
    explained(path, &info, BPRT_OK); /* and reads as before */

    /* the system's reason, kept through the runtime's clean-up */
    char msg[BPRT_ERR_SIZE];
    int got = bprt_file_read(in_dir("missing"), &info, (void *[NBUF]){src[0], src[1], src[2]},
                             NULL);
    bprt_file_explain(msg, "missing", &info, got);
    cr_expect_str_eq(msg, "missing: cannot open the file: No such file or directory");
    got = bprt_file_write(in_dir("no/such/dir"), &info, bufs);
    bprt_file_explain(msg, "no/such/dir", NULL, got);
    cr_expect_str_eq(msg, "no/such/dir: cannot open the file: No such file or directory");
    got = bprt_file_read(dir, &info, (void *[NBUF]){src[0], src[1], src[2]}, NULL);
    bprt_file_explain(msg, "d", &info, got);
    cr_expect_str_eq(msg, "d: read or write error: Is a directory");
    bprt_file_explain(msg, "f", NULL, BPRT_E_CHECKSUM);
    cr_expect_str_eq(msg, "f: checksum mismatch: the file is corrupt");
    /* without an expectation (a program after NAME_restore failed): the file's side */
    bprt_file_explain(msg, path, NULL, BPRT_E_SIZE);
    cr_expect(strstr(msg, ": parameter or buffer count differs: the file holds the state of "
                          "adam or adamw (3 buffers)"), "%s", msg);
    bprt_file_explain(msg, path, NULL, BPRT_E_TYPE);
    cr_expect(strstr(msg, ": element type differs (float or double): the file holds float "
                          "values"), "%s", msg);
}

/* The shape section: printable ASCII, then NUL bytes to a multiple of 8. */
Test(runtime, file_shape_section, .init = make_dir, .fini = remove_dir)
{
    bprt_file_info info = stats_info();
    info.shape = "in=2;dense=1"; /* 12 bytes: 16 with the padding */
    const void *out[1] = {sweights};
    const char *path = in_dir("sh.bin");
    cr_assert_eq(bprt_file_write(path, &info, out), BPRT_OK);
    size_t len;
    unsigned char data[512];
    memcpy(data, slurp(path, &len), sizeof data);
    enum { AT = STATS_AT };
    cr_assert_eq(len, AT + 8 + 16 + 16 + 4);
    cr_expect_eq(data[8], 2);
    cr_expect_eq(le64(data + AT + 8), 2, "id 2");
    cr_expect_eq(le64(data + AT + 16), 16);
    cr_expect_eq(memcmp(data + AT + 24, "in=2;dense=1\0\0\0\0", 16), 0);
    unsigned char mem[AT + 8 + 16 + 16 + 4];
    cr_assert_eq(bprt_mem_write(mem, sizeof mem, &info, out), BPRT_OK);
    cr_expect_eq(memcmp(mem, data, sizeof mem), 0, "the same bytes in memory");
    cr_expect_eq(bprt_mem_write(mem, sizeof mem - 1, &info, out), BPRT_E_SPACE);
    info.shape = NULL;
    expect_stats_read(path, SIN, BPRT_OK);
    static const struct {
        size_t at;
        unsigned char value;
    } bad[] = {{AT + 24, '\n'}, {AT + 36 + 2, 'x'}, {AT + 36 + 3, 'x'}, {AT + 16, 15},
               {AT + 16, 0}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        unsigned char b[512];
        memcpy(b, data, len);
        b[bad[i].at] = bad[i].value;
        reseal(b, len);
        spit(path, b, len);
        cr_log_info("case %zu", i);
        expect_stats_read(path, SIN, BPRT_E_SECTION);
    }
    info.shape = "in=2\n";
    cr_expect_eq(bprt_file_write(in_dir("x.bin"), &info, out), BPRT_E_SECTION);
}

/* The trainer's sections: class names (3) and a checkpoint's trainer state (5), written
 * and read back; the other readers check and skip them; malformed ones are refused. */
Test(runtime, file_trainer_sections, .init = make_dir, .fini = remove_dir)
{
    bprt_file_info info = stats_info();
    const void *out[1] = {sweights};
    uint64_t words[3] = {1, 2, UINT64_MAX};
    float best[SP] = {7, 8, 9};
    bprt_extra x = {.nclasses = 2, .names = "ab\0c", .names_size = 5, .words = words,
                    .nwords = 3, .best = best, .nbest = SP};
    const char *path = in_dir("tr.bin");
    cr_assert_eq(bprt_file_write_extra(path, &info, out, NULL, &x), BPRT_OK);
    size_t len;
    unsigned char data[512];
    memcpy(data, slurp(path, &len), sizeof data);
    enum { AT = STATS_AT };
    /* 2 sections: names (count, "ab\0c\0", 3 NULs), state (3 words, 3 floats, 4 NULs) */
    cr_assert_eq(len, AT + 8 + 16 + 16 + 16 + 8 + 24 + 8 + 16 + 4);
    cr_expect_eq(data[8], 2, "version 2");
    cr_expect_eq(le64(data + AT), 2);
    cr_expect_eq(le64(data + AT + 8), 3, "id 3");
    cr_expect_eq(le64(data + AT + 16), 16);
    cr_expect_eq(le64(data + AT + 24), 2);
    cr_expect_eq(memcmp(data + AT + 32, "ab\0c\0\0\0\0", 8), 0);
    cr_expect_eq(le64(data + AT + 40), 5, "id 5");
    cr_expect_eq(le64(data + AT + 48), 8 + 24 + 8 + 16);
    cr_expect_eq(le64(data + AT + 56), 3);
    cr_expect_eq(le64(data + AT + 80), UINT64_MAX);
    cr_expect_eq(le64(data + AT + 88), SP);

    float w[SP] = {0};
    void *in[1] = {w};
    char names[8];
    uint64_t got_words[3] = {0};
    float got_best[SP] = {0};
    bprt_extra y = {.names = names, .names_size = sizeof names, .words = got_words, .nwords = 3,
                    .best = got_best};
    cr_assert_eq(bprt_file_read_extra(path, &info, in, NULL, NULL, &y), BPRT_OK);
    cr_expect(y.nclasses == 2 && y.names_size == 5 && !memcmp(names, "ab\0c", 5));
    cr_expect(y.has_state && y.nbest == SP && !memcmp(got_words, words, sizeof words));
    cr_expect(!memcmp(got_best, best, sizeof best) && !memcmp(w, sweights, sizeof w));
    expect_stats_read(path, SIN, BPRT_OK); /* the others skip them */
    y.nwords = 2;
    cr_expect_eq(bprt_file_read_extra(path, &info, in, NULL, NULL, &y), BPRT_E_SECTION,
                 "another word count");
    y.nwords = 3;
    y.names_size = 4;
    cr_expect_eq(bprt_file_read_extra(path, &info, in, NULL, NULL, &y), BPRT_E_SPACE);

    static const struct {
        size_t at;
        unsigned char value;
    } bad[] = {{AT + 24, 3},       /* 3 names counted, 2 there */
               {AT + 32, 0},       /* an empty name */
               {AT + 33, '\n'},    /* a control character */
               {AT + 38, 'x'},     /* padding not NUL */
               {AT + 88, 2},       /* best weights neither none nor all */
               {AT + 110, 1},      /* the state's padding not NUL */
               {AT + 48, 40}};     /* a size that does not fit */
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        unsigned char b[512];
        memcpy(b, data, len);
        b[bad[i].at] = bad[i].value;
        reseal(b, len);
        spit(path, b, len);
        cr_log_info("case %zu", i);
        expect_stats_read(path, SIN, BPRT_E_SECTION);
    }
    x.names = "ab\0\0";
    cr_expect_eq(bprt_file_write_extra(in_dir("x.bin"), &info, out, NULL, &x), BPRT_E_SECTION);
    cr_expect(!exists(in_dir("x.bin")));
}

/* The tensor table (id 4): written after the shape string, as text padded alike, and
 * read through; a repeated table or one that is not printable ASCII is refused. */
Test(runtime, file_tensor_table, .init = make_dir, .fini = remove_dir)
{
    bprt_file_info info = stats_info();
    info.shape = "in=2;dense=1";          /* 16 bytes with the padding */
    info.tensors = (const char *const[]){"d.weight=1x2@0;", "d.bias=1@2;", NULL}; /* 26 bytes: 32 */
    const void *out[1] = {sweights};
    const char *path = in_dir("t.bin");
    cr_assert_eq(bprt_file_write(path, &info, out), BPRT_OK);
    size_t len;
    unsigned char data[512];
    memcpy(data, slurp(path, &len), sizeof data);
    enum { AT = STATS_AT, T = AT + 8 + 16 + 16 };
    cr_assert_eq(len, T + 16 + 32 + 4);
    cr_expect_eq(data[8], 2);
    cr_expect_eq(le64(data + AT), 2, "two sections");
    cr_expect_eq(le64(data + T), 4, "id 4");
    cr_expect_eq(le64(data + T + 8), 32);
    cr_expect_eq(memcmp(data + T + 16, "d.weight=1x2@0;d.bias=1@2;\0\0\0\0\0\0", 32), 0);
    unsigned char mem[T + 16 + 32 + 4];
    cr_assert_eq(bprt_mem_write(mem, sizeof mem, &info, out), BPRT_OK);
    cr_expect_eq(memcmp(mem, data, sizeof mem), 0, "the same bytes in memory");
    expect_stats_read(path, SIN, BPRT_OK);
    static const struct {
        size_t at;
        unsigned char value;
    } bad[] = {{T + 16, '\t'}, {T + 16 + 30, 'x'}, {T, 2}, {T + 8, 24}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        unsigned char b[512];
        memcpy(b, data, len);
        b[bad[i].at] = bad[i].value;
        reseal(b, len);
        spit(path, b, len);
        cr_log_info("case %zu", i);
        expect_stats_read(path, SIN, BPRT_E_SECTION);
    }
    info.tensors = (const char *const[]){"d.weight=1x2@0;", "\n", NULL};
    cr_expect_eq(bprt_file_write(in_dir("x.bin"), &info, out), BPRT_E_SECTION);
}

Test(runtime, standardize_double)
{
    double x[3] = {1, 4, 10}, mean[1] = {4}, std[1] = {3};
    bprt_standardize_d(x, 3, 1, mean, std);
    cr_expect(x[0] == -1 && x[1] == 0 && x[2] == 2);
}

/* Published FNV-1a 64 test vectors. */
Test(runtime, fingerprint_fnv1a)
{
    cr_expect_eq(bprt_fingerprint(""), 0xcbf29ce484222325u);
    cr_expect_eq(bprt_fingerprint("a"), 0xaf63dc4c8601ec8cu);
    cr_expect_eq(bprt_fingerprint("foobar"), 0x85944171f73967e8u);
}

// ---- helpers ----

Test(runtime, shuffle_is_a_deterministic_permutation)
{
    enum { N = 50 };
    int a[N], b[N];
    for (int i = 0; i < N; i++)
        a[i] = b[i] = i;
    bprt_rng r1, r2;
    bprt_rng_seed(&r1, 3);
    bprt_rng_seed(&r2, 3);
    bprt_shuffle(a, N, &r1);
    bprt_shuffle(b, N, &r2);
    cr_expect_eq(memcmp(a, b, sizeof a), 0);
    int seen[N] = {0}, moved = 0;
    for (int i = 0; i < N; i++) {
        cr_assert(a[i] >= 0 && a[i] < N);
        seen[a[i]]++;
        moved += a[i] != i;
    }
    for (int i = 0; i < N; i++)
        cr_expect_eq(seen[i], 1, "%d appears %d times", i, seen[i]);
    cr_expect_gt(moved, N / 2);
    int one = 5;
    bprt_shuffle(&one, 1, &r1);
    bprt_shuffle(NULL, 0, &r1);
    cr_expect_eq(one, 5);
}

/* All 6 orders of 3 items, 60000 shuffles: 10000 each, standard deviation 91. */
Test(runtime, shuffle_is_uniform)
{
    bprt_rng r;
    bprt_rng_seed(&r, 4);
    int hits[6] = {0};
    for (int k = 0; k < 60000; k++) {
        int a[3] = {0, 1, 2};
        bprt_shuffle(a, 3, &r);
        hits[a[0] * 2 + (a[1] > a[2])]++;
    }
    for (int p = 0; p < 6; p++)
        cr_expect(abs(hits[p] - 10000) < 500, "order %d: %d times", p, hits[p]);
}

Test(runtime, argmax_first_of_largest)
{
    const float f[] = {1, 5, -2, 5, 3};
    const double d[] = {-1, -0.5, -0.5, -3};
    cr_expect_eq(bprt_argmax_f(f, 5), 1);
    cr_expect_eq(bprt_argmax_d(d, 4), 1);
    cr_expect_eq(bprt_argmax_f(f, 1), 0);
    cr_expect_eq(bprt_argmax_f(f, 0), -1);
}

Test(runtime, argmax_nan_is_smallest)
{
    const float f[] = {NAN, -INFINITY, NAN, -5};
    const double d[] = {NAN, 2, NAN, 7, NAN};
    const double all_nan[] = {NAN, NAN, NAN};
    cr_expect_eq(bprt_argmax_f(f, 4), 3);
    cr_expect_eq(bprt_argmax_f(f, 2), 1);
    cr_expect_eq(bprt_argmax_d(d, 5), 3);
    cr_expect_eq(bprt_argmax_d(all_nan, 3), 0);
}

Test(runtime, one_hot)
{
    float f[4] = {7, 7, 7, 7};
    bprt_one_hot_f(f, 4, 2);
    cr_expect(f[0] == 0 && f[1] == 0 && f[2] == 1 && f[3] == 0);
    double d[3] = {7, 7, 7};
    bprt_one_hot_d(d, 3, 0);
    cr_expect(d[0] == 1 && d[1] == 0 && d[2] == 0);
    bprt_one_hot_d(d, 3, 3); /* out of range: all zeros */
    cr_expect(d[0] == 0 && d[1] == 0 && d[2] == 0);
    bprt_one_hot_f(f, 4, -1);
    cr_expect(f[0] == 0 && f[1] == 0 && f[2] == 0 && f[3] == 0);
}
