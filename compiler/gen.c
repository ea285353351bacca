/*
 * gen.c - the C generator: from a checked Model, the header and the source of a
 * network specialized to its sizes (docs/API.md describes what they contain).
 *
 * It walks the planned Model only (ir.c).  Everything that depends on the kind of a
 * layer is emitted by that kind's row of the layer table (layer_dense.c, ...), and
 * everything that depends on the activation, loss, optimizer or init scheme by that
 * op's row (act.c, loss.c, optim.c, init.c); this file lays out the struct and the
 * functions around those pieces:
 *
 *   forward   each node's NAME_L_forward, in order
 *   loss      C = mean loss(y, t); d = dC/dy     (or dC/dz when fused with the activation)
 *   backward  each node's NAME_L_backward, in reverse (dense: δ = d ⊙ act'(z);
 *             ∂C/∂W += δ·xᵀ;  ∂C/∂b += δ;  d_prev = Wᵀ·δ)
 */
#include <math.h>
#include <float.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "bpc.h"

enum { TERMS_PER_LINE = 4, MAX_HELPERS = 32 };

// ---- literals ----

/* Makes sure a number printed with %g reads as a floating constant: "1" -> "1.0". */
static void ensure_fraction(char *buf)
{
    if (!strpbrk(buf, ".eEn"))
        strcat(buf, ".0");
}

/* The shortest %g form of v that reads back as the same double (or float). */
static void shortest(char *buf, size_t size, double v, bool as_float)
{
    for (int digits = as_float ? 6 : 15; digits <= (as_float ? 9 : 17); digits++) {
        snprintf(buf, size, "%.*g", digits, v);
        double back = strtod(buf, NULL);
        if (as_float ? (float)back == (float)v : back == v)
            break;
    }
    ensure_fraction(buf);
}

const char *gen_dlit(double v, char buf[GEN_LIT_MAX])
{
    if (!isfinite(v))
        internal_error(__FILE__, __LINE__, "non-finite constant %g in generated code", v);
    char num[GEN_LIT_MAX - 4];
    shortest(num, sizeof num, v, false);
    snprintf(buf, GEN_LIT_MAX, v < 0 ? "(%s)" : "%s", num);
    return buf;
}

const char *gen_lit(const GenCtx *g, double v, char buf[GEN_LIT_MAX])
{
    if (g->dbl)
        return gen_dlit(v, buf);
    if (!isfinite((float)v))
        internal_error(__FILE__, __LINE__, "constant %g does not fit in a float", v);
    char num[GEN_LIT_MAX - 4];
    shortest(num, sizeof num, (double)(float)v, true);
    snprintf(buf, GEN_LIT_MAX, v < 0 ? "(%sf)" : "%sf", num);
    return buf;
}

// ---- long sums: "lhs = first + t1 + t2 + ...;", TERMS_PER_LINE terms to a line ----

static void sum_flush(Emit *e, GenSum *s)
{
    if (s->continued)
        emit_cont(e, "%s", s->buf);
    else
        emit_line(e, "%s", s->buf);
    s->continued = true;
    s->len = 0;
    s->buf[0] = '\0';
    s->terms = 0;
}

