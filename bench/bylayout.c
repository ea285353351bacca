/*
 * bylayout.c - by hand, not part of `make bench`: per-sample SGD's first-layer passes of
 * the MNIST MLP (784 -> 128, ReLU, batch 1, the first 10,000 training images), as the
 * generated code does them (W [out][in]: the forward's 1 x 8 tiles over the chunks of 8
 * inputs that are not all 0, then the fused update of those chunks in the rows whose δ is
 * not 0) and with W laid out by input, the next step docs/PERFORMANCE.md ranks second
 * (Wt[i] holds the 128 weights out of input i: the forward is one broadcast of x[i] and 8
 * AVX-512 FMAs per input that is not 0, the update Wt[i] −= lr·(0 + δ·x[i]) over the same
 * inputs).  Both start from the same weights and take the same fixed ∂C/∂a, so the same
 * δ = ∂C/∂a ⊙ [z > 0]; the update rounds as the generated one does, the forward sums in
 * input order instead of 8 partial sums, so the weights differ in the last bits: the
 * largest difference is printed.  Build it after generating the code, e.g.
 *
 *   build/bpc bench/mlp1.bp -o build/bench/gen/mlp1.c
 *   cc -O3 -Iruntime -Ibench -Ibuild/bench/gen bench/bylayout.c bench/common.c \
 *       build/libbprt.a -lm -o build/bench/bylayout && build/bench/bylayout
 *
 * (MNIST_DIR as for `make bench`; an AVX-512 machine).
 */
#include <immintrin.h>
#include <math.h>
#include <stdio.h>

#include "common.h"
#include "mlp1.c"

enum { IN = 784, H = 128, N = 10000, REPS = 9 };

static mlp1_model m;
static float Wt[IN * H] __attribute__((aligned(64)));
static float bt[H] __attribute__((aligned(64)));
static float dA[H]; /* ∂C/∂a of the hidden layer, the same every step */

/* One step of the first layer with W by input: z = Wtᵀ·x + b over the inputs that are
 * not 0, δ = dA ⊙ [z > 0], then b −= lr·(0 + δ) and Wt[i] −= lr·(0 + δ·x[i]). */
__attribute__((target("avx512f,fma"))) static void step_by_input(const float *restrict x,
                                                                 float lr)
{
    enum { V = H / 16 };
    int list[IN], nl = 0;
    for (int i = 0; i < IN; i++) {
        list[nl] = i;
        nl += x[i] != 0;
    }
    __m512 acc[V], d[V];
    for (int k = 0; k < V; k++)
        acc[k] = _mm512_setzero_ps();
    for (int l = 0; l < nl; l++) {
        const int i = list[l];
        const __m512 xs = _mm512_set1_ps(x[i]);
        for (int k = 0; k < V; k++)
            acc[k] = _mm512_fmadd_ps(_mm512_load_ps(Wt + i * H + 16 * k), xs, acc[k]);
    }
    const __m512 vlr = _mm512_set1_ps(lr), zero = _mm512_setzero_ps();
    for (int k = 0; k < V; k++) {
        float *b = bt + 16 * k;
        const __m512 z = _mm512_add_ps(acc[k], _mm512_load_ps(b));
        d[k] = _mm512_maskz_loadu_ps(_mm512_cmp_ps_mask(z, zero, _CMP_GT_OQ), dA + 16 * k);
        const __m512 g = _mm512_add_ps(zero, d[k]);
        _mm512_store_ps(b, _mm512_sub_ps(_mm512_load_ps(b), _mm512_mul_ps(vlr, g)));
    }
    for (int l = 0; l < nl; l++) {
        const int i = list[l];
        const __m512 xs = _mm512_set1_ps(x[i]);
        for (int k = 0; k < V; k++) {
            float *p = Wt + i * H + 16 * k;
            const __m512 g = _mm512_mul_ps(d[k], xs);
            _mm512_store_ps(p, _mm512_sub_ps(_mm512_load_ps(p), _mm512_mul_ps(vlr, g)));
        }
    }
}

int main(void)
{
    bench_set train, test;
    if (!bench_mnist(&train, &test))
        return 1;
    mlp1_init(&m, 1);
    m.lr = 1e-4; /* small, so that 90,000 steps keep the weights near their start */
    for (int j = 0; j < H; j++)
        dA[j] = 0.001f * (float)(j % 5 - 2);
    for (int j = 0; j < H; j++)
        for (int i = 0; i < IN; i++)
            Wt[i * H + j] = m.params[j * IN + i];
    double generated[REPS], by_input[REPS];
    for (int r = 0; r < REPS; r++) {
        double t0 = bench_now();
        for (int s = 0; s < N; s++) {
            const float *x = train.x + (size_t)s * IN;
            mlp1_hidden_forward(&m, x, 1);
            memcpy(m.d1.hidden_d[0], dA, sizeof dA);
            mlp1_hidden_train(&m, x, 1);
        }
        generated[r] = (bench_now() - t0) / N * 1e9;
        t0 = bench_now();
        for (int s = 0; s < N; s++)
            step_by_input(train.x + (size_t)s * IN, (float)m.lr);
        by_input[r] = (bench_now() - t0) / N * 1e9;
    }
    double maxd = 0;
    for (int j = 0; j < H; j++)
        for (int i = 0; i < IN; i++) {
            const double d = fabs((double)Wt[i * H + j] - m.params[j * IN + i]);
            maxd = d > maxd ? d : maxd;
        }
    double full[REPS]; /* for scale: the whole generated step (after the comparison) */
    m.lr = 0.01;
    for (int r = 0; r < REPS; r++) {
        const double t0 = bench_now();
        for (int s = 0; s < N; s++)
            mlp1_train(&m, train.x + (size_t)s * IN, train.onehot + (size_t)s * 10, 1);
        full[r] = (bench_now() - t0) / N * 1e9;
    }
    printf("per-sample SGD, the first layer's forward and update, ns a sample (medians of %d):\n",
           REPS);
    printf("  generated (W [out][in], chunks of 8)  %6.0f\n", bench_median(generated, REPS));
    printf("  W by input (single inputs)            %6.0f\n", bench_median(by_input, REPS));
    printf("  the whole generated step, lr 0.01       %6.0f\n", bench_median(full, REPS));
    printf("largest |difference| of W after %d steps: %.2g\n", REPS * N, maxd);
    return 0;
}
