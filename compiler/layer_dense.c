/*
 * layer_dense.c - the dense (fully connected) layer: z = W·x + b, a = act(z), as
 * PyTorch's nn.Linear followed by the activation.  Its row of the layer table and its
 * emitters, forward and backward side by side.
 *
 * Per sample, x is the input (a vector; a C×H×W input is read flat, in C×H×W order, as
 * nn.Flatten does), W is [out][in] and b [out] (state_dict order).  The backward is
 *   δ = d ⊙ act'(z)  (or the loss's δ when fused),  ∂C/∂W += δ·xᵀ,  ∂C/∂b += δ,
 *   ∂C/∂x = Wᵀ·δ  (into the input node's d),
 * and NAME_L_train fuses it with the optimizer's update while grads are zero.  A layer
 * with at most --unroll weights is straight-line code with literal indices, a larger
 * one loops over the blocked products of gen_kernels.c; both add the terms of every sum
 * in the same order (bias first, then inputs 0..in−1), so they agree exactly.
 */
#include "bpc.h"

// ---- the shape rule, the parameters, the plan ----

static bool dense_infer(Diag *d, Node *n)
{
    (void)d;
    n->shape = (Shape){.rank = 1, .dim = {n->size[0]}};
    n->out = n->size[0];
    return true;
}

static void dense_params(Node *n)
{
    n->nparams = 2;
    n->params[0] = (Tensor){.name = "W", .torch = "weight", .rank = 2, .dim = {n->out, n->in},
                            .size = n->out * n->in, .fan_in = (double)n->in,
                            .fan_out = (double)n->out, .drawn = true};
    n->params[1] = (Tensor){.name = "b", .torch = "bias", .rank = 1, .dim = {n->out},
                            .size = n->out};
}

/* Unrolled when small; the first layer skips chunks of 8 zero inputs (and its fused
 * step at one sample too, when the optimizer leaves p alone at g = 0: plain SGD); the
 * fused step gets an AVX2 clone where its rows are long enough for vectors to matter,
 * as the forward tiles do.  NAME_train's gradient row is the scratch. */
static void dense_plan(const Model *m, Node *n, long unroll)
{
    if (n->in * n->out <= unroll) {
        n->flags |= NODE_UNROLLED;
    } else {
        n->prod_in = n->in;
        n->prod_out = n->out;
    }
    if (n->inputs[0] == NODE_INPUT && kern_lanes(n->in) == KERN_LANES) {
        n->flags |= NODE_SKIPS_ZEROS;
        if (m->opt->zero_noop(m->opt_args))
            n->flags |= NODE_TRAIN_SKIPS;
    }
    if (kern_lanes(n->in) == KERN_LANES)
        n->flags |= NODE_AVX2_CLONE;
    /* a looped layer's ∂C/∂x and ∂C/∂W are the shared tiles'; an unrolled one's fused
     * step sums a row at a time (small enough not to need more) */
    if (!(n->flags & NODE_UNROLLED))
        n->flags |= NODE_DW_TILES | (n->flags & NODE_NEEDS_DX ? NODE_DX_TILES : 0);
    long grad = n->flags & NODE_UNROLLED ? n->in : KERN_DW_ROWS * n->in;
    n->scratch = grad > n->out ? grad : n->out;
}

static void dense_fingerprint(char *buf, size_t size, const Node *n)
{
    snprintf(buf, size, "dense=%ld", n->out);
}

static void dense_describe(char *buf, size_t size, const Node *n)
{
    gen_describe_call(buf, size, n->act->op.name, n->act->op.params, n->act_args);
}

// ---- forward ----

