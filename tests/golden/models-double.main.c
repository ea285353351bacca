// ---- the command-line trainer (bpc --main): `gdouble --help` ----

/* The generated functions with void pointers, as bprt_trainer holds them;
 * x, t and y are arrays of gdouble_real. */
static void gdouble_main_init(void *m, uint64_t seed)
{
    gdouble_init(m, seed);
}

static void gdouble_main_forward(void *m, const void *x, void *y, int n)
{
    gdouble_forward(m, x, y, n);
}

static double gdouble_main_loss(void *m, const void *x, const void *t, int n)
{
    return gdouble_loss(m, x, t, n);
}

static double gdouble_main_backward(void *m, const void *x, const void *t, int n)
{
    return gdouble_backward(m, x, t, n);
}

static double gdouble_main_train(void *m, const void *x, const void *t, int n)
{
    return gdouble_train(m, x, t, n);
}

static void gdouble_main_step(void *m)
{
    gdouble_step(m);
}

static double *gdouble_main_lr(void *m)
{
    return &((gdouble_model *)m)->lr;
}

/* The buffers of a checkpoint, as gdouble_checkpoint writes them, and the step counter. */
static int64_t *gdouble_main_state(void *m, void **buffers)
{
    gdouble_model *model = m;
    buffers[0] = model->params;
    buffers[1] = model->exp_avg;
    buffers[2] = model->exp_avg_sq;
    return &model->step;
}

static void *gdouble_main_params(void *m)
{
    return gdouble_params(m);
}

static void *gdouble_main_grads(void *m)
{
    return gdouble_grads(m);
}

/* Each layer's parameters (W then b) in gdouble_params, for gradcheck. */
static const bprt_layer_range gdouble_main_layers[4] = {
    {"dense1", gdouble_dense1_W, gdouble_dense1_W_size + gdouble_dense1_b_size}, /* W [12][20], b [12] */
    {"dense2", gdouble_dense2_W, gdouble_dense2_W_size + gdouble_dense2_b_size}, /* W [9][12], b [9] */
    {"dense3", gdouble_dense3_W, gdouble_dense3_W_size + gdouble_dense3_b_size}, /* W [7][9], b [7] */
    {"dense4", gdouble_dense4_W, gdouble_dense4_W_size + gdouble_dense4_b_size}, /* W [3][7], b [3] */
};

int main(int argc, char **argv)
{
    static gdouble_model model; /* static: it can be too large for the stack */
    /* the trainer writes the weight files itself, with the standardization
     * statistics, the shapes and the table that names the tensors */
    bprt_file_info weights = gdouble_file_info(BPRT_FILE_WEIGHTS);
    bprt_file_info checkpoint = gdouble_file_info(BPRT_FILE_CHECKPOINT);
    static const char *const tensors[] = {GDOUBLE_TENSORS, NULL};
    weights.tensors = checkpoint.tensors = tensors;
    weights.shape = checkpoint.shape = GDOUBLE_SHAPE;
    const bprt_trainer trainer = {
        .name = "gdouble",
        .inputs = GDOUBLE_INPUTS,
        .outputs = GDOUBLE_OUTPUTS,
        .batch = GDOUBLE_BATCH,
        .nparams = GDOUBLE_PARAMS,
        .elem_size = (int)sizeof(gdouble_real),
        .loss_name = "mse",
        .targets = BPRT_TARGETS_VALUES,
        .seed = GDOUBLE_SEED,
        .layers = gdouble_main_layers,
        .nlayers = 4,
        .model = &model,
        .init = gdouble_main_init,
        .forward = gdouble_main_forward,
        .loss = gdouble_main_loss,
        .backward = gdouble_main_backward,
        .train = gdouble_main_train,
        .step = gdouble_main_step,
        .params = gdouble_main_params,
        .grads = gdouble_main_grads,
        .lr = gdouble_main_lr,
        .state = gdouble_main_state,
        .weights = weights,
        .checkpoint = checkpoint,
    };
    return bprt_trainer_main(&trainer, argc, argv);
}

