// ---- the command-line trainer (bpc --main): `sine --help` ----

/* The generated functions with void pointers, as bprt_trainer holds them;
 * x, t and y are arrays of sine_real. */
static void sine_main_init(void *m, uint64_t seed)
{
    sine_init(m, seed);
}

static void sine_main_forward(void *m, const void *x, void *y, int n)
{
    sine_forward(m, x, y, n);
}

static double sine_main_loss(void *m, const void *x, const void *t, int n)
{
    return sine_loss(m, x, t, n);
}

static double sine_main_backward(void *m, const void *x, const void *t, int n)
{
    return sine_backward(m, x, t, n);
}

static double sine_main_train(void *m, const void *x, const void *t, int n)
{
    return sine_train(m, x, t, n);
}

static void sine_main_step(void *m)
{
    sine_step(m);
}

static double *sine_main_lr(void *m)
{
    return &((sine_model *)m)->lr;
}

/* The buffers of a checkpoint, as sine_checkpoint writes them, and the step counter. */
static int64_t *sine_main_state(void *m, void **buffers)
{
    sine_model *model = m;
    buffers[0] = model->params;
    buffers[1] = model->exp_avg;
    buffers[2] = model->exp_avg_sq;
    return &model->step;
}

static void *sine_main_params(void *m)
{
    return sine_params(m);
}

static void *sine_main_grads(void *m)
{
    return sine_grads(m);
}

/* Each layer's parameters (W then b) in sine_params, for gradcheck. */
static const bprt_layer_range sine_main_layers[2] = {
    {"hidden", sine_hidden_W, sine_hidden_W_size + sine_hidden_b_size}, /* W [32][1], b [32] */
    {"dense2", sine_dense2_W, sine_dense2_W_size + sine_dense2_b_size}, /* W [1][32], b [1] */
};

int main(int argc, char **argv)
{
    static sine_model model; /* static: it can be too large for the stack */
    /* the trainer writes the weight files itself, with the standardization
     * statistics, the shapes and the table that names the tensors */
    bprt_file_info weights = sine_file_info(BPRT_FILE_WEIGHTS);
    bprt_file_info checkpoint = sine_file_info(BPRT_FILE_CHECKPOINT);
    static const char *const tensors[] = {SINE_TENSORS, NULL};
    weights.tensors = checkpoint.tensors = tensors;
    weights.shape = checkpoint.shape = SINE_SHAPE;
    const bprt_trainer trainer = {
        .name = "sine",
        .inputs = SINE_INPUTS,
        .outputs = SINE_OUTPUTS,
        .batch = SINE_BATCH,
        .nparams = SINE_PARAMS,
        .elem_size = (int)sizeof(sine_real),
        .loss_name = "mse",
        .targets = BPRT_TARGETS_VALUES,
        .seed = SINE_SEED,
        .layers = sine_main_layers,
        .nlayers = 2,
        .model = &model,
        .init = sine_main_init,
        .forward = sine_main_forward,
        .loss = sine_main_loss,
        .backward = sine_main_backward,
        .train = sine_main_train,
        .step = sine_main_step,
        .params = sine_main_params,
        .grads = sine_main_grads,
        .lr = sine_main_lr,
        .state = sine_main_state,
        .weights = weights,
        .checkpoint = checkpoint,
    };
    return bprt_trainer_main(&trainer, argc, argv);
}

