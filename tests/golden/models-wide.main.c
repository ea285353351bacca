// ---- the command-line trainer (bpc --main): `gwide --help` ----

/* The generated functions with void pointers, as bprt_trainer holds them;
 * x, t and y are arrays of gwide_real. */
static void gwide_main_init(void *m, uint64_t seed)
{
    gwide_init(m, seed);
}

static void gwide_main_forward(void *m, const void *x, void *y, int n)
{
    gwide_forward(m, x, y, n);
}

static double gwide_main_loss(void *m, const void *x, const void *t, int n)
{
    return gwide_loss(m, x, t, n);
}

static double gwide_main_backward(void *m, const void *x, const void *t, int n)
{
    return gwide_backward(m, x, t, n);
}

static double gwide_main_train(void *m, const void *x, const void *t, int n)
{
    return gwide_train(m, x, t, n);
}

static void gwide_main_step(void *m)
{
    gwide_step(m);
}

static double *gwide_main_lr(void *m)
{
    return &((gwide_model *)m)->lr;
}

/* The buffers of a checkpoint, as gwide_checkpoint writes them, and the step counter. */
static int64_t *gwide_main_state(void *m, void **buffers)
{
    gwide_model *model = m;
    buffers[0] = model->params;
    return &model->step;
}

static void *gwide_main_params(void *m)
{
    return gwide_params(m);
}

static void *gwide_main_grads(void *m)
{
    return gwide_grads(m);
}

/* Each layer's parameters (W then b) in gwide_params, for gradcheck. */
static const bprt_layer_range gwide_main_layers[3] = {
    {"h", gwide_h_W, gwide_h_W_size + gwide_h_b_size}, /* W [45][37], b [45] */
    {"g", gwide_g_W, gwide_g_W_size + gwide_g_b_size}, /* W [11][45], b [11] */
    {"dense3", gwide_dense3_W, gwide_dense3_W_size + gwide_dense3_b_size}, /* W [1][11], b [1] */
};

int main(int argc, char **argv)
{
    static gwide_model model; /* static: it can be too large for the stack */
    /* the trainer writes the weight files itself, with the standardization
     * statistics, the shapes and the table that names the tensors */
    bprt_file_info weights = gwide_file_info(BPRT_FILE_WEIGHTS);
    bprt_file_info checkpoint = gwide_file_info(BPRT_FILE_CHECKPOINT);
    static const char *const tensors[] = {GWIDE_TENSORS, NULL};
    weights.tensors = checkpoint.tensors = tensors;
    weights.shape = checkpoint.shape = GWIDE_SHAPE;
    const bprt_trainer trainer = {
        .name = "gwide",
        .inputs = GWIDE_INPUTS,
        .outputs = GWIDE_OUTPUTS,
        .batch = GWIDE_BATCH,
        .nparams = GWIDE_PARAMS,
        .elem_size = (int)sizeof(gwide_real),
        .loss_name = "binary_cross_entropy",
        .targets = BPRT_TARGETS_BINARY,
        .seed = GWIDE_SEED,
        .layers = gwide_main_layers,
        .nlayers = 3,
        .model = &model,
        .init = gwide_main_init,
        .forward = gwide_main_forward,
        .loss = gwide_main_loss,
        .backward = gwide_main_backward,
        .train = gwide_main_train,
        .step = gwide_main_step,
        .params = gwide_main_params,
        .grads = gwide_main_grads,
        .lr = gwide_main_lr,
        .state = gwide_main_state,
        .weights = weights,
        .checkpoint = checkpoint,
    };
    return bprt_trainer_main(&trainer, argc, argv);
}

