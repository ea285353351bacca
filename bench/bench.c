/*
 * bench.c - the bpc side of `make bench`: links the code bpc generated from the .bp
 * files beside it (mlp1, mlp32, mlpinf, xor, tiny, lenet32, leninf) and times every workload of
 * docs/PERFORMANCE.md.  bench/run.sh builds it once per compiler setting and runs it
 * beside the PyTorch and FANN drivers; it prints RESULT lines (common.h).
 *
 *   bench_bpc PEER [GROUP...]
 *
 * PEER names the build in the results ("bpc", "bpc-native"); the groups are sgd1
 * (workload 1), batch (workloads 2 and 3: inference uses the weights trained by the
 * epoch), tiny (workload 4) and lenet (workload 5: LeNet-5 training at batch 32, then
 * inference at batch 1 and 256 with those weights), all of them when none is named.
 *
 * Each figure is the median of several repetitions after a warm-up.  BENCH_QUICK=1 in
 * the environment cuts the repetitions and sizes for a smoke test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "leninf.h"
#include "lenet32.h"
#include "mlp1.h"
#include "mlp32.h"
#include "mlpinf.h"
#include "tiny.h"
#include "xor.h"

enum { MAX_REPS = 15 };

static int quick;
static const char *peer = "bpc";

/* Models are large (mlpinf holds 1000 samples' activations): static, not on the stack. */
static mlp1_model m1;
static mlp32_model m32;
static mlpinf_model minf;
static xor_model mxor;
static tiny_model mtiny;
static lenet32_model mlen;
static leninf_model mleninf;

static int reps(int full)
{
    return quick ? 2 : full;
}

static int argmax(const float *v, int n)
{
    int best = 0;
    for (int j = 1; j < n; j++)
        if (v[j] > v[best])
            best = j;
    return best;
}

// ---- workload 1: per-sample SGD, lr 0.01 ----

static void sgd1(const bench_set *train)
{
    const int samples = quick ? 2000 : 10000, r = reps(5);
    double rate[MAX_REPS];
    mlp1_init(&m1, 1);
    for (int i = 0; i < 1000; i++) /* warm-up */
        mlp1_train(&m1, train->x + (size_t)i * MNIST_PIXELS, train->onehot + (size_t)i * 10, 1);
    float loss = 0;
    for (int k = 0; k < r; k++) {
        const double t0 = bench_now();
        for (int i = 0; i < samples; i++)
            loss += mlp1_train(&m1, train->x + (size_t)i * MNIST_PIXELS,
                               train->onehot + (size_t)i * 10, 1);
        rate[k] = samples / (bench_now() - t0);
    }
    printf("# %s sgd1: mean loss %.4f over the timed samples\n", peer,
           (double)loss / ((double)samples * r));
    bench_result("sgd1", peer, bench_median(rate, r));
}

// ---- workload 2: batch 32, SGD lr 0.1 momentum 0.9, one epoch ----

static float accuracy32(const bench_set *test)
{
    float y[MLP32_BATCH * MLP32_OUTPUTS];
    int right = 0;
    for (int i = 0; i < test->n; i += MLP32_BATCH) {
        const int n = test->n - i < MLP32_BATCH ? test->n - i : MLP32_BATCH;
        mlp32_forward(&m32, test->x + (size_t)i * MNIST_PIXELS, y, n);
        for (int s = 0; s < n; s++)
            right += argmax(y + s * MLP32_OUTPUTS, MLP32_OUTPUTS) == test->label[i + s];
    }
    return 100.0f * (float)right / (float)test->n;
}

static void epoch32(const bench_set *train, const bench_set *test)
{
    enum { B = MLP32_BATCH };
    static float xb[B * MNIST_PIXELS], tb[B * MNIST_CLASSES];
    const int r = reps(5), steps = (quick ? 10000 : train->n) / B;
    int *perm = malloc((size_t)train->n * sizeof *perm);
    double secs[MAX_REPS];
    float acc = 0;
    if (!perm)
        exit(1);
    for (int k = -1; k < r; k++) { /* k = -1: a short warm-up */
        uint64_t seed = 7;
        for (int i = 0; i < train->n; i++)
            perm[i] = i;
        bench_shuffle(perm, train->n, &seed);
        mlp32_init(&m32, 1);
        const int nsteps = k < 0 ? 100 : steps;
        const double t0 = bench_now();
        for (int b = 0; b < nsteps; b++) {
            for (int s = 0; s < B; s++) { /* gather the batch, as PyTorch's X[idx] does */
                const int i = perm[b * B + s];
                memcpy(xb + s * MNIST_PIXELS, train->x + (size_t)i * MNIST_PIXELS,
                       sizeof(float) * MNIST_PIXELS);
                memcpy(tb + s * MNIST_CLASSES, train->onehot + (size_t)i * MNIST_CLASSES,
                       sizeof(float) * MNIST_CLASSES);
            }
            mlp32_train(&m32, xb, tb, B);
        }
        if (k >= 0) {
            secs[k] = (bench_now() - t0) * train->n / (nsteps * B); /* quick: extrapolated */
            acc = accuracy32(test);
            printf("# %s epoch32 rep %d: %.3f s, test accuracy %.2f%%\n", peer, k, secs[k],
                   (double)acc);
        }
    }
    free(perm);
    bench_result("epoch32", peer, bench_median(secs, r));
    bench_result("acc32", peer, acc);
}

