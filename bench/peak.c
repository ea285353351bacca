/*
 * peak.c - the single core's measured float FMA peak, the denominator of the "% of peak"
 * column of `make bench`.  Independent chains of fused multiply-adds on vector registers
 * (enough chains to cover the FMA latency on every pipe), timed with CLOCK_MONOTONIC.
 * The figure is the best of several repetitions, not their median: other load (and a
 * virtual machine's steal time) can only slow a loop that touches no memory, so the
 * fastest run is the closest to what the core can do.  One FMA on one lane is 2 FLOPs.
 *
 * Compiled with -march=native by bench/run.sh: each instruction set the compiler may use
 * is measured (AVX-512F, AVX2+FMA, SSE2 multiply and add, scalar C) and the best one is
 * the peak.  Prints RESULT lines (common.h): peak (GFLOP/s) and one line per variant.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__AVX512F__) || defined(__AVX2__) || defined(__SSE2__)
#include <immintrin.h>
#endif

enum { REPS = 7 };

static volatile float sink;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Each kernel runs `iters` rounds and returns the FLOPs it did. */
typedef double kernel_fn(long iters);

#ifdef __AVX512F__
/* 12 chains of 16 lanes: 12 ≥ latency (4) × pipes (2) on current cores. */
static double fma_avx512(long iters)
{
    const __m512 m = _mm512_set1_ps(0.9999999f), c = _mm512_set1_ps(1e-7f);
    __m512 a0 = _mm512_set1_ps(0.0f), a1 = _mm512_set1_ps(0.1f), a2 = _mm512_set1_ps(0.2f),
           a3 = _mm512_set1_ps(0.3f), a4 = _mm512_set1_ps(0.4f), a5 = _mm512_set1_ps(0.5f),
           a6 = _mm512_set1_ps(0.6f), a7 = _mm512_set1_ps(0.7f), a8 = _mm512_set1_ps(0.8f),
           a9 = _mm512_set1_ps(0.9f), a10 = _mm512_set1_ps(1.0f), a11 = _mm512_set1_ps(1.1f);
    for (long i = 0; i < iters; i++) {
        a0 = _mm512_fmadd_ps(a0, m, c);
        a1 = _mm512_fmadd_ps(a1, m, c);
        a2 = _mm512_fmadd_ps(a2, m, c);
        a3 = _mm512_fmadd_ps(a3, m, c);
        a4 = _mm512_fmadd_ps(a4, m, c);
        a5 = _mm512_fmadd_ps(a5, m, c);
        a6 = _mm512_fmadd_ps(a6, m, c);
        a7 = _mm512_fmadd_ps(a7, m, c);
        a8 = _mm512_fmadd_ps(a8, m, c);
        a9 = _mm512_fmadd_ps(a9, m, c);
        a10 = _mm512_fmadd_ps(a10, m, c);
        a11 = _mm512_fmadd_ps(a11, m, c);
    }
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                             _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
    s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)));
    sink = _mm512_reduce_add_ps(s);
    return 2.0 * 16 * 12 * (double)iters;
}
#endif

