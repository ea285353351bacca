/*
 * layer_conv.c - the 2-D convolution, PyTorch's nn.Conv2d (cross-correlation, zero
 * padding, dilation 1, groups 1) followed by the activation.  Its row of the layer table
 * and its emitters, forward and backward side by side.
 *
 * Per sample, x is C×H×W, W is [F][C][KH][KW] and b [F] (state_dict order), and output
 * position p = (oh, ow) of filter f is
 *   z[f][p] = b[f] + Σ_{c,kh,kw} W[f][c][kh][kw] · x[c][oh·SH + kh − PH][ow·SW + kw − PW]
 * (0 outside the input).  It is lowered onto the dense layers' blocked products
 * (gen_kernels.c): im2col lays the sample's windows out as rows, col[p] of C·KH·KW values
 * in W's order, so that z[·][p] = W·col[p] + b is a dense product over the P = OH·OW
 * rows, then transposed into z (F × P, NCHW).  The chain rule gives the backward:
 *   δ = d ⊙ act'(z),  ∂C/∂b[f] += Σ_p δ[f][p],  ∂C/∂W[f] += Σ_p δ[f][p] · col[p],
 *   ∂C/∂col[p] = Σ_f δ[f][p] · W[f], which col2im adds back into ∂C/∂x where the windows
 *   read x (overlapping windows add).
 * col and the product's rows live in NAME_model's scratch (ir.c sizes it).
 */
#include "bpc.h"

enum { OPT_KERNEL, OPT_STRIDE, OPT_PADDING };

// ---- the shape rule, the parameters, the plan ----

/* The geometry the emitters use. */
typedef struct Conv {
    long C, H, W;      /* input */
    long F, OH, OW, P; /* output; P = OH·OW positions */
    long KH, KW, SH, SW, PH, PW;
    long K;            /* C·KH·KW, the length of a window */
} Conv;

static Conv geometry(const Node *n)
{
    Conv g = {.C = n->in_shape.dim[0], .H = n->in_shape.dim[1], .W = n->in_shape.dim[2],
              .F = n->size[0],         .KH = n->opts[OPT_KERNEL][0], .KW = n->opts[OPT_KERNEL][1],
              .SH = n->opts[OPT_STRIDE][0], .SW = n->opts[OPT_STRIDE][1],
              .PH = n->opts[OPT_PADDING][0], .PW = n->opts[OPT_PADDING][1]};
    g.OH = (g.H + 2 * g.PH - g.KH) / g.SH + 1;
    g.OW = (g.W + 2 * g.PW - g.KW) / g.SW + 1;
    g.P = g.OH * g.OW;
    g.K = g.C * g.KH * g.KW;
    return g;
}

static bool conv_infer(Diag *d, Node *n)
{
    if (!layer_needs_image(d, n))
        return false;
    const long *in = n->in_shape.dim, *k = n->opts[OPT_KERNEL], *p = n->opts[OPT_PADDING];
    if (k[0] > in[1] + 2 * p[0] || k[1] > in[2] + 2 * p[1]) {
        diag_error(d, n->loc, "conv2d: kernel %ldx%ld is larger than its padded input %ldx%ld",
                   k[0], k[1], in[1] + 2 * p[0], in[2] + 2 * p[1]);
        return false;
    }
    /* the output, a window and the scratch must stay within the limits; the products
     * are taken in double first, as they may not fit in 64 bits */
    const long *s = n->opts[OPT_STRIDE];
    double oh = (double)((in[1] + 2 * p[0] - k[0]) / s[0] + 1);
    double ow = (double)((in[2] + 2 * p[1] - k[1]) / s[1] + 1);
    double out = (double)n->size[0] * oh * ow, window = (double)in[0] * (double)k[0] * (double)k[1];
    double scratch = oh * ow * (window + (window > (double)n->size[0] ? window : (double)n->size[0]));
    if (out > BPC_MAX_UNITS || window > BPC_MAX_UNITS || scratch > BPC_MAX_PARAMS) {
        diag_error(d, n->loc, "conv2d: an output of %ldx%.0fx%.0f with windows of %.0f values is "
                   "beyond the limits", n->size[0], oh, ow, window);
        diag_note(d, n->loc, "at most %ld values out and in a window, and %ld of scratch",
                  BPC_MAX_UNITS, BPC_MAX_PARAMS);
        return false;
    }
    Conv g = geometry(n);
    n->shape = (Shape){.rank = 3, .dim = {g.F, g.OH, g.OW}};
    n->out = g.F * g.P;
    return true;
}

static void conv_params(Node *n)
{
    Conv g = geometry(n);
    n->nparams = 2;
    n->params[0] = (Tensor){.name = "W", .rank = 4, .dim = {g.F, g.C, g.KH, g.KW},
                            .size = g.F * g.K, .fan_in = (double)g.K,
                            .fan_out = (double)(g.F * g.KH * g.KW), .drawn = true};
    n->params[1] = (Tensor){.name = "b", .rank = 1, .dim = {g.F}, .size = g.F};
}