static void dense_forward(Emit *e, const GenCtx *c, const Node *l)
{
    const char *N = c->name, *R = c->real;
    bool unroll = l->flags & NODE_UNROLLED;
    if (!unroll)
        kern_forward_tiles(e, c, l, 0);
    char act[128];
    gen_act_formula(act, sizeof act, l);
    emit_line(e, "/* %s forward, per sample: z = W·x + b, a = %s", l->label, act);
    char x[BPC_MAX_IDENT + 16];
    gen_input_name(x, sizeof x, c->m, l);
    if (kern_lanes(l->in) > 1) {
        emit_line(e, " *   x: %s (n × %ld), z and a: n × %ld", x, l->in, l->out);
        emit_line(e, " *   each W·x summed in %ld partial sums (gen_kernels.c), then + b */",
                  kern_lanes(l->in));
    } else {
        emit_line(e, " *   x: %s (n × %ld), z and a: n × %ld */", x, l->in, l->out);
    }
    emit_line(e, "static void %s_%s_forward(%s_model *m, const %s *in, int n)", N, l->label, N, R);
    emit_brace(e);
    emit_line(e, "const %s *restrict W = m->params + %ld; /* [%ld][%ld] */", R, l->params[0].offset, l->out,
              l->in);
    emit_line(e, "const %s *restrict b = m->params + %ld; /* [%ld] */", R, l->params[1].offset, l->out);
    if (!unroll) {
        char z[BPC_MAX_IDENT + 16];
        snprintf(z, sizeof z, "m->%s_z", l->label);
        emit_line(e, "/* z = W·x + b */");
        kern_forward_call(e, c, l, z, 0);
    }
    emit_open(e, "for (int s = 0; s < n; s++)");
    if (unroll)
        emit_line(e, "const %s *restrict x = in + s * %ld;", R, l->in);
    emit_line(e, "%s *restrict z = m->%s_z[s];", R, l->label);
    emit_line(e, "%s *restrict a = m->%s_a[s];", R, l->label);
    if (unroll) {
        emit_line(e, "/* z = W·x + b */");
        for (long j = 0; j < l->out; j++)
            kern_unrolled_dot(e, l, j);
    }
    emit_line(e, "/* a = %s */", act);
    gen_emit_act(e, c, l, false);
    emit_close(e);
    emit_close(e);
    emit_end(e);
}

// ---- backward ----

/* Whether a layer's backward has a δ or a ∂C/∂x to compute (NAME_L_delta). */
static bool has_delta(const Node *l)
{
    return l->flags & (NODE_NEEDS_DX | NODE_ACT_BACKWARD);
}

/* "const NAME_real d0 = d[0], d1 = d[1], ...;", 8 to a line: an unrolled sum reads
 * them from locals, as gcc, which ignores restrict on local pointers, would load each
 * again after every store of the sum's result. */
static void emit_locals(Emit *e, const GenCtx *c, const char *name, long count)
{
    for (long i = 0; i < count; i += KERN_LANES) {
        char line[256];
        size_t len = (size_t)snprintf(line, sizeof line, "const %s", c->real);
        for (long k = i; k < count && k < i + KERN_LANES && len < sizeof line; k++)
            len += (size_t)snprintf(line + len, sizeof line - len, "%s %s%ld = %s[%ld]",
                                    k > i ? "," : "", name, k, name, k);
        if (len >= sizeof line)
            internal_error(__FILE__, __LINE__, "generated line too long");
        emit_line(e, "%s;", line);
    }
}

/* NAME_L_delta: per sample, δ in place in d and the previous layer's d = Wᵀ·δ, computed
 * from the weights before any update (NAME_train updates them right after). */
