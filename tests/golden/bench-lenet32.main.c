// ---- the command-line trainer (bpc --main): `lenet32 --help` ----

/* The generated functions with void pointers, as bprt_trainer holds them;
 * x, t and y are arrays of lenet32_real. */
static void lenet32_main_init(void *m, uint64_t seed)
{
    lenet32_init(m, seed);
}

static void lenet32_main_forward(void *m, const void *x, void *y, int n)
{
    lenet32_forward(m, x, y, n);
}

static double lenet32_main_loss(void *m, const void *x, const void *t, int n)
{
    return lenet32_loss(m, x, t, n);
}

static double lenet32_main_backward(void *m, const void *x, const void *t, int n)
{
    return lenet32_backward(m, x, t, n);
}

static double lenet32_main_train(void *m, const void *x, const void *t, int n)
{
    return lenet32_train(m, x, t, n);
}

static void lenet32_main_step(void *m)
{
    lenet32_step(m);
}

static double *lenet32_main_lr(void *m)
{
    return &((lenet32_model *)m)->lr;
}

/* The buffers of a checkpoint, as lenet32_checkpoint writes them, and the step counter. */
static int64_t *lenet32_main_state(void *m, void **buffers)
{
    lenet32_model *model = m;
    buffers[0] = model->params;
    buffers[1] = model->momentum_buf;
    return &model->step;
}

static void *lenet32_main_params(void *m)
{
    return lenet32_params(m);
}

static void *lenet32_main_grads(void *m)
{
    return lenet32_grads(m);
}

/* Each layer's parameters (W then b) in lenet32_params, for gradcheck. */
static const bprt_layer_range lenet32_main_layers[5] = {
    {"c1", lenet32_c1_W, lenet32_c1_W_size + lenet32_c1_b_size}, /* W [6][1][5][5], b [6] */
    {"c2", lenet32_c2_W, lenet32_c2_W_size + lenet32_c2_b_size}, /* W [16][6][5][5], b [16] */
    {"dense6", lenet32_dense6_W, lenet32_dense6_W_size + lenet32_dense6_b_size}, /* W [120][400], b [120] */
    {"dense7", lenet32_dense7_W, lenet32_dense7_W_size + lenet32_dense7_b_size}, /* W [84][120], b [84] */
    {"dense8", lenet32_dense8_W, lenet32_dense8_W_size + lenet32_dense8_b_size}, /* W [10][84], b [10] */
};

int main(int argc, char **argv)
{
    static lenet32_model model; /* static: it can be too large for the stack */
    /* the trainer writes the weight files itself, with the standardization
     * statistics, the shapes and the table that names the tensors */
    bprt_file_info weights = lenet32_file_info(BPRT_FILE_WEIGHTS);
    bprt_file_info checkpoint = lenet32_file_info(BPRT_FILE_CHECKPOINT);
    static const char *const tensors[] = {LENET32_TENSORS, NULL};
    weights.tensors = checkpoint.tensors = tensors;
    weights.shape = checkpoint.shape = LENET32_SHAPE;
    const bprt_trainer trainer = {
        .name = "lenet32",
        .inputs = LENET32_INPUTS,
        .outputs = LENET32_OUTPUTS,
        .batch = LENET32_BATCH,
        .nparams = LENET32_PARAMS,
        .elem_size = (int)sizeof(lenet32_real),
        .loss_name = "cross_entropy",
        .targets = BPRT_TARGETS_CLASSES,
        .seed = LENET32_SEED,
        .layers = lenet32_main_layers,
        .nlayers = 5,
        .model = &model,
        .init = lenet32_main_init,
        .forward = lenet32_main_forward,
        .loss = lenet32_main_loss,
        .backward = lenet32_main_backward,
        .train = lenet32_main_train,
        .step = lenet32_main_step,
        .params = lenet32_main_params,
        .grads = lenet32_main_grads,
        .lr = lenet32_main_lr,
        .state = lenet32_main_state,
        .weights = weights,
        .checkpoint = checkpoint,
    };
    return bprt_trainer_main(&trainer, argc, argv);
}

