/*
 * optim.c - the optimizers: one table row each (name, hyperparameters with defaults
 * and ranges) and the code that emits its update rule.  The rules are PyTorch's
 * (torch.optim.SGD, Adam, AdamW with their default flags), element by element over the
 * flat parameter buffer.
 *
 * A row names the state buffers it keeps (momentum, Adam's moments: PARAMS elements
 * each, in the model struct and in checkpoints) and emits the update of one element i
 * (or of the vector that starts there):
 * p[i] and the state buffers' [i] from the gradient expression it is given, after a
 * prelude (a comment, the step's constants) emitted once per function.  gen.c puts the
 * update in NAME_update_span, over a stretch of the parameters in vectors and then one
 * by one (UpdateForm), which NAME_step and the fused trains call; the fused train of a
 * dense layer at one sample has its own loop, with p and the state buffers pointing at
 * the row.
 *
 * State is never subnormal: a value below the smallest normal number is stored as 0
 * (emit_store_state).  PyTorch does not flush; docs/LANGUAGE.md bounds the difference.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "bpc.h"

/* The hyperparameters as the two kinds of literal the update needs. */
typedef struct Hyper {
    char lit[GEN_LIT_MAX];
} Hyper;

static const char *lit(const GenCtx *c, double v, Hyper *h)
{
    return gen_lit(c, v, h->lit);
}

/* The smallest normal number of the model's type and its bits of precision. */
static double normal_min(const GenCtx *c)
{
    return c->dbl ? DBL_MIN : FLT_MIN;
}

static int precision_bits(const GenCtx *c)
{
    return c->dbl ? DBL_MANT_DIG : FLT_MANT_DIG;
}

/* Element i of array a in form f: a[i], or the vector that starts there. */
typedef struct Elem {
    char s[BPC_MAX_IDENT + 48];
} Elem;

static const char *elem(const UpdateForm *f, const char *a, Elem *out)
{
    if (f->vec)
        snprintf(out->s, sizeof out->s, "*(%s *)(%s + i)", f->vec, a);
    else
        snprintf(out->s, sizeof out->s, "%s[i]", a);
    return out->s;
}

/* The type of the update's locals. */
static const char *local(const GenCtx *c, const UpdateForm *f)
{
    return f->vec ? f->vec : c->real;
}

/* buf[i] = value (a local), but 0 when its magnitude is below the smallest normal
 * number.  State that decays towards 0 (the momentum of an input that is always 0)
 * would otherwise go subnormal and stay there (0.9·x rounds back to x at the smallest
 * subnormals), and x86 cores compute on subnormals slowly (Intel's in microcode: up to
 * half of an MNIST epoch's time).  A compare and a select, exact, so the same bits on
 * every code path and platform, unlike a flush-to-zero mode (x86's, and it changes all
 * arithmetic); in vectors, an and with the compares' lanes (f->flush).  The update
 * emits it last, after p's: gcc (with its default -ftrapping-math) vectorizes the
 * one-by-one loop only when no arithmetic depends on the selected value. */
static void emit_store_state(Emit *e, const GenCtx *c, const UpdateForm *f, const char *buf,
                             const char *value)
{
    Hyper l_min;
    Elem at;
    lit(c, normal_min(c), &l_min);
    if (!f->vec) {
        emit_line(e, "%s = fabs%s(%s) < %s ? 0 : %s;", elem(f, buf, &at), c->fn, value,
                  l_min.lit, value);
        return;
    }
    emit_line(e, "%s = %s(%s);", elem(f, buf, &at), f->flush, value);
}

// ---- sgd(lr, momentum, nesterov, weight_decay) ----

enum { SGD_LR, SGD_MOMENTUM, SGD_NESTEROV, SGD_WEIGHT_DECAY };

static int sgd_nstate(const double *args)
{
    return args[SGD_MOMENTUM] > 0 ? 1 : 0;
}

/* Plain SGD leaves p as it is when g = 0: p − lr·0 = p. */
static bool sgd_zero_noop(const double *args)
{
    return !(args[SGD_MOMENTUM] > 0) && args[SGD_WEIGHT_DECAY] == 0;
}

/* The learning rate is the model's field m->lr (NAME_init sets the .bp file's), read
 * once per step: in the model's type, it is the literal the update had before, so the
 * results are the same bits while a program leaves it as it is. */
