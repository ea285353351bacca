// ---- the command-line trainer (bpc --main): `xor --help` ----

/* The generated functions with void pointers, as bprt_trainer holds them;
 * x, t and y are arrays of xor_real. */
static void xor_main_init(void *m, uint64_t seed)
{
    xor_init(m, seed);
}

static void xor_main_forward(void *m, const void *x, void *y, int n)
{
    xor_forward(m, x, y, n);
}

static double xor_main_loss(void *m, const void *x, const void *t, int n)
{
    return xor_loss(m, x, t, n);
}

static double xor_main_backward(void *m, const void *x, const void *t, int n)
{
    return xor_backward(m, x, t, n);
}

static double xor_main_train(void *m, const void *x, const void *t, int n)
{
    return xor_train(m, x, t, n);
}

static void xor_main_step(void *m)
{
    xor_step(m);
}

static double *xor_main_lr(void *m)
{
    return &((xor_model *)m)->lr;
}

/* The buffers of a checkpoint, as xor_checkpoint writes them, and the step counter. */
static int64_t *xor_main_state(void *m, void **buffers)
{
    xor_model *model = m;
    buffers[0] = model->params;
    return &model->step;
}

static void *xor_main_params(void *m)
{
    return xor_params(m);
}

static void *xor_main_grads(void *m)
{
    return xor_grads(m);
}

/* Each layer's parameters (W then b) in xor_params, for gradcheck. */
static const bprt_layer_range xor_main_layers[2] = {
    {"hidden", xor_hidden_W, xor_hidden_W_size + xor_hidden_b_size}, /* W [4][2], b [4] */
    {"out", xor_out_W, xor_out_W_size + xor_out_b_size}, /* W [1][4], b [1] */
};

int main(int argc, char **argv)
{
    static xor_model model; /* static: it can be too large for the stack */
    /* the trainer writes the weight files itself, with the standardization
     * statistics, the shapes and the table that names the tensors */
    bprt_file_info weights = xor_file_info(BPRT_FILE_WEIGHTS);
    bprt_file_info checkpoint = xor_file_info(BPRT_FILE_CHECKPOINT);
    static const char *const tensors[] = {XOR_TENSORS, NULL};
    weights.tensors = checkpoint.tensors = tensors;
    weights.shape = checkpoint.shape = XOR_SHAPE;
    const bprt_trainer trainer = {
        .name = "xor",
        .inputs = XOR_INPUTS,
        .outputs = XOR_OUTPUTS,
        .batch = XOR_BATCH,
        .nparams = XOR_PARAMS,
        .elem_size = (int)sizeof(xor_real),
        .loss_name = "mse",
        .targets = BPRT_TARGETS_VALUES,
        .seed = XOR_SEED,
        .layers = xor_main_layers,
        .nlayers = 2,
        .model = &model,
        .init = xor_main_init,
        .forward = xor_main_forward,
        .loss = xor_main_loss,
        .backward = xor_main_backward,
        .train = xor_main_train,
        .step = xor_main_step,
        .params = xor_main_params,
        .grads = xor_main_grads,
        .lr = xor_main_lr,
        .state = xor_main_state,
        .weights = weights,
        .checkpoint = checkpoint,
    };
    return bprt_trainer_main(&trainer, argc, argv);
}

