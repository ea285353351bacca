/*
 * fusecheck_net.h - the checks of one network NET (see fusecheck.c); included once per
 * network with NET and UP (its upper case) defined.
 */
#define V(x) CAT(NET, x)
#define U(x) CAT(UP, x)
#define STR_(x) #x
#define STR(x) STR_(x)

/* params, grads and the optimizer's state: the struct's members from params to step */
static int CAT(same_, NET)(const V(_model) *a, const V(_model) *b)
{
    size_t from = offsetof(V(_model), params), to = offsetof(V(_model), step);
    return !memcmp((const char *)a + from, (const char *)b + from, to - from) &&
           a->step == b->step;
}

static int CAT(check_, NET)(void)
{
    enum { P = U(_PARAMS), IN = U(_INPUTS), OUT = U(_OUTPUTS), B = U(_BATCH), STEPS = 12 };
    static V(_model) a, b, c, d;
    static V(_real) x[(B + 5) * IN], t[(B + 5) * OUT];
    static const int counts[] = {1, 3, B, 5, 1, 1, 4, B, 3, 1, 2, 5};
    uint64_t st = 99;
    for (int i = 0; i < (B + 5) * IN; i++)
        x[i] = (V(_real))(4 * rnd(&st) - 2);
    for (int s = 0; s < B + 5; s++) { /* rows that sum to 1: fit for every loss used */
        double sum = 0, r[OUT];
        for (int j = 0; j < OUT; j++)
            sum += r[j] = rnd(&st) + 0.1;
        for (int j = 0; j < OUT; j++)
            t[s * OUT + j] = (V(_real))(r[j] / sum);
    }
    V(_init)(&a, 3);
    V(_init)(&b, 3);
    V(_init)(&c, 3);
    V(_init)(&d, 3);
    int bad = 0;
    for (int k = 0; k < STEPS && !bad; k++) {
        int n = counts[k] < B ? counts[k] : B, n2 = counts[(k + 1) % STEPS];
        n2 = n2 < B ? n2 : B;
        const V(_real) *x1 = x + (k % 5) * IN, *t1 = t + (k % 5) * OUT;
        const V(_real) *x2 = x + ((k + 2) % 5) * IN, *t2 = t + ((k + 2) % 5) * OUT;
        if (k % 4 == 2) { /* edit the parameters between calls, in every model alike */
            V(_real) *pa = V(_params)(&a), *pb = V(_params)(&b);
            V(_real) *pc = V(_params)(&c), *pd = V(_params)(&d);
            int i = (k * 7) % P;
            pa[i] = pb[i] = pc[i] = pd[i] = (V(_real))(0.5 - 0.01 * k);
        }
        if (k == 5) { /* a gradient written by hand: a's train may not fuse this step */
            V(_grads)(&a)[P - 1] = (V(_real))0.25;
            V(_grads)(&b)[P - 1] = (V(_real))0.25;
        }
        V(_real) la = V(_train)(&a, x1, t1, n);
        V(_real) lb = V(_backward)(&b, x1, t1, n);
        V(_step)(&b);
        V(_backward)(&c, x1, t1, n);
        V(_real) lc = V(_train)(&c, x2, t2, n2);
        V(_backward)(&d, x1, t1, n);
        V(_real) ld = V(_backward)(&d, x2, t2, n2);
        V(_step)(&d);
        if (memcmp(&la, &lb, sizeof la) || memcmp(&lc, &ld, sizeof lc)) {
            printf("%s: step %d: losses differ\n", STR(NET), k);
            bad = 1;
        }
        if (!CAT(same_, NET)(&a, &b)) {
            printf("%s: step %d (n = %d): fused train != backward + step\n", STR(NET), k, n);
            bad = 1;
        }
        if (!CAT(same_, NET)(&c, &d)) {
            printf("%s: step %d: backward + train != backward, backward, step\n", STR(NET), k);
            bad = 1;
        }
    }
    printf("%-6s %-64s %s\n", STR(NET), DESC, bad ? "FAIL" : "ok");
    return bad;
}

#undef V
#undef U
#undef STR_
#undef STR