static void sgd_comment(Emit *e, const GenCtx *c, const double *args)
{
    double mu = args[SGD_MOMENTUM], wd = args[SGD_WEIGHT_DECAY];
    bool nesterov = args[SGD_NESTEROV] != 0;
    emit_line(e, "/* sgd: g = ∂C/∂p%s%s; p −= lr·%s%s */", wd != 0 ? " + wd·p" : "",
              mu > 0 ? "; buf = μ·buf + g" : "",
              mu > 0 ? (nesterov ? "(g + μ·buf)" : "buf") : "g",
              mu > 0 ? "; a buf below the smallest normal number is stored as 0" : "");
    emit_line(e, "const %s lr = (%s)m->lr;", c->real, c->real);
}

static void sgd_update(Emit *e, const GenCtx *c, const double *args, const char *grad,
                       const UpdateForm *f)
{
    double mu = args[SGD_MOMENTUM], wd = args[SGD_WEIGHT_DECAY];
    bool nesterov = args[SGD_NESTEROV] != 0;
    const char *T = local(c, f);
    Hyper l_mu, l_wd;
    Elem p, buf;
    if (wd != 0)
        emit_line(e, "%s g = %s + %s * %s;", T, grad, lit(c, wd, &l_wd), elem(f, "p", &p));
    else
        emit_line(e, "%s g = %s;", T, grad);
    if (mu > 0) {
        emit_line(e, "const %s buf = %s * %s + g;", T, lit(c, mu, &l_mu),
                  elem(f, "momentum_buf", &buf));
        if (nesterov)
            emit_line(e, "g = g + %s * buf;", l_mu.lit);
        else
            emit_line(e, "g = buf;");
    }
    emit_line(e, "%s -= lr * g;", elem(f, "p", &p));
    if (mu > 0)
        emit_store_state(e, c, f, "momentum_buf", "buf");
}

// ---- adam and adamw(lr, beta1, beta2, eps, weight_decay) ----

enum { ADAM_LR, ADAM_BETA1, ADAM_BETA2, ADAM_EPS, ADAM_WEIGHT_DECAY };

static int adam_nstate(const double *args)
{
    (void)args;
    return 2;
}

static bool adam_zero_noop(const double *args)
{
    (void)args;
    return false; /* the moments decay */
}

/* Whether v below the smallest normal number MIN may be stored as 0 too (m always
 * is): when it cannot move p by more than a rounding.  Each flush takes less than MIN
 * from v and the differences decay by β2 per step, so v differs from PyTorch's by less
 * than MIN/(1 − β2), and √v/√(1 − β2^t) by less than √MIN/(1 − β2) (√ is subadditive,
 * 1 − β2^t ≥ 1 − β2).  When that is below a quarter of eps's last bit (a margin for
 * the roundings of √ and /), the denominator √v/√(1 − β2^t) + eps moves by less than a
 * quarter of its last bit, so by one float at most, and not at all while
 * √v/√(1 − β2^t) is below half of eps's last bit.  With eps = 0 (or tiny) a flushed v
 * would divide m by 0. */
static bool adam_flushes_v(const GenCtx *c, const double *args)
{
    double b2 = args[ADAM_BETA2];
    double eps = c->dbl ? args[ADAM_EPS] : (double)(float)args[ADAM_EPS];
    return sqrt(normal_min(c)) / (1 - b2) < ldexp(eps, -(precision_bits(c) + 2));
}

/* The comment and the step's constants; `decoupled` is AdamW's: p *= 1 − lr·wd first,
 * no wd in g. */
