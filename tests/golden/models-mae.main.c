// ---- the command-line trainer (bpc --main): `gmae --help` ----

/* The generated functions with void pointers, as bprt_trainer holds them;
 * x, t and y are arrays of gmae_real. */
static void gmae_main_init(void *m, uint64_t seed)
{
    gmae_init(m, seed);
}

static void gmae_main_forward(void *m, const void *x, void *y, int n)
{
    gmae_forward(m, x, y, n);
}

static double gmae_main_loss(void *m, const void *x, const void *t, int n)
{
    return gmae_loss(m, x, t, n);
}

static double gmae_main_backward(void *m, const void *x, const void *t, int n)
{
    return gmae_backward(m, x, t, n);
}

static double gmae_main_train(void *m, const void *x, const void *t, int n)
{
    return gmae_train(m, x, t, n);
}

static void gmae_main_step(void *m)
{
    gmae_step(m);
}

static double *gmae_main_lr(void *m)
{
    return &((gmae_model *)m)->lr;
}

/* The buffers of a checkpoint, as gmae_checkpoint writes them, and the step counter. */
static int64_t *gmae_main_state(void *m, void **buffers)
{
    gmae_model *model = m;
    buffers[0] = model->params;
    buffers[1] = model->exp_avg;
    buffers[2] = model->exp_avg_sq;
    return &model->step;
}

static void *gmae_main_params(void *m)
{
    return gmae_params(m);
}

static void *gmae_main_grads(void *m)
{
    return gmae_grads(m);
}

/* Each layer's parameters (W then b) in gmae_params, for gradcheck. */
static const bprt_layer_range gmae_main_layers[2] = {
    {"s", gmae_s_W, gmae_s_W_size + gmae_s_b_size}, /* W [6][3], b [6] */
    {"dense2", gmae_dense2_W, gmae_dense2_W_size + gmae_dense2_b_size}, /* W [2][6], b [2] */
};

int main(int argc, char **argv)
{
    static gmae_model model; /* static: it can be too large for the stack */
    /* the trainer writes the weight files itself, with the standardization
     * statistics, the shapes and the table that names the tensors */
    bprt_file_info weights = gmae_file_info(BPRT_FILE_WEIGHTS);
    bprt_file_info checkpoint = gmae_file_info(BPRT_FILE_CHECKPOINT);
    static const char *const tensors[] = {GMAE_TENSORS, NULL};
    weights.tensors = checkpoint.tensors = tensors;
    weights.shape = checkpoint.shape = GMAE_SHAPE;
    const bprt_trainer trainer = {
        .name = "gmae",
        .inputs = GMAE_INPUTS,
        .outputs = GMAE_OUTPUTS,
        .batch = GMAE_BATCH,
        .nparams = GMAE_PARAMS,
        .elem_size = (int)sizeof(gmae_real),
        .loss_name = "mae",
        .targets = BPRT_TARGETS_VALUES,
        .seed = GMAE_SEED,
        .layers = gmae_main_layers,
        .nlayers = 2,
        .model = &model,
        .init = gmae_main_init,
        .forward = gmae_main_forward,
        .loss = gmae_main_loss,
        .backward = gmae_main_backward,
        .train = gmae_main_train,
        .step = gmae_main_step,
        .params = gmae_main_params,
        .grads = gmae_main_grads,
        .lr = gmae_main_lr,
        .state = gmae_main_state,
        .weights = weights,
        .checkpoint = checkpoint,
    };
    return bprt_trainer_main(&trainer, argc, argv);
}

