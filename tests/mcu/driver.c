/*
 * driver.c - the MCU test (docs/EMBEDDED.md).  Trains examples/xor.bp, blobs.bp (a
 * 16-32-4 classifier with Adam) and dreg.bp (a regression in double precision), and
 * prints FNV-1a hashes of their parameters, outputs and in-memory weight files, which
 * must be the same on the boards as on the host; checks that each model learned, that
 * weights and checkpoints round-trip through memory and that a corrupt image is
 * refused; ends with a wrong sample count, which its own bprt_bad_count catches.
 * Prints only through mcu_print: the firmware links no stdio.
 */
#include <stdint.h>
#include <string.h>

#include "blobs.h"
#include "bprt.h"
#include "dreg.h"
#include "mcu.h"
#include "xor.h"

/* The driver's own arithmetic (dreg's targets) must round alike under any flags too:
 * no FMA contraction, as in the generated files. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

static int failures;

// ---- output without printf ----

static void print_int(long v)
{
    char buf[24], *p = buf + sizeof buf;
    unsigned long u = v < 0 ? 0 - (unsigned long)v : (unsigned long)v;
    *--p = 0;
    do
        *--p = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        *--p = '-';
    mcu_print(p);
}

static uint64_t fnv1a(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3u;
    return h;
}

/* "NAME WHAT 0123456789abcdef": the hash of n bytes, the same bytes on every
 * little-endian machine for the same values. */
static void print_hash(const char *name, const char *what, const void *data, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char hex[18];
    uint64_t h = fnv1a(data, n);
    for (int i = 0; i < 16; i++)
        hex[i] = digits[h >> (60 - 4 * i) & 15];
    hex[16] = '\n';
    hex[17] = 0;
    mcu_print(name);
    mcu_print(" ");
    mcu_print(what);
    mcu_print(" ");
    mcu_print(hex);
}

static void check(const char *name, const char *what, int ok)
{
    mcu_print(name);
    mcu_print(" ");
    mcu_print(what);
    mcu_print(ok ? ": ok\n" : ": FAIL\n");
    failures += !ok;
}

/* The wrong sample count at the end lands here instead of in the runtime's version,
 * which would print to stderr and abort. */
void bprt_bad_count(const char *function, int n, int batch)
{
    mcu_print(function);
    mcu_print(": n = ");
    print_int(n);
    mcu_print(" is outside 1..");
    print_int(batch);
    mcu_print(", caught by the driver's bprt_bad_count\n");
    mcu_print(failures ? "FAILED\n" : "all ok\n");
    mcu_exit(failures != 0);
}

// ---- xor: sgd with momentum, tanh and sigmoid ----

enum { XOR_STEPS = 300 };

static void test_xor(xor_model *m)
{
    static const xor_real x[4 * XOR_INPUTS] = {0, 0, 0, 1, 1, 0, 1, 1};
    static const xor_real t[4 * XOR_OUTPUTS] = {0, 1, 1, 0};
    static unsigned char ckpt[XOR_CHECKPOINT_BYTES], weights[XOR_WEIGHTS_BYTES];
    static xor_model r;

    xor_init(m, XOR_SEED);
    print_hash("xor", "init", m->params, sizeof m->params);
    const xor_real first = xor_train(m, x, t, 4);
    xor_real last = first;
    for (int i = 1; i < XOR_STEPS; i++) {
        last = xor_train(m, x, t, 4);
        if (i == XOR_STEPS / 2 - 1)
            check("xor", "checkpoint_mem", xor_checkpoint_mem(m, ckpt, sizeof ckpt) == BPRT_OK);
    }
    xor_real y[4 * XOR_OUTPUTS];
    xor_forward(m, x, y, 4);
    print_hash("xor", "params", m->params, sizeof m->params);
    print_hash("xor", "outputs", y, sizeof y);
    check("xor", "loss fell below 0.05", last < first && last < 0.05f);

    /* training resumed from the checkpoint in memory ends where the first run did */
    xor_init(&r, 1);
    check("xor", "restore_mem", xor_restore_mem(&r, ckpt, sizeof ckpt) == BPRT_OK);
    for (int i = XOR_STEPS / 2; i < XOR_STEPS; i++)
        xor_train(&r, x, t, 4);
    check("xor", "resumed training is identical", !memcmp(r.params, m->params, sizeof r.params));

    check("xor", "save_mem refuses a short buffer",
          xor_save_mem(m, weights, sizeof weights - 1) == BPRT_E_SPACE);
    check("xor", "save_mem", xor_save_mem(m, weights, sizeof weights) == BPRT_OK);
    print_hash("xor", "weights image", weights, sizeof weights);
    xor_init(&r, 1);
    const uint64_t before = fnv1a(r.params, sizeof r.params);
    weights[60] ^= 1;
    check("xor", "load_mem refuses a corrupt image",
          xor_load_mem(&r, weights, sizeof weights) == BPRT_E_CHECKSUM &&
              fnv1a(r.params, sizeof r.params) == before);
    weights[60] ^= 1;
    check("xor", "load_mem refuses a short image",
          xor_load_mem(&r, weights, sizeof weights - 1) == BPRT_E_TRUNCATED);
    check("xor", "load_mem",
          xor_load_mem(&r, weights, sizeof weights) == BPRT_OK &&
              !memcmp(r.params, m->params, sizeof r.params));
}