static void adam_prelude_common(Emit *e, const GenCtx *c, const double *args, bool decoupled)
{
    double b1 = args[ADAM_BETA1], b2 = args[ADAM_BETA2], wd = args[ADAM_WEIGHT_DECAY];
    char d_b1[GEN_LIT_MAX], d_b2[GEN_LIT_MAX], d_wd[GEN_LIT_MAX];
    emit_line(e, "/* %s: g = ∂C/∂p%s; m = β1·m + (1 − β1)·g; v = β2·v + (1 − β2)·g²;",
              decoupled ? "adamw" : "adam", !decoupled && wd != 0 ? " + wd·p" : "");
    emit_line(e, " * p %s−= lr / (1 − β1^t) · m / (√v / √(1 − β2^t) + eps),"
                 " the corrections in double;",
              decoupled && wd != 0 ? "·= 1 − lr·wd, then p " : "");
    emit_line(e, " * %s */", adam_flushes_v(c, args)
                                 ? "an m or v below the smallest normal number is stored as 0"
                                 : "an m below the smallest normal number is stored as 0"
                                   " (v is not: eps is too small)");
    emit_line(e, "const double bias1 = 1 - %s_powi(%s, m->step);", c->name, gen_dlit(b1, d_b1));
    emit_line(e, "const double bias2 = 1 - %s_powi(%s, m->step);", c->name, gen_dlit(b2, d_b2));
    emit_line(e, "const %s step_size = (%s)(m->lr / bias1);", c->real, c->real);
    emit_line(e, "const %s bias2_sqrt = (%s)sqrt(bias2);", c->real, c->real);
    if (decoupled && wd != 0) /* in double, as bpc computed the constant before */
        emit_line(e, "const %s decay = (%s)(1 - m->lr * %s);", c->real, c->real,
                  gen_dlit(wd, d_wd));
}

/* β^t for the bias corrections without the C library's pow, whose last bit differs
 * between glibc and newlib: binary powering in double-double arithmetic, each product
 * exact by Dekker's method (Veltkamp's split into halves of 26 bits; exact because the
 * file allows no FMA contraction), rounded once at the end.  Its error before that
 * rounding is below 2^-100 relative for any step under 2^40, so the result is the
 * correctly rounded β^t but in ties closer than that; glibc's pow, which PyTorch's
 * β ** t calls, is within 0.52 ulp and correctly rounded but in rare cases. */
static void helper_powi(Emit *e, const GenCtx *c)
{
    const char *N = c->name;
    emit_line(e, "/* (*xh + *xl) ·= (yh + yl) in double-double: Dekker's exact product of the");
    emit_line(e, " * high parts (split into halves of 26 bits), plus the cross terms. */");
    emit_line(e, "static void %s_dd_mul(double *xh, double *xl, double yh, double yl)", N);
    emit_brace(e);
    emit_line(e, "const double split = 134217729.0; /* 2^27 + 1 */");
    emit_line(e, "const double xs = split * *xh, ys = split * yh;");
    emit_line(e, "const double xa = xs - (xs - *xh), xb = *xh - xa; /* xh = xa + xb */");
    emit_line(e, "const double ya = ys - (ys - yh), yb = yh - ya;");
    emit_line(e, "const double p = *xh * yh;");
    emit_line(e, "const double err = ((xa * ya - p) + xa * yb + xb * ya) + xb * yb; /* xh·yh − p */");
    emit_line(e, "const double lo = err + (*xh * yl + *xl * yh);");
    emit_line(e, "*xh = p + lo;");
    emit_line(e, "*xl = lo - (*xh - p);");
    emit_close(e);
    emit_end(e);
    emit_line(e, "/* b^t, the same bits on every machine (the C libraries' pow differ in the last");
    emit_line(e, " * bit): binary powering in double-double, rounded once. */");
    emit_line(e, "static double %s_powi(double b, int64_t t)", N);
    emit_brace(e);
    emit_line(e, "double rh = 1, rl = 0; /* the product so far, rh + rl */");
    emit_line(e, "double bh = b, bl = 0; /* b^(2^k) */");
    emit_open(e, "for (; t > 0; t >>= 1)");
    emit_line(e, "if (t & 1)");
    emit_cont(e, "%s_dd_mul(&rh, &rl, bh, bl);", N);
    emit_line(e, "%s_dd_mul(&bh, &bl, bh, bl);", N);
    emit_close(e);
    emit_line(e, "return rh + rl;");
    emit_close(e);
    emit_end(e);
}

