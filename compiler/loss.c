/*
 * loss.c - the loss functions: one table row each (name, parameters, the output
 * activation it requires) and the code that emits its value and gradient.
 *
 * Both emitters work on one sample's row; gen.c wraps them in the loop over samples.
 * The value emitter adds the sample's loss to the accumulator `o->sum`; gen.c divides
 * by n (per_sample) or by n·OUT.  The gradient emitter writes row `o->d`, scaled by
 * `o->scale` (1/n or 1/(n·OUT)): dC/dy, or for a `fused` loss directly dC/dz through
 * the required output activation, where that is the stable and cheap form
 * (softmax + cross-entropy: y·Σt − t; sigmoid + binary cross-entropy: y − t).
 */
#include <math.h>

#include "bpc.h"

// ---- mse: (y − t)² ----

static void mse_value(Emit *e, const GenCtx *c, const double *args, const LossOperands *o)
{
    (void)args;
    emit_open(e, "for (int j = 0; j < %ld; j++)", o->width);
    emit_line(e, "const %s diff = %s[j] - %s[j];", c->real, o->y, o->t);
    emit_line(e, "%s += diff * diff;", o->sum);
    emit_close(e);
}

static void mse_grad(Emit *e, const GenCtx *c, const double *args, const LossOperands *o)
{
    (void)c, (void)args;
    emit_open(e, "for (int j = 0; j < %ld; j++)", o->width);
    emit_line(e, "%s[j] = 2 * (%s[j] - %s[j]) * %s;", o->d, o->y, o->t, o->scale);
    emit_close(e);
}

// ---- mae: |y − t| ----

static void mae_value(Emit *e, const GenCtx *c, const double *args, const LossOperands *o)
{
    (void)args;
    emit_open(e, "for (int j = 0; j < %ld; j++)", o->width);
    emit_line(e, "%s += fabs%s(%s[j] - %s[j]);", o->sum, c->fn, o->y, o->t);
    emit_close(e);
}

/* sign(y − t), with sign(0) = 0 as PyTorch's. */
static void mae_grad(Emit *e, const GenCtx *c, const double *args, const LossOperands *o)
{
    (void)args;
    emit_open(e, "for (int j = 0; j < %ld; j++)", o->width);
    emit_line(e, "const %s diff = %s[j] - %s[j];", c->real, o->y, o->t);
    emit_line(e, "%s[j] = (%s)((diff > 0) - (diff < 0)) * %s;", o->d, c->real, o->scale);
    emit_close(e);
}

// ---- huber(delta): ½d² if |d| < δ, else δ(|d| − ½δ) ----

static void huber_value(Emit *e, const GenCtx *c, const double *args, const LossOperands *o)
{
    char delta[GEN_LIT_MAX], half[GEN_LIT_MAX], half_delta[GEN_LIT_MAX];
    gen_lit(c, args[0], delta);
    gen_lit(c, 0.5, half);
    gen_lit(c, 0.5 * args[0], half_delta);
    emit_open(e, "for (int j = 0; j < %ld; j++)", o->width);
    emit_line(e, "const %s diff = %s[j] - %s[j];", c->real, o->y, o->t);
    emit_line(e, "const %s adiff = fabs%s(diff);", c->real, c->fn);
    emit_line(e, "%s += adiff < %s ? %s * diff * diff : %s * (adiff - %s);", o->sum, delta, half,
              delta, half_delta);
    emit_close(e);
}

/* d clamped to [−δ, δ]. */
static void huber_grad(Emit *e, const GenCtx *c, const double *args, const LossOperands *o)
{
    char delta[GEN_LIT_MAX], neg_delta[GEN_LIT_MAX];
    gen_lit(c, args[0], delta);
    gen_lit(c, -args[0], neg_delta);
    emit_open(e, "for (int j = 0; j < %ld; j++)", o->width);
    emit_line(e, "const %s diff = %s[j] - %s[j];", c->real, o->y, o->t);
    emit_line(e, "%s[j] = (diff < %s ? %s : diff > %s ? %s : diff) * %s;", o->d, neg_delta,
              neg_delta, delta, delta, o->scale);
    emit_close(e);
}

// ---- cross_entropy with softmax: −Σ t·log softmax(z) ----

/* log softmax(z)_j = z_j − lse with lse = max z + log Σ e^(z − max z) (log-sum-exp), so
 * the loss is Σ_j t_j·(lse − z_j), finite for any z. */
