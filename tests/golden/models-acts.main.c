// ---- the command-line trainer (bpc --main): `gacts --help` ----

/* The generated functions with void pointers, as bprt_trainer holds them;
 * x, t and y are arrays of gacts_real. */
static void gacts_main_init(void *m, uint64_t seed)
{
    gacts_init(m, seed);
}

static void gacts_main_forward(void *m, const void *x, void *y, int n)
{
    gacts_forward(m, x, y, n);
}

static double gacts_main_loss(void *m, const void *x, const void *t, int n)
{
    return gacts_loss(m, x, t, n);
}

static double gacts_main_backward(void *m, const void *x, const void *t, int n)
{
    return gacts_backward(m, x, t, n);
}

static double gacts_main_train(void *m, const void *x, const void *t, int n)
{
    return gacts_train(m, x, t, n);
}

static void gacts_main_step(void *m)
{
    gacts_step(m);
}

static double *gacts_main_lr(void *m)
{
    return &((gacts_model *)m)->lr;
}

/* The buffers of a checkpoint, as gacts_checkpoint writes them, and the step counter. */
static int64_t *gacts_main_state(void *m, void **buffers)
{
    gacts_model *model = m;
    buffers[0] = model->params;
    buffers[1] = model->momentum_buf;
    return &model->step;
}

static void *gacts_main_params(void *m)
{
    return gacts_params(m);
}

static void *gacts_main_grads(void *m)
{
    return gacts_grads(m);
}

/* Each layer's parameters (W then b) in gacts_params, for gradcheck. */
static const bprt_layer_range gacts_main_layers[4] = {
    {"a1", gacts_a1_W, gacts_a1_W_size + gacts_a1_b_size}, /* W [16][8], b [16] */
    {"a2", gacts_a2_W, gacts_a2_W_size + gacts_a2_b_size}, /* W [33][16], b [33] */
    {"a3", gacts_a3_W, gacts_a3_W_size + gacts_a3_b_size}, /* W [5][33], b [5] */
    {"out", gacts_out_W, gacts_out_W_size + gacts_out_b_size}, /* W [4][5], b [4] */
};

int main(int argc, char **argv)
{
    static gacts_model model; /* static: it can be too large for the stack */
    /* the trainer writes the weight files itself, with the standardization
     * statistics, the shapes and the table that names the tensors */
    bprt_file_info weights = gacts_file_info(BPRT_FILE_WEIGHTS);
    bprt_file_info checkpoint = gacts_file_info(BPRT_FILE_CHECKPOINT);
    static const char *const tensors[] = {GACTS_TENSORS, NULL};
    weights.tensors = checkpoint.tensors = tensors;
    weights.shape = checkpoint.shape = GACTS_SHAPE;
    const bprt_trainer trainer = {
        .name = "gacts",
        .inputs = GACTS_INPUTS,
        .outputs = GACTS_OUTPUTS,
        .batch = GACTS_BATCH,
        .nparams = GACTS_PARAMS,
        .elem_size = (int)sizeof(gacts_real),
        .loss_name = "huber",
        .targets = BPRT_TARGETS_VALUES,
        .seed = GACTS_SEED,
        .layers = gacts_main_layers,
        .nlayers = 4,
        .model = &model,
        .init = gacts_main_init,
        .forward = gacts_main_forward,
        .loss = gacts_main_loss,
        .backward = gacts_main_backward,
        .train = gacts_main_train,
        .step = gacts_main_step,
        .params = gacts_main_params,
        .grads = gacts_main_grads,
        .lr = gacts_main_lr,
        .state = gacts_main_state,
        .weights = weights,
        .checkpoint = checkpoint,
    };
    return bprt_trainer_main(&trainer, argc, argv);
}

