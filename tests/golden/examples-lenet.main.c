// ---- the command-line trainer (bpc --main): `lenet --help` ----

/* The generated functions with void pointers, as bprt_trainer holds them;
 * x, t and y are arrays of lenet_real. */
static void lenet_main_init(void *m, uint64_t seed)
{
    lenet_init(m, seed);
}

static void lenet_main_forward(void *m, const void *x, void *y, int n)
{
    lenet_forward(m, x, y, n);
}

static double lenet_main_loss(void *m, const void *x, const void *t, int n)
{
    return lenet_loss(m, x, t, n);
}

static double lenet_main_backward(void *m, const void *x, const void *t, int n)
{
    return lenet_backward(m, x, t, n);
}

static double lenet_main_train(void *m, const void *x, const void *t, int n)
{
    return lenet_train(m, x, t, n);
}

static void lenet_main_step(void *m)
{
    lenet_step(m);
}

static double *lenet_main_lr(void *m)
{
    return &((lenet_model *)m)->lr;
}

/* The buffers of a checkpoint, as lenet_checkpoint writes them, and the step counter. */
static int64_t *lenet_main_state(void *m, void **buffers)
{
    lenet_model *model = m;
    buffers[0] = model->params;
    buffers[1] = model->momentum_buf;
    return &model->step;
}

static void *lenet_main_params(void *m)
{
    return lenet_params(m);
}

static void *lenet_main_grads(void *m)
{
    return lenet_grads(m);
}

/* Each layer's parameters (W then b) in lenet_params, for gradcheck. */
static const bprt_layer_range lenet_main_layers[5] = {
    {"c1", lenet_c1_W, lenet_c1_W_size + lenet_c1_b_size}, /* W [6][1][5][5], b [6] */
    {"c2", lenet_c2_W, lenet_c2_W_size + lenet_c2_b_size}, /* W [16][6][5][5], b [16] */
    {"dense6", lenet_dense6_W, lenet_dense6_W_size + lenet_dense6_b_size}, /* W [120][400], b [120] */
    {"dense7", lenet_dense7_W, lenet_dense7_W_size + lenet_dense7_b_size}, /* W [84][120], b [84] */
    {"dense8", lenet_dense8_W, lenet_dense8_W_size + lenet_dense8_b_size}, /* W [10][84], b [10] */
};

int main(int argc, char **argv)
{
    static lenet_model model; /* static: it can be too large for the stack */
    /* the trainer writes the weight files itself, with the standardization
     * statistics, the shapes and the table that names the tensors */
    bprt_file_info weights = lenet_file_info(BPRT_FILE_WEIGHTS);
    bprt_file_info checkpoint = lenet_file_info(BPRT_FILE_CHECKPOINT);
    static const char *const tensors[] = {LENET_TENSORS, NULL};
    weights.tensors = checkpoint.tensors = tensors;
    weights.shape = checkpoint.shape = LENET_SHAPE;
    const bprt_trainer trainer = {
        .name = "lenet",
        .inputs = LENET_INPUTS,
        .outputs = LENET_OUTPUTS,
        .batch = LENET_BATCH,
        .nparams = LENET_PARAMS,
        .elem_size = (int)sizeof(lenet_real),
        .loss_name = "cross_entropy",
        .targets = BPRT_TARGETS_CLASSES,
        .seed = LENET_SEED,
        .layers = lenet_main_layers,
        .nlayers = 5,
        .model = &model,
        .init = lenet_main_init,
        .forward = lenet_main_forward,
        .loss = lenet_main_loss,
        .backward = lenet_main_backward,
        .train = lenet_main_train,
        .step = lenet_main_step,
        .params = lenet_main_params,
        .grads = lenet_main_grads,
        .lr = lenet_main_lr,
        .state = lenet_main_state,
        .weights = weights,
        .checkpoint = checkpoint,
    };
    return bprt_trainer_main(&trainer, argc, argv);
}

