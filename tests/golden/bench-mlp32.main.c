// ---- the command-line trainer (bpc --main): `mlp32 --help` ----

/* The generated functions with void pointers, as bprt_trainer holds them;
 * x, t and y are arrays of mlp32_real. */
static void mlp32_main_init(void *m, uint64_t seed)
{
    mlp32_init(m, seed);
}

static void mlp32_main_forward(void *m, const void *x, void *y, int n)
{
    mlp32_forward(m, x, y, n);
}

static double mlp32_main_loss(void *m, const void *x, const void *t, int n)
{
    return mlp32_loss(m, x, t, n);
}

static double mlp32_main_backward(void *m, const void *x, const void *t, int n)
{
    return mlp32_backward(m, x, t, n);
}

static double mlp32_main_train(void *m, const void *x, const void *t, int n)
{
    return mlp32_train(m, x, t, n);
}

static void mlp32_main_step(void *m)
{
    mlp32_step(m);
}

static double *mlp32_main_lr(void *m)
{
    return &((mlp32_model *)m)->lr;
}

/* The buffers of a checkpoint, as mlp32_checkpoint writes them, and the step counter. */
static int64_t *mlp32_main_state(void *m, void **buffers)
{
    mlp32_model *model = m;
    buffers[0] = model->params;
    buffers[1] = model->momentum_buf;
    return &model->step;
}

static void *mlp32_main_params(void *m)
{
    return mlp32_params(m);
}

static void *mlp32_main_grads(void *m)
{
    return mlp32_grads(m);
}

/* Each layer's parameters (W then b) in mlp32_params, for gradcheck. */
static const bprt_layer_range mlp32_main_layers[2] = {
    {"hidden", mlp32_hidden_W, mlp32_hidden_W_size + mlp32_hidden_b_size}, /* W [128][784], b [128] */
    {"out", mlp32_out_W, mlp32_out_W_size + mlp32_out_b_size}, /* W [10][128], b [10] */
};

int main(int argc, char **argv)
{
    static mlp32_model model; /* static: it can be too large for the stack */
    /* the trainer writes the weight files itself, with the standardization
     * statistics, the shapes and the table that names the tensors */
    bprt_file_info weights = mlp32_file_info(BPRT_FILE_WEIGHTS);
    bprt_file_info checkpoint = mlp32_file_info(BPRT_FILE_CHECKPOINT);
    static const char *const tensors[] = {MLP32_TENSORS, NULL};
    weights.tensors = checkpoint.tensors = tensors;
    weights.shape = checkpoint.shape = MLP32_SHAPE;
    const bprt_trainer trainer = {
        .name = "mlp32",
        .inputs = MLP32_INPUTS,
        .outputs = MLP32_OUTPUTS,
        .batch = MLP32_BATCH,
        .nparams = MLP32_PARAMS,
        .elem_size = (int)sizeof(mlp32_real),
        .loss_name = "cross_entropy",
        .targets = BPRT_TARGETS_CLASSES,
        .seed = MLP32_SEED,
        .layers = mlp32_main_layers,
        .nlayers = 2,
        .model = &model,
        .init = mlp32_main_init,
        .forward = mlp32_main_forward,
        .loss = mlp32_main_loss,
        .backward = mlp32_main_backward,
        .train = mlp32_main_train,
        .step = mlp32_main_step,
        .params = mlp32_main_params,
        .grads = mlp32_main_grads,
        .lr = mlp32_main_lr,
        .state = mlp32_main_state,
        .weights = weights,
        .checkpoint = checkpoint,
    };
    return bprt_trainer_main(&trainer, argc, argv);
}

