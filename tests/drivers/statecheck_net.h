/*
 * statecheck_net.h - one network's steps with decaying optimizer state against the
 * unflushed reference (see statecheck.c); included once per network.
 */
#define V(x) CAT(NET, x)
#define U(x) CAT(UP, x)
#define STR_(x) #x
#define STR(x) STR_(x)

typedef V(_real) V(_ref_real);

/* The generated update without the flush, operation for operation in the model's
 * type: torch.optim's rules as bpc writes them (optim.c).  grad = 0 but at step 1. */
static void CAT(ref_, NET)(V(_ref_real) *p, V(_ref_real) *s1, V(_ref_real) *s2,
                           const V(_ref_real) *grad, int n, int64_t t)
{
    typedef V(_ref_real) R;
#if KIND == SGD
    (void)s2;
    (void)t;
    for (int i = 0; i < n; i++) {
        R g = grad[i];
        s1[i] = (R)MU * s1[i] + g;
        g = NESTEROV ? g + (R)MU * s1[i] : s1[i];
        p[i] -= (R)LR * g;
    }
#else
    const double bias1 = 1 - pow(B1, (double)t), bias2 = 1 - pow(B2, (double)t);
    const R step_size = (R)(LR / bias1), bias2_sqrt = (R)sqrt(bias2);
    for (int i = 0; i < n; i++) {
        const R g = grad[i];
        s1[i] = (R)B1 * s1[i] + (R)(1 - B1) * g;
        s2[i] = (R)B2 * s2[i] + (R)(1 - B2) * g * g;
        /* sqrt in double, then rounded: the correctly rounded sqrtf for a float */
        p[i] -= step_size * (s1[i] / ((R)sqrt((double)s2[i]) / bias2_sqrt + (R)EPS));
    }
#endif
}

/* How many of v[0..n) are subnormal. */
static int CAT(subnormals_, NET)(const V(_ref_real) *v, int n)
{
    int k = 0;
    for (int i = 0; i < n; i++)
        k += v[i] != 0 && fabs((double)v[i]) < (sizeof v[i] == sizeof(float) ? FLT_MIN : DBL_MIN);
    return k;
}

static int CAT(check_, NET)(void)
{
    typedef V(_ref_real) R;
    enum { P = U(_PARAMS) };
    static V(_model) model;
    static R rp[P], rs1[P], rs2[P], grad[P];
    V(_init)(&model, 1);
    R *p = V(_params)(&model), *g = V(_grads)(&model);
    for (int i = 0; i < P; i++) {
        rp[i] = p[i] = (R)(0.5 - 0.1 * i); /* exact in float too */
        rs1[i] = rs2[i] = 0;
    }
#if KIND == SGD
    const R *s1 = model.momentum_buf, *s2 = NULL;
#else
    const R *s1 = model.exp_avg, *s2 = model.exp_avg_sq;
#endif
    long ref_subnormal[2] = {0, 0}, first_zero = 0;
    const char *bad = NULL;
    long at = 0;
    for (long t = 1; t <= STEPS && !bad; t++) {
        for (int i = 0; i < P; i++)
            grad[i] = g[i] = t == 1 ? (R)(0.25 * (i % 3 - 1) + 0.125) : 0;
        V(_step)(&model);
        CAT(ref_, NET)(rp, rs1, rs2, grad, P, t);
        at = t;
        for (int i = 0; i < P; i++)
            if (!isfinite(p[i]))
                bad = "a parameter is not finite";
        if (!bad && memcmp(p, rp, sizeof rp) != 0)
            bad = "the parameters differ from the unflushed update's";
        if (!bad && CAT(subnormals_, NET)(s1, P))
            bad = KIND == SGD ? "momentum_buf holds a subnormal" : "exp_avg holds a subnormal";
        if (!bad && s2 && FLUSH_V && CAT(subnormals_, NET)(s2, P))
            bad = "exp_avg_sq holds a subnormal";
        ref_subnormal[0] += CAT(subnormals_, NET)(rs1, P);
        ref_subnormal[1] += CAT(subnormals_, NET)(rs2, P);
        int zero = 1;
        for (int i = 0; i < P; i++)
            zero &= s1[i] == 0;
        if (zero && !first_zero)
            first_zero = t;
    }
    if (!bad && (ref_subnormal[0] == 0 || (KIND == ADAM && FLUSH_V && ref_subnormal[1] == 0)))
        bad = "the reference's state never went subnormal: STEPS is too small";
    if (!bad && !first_zero)
        bad = "the decaying state never reached 0";
    printf("%-4s %-60s %s", STR(NET), DESC, bad ? "FAIL: " : "ok");
    if (bad)
        printf("%s (after step %ld)", bad, at);
    else
        printf(" (first state all 0 after step %ld of %ld)", first_zero, (long)STEPS);
    printf("\n");
    return bad != NULL;
}

#undef V
#undef U
#undef STR_
#undef STR
