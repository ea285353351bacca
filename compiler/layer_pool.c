/*
 * layer_pool.c - the layers without parameters over C×H×W inputs: maxpool and avgpool
 * (PyTorch's nn.MaxPool2d and nn.AvgPool2d: no padding, floor mode, stride = kernel
 * unless given) and flatten (nn.Flatten: the C×H×W values as one vector, in that
 * order).  Their rows of the layer table and their emitters, forward and backward side
 * by side.
 *
 * Per sample and channel, output (oh, ow) is the window of KH×KW inputs starting at
 * (oh·SH, ow·SW).  The chain rule gives the backward passes directly:
 *   maxpool  a = x[k*], k* the window's first maximum (a NaN counts as the maximum, as
 *            in PyTorch's CPU kernel), so ∂C/∂x[k*] += ∂C/∂a and 0 elsewhere (the
 *            forward keeps k* in L_arg);
 *   avgpool  a = Σ x / (KH·KW), so every x of the window gets ∂C/∂a / (KH·KW);
 *   flatten  the identity: ∂C/∂x = ∂C/∂a.
 * Windows overlap when the stride is smaller than the kernel: the gradients add.
 */
#include "bpc.h"

enum { OPT_STRIDE }; /* the pooling rows' option */

#define POOL_OPTS {{"stride", 0, 1, BPC_MAX_UNITS, PARAM_INT | PARAM_PAIR}}

// ---- the shape rule ----

/* The stride: the option, or the kernel when it was not given (0). */
static long stride(const Node *n, int k)
{
    return n->opts[OPT_STRIDE][k] ? n->opts[OPT_STRIDE][k] : n->size[k];
}

static bool pool_infer(Diag *d, Node *n)
{
    if (!layer_needs_image(d, n))
        return false;
    const long *in = n->in_shape.dim;
    long kh = n->size[0], kw = n->size[1];
    if (kh > in[1] || kw > in[2]) {
        diag_error(d, n->loc, "%s: kernel %ldx%ld is larger than its input %ldx%ld", n->kind->name,
                   kh, kw, in[1], in[2]);
        return false;
    }
    n->shape = (Shape){.rank = 3,
                       .dim = {in[0], (in[1] - kh) / stride(n, 0) + 1, (in[2] - kw) / stride(n, 1) + 1}};
    n->out = shape_numel(&n->shape);
    return true;
}

static bool flatten_infer(Diag *d, Node *n)
{
    (void)d;
    n->shape = (Shape){.rank = 1, .dim = {n->in}};
    n->out = n->in;
    return true;
}

static void pool_fingerprint(char *buf, size_t size, const Node *n)
{
    snprintf(buf, size, "%s=%ldx%lds%ldx%ld", n->kind->name, n->size[0], n->size[1], stride(n, 0),
             stride(n, 1));
}

static void pool_describe(char *buf, size_t size, const Node *n)
{
    snprintf(buf, size, "%s %ldx%ld stride %ldx%ld", n->kind->name, n->size[0], n->size[1],
             stride(n, 0), stride(n, 1));
}

static void flatten_name(char *buf, size_t size, const Node *n)
{
    snprintf(buf, size, "%s", n->kind->name);
}

// ---- the emitters' common parts ----

/* Opens the loops over samples, channels and output positions, with x (the sample's
 * input), the window's first input w, and o, the output's index, in scope. */
static void open_windows(Emit *e, const GenCtx *c, const Node *l)
{
    const long *in = l->in_shape.dim, *out = l->shape.dim;
    emit_open(e, "for (int s = 0; s < n; s++)");
    emit_line(e, "const %s *restrict x = in + s * %ld;", c->real, l->in);
    emit_open(e, "for (int ch = 0; ch < %ld; ch++)", in[0]);
    emit_open(e, "for (int oh = 0; oh < %ld; oh++)", out[1]);
    emit_open(e, "for (int ow = 0; ow < %ld; ow++)", out[2]);
    emit_line(e, "const int w = (ch * %ld + oh * %ld) * %ld + ow * %ld;", in[1], stride(l, 0), in[2],
              stride(l, 1));
    emit_line(e, "const int o = (ch * %ld + oh) * %ld + ow;", out[1], out[2]);
}

