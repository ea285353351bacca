/*
 * act.c - the activation functions: one table row each (name, parameters) and the
 * code that emits its forward and backward computation.
 *
 * An elementwise activation emits one statement per element: gen.c hands it the C
 * lvalues ("z[3]" or "z[j]") and repeats it over the row, unrolled or in a loop.  The
 * backward statement turns g = dC/da into dz = dC/dz = g ⊙ σ'(z); g and dz may name the
 * same element (gen.c updates the delta buffer in place); a row without a backward
 * emitter (identity) has dC/dz = dC/da.  Softmax is row-wise: its
 * emitters get row pointers and do their own iteration.  Functions the statements call
 * (a stable sigmoid, ...) are emitted once per file from the rows' `helpers`.
 *
 * Adding an activation: one row below and its two emit functions beside the others.
 */
#include <math.h>

#include "bpc.h"

// ---- helpers: static functions in the generated file ----

/* σ(z) in the form that cannot overflow: e^z is only taken for z < 0. */
static void helper_sigmoid(Emit *e, const GenCtx *c)
{
    emit_line(e, "/* σ(z) = 1 / (1 + e^−z), without overflow for large |z| */");
    emit_line(e, "static %s %s_sigmoid(%s z)", c->real, c->name, c->real);
    emit_brace(e);
    emit_line(e, "if (z >= 0)");
    emit_cont(e, "return 1 / (1 + exp%s(-z));", c->fn);
    emit_line(e, "const %s ez = exp%s(z);", c->real, c->fn);
    emit_line(e, "return ez / (1 + ez);");
    emit_close(e);
    emit_end(e);
}

static void helper_silu_grad(Emit *e, const GenCtx *c)
{
    emit_line(e, "/* silu'(z) = σ(z) · (1 + z · (1 − σ(z))) */");
    emit_line(e, "static %s %s_silu_grad(%s z)", c->real, c->name, c->real);
    emit_brace(e);
    emit_line(e, "const %s s = %s_sigmoid(z);", c->real, c->name);
    emit_line(e, "return s * (1 + z * (1 - s));");
    emit_close(e);
    emit_end(e);
}

static void helper_gelu_grad(Emit *e, const GenCtx *c)
{
    char half[GEN_LIT_MAX], r2[GEN_LIT_MAX], r2pi[GEN_LIT_MAX];
    gen_lit(c, 0.5, half);
    gen_lit(c, 0.70710678118654752440, r2);   /* 1/√2 */
    gen_lit(c, 0.39894228040143267794, r2pi); /* 1/√(2π) */
    emit_line(e, "/* gelu'(z) = Φ(z) + z·φ(z): the normal distribution's cdf and pdf */");
    emit_line(e, "static %s %s_gelu_grad(%s z)", c->real, c->name, c->real);
    emit_brace(e);
    emit_line(e, "const %s cdf = %s * (1 + erf%s(z * %s));", c->real, half, c->fn, r2);
    emit_line(e, "const %s pdf = exp%s(-%s * z * z) * %s;", c->real, c->fn, half, r2pi);
    emit_line(e, "return cdf + z * pdf;");
    emit_close(e);
    emit_end(e);
}

// ---- elementwise activations: forward and backward side by side ----

static void identity_forward(Emit *e, const GenCtx *c, const double *args, const ActOperands *o)
{
    (void)c, (void)args;
    emit_line(e, "%s = %s;", o->a, o->z);
}

/* No backward emitter: dC/dz = dC/da, and gen.c keeps both in one buffer. */

static void sigmoid_forward(Emit *e, const GenCtx *c, const double *args, const ActOperands *o)
{
    (void)args;
    emit_line(e, "%s = %s_sigmoid(%s);", o->a, c->name, o->z);
}

static void sigmoid_backward(Emit *e, const GenCtx *c, const double *args, const ActOperands *o)
{
    (void)c, (void)args;
    emit_line(e, "%s = %s * %s * (1 - %s);", o->dz, o->g, o->a, o->a);
}

static void tanh_forward(Emit *e, const GenCtx *c, const double *args, const ActOperands *o)
{
    (void)args;
    emit_line(e, "%s = tanh%s(%s);", o->a, c->fn, o->z);
}

static void tanh_backward(Emit *e, const GenCtx *c, const double *args, const ActOperands *o)
{
    (void)c, (void)args;
    emit_line(e, "%s = %s * (1 - %s * %s);", o->dz, o->g, o->a, o->a);
}

static void relu_forward(Emit *e, const GenCtx *c, const double *args, const ActOperands *o)
{
    (void)c, (void)args;
    emit_line(e, "%s = %s > 0 ? %s : 0;", o->a, o->z, o->z);
}