static void dense_delta(Emit *e, const GenCtx *c, const Node *l)
{
    const Model *m = c->m;
    const char *N = c->name, *R = c->real;
    bool unroll = l->flags & NODE_UNROLLED;
    bool act_step = l->flags & NODE_ACT_BACKWARD;
    bool has_prev = l->flags & NODE_NEEDS_DX;
    const char *prev = has_prev ? m->nodes[l->inputs[0]].label : NULL;
    const char *prev_d = has_prev ? m->nodes[l->inputs[0]].dname : NULL;
    if (!has_delta(l))
        return;

    if (l->flags & NODE_FUSED_OUTPUT)
        emit_line(e, "/* %s δ, per sample: d = δ = ∂C/∂z on entry (n × %ld), the loss's",
                  l->label, l->out);
    else
        emit_line(e, "/* %s δ, per sample: d = ∂C/∂a on entry (n × %ld)", l->label, l->out);
    if (l->flags & NODE_FUSED_OUTPUT)
        emit_line(e, " *   gradient fused with %s", l->act->op.name);
    else if (act_step)
        emit_line(e, " *   δ = ∂C/∂z = %s, in place in d", l->act->grad_formula);
    else
        emit_line(e, " *   δ = ∂C/∂z = d (identity)");
    if (has_prev)
        emit_line(e, " *   %s's d = ∂C/∂x = Wᵀ·δ, its ∂C/∂a */", prev);
    else
        emit_line(e, " *   (no gradient for the input x) */");
    emit_line(e, "static void %s_%s_delta(%s_model *m, int n)", N, l->label, N);
    emit_brace(e);
    if (has_prev)
        emit_line(e, "const %s *restrict W = m->params + %ld; /* [%ld][%ld] */", R, l->params[0].offset,
                  l->out, l->in);
    bool per_sample = unroll || act_step;
    if (per_sample) {
        emit_open(e, "for (int s = 0; s < n; s++)");
        unsigned uses = act_step ? l->act->bwd_uses : 0;
        if (uses & USES_Z)
            emit_line(e, "const %s *restrict z = m->%s_z[s];", R, l->label);
        if (uses & USES_A)
            emit_line(e, "const %s *restrict a = m->%s_a[s];", R, l->label);
        emit_line(e, "%s *restrict d = m->%s[s];", R, l->dname);
    }
    if (has_prev && unroll)
        emit_line(e, "%s *restrict dx = m->%s[s];", R, prev_d);
    if (act_step) {
        emit_line(e, "/* δ = %s */", l->act->grad_formula);
        gen_emit_act(e, c, l, true);
    }
    if (has_prev && unroll) {
        /* dx = W[0]·d[0] first, then j = 1..: the looped form's order but for the sign
         * of a zero (it starts from +0), which changes no parameter */
        emit_line(e, "/* %s's d = Wᵀ·δ */", prev);
        emit_locals(e, c, "d", l->out);
        for (long i = 0; i < l->in; i++) {
            char lhs[32], term[64];
            snprintf(lhs, sizeof lhs, "dx[%ld]", i);
            snprintf(term, sizeof term, "W[%ld] * d0", i);
            GenSum sum;
            gen_sum_begin(&sum, lhs, term);
            for (long j = 1; j < l->out; j++) {
                snprintf(term, sizeof term, "W[%ld] * d%ld", j * l->in + i, j);
                gen_sum_term(e, &sum, term);
            }
            gen_sum_end(e, &sum);
        }
    }
    if (per_sample)
        emit_close(e);
    if (has_prev && !unroll) {
        emit_line(e, "/* %s's d = δ·W, all samples at once (gen_kernels.c) */", prev);
        emit_line(e, "%s_dx_best(n, %ld, %ld, m->%s[0], W, m->%s[0]);", N, l->in, l->out,
                  l->dname, prev_d);
    }
    emit_close(e);
    emit_end(e);
}

/* NAME_L_backward: δ and ∂C/∂x, then ∂C/∂W += δ·xᵀ and ∂C/∂b += δ into grads. */
static void dense_backward(Emit *e, const GenCtx *c, const Node *l)
{
    const char *N = c->name, *R = c->real;
    bool unroll = l->flags & NODE_UNROLLED;
    emit_line(e, "/* %s backward: δ%s, then ∂C/∂W += δ·xᵀ and ∂C/∂b += δ summed over the",
              l->label, l->flags & NODE_NEEDS_DX ? " and ∂C/∂x" : "");
    if (unroll)
        emit_line(e, " * samples in order */");
    else
        emit_line(e, " * samples in order, each element's sum from +0 in a register (gen_kernels.c),"
                     "\n * then added to grads */");
    emit_line(e, "static void %s_%s_backward(%s_model *m, const %s *in, int n)", N, l->label, N, R);
    emit_brace(e);
    if (has_delta(l))
        emit_line(e, "%s_%s_delta(m, n);", N, l->label);
    emit_line(e, "%s *restrict dW = m->grads + %ld; /* [%ld][%ld] */", R, l->params[0].offset, l->out,
              l->in);
    emit_line(e, "%s *restrict db = m->grads + %ld;", R, l->params[1].offset);
    if (unroll) {
        emit_open(e, "for (int s = 0; s < n; s++)");
        emit_line(e, "const %s *restrict x = in + s * %ld;", R, l->in);
        emit_line(e, "const %s *restrict d = m->%s[s];", R, l->dname);
        for (long j = 0; j < l->out; j++)
            for (long i = 0; i < l->in; i++)
                emit_line(e, "dW[%ld] += d[%ld] * x[%ld];", j * l->in + i, j, i);
        for (long j = 0; j < l->out; j++)
            emit_line(e, "db[%ld] += d[%ld];", j, j);
        emit_close(e);
    } else {
        emit_line(e, "for (int s = 0; s < n; s++)");
        emit_cont(e, "for (int j = 0; j < %ld; j++)", l->out);
        emit_cont(e, "    db[j] += m->%s[s][j];", l->dname);
        emit_line(e, "%s_dw_best(n, %ld, %ld, 0, %ld, m->%s[0], in, dW);", N, l->in, l->out,
                  l->out, l->dname);
    }
    emit_close(e);
    emit_end(e);
}