static void close_windows(Emit *e)
{
    for (int k = 0; k < 4; k++)
        emit_close(e);
}

/* NAME_pick(take, v, old): take ? v : old by the values' bits.  gcc compiles the
 * conditional to a branch, and which value of a window wins is data: with the branches
 * the two poolings were 28% of LeNet-5's inference at batch 256 (perf), with the masks
 * 19%. */
static void emit_pick(Emit *e, const GenCtx *c)
{
    const char *N = c->name, *R = c->real, *U = c->dbl ? "uint64_t" : "uint32_t";
    emit_line(e, "/* take ? v : old without a branch (maxpool: which value wins is data) */");
    emit_line(e, "static %s %s_pick(int take, %s v, %s old)", R, N, R, R);
    emit_brace(e);
    emit_line(e, "const %s mask = 0u - (%s)take;", U, U);
    emit_line(e, "%s vb, ob;", U);
    emit_line(e, "memcpy(&vb, &v, sizeof vb);");
    emit_line(e, "memcpy(&ob, &old, sizeof ob);");
    emit_line(e, "ob = (vb & mask) | (ob & ~mask);");
    emit_line(e, "memcpy(&old, &ob, sizeof old);");
    emit_line(e, "return old;");
    emit_close(e);
    emit_end(e);
}

/* best, the window's maximum, and k, the index in x of its first maximum (a NaN counts
 * as the maximum).  Masks, not branches (NAME_pick). */
static void emit_argmax(Emit *e, const GenCtx *c, const Node *l)
{
    emit_line(e, "int k = w;");
    emit_line(e, "%s best = x[w];", c->real);
    emit_open(e, "for (int i = 0; i < %ld; i++)", l->size[0]);
    emit_open(e, "for (int j = 0; j < %ld; j++)", l->size[1]);
    emit_line(e, "const int at = w + i * %ld + j;", l->in_shape.dim[2]);
    emit_line(e, "const %s v = x[at];", c->real);
    emit_line(e, "const int take = (v > best) | (isnan(v) != 0);");
    emit_line(e, "best = %s_pick(take, v, best);", c->name);
    emit_line(e, "k = (at & -take) | (k & (take - 1));");
    emit_close(e);
    emit_close(e);
}

/* The head of NAME_L_forward or NAME_L_backward. */
static void open_function(Emit *e, const GenCtx *c, const Node *l, const char *what)
{
    emit_line(e, "static void %s_%s_%s(%s_model *m, const %s *in, int n)", c->name, l->label, what,
              c->name, c->real);
    emit_brace(e);
}

/* The input node's d, which the backward writes, as NAME_model names it. */
static const char *prev_d(const GenCtx *c, const Node *l)
{
    return c->m->nodes[l->inputs[0]].dname;
}

/* The input node's label, for comments. */
static const char *prev_label(const GenCtx *c, const Node *l)
{
    return c->m->nodes[l->inputs[0]].label;
}

/* NAME_L_train: nothing to update, so NAME_L_backward. */
static void emit_train(Emit *e, const GenCtx *c, const Node *l)
{
    emit_line(e, "/* %s: no parameters, so %s_train's step is its backward */", l->label, c->name);
    emit_line(e, "static void %s_%s_train(%s_model *m, const %s *restrict in, int n)", c->name,
              l->label, c->name, c->real);
    emit_brace(e);
    emit_line(e, "%s_%s_backward(m, in, n);", c->name, l->label);
    emit_close(e);
    emit_end(e);
}

