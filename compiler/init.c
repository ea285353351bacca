/*
 * init.c - the weight initialization schemes: one table row each (name, parameters)
 * and the code that emits the draw of a layer's weights.  Bounds and standard
 * deviations follow torch.nn.init, with the fan-in and fan-out the layer kind gives its
 * tensor (dense: fan_in = in, fan_out = out); biases always start at zero.  The compiler computes each constant and writes it as a literal; the generated
 * NAME_init draws from the runtime's bprt_rng (`rng` in scope), weights in order.
 */
#include <math.h>

#include "bpc.h"

/* W ~ U(−bound, bound) */
/* "hidden.W [4][2]" */
static void tensor_name(char *buf, size_t size, const char *label, const Tensor *t)
{
    char dims[64];
    tensor_format_dims(dims, sizeof dims, t);
    snprintf(buf, size, "%s.%s %s", label, t->name, dims);
}

static void emit_uniform(Emit *e, const GenCtx *c, const char *label, const Tensor *t,
                         const char *scheme, const char *formula, double bound)
{
    char a[GEN_LIT_MAX], name[BPC_MAX_IDENT + 96];
    tensor_name(name, sizeof name, label, t);
    emit_line(e, "/* %s: %s, U(−a, a) with a = %s */", name, scheme, formula);
    emit_line(e, "for (long i = 0; i < %ld; i++)", t->size);
    emit_cont(e, "m->params[%ld + i] = (%s)bprt_rng_uniform(&rng, -%s, %s);", t->offset,
              c->real, gen_dlit(bound, a), a);
}

/* W ~ N(0, std²) */
static void emit_normal(Emit *e, const GenCtx *c, const char *label, const Tensor *t,
                        const char *scheme, const char *formula, double std)
{
    char sd[GEN_LIT_MAX], name[BPC_MAX_IDENT + 96];
    tensor_name(name, sizeof name, label, t);
    emit_line(e, "/* %s: %s, N(0, σ²) with σ = %s */", name, scheme, formula);
    emit_line(e, "for (long i = 0; i < %ld; i++)", t->size);
    emit_cont(e, "m->params[%ld + i] = (%s)bprt_rng_normal(&rng, 0.0, %s);", t->offset, c->real,
              gen_dlit(std, sd));
}

static double fan_sum(const Tensor *t)
{
    return t->fan_in + t->fan_out;
}

static void xavier_uniform(Emit *e, const GenCtx *c, const char *label, const Tensor *t,
                   const double *args)
{
    (void)args;
    emit_uniform(e, c, label, t, "xavier_uniform", "√(6 / (fan_in + fan_out))", sqrt(6.0 / fan_sum(t)));
}

static void xavier_normal(Emit *e, const GenCtx *c, const char *label, const Tensor *t,
                   const double *args)
{
    (void)args;
    emit_normal(e, c, label, t, "xavier_normal", "√(2 / (fan_in + fan_out))", sqrt(2.0 / fan_sum(t)));
}

static void he_uniform(Emit *e, const GenCtx *c, const char *label, const Tensor *t,
                   const double *args)
{
    (void)args;
    emit_uniform(e, c, label, t, "he_uniform", "√(6 / fan_in)", sqrt(6.0 / t->fan_in));
}

static void he_normal(Emit *e, const GenCtx *c, const char *label, const Tensor *t,
                   const double *args)
{
    (void)args;
    emit_normal(e, c, label, t, "he_normal", "√(2 / fan_in)", sqrt(2.0 / t->fan_in));
}

static void lecun_uniform(Emit *e, const GenCtx *c, const char *label, const Tensor *t,
                   const double *args)
{
    (void)args;
    emit_uniform(e, c, label, t, "lecun_uniform", "√(3 / fan_in)", sqrt(3.0 / t->fan_in));
}

static void lecun_normal(Emit *e, const GenCtx *c, const char *label, const Tensor *t,
                   const double *args)
{
    (void)args;
    emit_normal(e, c, label, t, "lecun_normal", "√(1 / fan_in)", sqrt(1.0 / t->fan_in));
}

static void uniform(Emit *e, const GenCtx *c, const char *label, const Tensor *t,
                   const double *args)
{
    emit_uniform(e, c, label, t, "uniform", "the argument a", args[0]);
}

static void normal(Emit *e, const GenCtx *c, const char *label, const Tensor *t,
                   const double *args)
{
    emit_normal(e, c, label, t, "normal", "the argument std", args[0]);
}

const InitDef init_table[] = {
    {.op.name = "xavier_uniform", .emit = xavier_uniform},
    {.op.name = "xavier_normal", .emit = xavier_normal},
    {.op.name = "he_uniform", .emit = he_uniform},
    {.op.name = "he_normal", .emit = he_normal},
    {.op.name = "lecun_uniform", .emit = lecun_uniform},
    {.op.name = "lecun_normal", .emit = lecun_normal},
    {.op.name = "uniform", .op.params = {{"a", 0.05, 0, 1e6, PARAM_LO_OPEN}}, .emit = uniform},
    {.op.name = "normal", .op.params = {{"std", 0.01, 0, 1e6, PARAM_LO_OPEN}}, .emit = normal},
    {.op.name = NULL},
};
