// ---- the command-line trainer (bpc --main): `iris --help` ----

/* The generated functions with void pointers, as bprt_trainer holds them;
 * x, t and y are arrays of iris_real. */
static void iris_main_init(void *m, uint64_t seed)
{
    iris_init(m, seed);
}

static void iris_main_forward(void *m, const void *x, void *y, int n)
{
    iris_forward(m, x, y, n);
}

static double iris_main_loss(void *m, const void *x, const void *t, int n)
{
    return iris_loss(m, x, t, n);
}

static double iris_main_backward(void *m, const void *x, const void *t, int n)
{
    return iris_backward(m, x, t, n);
}

static double iris_main_train(void *m, const void *x, const void *t, int n)
{
    return iris_train(m, x, t, n);
}

static void iris_main_step(void *m)
{
    iris_step(m);
}

static double *iris_main_lr(void *m)
{
    return &((iris_model *)m)->lr;
}

/* The buffers of a checkpoint, as iris_checkpoint writes them, and the step counter. */
static int64_t *iris_main_state(void *m, void **buffers)
{
    iris_model *model = m;
    buffers[0] = model->params;
    buffers[1] = model->exp_avg;
    buffers[2] = model->exp_avg_sq;
    return &model->step;
}

static void *iris_main_params(void *m)
{
    return iris_params(m);
}

static void *iris_main_grads(void *m)
{
    return iris_grads(m);
}

/* Each layer's parameters (W then b) in iris_params, for gradcheck. */
static const bprt_layer_range iris_main_layers[2] = {
    {"hidden", iris_hidden_W, iris_hidden_W_size + iris_hidden_b_size}, /* W [16][4], b [16] */
    {"dense2", iris_dense2_W, iris_dense2_W_size + iris_dense2_b_size}, /* W [3][16], b [3] */
};

int main(int argc, char **argv)
{
    static iris_model model; /* static: it can be too large for the stack */
    /* the trainer writes the weight files itself, with the standardization
     * statistics, the shapes and the table that names the tensors */
    bprt_file_info weights = iris_file_info(BPRT_FILE_WEIGHTS);
    bprt_file_info checkpoint = iris_file_info(BPRT_FILE_CHECKPOINT);
    static const char *const tensors[] = {IRIS_TENSORS, NULL};
    weights.tensors = checkpoint.tensors = tensors;
    weights.shape = checkpoint.shape = IRIS_SHAPE;
    const bprt_trainer trainer = {
        .name = "iris",
        .inputs = IRIS_INPUTS,
        .outputs = IRIS_OUTPUTS,
        .batch = IRIS_BATCH,
        .nparams = IRIS_PARAMS,
        .elem_size = (int)sizeof(iris_real),
        .loss_name = "cross_entropy",
        .targets = BPRT_TARGETS_CLASSES,
        .seed = IRIS_SEED,
        .layers = iris_main_layers,
        .nlayers = 2,
        .model = &model,
        .init = iris_main_init,
        .forward = iris_main_forward,
        .loss = iris_main_loss,
        .backward = iris_main_backward,
        .train = iris_main_train,
        .step = iris_main_step,
        .params = iris_main_params,
        .grads = iris_main_grads,
        .lr = iris_main_lr,
        .state = iris_main_state,
        .weights = weights,
        .checkpoint = checkpoint,
    };
    return bprt_trainer_main(&trainer, argc, argv);
}

