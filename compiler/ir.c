/*
 * ir.c - the planning pass over the checked model, the IR of bpc.
 *
 * check.c turns the statements into a list of nodes in topological order, each with its
 * kind (a row of the layer table), its input node(s), its per-sample shapes and its
 * parameter tensors.  This pass lays the tensors out in the flat parameter buffer
 * (ir_layout: in node order, each node's tensors in its row's order, which is PyTorch's
 * state_dict order), then makes every decision the emitters need once (ir_plan): which
 * node is fused with the loss, which ones compute ∂C/∂x, which are unrolled or skip
 * zero inputs, which buffers each keeps and how much scratch they share.  The emitters
 * read these flags; they do not recompute them.  ir_dump prints the result
 * (bpc --dump-ir).
 */
#include <string.h>

#include "bpc.h"

// ---- shapes ----

long shape_numel(const Shape *s)
{
    long n = 1;
    for (int i = 0; i < s->rank; i++)
        n *= s->dim[i];
    return n;
}

void shape_format(char *buf, size_t size, const Shape *s)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < s->rank && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%ld", i ? "x" : "", s->dim[i]);
}

void tensor_format_dims(char *buf, size_t size, const Tensor *t)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int r = 0; r < t->rank && len < size; r++)
        len += (size_t)snprintf(buf + len, size - len, "[%ld]", t->dim[r]);
}

// ---- memory ----

bool ir_layout(Diag *d, Model *m)
{
    int64_t total = 0;
    for (int i = 0; i < m->nnodes; i++) {
        Node *n = &m->nodes[i];
        int64_t size = 0;
        for (int k = 0; k < n->nparams; k++)
            size += n->params[k].size;
        if (total + size > BPC_MAX_PARAMS) {
            diag_error(d, n->loc,
                       "too many parameters: layer '%s' brings the total to %lld; the limit is %ld",
                       n->label, (long long)(total + size), BPC_MAX_PARAMS);
            m->nparams = 0;
            return false;
        }
        for (int k = 0; k < n->nparams; k++) {
            n->params[k].offset = (long)total;
            total += n->params[k].size;
        }
    }
    m->nparams = (long)total;
    return true;
}

// ---- decisions ----

static void plan_nodes(Model *m, long unroll)
{
    m->scratch = 1;
    m->chunk_slots = 0;
    m->dw_samples = 0;
    for (int i = 0; i < m->nnodes; i++) {
        Node *n = &m->nodes[i];
        bool last = i == m->nnodes - 1;
        n->flags = 0;
        if (last && m->loss->fused)
            n->flags |= NODE_FUSED_OUTPUT;
        if (n->act && !(n->flags & NODE_FUSED_OUTPUT) && n->act->emit_backward)
            n->flags |= NODE_ACT_BACKWARD;
        if (n->inputs[0] != NODE_INPUT)
            n->flags |= NODE_NEEDS_DX;
        if (last && m->loss->keeps_softmax_sums && n->act && n->act->rowwise)
            n->flags |= NODE_KEEPS_SUMS;
        n->buffers = n->kind->buffers | (n->flags & NODE_KEEPS_SUMS ? BUF_SUMS : 0);
        n->scratch = 0;
        n->prod_in = n->prod_out = n->prod_rows = n->dw_samples = 0;
        n->tiles_of = i;
        if (n->kind->plan)
            n->kind->plan(m, n, unroll);
        long dw = n->dw_samples ? n->dw_samples : m->batch;
        if (n->flags & NODE_DW_TILES && dw > m->dw_samples)
            m->dw_samples = dw;
        for (int j = 0; j < i && n->prod_out; j++) {
            const Node *o = &m->nodes[j];
            if (o->prod_in == n->prod_in && o->prod_out == n->prod_out &&
                o->prod_rows == n->prod_rows &&
                (o->flags & NODE_SKIPS_ZEROS) == (n->flags & NODE_SKIPS_ZEROS)) {
                n->tiles_of = o->tiles_of;
                break;
            }
        }
        if (n->scratch > m->scratch)
            m->scratch = n->scratch;
        /* the chunk list of NAME_chunks, for a looped forward or a fused step that skips */
        bool chunks = (n->flags & NODE_SKIPS_ZEROS) &&
                      (!(n->flags & NODE_UNROLLED) || (n->flags & NODE_TRAIN_SKIPS));
        if (chunks && n->in / KERN_LANES > m->chunk_slots)
            m->chunk_slots = n->in / KERN_LANES;
    }
}