/* Always looped; the scratch holds col (P × K), then the product's rows (P × F) in the
 * forward or ∂C/∂col (P × K) in the backward. */
static void conv_plan(const Model *m, Node *n, long unroll)
{
    (void)m;
    (void)unroll;
    Conv g = geometry(n);
    n->scratch = g.P * (g.K + (g.K > g.F ? g.K : g.F));
    n->prod_in = g.K;
    n->prod_out = g.F;
    n->prod_rows = g.P;
}

static void conv_fingerprint(char *buf, size_t size, const Node *n)
{
    Conv g = geometry(n);
    snprintf(buf, size, "conv2d=%ldx%ldx%ldx%lds%ldx%ldp%ldx%ld", g.F, g.C, g.KH, g.KW, g.SH, g.SW,
             g.PH, g.PW);
}

static void conv_describe(char *buf, size_t size, const Node *n)
{
    Conv g = geometry(n);
    char act[96];
    gen_describe_call(act, sizeof act, n->act->op.name, n->act->op.params, n->act_args);
    snprintf(buf, size, "conv %ldx%ld stride %ldx%ld padding %ldx%ld, %s", g.KH, g.KW, g.SH, g.SW,
             g.PH, g.PW, act);
}

// ---- im2col and col2im ----

/* Opens the loops over the windows' values: p, the position, and i, the value's index
 * in W's order (c, kh, kw), with ih, iw its place in x and `inside` in scope. */
static void open_window_loops(Emit *e, const Conv *g)
{
    emit_open(e, "for (int oh = 0; oh < %ld; oh++)", g->OH);
    emit_open(e, "for (int ow = 0; ow < %ld; ow++)", g->OW);
    emit_line(e, "const int p = oh * %ld + ow;", g->OW);
    emit_open(e, "for (int c = 0; c < %ld; c++)", g->C);
    emit_open(e, "for (int kh = 0; kh < %ld; kh++)", g->KH);
    emit_open(e, "for (int kw = 0; kw < %ld; kw++)", g->KW);
    emit_line(e, "const int ih = oh * %ld + kh - %ld, iw = ow * %ld + kw - %ld;", g->SH, g->PH,
              g->SW, g->PW);
    emit_line(e, "const int i = (c * %ld + kh) * %ld + kw;", g->KH, g->KW);
    emit_line(e, "const int inside = ih >= 0 && ih < %ld && iw >= 0 && iw < %ld;", g->H, g->W);
}

static void close_window_loops(Emit *e)
{
    for (int k = 0; k < 5; k++)
        emit_close(e);
}

static void emit_im2col(Emit *e, const GenCtx *c, const Node *l, const Conv *g)
{
    emit_line(e, "/* %s's windows as rows: col[p][(c·%ld + kh)·%ld + kw] = x[c][ih][iw], 0 in the "
                 "padding */", l->label, g->KH, g->KW);
    emit_line(e, "static void %s_%s_im2col(const %s *restrict x, %s *restrict col)", c->name,
              l->label, c->real, c->real);
    emit_brace(e);
    open_window_loops(e, g);
    emit_line(e, "col[p * %ld + i] = inside ? x[(c * %ld + ih) * %ld + iw] : 0;", g->K, g->H, g->W);
    close_window_loops(e);
    emit_close(e);
    emit_end(e);
}

static void emit_col2im(Emit *e, const GenCtx *c, const Node *l, const Conv *g)
{
    emit_line(e, "/* the reverse of %s_%s_im2col: dx = Σ of the window values that read each x */",
              c->name, l->label);
    emit_line(e, "static void %s_%s_col2im(const %s *restrict dcol, %s *restrict dx)", c->name,
              l->label, c->real, c->real);
    emit_brace(e);
    emit_line(e, "for (int k = 0; k < %ld; k++)", g->C * g->H * g->W);
    emit_cont(e, "dx[k] = 0;");
    open_window_loops(e, g);
    emit_line(e, "if (inside)");
    emit_cont(e, "dx[(c * %ld + ih) * %ld + iw] += dcol[p * %ld + i];", g->H, g->W, g->K);
    close_window_loops(e);
    emit_close(e);
    emit_end(e);
}

// ---- forward ----

/* The product z[p] = W·col[p] + b over n rows, by the dense layers' tiles: for them the
 * convolution is a layer of K inputs and F outputs, each position a sample. */
