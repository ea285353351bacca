// ---- the command-line trainer (bpc --main): `mlpinf --help` ----

/* The generated functions with void pointers, as bprt_trainer holds them;
 * x, t and y are arrays of mlpinf_real. */
static void mlpinf_main_init(void *m, uint64_t seed)
{
    mlpinf_init(m, seed);
}

static void mlpinf_main_forward(void *m, const void *x, void *y, int n)
{
    mlpinf_forward(m, x, y, n);
}

static double mlpinf_main_loss(void *m, const void *x, const void *t, int n)
{
    return mlpinf_loss(m, x, t, n);
}

static double mlpinf_main_backward(void *m, const void *x, const void *t, int n)
{
    return mlpinf_backward(m, x, t, n);
}

static double mlpinf_main_train(void *m, const void *x, const void *t, int n)
{
    return mlpinf_train(m, x, t, n);
}

static void mlpinf_main_step(void *m)
{
    mlpinf_step(m);
}

static double *mlpinf_main_lr(void *m)
{
    return &((mlpinf_model *)m)->lr;
}

/* The buffers of a checkpoint, as mlpinf_checkpoint writes them, and the step counter. */
static int64_t *mlpinf_main_state(void *m, void **buffers)
{
    mlpinf_model *model = m;
    buffers[0] = model->params;
    return &model->step;
}

static void *mlpinf_main_params(void *m)
{
    return mlpinf_params(m);
}

static void *mlpinf_main_grads(void *m)
{
    return mlpinf_grads(m);
}

/* Each layer's parameters (W then b) in mlpinf_params, for gradcheck. */
static const bprt_layer_range mlpinf_main_layers[2] = {
    {"hidden", mlpinf_hidden_W, mlpinf_hidden_W_size + mlpinf_hidden_b_size}, /* W [128][784], b [128] */
    {"out", mlpinf_out_W, mlpinf_out_W_size + mlpinf_out_b_size}, /* W [10][128], b [10] */
};

int main(int argc, char **argv)
{
    static mlpinf_model model; /* static: it can be too large for the stack */
    /* the trainer writes the weight files itself, with the standardization
     * statistics, the shapes and the table that names the tensors */
    bprt_file_info weights = mlpinf_file_info(BPRT_FILE_WEIGHTS);
    bprt_file_info checkpoint = mlpinf_file_info(BPRT_FILE_CHECKPOINT);
    static const char *const tensors[] = {MLPINF_TENSORS, NULL};
    weights.tensors = checkpoint.tensors = tensors;
    weights.shape = checkpoint.shape = MLPINF_SHAPE;
    const bprt_trainer trainer = {
        .name = "mlpinf",
        .inputs = MLPINF_INPUTS,
        .outputs = MLPINF_OUTPUTS,
        .batch = MLPINF_BATCH,
        .nparams = MLPINF_PARAMS,
        .elem_size = (int)sizeof(mlpinf_real),
        .loss_name = "cross_entropy",
        .targets = BPRT_TARGETS_CLASSES,
        .seed = MLPINF_SEED,
        .layers = mlpinf_main_layers,
        .nlayers = 2,
        .model = &model,
        .init = mlpinf_main_init,
        .forward = mlpinf_main_forward,
        .loss = mlpinf_main_loss,
        .backward = mlpinf_main_backward,
        .train = mlpinf_main_train,
        .step = mlpinf_main_step,
        .params = mlpinf_main_params,
        .grads = mlpinf_main_grads,
        .lr = mlpinf_main_lr,
        .state = mlpinf_main_state,
        .weights = weights,
        .checkpoint = checkpoint,
    };
    return bprt_trainer_main(&trainer, argc, argv);
}

