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

/* The e^x and tanh the emitted code calls (fn "exp" or "tanh"): the C library's exp and
 * tanh in double models, bpc's own NAME_exp and NAME_tanh (below) in float ones. */
static const char *math_fn(char buf[BPC_MAX_IDENT + 8], const GenCtx *c, const char *fn)
{
    if (c->dbl)
        snprintf(buf, BPC_MAX_IDENT + 8, "%s", fn);
    else
        snprintf(buf, BPC_MAX_IDENT + 8, "%s_%s", c->name, fn);
    return buf;
}

/* Opens "static float NAME_fn(float x)", bpc's own float function, and under BPC_LIBM
 * instead a macro naming the C library's `libm`; own_fn_end closes both. */
static void own_fn_begin(Emit *e, const GenCtx *c, const char *fn, const char *libm)
{
    emit_line(e, "#ifdef BPC_LIBM");
    emit_line(e, "#define %s_%s %s", c->name, fn, libm);
    emit_line(e, "#else");
    emit_line(e, "static float %s_%s(float x)", c->name, fn);
    emit_brace(e);
}

static void own_fn_end(Emit *e)
{
    emit_close(e);
    emit_line(e, "#endif");
    emit_end(e);
}

/* Float e^x in plain float arithmetic (no FMA, contracted or not, changes it), so the
 * same bits on every machine and compiler, where glibc's, musl's and newlib's expf
 * differ.  x = k·ln2 + r, |r| ≤ ln2/2, with ln2 in two parts (the first, 15 bits, times
 * |k| ≤ 150 is exact) and the rounding error of r kept; e^r = 1 + r + r²·q(r), q a
 * degree-4 minimax polynomial (e^r's relative error 2^-28.3) in Estrin's form, with
 * 1 + r also kept to twice float's precision; then times 2^k through the exponent
 * bits, in two steps when 2^k is not a normal float, so that subnormal results round
 * once.  The coefficients were fitted for float (each rounded in turn and the rest
 * refitted); the errors the comments state were measured against double exp and tanh
 * over all 2^32 inputs (docs/LANGUAGE.md, `precision`; tests/test_gen_math.c checks
 * them on a sample).  Under BPC_LIBM the helpers are macros naming expf and tanhf, so
 * that a model with tanh but no other use of NAME_exp has no unused function. */
static void helper_exp(Emit *e, const GenCtx *c)
{
    if (c->dbl)
        return;
    emit_line(e, "/* e^x for float, the same bits on every machine: x = k·ln2 + r, |r| ≤ ln2/2,");
    emit_line(e, " * with ln2 in two parts and r's rounding error kept; e^r = 1 + r + r²·q(r), q of");
    emit_line(e, " * degree 4 (minimax); times 2^k through the exponent bits.  Over all 2^32 inputs");
    emit_line(e, " * at most 0.79 ulp from the correctly rounded e^x (0.73 outside the subnormal");
    emit_line(e, " * results).  -DBPC_LIBM: the C library's expf instead. */");
    own_fn_begin(e, c, "exp", "expf");
    emit_line(e, "/* above 88.7228317, e^x rounds to inf; below -103.972, to 0 */");
    emit_line(e, "if (!(x >= -104.0f && x <= 0x1.62e42ep6f))");
    emit_cont(e, "return x > 0 ? INFINITY : x < 0 ? 0.0f : x; /* NaN */");
    emit_line(e, "const float shift = 0x1.8p23f; /* adding it rounds to an integer */");
    emit_line(e, "const float kf = (x * 0x1.715476p0f + shift) - shift; /* round(x / ln2) */");
    emit_line(e, "const int32_t k = (int32_t)kf;");
    emit_line(e, "const float rhi = x - kf * 0x1.62e4p-1f; /* exact */");
    emit_line(e, "const float rlo = kf * 0x1.7f7d1cp-20f;");
    emit_line(e, "const float r = rhi - rlo;");
    emit_line(e, "const float rerr = (rhi - r) - rlo; /* r + rerr = rhi − rlo */");
    emit_line(e, "const float r2 = r * r;");
    emit_line(e, "const float q = (0x1.fffffcp-2f + r * 0x1.555492p-3f) +");
    emit_cont(e, "r2 * ((0x1.5558bp-5f + r * 0x1.123988p-7f) + r2 * 0x1.6a4ce4p-10f);");
    emit_line(e, "const float s = 1.0f + r;");
    emit_line(e, "const float serr = (1.0f - s) + r; /* s + serr = 1 + r exactly */");
    emit_line(e, "const float p = s + ((serr + rerr) + r2 * q); /* e^r */");
    emit_line(e, "float scale, scale2;");
    emit_line(e, "uint32_t bits;");
    emit_open(e, "if (k >= -126 && k <= 127)");
    emit_line(e, "bits = (uint32_t)(k + 127) << 23; /* 2^k */");
    emit_line(e, "memcpy(&scale, &bits, sizeof scale);");
    emit_line(e, "return p * scale;");
    emit_close(e);
    emit_line(e, "/* 2^k is not a normal float: two steps, the first exact, the second rounding */");
    emit_line(e, "bits = (uint32_t)(k / 2 + 127) << 23;");
    emit_line(e, "memcpy(&scale, &bits, sizeof scale);");
    emit_line(e, "bits = (uint32_t)(k - k / 2 + 127) << 23;");
    emit_line(e, "memcpy(&scale2, &bits, sizeof scale2);");
    emit_line(e, "return p * scale * scale2;");
    own_fn_end(e);
}