/* NAME_L_train's weights at n > 1, in the open `else` of n == 1: a looped layer's 8 rows
 * at a time (their gradient from +0 into the scratch by the tiles, then their update),
 * an unrolled one's a row at a time, its products rounded apart from the sums as in its
 * NAME_L_backward. */
static void dense_train_batch(Emit *e, const GenCtx *c, const Node *l, const char *span)
{
    const char *N = c->name, *R = c->real;
    long w = l->params[0].offset;
    if (l->flags & NODE_UNROLLED) {
        emit_line(e, "%s *restrict grad = m->scratch;", R);
        emit_open(e, "for (int j = 0; j < %ld; j++)", l->out);
        emit_line(e, "for (int i = 0; i < %ld; i++)", l->in);
        emit_cont(e, "grad[i] = 0;");
        emit_open(e, "for (int s = 0; s < n; s++)");
        emit_line(e, "const %s dj = m->%s[s][j];", R, l->dname);
        emit_line(e, "const %s *restrict x = in + s * %ld;", R, l->in);
        emit_line(e, "if (dj != 0)");
        emit_cont(e, "for (int i = 0; i < %ld; i++)", l->in);
        emit_cont(e, "    grad[i] += dj * x[i];");
        emit_close(e);
        emit_line(e, "%s(m, %ld + j * %ld, grad, %ld, 0);", span, w, l->in, l->in);
        emit_close(e);
        return;
    }
    emit_line(e, "/* %d rows at a time: their gradient from +0 (gen_kernels.c), then their update */",
              KERN_DW_ROWS);
    emit_line(e, "%s *restrict grad = m->scratch;", R);
    emit_open(e, "for (int j = 0; j < %ld; j += %d)", l->out, KERN_DW_ROWS);
    emit_line(e, "const int len = (%ld - j < %d ? %ld - j : %d) * %ld;", l->out, KERN_DW_ROWS,
              l->out, KERN_DW_ROWS, l->in);
    emit_line(e, "for (int i = 0; i < len; i++)");
    emit_cont(e, "grad[i] = 0;");
    emit_line(e, "%s_dw_best(n, %ld, %ld, j, len / %ld, m->%s[0], in, grad);", N, l->in, l->out,
              l->in, l->dname);
    emit_line(e, "%s(m, %ld + j * %ld, grad, len, 0);", span, w, l->in);
    emit_close(e);
}

/* NAME_L_train: NAME_train's fused backward and step of one layer, for when grads are
 * zero: δ and ∂C/∂x first (from the weights before the update), then per row of W its
 * gradient summed over the samples and the optimizer's update at once.  The gradient
 * of each element is the one NAME_backward would add to a zero grads, summed in the
 * same order (from +0), and the update is NAME_step's, so the result is the same to the
 * bit; grads are never written. */