static void relu_backward(Emit *e, const GenCtx *c, const double *args, const ActOperands *o)
{
    (void)c, (void)args;
    emit_line(e, "%s = %s > 0 ? %s : 0;", o->dz, o->z, o->g);
}

static void leaky_relu_forward(Emit *e, const GenCtx *c, const double *args, const ActOperands *o)
{
    char alpha[GEN_LIT_MAX];
    gen_lit(c, args[0], alpha);
    emit_line(e, "%s = %s > 0 ? %s : %s * %s;", o->a, o->z, o->z, alpha, o->z);
}

static void leaky_relu_backward(Emit *e, const GenCtx *c, const double *args, const ActOperands *o)
{
    char alpha[GEN_LIT_MAX];
    gen_lit(c, args[0], alpha);
    emit_line(e, "%s = %s > 0 ? %s : %s * %s;", o->dz, o->z, o->g, alpha, o->g);
}

static void elu_forward(Emit *e, const GenCtx *c, const double *args, const ActOperands *o)
{
    char alpha[GEN_LIT_MAX];
    gen_lit(c, args[0], alpha);
    emit_line(e, "%s = %s > 0 ? %s : %s * expm1%s(%s);", o->a, o->z, o->z, alpha, c->fn, o->z);
}

static void elu_backward(Emit *e, const GenCtx *c, const double *args, const ActOperands *o)
{
    char alpha[GEN_LIT_MAX];
    gen_lit(c, args[0], alpha);
    emit_line(e, "%s = %s > 0 ? %s : %s * (%s + %s);", o->dz, o->z, o->g, o->g, o->a, alpha);
}

/* PyTorch's softplus: linear above the threshold 20, where log1p(e^z) == z anyway. */
static void softplus_forward(Emit *e, const GenCtx *c, const double *args, const ActOperands *o)
{
    (void)args;
    emit_line(e, "%s = %s > 20 ? %s : log1p%s(exp%s(%s));", o->a, o->z, o->z, c->fn, c->fn,
              o->z);
}

static void softplus_backward(Emit *e, const GenCtx *c, const double *args, const ActOperands *o)
{
    (void)args;
    emit_line(e, "%s = %s > 20 ? %s : %s * %s_sigmoid(%s);", o->dz, o->z, o->g, o->g, c->name,
              o->z);
}

static void silu_forward(Emit *e, const GenCtx *c, const double *args, const ActOperands *o)
{
    (void)args;
    emit_line(e, "%s = %s * %s_sigmoid(%s);", o->a, o->z, c->name, o->z);
}

static void silu_backward(Emit *e, const GenCtx *c, const double *args, const ActOperands *o)
{
    (void)args;
    emit_line(e, "%s = %s * %s_silu_grad(%s);", o->dz, o->g, c->name, o->z);
}

/* The exact (erf) gelu, PyTorch's default. */
static void gelu_forward(Emit *e, const GenCtx *c, const double *args, const ActOperands *o)
{
    (void)args;
    char half[GEN_LIT_MAX], r2[GEN_LIT_MAX];
    gen_lit(c, 0.5, half);
    gen_lit(c, 0.70710678118654752440, r2);
    emit_line(e, "%s = %s * %s * (1 + erf%s(%s * %s));", o->a, o->z, half, c->fn, o->z, r2);
}

static void gelu_backward(Emit *e, const GenCtx *c, const double *args, const ActOperands *o)
{
    (void)args;
    emit_line(e, "%s = %s * %s_gelu_grad(%s);", o->dz, o->g, c->name, o->z);
}

// ---- softmax: row-wise ----

/* Emits the statement `fmt` (which has up to three "%s", all the index) for every
 * index of the row from `from`: one line per index when unrolled, else one loop. */
static void each_index(Emit *e, const ActOperands *o, long from, const char *fmt)
{
    if (o->unroll) {
        for (long j = from; j < o->width; j++) {
            char idx[24];
            snprintf(idx, sizeof idx, "%ld", j);
            /* The formats below use the index one to three times. */
            emit_line(e, fmt, idx, idx, idx);
        }
    } else {
        emit_open(e, "for (int j = %ld; j < %ld; j++)", from, o->width);
        emit_line(e, fmt, "j", "j", "j");
        emit_close(e);
    }
}