// ---- workload 3: inference at batch 1 and 1000 with the weights trained above ----

static void infer(const bench_set *test)
{
    static float y[MLPINF_BATCH * MLPINF_OUTPUTS];
    const int r = reps(5), n = quick ? 2000 : test->n;
    double rate[MAX_REPS];
    _Static_assert(MLPINF_PARAMS == MLP32_PARAMS, "same layout");
    mlpinf_init(&minf, 1);
    memcpy(mlpinf_params(&minf), mlp32_params(&m32), sizeof(float) * MLPINF_PARAMS);

    int right = 0;
    for (int k = -1; k < r; k++) {
        const double t0 = bench_now();
        for (int i = 0; i < n; i++)
            mlpinf_forward(&minf, test->x + (size_t)i * MNIST_PIXELS, y + (i % 1000) * 10, 1);
        if (k >= 0)
            rate[k] = n / (bench_now() - t0);
        for (int i = 0; i < 1000 && i < n; i++) /* the last 1000: a check, untimed */
            right += k == r - 1 && argmax(y + i * 10, 10) == test->label[n - 1000 + i];
    }
    printf("# %s infer1: accuracy on the last 1000 test samples %.1f%%\n", peer, right / 10.0);
    bench_result("infer1", peer, bench_median(rate, r));

    for (int k = -1; k < r; k++) {
        const double t0 = bench_now();
        for (int i = 0; i + MLPINF_BATCH <= n; i += MLPINF_BATCH)
            mlpinf_forward(&minf, test->x + (size_t)i * MNIST_PIXELS, y, MLPINF_BATCH);
        if (k >= 0)
            rate[k] = (n / MLPINF_BATCH * MLPINF_BATCH) / (bench_now() - t0);
    }
    bench_result("infer1000", peer, bench_median(rate, r));
}

// ---- workload 4: tiny nets, per-sample SGD ----

static void tiny_nets(void)
{
    bench_set xs, blobs;
    bench_xor(&xs);
    bench_blobs(&blobs, 1000);
    const int r = reps(5);
    const long steps = quick ? 200000 : 2000000;
    double rate[MAX_REPS];

    xor_init(&mxor, 1);
    float loss = 0;
    for (int k = -1; k < r; k++) {
        const double t0 = bench_now();
        for (long i = 0; i < steps; i++)
            loss = xor_train(&mxor, xs.x + (i & 3) * 2, xs.onehot + (i & 3), 1);
        if (k >= 0)
            rate[k] = steps / (bench_now() - t0);
    }
    float y[4];
    for (int i = 0; i < 4; i++)
        xor_forward(&mxor, xs.x + i * 2, y + i, 1);
    printf("# %s xor: last loss %.2g, outputs %.3f %.3f %.3f %.3f\n", peer, (double)loss,
           (double)y[0], (double)y[1], (double)y[2], (double)y[3]);
    bench_result("xor", peer, bench_median(rate, r));

    tiny_init(&mtiny, 1);
    for (int k = -1; k < r; k++) {
        const double t0 = bench_now();
        for (long i = 0, j = 0; i < steps; i++, j = j == 999 ? 0 : j + 1)
            tiny_train(&mtiny, blobs.x + j * 4, blobs.onehot + j * 3, 1);
        if (k >= 0)
            rate[k] = steps / (bench_now() - t0);
    }
    int right = 0;
    for (int j = 0; j < 1000; j++) {
        float p[3];
        tiny_forward(&mtiny, blobs.x + j * 4, p, 1);
        right += argmax(p, 3) == blobs.label[j];
    }
    printf("# %s tiny: training accuracy %.1f%%\n", peer, right / 10.0);
    bench_result("tiny", peer, bench_median(rate, r));
}

// ---- workload 5: LeNet-5, training at batch 32, inference at batch 1 and 256 ----