static void dense_train(Emit *e, const GenCtx *c, const Node *l, bool avx2)
{
    const Model *m = c->m;
    const char *N = c->name, *R = c->real;
    const OptDef *opt = m->opt;
    bool noop = opt->zero_noop(m->opt_args);
    char off[96], span[BPC_MAX_IDENT + 24];
    snprintf(span, sizeof span, "%s_update_span%s", N, avx2 ? "_avx2" : "");
    if (avx2) {
        kern_pp(e, "#ifdef %s_AVX2", N);
        emit_line(e, "/* %s_%s_train compiled for AVX2 (without FMA: the same results) */", N,
                  l->label);
        emit_line(e, "__attribute__((target(\"avx2\")))");
    } else {
        emit_line(e, "/* %s: %s_backward then %s_step fused, grads zero and left so: per row of",
                  l->label, N, N);
        emit_line(e, " * W, its gradient Σ_s δ_s·x_s (one sample: δ·x directly, no buffer) and the"
                     " update */");
    }
    emit_line(e, "static void %s_%s_train%s(%s_model *m, const %s *restrict in, int n)", N, l->label,
              avx2 ? "_avx2" : "", N, R);
    emit_brace(e);
    if (has_delta(l))
        emit_line(e, "%s_%s_delta(m, n);", N, l->label);
    if (opt->emit_prelude)
        opt->emit_prelude(e, c, m->opt_args);
    bool skips = l->flags & NODE_TRAIN_SKIPS;
    long full = l->in / KERN_LANES * KERN_LANES;
    if (skips) {
        emit_line(e, "/* at one sample, only the chunks of 8 inputs that are not all 0 change W */");
        emit_line(e, "const int nchunk = n == 1 ? %s_chunks(in, 1, %ld, m->chunk) : 0;", N, l->in);
    }
    snprintf(off, sizeof off, "%ld + j * %ld", l->params[0].offset, l->in);
    emit_open(e, "if (n == 1)");
    emit_open(e, "for (int j = 0; j < %ld; j++)", l->out);
    gen_opt_pointers(e, c, off);
    emit_line(e, "const %s dj = m->%s[0][j];", R, l->dname);
    if (noop) {
        emit_line(e, "if (dj == 0)");
        emit_cont(e, "continue; /* the update would leave the row as it is */");
    }
    if (skips) {
        emit_open(e, "for (int c = 0; c < nchunk; c++)");
        emit_line(e, "const int i0 = m->chunk[c];");
        /* a loop of 8, which gcc makes one vector operation (unrolled, it does not) */
        emit_line(e, "#pragma GCC unroll 1");
        emit_open(e, "for (int i = i0; i < i0 + 8; i++)");
        opt->emit_update(e, c, m->opt_args, "(0 + dj * in[i])", &(UpdateForm){0});
        emit_close(e);
        emit_close(e);
    }
    if (!skips || full < l->in) {
        /* a row of 4 or more as a loop, which gcc vectorizes: unrolled, its SLP
         * vectorizer cannot tell the row's stores apart and leaves them scalar.  In
         * layers of fewer than 32 weights (XOR's) unrolled is faster. */
        const long row = l->in - (skips ? full : 0);
        if (row >= 4 && row * l->out >= 32)
            emit_line(e, "#pragma GCC unroll 1");
        emit_open(e, "for (int i = %ld; i < %ld; i++)", skips ? full : 0, l->in);
        opt->emit_update(e, c, m->opt_args, "(0 + dj * in[i])", &(UpdateForm){0});
        emit_close(e);
    }
    emit_close(e);
    emit_close_with(e, " else {");
    dense_train_batch(e, c, l, span);
    emit_close(e);
    emit_line(e, "/* the biases: Σ_s δ_s */");
    emit_brace(e);
    emit_line(e, "%s *restrict grad = m->scratch;", R);
    emit_open(e, "for (int j = 0; j < %ld; j++)", l->out);
    emit_line(e, "%s sum = 0;", R);
    emit_line(e, "for (int s = 0; s < n; s++)");
    emit_cont(e, "sum += m->%s[s][j];", l->dname);
    emit_line(e, "grad[j] = sum;");
    emit_close(e);
    emit_line(e, "%s(m, %ld, grad, %ld, 0);", span, l->params[1].offset, l->out);
    emit_close(e);
    emit_close(e);
    kern_end_function(e, avx2);
}

static void dense_backward_all(Emit *e, const GenCtx *c, const Node *l)
{
    dense_delta(e, c, l);
    dense_backward(e, c, l);
    dense_train(e, c, l, false);
    if (l->flags & NODE_AVX2_CLONE)
        dense_train(e, c, l, true);
}

const LayerDef layer_dense = {
    .name = "dense",
    .size_name = "layer width",
    .size_max = BPC_MAX_UNITS,
    .takes_act = true,
    .buffers = BUF_Z | BUF_A | BUF_D,
    .infer = dense_infer,
    .params = dense_params,
    .plan = dense_plan,
    .fingerprint = dense_fingerprint,
    .describe = dense_describe,
    .emit_forward = dense_forward,
    .emit_backward = dense_backward_all,
};
