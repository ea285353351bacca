/*
 * loops.c - loop-shape experiments for the code generator: the hidden layer of the MNIST
 * MLP (784 -> 128) written in the shapes compared before the tiles were written
 * (docs/PERFORMANCE.md, History), each timed alone (median of 11 runs).  Not part of `make bench`: run it by hand with each
 * compiler setting of interest, e.g.
 *
 *   for cc in "gcc -O3" "gcc -O3 -march=native" "clang -O3" "clang -O3 -march=native"; do
 *       $cc bench/loops.c -o build/bench/loops && build/bench/loops; done
 *
 * Forward (z = W·x + b, W [128][784] row-major as bpc lays it out, unless "Wᵀ"):
 *   F0 the generated shape: one running sum per output (a serial chain of adds)
 *   F1 32 partial sums along the input, summed pairwise at the end
 *   F3 Wᵀ [784][128]: z += x[i]·Wᵀ[i] (axpy over the outputs, no reduction)
 *   F4 F3 skipping the inputs that are 0 (80% of MNIST pixels)
 *   F5 Wᵀ, 4 samples × 32 outputs held in registers (a GEMM micro-kernel's shape)
 * Backward + SGD step of the same layer (δ given, 50% zeros as after a ReLU):
 *   B0 the generated shape: per sample, ∂W += δ·xᵀ over the whole of ∂W, then a
 *      separate update loop and a memset of the gradients
 *   B1 B0 with rows outer and samples inner (a row of ∂W stays in L1)
 *   B2 B1 skipping δ = 0
 *   B3 fused: each row's gradient summed over the batch in an L1 buffer, then
 *      momentum and update at once; no gradient array
 *   B4 batch 1 without momentum, fused: W -= lr·δ·xᵀ directly, skipping δ = 0
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef float real;
enum { IN = 784, OUT = 128, BATCH = 32, ACC = 32, RUNS = 11 };

static real W[OUT * IN], Wt[IN * OUT], b[OUT], X[BATCH * IN], Z[BATCH * OUT],
    Zref[BATCH * OUT];
static real P[OUT * IN + OUT], G[OUT * IN + OUT], M[OUT * IN + OUT], D[BATCH * OUT];
static const real lr = 0.1f, mu = 0.9f;

static double now(void)
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

// ---- forward ----

__attribute__((noinline)) static void f0(int n)
{
    for (int s = 0; s < n; s++) {
        const real *restrict x = X + s * IN;
        real *restrict z = Z + s * OUT;
        for (int j = 0; j < OUT; j++) {
            const real *restrict w = W + j * IN;
            real sum = b[j];
            for (int i = 0; i < IN; i++)
                sum += w[i] * x[i];
            z[j] = sum;
        }
    }
}

__attribute__((noinline)) static void f1(int n)
{
    for (int s = 0; s < n; s++) {
        const real *restrict x = X + s * IN;
        real *restrict z = Z + s * OUT;
        for (int j = 0; j < OUT; j++) {
            const real *restrict w = W + j * IN;
            real acc[ACC] = {0};
            int i = 0;
            for (; i + ACC <= IN; i += ACC)
                for (int k = 0; k < ACC; k++)
                    acc[k] += w[i + k] * x[i + k];
            for (int k = 0; i < IN; i++, k++)
                acc[k] += w[i] * x[i];
            for (int h = ACC / 2; h > 0; h /= 2)
                for (int k = 0; k < h; k++)
                    acc[k] += acc[k + h];
            z[j] = b[j] + acc[0];
        }
    }
}

/* samples [first, n) */
static void axpy_form(int first, int n)
{
    for (int s = first; s < n; s++) {
        const real *restrict x = X + s * IN;
        real z[OUT];
        memcpy(z, b, sizeof z);
        for (int i = 0; i < IN; i++) {
            const real xi = x[i];
            const real *restrict w = Wt + i * OUT;
            for (int j = 0; j < OUT; j++)
                z[j] += xi * w[j];
        }
        memcpy(Z + s * OUT, z, sizeof z);
    }
}

