/*
 * outer.c - by hand, not part of `make bench`: the MNIST MLP's hidden forward (784 ->
 * 128, ReLU, batch 1000, the 10,000 test images) as the generated 8 x 6 dot tiles and
 * as an outer-product tile, the next step docs/PERFORMANCE.md ranks first.  The outer
 * tile keeps S samples x 64 outputs in AVX-512 registers (the outputs in the lanes):
 * for each input, 4 vectors of Wt[i][j..j+64) and S broadcasts feed 4·S FMAs, each
 * output summed in input order from +0, then + b.  An input is skipped when it is 0 in
 * all S samples (one by one, not by chunks of 8); at batch 1, a tile of all 128
 * outputs visits the sample's inputs that are not 0.  Wt is W transposed: timed packed
 * once per call and packed once for all calls (as a model could keep it).  The sums'
 * order differs from the dot tiles', so the results differ in the last bits; the
 * largest difference is printed.  Build it after generating the code, e.g.
 *
 *   build/bpc bench/mlpinf.bp -o build/bench/gen/mlpinf.c
 *   cc -O3 -Iruntime -Ibench -Ibuild/bench/gen bench/outer.c bench/common.c \
 *       build/libbprt.a -lm -o build/bench/outer && build/bench/outer
 *
 * (MNIST_DIR as for `make bench`; an AVX-512 machine).
 */
#include <immintrin.h>
#include <math.h>
#include <stdio.h>

#include "common.h"
#include "mlpinf.c"

enum { IN = 784, H = 128, BI = 1000, S = 6, NV = 4, REPS = 21 };

static mlpinf_model inf;
static float Wt[IN * H] __attribute__((aligned(64)));
static float z[BI * H] __attribute__((aligned(64)));
static int list[IN];

__attribute__((target("avx512f,fma"))) static void outer_tile(const float *restrict x,
    const int *restrict lst, int nl, int jb, const float *restrict b, float *restrict zs)
{
    __m512 acc[S][NV];
    for (int s = 0; s < S; s++)
        for (int k = 0; k < NV; k++)
            acc[s][k] = _mm512_setzero_ps();
    for (int l = 0; l < nl; l++) {
        const int i = lst[l];
        __m512 w[NV];
        for (int k = 0; k < NV; k++)
            w[k] = _mm512_load_ps(Wt + i * H + jb + 16 * k);
        for (int s = 0; s < S; s++) {
            const __m512 xs = _mm512_set1_ps(x[s * IN + i]);
            for (int k = 0; k < NV; k++)
                acc[s][k] = _mm512_fmadd_ps(w[k], xs, acc[s][k]);
        }
    }
    for (int s = 0; s < S; s++)
        for (int k = 0; k < NV; k++) {
            const __m512 v = _mm512_add_ps(acc[s][k], _mm512_loadu_ps(b + jb + 16 * k));
            _mm512_store_ps(zs + s * H + jb + 16 * k, _mm512_max_ps(v, _mm512_setzero_ps()));
        }
}

static void pack(const float *W)
{
    for (int j = 0; j < H; j++)
        for (int i = 0; i < IN; i++)
            Wt[i * H + j] = W[j * IN + i];
}

/* one sample, all 128 outputs in 8 vectors, over its inputs that are not 0 */
__attribute__((target("avx512f,fma"))) static void outer_one(const float *restrict x,
    const float *restrict b, float *restrict zs)
{
    enum { V = H / 16 };
    __m512 acc[V];
    for (int k = 0; k < V; k++)
        acc[k] = _mm512_setzero_ps();
    for (int i = 0; i < IN; i++) {
        if (x[i] == 0)
            continue;
        const __m512 xs = _mm512_set1_ps(x[i]);
        for (int k = 0; k < V; k++)
            acc[k] = _mm512_fmadd_ps(_mm512_load_ps(Wt + i * H + 16 * k), xs, acc[k]);
    }
    for (int k = 0; k < V; k++) {
        const __m512 v = _mm512_add_ps(acc[k], _mm512_loadu_ps(b + 16 * k));
        _mm512_store_ps(zs + 16 * k, _mm512_max_ps(v, _mm512_setzero_ps()));
    }
}