/* Float tanh, as helper_exp: an odd minimax polynomial below 0.75 (x + x³·P(x²), P of
 * degree 6, relative error 2^-32.6), 1 − 2/(e^2|x| + 1) with NAME_exp up to the first
 * float where the correctly rounded tanh is 1, and ±1 from there on.  (The division is
 * cheaper than its alternatives at this accuracy; 0.75 is where the polynomial's
 * rounding errors and those of 1 − 2/(e + 1) meet.) */
static void helper_tanh(Emit *e, const GenCtx *c)
{
    if (c->dbl)
        return;
    const char *N = c->name;
    emit_line(e, "/* tanh(x) for float, the same bits on every machine: x + x³·P(x²) for |x| < 0.75,");
    emit_line(e, " * P of degree 6 (minimax); 1 − 2/(e^2|x| + 1) up to 9.0109134, where tanh starts");
    emit_line(e, " * to round to ±1.  Over all 2^32 inputs at most 1.02 ulp from the correctly");
    emit_line(e, " * rounded tanh(x).  -DBPC_LIBM: the C library's tanhf instead. */");
    own_fn_begin(e, c, "tanh", "tanhf");
    emit_line(e, "const float a = x < 0 ? -x : x;");
    emit_open(e, "if (a < 0.75f)");
    emit_line(e, "if (a < 0x1p-12f) /* tanh(x) rounds to x (also ±0) */");
    emit_cont(e, "return x;");
    emit_line(e, "const float u = x * x, u2 = u * u;");
    emit_line(e, "const float P = (-0x1.555554p-2f + u * 0x1.1110ap-3f) +");
    emit_cont(e, "u2 * ((-0x1.ba021p-5f + u * 0x1.64ebf6p-6f) +");
    emit_cont(e, "      u2 * ((-0x1.17e666p-7f + u * 0x1.7b6a88p-9f) + u2 * -0x1.36d2e6p-11f));");
    emit_line(e, "return x + x * u * P;");
    emit_close(e);
    emit_line(e, "if (!(a < 0x1.205968p3f)) /* 9.0109134 */");
    emit_cont(e, "return x != x ? x : x < 0 ? -1.0f : 1.0f;");
    emit_line(e, "const float t = 1.0f - 2.0f / (%s_exp(2.0f * a) + 1.0f);", N);
    emit_line(e, "return x < 0 ? -t : t;");
    own_fn_end(e);
}

