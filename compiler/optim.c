/*
 * optim.c - the optimizers: one table row each (name, hyperparameters with defaults
 * and ranges) and the code that emits its update rule.  The rules are PyTorch's
 * (torch.optim.SGD, Adam, AdamW with their default flags), element by element over the
 * flat parameter buffer.
 *
 * A row names the state buffers it keeps (momentum, Adam's moments: PARAMS elements
 * each, in the model struct and in checkpoints) and emits the body of NAME_step; gen.c
 * increments the step counter before it and zeroes the gradients after it.
 */
#include <math.h>

#include "bpc.h"

/* The hyperparameters as the two kinds of literal the update needs. */
typedef struct Hyper {
    char lit[GEN_LIT_MAX];
} Hyper;

static const char *lit(const GenCtx *c, double v, Hyper *h)
{
    return gen_lit(c, v, h->lit);
}

/* Declares p, grad and the state buffers as restrict pointers, so the loop vectorizes. */
static void declare_buffers(Emit *e, const GenCtx *c, const char *const *state, int nstate)
{
    emit_line(e, "%s *restrict p = m->params;", c->real);
    emit_line(e, "const %s *restrict grad = m->grads;", c->real);
    for (int i = 0; i < nstate; i++)
        emit_line(e, "%s *restrict %s = m->%s;", c->real, state[i], state[i]);
}

// ---- sgd(lr, momentum, nesterov, weight_decay) ----

enum { SGD_LR, SGD_MOMENTUM, SGD_NESTEROV, SGD_WEIGHT_DECAY };

static int sgd_nstate(const double *args)
{
    return args[SGD_MOMENTUM] > 0 ? 1 : 0;
}

static void sgd_step(Emit *e, const GenCtx *c, const double *args)
{
    static const char *const state[] = {"momentum_buf"};
    double lr = args[SGD_LR], mu = args[SGD_MOMENTUM], wd = args[SGD_WEIGHT_DECAY];
    bool nesterov = args[SGD_NESTEROV] != 0;
    Hyper l_lr, l_mu, l_wd;
    emit_line(e, "/* sgd: g = ∂C/∂p%s%s; p −= lr·%s */", wd != 0 ? " + wd·p" : "",
              mu > 0 ? "; buf = μ·buf + g" : "",
              mu > 0 ? (nesterov ? "(g + μ·buf)" : "buf") : "g");
    declare_buffers(e, c, state, sgd_nstate(args));
    emit_open(e, "for (int i = 0; i < %s_PARAMS; i++)", c->m->upper);
    if (wd != 0)
        emit_line(e, "%s g = grad[i] + %s * p[i];", c->real, lit(c, wd, &l_wd));
    else
        emit_line(e, "%s g = grad[i];", c->real);
    if (mu > 0) {
        emit_line(e, "momentum_buf[i] = %s * momentum_buf[i] + g;", lit(c, mu, &l_mu));
        if (nesterov)
            emit_line(e, "g = g + %s * momentum_buf[i];", l_mu.lit);
        else
            emit_line(e, "g = momentum_buf[i];");
    }
    emit_line(e, "p[i] -= %s * g;", lit(c, lr, &l_lr));
    emit_close(e);
}

// ---- adam and adamw(lr, beta1, beta2, eps, weight_decay) ----

enum { ADAM_LR, ADAM_BETA1, ADAM_BETA2, ADAM_EPS, ADAM_WEIGHT_DECAY };

static int adam_nstate(const double *args)
{
    (void)args;
    return 2;
}

/* Adam's update; `decoupled` is AdamW's: p *= 1 − lr·wd first, no wd in g. */
static void adam_common(Emit *e, const GenCtx *c, const double *args, bool decoupled)
{
    static const char *const state[] = {"exp_avg", "exp_avg_sq"};
    double lr = args[ADAM_LR], b1 = args[ADAM_BETA1], b2 = args[ADAM_BETA2];
    double eps = args[ADAM_EPS], wd = args[ADAM_WEIGHT_DECAY];
    char d_b1[GEN_LIT_MAX], d_b2[GEN_LIT_MAX], d_lr[GEN_LIT_MAX];
    Hyper l_b1, l_1b1, l_b2, l_1b2, l_eps, l_wd, l_decay;
    emit_line(e, "/* %s: g = ∂C/∂p%s; m = β1·m + (1 − β1)·g; v = β2·v + (1 − β2)·g²;",
              decoupled ? "adamw" : "adam", !decoupled && wd != 0 ? " + wd·p" : "");
    emit_line(e, " * p %s−= lr / (1 − β1^t) · m / (√v / √(1 − β2^t) + eps),"
                 " the corrections in double */",
              decoupled && wd != 0 ? "·= 1 − lr·wd, then p " : "");
    emit_line(e, "const double bias1 = 1 - pow(%s, (double)m->step);", gen_dlit(b1, d_b1));
    emit_line(e, "const double bias2 = 1 - pow(%s, (double)m->step);", gen_dlit(b2, d_b2));
    emit_line(e, "const %s step_size = (%s)(%s / bias1);", c->real, c->real, gen_dlit(lr, d_lr));
    emit_line(e, "const %s bias2_sqrt = (%s)sqrt(bias2);", c->real, c->real);
    declare_buffers(e, c, state, 2);
    emit_open(e, "for (int i = 0; i < %s_PARAMS; i++)", c->m->upper);
    if (decoupled && wd != 0)
        emit_line(e, "p[i] *= %s;", lit(c, 1 - lr * wd, &l_decay));
    if (!decoupled && wd != 0)
        emit_line(e, "const %s g = grad[i] + %s * p[i];", c->real, lit(c, wd, &l_wd));
    else
        emit_line(e, "const %s g = grad[i];", c->real);
    emit_line(e, "exp_avg[i] = %s * exp_avg[i] + %s * g;", lit(c, b1, &l_b1),
              lit(c, 1 - b1, &l_1b1));
    emit_line(e, "exp_avg_sq[i] = %s * exp_avg_sq[i] + %s * g * g;", lit(c, b2, &l_b2),
              lit(c, 1 - b2, &l_1b2));
    emit_line(e, "p[i] -= step_size * (exp_avg[i] / (sqrt%s(exp_avg_sq[i]) / bias2_sqrt + %s));",
              c->fn, lit(c, eps, &l_eps));
    emit_close(e);
}

static void adam_step(Emit *e, const GenCtx *c, const double *args)
{
    adam_common(e, c, args, false);
}

static void adamw_step(Emit *e, const GenCtx *c, const double *args)
{
    adam_common(e, c, args, true);
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
     .nstate = sgd_nstate, .state = {"momentum_buf"}, .emit_step = sgd_step},
    {.op.name = "adam", .op.params = ADAM_PARAMS(0),
     .nstate = adam_nstate, .state = {"exp_avg", "exp_avg_sq"}, .emit_step = adam_step},
    {.op.name = "adamw", .op.params = ADAM_PARAMS(0.01),
     .nstate = adam_nstate, .state = {"exp_avg", "exp_avg_sq"}, .emit_step = adamw_step},
    {.op.name = NULL},
};
