/*
 * products.c - each matrix product of the MNIST MLP's generated code timed alone, in
 * GFLOP/s and % of the measured FMA peak (docs/PERFORMANCE.md).  Not part of `make
 * bench`: it includes the generated C (to call its static layer functions), so build it
 * by hand after generating it, e.g.
 *
 *   build/bpc bench/mlp32.bp -o build/bench/gen/mlp32.c
 *   build/bpc bench/mlpinf.bp -o build/bench/gen/mlpinf.c
 *   cc -O3 -Iruntime -Ibuild/bench/gen bench/products.c build/libbprt.a -lm \
 *       -o build/bench/products && build/bench/products 117
 *
 * (the argument: the peak in GFLOP/s, from bench/peak.c).  Inputs are MNIST-shaped, 80%
 * zeros as MNIST's pixels; the δ are dense.  Times are process CPU time (the machines
 * are shared: other load then counts less), median of 7 runs.  The FLOPs counted are
 * the products' own, zeros skipped or not.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "mlp32.c"
#include "mlpinf.c"

static double peak = 117;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#define TIME(label, flops, reps, stmt)                                                    \
    do {                                                                                  \
        double r_[7];                                                                     \
        for (int k_ = 0; k_ < 7; k_++) {                                                  \
            const double t0_ = now();                                                     \
            for (int i_ = 0; i_ < (reps); i_++) {                                         \
                stmt;                                                                     \
            }                                                                             \
            r_[k_] = (double)(flops) * (reps) / (now() - t0_) * 1e-9;                     \
        }                                                                                 \
        qsort(r_, 7, sizeof *r_, cmp);                                                    \
        printf("| %s | %.1f | %.1f%% |\n", label, r_[3], 100 * r_[3] / peak);           \
    } while (0)

static mlp32_model m;
static mlpinf_model inf;

int main(int argc, char **argv)
{
    enum { B = 32, BI = 1000, IN = 784, H = 128, OUT = 10 };
    static float x[BI * IN], t[B * OUT];
    /* the batches as variables: gcc -O3 warns about the layer functions' tail loops
     * when they are constants */
    volatile int batch = B, batch_inf = BI;
    const int nb = batch, nbi = batch_inf;
    if (argc > 1)
        peak = atof(argv[1]);
    srand(1);
    for (int i = 0; i < BI * IN; i++)
        x[i] = rand() % 100 < 80 ? 0.0f : (float)(rand() % 256) / 255.0f;
    for (int s = 0; s < B; s++)
        t[s * OUT + rand() % OUT] = 1;
    mlp32_init(&m, 1);
    mlpinf_init(&inf, 1);
    mlp32_backward(&m, x, t, B);
    for (int s = 0; s < B; s++) {
        for (int j = 0; j < H; j++)
            m.d1.hidden_d[s][j] = (float)(rand() % 200 - 100) / 1000;
        for (int j = 0; j < OUT; j++)
            m.d0.out_d[s][j] = (float)(rand() % 200 - 100) / 1000;
    }
    printf("| product (MNIST MLP, float) | GFLOP/s | %% of %.1f |\n|---|---|---|\n", peak);
    TIME("forward z = W·x, hidden 784 → 128, batch 1000", 2.0 * BI * IN * H, 5,
         mlpinf_hidden_forward(&inf, x, nbi));
    TIME("forward z = W·x, hidden 784 → 128, batch 32", 2.0 * B * IN * H, 100,
         mlp32_hidden_forward(&m, x, nb));
    TIME("∂W = δᵀ·x (with ∂b, δ = relu'), hidden, batch 32", 2.0 * B * IN * H, 100,
         mlp32_hidden_backward(&m, x, nb));
    TIME("∂x = δ·W, out 10 → 128, batch 32", 2.0 * B * OUT * H, 10000, mlp32_out_delta(&m, nb));
    TIME("NAME_train (fused), batch 32", 409088.0 * B, 100, mlp32_train(&m, x, t, nb));
    TIME("NAME_backward + NAME_step, batch 32", 409088.0 * B, 100,
         (mlp32_backward(&m, x, t, nb), mlp32_step(&m)));
    return 0;
}