static void adam_update_common(Emit *e, const GenCtx *c, const double *args, const char *grad,
                               const UpdateForm *f, bool decoupled)
{
    double b1 = args[ADAM_BETA1], b2 = args[ADAM_BETA2];
    double eps = args[ADAM_EPS], wd = args[ADAM_WEIGHT_DECAY];
    const char *T = local(c, f);
    Hyper l_b1, l_1b1, l_b2, l_1b2, l_eps, l_wd;
    Elem p, avg, avg_sq;
    char sqrt_fn[BPC_MAX_IDENT + 16];
    if (f->vec)
        snprintf(sqrt_fn, sizeof sqrt_fn, "%s", f->sqrt);
    else
        snprintf(sqrt_fn, sizeof sqrt_fn, "sqrt%s", c->fn);
    if (decoupled && wd != 0)
        emit_line(e, "%s *= decay;", elem(f, "p", &p));
    if (!decoupled && wd != 0)
        emit_line(e, "const %s g = %s + %s * %s;", T, grad, lit(c, wd, &l_wd), elem(f, "p", &p));
    else
        emit_line(e, "const %s g = %s;", T, grad);
    emit_line(e, "const %s avg = %s * %s + %s * g;", T, lit(c, b1, &l_b1),
              elem(f, "exp_avg", &avg), lit(c, 1 - b1, &l_1b1));
    emit_line(e, "const %s avg_sq = %s * %s + %s * g * g;", T, lit(c, b2, &l_b2),
              elem(f, "exp_avg_sq", &avg_sq), lit(c, 1 - b2, &l_1b2));
    emit_line(e, "%s -= step_size * (avg / (%s(avg_sq) / bias2_sqrt + %s));", elem(f, "p", &p),
              sqrt_fn, lit(c, eps, &l_eps));
    emit_store_state(e, c, f, "exp_avg", "avg");
    if (adam_flushes_v(c, args))
        emit_store_state(e, c, f, "exp_avg_sq", "avg_sq");
    else
        emit_line(e, "%s = avg_sq;", elem(f, "exp_avg_sq", &avg_sq));
}

static void adam_prelude(Emit *e, const GenCtx *c, const double *args)
{
    adam_prelude_common(e, c, args, false);
}

static void adamw_prelude(Emit *e, const GenCtx *c, const double *args)
{
    adam_prelude_common(e, c, args, true);
}

static void adam_update(Emit *e, const GenCtx *c, const double *args, const char *grad,
                        const UpdateForm *f)
{
    adam_update_common(e, c, args, grad, f, false);
}

static void adamw_update(Emit *e, const GenCtx *c, const double *args, const char *grad,
                         const UpdateForm *f)
{
    adam_update_common(e, c, args, grad, f, true);
}

int opt_nstate(const Model *m)
{
    return m->opt->nstate ? m->opt->nstate(m->opt_args) : 0;
}

double opt_lr(const Model *m)
{
    const ParamDef *p = m->opt->op.params;
    int i = 0;
    while (p[i].name && strcmp(p[i].name, "lr"))
        i++;
    if (!p[i].name)
        internal_error(__FILE__, __LINE__, "optimizer '%s' has no lr", m->opt->op.name);
    return m->opt_args[i];
}

// ---- the table ----

#define ADAM_PARAMS(decay)                                            \
    {                                                                 \
        {"lr", 0.001, 0, INFINITY, PARAM_LO_OPEN},                    \
        {"beta1", 0.9, 0, 1, PARAM_HI_OPEN},                          \
        {"beta2", 0.999, 0, 1, PARAM_HI_OPEN},                        \
        {"eps", 1e-8, 0, INFINITY, 0},                                \
        {"weight_decay", decay, 0, INFINITY, 0},                      \
    }

const OptDef opt_table[] = {
    {.op.name = "sgd",
     .op.params = {{"lr", 0.01, 0, INFINITY, PARAM_LO_OPEN | PARAM_REQUIRED},
                {"momentum", 0, 0, 1, PARAM_HI_OPEN},
                {"nesterov", 0, 0, 1, PARAM_BOOL},
                {"weight_decay", 0, 0, INFINITY, 0}},
     .nstate = sgd_nstate, .state = {"momentum_buf"}, .zero_noop = sgd_zero_noop,
     .emit_prelude = sgd_comment, .emit_update = sgd_update},
    {.op.name = "adam", .op.params = ADAM_PARAMS(0),
     .nstate = adam_nstate, .state = {"exp_avg", "exp_avg_sq"}, .zero_noop = adam_zero_noop,
     .emit_prelude = adam_prelude, .emit_update = adam_update, .helpers = {helper_powi}},
    {.op.name = "adamw", .op.params = ADAM_PARAMS(0.01),
     .nstate = adam_nstate, .state = {"exp_avg", "exp_avg_sq"}, .zero_noop = adam_zero_noop,
     .emit_prelude = adamw_prelude, .emit_update = adamw_update, .helpers = {helper_powi}},
    {.op.name = NULL},
};