/* The backward of a layer whose input is the network's: nothing to compute. */
static bool emit_no_dx(Emit *e, const GenCtx *c, const Node *l)
{
    if (l->flags & NODE_NEEDS_DX)
        return false;
    emit_line(e, "/* %s backward: no parameters, and no gradient for the input x */", l->label);
    open_function(e, c, l, "backward");
    emit_line(e, "(void)m;");
    emit_line(e, "(void)in;");
    emit_line(e, "(void)n;");
    emit_close(e);
    emit_end(e);
    emit_train(e, c, l);
    return true;
}

// ---- maxpool ----

/* The forward keeps each output's k*, the index in x of its window's first maximum, in
 * L_arg: the backward then only routes the gradients, without searching the windows
 * again. */
static void maxpool_forward(Emit *e, const GenCtx *c, const Node *l)
{
    char in[64], out[64];
    shape_format(in, sizeof in, &l->in_shape);
    shape_format(out, sizeof out, &l->shape);
    emit_line(e, "/* %s forward, per sample: a (%s) = the max of each %ldx%ld window of x (%s),",
              l->label, out, l->size[0], l->size[1], in);
    emit_line(e, " * stride %ldx%ld (nn.MaxPool2d), and arg the index in x of its first maximum */",
              stride(l, 0), stride(l, 1));
    open_function(e, c, l, "forward");
    open_windows(e, c, l);
    emit_argmax(e, c, l);
    emit_line(e, "m->%s_a[s][o] = best;", l->label);
    emit_line(e, "m->%s_arg[s][o] = k;", l->label);
    close_windows(e);
    emit_close(e);
    emit_end(e);
}

static void maxpool_backward(Emit *e, const GenCtx *c, const Node *l)
{
    if (!emit_no_dx(e, c, l)) {
        emit_line(e, "/* %s backward: each ∂C/∂a to the first maximum of its window (arg), in %s's "
                     "d */", l->label, prev_label(c, l));
        open_function(e, c, l, "backward");
        emit_line(e, "(void)in;");
        emit_open(e, "for (int s = 0; s < n; s++)");
        emit_line(e, "memset(m->%s[s], 0, sizeof m->%s[s]);", prev_d(c, l), prev_d(c, l));
        emit_line(e, "for (int o = 0; o < %ld; o++)", l->out);
        emit_cont(e, "m->%s[s][m->%s_arg[s][o]] += m->%s[s][o];", prev_d(c, l), l->label, l->dname);
        emit_close(e);
        emit_close(e);
        emit_end(e);
        emit_train(e, c, l);
    }
}

// ---- avgpool ----

static void avgpool_forward(Emit *e, const GenCtx *c, const Node *l)
{
    char in[64], out[64];
    shape_format(in, sizeof in, &l->in_shape);
    shape_format(out, sizeof out, &l->shape);
    emit_line(e, "/* %s forward, per sample: a (%s) = the mean of each %ldx%ld window of x (%s),",
              l->label, out, l->size[0], l->size[1], in);
    emit_line(e, " * stride %ldx%ld (nn.AvgPool2d): the sum in row-major order / %ld */",
              stride(l, 0), stride(l, 1), l->size[0] * l->size[1]);
    open_function(e, c, l, "forward");
    open_windows(e, c, l);
    emit_line(e, "%s sum = 0;", c->real);
    emit_line(e, "for (int i = 0; i < %ld; i++)", l->size[0]);
    emit_cont(e, "for (int j = 0; j < %ld; j++)", l->size[1]);
    emit_cont(e, "    sum += x[w + i * %ld + j];", l->in_shape.dim[2]);
    emit_line(e, "m->%s_a[s][o] = sum / (%s)%ld;", l->label, c->real, l->size[0] * l->size[1]);
    close_windows(e);
    emit_close(e);
    emit_end(e);
}

