/*
 * fann_bench.c - the FANN peer of `make bench` (Debian's libfann-dev, float build):
 * per-sample training with fann_train for workload 1 (MNIST 784-128-10) and workload 4
 * (XOR 2-4-1, 4-16-3), on the same data and with the same learning rates as bench.c.
 * Prints RESULT lines (common.h) with the peer name "fann".
 *
 *   fann_bench [GROUP...]      sgd1 and/or tiny (both when none is named)
 *
 * FANN 2.2 has neither ReLU nor softmax nor cross-entropy, so the nets differ where
 * they must (docs/PERFORMANCE.md says so):
 *   - ReLU hidden layers use FANN_LINEAR_PIECE (max(0, min(1, z))): as cheap as ReLU;
 *   - softmax + cross-entropy outputs use FANN_SIGMOID with the mean squared error
 *     (FANN_ERRORFUNC_LINEAR);
 *   - tanh is FANN_SIGMOID_SYMMETRIC with steepness 1 (FANN computes tanh(s·z)) and the
 *     sigmoid output FANN_SIGMOID with steepness 0.5 (FANN computes 1/(1 + e^(−2s·z))).
 * Momentum is 0 (FANN's default), as in the bpc and PyTorch versions of these workloads.
 */
#include <floatfann.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

enum { MAX_REPS = 15 };

static int quick;

static struct fann *make_net(unsigned in, unsigned hidden, unsigned out,
                             enum fann_activationfunc_enum hact, fann_type hsteep,
                             enum fann_activationfunc_enum oact, float lr, fann_type range)
{
    struct fann *ann = fann_create_standard(3, in, hidden, out);
    if (!ann) {
        fprintf(stderr, "fann_bench: fann_create_standard failed\n");
        exit(1);
    }
    fann_set_activation_function_hidden(ann, hact);
    fann_set_activation_steepness_hidden(ann, hsteep);
    fann_set_activation_function_output(ann, oact);
    fann_set_activation_steepness_output(ann, 0.5f);
    fann_set_train_error_function(ann, FANN_ERRORFUNC_LINEAR);
    fann_set_training_algorithm(ann, FANN_TRAIN_INCREMENTAL);
    fann_set_learning_rate(ann, lr);
    fann_set_learning_momentum(ann, 0);
    fann_randomize_weights(ann, -range, range);
    return ann;
}

static int argmax(const fann_type *v, int n)
{
    int best = 0;
    for (int j = 1; j < n; j++)
        if (v[j] > v[best])
            best = j;
    return best;
}

/* Workload 1: MNIST 784-128-10, per-sample training at lr 0.01. */
static void sgd1(const bench_set *train)
{
    const int samples = quick ? 1000 : 10000, r = quick ? 2 : 5;
    double rate[MAX_REPS];
    struct fann *ann = make_net(784, 128, 10, FANN_LINEAR_PIECE, 1.0f, FANN_SIGMOID, 0.01f,
                                0.08f);
    for (int i = 0; i < 500; i++) /* warm-up */
        fann_train(ann, train->x + (size_t)i * 784, train->onehot + (size_t)i * 10);
    for (int k = 0; k < r; k++) {
        const double t0 = bench_now();
        for (int i = 0; i < samples; i++)
            fann_train(ann, train->x + (size_t)i * 784, train->onehot + (size_t)i * 10);
        rate[k] = samples / (bench_now() - t0);
    }
    int right = 0;
    for (int i = 0; i < 1000; i++)
        right += argmax(fann_run(ann, train->x + (size_t)i * 784), 10) == train->label[i];
    printf("# fann sgd1: accuracy on the first 1000 training samples %.1f%%\n", right / 10.0);
    bench_result("sgd1", "fann", bench_median(rate, r));
    fann_destroy(ann);
}

/* Workload 4: the tiny nets, per-sample training. */
static void tiny_nets(void)
{
    bench_set xs, blobs;
    bench_xor(&xs);
    bench_blobs(&blobs, 1000);
    const int r = quick ? 2 : 5;
    const long steps = quick ? 100000 : 1000000;
    double rate[MAX_REPS];

    struct fann *ann = make_net(2, 4, 1, FANN_SIGMOID_SYMMETRIC, 1.0f, FANN_SIGMOID, 0.5f, 1.0f);
    for (int k = -1; k < r; k++) {
        const double t0 = bench_now();
        for (long i = 0; i < steps; i++)
            fann_train(ann, xs.x + (i & 3) * 2, xs.onehot + (i & 3));
        if (k >= 0)
            rate[k] = steps / (bench_now() - t0);
    }
    printf("# fann xor: outputs");
    for (int i = 0; i < 4; i++)
        printf(" %.3f", (double)fann_run(ann, xs.x + i * 2)[0]);
    printf("\n");
    bench_result("xor", "fann", bench_median(rate, r));
    fann_destroy(ann);

    ann = make_net(4, 16, 3, FANN_LINEAR_PIECE, 1.0f, FANN_SIGMOID, 0.01f, 0.5f);
    for (int k = -1; k < r; k++) {
        const double t0 = bench_now();
        for (long i = 0, j = 0; i < steps; i++, j = j == 999 ? 0 : j + 1)
            fann_train(ann, blobs.x + j * 4, blobs.onehot + j * 3);
        if (k >= 0)
            rate[k] = steps / (bench_now() - t0);
    }
    int right = 0;
    for (int j = 0; j < 1000; j++)
        right += argmax(fann_run(ann, blobs.x + j * 4), 3) == blobs.label[j];
    printf("# fann tiny: training accuracy %.1f%%\n", right / 10.0);
    bench_result("tiny", "fann", bench_median(rate, r));
    fann_destroy(ann);
}

int main(int argc, char **argv)
{
    const char *q = getenv("BENCH_QUICK");
    quick = q && *q && strcmp(q, "0") != 0;
    int want_sgd1 = argc < 2, want_tiny = argc < 2;
    for (int i = 1; i < argc; i++) {
        want_sgd1 |= strcmp(argv[i], "sgd1") == 0;
        want_tiny |= strcmp(argv[i], "tiny") == 0;
    }
    if (want_sgd1) {
        bench_set train, test;
        const int real = bench_mnist(&train, &test);
        printf("# fann: %s MNIST\n", real ? "real" : "synthetic");
        bench_result("data", "fann", real);
        sgd1(&train);
    }
    if (want_tiny)
        tiny_nets();
    return 0;
}