#if defined(__AVX2__) && defined(__FMA__)
/* 12 chains of 8 lanes (16 ymm registers: 12 chains and the two constants). */
static double fma_avx2(long iters)
{
    const __m256 m = _mm256_set1_ps(0.9999999f), c = _mm256_set1_ps(1e-7f);
    __m256 a0 = _mm256_set1_ps(0.0f), a1 = _mm256_set1_ps(0.1f), a2 = _mm256_set1_ps(0.2f),
           a3 = _mm256_set1_ps(0.3f), a4 = _mm256_set1_ps(0.4f), a5 = _mm256_set1_ps(0.5f),
           a6 = _mm256_set1_ps(0.6f), a7 = _mm256_set1_ps(0.7f), a8 = _mm256_set1_ps(0.8f),
           a9 = _mm256_set1_ps(0.9f), a10 = _mm256_set1_ps(1.0f), a11 = _mm256_set1_ps(1.1f);
    for (long i = 0; i < iters; i++) {
        a0 = _mm256_fmadd_ps(a0, m, c);
        a1 = _mm256_fmadd_ps(a1, m, c);
        a2 = _mm256_fmadd_ps(a2, m, c);
        a3 = _mm256_fmadd_ps(a3, m, c);
        a4 = _mm256_fmadd_ps(a4, m, c);
        a5 = _mm256_fmadd_ps(a5, m, c);
        a6 = _mm256_fmadd_ps(a6, m, c);
        a7 = _mm256_fmadd_ps(a7, m, c);
        a8 = _mm256_fmadd_ps(a8, m, c);
        a9 = _mm256_fmadd_ps(a9, m, c);
        a10 = _mm256_fmadd_ps(a10, m, c);
        a11 = _mm256_fmadd_ps(a11, m, c);
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                             _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
    float v[8];
    _mm256_storeu_ps(v, s);
    sink = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
    return 2.0 * 8 * 12 * (double)iters;
}
#endif

#ifdef __SSE2__
/* What plain x86-64 (-O3 without -march) has: 4 lanes, a multiply then an add. */
static double muladd_sse(long iters)
{
    const __m128 m = _mm_set1_ps(0.9999999f), c = _mm_set1_ps(1e-7f);
    __m128 a0 = _mm_set1_ps(0.0f), a1 = _mm_set1_ps(0.1f), a2 = _mm_set1_ps(0.2f),
           a3 = _mm_set1_ps(0.3f), a4 = _mm_set1_ps(0.4f), a5 = _mm_set1_ps(0.5f),
           a6 = _mm_set1_ps(0.6f), a7 = _mm_set1_ps(0.7f), a8 = _mm_set1_ps(0.8f),
           a9 = _mm_set1_ps(0.9f), a10 = _mm_set1_ps(1.0f), a11 = _mm_set1_ps(1.1f);
    for (long i = 0; i < iters; i++) {
        a0 = _mm_add_ps(_mm_mul_ps(a0, m), c);
        a1 = _mm_add_ps(_mm_mul_ps(a1, m), c);
        a2 = _mm_add_ps(_mm_mul_ps(a2, m), c);
        a3 = _mm_add_ps(_mm_mul_ps(a3, m), c);
        a4 = _mm_add_ps(_mm_mul_ps(a4, m), c);
        a5 = _mm_add_ps(_mm_mul_ps(a5, m), c);
        a6 = _mm_add_ps(_mm_mul_ps(a6, m), c);
        a7 = _mm_add_ps(_mm_mul_ps(a7, m), c);
        a8 = _mm_add_ps(_mm_mul_ps(a8, m), c);
        a9 = _mm_add_ps(_mm_mul_ps(a9, m), c);
        a10 = _mm_add_ps(_mm_mul_ps(a10, m), c);
        a11 = _mm_add_ps(_mm_mul_ps(a11, m), c);
    }
    __m128 s = _mm_add_ps(_mm_add_ps(_mm_add_ps(a0, a1), _mm_add_ps(a2, a3)),
                          _mm_add_ps(_mm_add_ps(a4, a5), _mm_add_ps(a6, a7)));
    s = _mm_add_ps(s, _mm_add_ps(_mm_add_ps(a8, a9), _mm_add_ps(a10, a11)));
    float v[4];
    _mm_storeu_ps(v, s);
    sink = v[0] + v[1] + v[2] + v[3];
    return 2.0 * 4 * 12 * (double)iters;
}
#endif

/* Portable: 12 scalar chains (the compiler may vectorize them; that is fine). */
static double muladd_scalar(long iters)
{
    float a[12];
    const float m = 0.9999999f, c = 1e-7f;
    for (int k = 0; k < 12; k++)
        a[k] = 0.1f * (float)k;
    for (long i = 0; i < iters; i++)
        for (int k = 0; k < 12; k++)
            a[k] = a[k] * m + c;
    float s = 0;
    for (int k = 0; k < 12; k++)
        s += a[k];
    sink = s;
    return 2.0 * 12 * (double)iters;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* GFLOP/s of a kernel: calibrated to about 0.1 s a run, the best of REPS runs. */
static double measure(kernel_fn *k)
{
    long iters = 1 << 16;
    for (;;) {
        const double t0 = now();
        k(iters);
        if (now() - t0 > 0.02 || iters > (1L << 40))
            break;
        iters *= 2;
    }
    iters *= 5;
    double g[REPS];
    for (int r = 0; r < REPS; r++) {
        const double t0 = now();
        const double flops = k(iters);
        g[r] = flops / (now() - t0) * 1e-9;
    }
    qsort(g, REPS, sizeof *g, cmp_double);
    return g[REPS - 1];
}

int main(void)
{
    static const struct {
        const char *name;
        kernel_fn *fn;
    } kernels[] = {
#ifdef __AVX512F__
        {"avx512", fma_avx512},
#endif
#if defined(__AVX2__) && defined(__FMA__)
        {"avx2", fma_avx2},
#endif
#ifdef __SSE2__
        {"sse2", muladd_sse},
#endif
        {"scalar", muladd_scalar},
    };
    double best = 0;
    const char *best_name = "";
    for (size_t i = 0; i < sizeof kernels / sizeof kernels[0]; i++) {
        const double g = measure(kernels[i].fn);
        printf("RESULT peak_%s peak %.4g\n", kernels[i].name, g);
        if (g > best) {
            best = g;
            best_name = kernels[i].name;
        }
    }
    printf("# peak: %s\n", best_name);
    printf("RESULT peak peak %.4g\n", best);
    return 0;
}