static void lenet(const bench_set *train, const bench_set *test)
{
    enum { B = LENET32_BATCH };
    static float xb[B * MNIST_PIXELS], tb[B * MNIST_CLASSES];
    static float y[LENINF_BATCH * LENINF_OUTPUTS];
    _Static_assert(LENET32_INPUTS == MNIST_PIXELS && LENET32_OUTPUTS == MNIST_CLASSES, "MNIST's shapes");
    _Static_assert(LENINF_PARAMS == LENET32_PARAMS, "same layout");
    const int r = reps(5), steps = (quick ? 2048 : 10240) / B, n = quick ? 2048 : test->n;
    int *perm = malloc((size_t)train->n * sizeof *perm);
    double rate[MAX_REPS];
    uint64_t seed = 7;
    if (!perm)
        exit(1);
    for (int i = 0; i < train->n; i++)
        perm[i] = i;
    bench_shuffle(perm, train->n, &seed);
    lenet32_init(&mlen, 1);
    /* training: the repetitions continue one another through the shuffled set, k = -1 a
     * warm-up; each timed step gathers its batch as PyTorch's X[idx] does */
    float loss = 0;
    int b = 0;
    for (int k = -1; k < r; k++) {
        const double t0 = bench_now();
        loss = 0;
        for (int i = 0; i < steps; i++, b = (b + 1) % (train->n / B)) {
            for (int s = 0; s < B; s++) {
                const int j = perm[b * B + s];
                memcpy(xb + s * MNIST_PIXELS, train->x + (size_t)j * MNIST_PIXELS,
                       sizeof(float) * MNIST_PIXELS);
                memcpy(tb + s * MNIST_CLASSES, train->onehot + (size_t)j * MNIST_CLASSES,
                       sizeof(float) * MNIST_CLASSES);
            }
            loss += lenet32_train(&mlen, xb, tb, B);
        }
        if (k >= 0)
            rate[k] = steps * B / (bench_now() - t0);
    }
    free(perm);
    printf("# %s lenet32: mean loss of the last repetition %.4f\n", peer, (double)loss / steps);
    bench_result("lenet32", peer, bench_median(rate, r));

    leninf_init(&mleninf, 1);
    memcpy(leninf_params(&mleninf), lenet32_params(&mlen), sizeof(float) * LENINF_PARAMS);
    int right = 0;
    for (int k = -1; k < r; k++) {
        const double t0 = bench_now();
        for (int i = 0; i < n; i++)
            leninf_forward(&mleninf, test->x + (size_t)i * MNIST_PIXELS, y + (i % 256) * 10, 1);
        if (k >= 0)
            rate[k] = n / (bench_now() - t0);
    }
    bench_result("lenet1", peer, bench_median(rate, r));
    for (int k = -1; k < r; k++) {
        const double t0 = bench_now();
        right = 0;
        for (int i = 0; i + LENINF_BATCH <= n; i += LENINF_BATCH) {
            leninf_forward(&mleninf, test->x + (size_t)i * MNIST_PIXELS, y, LENINF_BATCH);
            for (int s = 0; s < LENINF_BATCH; s++) /* a check; the argmax costs little */
                right += argmax(y + s * 10, 10) == test->label[i + s];
        }
        if (k >= 0)
            rate[k] = (n / LENINF_BATCH * LENINF_BATCH) / (bench_now() - t0);
    }
    printf("# %s lenet256: test accuracy after the training above %.2f%%\n", peer,
           100.0 * right / (n / LENINF_BATCH * LENINF_BATCH));
    bench_result("lenet256", peer, bench_median(rate, r));
}

/* Is workload group `name` selected by the command line (all when none is named)? */
static int wanted(int argc, char **argv, const char *name)
{
    if (argc <= 2)
        return 1;
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        peer = argv[1];
    const char *q = getenv("BENCH_QUICK");
    quick = q && *q && strcmp(q, "0") != 0;

    bench_set train, test;
    if (wanted(argc, argv, "sgd1") || wanted(argc, argv, "batch") || wanted(argc, argv, "lenet")) {
        const int real = bench_mnist(&train, &test);
        printf("# %s: %s MNIST\n", peer, real ? "real" : "synthetic");
        bench_result("data", peer, real);
    }
    if (wanted(argc, argv, "sgd1"))
        sgd1(&train);
    if (wanted(argc, argv, "batch")) {
        epoch32(&train, &test);
        infer(&test);
    }
    if (wanted(argc, argv, "tiny"))
        tiny_nets();
    if (wanted(argc, argv, "lenet"))
        lenet(&train, &test);
    return 0;
}
