// ---- the command-line trainer (bpc --main): `leninf --help` ----

/* The generated functions with void pointers, as bprt_trainer holds them;
 * x, t and y are arrays of leninf_real. */
static void leninf_main_init(void *m, uint64_t seed)
{
    leninf_init(m, seed);
}

static void leninf_main_forward(void *m, const void *x, void *y, int n)
{
    leninf_forward(m, x, y, n);
}

static double leninf_main_loss(void *m, const void *x, const void *t, int n)
{
    return leninf_loss(m, x, t, n);
}

static double leninf_main_backward(void *m, const void *x, const void *t, int n)
{
    return leninf_backward(m, x, t, n);
}

static double leninf_main_train(void *m, const void *x, const void *t, int n)
{
    return leninf_train(m, x, t, n);
}

static void leninf_main_step(void *m)
{
    leninf_step(m);
}

static double *leninf_main_lr(void *m)
{
    return &((leninf_model *)m)->lr;
}

/* The buffers of a checkpoint, as leninf_checkpoint writes them, and the step counter. */
static int64_t *leninf_main_state(void *m, void **buffers)
{
    leninf_model *model = m;
    buffers[0] = model->params;
    return &model->step;
}

static void *leninf_main_params(void *m)
{
    return leninf_params(m);
}

static void *leninf_main_grads(void *m)
{
    return leninf_grads(m);
}

/* Each layer's parameters (W then b) in leninf_params, for gradcheck. */
static const bprt_layer_range leninf_main_layers[5] = {
    {"c1", leninf_c1_W, leninf_c1_W_size + leninf_c1_b_size}, /* W [6][1][5][5], b [6] */
    {"c2", leninf_c2_W, leninf_c2_W_size + leninf_c2_b_size}, /* W [16][6][5][5], b [16] */
    {"dense6", leninf_dense6_W, leninf_dense6_W_size + leninf_dense6_b_size}, /* W [120][400], b [120] */
    {"dense7", leninf_dense7_W, leninf_dense7_W_size + leninf_dense7_b_size}, /* W [84][120], b [84] */
    {"dense8", leninf_dense8_W, leninf_dense8_W_size + leninf_dense8_b_size}, /* W [10][84], b [10] */
};

int main(int argc, char **argv)
{
    static leninf_model model; /* static: it can be too large for the stack */
    /* the trainer writes the weight files itself, with the standardization
     * statistics, the shapes and the table that names the tensors */
    bprt_file_info weights = leninf_file_info(BPRT_FILE_WEIGHTS);
    bprt_file_info checkpoint = leninf_file_info(BPRT_FILE_CHECKPOINT);
    static const char *const tensors[] = {LENINF_TENSORS, NULL};
    weights.tensors = checkpoint.tensors = tensors;
    weights.shape = checkpoint.shape = LENINF_SHAPE;
    const bprt_trainer trainer = {
        .name = "leninf",
        .inputs = LENINF_INPUTS,
        .outputs = LENINF_OUTPUTS,
        .batch = LENINF_BATCH,
        .nparams = LENINF_PARAMS,
        .elem_size = (int)sizeof(leninf_real),
        .loss_name = "cross_entropy",
        .targets = BPRT_TARGETS_CLASSES,
        .seed = LENINF_SEED,
        .layers = leninf_main_layers,
        .nlayers = 5,
        .model = &model,
        .init = leninf_main_init,
        .forward = leninf_main_forward,
        .loss = leninf_main_loss,
        .backward = leninf_main_backward,
        .train = leninf_main_train,
        .step = leninf_main_step,
        .params = leninf_main_params,
        .grads = leninf_main_grads,
        .lr = leninf_main_lr,
        .state = leninf_main_state,
        .weights = weights,
        .checkpoint = checkpoint,
    };
    return bprt_trainer_main(&trainer, argc, argv);
}