__attribute__((noinline)) static void f3(int n)
{
    axpy_form(0, n);
}

__attribute__((noinline)) static void f4(int n)
{
    for (int s = 0; s < n; s++) {
        const real *restrict x = X + s * IN;
        real z[OUT];
        memcpy(z, b, sizeof z);
        for (int i = 0; i < IN; i++) {
            const real xi = x[i];
            if (xi == 0)
                continue;
            const real *restrict w = Wt + i * OUT;
            for (int j = 0; j < OUT; j++)
                z[j] += xi * w[j];
        }
        memcpy(Z + s * OUT, z, sizeof z);
    }
}

__attribute__((noinline)) static void f5(int n)
{
    int s = 0;
    for (; s + 4 <= n; s += 4)
        for (int j0 = 0; j0 < OUT; j0 += 32) {
            real acc[4][32];
            for (int r = 0; r < 4; r++)
                memcpy(acc[r], b + j0, sizeof acc[r]);
            for (int i = 0; i < IN; i++) {
                const real *restrict w = Wt + i * OUT + j0;
                for (int r = 0; r < 4; r++) {
                    const real xi = X[(s + r) * IN + i];
                    for (int k = 0; k < 32; k++)
                        acc[r][k] += xi * w[k];
                }
            }
            for (int r = 0; r < 4; r++)
                memcpy(Z + (s + r) * OUT + j0, acc[r], sizeof acc[r]);
        }
    axpy_form(s, n); /* the samples left over */
}

// ---- backward and step ----

__attribute__((noinline)) static void b0(int n)
{
    real *restrict dW = G, *restrict db = G + OUT * IN;
    for (int s = 0; s < n; s++) {
        const real *restrict x = X + s * IN;
        const real *restrict d = D + s * OUT;
        for (int j = 0; j < OUT; j++) {
            real *restrict dw = dW + j * IN;
            for (int i = 0; i < IN; i++)
                dw[i] += d[j] * x[i];
            db[j] += d[j];
        }
    }
    for (int i = 0; i < OUT * IN + OUT; i++) {
        M[i] = mu * M[i] + G[i];
        P[i] -= lr * M[i];
    }
    memset(G, 0, sizeof G);
}

__attribute__((noinline)) static void b1(int n, int skip)
{
    real *restrict dW = G, *restrict db = G + OUT * IN;
    for (int j = 0; j < OUT; j++) {
        real *restrict dw = dW + j * IN;
        for (int s = 0; s < n; s++) {
            const real dj = D[s * OUT + j];
            if (skip && dj == 0)
                continue;
            const real *restrict x = X + s * IN;
            for (int i = 0; i < IN; i++)
                dw[i] += dj * x[i];
            db[j] += dj;
        }
    }
    for (int i = 0; i < OUT * IN + OUT; i++) {
        M[i] = mu * M[i] + G[i];
        P[i] -= lr * M[i];
    }
    memset(G, 0, sizeof G);
}

__attribute__((noinline)) static void b1_noskip(int n) { b1(n, 0); }
__attribute__((noinline)) static void b2(int n) { b1(n, 1); }

__attribute__((noinline)) static void b3(int n)
{
    for (int j = 0; j < OUT; j++) {
        real g[IN] = {0}, gb = 0;
        for (int s = 0; s < n; s++) {
            const real dj = D[s * OUT + j];
            if (dj == 0)
                continue;
            const real *restrict x = X + s * IN;
            for (int i = 0; i < IN; i++)
                g[i] += dj * x[i];
            gb += dj;
        }
        real *restrict p = P + j * IN, *restrict m = M + j * IN;
        for (int i = 0; i < IN; i++) {
            m[i] = mu * m[i] + g[i];
            p[i] -= lr * m[i];
        }
        M[OUT * IN + j] = mu * M[OUT * IN + j] + gb;
        P[OUT * IN + j] -= lr * M[OUT * IN + j];
    }
}

