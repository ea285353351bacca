/*
 * common.h - what the C benchmark drivers share (bench.c for bpc, fann_bench.c for
 * FANN): a monotonic clock, the median of repetitions, the MNIST IDX reader with its
 * synthetic stand-in, the small synthetic data sets of the tiny nets, and the one line
 * format every driver prints its figures in, which bench/run.sh collects:
 *
 *   RESULT <workload> <peer> <value>
 *
 * Workloads: sgd1 (samples/s), epoch32 (s), acc32 (test accuracy, %), infer1 and
 * infer1000 (samples/s), xor and tiny (training steps/s), lenet32 (LeNet-5's training
 * samples/s), lenet1 and lenet256 (its inference, samples/s).  Anything else a driver
 * prints starts with '#' and goes to the log.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <stdint.h>

/* ---- timing ---- */
double bench_now(void);                /* seconds, CLOCK_MONOTONIC */
double bench_median(double *v, int n); /* sorts v */
void bench_result(const char *workload, const char *peer, double value);

/* ---- data ---- */
enum { MNIST_PIXELS = 784, MNIST_CLASSES = 10 };

typedef struct bench_set {
    int n;                /* samples */
    int width;            /* features per sample */
    int classes;
    float *x;             /* n × width */
    float *onehot;        /* n × classes */
    unsigned char *label; /* n */
} bench_set;

/* The MNIST training and test sets from the IDX files in the directory named by the
 * MNIST_DIR environment variable (pixels scaled to [0, 1]); when it is unset or a file
 * is missing or malformed, synthetic sets of the same shape (uniform pixels, uniform
 * labels).  Returns 1 for real MNIST, 0 for synthetic.  Exits on out of memory. */
int bench_mnist(bench_set *train, bench_set *test);

/* The tiny nets' data: the four XOR cases, and n samples of 4 features in 3 classes
 * (Gaussian blobs around fixed centres). */
void bench_xor(bench_set *s);
void bench_blobs(bench_set *s, int n);

/* A small deterministic generator for the drivers' own use (shuffles, synthetic data). */
uint64_t bench_rand(uint64_t *state);
void bench_shuffle(int *idx, int n, uint64_t *state);

#endif
