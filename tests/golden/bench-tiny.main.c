// ---- the command-line trainer (bpc --main): `tiny --help` ----

/* The generated functions with void pointers, as bprt_trainer holds them;
 * x, t and y are arrays of tiny_real. */
static void tiny_main_init(void *m, uint64_t seed)
{
    tiny_init(m, seed);
}

static void tiny_main_forward(void *m, const void *x, void *y, int n)
{
    tiny_forward(m, x, y, n);
}

static double tiny_main_loss(void *m, const void *x, const void *t, int n)
{
    return tiny_loss(m, x, t, n);
}

static double tiny_main_backward(void *m, const void *x, const void *t, int n)
{
    return tiny_backward(m, x, t, n);
}

static double tiny_main_train(void *m, const void *x, const void *t, int n)
{
    return tiny_train(m, x, t, n);
}

static void tiny_main_step(void *m)
{
    tiny_step(m);
}

static double *tiny_main_lr(void *m)
{
    return &((tiny_model *)m)->lr;
}

/* The buffers of a checkpoint, as tiny_checkpoint writes them, and the step counter. */
static int64_t *tiny_main_state(void *m, void **buffers)
{
    tiny_model *model = m;
    buffers[0] = model->params;
    return &model->step;
}

static void *tiny_main_params(void *m)
{
    return tiny_params(m);
}

static void *tiny_main_grads(void *m)
{
    return tiny_grads(m);
}

/* Each layer's parameters (W then b) in tiny_params, for gradcheck. */
static const bprt_layer_range tiny_main_layers[2] = {
    {"hidden", tiny_hidden_W, tiny_hidden_W_size + tiny_hidden_b_size}, /* W [16][4], b [16] */
    {"out", tiny_out_W, tiny_out_W_size + tiny_out_b_size}, /* W [3][16], b [3] */
};

int main(int argc, char **argv)
{
    static tiny_model model; /* static: it can be too large for the stack */
    /* the trainer writes the weight files itself, with the standardization
     * statistics, the shapes and the table that names the tensors */
    bprt_file_info weights = tiny_file_info(BPRT_FILE_WEIGHTS);
    bprt_file_info checkpoint = tiny_file_info(BPRT_FILE_CHECKPOINT);
    static const char *const tensors[] = {TINY_TENSORS, NULL};
    weights.tensors = checkpoint.tensors = tensors;
    weights.shape = checkpoint.shape = TINY_SHAPE;
    const bprt_trainer trainer = {
        .name = "tiny",
        .inputs = TINY_INPUTS,
        .outputs = TINY_OUTPUTS,
        .batch = TINY_BATCH,
        .nparams = TINY_PARAMS,
        .elem_size = (int)sizeof(tiny_real),
        .loss_name = "cross_entropy",
        .targets = BPRT_TARGETS_CLASSES,
        .seed = TINY_SEED,
        .layers = tiny_main_layers,
        .nlayers = 2,
        .model = &model,
        .init = tiny_main_init,
        .forward = tiny_main_forward,
        .loss = tiny_main_loss,
        .backward = tiny_main_backward,
        .train = tiny_main_train,
        .step = tiny_main_step,
        .params = tiny_main_params,
        .grads = tiny_main_grads,
        .lr = tiny_main_lr,
        .state = tiny_main_state,
        .weights = weights,
        .checkpoint = checkpoint,
    };
    return bprt_trainer_main(&trainer, argc, argv);
}