/* batch 1, plain SGD: the generated shape (B0 without momentum) and the fused one */
__attribute__((noinline)) static void b0_sgd(int n)
{
    (void)n;
    for (int j = 0; j < OUT; j++) {
        real *restrict dw = G + j * IN;
        for (int i = 0; i < IN; i++)
            dw[i] += D[j] * X[i];
        G[OUT * IN + j] += D[j];
    }
    for (int i = 0; i < OUT * IN + OUT; i++)
        P[i] -= lr * G[i];
    memset(G, 0, sizeof G);
}

__attribute__((noinline)) static void b4(int n)
{
    (void)n;
    for (int j = 0; j < OUT; j++) {
        const real dj = D[j];
        if (dj == 0)
            continue;
        const real c = lr * dj;
        real *restrict p = P + j * IN;
        for (int i = 0; i < IN; i++)
            p[i] -= c * X[i];
        P[OUT * IN + j] -= c;
    }
}

// ---- driver ----

typedef void kernel_fn(int n);

static void bench(const char *name, kernel_fn *fn, int n, int forward)
{
    double us[RUNS];
    const int reps = n == 1 ? 200 : 10;
    for (int r = 0; r < RUNS; r++) {
        const double t0 = now();
        for (int k = 0; k < reps; k++)
            fn(n);
        us[r] = (now() - t0) / reps / n * 1e6;
    }
    qsort(us, RUNS, sizeof *us, cmp_double);
    const double med = us[RUNS / 2];
    printf("%-44s n=%2d %8.2f us/sample", name, n, med);
    if (forward) {
        double err = 0;
        for (int i = 0; i < n * OUT; i++) {
            const double e = Z[i] > Zref[i] ? Z[i] - Zref[i] : Zref[i] - Z[i];
            err = e > err ? e : err;
        }
        printf(" %7.2f GFLOP/s  max |Δz| %.1e", 2.0 * IN * OUT / (med * 1e3), err);
    }
    printf("\n");
}

int main(void)
{
    srand(1);
    for (int i = 0; i < OUT * IN; i++)
        W[i] = ((real)rand() / (real)RAND_MAX - 0.5f) * 0.16f;
    for (int j = 0; j < OUT; j++)
        for (int i = 0; i < IN; i++)
            Wt[i * OUT + j] = W[j * IN + i];
    for (int i = 0; i < BATCH * IN; i++) /* 80% zeros, as MNIST's pixels */
        X[i] = rand() % 5 == 0 ? (real)(rand() % 256) / 255.0f : 0;
    for (int i = 0; i < BATCH * OUT; i++) /* half the units off, as after a ReLU */
        D[i] = rand() % 2 ? ((real)rand() / (real)RAND_MAX - 0.5f) * 1e-3f : 0;
    f0(BATCH);
    memcpy(Zref, Z, sizeof Z);

    for (int n = 1; n <= BATCH; n += BATCH - 1) {
        bench("F0 generated: one running sum", f0, n, 1);
        bench("F1 32 partial sums", f1, n, 1);
        bench("F3 Wt, axpy over the outputs", f3, n, 1);
        bench("F4 F3 skipping zero inputs", f4, n, 1);
        bench("F5 Wt, 4 samples x 32 outputs in registers", f5, n, 1);
    }
    bench("B0 generated, SGD (batch 1)", b0_sgd, 1, 0);
    bench("B4 fused W -= lr*d*x, skip d = 0 (batch 1)", b4, 1, 0);
    bench("B0 generated, momentum step, memset", b0, BATCH, 0);
    bench("B1 rows outer, samples inner", b1_noskip, BATCH, 0);
    bench("B2 B1 skipping d = 0", b2, BATCH, 0);
    bench("B3 fused row gradient + momentum update", b3, BATCH, 0);
    return 0;
}
