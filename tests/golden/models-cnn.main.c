// ---- the command-line trainer (bpc --main): `gcnn --help` ----

/* The generated functions with void pointers, as bprt_trainer holds them;
 * x, t and y are arrays of gcnn_real. */
static void gcnn_main_init(void *m, uint64_t seed)
{
    gcnn_init(m, seed);
}

static void gcnn_main_forward(void *m, const void *x, void *y, int n)
{
    gcnn_forward(m, x, y, n);
}

static double gcnn_main_loss(void *m, const void *x, const void *t, int n)
{
    return gcnn_loss(m, x, t, n);
}

static double gcnn_main_backward(void *m, const void *x, const void *t, int n)
{
    return gcnn_backward(m, x, t, n);
}

static double gcnn_main_train(void *m, const void *x, const void *t, int n)
{
    return gcnn_train(m, x, t, n);
}

static void gcnn_main_step(void *m)
{
    gcnn_step(m);
}

static double *gcnn_main_lr(void *m)
{
    return &((gcnn_model *)m)->lr;
}

/* The buffers of a checkpoint, as gcnn_checkpoint writes them, and the step counter. */
static int64_t *gcnn_main_state(void *m, void **buffers)
{
    gcnn_model *model = m;
    buffers[0] = model->params;
    buffers[1] = model->exp_avg;
    buffers[2] = model->exp_avg_sq;
    return &model->step;
}

static void *gcnn_main_params(void *m)
{
    return gcnn_params(m);
}

static void *gcnn_main_grads(void *m)
{
    return gcnn_grads(m);
}

/* Each layer's parameters (W then b) in gcnn_params, for gradcheck. */
static const bprt_layer_range gcnn_main_layers[6] = {
    {"c1", gcnn_c1_W, gcnn_c1_W_size + gcnn_c1_b_size}, /* W [4][4][3][3], b [4] */
    {"c2", gcnn_c2_W, gcnn_c2_W_size + gcnn_c2_b_size}, /* W [4][4][3][3], b [4] */
    {"h1", gcnn_h1_W, gcnn_h1_W_size + gcnn_h1_b_size}, /* W [40][48], b [40] */
    {"h2", gcnn_h2_W, gcnn_h2_W_size + gcnn_h2_b_size}, /* W [40][40], b [40] */
    {"h3", gcnn_h3_W, gcnn_h3_W_size + gcnn_h3_b_size}, /* W [40][40], b [40] */
    {"dense8", gcnn_dense8_W, gcnn_dense8_W_size + gcnn_dense8_b_size}, /* W [3][40], b [3] */
};

int main(int argc, char **argv)
{
    static gcnn_model model; /* static: it can be too large for the stack */
    /* the trainer writes the weight files itself, with the standardization
     * statistics, the shapes and the table that names the tensors */
    bprt_file_info weights = gcnn_file_info(BPRT_FILE_WEIGHTS);
    bprt_file_info checkpoint = gcnn_file_info(BPRT_FILE_CHECKPOINT);
    static const char *const tensors[] = {GCNN_TENSORS, NULL};
    weights.tensors = checkpoint.tensors = tensors;
    weights.shape = checkpoint.shape = GCNN_SHAPE;
    const bprt_trainer trainer = {
        .name = "gcnn",
        .inputs = GCNN_INPUTS,
        .outputs = GCNN_OUTPUTS,
        .batch = GCNN_BATCH,
        .nparams = GCNN_PARAMS,
        .elem_size = (int)sizeof(gcnn_real),
        .loss_name = "cross_entropy",
        .targets = BPRT_TARGETS_CLASSES,
        .seed = GCNN_SEED,
        .layers = gcnn_main_layers,
        .nlayers = 6,
        .model = &model,
        .init = gcnn_main_init,
        .forward = gcnn_main_forward,
        .loss = gcnn_main_loss,
        .backward = gcnn_main_backward,
        .train = gcnn_main_train,
        .step = gcnn_main_step,
        .params = gcnn_main_params,
        .grads = gcnn_main_grads,
        .lr = gcnn_main_lr,
        .state = gcnn_main_state,
        .weights = weights,
        .checkpoint = checkpoint,
    };
    return bprt_trainer_main(&trainer, argc, argv);
}