static void emit_product(Emit *e, const GenCtx *c, const Node *l, const Conv *g)
{
    Node product = *l;
    product.in = g->K;
    product.out = g->F;
    product.flags = 0;
    kern_forward_tiles(e, c, &product, g->P);
    emit_line(e, "/* %s: z[p] = W·col[p] + b for the %ld rows of col (K = %ld, F = %ld) */",
              l->label, g->P, g->K, g->F);
    emit_line(e, "static void %s_%s_product(const %s *restrict W, const %s *restrict b,", c->name,
              l->label, c->real, c->real);
    emit_cont(e, "const %s *restrict in, %s (*restrict z)[%ld])", c->real, c->real, g->F);
    emit_brace(e);
    emit_line(e, "const int n = %ld; /* the tiles' loops run over the positions */", g->P);
    kern_forward_call(e, c, &product, "z", g->P);
    emit_close(e);
    emit_end(e);
}

static void conv_forward(Emit *e, const GenCtx *c, const Node *l)
{
    const char *N = c->name, *R = c->real;
    Conv g = geometry(l);
    emit_im2col(e, c, l, &g);
    emit_product(e, c, l, &g);
    char act[128], x[BPC_MAX_IDENT + 16];
    gen_act_formula(act, sizeof act, l);
    gen_input_name(x, sizeof x, c->m, l);
    emit_line(e, "/* %s: (n, %ld, %ld, %ld) = %s of conv(x (n, %ld, %ld, %ld), W [%ld][%ld][%ld][%ld])"
                 " + b", l->label, g.F, g.OH, g.OW, l->act->op.name, g.C, g.H, g.W, g.F, g.C, g.KH,
              g.KW);
    emit_line(e, " *   x: %s; stride %ldx%ld, padding %ldx%ld; a = %s */", x, g.SH, g.SW, g.PH,
              g.PW, act);
    emit_line(e, "static void %s_%s_forward(%s_model *m, const %s *in, int n)", N, l->label, N, R);
    emit_brace(e);
    emit_line(e, "const %s *restrict W = m->params + %ld; /* [%ld][%ld][%ld][%ld] */", R,
              l->params[0].offset, g.F, g.C, g.KH, g.KW);
    emit_line(e, "const %s *restrict b = m->params + %ld; /* [%ld] */", R, l->params[1].offset, g.F);
    emit_line(e, "%s *restrict col = m->scratch; /* [%ld][%ld] */", R, g.P, g.K);
    emit_line(e, "%s (*restrict zt)[%ld] = (%s (*)[%ld])(m->scratch + %ld); /* [%ld][%ld] */", R,
              g.F, R, g.F, g.P * g.K, g.P, g.F);
    emit_open(e, "for (int s = 0; s < n; s++)");
    emit_line(e, "%s_%s_im2col(in + s * %ld, col);", N, l->label, l->in);
    emit_line(e, "%s_%s_product(W, b, col, zt);", N, l->label);
    emit_line(e, "%s *restrict z = m->%s_z[s];", R, l->label);
    emit_line(e, "%s *restrict a = m->%s_a[s];", R, l->label);
    emit_line(e, "/* z = the product's rows transposed: (F, OH, OW) */");
    emit_line(e, "for (int f = 0; f < %ld; f++)", g.F);
    emit_cont(e, "for (int p = 0; p < %ld; p++)", g.P);
    emit_cont(e, "    z[f * %ld + p] = zt[p][f];", g.P);
    emit_line(e, "/* a = %s */", act);
    gen_emit_act(e, c, l, false);
    emit_close(e);
    emit_close(e);
    emit_end(e);
}

// ---- backward ----