/* a = softmax(z) = e^(z − max z) / Σ e^(z − max z): subtracting the max cannot overflow. */
static void softmax_forward(Emit *e, const GenCtx *c, const double *args, const ActOperands *o)
{
    (void)args;
    char fmt[160];
    emit_brace(e);
    emit_line(e, "%s zmax = %s[0];", c->real, o->z);
    snprintf(fmt, sizeof fmt, "if (%s[%%s] > zmax) zmax = %s[%%s];", o->z, o->z);
    each_index(e, o, 1, fmt);
    emit_line(e, "%s zsum = 0;", c->real);
    snprintf(fmt, sizeof fmt, "zsum += (%s[%%s] = exp%s(%s[%%s] - zmax));", o->a, c->fn, o->z);
    each_index(e, o, 0, fmt);
    if (o->zmax) { /* kept for the cross-entropy's value: lse = zmax + log(zsum) */
        emit_line(e, "%s = zmax;", o->zmax);
        emit_line(e, "%s = zsum;", o->zsum);
    }
    snprintf(fmt, sizeof fmt, "%s[%%s] /= zsum;", o->a);
    each_index(e, o, 0, fmt);
    emit_close(e);
}

/* The Jacobian of softmax is diag(a) − a·aᵀ, so dz_i = a_i · (g_i − Σ_j g_j·a_j). */
static void softmax_backward(Emit *e, const GenCtx *c, const double *args, const ActOperands *o)
{
    (void)args;
    char fmt[160];
    emit_brace(e);
    emit_line(e, "%s dot = 0;", c->real);
    snprintf(fmt, sizeof fmt, "dot += %s[%%s] * %s[%%s];", o->g, o->a);
    each_index(e, o, 0, fmt);
    snprintf(fmt, sizeof fmt, "%s[%%s] = %s[%%s] * (%s[%%s] - dot);", o->dz, o->a, o->g);
    each_index(e, o, 0, fmt);
    emit_close(e);
}

// ---- the table ----

const ActDef act_table[] = {
    {.op.name = "identity", .op.alias = "linear",
     .formula = "z", .grad_formula = "d",
     .emit_forward = identity_forward},
    {.op.name = "sigmoid",
     .formula = "σ(z)", .grad_formula = "d ⊙ a(1 − a)",
     .bwd_uses = USES_A,
     .emit_forward = sigmoid_forward, .emit_backward = sigmoid_backward,
     .helpers = {helper_sigmoid}},
    {.op.name = "tanh",
     .formula = "tanh(z)", .grad_formula = "d ⊙ (1 − a²)",
     .bwd_uses = USES_A,
     .emit_forward = tanh_forward, .emit_backward = tanh_backward},
    {.op.name = "relu",
     .formula = "max(z, 0)", .grad_formula = "d ⊙ [z > 0]",
     .bwd_uses = USES_Z,
     .emit_forward = relu_forward, .emit_backward = relu_backward},
    {.op.name = "leaky_relu", .op.params = {{"alpha", 0.01, 0, INFINITY, 0}},
     .formula = "z > 0 ? z : α·z", .grad_formula = "d ⊙ (z > 0 ? 1 : α)",
     .bwd_uses = USES_Z,
     .emit_forward = leaky_relu_forward, .emit_backward = leaky_relu_backward},
    {.op.name = "elu", .op.params = {{"alpha", 1.0, 0, INFINITY, 0}},
     .formula = "z > 0 ? z : α·(e^z − 1)", .grad_formula = "d ⊙ (z > 0 ? 1 : a + α)",
     .bwd_uses = USES_Z | USES_A,
     .emit_forward = elu_forward, .emit_backward = elu_backward},
    {.op.name = "softplus",
     .formula = "log(1 + e^z)", .grad_formula = "d ⊙ σ(z)",
     .bwd_uses = USES_Z,
     .emit_forward = softplus_forward, .emit_backward = softplus_backward,
     .helpers = {helper_sigmoid}},
    {.op.name = "silu",
     .formula = "z·σ(z)", .grad_formula = "d ⊙ σ(z)(1 + z(1 − σ(z)))",
     .bwd_uses = USES_Z,
     .emit_forward = silu_forward, .emit_backward = silu_backward,
     .helpers = {helper_sigmoid, helper_silu_grad}},
    {.op.name = "gelu",
     .formula = "z·Φ(z)", .grad_formula = "d ⊙ (Φ(z) + z·φ(z))",
     .bwd_uses = USES_Z,
     .emit_forward = gelu_forward, .emit_backward = gelu_backward,
     .helpers = {helper_gelu_grad}},
    {.op.name = "softmax",
     .formula = "softmax(z)", .grad_formula = "a ⊙ (d − Σ d ⊙ a)",
     .rowwise = true, .bwd_uses = USES_A,
     .emit_forward = softmax_forward, .emit_backward = softmax_backward},
    {.op.name = NULL},
};
