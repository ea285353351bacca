/*
 * gradcheck_net.h - the checks of one network configuration NET (see gradcheck.c),
 * included once per configuration with NET (lower case), UP (its upper case), TARGETS
 * and NSAMP (the samples per call) defined.
 *
 *  1. double unrolled and double looped: the analytic gradient against central finite
 *     differences (fourth order, h = 1e-4) of NET_loss, relative error below 1e-6;
 *  2. unrolled against looped, which round differently (the looped products are fused,
 *     gen_kernels.c): forward outputs and gradients within 1e-12 (double) and 1e-5
 *     (float) of the largest;
 *  3. float against double on the same parameters and data: gradients within 1e-4 of
 *     the largest gradient (floats carry 7 digits; FD in float would be noise);
 *  4. the loss of the float and double variants within 1e-5.
 */
#define V(suffix, x) CAT(CAT(NET, suffix), x)
#define U(x) CAT(CAT(UP, DU), x) /* the double unrolled variant's macros */
#define STR_(x) #x
#define STR(x) STR_(x)

enum { CAT(NET, _N) = NSAMP }; /* samples per call: nets.h's */

static double CAT(fd_, NET)(V(du, _model) *m, const double *x, const double *t, int n, int p)
{
    const double h = 1e-4;
    double *w = V(du, _params)(m), orig = w[p], f[4];
    const double off[4] = {-2, -1, 1, 2};
    for (int k = 0; k < 4; k++) {
        w[p] = orig + off[k] * h;
        f[k] = V(du, _loss)(m, x, t, n);
    }
    w[p] = orig;
    return (f[0] - 8 * f[1] + 8 * f[2] - f[3]) / (12 * h);
}

static double CAT(fd_l_, NET)(V(dl, _model) *m, const double *x, const double *t, int n, int p)
{
    const double h = 1e-4;
    double *w = V(dl, _params)(m), orig = w[p], f[4];
    const double off[4] = {-2, -1, 1, 2};
    for (int k = 0; k < 4; k++) {
        w[p] = orig + off[k] * h;
        f[k] = V(dl, _loss)(m, x, t, n);
    }
    w[p] = orig;
    return (f[0] - 8 * f[1] + 8 * f[2] - f[3]) / (12 * h);
}

static int CAT(check_, NET)(void)
{
    enum { N = CAT(NET, _N), IN = U(_INPUTS), OUT = U(_OUTPUTS), P = U(_PARAMS) };
    static V(du, _model) du;
    static V(dl, _model) dl;
    static V(fu, _model) fu;
    static V(fl, _model) fl;
    const char *name = STR(NET);
    int fails = 0;

    /* The same parameters everywhere: the float init, widened. */
    V(fu, _init)(&fu, 7);
    V(dl, _init)(&dl, 0);
    V(du, _init)(&du, 0);
    V(fl, _init)(&fl, 0);
    for (int i = 0; i < P; i++) {
        fl.params[i] = fu.params[i];
        du.params[i] = dl.params[i] = fu.params[i];
    }
    double x[N * IN], t[N * OUT];
    float xf[N * IN], tf[N * OUT];
    make_data(x, t, N, IN, OUT, TARGETS, 12345);
    for (int i = 0; i < N * IN; i++)
        xf[i] = (float)x[i];
    for (int i = 0; i < N * OUT; i++)
        tf[i] = (float)t[i];

    /* analytic gradients */
    double loss_du = V(du, _backward)(&du, x, t, N);
    double loss_dl = V(dl, _backward)(&dl, x, t, N);
    float loss_fu = V(fu, _backward)(&fu, xf, tf, N);
    float loss_fl = V(fl, _backward)(&fl, xf, tf, N);

    /* 1. finite differences */
    double err_u = 0, err_l = 0, gmax = 0;
    for (int p = 0; p < P; p++) {
        double fd = CAT(fd_, NET)(&du, x, t, N, p);
        double e = rel_err(du.grads[p], fd, 1e-6);
        if (e > err_u)
            err_u = e;
        fd = CAT(fd_l_, NET)(&dl, x, t, N, p);
        e = rel_err(dl.grads[p], fd, 1e-6);
        if (e > err_l)
            err_l = e;
        if (fabs(du.grads[p]) > gmax)
            gmax = fabs(du.grads[p]);
    }
    fails += report(name, "double unrolled vs finite diff", err_u, 1e-6);
    fails += report(name, "double looped vs finite diff", err_l, 1e-6);
    fails += report(name, "gradient not all zero", gmax > 0 ? 0 : 1, 0);

    /* 2. unrolled vs looped */
    double ydu[N * OUT], ydl[N * OUT];
    float yfu[N * OUT], yfl[N * OUT];
    V(du, _forward)(&du, x, ydu, N);
    V(dl, _forward)(&dl, x, ydl, N);
    V(fu, _forward)(&fu, xf, yfu, N);
    V(fl, _forward)(&fl, xf, yfl, N);
    double ymax = 1e-300, dy = 0, fy = 0;
    for (int i = 0; i < N * OUT; i++)
        if (fabs(ydu[i]) > ymax)
            ymax = fabs(ydu[i]);
    for (int i = 0; i < N * OUT; i++) {
        if (fabs(ydu[i] - ydl[i]) / ymax > dy)
            dy = fabs(ydu[i] - ydl[i]) / ymax;
        if (fabs((double)yfu[i] - yfl[i]) / ymax > fy)
            fy = fabs((double)yfu[i] - yfl[i]) / ymax;
    }
    fails += report(name, "double forward unrolled vs looped", dy, 1e-12);
    fails += report(name, "float forward unrolled vs looped", fy, 1e-5);
    double dgrad = 0, fgrad = 0;
    for (int p = 0; p < P; p++) {
        double e = fabs(du.grads[p] - dl.grads[p]) / gmax;
        if (e > dgrad)
            dgrad = e;
        e = fabs((double)fu.grads[p] - fl.grads[p]) / gmax;
        if (e > fgrad)
            fgrad = e;
    }
    fails += report(name, "double grads unrolled vs looped", dgrad, 1e-12);
    fails += report(name, "float grads unrolled vs looped", fgrad, 1e-5);
    fails += report(name, "double loss unrolled vs looped", rel_err(loss_du, loss_dl, 1e-300),
                    1e-12);

    /* 3. float vs double */
    double ferr = 0;
    for (int p = 0; p < P; p++) {
        double e = fabs(fu.grads[p] - du.grads[p]) / gmax;
        if (e > ferr)
            ferr = e;
    }
    fails += report(name, "float vs double grads (of max)", ferr, 1e-4);
    fails += report(name, "float vs double loss", rel_err(loss_fu, loss_du, 1e-30), 1e-5);
    (void)loss_fl;
    return fails;
}

#undef V
#undef U
#undef STR_
#undef STR