static void cross_entropy_value(Emit *e, const GenCtx *c, const double *args,
                                const LossOperands *o)
{
    (void)args;
    /* the forward softmax's max and sum, kept for it (a cross-entropy output is a
     * softmax): the same values, not computed again */
    if (!o->zmax)
        internal_error(__FILE__, __LINE__, "cross-entropy without the softmax's sums");
    emit_line(e, "const %s lse = %s + log%s(%s);", c->real, o->zmax, c->fn, o->zsum);
    emit_line(e, "%s ce = 0;", c->real);
    emit_open(e, "for (int j = 0; j < %ld; j++)", o->width);
    emit_line(e, "ce += %s[j] * (lse - %s[j]);", o->t, o->z);
    emit_close(e);
    emit_line(e, "%s += ce;", o->sum);
}

/* dC/dz_j = y_j·Σt − t_j (y = softmax(z)): y − t for targets that sum to 1. */
static void cross_entropy_grad(Emit *e, const GenCtx *c, const double *args,
                               const LossOperands *o)
{
    (void)args;
    emit_line(e, "%s tsum = 0;", c->real);
    emit_open(e, "for (int j = 0; j < %ld; j++)", o->width);
    emit_line(e, "tsum += %s[j];", o->t);
    emit_close(e);
    emit_open(e, "for (int j = 0; j < %ld; j++)", o->width);
    emit_line(e, "%s[j] = (%s[j] * tsum - %s[j]) * %s;", o->d, o->y, o->t, o->scale);
    emit_close(e);
}

// ---- binary_cross_entropy with sigmoid: −(t·log y + (1 − t)·log(1 − y)) ----

/* From the logit, in the form that never takes the log of 0 or overflows:
 * max(z, 0) − z·t + log(1 + e^−|z|). */
static void binary_cross_entropy_value(Emit *e, const GenCtx *c, const double *args,
                                       const LossOperands *o)
{
    (void)args;
    emit_open(e, "for (int j = 0; j < %ld; j++)", o->width);
    emit_line(e, "const %s zj = %s[j];", c->real, o->z);
    emit_line(e, "%s += (zj > 0 ? zj : 0) - zj * %s[j] + log1p%s(exp%s(-fabs%s(zj)));", o->sum,
              o->t, c->fn, c->fn, c->fn);
    emit_close(e);
}

/* dC/dz = σ(z) − t = y − t. */
static void binary_cross_entropy_grad(Emit *e, const GenCtx *c, const double *args,
                                      const LossOperands *o)
{
    (void)c, (void)args;
    emit_open(e, "for (int j = 0; j < %ld; j++)", o->width);
    emit_line(e, "%s[j] = (%s[j] - %s[j]) * %s;", o->d, o->y, o->t, o->scale);
    emit_close(e);
}

// ---- the table ----

const LossDef loss_table[] = {
    {.op.name = "mse", .targets = "BPRT_TARGETS_VALUES",
     .formula = "mean over n×OUT of (y − t)²", .grad_formula = "∂C/∂y = 2(y − t) / (n·OUT)",
     .value_uses = USES_A, .grad_uses = USES_A,
     .emit_value = mse_value, .emit_grad = mse_grad},
    {.op.name = "mae", .targets = "BPRT_TARGETS_VALUES",
     .formula = "mean over n×OUT of |y − t|", .grad_formula = "∂C/∂y = sign(y − t) / (n·OUT)",
     .value_uses = USES_A, .grad_uses = USES_A,
     .emit_value = mae_value, .emit_grad = mae_grad},
    {.op.name = "huber", .op.params = {{"delta", 1.0, 0, INFINITY, PARAM_LO_OPEN}},
     .targets = "BPRT_TARGETS_VALUES",
     .formula = "mean over n×OUT of (|d| < δ ? ½d² : δ(|d| − ½δ)), d = y − t",
     .grad_formula = "∂C/∂y = clamp(y − t, −δ, δ) / (n·OUT)",
     .value_uses = USES_A, .grad_uses = USES_A,
     .emit_value = huber_value, .emit_grad = huber_grad},
    {.op.name = "cross_entropy", .targets = "BPRT_TARGETS_CLASSES", .needs_act = "softmax",
     .formula = "mean over n of −Σ t·log softmax(z)",
     .grad_formula = "∂C/∂z = (y·Σt − t) / n, fused with softmax",
     .fused = true, .per_sample = true, .keeps_softmax_sums = true,
     .value_uses = USES_Z, .grad_uses = USES_A,
     .emit_value = cross_entropy_value, .emit_grad = cross_entropy_grad},
    {.op.name = "binary_cross_entropy", .targets = "BPRT_TARGETS_BINARY", .needs_act = "sigmoid",
     .formula = "mean over n×OUT of max(z, 0) − z·t + log(1 + e^−|z|)",
     .grad_formula = "∂C/∂z = (y − t) / (n·OUT), fused with sigmoid",
     .fused = true,
     .value_uses = USES_Z, .grad_uses = USES_A,
     .emit_value = binary_cross_entropy_value, .emit_grad = binary_cross_entropy_grad},
    {.op.name = NULL},
};
