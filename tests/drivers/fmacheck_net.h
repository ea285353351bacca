/*
 * fmacheck_net.h - the checks of one network of fmacheck.c, included once per network
 * with R (its real), NET and UP (its names), FMA (fmaf or fma), EPS and FUSED (whether
 * its layers are looped) defined.
 */
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define V(x) CAT(NET, x)
#define STR_(x) #x
#define STR(x) STR_(x)

/* a·b + c rounded once (fused), else twice */
static R V(_madd)(R a, R b, R c, int fused)
{
    if (fused)
        return FMA(a, b, c);
    const R p = a * b;
    return c + p;
}

/* W[j]·x + b[j] in the tiles' order (and the unrolled sums'). */
static R V(_dot)(const R *W, const R *b, const R *x, int in, int j, int fused)
{
    R a[LANES] = {0};
    const int w = in < LANES ? in : LANES, full = in / w * w;
    for (int i = 0; i < full; i++)
        a[i % w] = V(_madd)(W[j * in + i], x[i], a[i % w], fused);
    for (int i = full; i < in; i++)
        a[i - full] = V(_madd)(W[j * in + i], x[i], a[i - full], fused);
    for (int n = w; n > 1; n = (n + 1) / 2)
        for (int k = 0; k + (n + 1) / 2 < n; k++)
            a[k] += a[k + (n + 1) / 2];
    return b[j] + a[0];
}

/* Whether got is want: to the bit where fused, else as a value (the unrolled sums start
 * from their first term, not +0, which may change the sign of a zero). */
static int V(_same)(R got, R want)
{
    return FUSED ? !memcmp(&got, &want, sizeof got) : got == want;
}

/* Compares n values got[k] with want[k]; counts how many of want differ from
 * other[] (the other rounding) into *differ. */
static int V(_compare)(const R *got, const R *want, const R *other, int n, int *differ)
{
    int bad = 0;
    for (int k = 0; k < n; k++) {
        bad += !V(_same)(got[k], want[k]);
        *differ += want[k] != other[k];
    }
    return bad;
}

static int CAT(check_, NET)(void)
{
    static V(_model) m;
    static R x[N * IN], t[N * OUT], y[N * OUT], want[2][N * IN * H];
    uint64_t st = 99;
    V(_init)(&m, 1);
    R *W1 = m.params + V(_h_W), *b1 = m.params + V(_h_b);
    R *W2 = m.params + V(_out_W), *b2 = m.params + V(_out_b);
    for (int i = 0; i < CAT(UP, _PARAMS); i++)
        m.params[i] = (R)rnd(&st);
    for (int i = 0; i < N * IN; i++)
        x[i] = (R)rnd(&st);
    for (int i = 0; i < N * OUT; i++)
        t[i] = (R)rnd(&st);
    /* sample 0, output 0: lane 0 fma((1 + ε)·ε/2, 1 − ε, 1 + ε), just below a tie: 1 + ε
     * rounded once, 1 + 2ε rounded twice; the other lanes 0, and no bias */
    for (int i = 0; i < IN; i++)
        x[i] = 0;
    x[0] = 1;
    x[8] = 1 - EPS;
    W1[0] = 1 + EPS;
    W1[8] = (1 + EPS) * (EPS / 2);
    b1[0] = 0;
    int bad = 0, differ = 0, tie = 0;

    /* forward: z of both layers, each from its input as the code computed it */
    V(_forward)(&m, x, y, N);
    for (int f = 0; f < 2; f++)
        for (int s = 0; s < N; s++)
            for (int j = 0; j < H; j++)
                want[f][s * H + j] = V(_dot)(W1, b1, x + s * IN, IN, j, (f == 0) == FUSED);
    tie = want[!FUSED][0] == 1 + EPS && want[FUSED][0] == 1 + 2 * EPS &&
          m.h_z[0][0] == want[0][0];
    bad += V(_compare)(m.h_z[0], want[0], want[1], N * H, &differ);
    for (int f = 0; f < 2; f++)
        for (int s = 0; s < N; s++)
            for (int j = 0; j < OUT; j++)
                want[f][s * OUT + j] = V(_dot)(W2, b2, m.h_a[s], H, j, (f == 0) == FUSED);
    bad += V(_compare)(m.out_z[0], want[0], want[1], N * OUT, &differ);

    /* backward from zero grads: the first layer's d = δ·W2, and ∂C/∂W of both, each
     * element from +0 in order (over the samples whose δ is not 0), then added to 0 */
    V(_backward)(&m, x, t, N);
    R(*d2)[OUT] = m.d0.out_d, (*d1)[H] = m.d1.h_d;
    for (int f = 0; f < 2; f++)
        for (int s = 0; s < N; s++)
            for (int i = 0; i < H; i++) {
                R sum = 0;
                for (int j = 0; j < OUT; j++)
                    sum = V(_madd)(W2[j * H + i], d2[s][j], sum, (f == 0) == FUSED);
                want[f][s * H + i] = sum;
            }
    bad += V(_compare)(d1[0], want[0], want[1], N * H, &differ);
    for (int f = 0; f < 2; f++)
        for (int j = 0; j < OUT; j++)
            for (int i = 0; i < H; i++) {
                R sum = 0;
                for (int s = 0; s < N; s++)
                    if (d2[s][j] != 0)
                        sum = V(_madd)(m.h_a[s][i], d2[s][j], sum, (f == 0) == FUSED);
                want[f][j * H + i] = 0 + sum;
            }
    bad += V(_compare)(m.grads + V(_out_W), want[0], want[1], OUT * H, &differ);
    for (int f = 0; f < 2; f++)
        for (int j = 0; j < H; j++)
            for (int i = 0; i < IN; i++) {
                R sum = 0;
                for (int s = 0; s < N; s++)
                    if (d1[s][j] != 0)
                        sum = V(_madd)(x[s * IN + i], d1[s][j], sum, (f == 0) == FUSED);
                want[f][j * IN + i] = 0 + sum;
            }
    bad += V(_compare)(m.grads + V(_h_W), want[0], want[1], H * IN, &differ);

    printf("%s: %d values, %d wrong, %d rounded %s would differ, the tie %s\n", STR(NET), (N + OUT) * H + N * H + OUT * H + H * IN, bad, differ,
           FUSED ? "apart" : "once", tie ? "right" : "WRONG");
    return bad + !differ + !tie;
}

#undef CAT_
#undef CAT
#undef V
#undef STR_
#undef STR
