/*
 * gradcheck.c - the gradient-check driver of tests/test_gen.c, compiled at test time
 * with generated networks.
 *
 * The test writes nets.h: for every network configuration B it has generated four
 * variants of the same network, B##du (double, unrolled), B##dl (double, looped),
 * B##fu and B##fl (float), and nets.h defines NET and TARGETS and includes
 * gradcheck_net.h once per configuration, then defines NET_LIST(X) as X(B) for each.
 * gradcheck_net.h defines check_B(), which prints one line per check and returns the
 * number of failed checks.  Exit status: 0 when every check passed.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

enum { T_ANY, T_PROB, T_UNIT }; /* targets: any value, probability rows, in [0, 1] */

/* A small deterministic generator for inputs and targets, in [-1, 1). */
static double rnd(uint64_t *state)
{
    *state = *state * 6364136223846793005u + 1442695040888963407u;
    return (double)(*state >> 11) / 9007199254740992.0 * 2 - 1;
}

/* Inputs in [-2, 2); targets of the kind the loss expects.  Every value is a float, so
 * the float and double variants see the same data. */
static void make_data(double *x, double *t, int n, int in, int out, int kind, uint64_t seed)
{
    uint64_t st = seed;
    for (int i = 0; i < n * in; i++)
        x[i] = (float)(2 * rnd(&st));
    for (int s = 0; s < n; s++) {
        double *row = t + s * out, sum = 0;
        for (int j = 0; j < out; j++) {
            double v = rnd(&st);
            row[j] = kind == T_ANY ? 3 * v : (v + 1) / 2;
            sum += row[j];
        }
        /* Probability rows sum to 1, but the last to 0.5: the fused gradient is exact for
         * any targets. */
        if (kind == T_PROB)
            for (int j = 0; j < out; j++)
                row[j] = (float)(row[j] / sum * (s == n - 1 ? 0.5 : 1));
        else
            for (int j = 0; j < out; j++)
                row[j] = (float)row[j];
    }
}

/* |a − b| relative to |a| + |b|, with `floor` below which differences count as absolute. */
static double rel_err(double a, double b, double floor)
{
    double den = fabs(a) + fabs(b);
    return fabs(a - b) / (den > floor ? den : floor);
}

static int report(const char *net, const char *what, double err, double tol)
{
    int bad = !(err <= tol);
    printf("%-6s %-34s %-8.3g (tol %.0e) %s\n", net, what, err, tol, bad ? "FAIL" : "ok");
    return bad;
}

#include "nets.h"

int main(void)
{
    int fails = 0;
#define X(b) fails += CAT(check_, b)();
    NET_LIST(X)
#undef X
    printf("%d failed\n", fails);
    return fails ? 1 : 0;
}