static void conv_backward(Emit *e, const GenCtx *c, const Node *l)
{
    const char *N = c->name, *R = c->real;
    Conv g = geometry(l);
    bool dx = l->flags & NODE_NEEDS_DX, act_step = l->flags & NODE_ACT_BACKWARD;
    if (dx)
        emit_col2im(e, c, l, &g);
    emit_line(e, "/* %s backward, per sample: δ = ∂C/∂z%s in place in d; ∂C/∂b[f] += Σ_p δ[f][p];",
              l->label, act_step ? " = d ⊙ act'" : "");
    emit_line(e, " * ∂C/∂W[f] += Σ_p δ[f][p]·col[p]%s */",
              dx ? "; ∂C/∂col[p] = Σ_f δ[f][p]·W[f], col2im'd into the input's d" : "");
    emit_line(e, "static void %s_%s_backward(%s_model *m, const %s *in, int n)", N, l->label, N, R);
    emit_brace(e);
    if (dx)
        emit_line(e, "const %s *restrict W = m->params + %ld;", R, l->params[0].offset);
    emit_line(e, "%s *restrict dW = m->grads + %ld; /* [%ld][%ld] */", R, l->params[0].offset, g.F,
              g.K);
    emit_line(e, "%s *restrict db = m->grads + %ld;", R, l->params[1].offset);
    emit_line(e, "%s *restrict col = m->scratch; /* [%ld][%ld] */", R, g.P, g.K);
    if (dx)
        emit_line(e, "%s *restrict dcol = m->scratch + %ld; /* [%ld][%ld] */", R, g.P * g.K, g.P,
                  g.K);
    emit_open(e, "for (int s = 0; s < n; s++)");
    unsigned uses = act_step ? l->act->bwd_uses : 0;
    if (uses & USES_Z)
        emit_line(e, "const %s *restrict z = m->%s_z[s];", R, l->label);
    if (uses & USES_A)
        emit_line(e, "const %s *restrict a = m->%s_a[s];", R, l->label);
    emit_line(e, "%s *restrict d = m->%s_d[s];", R, l->label);
    if (act_step) {
        emit_line(e, "/* δ = %s */", l->act->grad_formula);
        gen_emit_act(e, c, l, true);
    }
    emit_open(e, "for (int f = 0; f < %ld; f++)", g.F);
    emit_line(e, "%s sum = 0;", R);
    emit_line(e, "for (int p = 0; p < %ld; p++)", g.P);
    emit_cont(e, "sum += d[f * %ld + p];", g.P);
    emit_line(e, "db[f] += sum;");
    emit_close(e);
    emit_line(e, "%s_%s_im2col(in + s * %ld, col);", N, l->label, l->in);
    emit_line(e, "for (int f = 0; f < %ld; f++)", g.F);
    emit_cont(e, "for (int p = 0; p < %ld; p++)", g.P);
    emit_cont(e, "    if (d[f * %ld + p] != 0)", g.P);
    emit_cont(e, "        %s_axpy(%ld, d[f * %ld + p], col + p * %ld, dW + f * %ld);", N, g.K, g.P,
              g.K, g.K);
    if (dx) {
        emit_line(e, "for (int i = 0; i < %ld; i++)", g.P * g.K);
        emit_cont(e, "dcol[i] = 0;");
        emit_line(e, "for (int f = 0; f < %ld; f++)", g.F);
        emit_cont(e, "for (int p = 0; p < %ld; p++)", g.P);
        emit_cont(e, "    if (d[f * %ld + p] != 0)", g.P);
        emit_cont(e, "        %s_axpy(%ld, d[f * %ld + p], W + f * %ld, dcol + p * %ld);", N, g.K,
                  g.P, g.K, g.K);
        emit_line(e, "%s_%s_col2im(dcol, m->%s_d[s]);", N, l->label,
                  c->m->nodes[l->inputs[0]].label);
    }
    emit_close(e);
    emit_close(e);
    emit_end(e);

    /* NAME_L_train: the backward into the zero grads, then NAME_step's update of this
     * layer's elements, and the grads zeroed again: the bits of backward then step */
    long off = l->params[0].offset, size = l->params[0].size + l->params[1].size;
    char offset[32];
    snprintf(offset, sizeof offset, "%ld", off);
    emit_line(e, "/* %s: %s_backward then %s_step fused, grads zero and left so: the gradient",
              l->label, N, N);
    emit_line(e, " * into grads, then the update of W and b from it, then grads zeroed again */");
    emit_line(e, "static void %s_%s_train(%s_model *m, const %s *restrict in, int n)", N, l->label, N,
              R);
    emit_brace(e);
    emit_line(e, "%s_%s_backward(m, in, n);", N, l->label);
    if (c->m->opt->emit_prelude)
        c->m->opt->emit_prelude(e, c, c->m->opt_args);
    gen_opt_pointers(e, c, offset);
    emit_line(e, "%s *restrict grad = m->grads + %ld;", R, off);
    emit_open(e, "for (int i = 0; i < %ld; i++)", size);
    c->m->opt->emit_update(e, c, c->m->opt_args, "grad[i]");
    emit_close(e);
    emit_line(e, "memset(grad, 0, %ld * sizeof *grad);", size);
    emit_close(e);
    emit_end(e);
}

const LayerDef layer_conv2d = {
    .name = "conv2d",
    .size_name = "filter count",
    .size_max = BPC_MAX_UNITS,
    .opts = {{"kernel", 3, 1, BPC_MAX_UNITS, PARAM_INT | PARAM_PAIR | PARAM_REQUIRED},
             {"stride", 1, 1, BPC_MAX_UNITS, PARAM_INT | PARAM_PAIR},
             {"padding", 0, 0, BPC_MAX_UNITS, PARAM_INT | PARAM_PAIR}},
    .takes_act = true,
    .buffers = BUF_Z | BUF_A | BUF_D,
    .infer = conv_infer,
    .params = conv_params,
    .plan = conv_plan,
    .fingerprint = conv_fingerprint,
    .describe = conv_describe,
    .emit_forward = conv_forward,
    .emit_backward = conv_backward,
};