/* the first n / S * S samples (the rest would go to a smaller tile) */
static void outer_forward(const float *b, const float *x, int n)
{
    for (int s = 0; s + S <= n; s += S) {
        int nl = 0;
        for (int i = 0; i < IN; i++) {
            uint32_t bits = 0;
            for (int r = 0; r < S; r++) {
                uint32_t u;
                memcpy(&u, x + (s + r) * IN + i, sizeof u);
                bits |= u << 1; /* ±0 sets only the sign bit */
            }
            list[nl] = i;
            nl += bits != 0;
        }
        if (s + 2 * S <= n) /* the next group's inputs */
            for (int k = 0; k < S * IN; k += 16)
                __builtin_prefetch(x + (s + S) * IN + k);
        for (int jb = 0; jb < H; jb += 16 * NV)
            outer_tile(x + s * IN, list, nl, jb, b, z + s * H);
    }
}

int main(void)
{
    bench_set train, test;
    if (!bench_mnist(&train, &test))
        return 1;
    mlpinf_init(&inf, 1);
    float *const W = inf.params, *const b = inf.params + IN * H;
    for (int j = 0; j < H; j++) /* a bias that is not 0, so the check covers it */
        b[j] = 0.01f * (float)(j % 7 - 3);
    const int nb = test.n / BI;
    /* not a constant: gcc -O3 warns about the generated tail loop's index otherwise */
    volatile int batch = BI;
    const int done = nb * (BI / S * S); /* the samples outer_forward computes */
    double tiles[REPS], per_call[REPS], kept[REPS];
    pack(W);
    for (int r = 0; r < REPS; r++) {
        double t0 = bench_now();
        for (int k = 0; k < nb; k++)
            mlpinf_hidden_forward(&inf, test.x + (size_t)k * BI * IN, batch);
        tiles[r] = nb * BI / (bench_now() - t0);
        t0 = bench_now();
        for (int k = 0; k < nb; k++) {
            pack(W);
            outer_forward(b, test.x + (size_t)k * BI * IN, BI);
        }
        per_call[r] = done / (bench_now() - t0);
        t0 = bench_now();
        for (int k = 0; k < nb; k++)
            outer_forward(b, test.x + (size_t)k * BI * IN, BI);
        kept[r] = done / (bench_now() - t0);
    }
    double maxd = 0; /* the last batch, both ways */
    for (int s = 0; s < BI / S * S; s++)
        for (int j = 0; j < H; j++) {
            const double d = fabs((double)inf.hidden_a[s][j] - z[s * H + j]);
            maxd = d > maxd ? d : maxd;
        }
    double one_tiles[REPS], one_outer[REPS]; /* batch 1: the generated 1 x 8 tiles */
    volatile int single = 1;
    for (int r = 0; r < REPS; r++) {
        double t0 = bench_now();
        for (int i = 0; i < test.n; i++)
            mlpinf_hidden_forward(&inf, test.x + (size_t)i * IN, single);
        one_tiles[r] = test.n / (bench_now() - t0);
        t0 = bench_now();
        for (int i = 0; i < test.n; i++)
            outer_one(test.x + (size_t)i * IN, b, z);
        one_outer[r] = test.n / (bench_now() - t0);
    }
    double maxd1 = 0; /* the last sample at batch 1, both ways */
    for (int j = 0; j < H; j++) {
        const double d = fabs((double)inf.hidden_a[0][j] - z[j]);
        maxd1 = d > maxd1 ? d : maxd1;
    }
    printf("hidden forward 784 -> 128, batch %d, samples/s (medians of %d):\n", BI, REPS);
    printf("  generated 8 x 6 dot tiles      %8.0f\n", bench_median(tiles, REPS));
    printf("  outer %d x %d, Wt packed per call %8.0f\n", S, 16 * NV, bench_median(per_call, REPS));
    printf("  outer %d x %d, Wt kept           %8.0f\n", S, 16 * NV, bench_median(kept, REPS));
    printf("batch 1 (Wt kept):\n");
    printf("  generated 1 x 8 dot tiles      %8.0f\n", bench_median(one_tiles, REPS));
    printf("  outer 1 x 128                  %8.0f\n", bench_median(one_outer, REPS));
    printf("largest |difference| of a: %.2g at batch 1000, %.2g at batch 1\n", maxd, maxd1);
    return 0;
}
