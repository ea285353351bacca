/*
 * bitcheck.c - the driver of tests/test_gen_bits.c, compiled at test time with three
 * generated networks, bd and bw (dense) and bc (convolutional).
 *
 * Each network is trained from the same seed over steps of varying sample counts (1, 2,
 * BATCH, 3, ...: every tile and both branches of the fused update) twice: with NET_train
 * (fused while grads are zero) and with NET_backward then NET_step (the unfused path the
 * MPI trainer runs), on inputs of which most chunks of 8 are 0 (the skipping paths),
 * each step's 5k mod 16 floats past a 64-byte boundary (∂W's tiles start at one).  It
 * prints one line per network: the FNV-1a hash of the losses and of the bytes of
 * params, grads and optimizer state after the last step, and "same" or "differ" for
 * the two ways of training.  The test compares the lines of many builds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bc.h"
#include "bd.h"
#include "bw.h"

static uint64_t fnv(uint64_t h, const void *p, size_t len)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < len; i++)
        h = (h ^ b[i]) * 1099511628211u;
    return h;
}

/* A small deterministic generator, in [0, 1). */
static double rnd(uint64_t *state)
{
    *state = *state * 6364136223846793005u + 1442695040888963407u;
    return (double)(*state >> 11) / 9007199254740992.0;
}

enum { STEPS = 9 };
static const int counts[STEPS] = {1, 2, 64, 3, 1, 64, 5, 1, 64};

/* Inputs with about 3 chunks of 8 in 4 all zero, and one-hot targets. */
static void data(uint64_t seed, float *x, int nx, float *t, int rows, int nt)
{
    for (int i = 0; i < nx; i += 8) {
        int zero = rnd(&seed) < 0.75;
        for (int k = i; k < i + 8 && k < nx; k++)
            x[k] = zero ? 0.0f : (float)(2 * rnd(&seed) - 1);
    }
    for (int s = 0; s < rows; s++) {
        int hot = (int)(rnd(&seed) * nt);
        for (int j = 0; j < nt; j++)
            t[s * nt + j] = j == hot ? 1.0f : 0.0f;
    }
}

#define CHECK(NET, UP)                                                                    \
    static void check_##NET(void)                                                         \
    {                                                                                     \
        enum { IN = UP##_INPUTS, OUT = UP##_OUTPUTS, B = UP##_BATCH };                    \
        static NET##_model a, b;                                                          \
        static float xs[B * IN + 16] __attribute__((aligned(64)));                        \
        static float t[B * OUT];                                                          \
        uint64_t h = 14695981039346656037u;                                               \
        NET##_init(&a, 7);                                                                \
        NET##_init(&b, 7);                                                                \
        for (int k = 0; k < STEPS; k++) {                                                 \
            int n = counts[k] < B ? counts[k] : B;                                        \
            float *x = xs + k * 5 % 16;                                                   \
            data(100 + (uint64_t)k, x, n * IN, t, n, OUT);                                \
            float la = NET##_train(&a, x, t, n);                                          \
            float lb = NET##_backward(&b, x, t, n);                                       \
            NET##_step(&b);                                                               \
            h = fnv(h, &la, sizeof la);                                                   \
            h = fnv(h, &lb, sizeof lb);                                                   \
        }                                                                                 \
        size_t from = offsetof(NET##_model, params), to = offsetof(NET##_model, step);    \
        h = fnv(h, (const char *)&a + from, to - from);                                   \
        printf("%s %016llx %s\n", #NET, (unsigned long long)h,                            \
               memcmp((const char *)&a + from, (const char *)&b + from, to - from) ? "differ" \
                                                                                   : "same"); \
    }

CHECK(bd, BD)
CHECK(bc, BC)
CHECK(bw, BW)

int main(void)
{
    check_bd();
    check_bc();
    check_bw();
    return 0;
}