// ---- blobs: a 16-32-4 classifier with Adam ----

enum { BLOBS_SAMPLES = 64, BLOBS_EPOCHS = 25 };

/* Uniform inputs in [-1, 1); the class is the group of four with the largest sum. */
static void blobs_data(blobs_real *x, blobs_real *t, int *label)
{
    bprt_rng rng;
    bprt_rng_seed(&rng, 11);
    for (int s = 0; s < BLOBS_SAMPLES; s++) {
        blobs_real *row = x + s * BLOBS_INPUTS;
        float sums[BLOBS_OUTPUTS] = {0};
        for (int i = 0; i < BLOBS_INPUTS; i++) {
            row[i] = (blobs_real)bprt_rng_uniform(&rng, -1.0, 1.0);
            sums[i / 4] += row[i];
        }
        label[s] = bprt_argmax_f(sums, BLOBS_OUTPUTS);
        bprt_one_hot_f(t + s * BLOBS_OUTPUTS, BLOBS_OUTPUTS, label[s]);
    }
}

static void test_blobs(void)
{
    static blobs_real x[BLOBS_SAMPLES * BLOBS_INPUTS], t[BLOBS_SAMPLES * BLOBS_OUTPUTS];
    static blobs_real y[BLOBS_SAMPLES * BLOBS_OUTPUTS];
    static int label[BLOBS_SAMPLES];
    static blobs_model m;
    static unsigned char ckpt[BLOBS_CHECKPOINT_BYTES];

    blobs_data(x, t, label);
    blobs_init(&m, BLOBS_SEED);
    print_hash("blobs", "init", m.params, sizeof m.params);
    blobs_real first = 0, last = 0;
    for (int e = 0; e < BLOBS_EPOCHS; e++) {
        blobs_real sum = 0;
        for (int s = 0; s < BLOBS_SAMPLES; s += BLOBS_BATCH)
            sum += blobs_train(&m, x + s * BLOBS_INPUTS, t + s * BLOBS_OUTPUTS, BLOBS_BATCH);
        if (e == 0)
            first = sum;
        last = sum;
    }
    int correct = 0;
    for (int s = 0; s < BLOBS_SAMPLES; s += BLOBS_BATCH)
        blobs_forward(&m, x + s * BLOBS_INPUTS, y + s * BLOBS_OUTPUTS, BLOBS_BATCH);
    for (int s = 0; s < BLOBS_SAMPLES; s++)
        correct += bprt_argmax_f(y + s * BLOBS_OUTPUTS, BLOBS_OUTPUTS) == label[s];
    print_hash("blobs", "params", m.params, sizeof m.params);
    print_hash("blobs", "adam state", m.exp_avg_sq, sizeof m.exp_avg_sq);
    print_hash("blobs", "outputs", y, sizeof y);
    mcu_print("blobs correct ");
    print_int(correct);
    mcu_print(" of 64\n");
    check("blobs", "loss fell to a third", last < first / 3);
    check("blobs", "checkpoint_mem", blobs_checkpoint_mem(&m, ckpt, sizeof ckpt) == BPRT_OK);
    print_hash("blobs", "checkpoint image", ckpt, sizeof ckpt);
}

// ---- dreg: double precision, relu, mse, Adam ----

enum { DREG_SAMPLES = 32, DREG_EPOCHS = 50 };

static void test_dreg(void)
{
    static dreg_real x[DREG_SAMPLES * DREG_INPUTS], t[DREG_SAMPLES], y[DREG_SAMPLES];
    static dreg_model m;
    bprt_rng rng;
    bprt_rng_seed(&rng, 5);
    for (int s = 0; s < DREG_SAMPLES; s++) {
        dreg_real *row = x + s * DREG_INPUTS;
        for (int i = 0; i < DREG_INPUTS; i++)
            row[i] = bprt_rng_uniform(&rng, -1.0, 1.0);
        t[s] = row[0] * row[1] - 0.5 * row[2];
    }
    dreg_init(&m, DREG_SEED);
    print_hash("dreg", "init", m.params, sizeof m.params);
    dreg_real first = 0, last = 0;
    for (int e = 0; e < DREG_EPOCHS; e++) {
        dreg_real sum = 0;
        for (int s = 0; s < DREG_SAMPLES; s += DREG_BATCH)
            sum += dreg_train(&m, x + s * DREG_INPUTS, t + s, DREG_BATCH);
        if (e == 0)
            first = sum;
        last = sum;
    }
    for (int s = 0; s < DREG_SAMPLES; s += DREG_BATCH)
        dreg_forward(&m, x + s * DREG_INPUTS, y + s, DREG_BATCH);
    print_hash("dreg", "params", m.params, sizeof m.params);
    print_hash("dreg", "outputs", y, sizeof y);
    print_hash("dreg", "last epoch's loss", &last, sizeof last); /* mse: no libm in it */
    check("dreg", "loss fell to a fifth", last < first / 5);
}

int main(void)
{
    static xor_model m;
    test_xor(&m);
    test_blobs();
    test_dreg();
    mcu_print("xor_forward with n = 0\n");
    xor_real y[XOR_OUTPUTS];
    xor_forward(&m, m.params, y, 0);
    mcu_print("FAIL: xor_forward returned\n");
    return 1;
}