/* The d buffers' places.  The d of node i (∂C/∂a) is written by the backward of the node
 * that reads a (the loss's gradient for the last node) and read by node i's own
 * backward; backward runs the nodes in reverse, so it is live from step `writer` down to
 * step i.  Nodes whose spans do not overlap share one union of NAME_model (in a chain,
 * every other node: two unions in all), the largest first found free. */
static void plan_d_slots(Model *m)
{
    int writer[BPC_MAX_LAYERS];
    for (int i = 0; i < m->nnodes; i++)
        writer[i] = i == m->nnodes - 1 ? m->nnodes : i;
    for (int j = 0; j < m->nnodes; j++)
        for (int k = 0; k < m->nodes[j].ninputs; k++)
            if (m->nodes[j].inputs[k] != NODE_INPUT && j > writer[m->nodes[j].inputs[k]])
                writer[m->nodes[j].inputs[k]] = j;
    m->d_slots = 0;
    for (int i = m->nnodes - 1; i >= 0; i--) {
        Node *n = &m->nodes[i];
        int slot = 0;
        for (bool busy = true; busy; slot += busy) {
            busy = false;
            for (int k = i + 1; k < m->nnodes && !busy; k++) /* spans [k, writer[k]] */
                busy = m->nodes[k].d_slot == slot && k <= writer[i];
        }
        n->d_slot = slot;
        if (slot + 1 > m->d_slots)
            m->d_slots = slot + 1;
        snprintf(n->dname, sizeof n->dname, "d%d.%s_d", slot, n->label);
    }
}

/* Plans with `unroll`, then, when that unrolls more than BPC_MAX_UNROLL weights in all,
 * again with the threshold that keeps as many of the smallest unrolled layers as fit:
 * compilers take minutes over much more straight-line code (docs/LANGUAGE.md, Limits). */
void ir_plan(Model *m, long unroll)
{
    long weights[BPC_MAX_LAYERS];
    int count = 0;
    plan_nodes(m, unroll);
    m->unroll = unroll;
    m->unroll_wanted = 0;
    for (int i = 0; i < m->nnodes; i++)
        if (m->nodes[i].flags & NODE_UNROLLED) {
            weights[count] = m->nodes[i].in * m->nodes[i].out;
            m->unroll_wanted += weights[count++];
        }
    if (m->unroll_wanted > BPC_MAX_UNROLL) {
        /* insertion sort: a model has at most BPC_MAX_LAYERS layers */
        for (int i = 1; i < count; i++)
            for (int j = i; j > 0 && weights[j - 1] > weights[j]; j--) {
                long t = weights[j];
                weights[j] = weights[j - 1];
                weights[j - 1] = t;
            }
        long sum = 0;
        m->unroll = 0;
        for (int i = 0; i < count; i++) {
            sum += weights[i];
            if (i + 1 < count && weights[i + 1] == weights[i])
                continue; /* layers of one size are unrolled all or none */
            if (sum > BPC_MAX_UNROLL)
                break;
            m->unroll = weights[i];
        }
        plan_nodes(m, m->unroll);
    }
    plan_d_slots(m);
    m->planned = true;
}

// ---- bpc --check -v ----

void ir_summary(FILE *out, const Model *m)
{
    char shape[64];
    shape_format(shape, sizeof shape, &m->input);
    fprintf(out, "%-16s %-8s %-12s %s\n", "layer", "kind", "output", "parameters");
    fprintf(out, "%-16s %-8s %-12s %d\n", "(input)", "", shape, 0);
    for (int i = 0; i < m->nnodes; i++) {
        const Node *n = &m->nodes[i];
        long count = 0;
        for (int k = 0; k < n->nparams; k++)
            count += n->params[k].size;
        shape_format(shape, sizeof shape, &n->shape);
        fprintf(out, "%-16s %-8s %-12s %ld\n", n->label, n->kind->name, shape, count);
    }
    fprintf(out, "%d layers, %ld parameters\n", m->nnodes, m->nparams);
}

