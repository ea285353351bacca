/*
 * traincheck.c - the training driver of tests/test_gen_train.c, compiled at test time
 * with examples/xor.bp generated twice: as `xor` (unrolled, the default) and as `xorl`
 * (--unroll 0, loops).
 *
 *  1. both forms start from the same parameters, train 300 full-batch steps and end
 *     below a loss of 0.01, their parameters and forward outputs within 1e-4 of the
 *     largest (they round differently: the looped form fuses its products,
 *     gen_kernels.c);
 *  2. two models trained at the same time in two threads end bit-identical to one
 *     trained alone: the generated code keeps no state outside the model struct.
 * Exit status 0 when all checks pass.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "xor.h"
#include "xorl.h"

enum { STEPS = 300 };

static const xor_real X[4 * XOR_INPUTS] = {0, 0, 0, 1, 1, 0, 1, 1};
static const xor_real T[4 * XOR_OUTPUTS] = {0, 1, 1, 0};

static int check(const char *what, int ok)
{
    printf("%-50s %s\n", what, ok ? "ok" : "FAIL");
    return !ok;
}

typedef struct Job {
    xor_model model;
    uint64_t seed;
    xor_real loss;
} Job;

static void *train(void *arg)
{
    Job *job = arg;
    xor_init(&job->model, job->seed);
    for (int i = 0; i < STEPS; i++)
        job->loss = xor_train(&job->model, X, T, 4);
    return NULL;
}

int main(void)
{
    static xor_model u;
    static xorl_model l;
    int fails = 0;

    xor_init(&u, XOR_SEED);
    xorl_init(&l, XORL_SEED);
    fails += check("same init in both forms", !memcmp(u.params, l.params, sizeof u.params));
    xor_real lu = 0, ll = 0;
    for (int i = 0; i < STEPS; i++) {
        lu = xor_train(&u, X, T, 4);
        ll = xorl_train(&l, X, T, 4);
    }
    xor_real yu[4], yl[4];
    xor_forward(&u, X, yu, 4);
    xorl_forward(&l, X, yl, 4);
    printf("loss after %d steps: unrolled %.9g, looped %.9g\n", STEPS, (double)lu, (double)ll);
    printf("predictions: %.4f %.4f %.4f %.4f\n", (double)yu[0], (double)yu[1], (double)yu[2],
           (double)yu[3]);
    fails += check("xor trains below 0.01", xor_loss(&u, X, T, 4) < 0.01f);
    float pmax = 0, pdiff = 0, ydiff = 0;
    for (int i = 0; i < XOR_PARAMS; i++) {
        pmax = fmaxf(pmax, fabsf(u.params[i]));
        pdiff = fmaxf(pdiff, fabsf(u.params[i] - l.params[i]));
    }
    for (int i = 0; i < 4; i++)
        ydiff = fmaxf(ydiff, fabsf(yu[i] - yl[i]));
    printf("unrolled - looped: params %.3g (of max %.3g), forward %.3g\n", (double)pdiff,
           (double)pmax, (double)ydiff);
    fails += check("unrolled and looped params within 1e-4 of max", pdiff <= 1e-4f * pmax);
    fails += check("unrolled and looped forward within 1e-4", ydiff <= 1e-4f);
    fails += check("predictions round to xor",
                   yu[0] < 0.5f && yu[1] > 0.5f && yu[2] > 0.5f && yu[3] < 0.5f);

    static Job alone, a, b;
    alone.seed = a.seed = b.seed = 1234;
    train(&alone);
    pthread_t ta, tb;
    if (pthread_create(&ta, NULL, train, &a) || pthread_create(&tb, NULL, train, &b)) {
        puts("cannot start threads");
        return 1;
    }
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    fails += check("two threads: first model == trained alone",
                   !memcmp(a.model.params, alone.model.params, sizeof a.model.params) &&
                       a.loss == alone.loss);
    fails += check("two threads: second model == trained alone",
                   !memcmp(b.model.params, alone.model.params, sizeof b.model.params) &&
                       b.loss == alone.loss);
    printf("%d failed\n", fails);
    return fails ? 1 : 0;
}