static void avgpool_backward(Emit *e, const GenCtx *c, const Node *l)
{
    if (!emit_no_dx(e, c, l)) {
        emit_line(e, "/* %s backward: each ∂C/∂a / %ld to every input of its window, in %s's d */",
                  l->label, l->size[0] * l->size[1], prev_label(c, l));
        open_function(e, c, l, "backward");
        emit_line(e, "(void)in;");
        emit_line(e, "for (int s = 0; s < n; s++)");
        emit_cont(e, "for (int i = 0; i < %ld; i++)", l->in);
        emit_cont(e, "    m->%s[s][i] = 0;", prev_d(c, l));
        const long *in = l->in_shape.dim, *out = l->shape.dim;
        emit_open(e, "for (int s = 0; s < n; s++)");
        emit_open(e, "for (int ch = 0; ch < %ld; ch++)", in[0]);
        emit_open(e, "for (int oh = 0; oh < %ld; oh++)", out[1]);
        emit_open(e, "for (int ow = 0; ow < %ld; ow++)", out[2]);
        emit_line(e, "const int w = (ch * %ld + oh * %ld) * %ld + ow * %ld;", in[1], stride(l, 0),
                  in[2], stride(l, 1));
        emit_line(e, "const %s g = m->%s[s][(ch * %ld + oh) * %ld + ow] / (%s)%ld;", c->real,
                  l->dname, out[1], out[2], c->real, l->size[0] * l->size[1]);
        emit_line(e, "for (int i = 0; i < %ld; i++)", l->size[0]);
        emit_cont(e, "for (int j = 0; j < %ld; j++)", l->size[1]);
        emit_cont(e, "    m->%s[s][w + i * %ld + j] += g;", prev_d(c, l), in[2]);
        close_windows(e);
        emit_close(e);
        emit_end(e);
        emit_train(e, c, l);
    }
}

// ---- flatten ----

static void flatten_forward(Emit *e, const GenCtx *c, const Node *l)
{
    char in[64];
    shape_format(in, sizeof in, &l->in_shape);
    emit_line(e, "/* %s forward, per sample: a (%ld) = x (%s) in C×H×W order (nn.Flatten) */",
              l->label, l->out, in);
    open_function(e, c, l, "forward");
    emit_line(e, "memcpy(m->%s_a, in, (size_t)n * sizeof m->%s_a[0]);", l->label, l->label);
    emit_close(e);
    emit_end(e);
}

static void flatten_backward(Emit *e, const GenCtx *c, const Node *l)
{
    if (!emit_no_dx(e, c, l)) {
        emit_line(e, "/* %s backward: %s's d = ∂C/∂x = ∂C/∂a */", l->label, prev_label(c, l));
        open_function(e, c, l, "backward");
        emit_line(e, "(void)in;");
        emit_line(e, "memcpy(m->%s, m->%s, (size_t)n * sizeof m->%s[0]);", prev_d(c, l),
                  l->dname, l->dname);
        emit_close(e);
        emit_end(e);
        emit_train(e, c, l);
    }
}

const LayerDef layer_maxpool = {
    .name = "maxpool",
    .size_name = "kernel",
    .size_max = BPC_MAX_UNITS,
    .size_pair = true,
    .opts = POOL_OPTS,
    .buffers = BUF_A | BUF_D | BUF_ARG,
    .infer = pool_infer,
    .fingerprint = pool_fingerprint,
    .describe = pool_describe,
    .emit_forward = maxpool_forward,
    .emit_backward = maxpool_backward,
    .helpers = {emit_pick},
};

const LayerDef layer_avgpool = {
    .name = "avgpool",
    .size_name = "kernel",
    .size_max = BPC_MAX_UNITS,
    .size_pair = true,
    .opts = POOL_OPTS,
    .buffers = BUF_A | BUF_D,
    .infer = pool_infer,
    .fingerprint = pool_fingerprint,
    .describe = pool_describe,
    .emit_forward = avgpool_forward,
    .emit_backward = avgpool_backward,
};

const LayerDef layer_flatten = {
    .name = "flatten",
    .buffers = BUF_A | BUF_D,
    .infer = flatten_infer,
    .fingerprint = flatten_name,
    .describe = flatten_name,
    .emit_forward = flatten_forward,
    .emit_backward = flatten_backward,
};
