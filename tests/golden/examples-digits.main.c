// ---- the command-line trainer (bpc --main): `digits --help` ----

/* The generated functions with void pointers, as bprt_trainer holds them;
 * x, t and y are arrays of digits_real. */
static void digits_main_init(void *m, uint64_t seed)
{
    digits_init(m, seed);
}

static void digits_main_forward(void *m, const void *x, void *y, int n)
{
    digits_forward(m, x, y, n);
}

static double digits_main_loss(void *m, const void *x, const void *t, int n)
{
    return digits_loss(m, x, t, n);
}

static double digits_main_backward(void *m, const void *x, const void *t, int n)
{
    return digits_backward(m, x, t, n);
}

static double digits_main_train(void *m, const void *x, const void *t, int n)
{
    return digits_train(m, x, t, n);
}

static void digits_main_step(void *m)
{
    digits_step(m);
}

static double *digits_main_lr(void *m)
{
    return &((digits_model *)m)->lr;
}

/* The buffers of a checkpoint, as digits_checkpoint writes them, and the step counter. */
static int64_t *digits_main_state(void *m, void **buffers)
{
    digits_model *model = m;
    buffers[0] = model->params;
    buffers[1] = model->exp_avg;
    buffers[2] = model->exp_avg_sq;
    return &model->step;
}

static void *digits_main_params(void *m)
{
    return digits_params(m);
}

static void *digits_main_grads(void *m)
{
    return digits_grads(m);
}

/* Each layer's parameters (W then b) in digits_params, for gradcheck. */
static const bprt_layer_range digits_main_layers[2] = {
    {"hidden", digits_hidden_W, digits_hidden_W_size + digits_hidden_b_size}, /* W [64][64], b [64] */
    {"dense2", digits_dense2_W, digits_dense2_W_size + digits_dense2_b_size}, /* W [10][64], b [10] */
};

int main(int argc, char **argv)
{
    static digits_model model; /* static: it can be too large for the stack */
    /* the trainer writes the weight files itself, with the standardization
     * statistics, the shapes and the table that names the tensors */
    bprt_file_info weights = digits_file_info(BPRT_FILE_WEIGHTS);
    bprt_file_info checkpoint = digits_file_info(BPRT_FILE_CHECKPOINT);
    static const char *const tensors[] = {DIGITS_TENSORS, NULL};
    weights.tensors = checkpoint.tensors = tensors;
    weights.shape = checkpoint.shape = DIGITS_SHAPE;
    const bprt_trainer trainer = {
        .name = "digits",
        .inputs = DIGITS_INPUTS,
        .outputs = DIGITS_OUTPUTS,
        .batch = DIGITS_BATCH,
        .nparams = DIGITS_PARAMS,
        .elem_size = (int)sizeof(digits_real),
        .loss_name = "cross_entropy",
        .targets = BPRT_TARGETS_CLASSES,
        .seed = DIGITS_SEED,
        .layers = digits_main_layers,
        .nlayers = 2,
        .model = &model,
        .init = digits_main_init,
        .forward = digits_main_forward,
        .loss = digits_main_loss,
        .backward = digits_main_backward,
        .train = digits_main_train,
        .step = digits_main_step,
        .params = digits_main_params,
        .grads = digits_main_grads,
        .lr = digits_main_lr,
        .state = digits_main_state,
        .weights = weights,
        .checkpoint = checkpoint,
    };
    return bprt_trainer_main(&trainer, argc, argv);
}