static void sum_append(GenSum *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sum_append(GenSum *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(s->buf + s->len, sizeof s->buf - s->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof s->buf - s->len)
        internal_error(__FILE__, __LINE__, "generated line too long");
    s->len += (size_t)n;
}

void gen_sum_begin(GenSum *s, const char *lhs, const char *first)
{
    *s = (GenSum){.len = 0};
    sum_append(s, "%s = %s", lhs, first);
    s->terms = 1;
}

void gen_sum_term(Emit *e, GenSum *s, const char *term)
{
    if (s->terms == TERMS_PER_LINE)
        sum_flush(e, s);
    sum_append(s, s->len ? " + %s" : "+ %s", term);
    s->terms++;
}

void gen_sum_end(Emit *e, GenSum *s)
{
    sum_append(s, ";");
    sum_flush(e, s);
}

// ---- descriptions for comments ----

/* "leaky_relu(alpha = 0.2)" or "tanh" */
void gen_describe_call(char *buf, size_t size, const char *name, const ParamDef *params,
                       const double *args)
{
    size_t len = (size_t)snprintf(buf, size, "%s", name);
    for (int i = 0; params[i].name && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s = %g", i ? ", " : "(",
                                params[i].name, args[i]);
    if (params[0].name && len < size)
        snprintf(buf + len, size - len, ")");
}

/* The network in one line: "2 -> hidden 4 tanh -> out 1 sigmoid": each node's label,
 * output shape and its kind's description. */
static void emit_summary(Emit *e, const Model *m)
{
    char line[256], what[96], shape[64];
    size_t len = (size_t)snprintf(line, sizeof line, " * %ld inputs", m->inputs);
    for (int i = 0; i < m->nnodes; i++) {
        const Node *l = &m->nodes[i];
        l->kind->describe(what, sizeof what, l);
        shape_format(shape, sizeof shape, &l->shape);
        int n = snprintf(line + len, sizeof line - len, " -> %s %s %s", l->label, shape, what);
        if (n < 0 || (size_t)n >= sizeof line - len) {
            emit_line(e, "%s", line);
            len = (size_t)snprintf(line, sizeof line, " *  ");
            n = snprintf(line + len, sizeof line - len, " -> %s %s %s", l->label, shape, what);
        }
        len += (size_t)n;
    }
    emit_line(e, "%s", line);
    char loss[96], opt[160];
    gen_describe_call(loss, sizeof loss, m->loss->op.name, m->loss->op.params, m->loss_args);
    gen_describe_call(opt, sizeof opt, m->opt->op.name, m->opt->op.params, m->opt_args);
    emit_line(e, " * loss %s; optimizer %s", loss, opt);
    emit_line(e, " * %ld parameters, %s precision, at most %ld samples per call", m->nparams,
              m->double_precision ? "double" : "float", m->batch);
}

// ---- the header ----

/* The shapes the weight-file fingerprint is computed from (docs/WEIGHTS.md): the input's
 * and each node's as its kind writes it, "in=2;dense=4;dense=1".  Activations, loss and
 * optimizer are not part of it: weights stay loadable when only those change. */
static void shape_string(char *buf, size_t size, const Model *m)
{
    char in[64], node[128];
    shape_format(in, sizeof in, &m->input);
    size_t len = (size_t)snprintf(buf, size, "in=%s", in);
    for (int i = 0; i < m->nnodes && len < size; i++) {
        m->nodes[i].kind->fingerprint(node, sizeof node, &m->nodes[i]);
        len += (size_t)snprintf(buf + len, size - len, ";%s", node);
    }
    if (len >= size)
        internal_error(__FILE__, __LINE__, "shape string too long");
}

/* " *   hidden.W [4][2] at 0, hidden.b [4] at 8": node l's parameter tensors. */
static void emit_param_comment(Emit *e, const Node *l, bool last)
{
    char line[512], dims[64];
    size_t len = (size_t)snprintf(line, sizeof line, " *  ");
    for (int k = 0; k < l->nparams && len < sizeof line; k++) {
        const Tensor *t = &l->params[k];
        tensor_format_dims(dims, sizeof dims, t);
        len += (size_t)snprintf(line + len, sizeof line - len, "%s %s.%s %s at %ld", k ? "," : "",
                                l->label, t->name, dims, t->offset);
    }
    emit_line(e, "%s%s", line, last ? " */" : "");
}

/* UPPER_TENSORS, the tensor table of docs/WEIGHTS.md: the same tensors as PyTorch's
 * state_dict names and shapes them, "c1.weight=6x1x5x5@0;", a string per tensor and
 * line, separated by commas: a deep network's table is longer than the 4095
 * characters ISO C99 promises for one literal. */
static void gen_tensor_table(Emit *e, const Model *m)
{
    emit_line(e, "/* The same tensors as PyTorch's state_dict names and shapes them, with their");
    emit_line(e, " * offsets: the tensor table the trainer writes into its weight files, which");
    emit_line(e, " * tools/bpweights.py reads (docs/WEIGHTS.md); a string per tensor, written one");
    emit_line(e, " * after the other: {%s_TENSORS, NULL} is bprt_file_info.tensors. */", m->upper);
    emit_line(e, "#define %s_TENSORS \\", m->upper);
    const Tensor *last = NULL;
    for (int i = 0; i < m->nnodes; i++)
        for (int k = 0; k < m->nodes[i].nparams; k++)
            last = &m->nodes[i].params[k];
    for (int i = 0; i < m->nnodes; i++) {
        const Node *l = &m->nodes[i];
        for (int k = 0; k < l->nparams; k++) {
            const Tensor *t = &l->params[k];
            char dims[64];
            size_t len = 0;
            for (int r = 0; r < t->rank && len < sizeof dims; r++)
                len += (size_t)snprintf(dims + len, sizeof dims - len, "%s%ld", r ? "x" : "",
                                        t->dim[r]);
            emit_cont(e, "\"%s.%s=%s@%ld;\"%s", l->label, t->torch, dims, t->offset,
                      t == last ? "" : ", \\");
        }
    }
    emit_blank(e);
}

/* The named parameter views: each tensor's offset in NAME_params (and in grads and the
 * optimizer state, laid out alike) and its size, as constants, so that nothing that uses
 * the model hard-codes an offset. */
static void gen_param_views(Emit *e, const Model *m)
{
    emit_line(e, "/* Each layer's parameter tensors in %s_params, grads and the optimizer state:",
              m->name);
    emit_line(e, " * %s_L_T is the offset of tensor T of layer L, %s_L_T_size its size. */",
              m->name, m->name);
    emit_open(e, "enum");
    char dims[64];
    for (int i = 0; i < m->nnodes; i++) {
        const Node *l = &m->nodes[i];
        for (int k = 0; k < l->nparams; k++) {
            const Tensor *t = &l->params[k];
            tensor_format_dims(dims, sizeof dims, t);
            emit_line(e, "%s_%s_%s = %ld, %s_%s_%s_size = %ld, /* %s.%s %s */", m->name, l->label,
                      t->name, t->offset, m->name, l->label, t->name, t->size, l->label, t->name,
                      dims);
        }
    }
    emit_close_with(e, ";");
    emit_blank(e);
    gen_tensor_table(e, m);
}

/* The bytes of a weights file (checkpoint: true, a checkpoint) of this network:
 * header, one buffer of PARAMS elements per buffer stored, checksum (docs/WEIGHTS.md). */
static long file_bytes(const GenCtx *c, bool checkpoint)
{
    const long header = 48, crc = 4, elem = c->dbl ? 8 : 4;
    return header + (checkpoint ? 1 + opt_nstate(c->m) : 1) * c->m->nparams * elem + crc;
}

/* The declarations of the weight-file functions: to and from files (unless
 * BPC_NO_FILES) and memory buffers. */
static void gen_header_files(Emit *e, const GenCtx *c)
{
    const char *N = c->name, *U = c->m->upper;
    emit_line(e, "/* Weight files (bpc's docs/WEIGHTS.md); 0 on success, else a BPRT_E_* code");
    emit_line(e, " * (bprt_strerror).  Loading leaves the model untouched on any error.");
    emit_line(e, " * Checkpoints hold parameters, optimizer state and step count: training");
    emit_line(e, " * resumed with %s_restore continues exactly as if it had never stopped.", N);
    emit_line(e, " * -DBPC_NO_FILES (a firmware without files) leaves these four out. */");
    emit_line(e, "#ifndef BPC_NO_FILES");
    emit_line(e, "int %s_save(const %s_model *m, const char *path);", N, N);
    emit_line(e, "int %s_load(%s_model *m, const char *path);", N, N);
    emit_line(e, "int %s_checkpoint(const %s_model *m, const char *path);", N, N);
    emit_line(e, "int %s_restore(%s_model *m, const char *path);", N, N);
    emit_line(e, "#endif");
    emit_line(e, "/* The same bytes in a memory buffer of `size` bytes: at least %s_WEIGHTS_BYTES", U);
    emit_line(e, " * or %s_CHECKPOINT_BYTES to save (else BPRT_E_SPACE, nothing written), exactly", U);
    emit_line(e, " * those to load (a shorter buffer is truncated, a longer one has trailing bytes). */");
    emit_line(e, "#define %s_WEIGHTS_BYTES %ld", U, file_bytes(c, false));
    emit_line(e, "#define %s_CHECKPOINT_BYTES %ld", U, file_bytes(c, true));
    emit_line(e, "int %s_save_mem(const %s_model *m, void *buf, size_t size);", N, N);
    emit_line(e, "int %s_load_mem(%s_model *m, const void *buf, size_t size);", N, N);
    emit_line(e, "int %s_checkpoint_mem(const %s_model *m, void *buf, size_t size);", N, N);
    emit_line(e, "int %s_restore_mem(%s_model *m, const void *buf, size_t size);", N, N);
}

static void gen_header(Emit *e, const GenCtx *c, const char *header_name)
{
    const Model *m = c->m;
    const char *N = m->name, *U = m->upper;
    emit_line(e, "/*");
    emit_line(e, " * %s - generated by bpc %s from network '%s'; do not edit.", header_name,
              BPC_VERSION, N);
    emit_line(e, " *");
    emit_summary(e, m);
    emit_line(e, " *");
    emit_line(e, " * Compile with the generated .c file and link with libbprt.a and -lm.");
    emit_line(e, " * The API is described in bpc's docs/API.md.");
    emit_line(e, " */");
    emit_line(e, "#ifndef BPC_%s_H", U);
    emit_line(e, "#define BPC_%s_H", U);
    emit_blank(e);
    emit_line(e, "#include <stddef.h>");
    emit_line(e, "#include <stdint.h>");
    emit_blank(e);
    emit_line(e, "#ifdef __cplusplus");
    emit_line(e, "extern \"C\" {");
    emit_line(e, "#endif");
    emit_blank(e);
    emit_line(e, "#define %s_INPUTS %ld /* input width */", U, m->inputs);
    emit_line(e, "#define %s_OUTPUTS %ld /* output width */", U, m->outputs);
    emit_line(e, "#define %s_PARAMS %ld /* trainable parameters */", U, m->nparams);
    emit_line(e, "#define %s_BATCH %ld /* most samples per call */", U, m->batch);
    emit_line(e, "#define %s_SEED UINT64_C(%llu) /* the 'seed' statement (0 if none) */", U,
              (unsigned long long)m->seed);
    emit_blank(e);
    gen_param_views(e, m);
    emit_line(e, "typedef %s %s_real;", m->double_precision ? "double" : "float", N);
    emit_blank(e);
    emit_line(e, "/* The whole state of one model: no globals, so models are independent. */");
    emit_open(e, "typedef struct %s_model", N);
    emit_line(e, "/* all parameters, one flat buffer (W of each layer is [out][in]):");
    int last_with_params = -1;
    for (int i = 0; i < m->nnodes; i++)
        if (m->nodes[i].nparams)
            last_with_params = i;
    for (int i = 0; i < m->nnodes; i++)
        if (m->nodes[i].nparams)
            emit_param_comment(e, &m->nodes[i], i == last_with_params);
    emit_line(e, "%s params[%s_PARAMS];", c->real, U);
    emit_line(e, "%s grads[%s_PARAMS]; /* ∂C/∂params, same layout; %s_step zeroes them */",
              c->real, U, N);
    int nstate = opt_nstate(m);
    for (int i = 0; i < nstate; i++)
        emit_line(e, "%s %s[%s_PARAMS]; /* %s state, same layout */", c->real, m->opt->state[i],
                  U, m->opt->op.name);
    emit_line(e, "int64_t step; /* optimizer steps taken */");
    emit_line(e, "double lr; /* the learning rate: %s_init sets the .bp file's, the step "
                 "reads it */", N);
    emit_line(e, "int grads_zero; /* grads known to be zero: %s_train may fuse backward and step */",
              N);
    emit_line(e, "%s scratch[%ld]; /* working space: %s_train's gradient rows, windows */", c->real,
              m->scratch, N);
    if (m->chunk_slots)
        emit_line(e, "int chunk[%ld]; /* the chunks of 8 inputs that are not all 0 (%s_chunks) */",
                  m->chunk_slots, N);
    emit_line(e, "/* per layer and sample: z = W·x + b, a = act(z), d = ∂C/∂a then ∂C/∂z */");
    static const struct {
        unsigned buf;
        const char *suffix;
    } buffers[] = {{BUF_Z, "z"}, {BUF_A, "a"}};
    for (int i = 0; i < m->nnodes; i++) {
        const Node *l = &m->nodes[i];
        for (int k = 0; k < 2; k++)
            if (l->buffers & buffers[k].buf)
                emit_line(e, "%s %s_%s[%s_BATCH][%ld];", c->real, l->label, buffers[k].suffix, U,
                          l->out);
        if (l->buffers & BUF_ARG)
            emit_line(e, "int %s_arg[%s_BATCH][%ld]; /* the index in x of the input each a is */",
                      l->label, U, l->out);
        if (l->buffers & BUF_SUMS) {
            emit_line(e, "%s %s_zmax[%s_BATCH]; /* softmax: max z and Σ e^(z − max z), for the loss */",
                      c->real, l->label, U);
            emit_line(e, "%s %s_zsum[%s_BATCH];", c->real, l->label, U);
        }
    }
    emit_line(e, "/* the d of layers whose backward steps do not overlap share one union */");
    for (int k = 0; k < m->d_slots; k++) {
        emit_open(e, "union");
        for (int i = 0; i < m->nnodes; i++)
            if ((m->nodes[i].buffers & BUF_D) && m->nodes[i].d_slot == k)
                emit_line(e, "%s %s_d[%s_BATCH][%ld];", c->real, m->nodes[i].label, U,
                          m->nodes[i].out);
        emit_close_with(e, " d%d;", k);
    }
    emit_close_with(e, " %s_model;", N);
    emit_blank(e);
    const char *R = c->real;
    emit_line(e, "/* Parameters per the init scheme from `seed`; grads and optimizer state zeroed. */");
    emit_line(e, "void %s_init(%s_model *m, uint64_t seed);", N, N);
    emit_line(e, "/* y (n × %s_OUTPUTS) from x (n × %s_INPUTS), row-major; 1 <= n <= %s_BATCH. */", U,
              U, U);
    emit_line(e, "void %s_forward(%s_model *m, const %s *x, %s *y, int n);", N, N, R, R);
    emit_line(e, "/* The mean loss over the n samples against targets t (n × %s_OUTPUTS). */", U);
    emit_line(e, "%s %s_loss(%s_model *m, const %s *x, const %s *t, int n);", R, N, N, R, R);
    emit_line(e, "/* Forward and backward: adds ∂(mean loss)/∂params to grads; returns the loss. */");
    emit_line(e, "%s %s_backward(%s_model *m, const %s *x, const %s *t, int n);", R, N, N, R, R);
    emit_line(e, "/* One optimizer update from grads, then zeroes grads. */");
    emit_line(e, "void %s_step(%s_model *m);", N, N);
    emit_line(e, "/* %s_backward then %s_step; returns the loss. */", N, N);
    emit_line(e, "%s %s_train(%s_model *m, const %s *x, const %s *t, int n);", R, N, N, R, R);
    emit_line(e, "/* Flat views of all parameters and of their gradients (%s_PARAMS each). */", U);
    emit_line(e, "%s *%s_params(%s_model *m);", R, N, N);
    emit_line(e, "%s *%s_grads(%s_model *m);", R, N, N);
    gen_header_files(e, c);
    emit_blank(e);
    emit_line(e, "#ifdef __cplusplus");
    emit_line(e, "}");
    emit_line(e, "#endif");
    emit_line(e, "#endif");
}

// ---- the source: helpers ----

static void add_helpers(HelperEmitFn **set, int *n, HelperEmitFn *const *list)
{
    for (int i = 0; i < 3 && list[i]; i++) {
        bool seen = false;
        for (int j = 0; j < *n; j++)
            seen |= set[j] == list[i];
        if (!seen) {
            if (*n == MAX_HELPERS)
                internal_error(__FILE__, __LINE__, "too many helpers");
            set[(*n)++] = list[i];
        }
    }
}

static void gen_helpers(Emit *e, const GenCtx *c)
{
    HelperEmitFn *set[MAX_HELPERS];
    int n = 0;
    for (int i = 0; i < c->m->nnodes; i++) {
        add_helpers(set, &n, c->m->nodes[i].kind->helpers);
        if (c->m->nodes[i].act)
            add_helpers(set, &n, c->m->nodes[i].act->helpers);
    }
    add_helpers(set, &n, c->m->loss->helpers);
    add_helpers(set, &n, c->m->opt->helpers);
    emit_heading(e, "// ---- helpers ----"); /* some emit nothing in double models */
    for (int i = 0; i < n; i++)
        set[i](e, c);
    emit_heading(e, NULL);
}

// ---- helpers of the layer kinds' emitters ----

void gen_emit_act(Emit *e, const GenCtx *c, const Node *l, bool backward)
{
    const ActDef *act = l->act;
    bool unroll = l->flags & NODE_UNROLLED;
    ActEmitFn *fn = backward ? act->emit_backward : act->emit_forward;
    if (act->rowwise) {
        ActOperands o = {.z = "z", .a = "a", .g = "d", .dz = "d", .width = l->out, .unroll = unroll};
        o.dz = o.g;
        char zmax[BPC_MAX_IDENT + 24], zsum[BPC_MAX_IDENT + 24];
        if (!backward && (l->flags & NODE_KEEPS_SUMS)) {
            snprintf(zmax, sizeof zmax, "m->%s_zmax[s]", l->label);
            snprintf(zsum, sizeof zsum, "m->%s_zsum[s]", l->label);
            o.zmax = zmax;
            o.zsum = zsum;
        }
        fn(e, c, l->act_args, &o);
        return;
    }
    if (l->out == 1) {
        ActOperands o = {.z = "z[0]", .a = "a[0]", .g = "d[0]", .dz = "d[0]", .width = 1};
        fn(e, c, l->act_args, &o);
        return;
    }
    /* a loop even in unrolled layers: compilers vectorize it and turn a select like
     * ReLU's into a blend, where they leave unrolled selects as branches */
    ActOperands o = {.z = "z[j]", .a = "a[j]", .g = "d[j]", .dz = "d[j]", .width = 1};
    emit_open(e, "for (int j = 0; j < %ld; j++)", l->out);
    fn(e, c, l->act_args, &o);
    emit_close(e);
}

void gen_input_name(char *buf, size_t size, const Model *m, const Node *l)
{
    if (l->inputs[0] == NODE_INPUT)
        snprintf(buf, size, "the input");
    else
        snprintf(buf, size, "%s's a", m->nodes[l->inputs[0]].label);
}

/* "tanh(z)", or with the arguments: "z > 0 ? z : α·z, alpha = 0.2" */
void gen_act_formula(char *buf, size_t size, const Node *l)
{
    size_t len = (size_t)snprintf(buf, size, "%s", l->act->formula);
    for (int i = 0; l->act->op.params[i].name && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, ", %s = %g", l->act->op.params[i].name,
                                l->act_args[i]);
}

void gen_opt_pointers(Emit *e, const GenCtx *c, const char *off)
{
    const Model *m = c->m;
    emit_line(e, "%s *restrict p = m->params + %s;", c->real, off);
    for (int i = 0; i < opt_nstate(m); i++)
        emit_line(e, "%s *restrict %s = m->%s + %s;", c->real, m->opt->state[i], m->opt->state[i],
                  off);
}

// ---- the source: the loss ----

static void gen_loss(Emit *e, const GenCtx *c)
{
    const Model *m = c->m;
    const LossDef *loss = m->loss;
    const Node *out = &m->nodes[m->nnodes - 1];
    const char *N = c->name, *R = c->real;
    char desc[96];
    gen_describe_call(desc, sizeof desc, loss->op.name, loss->op.params, m->loss_args);
    char divisor[48];
    if (loss->per_sample)
        snprintf(divisor, sizeof divisor, "n");
    else
        snprintf(divisor, sizeof divisor, "n * %ld", m->outputs);
    LossOperands o = {.z = "z", .y = "y", .t = "t", .d = "d", .sum = "sum", .scale = "scale",
                      .width = m->outputs};
    char zmax[BPC_MAX_IDENT + 24], zsum[BPC_MAX_IDENT + 24];
    if (out->flags & NODE_KEEPS_SUMS) {
        snprintf(zmax, sizeof zmax, "m->%s_zmax[s]", out->label);
        snprintf(zsum, sizeof zsum, "m->%s_zsum[s]", out->label);
        o.zmax = zmax;
        o.zsum = zsum;
    }

    emit_line(e, "/* loss %s: C = %s", desc, loss->formula);
    emit_line(e, " *   y: %s's a (n × %ld), t: the targets (n × %ld) */", out->label, m->outputs,
              m->outputs);
    emit_line(e, "static %s %s_loss_value(const %s_model *m, const %s *target, int n)", R, N, N, R);
    emit_brace(e);
    emit_line(e, "%s sum = 0;", R);
    emit_open(e, "for (int s = 0; s < n; s++)");
    if (loss->value_uses & USES_Z)
        emit_line(e, "const %s *restrict z = m->%s_z[s];", R, out->label);
    if (loss->value_uses & USES_A)
        emit_line(e, "const %s *restrict y = m->%s_a[s];", R, out->label);
    emit_line(e, "const %s *restrict t = target + s * %ld;", R, m->outputs);
    loss->emit_value(e, c, m->loss_args, &o);
    emit_close(e);
    emit_line(e, "return sum / (%s)(%s);", R, divisor);
    emit_close(e);
    emit_end(e);

    emit_line(e, "/* loss gradient into %s's d: %s */", out->label, loss->grad_formula);
    emit_line(e, "static void %s_loss_grad(%s_model *m, const %s *target, int n)", N, N, R);
    emit_brace(e);
    emit_line(e, "const %s scale = 1 / (%s)(%s);", R, R, divisor);
    emit_open(e, "for (int s = 0; s < n; s++)");
    if (loss->grad_uses & USES_Z)
        emit_line(e, "const %s *restrict z = m->%s_z[s];", R, out->label);
    if (loss->grad_uses & USES_A)
        emit_line(e, "const %s *restrict y = m->%s_a[s];", R, out->label);
    emit_line(e, "const %s *restrict t = target + s * %ld;", R, m->outputs);
    emit_line(e, "%s *restrict d = m->%s[s];", R, out->dname);
    loss->emit_grad(e, c, m->loss_args, &o);
    emit_close(e);
    emit_close(e);
    emit_end(e);
}

// ---- the source: the public API ----

/* "m->hidden_a[0]" for a node whose input is hidden's output, "x" for the network's. */
static void layer_input(char *buf, size_t size, const Model *m, int i)
{
    int from = m->nodes[i].inputs[0];
    if (from == NODE_INPUT)
        snprintf(buf, size, "x");
    else
        snprintf(buf, size, "m->%s_a[0]", m->nodes[from].label);
}

static void gen_init(Emit *e, const GenCtx *c)
{
    const Model *m = c->m;
    const char *N = c->name;
    emit_line(e, "void %s_init(%s_model *m, uint64_t seed)", N, N);
    emit_brace(e);
    emit_line(e, "memset(m, 0, sizeof *m); /* biases, grads, optimizer state, step */");
    emit_line(e, "m->grads_zero = 1;");
    char lr[GEN_LIT_MAX];
    emit_line(e, "m->lr = %s; /* the .bp file's learning rate */", gen_dlit(opt_lr(m), lr));
    emit_line(e, "bprt_rng rng;");
    emit_line(e, "bprt_rng_seed(&rng, seed);");
    for (int i = 0; i < m->nnodes; i++) {
        const Node *l = &m->nodes[i];
        for (int k = 0; k < l->nparams; k++)
            if (l->params[k].drawn)
                l->init->emit(e, c, l->label, &l->params[k], l->init_args);
    }
    emit_close(e);
    emit_end(e);
}

/* What the API functions pass on as the number of samples: the literal 1 in a batch-1
 * model, so that the compiler drops the loops over samples and vectorizes within the
 * one sample (gcc vectorizes across samples otherwise, which n = 1 cannot use). */
static const char *samples(const Model *m)
{
    return m->batch == 1 ? "1" : "n";
}

/* The check an API function taking n starts with: in every build, as a wrong n would
 * read and write past the model's buffers. */
static void emit_check_n(Emit *e, const Model *m, const char *function)
{
    emit_line(e, "if (n < 1 || n > %s_BATCH)", m->upper);
    emit_cont(e, "bprt_bad_count(\"%s_%s\", n, %s_BATCH);", m->name, function, m->upper);
}

static void gen_passes(Emit *e, const GenCtx *c)
{
    const Model *m = c->m;
    const char *N = c->name, *R = c->real, *n = samples(m);
    const Node *out = &m->nodes[m->nnodes - 1];
    char in[80];

    emit_line(e, "/* All layers forward, the activations kept for the backward pass. */");
    emit_line(e, "static void %s_forward_pass(%s_model *m, const %s *x, int n)", N, N, R);
    emit_brace(e);
    for (int i = 0; i < m->nnodes; i++) {
        layer_input(in, sizeof in, m, i);
        emit_line(e, "%s_%s_forward(m, %s, n);", N, m->nodes[i].label, in);
    }
    emit_close(e);
    emit_end(e);

    emit_line(e, "void %s_forward(%s_model *m, const %s *x, %s *y, int n)", N, N, R, R);
    emit_brace(e);
    emit_check_n(e, m, "forward");
    emit_line(e, "%s_forward_pass(m, x, %s);", N, n);
    emit_line(e, "memcpy(y, m->%s_a, (size_t)%s * sizeof m->%s_a[0]);", out->label, n, out->label);
    emit_close(e);
    emit_end(e);

    emit_line(e, "%s %s_loss(%s_model *m, const %s *x, const %s *t, int n)", R, N, N, R, R);
    emit_brace(e);
    emit_check_n(e, m, "loss");
    emit_line(e, "%s_forward_pass(m, x, %s);", N, n);
    emit_line(e, "return %s_loss_value(m, t, %s);", N, n);
    emit_close(e);
    emit_end(e);

    emit_line(e, "/* The chain rule, layer by layer from the loss back to the input. */");
    emit_line(e, "%s %s_backward(%s_model *m, const %s *x, const %s *t, int n)", R, N, N, R, R);
    emit_brace(e);
    emit_check_n(e, m, "backward");
    emit_line(e, "m->grads_zero = 0;");
    emit_line(e, "%s_forward_pass(m, x, %s);", N, n);
    emit_line(e, "const %s loss = %s_loss_value(m, t, %s);", R, N, n);
    emit_line(e, "%s_loss_grad(m, t, %s);", N, n);
    for (int i = m->nnodes - 1; i >= 0; i--) {
        layer_input(in, sizeof in, m, i);
        emit_line(e, "%s_%s_backward(m, %s, %s);", N, m->nodes[i].label, in, n);
    }
    emit_line(e, "return loss;");
    emit_close(e);
    emit_end(e);
}

/* One width of NAME_update_span's vectors, `bytes` long: the type, its length, and
 * v but 0 in the lanes where |v| is below the smallest normal number (a NaN's kept). */
static void gen_update_vector(Emit *e, const GenCtx *c, const char *w, const char *bytes)
{
    const char *N = c->name, *R = c->real;
    char min[GEN_LIT_MAX];
    gen_lit(c, c->dbl ? DBL_MIN : FLT_MIN, min);
    emit_line(e, "typedef %s %s_uvec%s __attribute__((vector_size(%s), aligned(%d), may_alias));",
              R, N, w, bytes, c->dbl ? 8 : 4);
    emit_line(e, "typedef %s %s_umask%s __attribute__((vector_size(%s)));",
              c->dbl ? "int64_t" : "int32_t", N, w, bytes);
    emit_line(e, "#define %s_ULEN%s (int)(sizeof(%s_uvec%s) / sizeof(%s))", N, w, N, w, R);
    emit_line(e, "#define %s_UFLUSH%s(v) ((%s_uvec%s)((%s_umask%s)(v) & \\", N, w, N, w, N, w);
    emit_line(e, "    ~(%s_umask%s)(((v) < %s) & ((v) > -%s))))", N, w, min, min);
}

/* NAME_update_span's vectors (gcc and clang on x86-64): the widest the build has, and
 * 32 bytes in its AVX2 clone. */
static void gen_update_vectors(Emit *e, const GenCtx *c)
{
    const char *N = c->name, *sfx = c->dbl ? "pd" : "ps";
    emit_line(e, "/* %s_update_span's vectors (gcc and clang on x86-64): the widest the build", N);
    emit_line(e, " * has, and 32 bytes in its AVX2 clone; unaligned, and aliasing the parameters.");
    emit_line(e, " * GNU C's operators and the square root round each element as alone: the same");
    emit_line(e, " * bits. */");
    emit_line(e, "#if defined(__GNUC__) && defined(__x86_64__) && !defined(BPC_NO_VECTOR)");
    emit_line(e, "#define %s_UVEC 1", N);
    emit_line(e, "#if defined(__AVX512F__)");
    emit_line(e, "#define %s_UBYTES 64", N);
    emit_line(e, "#define %s_USQRT _mm512_sqrt_%s", N, sfx);
    emit_line(e, "#elif defined(__AVX__)");
    emit_line(e, "#define %s_UBYTES 32", N);
    emit_line(e, "#define %s_USQRT _mm256_sqrt_%s", N, sfx);
    emit_line(e, "#else");
    emit_line(e, "#define %s_UBYTES 16", N);
    emit_line(e, "#define %s_USQRT _mm_sqrt_%s", N, sfx);
    emit_line(e, "#endif");
    char bytes[BPC_MAX_IDENT + 16];
    snprintf(bytes, sizeof bytes, "%s_UBYTES", N);
    gen_update_vector(e, c, "", bytes);
    emit_line(e, "#define %s_USQRT32 _mm256_sqrt_%s", N, sfx);
    gen_update_vector(e, c, "32", "32");
    emit_line(e, "#endif");
    emit_blank(e);
}

/* NAME_update_span(m, at, grad, len, clear): the optimizer's update of len parameters
 * from at, from their gradients grad[0..len), each zeroed after use when clear; in
 * vectors, then the rest one by one (the same arithmetic per element).  NAME_step and
 * the fused trains call it; their AVX2 clones, its clone. */
static void gen_update_span(Emit *e, const GenCtx *c)
{
    const Model *m = c->m;
    const char *N = c->name, *R = c->real;
    char desc[160], vec[BPC_MAX_IDENT + 16], sqrt_fn[BPC_MAX_IDENT + 16],
        flush[BPC_MAX_IDENT + 16], g[BPC_MAX_IDENT + 48];
    gen_describe_call(desc, sizeof desc, m->opt->op.name, m->opt->op.params, m->opt_args);
    gen_update_vectors(e, c);
    for (int avx2 = 0; avx2 < 2; avx2++) {
        const char *w = avx2 ? "32" : "";
        if (avx2) {
            kern_pp(e, "#ifdef %s_AVX2", N);
            emit_line(e, "/* %s_update_span compiled for AVX2 (without FMA: the same results) */",
                      N);
            emit_line(e, "__attribute__((target(\"avx2\")))");
        } else {
            emit_line(e, "/* The optimizer's update of len parameters from at, from their gradients");
            emit_line(e, " * grad[0..len), each zeroed once used when clear (one pass over grads, not");
            emit_line(e, " * two), in vectors, then one by one:");
            emit_line(e, " * %s, PyTorch's rule */", desc);
        }
        emit_line(e, "static void %s_update_span%s(%s_model *m, long at, %s *restrict grad, int len,",
                  N, avx2 ? "_avx2" : "", N, R);
        emit_line(e, "    int clear)");
        emit_brace(e);
        if (m->opt->emit_prelude)
            m->opt->emit_prelude(e, c, m->opt_args);
        gen_opt_pointers(e, c, "at");
        emit_line(e, "int i = 0;");
        kern_pp(e, "#ifdef %s_UVEC", N);
        snprintf(vec, sizeof vec, "%s_uvec%s", N, w);
        snprintf(sqrt_fn, sizeof sqrt_fn, "%s_USQRT%s", N, w);
        snprintf(flush, sizeof flush, "%s_UFLUSH%s", N, w);
        snprintf(g, sizeof g, "*(%s *)(grad + i)", vec);
        emit_open(e, "for (; i + %s_ULEN%s <= len; i += %s_ULEN%s)", N, w, N, w);
        m->opt->emit_update(e, c, m->opt_args, g, &(UpdateForm){vec, sqrt_fn, flush});
        emit_line(e, "if (clear)");
        emit_cont(e, "%s = (%s){0};", g, vec);
        emit_close(e);
        kern_pp(e, "#endif%s", "");
        emit_open(e, "for (; i < len; i++)");
        m->opt->emit_update(e, c, m->opt_args, "grad[i]", &(UpdateForm){0});
        emit_line(e, "if (clear)");
        emit_cont(e, "grad[i] = 0;");
        emit_close(e);
        emit_close(e);
        kern_end_function(e, avx2);
    }
}

static void gen_step(Emit *e, const GenCtx *c)
{
    const Model *m = c->m;
    const char *N = c->name, *R = c->real, *n = samples(m);
    char in[80];
    emit_line(e, "void %s_step(%s_model *m)", N, N);
    emit_brace(e);
    emit_line(e, "m->step++;");
    kern_pp(e, "#ifdef %s_AVX2", N);
    emit_line(e, "if (__builtin_cpu_supports(\"avx2\"))");
    emit_cont(e, "%s_update_span_avx2(m, 0, m->grads, %s_PARAMS, 1);", N, m->upper);
    emit_line(e, "else");
    kern_pp(e, "#endif%s", "");
    emit_line(e, "%s_update_span(m, 0, m->grads, %s_PARAMS, 1);", N, m->upper);
    emit_line(e, "m->grads_zero = 1;");
    emit_close(e);
    emit_end(e);

    emit_line(e, "/* %s_backward then %s_step.  When grads are zero (after init, a step,", N, N);
    emit_line(e, " * a restore or a fused train) the two are fused layer by layer: the same");
    emit_line(e, " * results, without writing the gradients out and reading them back. */");
    emit_line(e, "%s %s_train(%s_model *m, const %s *x, const %s *t, int n)", R, N, N, R, R);
    emit_brace(e);
    emit_open(e, "if (!m->grads_zero)");
    emit_line(e, "const %s loss = %s_backward(m, x, t, n);", R, N);
    emit_line(e, "%s_step(m);", N);
    emit_line(e, "return loss;");
    emit_close(e);
    emit_check_n(e, m, "train");
    emit_line(e, "%s_forward_pass(m, x, %s);", N, n);
    emit_line(e, "const %s loss = %s_loss_value(m, t, %s);", R, N, n);
    emit_line(e, "%s_loss_grad(m, t, %s);", N, n);
    emit_line(e, "m->step++;");
    bool any_clone = false;
    for (int i = 0; i < m->nnodes; i++)
        any_clone |= m->nodes[i].flags & NODE_AVX2_CLONE;
    if (any_clone) {
        kern_pp(e, "#ifdef %s_AVX2", N);
        emit_open(e, "if (__builtin_cpu_supports(\"avx2\"))");
        for (int i = m->nnodes - 1; i >= 0; i--) {
            const Node *l = &m->nodes[i];
            layer_input(in, sizeof in, m, i);
            emit_line(e, "%s_%s_train%s(m, %s, %s);", N, l->label,
                      l->flags & NODE_AVX2_CLONE ? "_avx2" : "", in, n);
        }
        emit_line(e, "return loss;");
        emit_close(e);
        kern_pp(e, "#endif%s", "");
    }
    for (int i = m->nnodes - 1; i >= 0; i--) {
        layer_input(in, sizeof in, m, i);
        emit_line(e, "%s_%s_train(m, %s, %s);", N, m->nodes[i].label, in, n);
    }
    emit_line(e, "return loss;");
    emit_close(e);
    emit_end(e);

    emit_line(e, "%s *%s_params(%s_model *m)", R, N, N);
    emit_brace(e);
    emit_line(e, "return m->params;");
    emit_close(e);
    emit_end(e);

    emit_line(e, "/* The caller may write gradients through the pointer: no longer known zero. */");
    emit_line(e, "%s *%s_grads(%s_model *m)", R, N, N);
    emit_brace(e);
    emit_line(e, "m->grads_zero = 0;");
    emit_line(e, "return m->grads;");
    emit_close(e);
    emit_end(e);
}

/* "m->params, m->exp_avg, m->exp_avg_sq" */
static void buffer_list(char *buf, size_t size, const Model *m, bool checkpoint)
{
    size_t len = (size_t)snprintf(buf, size, "m->params");
    int n = checkpoint ? opt_nstate(m) : 0;
    for (int i = 0; i < n && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, ", m->%s", m->opt->state[i]);
}

/* One writer: NAME_save (weights) or NAME_checkpoint, to a file or (mem) to memory. */
static void emit_writer(Emit *e, const GenCtx *c, bool checkpoint, bool mem)
{
    const char *N = c->name, *fn = checkpoint ? "checkpoint" : "save", *sfx = mem ? "_mem" : "";
    char buffers[128];
    buffer_list(buffers, sizeof buffers, c->m, checkpoint);
    if (mem)
        emit_line(e, "int %s_%s%s(const %s_model *m, void *buf, size_t size)", N, fn, sfx, N);
    else
        emit_line(e, "int %s_%s(const %s_model *m, const char *path)", N, fn, N);
    emit_brace(e);
    emit_line(e, "%sbprt_file_info info = %s_file_info(BPRT_FILE_%s);", checkpoint ? "" : "const ",
              N, checkpoint ? "CHECKPOINT" : "WEIGHTS");
    if (checkpoint)
        emit_line(e, "info.step = m->step;");
    emit_line(e, "const void *const buffers[%d] = {%s};", checkpoint ? 1 + opt_nstate(c->m) : 1,
              buffers);
    if (mem)
        emit_line(e, "return bprt_mem_write(buf, size, &info, buffers);");
    else
        emit_line(e, "return bprt_file_write(path, &info, buffers);");
    emit_close(e);
    emit_end(e);
}

/* One reader: NAME_load (weights) or NAME_restore, from a file or (mem) from memory.
 * Gradients are not in a checkpoint (it is taken between steps, when they are zero):
 * a successful restore zeroes them. */
static void emit_reader(Emit *e, const GenCtx *c, bool checkpoint, bool mem)
{
    const char *N = c->name, *fn = checkpoint ? "restore" : "load", *sfx = mem ? "_mem" : "";
    char buffers[128];
    buffer_list(buffers, sizeof buffers, c->m, checkpoint);
    if (mem)
        emit_line(e, "int %s_%s%s(%s_model *m, const void *buf, size_t size)", N, fn, sfx, N);
    else
        emit_line(e, "int %s_%s(%s_model *m, const char *path)", N, fn, N);
    emit_brace(e);
    emit_line(e, "const bprt_file_info info = %s_file_info(BPRT_FILE_%s);", N,
              checkpoint ? "CHECKPOINT" : "WEIGHTS");
    emit_line(e, "void *const buffers[%d] = {%s};", checkpoint ? 1 + opt_nstate(c->m) : 1, buffers);
    const char *source = mem ? "bprt_mem_read(buf, size, " : "bprt_file_read(path, ";
    if (!checkpoint) {
        emit_line(e, "return %s&info, buffers, NULL);", source);
        emit_close(e);
        emit_end(e);
        return;
    }
    emit_line(e, "int64_t step = 0;");
    emit_line(e, "const int err = %s&info, buffers, &step);", source);
    emit_open(e, "if (err == BPRT_OK)");
    emit_line(e, "m->step = step;");
    emit_line(e, "memset(m->grads, 0, sizeof m->grads);");
    emit_line(e, "m->grads_zero = 1;");
    emit_close(e);
    emit_line(e, "return err;");
    emit_close(e);
    emit_end(e);
}

static void gen_files(Emit *e, const GenCtx *c)
{
    const Model *m = c->m;
    const char *N = c->name, *U = m->upper;
    char shape[BPC_MAX_LAYERS * 24 + 32]; /* ";dense=16777216" per layer */
    shape_string(shape, sizeof shape, m);
    const int nbuf = 1 + opt_nstate(m);

    emit_line(e, "/* The network's shapes as weight files record them: the fingerprint is their");
    emit_line(e, " * hash, and the trainer writes the string into its files (docs/WEIGHTS.md). */");
    emit_line(e, "#define %s_SHAPE \"%s\"", U, shape);
    emit_blank(e);
    emit_line(e, "/* The header every weight file of this network carries. */");
    emit_line(e, "static bprt_file_info %s_file_info(uint32_t kind)", N);
    emit_brace(e);
    emit_line(e, "bprt_file_info info;");
    emit_line(e, "memset(&info, 0, sizeof info);");
    emit_line(e, "info.kind = kind;");
    emit_line(e, "info.elem_size = (uint32_t)sizeof(%s);", c->real);
    emit_line(e, "info.fingerprint = bprt_fingerprint(%s_SHAPE);", U);
    emit_line(e, "info.count = %s_PARAMS;", U);
    if (nbuf > 1) /* a checkpoint holds the optimizer's state too */
        emit_line(e, "info.nbuffers = kind == BPRT_FILE_CHECKPOINT ? %d : 1;", nbuf);
    else
        emit_line(e, "info.nbuffers = 1;");
    emit_line(e, "return info;");
    emit_close(e);
    emit_end(e);

    emit_line(e, "#ifndef BPC_NO_FILES");
    emit_blank(e);
    for (int checkpoint = 0; checkpoint <= 1; checkpoint++) {
        emit_writer(e, c, checkpoint, false);
        emit_reader(e, c, checkpoint, false);
    }
    emit_line(e, "#endif");
    emit_blank(e);
    emit_line(e, "/* The same bytes in memory (a firmware without files). */");
    for (int checkpoint = 0; checkpoint <= 1; checkpoint++) {
        emit_writer(e, c, checkpoint, true);
        emit_reader(e, c, checkpoint, true);
    }
}

/* The file fixes its own rounding: no product is fused with an addition into an FMA
 * but those the code fuses itself (gen_kernels.c), whatever the flags (gcc's GNU modes
 * contract whenever the target has FMA, clang by default), so the results are the same
 * bits on every machine (docs/API.md). */
static void gen_no_contraction(Emit *e, const GenCtx *c)
{
    emit_line(e, "/* No products fused into FMAs but those the code fuses itself (%s_FMA and",
              c->name);
    emit_line(e, " * the vector tiles' intrinsics), whatever the flags: gcc's GNU modes and clang");
    emit_line(e, " * contract where the target has FMA (ARMv7E-M, x86 -mfma, AArch64), which");
    emit_line(e, " * changes the last bits (docs/API.md). */");
    emit_line(e, "#if defined(__clang__)");
    emit_line(e, "#pragma STDC FP_CONTRACT OFF");
    emit_line(e, "#elif defined(__GNUC__)");
    emit_line(e, "#pragma GCC optimize(\"fp-contract=off\")");
    emit_line(e, "#endif");
    emit_blank(e);
}

static void gen_source(Emit *e, const GenCtx *c, const GenOptions *opt, const char *header_name)
{
    const Model *m = c->m;
    emit_line(e, "/*");
    emit_line(e, " * Generated by bpc %s from network '%s'; do not edit.", BPC_VERSION, m->name);
    emit_line(e, " *");
    emit_summary(e, m);
    emit_line(e, " *");
    emit_line(e, " * Layers with at most %ld weights are unrolled into straight-line code.",
              m->unroll);
    emit_line(e, " * Notation: per sample, x is a layer's input, z = W·x + b, a = act(z), C the loss,");
    emit_line(e, " * d = ∂C/∂a turned in place into δ = ∂C/∂z by the backward pass.");
    emit_line(e, " */");
    emit_line(e, "#include <math.h>");
    emit_line(e, "#include <string.h>");
    emit_blank(e);
    emit_line(e, "#include \"bprt.h\"");
    emit_line(e, "#include \"%s\"", header_name);
    emit_blank(e);
    gen_no_contraction(e, c);
    gen_helpers(e, c);
    emit_line(e, "// ---- kernels ----");
    emit_blank(e);
    kern_helpers(e, c);
    gen_update_span(e, c);
    for (int i = 0; i < m->nnodes; i++) {
        const Node *l = &m->nodes[i];
        char what[96], in[64], out[64];
        l->kind->describe(what, sizeof what, l);
        shape_format(in, sizeof in, &l->in_shape);
        shape_format(out, sizeof out, &l->shape);
        emit_line(e, "// ---- layer %s: %s -> %s, %s%s ----", l->label, in, out, what,
                  l->flags & NODE_UNROLLED ? ", unrolled" : "");
        emit_blank(e);
        l->kind->emit_forward(e, c, l);
        l->kind->emit_backward(e, c, l);
    }
    emit_line(e, "// ---- loss ----");
    emit_blank(e);
    gen_loss(e, c);
    emit_line(e, "// ---- the API (docs/API.md) ----");
    emit_blank(e);
    gen_init(e, c);
    gen_passes(e, c);
    gen_step(e, c);
    emit_line(e, "// ---- weight files and checkpoints ----");
    emit_blank(e);
    gen_files(e, c);
    if (opt->main)
        gen_main(e, m);
}

bool gen_c(Model *m, const GenOptions *opt, FILE *c_out, FILE *h_out)
{
    if (m->nnodes < 1)
        internal_error(__FILE__, __LINE__, "a checked model without layers");
    ir_plan(m, opt->unroll);
    char real[BPC_MAX_IDENT + 8];
    snprintf(real, sizeof real, "%s_real", m->name);
    GenCtx c = {.m = m, .name = m->name, .real = real, .fn = m->double_precision ? "" : "f",
                .dbl = m->double_precision};
    const char *header_name = opt->header_name ? opt->header_name : "model.h";

    Emit h, e;
    emit_init(&h, h_out);
    gen_header(&h, &c, header_name);
    emit_init(&e, c_out);
    gen_source(&e, &c, opt, header_name);
    return !h.failed && !e.failed && fflush(h_out) == 0 && fflush(c_out) == 0 && !ferror(h_out) &&
           !ferror(c_out);
}