// ---- the table of bpc --dump-ir ----

static const struct {
    unsigned flag;
    const char *name;
} flag_names[] = {
    {NODE_UNROLLED, "unrolled"},       {NODE_FUSED_OUTPUT, "fused-output"},
    {NODE_ACT_BACKWARD, "act-backward"}, {NODE_NEEDS_DX, "needs-dx"},
    {NODE_SKIPS_ZEROS, "skips-zeros"}, {NODE_TRAIN_SKIPS, "train-skips"},
    {NODE_KEEPS_SUMS, "keeps-sums"},   {NODE_AVX2_CLONE, "avx2-clone"},
    {NODE_DX_TILES, "dx-tiles"},       {NODE_DW_TILES, "dw-tiles"},
    {NODE_DIRECT, "direct"},
};

static const struct {
    unsigned buf;
    const char *name;
} buffer_names[] = {{BUF_Z, "z"}, {BUF_A, "a"}, {BUF_D, "d"}, {BUF_SUMS, "sums"}, {BUF_ARG, "arg"}};

/* "W[4][2]@0 b[4]@8" */
static void format_params(char *buf, size_t size, const Node *n)
{
    size_t len = 0;
    char dims[64];
    buf[0] = '\0';
    for (int k = 0; k < n->nparams && len < size; k++) {
        const Tensor *t = &n->params[k];
        tensor_format_dims(dims, sizeof dims, t);
        len += (size_t)snprintf(buf + len, size - len, "%s%s%s@%ld", k ? " " : "", t->name, dims,
                                t->offset);
    }
    if (!n->nparams)
        snprintf(buf, size, "-");
}

void ir_dump(FILE *out, const Model *m)
{
    char in[64], shape[64], params[256], inputs[64];
    shape_format(in, sizeof in, &m->input);
    fprintf(out, "network %s: input %s, %ld parameters, batch %ld, %s, scratch %ld, chunks %ld\n",
            m->name, in, m->nparams, m->batch, m->double_precision ? "double" : "float",
            m->scratch, m->chunk_slots);
    fprintf(out, "%-3s %-16s %-8s %-12s %-12s %-34s %-10s %s\n", "#", "label", "kind", "input",
            "shape", "params", "buffers", "flags");
    for (int i = 0; i < m->nnodes; i++) {
        const Node *n = &m->nodes[i];
        size_t len = 0;
        inputs[0] = '\0';
        for (int k = 0; k < n->ninputs && len < sizeof inputs; k++)
            len += (size_t)snprintf(inputs + len, sizeof inputs - len, "%s%s", k ? "," : "",
                                    n->inputs[k] == NODE_INPUT ? "input"
                                                               : m->nodes[n->inputs[k]].label);
        shape_format(shape, sizeof shape, &n->shape);
        format_params(params, sizeof params, n);
        char buffers[32] = "";
        len = 0;
        for (size_t k = 0; k < sizeof buffer_names / sizeof buffer_names[0]; k++)
            if (n->buffers & buffer_names[k].buf) {
                len += (size_t)snprintf(buffers + len, sizeof buffers - len, "%s%s",
                                        len ? "," : "", buffer_names[k].name);
                if (buffer_names[k].buf == BUF_D) /* the union it shares (Node.d_slot) */
                    len += (size_t)snprintf(buffers + len, sizeof buffers - len, "@%d", n->d_slot);
            }
        fprintf(out, "%-3d %-16s %-8s %-12s %-12s %-34s %-10s", i, n->label, n->kind->name,
                inputs, shape, params, buffers);
        for (size_t k = 0; k < sizeof flag_names / sizeof flag_names[0]; k++)
            if (n->flags & flag_names[k].flag)
                fprintf(out, " %s", flag_names[k].name);
        if (n->act)
            fprintf(out, " act=%s", n->act->op.name);
        if (n->scratch)
            fprintf(out, " scratch=%ld", n->scratch);
        if (n->tiles_of != i)
            fprintf(out, " tiles-of=%s", m->nodes[n->tiles_of].label);
        fputc('\n', out);
    }
}
