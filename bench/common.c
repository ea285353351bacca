/*
 * common.c - the clock, medians, result lines and data sets of the C benchmark drivers
 * (common.h).  The IDX reader is deliberately small: MNIST's four files, big-endian
 * headers, unsigned bytes; anything else makes the drivers fall back to synthetic data.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"

// ---- timing ----

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

void bench_result(const char *workload, const char *peer, double value)
{
    printf("RESULT %s %s %.6g\n", workload, peer, value);
    fflush(stdout);
}

// ---- random numbers (splitmix64: enough for shuffles and synthetic data) ----

uint64_t bench_rand(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static double uniform01(uint64_t *state)
{
    return (double)(bench_rand(state) >> 11) * 0x1.0p-53;
}

void bench_shuffle(int *idx, int n, uint64_t *state)
{
    for (int i = n - 1; i > 0; i--) {
        const int j = (int)(bench_rand(state) % (uint64_t)(i + 1));
        const int t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}

// ---- data sets ----

static void *xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p) {
        fprintf(stderr, "bench: out of memory\n");
        exit(1);
    }
    return p;
}

static void set_alloc(bench_set *s, int n, int width, int classes)
{
    s->n = n;
    s->width = width;
    s->classes = classes;
    s->x = xmalloc((size_t)n * (size_t)width * sizeof *s->x);
    s->onehot = xmalloc((size_t)n * (size_t)classes * sizeof *s->onehot);
    s->label = xmalloc((size_t)n);
}

static void set_free(bench_set *s)
{
    free(s->x);
    free(s->onehot);
    free(s->label);
    memset(s, 0, sizeof *s);
}

static void set_onehot(bench_set *s)
{
    memset(s->onehot, 0, (size_t)s->n * (size_t)s->classes * sizeof *s->onehot);
    for (int i = 0; i < s->n; i++)
        s->onehot[(size_t)i * (size_t)s->classes + s->label[i]] = 1;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The whole of dir/name, or NULL. */
static unsigned char *read_file(const char *dir, const char *name, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *buf = NULL;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = xmalloc((size_t)size);
        if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    *len = (size_t)size;
    return buf;
}

/* One split ("train" or "t10k") into s; 0 on success. */
static int load_idx(bench_set *s, const char *dir, const char *split, int expect)
{
    char name[64];
    size_t ilen = 0, llen = 0;
    snprintf(name, sizeof name, "%s-images-idx3-ubyte", split);
    unsigned char *img = read_file(dir, name, &ilen);
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte", split);
    unsigned char *lab = read_file(dir, name, &llen);
    int ok = img && lab && ilen >= 16 && llen >= 8 && be32(img) == 0x803 &&
             be32(lab) == 0x801 && be32(img + 4) == (uint32_t)expect &&
             be32(lab + 4) == (uint32_t)expect && be32(img + 8) == 28 &&
             be32(img + 12) == 28 && ilen == 16 + (size_t)expect * MNIST_PIXELS &&
             llen == 8 + (size_t)expect;
    if (ok) {
        set_alloc(s, expect, MNIST_PIXELS, MNIST_CLASSES);
        for (size_t i = 0; i < (size_t)expect * MNIST_PIXELS; i++)
            s->x[i] = (float)img[16 + i] / 255.0f;
        for (int i = 0; i < expect; i++) {
            s->label[i] = lab[8 + i];
            ok &= lab[8 + i] < MNIST_CLASSES;
        }
        if (!ok)
            set_free(s);
    }
    free(img);
    free(lab);
    return ok ? 0 : -1;
}

static void synthetic_mnist(bench_set *s, int n, uint64_t seed)
{
    set_alloc(s, n, MNIST_PIXELS, MNIST_CLASSES);
    for (size_t i = 0; i < (size_t)n * MNIST_PIXELS; i++)
        s->x[i] = (float)uniform01(&seed);
    for (int i = 0; i < n; i++)
        s->label[i] = (unsigned char)(bench_rand(&seed) % MNIST_CLASSES);
}

int bench_mnist(bench_set *train, bench_set *test)
{
    const char *dir = getenv("MNIST_DIR");
    if (dir && *dir && load_idx(train, dir, "train", 60000) == 0) {
        if (load_idx(test, dir, "t10k", 10000) == 0) {
            set_onehot(train);
            set_onehot(test);
            return 1;
        }
        set_free(train);
    }
    synthetic_mnist(train, 60000, 1);
    synthetic_mnist(test, 10000, 2);
    set_onehot(train);
    set_onehot(test);
    return 0;
}

void bench_xor(bench_set *s)
{
    static const float x[8] = {0, 0, 0, 1, 1, 0, 1, 1};
    static const unsigned char t[4] = {0, 1, 1, 0};
    set_alloc(s, 4, 2, 1);
    memcpy(s->x, x, sizeof x);
    for (int i = 0; i < 4; i++) {
        s->label[i] = t[i];
        s->onehot[i] = t[i]; /* one output: the target itself */
    }
}

void bench_blobs(bench_set *s, int n)
{
    static const float centre[3][4] = {{1, 0, 0, 0.5f}, {0, 1, 0, -0.5f}, {0, 0, 1, 0}};
    uint64_t seed = 3;
    set_alloc(s, n, 4, 3);
    for (int i = 0; i < n; i++) {
        const int c = (int)(bench_rand(&seed) % 3);
        s->label[i] = (unsigned char)c;
        for (int k = 0; k < 4; k++) {
            /* Box-Muller, standard deviation 0.5 */
            const double u = uniform01(&seed), v = uniform01(&seed);
            const double g = sqrt(-2 * log(1 - u)) * cos(6.283185307179586 * v);
            s->x[i * 4 + k] = centre[c][k] + (float)(0.5 * g);
        }
    }
    set_onehot(s);
}
