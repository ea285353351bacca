/*
 * gen_main.c - the generated command-line trainer (bpc --main).
 *
 * With --main the generated C file ends with a main(), so that
 *     cc model.c -lbprt -lm -o model
 * gives a program that trains, evaluates, predicts and checks gradients from the command
 * line.  All of that lives in the runtime (runtime/trainer.c, bprt_trainer_main); what is
 * emitted here only describes the model to it: its sizes and loss, a table of each
 * layer's parameters, the header of its weight files, and wrappers of the generated
 * functions with void pointers in place of NAME_real pointers.  The wrappers convert
 * the pointers, not the functions: calling a function through a pointer of another type
 * is undefined behaviour.
 */
#include "bpc.h"

static void gen_wrappers(Emit *e, const Model *m)
{
    const char *N = m->name;
    emit_line(e, "/* The generated functions with void pointers, as bprt_trainer holds them;");
    emit_line(e, " * x, t and y are arrays of %s_real. */", N);
    emit_line(e, "static void %s_main_init(void *m, uint64_t seed)", N);
    emit_brace(e);
    emit_line(e, "%s_init(m, seed);", N);
    emit_close(e);
    emit_end(e);

    emit_line(e, "static void %s_main_forward(void *m, const void *x, void *y, int n)", N);
    emit_brace(e);
    emit_line(e, "%s_forward(m, x, y, n);", N);
    emit_close(e);
    emit_end(e);

    static const char *const returning_loss[] = {"loss", "backward", "train"};
    for (int i = 0; i < 3; i++) {
        const char *f = returning_loss[i];
        emit_line(e, "static double %s_main_%s(void *m, const void *x, const void *t, int n)", N, f);
        emit_brace(e);
        emit_line(e, "return %s_%s(m, x, t, n);", N, f);
        emit_close(e);
        emit_end(e);
    }

    emit_line(e, "static void %s_main_step(void *m)", N);
    emit_brace(e);
    emit_line(e, "%s_step(m);", N);
    emit_close(e);
    emit_end(e);

    emit_line(e, "static double *%s_main_lr(void *m)", N);
    emit_brace(e);
    emit_line(e, "return &((%s_model *)m)->lr;", N);
    emit_close(e);
    emit_end(e);

    emit_line(e, "/* The buffers of a checkpoint, as %s_checkpoint writes them, and the step "
                 "counter. */", N);
    emit_line(e, "static int64_t *%s_main_state(void *m, void **buffers)", N);
    emit_brace(e);
    emit_line(e, "%s_model *model = m;", N);
    emit_line(e, "buffers[0] = model->params;");
    for (int i = 0; i < opt_nstate(m); i++)
        emit_line(e, "buffers[%d] = model->%s;", i + 1, m->opt->state[i]);
    emit_line(e, "return &model->step;");
    emit_close(e);
    emit_end(e);

    static const char *const views[] = {"params", "grads"};
    for (int i = 0; i < 2; i++) {
        emit_line(e, "static void *%s_main_%s(void *m)", N, views[i]);
        emit_brace(e);
        emit_line(e, "return %s_%s(m);", N, views[i]);
        emit_close(e);
        emit_end(e);
    }
}

/* The layers with parameters: how many. */
static int count_param_layers(const Model *m)
{
    int n = 0;
    for (int i = 0; i < m->nnodes; i++)
        n += m->nodes[i].nparams > 0;
    return n;
}

/* Each layer's tensors, contiguous in the parameter buffer (ir.c's layout). */
static void gen_layer_table(Emit *e, const Model *m)
{
    emit_line(e, "/* Each layer's parameters (W then b) in %s_params, for gradcheck. */", m->name);
    emit_open(e, "static const bprt_layer_range %s_main_layers[%d] =", m->name,
              count_param_layers(m));
    for (int i = 0; i < m->nnodes; i++) {
        const Node *l = &m->nodes[i];
        if (!l->nparams)
            continue;
        char what[256], dims[64], size_expr[256];
        size_t len = 0, slen = 0;
        long size = 0;
        for (int k = 0; k < l->nparams && len < sizeof what; k++) {
            const Tensor *t = &l->params[k];
            if (t->offset != l->params[0].offset + size)
                internal_error(__FILE__, __LINE__, "layer '%s': its tensors are not contiguous",
                               l->label);
            size += t->size;
            tensor_format_dims(dims, sizeof dims, t);
            len += (size_t)snprintf(what + len, sizeof what - len, "%s%s %s", k ? ", " : "",
                                    t->name, dims);
            slen += (size_t)snprintf(size_expr + slen, sizeof size_expr - slen, "%s%s_%s_%s_size",
                                     k ? " + " : "", m->name, l->label, t->name);
        }
        emit_line(e, "{\"%s\", %s_%s_%s, %s}, /* %s */", l->label, m->name, l->label,
                  l->params[0].name, size_expr, what);
    }
    emit_close_with(e, ";");
    emit_end(e);
}

/* Emits the trainer: to be called after the API functions, at the end of the .c file. */
bool gen_main(Emit *e, const Model *m)
{
    const char *N = m->name, *U = m->upper;
    emit_line(e, "// ---- the command-line trainer (bpc --main): `%s --help` ----", N);
    emit_blank(e);
    gen_wrappers(e, m);
    gen_layer_table(e, m);

    emit_line(e, "int main(int argc, char **argv)");
    emit_brace(e);
    emit_line(e, "static %s_model model; /* static: it can be too large for the stack */", N);
    emit_line(e, "/* the trainer writes the weight files itself, with the standardization");
    emit_line(e, " * statistics, the shapes and the table that names the tensors */");
    emit_line(e, "bprt_file_info weights = %s_file_info(BPRT_FILE_WEIGHTS);", N);
    emit_line(e, "bprt_file_info checkpoint = %s_file_info(BPRT_FILE_CHECKPOINT);", N);
    emit_line(e, "static const char *const tensors[] = {%s_TENSORS, NULL};", U);
    emit_line(e, "weights.tensors = checkpoint.tensors = tensors;");
    emit_line(e, "weights.shape = checkpoint.shape = %s_SHAPE;", U);
    emit_open(e, "const bprt_trainer trainer =");
    emit_line(e, ".name = \"%s\",", N);
    emit_line(e, ".inputs = %s_INPUTS,", U);
    emit_line(e, ".outputs = %s_OUTPUTS,", U);
    emit_line(e, ".batch = %s_BATCH,", U);
    emit_line(e, ".nparams = %s_PARAMS,", U);
    emit_line(e, ".elem_size = (int)sizeof(%s_real),", N);
    emit_line(e, ".loss_name = \"%s\",", m->loss->op.name);
    emit_line(e, ".targets = %s,", m->loss->targets);
    emit_line(e, ".seed = %s_SEED,", U);
    emit_line(e, ".layers = %s_main_layers,", N);
    emit_line(e, ".nlayers = %d,", count_param_layers(m));
    emit_line(e, ".model = &model,");
    static const char *const fns[] = {"init", "forward", "loss", "backward", "train", "step",
                                      "params", "grads", "lr", "state"};
    for (size_t i = 0; i < sizeof fns / sizeof *fns; i++)
        emit_line(e, ".%s = %s_main_%s,", fns[i], N, fns[i]);
    emit_line(e, ".weights = weights,");
    emit_line(e, ".checkpoint = checkpoint,");
    emit_close_with(e, ";");
    emit_line(e, "return bprt_trainer_main(&trainer, argc, argv);");
    emit_close(e);
    emit_end(e);
    return !e->failed;
}
