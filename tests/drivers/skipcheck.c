/*
 * skipcheck.c - the driver of tests/test_gen_skip.c: trains and runs the networks of
 * skipa.h, skipb.h and skipd.h (see the test) on inputs with chunks of 8 zeros (whole chunks, chunks zero in some
 * samples of a tile and not in others, chunks with one value not 0, -0, all-zero rows) and prints every parameter
 * and output bit for bit (%a).  The test builds it with and without -DBPC_NO_SKIP and
 * compares the two outputs: skipping the zero chunks must change no bit.
 */
#include <stdio.h>

#include "skipa.h"
#include "skipb.h"
#include "skipd.h"

enum { ROWS = 6 };

/* Input row r: mostly zeros in chunks, a different pattern per row. */
static void make_inputs(skipa_real *x, int width, unsigned seed)
{
    unsigned state = seed * 2654435761u + 1;
    for (int r = 0; r < ROWS; r++) {
        for (int i = 0; i < width; i++) {
            state = state * 1103515245u + 12345u;
            int chunk = i / 8;
            int zero = (chunk + r) % 3 == 0 || (r == 2 && chunk % 2 == 1) || r == 5 ||
                       (chunk % 4 == 1 && i % 8 != 7); /* only its last value not 0 */
            double v = (double)(state >> 9 & 0xffff) / 65536.0 - 0.5;
            x[r * width + i] = zero ? (i % 5 == 0 ? -0.0 : 0.0) : (skipa_real)v;
        }
    }
}

/* Prints n values, float (skipa_real) or, with `dbl`, double (skipd_real), exactly. */
static void print_all(const char *what, const void *v, long n, int dbl)
{
    printf("%s:", what);
    for (long i = 0; i < n; i++)
        printf(" %a", dbl ? ((const skipd_real *)v)[i] : (double)((const skipa_real *)v)[i]);
    printf("\n");
}

int main(void)
{
    static skipa_model a;
    static skipb_model b;
    static skipd_model dm;
    static skipd_real xd[ROWS * SKIPD_INPUTS], td[ROWS * SKIPD_OUTPUTS], yd[ROWS * SKIPD_OUTPUTS];
    static skipa_real x[ROWS * SKIPA_INPUTS], t[ROWS * SKIPA_OUTPUTS], y[ROWS * SKIPA_OUTPUTS];
    for (int r = 0; r < ROWS; r++)
        for (int k = 0; k < SKIPA_OUTPUTS; k++)
            t[r * SKIPA_OUTPUTS + k] = k == r % SKIPA_OUTPUTS;
    skipa_init(&a, 3);
    skipb_init(&b, 3);
    skipd_init(&dm, 3);
    for (int i = 0; i < ROWS * SKIPD_OUTPUTS; i++)
        td[i] = t[i];
    for (int step = 0; step < 40; step++) {
        make_inputs(x, SKIPA_INPUTS, (unsigned)step);
        /* batch 1 (the fused SGD step skips chunks), 6 (one 4-sample tile, 2 single),
         * and backward + step apart */
        const int n = step % 3 == 0 ? 1 : ROWS, r = step % ROWS;
        skipa_train(&a, x + (n == 1 ? r * SKIPA_INPUTS : 0), t + (n == 1 ? r * SKIPA_OUTPUTS : 0), n);
        for (int i = 0; i < ROWS * SKIPD_INPUTS; i++)
            xd[i] = x[i];
        skipd_train(&dm, xd + (n == 1 ? r * SKIPD_INPUTS : 0), td + (n == 1 ? r * SKIPD_OUTPUTS : 0),
                    n);
        if (step % 4 == 0) {
            skipb_backward(&b, x, t, n);
            skipb_step(&b);
        } else {
            skipb_train(&b, x, t, n);
        }
    }
    make_inputs(x, SKIPA_INPUTS, 99);
    print_all("a.params", skipa_params(&a), SKIPA_PARAMS, 0);
    print_all("b.params", skipb_params(&b), SKIPB_PARAMS, 0);
    print_all("d.params", skipd_params(&dm), SKIPD_PARAMS, 1);
    for (int i = 0; i < ROWS * SKIPD_INPUTS; i++)
        xd[i] = x[i];
    for (int n = 1; n <= ROWS; n += ROWS - 1) {
        skipa_forward(&a, x, y, n);
        print_all("a.y", y, (long)n * SKIPA_OUTPUTS, 0);
        skipb_forward(&b, x, y, n);
        print_all("b.y", y, (long)n * SKIPB_OUTPUTS, 0);
        skipd_forward(&dm, xd, yd, n);
        print_all("d.y", yd, (long)n * SKIPD_OUTPUTS, 1);
    }
    return 0;
}
