/*
 * optcheck_net.h - five optimizer steps of network NET against ref_step (see
 * optcheck.c), the last two with the learning rate (the model's lr) changed; included
 * once per network.
 */
#define V(x) CAT(NET, x)
#define U(x) CAT(UP, x)
#define STR_(x) #x
#define STR(x) STR_(x)

static int CAT(check_, NET)(void)
{
    enum { P = U(_PARAMS) };
    static const Hyper file_h = HYPER;
    Hyper h = file_h;
    static V(_model) model;
    RefState ref = {{0}, {0}, {0}, {0}, 0};
    V(_init)(&model, 1);
    V(_real) *p = V(_params)(&model);
    for (int i = 0; i < P; i++)
        ref.p[i] = p[i] = (V(_real))(0.5 - 0.1 * i); /* exact in float too */
    if (model.lr != h.lr) {
        printf("%s: lr %.17g after init, the .bp file's is %.17g\n", STR(NET), model.lr, h.lr);
        return 1;
    }
    double worst = 0;
    for (int step = 1; step <= 5; step++) {
        if (step == 4) /* a program's schedule: the last two steps at another rate */
            h.lr = model.lr = file_h.lr * 0.3;
        double grad[MAXP];
        V(_real) *g = V(_grads)(&model);
        for (int i = 0; i < P; i++) {
            /* signs and sizes vary between steps and parameters */
            g[i] = (V(_real))((i % 3 - 1) * 0.25 + 0.125 * step * (i % 2 ? 1 : -1));
            grad[i] = g[i];
        }
        V(_step)(&model);
        ref_step(&h, &ref, grad, P);
        for (int i = 0; i < P; i++) {
            double e = rel_err(p[i], ref.p[i]);
            if (e > worst)
                worst = e;
            if (g[i] != 0) {
                printf("%s: grads not zeroed by the step\n", STR(NET));
                return 1;
            }
        }
    }
    int bad = !(worst <= TOL) || model.step != 5;
    printf("%-4s %-72s %.3g (tol %.0e) step %lld %s\n", STR(NET), DESC, worst, TOL,
           (long long)model.step, bad ? "FAIL" : "ok");
    return bad;
}

#undef V
#undef U
#undef STR_
#undef STR
