// ---- the command-line trainer (bpc --main): `mnist --help` ----

/* The generated functions with void pointers, as bprt_trainer holds them;
 * x, t and y are arrays of mnist_real. */
static void mnist_main_init(void *m, uint64_t seed)
{
    mnist_init(m, seed);
}

static void mnist_main_forward(void *m, const void *x, void *y, int n)
{
    mnist_forward(m, x, y, n);
}

static double mnist_main_loss(void *m, const void *x, const void *t, int n)
{
    return mnist_loss(m, x, t, n);
}

static double mnist_main_backward(void *m, const void *x, const void *t, int n)
{
    return mnist_backward(m, x, t, n);
}

static double mnist_main_train(void *m, const void *x, const void *t, int n)
{
    return mnist_train(m, x, t, n);
}

static void mnist_main_step(void *m)
{
    mnist_step(m);
}

static double *mnist_main_lr(void *m)
{
    return &((mnist_model *)m)->lr;
}

/* The buffers of a checkpoint, as mnist_checkpoint writes them, and the step counter. */
static int64_t *mnist_main_state(void *m, void **buffers)
{
    mnist_model *model = m;
    buffers[0] = model->params;
    buffers[1] = model->exp_avg;
    buffers[2] = model->exp_avg_sq;
    return &model->step;
}

static void *mnist_main_params(void *m)
{
    return mnist_params(m);
}

static void *mnist_main_grads(void *m)
{
    return mnist_grads(m);
}

/* Each layer's parameters (W then b) in mnist_params, for gradcheck. */
static const bprt_layer_range mnist_main_layers[2] = {
    {"hidden", mnist_hidden_W, mnist_hidden_W_size + mnist_hidden_b_size}, /* W [128][784], b [128] */
    {"dense2", mnist_dense2_W, mnist_dense2_W_size + mnist_dense2_b_size}, /* W [10][128], b [10] */
};

int main(int argc, char **argv)
{
    static mnist_model model; /* static: it can be too large for the stack */
    /* the trainer writes the weight files itself, with the standardization
     * statistics, the shapes and the table that names the tensors */
    bprt_file_info weights = mnist_file_info(BPRT_FILE_WEIGHTS);
    bprt_file_info checkpoint = mnist_file_info(BPRT_FILE_CHECKPOINT);
    static const char *const tensors[] = {MNIST_TENSORS, NULL};
    weights.tensors = checkpoint.tensors = tensors;
    weights.shape = checkpoint.shape = MNIST_SHAPE;
    const bprt_trainer trainer = {
        .name = "mnist",
        .inputs = MNIST_INPUTS,
        .outputs = MNIST_OUTPUTS,
        .batch = MNIST_BATCH,
        .nparams = MNIST_PARAMS,
        .elem_size = (int)sizeof(mnist_real),
        .loss_name = "cross_entropy",
        .targets = BPRT_TARGETS_CLASSES,
        .seed = MNIST_SEED,
        .layers = mnist_main_layers,
        .nlayers = 2,
        .model = &model,
        .init = mnist_main_init,
        .forward = mnist_main_forward,
        .loss = mnist_main_loss,
        .backward = mnist_main_backward,
        .train = mnist_main_train,
        .step = mnist_main_step,
        .params = mnist_main_params,
        .grads = mnist_main_grads,
        .lr = mnist_main_lr,
        .state = mnist_main_state,
        .weights = weights,
        .checkpoint = checkpoint,
    };
    return bprt_trainer_main(&trainer, argc, argv);
}

