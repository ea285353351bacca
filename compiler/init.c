/*
 * init.c - the weight initialization schemes: one table row each (name, parameters)
 * and the code that emits the draw of a layer's weights.  Bounds and standard
 * deviations follow torch.nn.init (fan_in = in, fan_out = out); biases always start at
 * zero.  The compiler computes each constant and writes it as a literal; the generated
 * NAME_init draws from the runtime's bprt_rng (`rng` in scope), weights in order.
 */
#include <math.h>

#include "bpc.h"

/* W ~ U(−bound, bound) */
static void emit_uniform(Emit *e, const GenCtx *c, const Layer *l, const char *scheme,
                         const char *formula, double bound)
{
    char a[GEN_LIT_MAX];
    emit_line(e, "/* %s.W [%ld][%ld]: %s, U(−a, a) with a = %s */", l->label, l->out, l->in,
              scheme, formula);
    emit_line(e, "for (long i = 0; i < %ld; i++)", l->in * l->out);
    emit_cont(e, "m->params[%ld + i] = (%s)bprt_rng_uniform(&rng, -%s, %s);", l->w_offset,
              c->real, gen_dlit(bound, a), a);
}

/* W ~ N(0, std²) */
static void emit_normal(Emit *e, const GenCtx *c, const Layer *l, const char *scheme,
                        const char *formula, double std)
{
    char sd[GEN_LIT_MAX];
    emit_line(e, "/* %s.W [%ld][%ld]: %s, N(0, σ²) with σ = %s */", l->label, l->out, l->in,
              scheme, formula);
    emit_line(e, "for (long i = 0; i < %ld; i++)", l->in * l->out);
    emit_cont(e, "m->params[%ld + i] = (%s)bprt_rng_normal(&rng, 0.0, %s);", l->w_offset, c->real,
              gen_dlit(std, sd));
}

static double fan_in(const Layer *l)
{
    return (double)l->in;
}

static double fan_sum(const Layer *l)
{
    return (double)l->in + (double)l->out;
}

static void xavier_uniform(Emit *e, const GenCtx *c, const Layer *l, const double *args)
{
    (void)args;
    emit_uniform(e, c, l, "xavier_uniform", "√(6 / (fan_in + fan_out))", sqrt(6.0 / fan_sum(l)));
}

static void xavier_normal(Emit *e, const GenCtx *c, const Layer *l, const double *args)
{
    (void)args;
    emit_normal(e, c, l, "xavier_normal", "√(2 / (fan_in + fan_out))", sqrt(2.0 / fan_sum(l)));
}

static void he_uniform(Emit *e, const GenCtx *c, const Layer *l, const double *args)
{
    (void)args;
    emit_uniform(e, c, l, "he_uniform", "√(6 / fan_in)", sqrt(6.0 / fan_in(l)));
}

static void he_normal(Emit *e, const GenCtx *c, const Layer *l, const double *args)
{
    (void)args;
    emit_normal(e, c, l, "he_normal", "√(2 / fan_in)", sqrt(2.0 / fan_in(l)));
}

static void lecun_uniform(Emit *e, const GenCtx *c, const Layer *l, const double *args)
{
    (void)args;
    emit_uniform(e, c, l, "lecun_uniform", "√(3 / fan_in)", sqrt(3.0 / fan_in(l)));
}

static void lecun_normal(Emit *e, const GenCtx *c, const Layer *l, const double *args)
{
    (void)args;
    emit_normal(e, c, l, "lecun_normal", "√(1 / fan_in)", sqrt(1.0 / fan_in(l)));
}

static void uniform(Emit *e, const GenCtx *c, const Layer *l, const double *args)
{
    emit_uniform(e, c, l, "uniform", "the argument a", args[0]);
}

static void normal(Emit *e, const GenCtx *c, const Layer *l, const double *args)
{
    emit_normal(e, c, l, "normal", "the argument std", args[0]);
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