/* σ(z) in the form that cannot overflow: e^z is only taken for z < 0. */
static void helper_sigmoid(Emit *e, const GenCtx *c)
{
    char exp_fn[BPC_MAX_IDENT + 8];
    math_fn(exp_fn, c, "exp");
    emit_line(e, "/* σ(z) = 1 / (1 + e^−z), without overflow for large |z| */");
    emit_line(e, "static %s %s_sigmoid(%s z)", c->real, c->name, c->real);
    emit_brace(e);
    emit_line(e, "if (z >= 0)");
    emit_cont(e, "return 1 / (1 + %s(-z));", exp_fn);
    emit_line(e, "const %s ez = %s(z);", c->real, exp_fn);
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
    char tanh_fn[BPC_MAX_IDENT + 8];
    emit_line(e, "%s = %s(%s);", o->a, math_fn(tanh_fn, c, "tanh"), o->z);
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

/* g read before the select: compilers turn it into a blend, where a load in one arm
 * stays a branch (unpredictable: half the units are off) */
static void relu_backward(Emit *e, const GenCtx *c, const double *args, const ActOperands *o)
{
    (void)args;
    emit_line(e, "const %s g = %s;", c->real, o->g);
    emit_line(e, "%s = %s > 0 ? g : 0;", o->dz, o->z);
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
    char fmt[160], exp_fn[BPC_MAX_IDENT + 8];
    math_fn(exp_fn, c, "exp");
    emit_brace(e);
    emit_line(e, "%s zmax = %s[0];", c->real, o->z);
    snprintf(fmt, sizeof fmt, "if (%s[%%s] > zmax) zmax = %s[%%s];", o->z, o->z);
    each_index(e, o, 1, fmt);
    emit_line(e, "%s zsum = 0;", c->real);
    snprintf(fmt, sizeof fmt, "zsum += (%s[%%s] = %s(%s[%%s] - zmax));", o->a, exp_fn, o->z);
    each_index(e, o, 0, fmt);
    if (o->zmax) { /* kept for the cross-entropy's value: lse = zmax + log(zsum) */
        emit_line(e, "%s = zmax;", o->zmax);
        emit_line(e, "%s = zsum;", o->zsum);
    }
    /* times 1/Σ, as PyTorch's softmax does */
    emit_line(e, "const %s inv = 1 / zsum;", c->real);
    snprintf(fmt, sizeof fmt, "%s[%%s] *= inv;", o->a);
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
     .helpers = {helper_exp, helper_sigmoid}},
    {.op.name = "tanh",
     .formula = "tanh(z)", .grad_formula = "d ⊙ (1 − a²)",
     .bwd_uses = USES_A,
     .emit_forward = tanh_forward, .emit_backward = tanh_backward,
     .helpers = {helper_exp, helper_tanh}},
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
     .helpers = {helper_exp, helper_sigmoid}},
    {.op.name = "silu",
     .formula = "z·σ(z)", .grad_formula = "d ⊙ σ(z)(1 + z(1 − σ(z)))",
     .bwd_uses = USES_Z,
     .emit_forward = silu_forward, .emit_backward = silu_backward,
     .helpers = {helper_exp, helper_sigmoid, helper_silu_grad}},
    {.op.name = "gelu",
     .formula = "z·Φ(z)", .grad_formula = "d ⊙ (Φ(z) + z·φ(z))",
     .bwd_uses = USES_Z,
     .emit_forward = gelu_forward, .emit_backward = gelu_backward,
     .helpers = {helper_gelu_grad}},
    {.op.name = "softmax",
     .formula = "softmax(z)", .grad_formula = "a ⊙ (d − Σ d ⊙ a)",
     .rowwise = true, .bwd_uses = USES_A,
     .emit_forward = softmax_forward, .emit_backward = softmax_backward,
     .helpers = {helper_exp}},
    {.op.name = NULL},
};
