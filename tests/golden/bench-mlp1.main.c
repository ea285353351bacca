// ---- the command-line trainer (bpc --main): `mlp1 --help` ----

/* The generated functions with void pointers, as bprt_trainer holds them;
 * x, t and y are arrays of mlp1_real. */
static void mlp1_main_init(void *m, uint64_t seed)
{
    mlp1_init(m, seed);
}

static void mlp1_main_forward(void *m, const void *x, void *y, int n)
{
    mlp1_forward(m, x, y, n);
}

static double mlp1_main_loss(void *m, const void *x, const void *t, int n)
{
    return mlp1_loss(m, x, t, n);
}

static double mlp1_main_backward(void *m, const void *x, const void *t, int n)
{
    return mlp1_backward(m, x, t, n);
}

static double mlp1_main_train(void *m, const void *x, const void *t, int n)
{
    return mlp1_train(m, x, t, n);
}

static void mlp1_main_step(void *m)
{
    mlp1_step(m);
}

static double *mlp1_main_lr(void *m)
{
    return &((mlp1_model *)m)->lr;
}

/* The buffers of a checkpoint, as mlp1_checkpoint writes them, and the step counter. */
static int64_t *mlp1_main_state(void *m, void **buffers)
{
    mlp1_model *model = m;
    buffers[0] = model->params;
    return &model->step;
}

static void *mlp1_main_params(void *m)
{
    return mlp1_params(m);
}

static void *mlp1_main_grads(void *m)
{
    return mlp1_grads(m);
}

/* Each layer's parameters (W then b) in mlp1_params, for gradcheck. */
static const bprt_layer_range mlp1_main_layers[2] = {
    {"hidden", mlp1_hidden_W, mlp1_hidden_W_size + mlp1_hidden_b_size}, /* W [128][784], b [128] */
    {"out", mlp1_out_W, mlp1_out_W_size + mlp1_out_b_size}, /* W [10][128], b [10] */
};

int main(int argc, char **argv)
{
    static mlp1_model model; /* static: it can be too large for the stack */
    /* the trainer writes the weight files itself, with the standardization
     * statistics, the shapes and the table that names the tensors */
    bprt_file_info weights = mlp1_file_info(BPRT_FILE_WEIGHTS);
    bprt_file_info checkpoint = mlp1_file_info(BPRT_FILE_CHECKPOINT);
    static const char *const tensors[] = {MLP1_TENSORS, NULL};
    weights.tensors = checkpoint.tensors = tensors;
    weights.shape = checkpoint.shape = MLP1_SHAPE;
    const bprt_trainer trainer = {
        .name = "mlp1",
        .inputs = MLP1_INPUTS,
        .outputs = MLP1_OUTPUTS,
        .batch = MLP1_BATCH,
        .nparams = MLP1_PARAMS,
        .elem_size = (int)sizeof(mlp1_real),
        .loss_name = "cross_entropy",
        .targets = BPRT_TARGETS_CLASSES,
        .seed = MLP1_SEED,
        .layers = mlp1_main_layers,
        .nlayers = 2,
        .model = &model,
        .init = mlp1_main_init,
        .forward = mlp1_main_forward,
        .loss = mlp1_main_loss,
        .backward = mlp1_main_backward,
        .train = mlp1_main_train,
        .step = mlp1_main_step,
        .params = mlp1_main_params,
        .grads = mlp1_main_grads,
        .lr = mlp1_main_lr,
        .state = mlp1_main_state,
        .weights = weights,
        .checkpoint = checkpoint,
    };
    return bprt_trainer_main(&trainer, argc, argv);
}

