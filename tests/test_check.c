/*
 * test_check.c - tests of check.c: the Model it builds from valid files (layers, widths,
 * arguments with their defaults filled in, offsets into the parameter buffer, the
 * network-wide defaults) and a few of its messages checked in full.  Most messages are
 * covered by the golden cases in tests/cases (test_cases.c).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* Runs the front end on `src` and requires that it checks without any diagnostic. */
static FrontResult check_ok(const char *src)
{
    FrontResult r = front_run_str(src, true);
    cr_assert(r.parsed, "parse failed:\n%s", r.diags);
    cr_assert(r.checked, "check failed:\n%s", r.diags);
    cr_assert_str_empty(r.diags, "unexpected diagnostics:\n%s", r.diags);
    return r;
}

/* Runs the front end on `src`, requires it to fail checking and print `expected`. */
static void check_fails(const char *src, const char *expected)
{
    FrontResult r = front_run_str(src, true);
    cr_assert(r.parsed, "parse failed:\n%s", r.diags);
    cr_expect_not(r.checked);
    cr_expect_str_eq(r.diags, expected);
    front_free(&r);
}

// ---- the Model of valid files ----

Test(check, model_of_the_mnist_example)
{
    FrontResult r = check_ok("network mnist {\n"
                             "    input 784;\n"
                             "    hidden: dense 128 relu;\n"
                             "    dense 10 softmax;\n"
                             "    loss cross_entropy;\n"
                             "    optimizer sgd(lr = 0.1, momentum = 0.9);\n"
                             "    batch 32;\n"
                             "}\n");
    const Model *m = &r.model;
    cr_expect_str_eq(m->name, "mnist");
    cr_expect_str_eq(m->upper, "MNIST");
    cr_expect_eq(m->inputs, 784);
    cr_expect_eq(m->outputs, 10);
    cr_assert_eq(m->nnodes, 2);

    const Node *h = &m->nodes[0], *o = &m->nodes[1];
    cr_expect_str_eq(h->label, "hidden");
    cr_expect_eq(h->index, 0);
    cr_expect_eq(h->loc.line, 3);
    cr_expect_eq(h->loc.col, 5); /* the label */
    cr_expect_eq(h->in, 784);
    cr_expect_eq(h->out, 128);
    cr_expect_str_eq(h->act->op.name, "relu");
    cr_expect_str_eq(h->init->op.name, "xavier_uniform");
    cr_expect_eq(h->params[0].offset, 0);
    cr_expect_eq(h->params[1].offset, 784 * 128);

    cr_expect_str_eq(o->label, "dense2");
    cr_expect_eq(o->index, 1);
    cr_expect_eq(o->loc.line, 4);
    cr_expect_eq(o->loc.col, 5); /* 'dense' */
    cr_expect_eq(o->in, 128);
    cr_expect_eq(o->out, 10);
    cr_expect_str_eq(o->act->op.name, "softmax");
    cr_expect_eq(o->params[0].offset, 784 * 128 + 128);
    cr_expect_eq(o->params[1].offset, 784 * 128 + 128 + 128 * 10);
    cr_expect_eq(m->nparams, 784 * 128 + 128 + 128 * 10 + 10);

    cr_expect_str_eq(m->loss->op.name, "cross_entropy");
    cr_expect_str_eq(m->opt->op.name, "sgd");
    cr_expect_eq(m->opt_args[0], 0.1);  /* lr */
    cr_expect_eq(m->opt_args[1], 0.9);  /* momentum */
    cr_expect_eq(m->opt_args[2], 0.0);  /* nesterov */
    cr_expect_eq(m->opt_args[3], 0.0);  /* weight_decay */
    cr_expect_eq(m->batch, 32);
    cr_expect_not(m->double_precision);
    cr_expect_eq(m->seed, 0);
    front_free(&r);
}

Test(check, defaults_of_a_minimal_network)
{
    FrontResult r = check_ok("network tiny { input 3; dense 2; loss mse; }");
    const Model *m = &r.model;
    cr_assert_eq(m->nnodes, 1);
    cr_expect_str_eq(m->nodes[0].label, "dense1");
    cr_expect_str_eq(m->nodes[0].act->op.name, "identity");
    cr_expect_str_eq(m->nodes[0].init->op.name, "xavier_uniform");
    cr_expect_eq(m->nparams, 3 * 2 + 2);
    cr_expect_str_eq(m->opt->op.name, "sgd");
    cr_expect_eq(m->opt_args[0], 0.01);
    cr_expect_eq(m->opt_args[1], 0.0);
    cr_expect_eq(m->opt_args[2], 0.0);
    cr_expect_eq(m->opt_args[3], 0.0);
    cr_expect_eq(m->batch, 1);
    cr_expect_not(m->double_precision);
    cr_expect_eq(m->seed, 0);
    cr_expect_eq(m->outputs, 2);
    front_free(&r);
}

Test(check, argument_defaults_are_filled_in)
{
    FrontResult r = check_ok("network args {\n"
                             "    input 2;\n"
                             "    dense 3 leaky_relu init = uniform;\n"
                             "    dense 3 elu init = normal;\n"
                             "    dense 3 leaky_relu(alpha = 0.2) init = uniform(a = 0.5);\n"
                             "    dense 3 elu(alpha = 2) init = normal(std = 1e-3);\n"
                             "    loss huber;\n"
                             "    optimizer adam(beta2 = 0.99);\n"
                             "}\n");
    const Node *l = r.model.nodes;
    cr_expect_eq(l[0].act_args[0], 0.01);
    cr_expect_eq(l[0].init_args[0], 0.05);
    cr_expect_eq(l[1].act_args[0], 1.0);
    cr_expect_eq(l[1].init_args[0], 0.01);
    cr_expect_eq(l[2].act_args[0], 0.2);
    cr_expect_eq(l[2].init_args[0], 0.5);
    cr_expect_eq(l[3].act_args[0], 2.0);
    cr_expect_eq(l[3].init_args[0], 1e-3);
    cr_expect_str_eq(r.model.loss->op.name, "huber");
    cr_expect_eq(r.model.loss_args[0], 1.0);
    const double *o = r.model.opt_args;
    cr_expect_str_eq(r.model.opt->op.name, "adam");
    cr_expect(o[0] == 0.001 && o[1] == 0.9 && o[2] == 0.99 && o[3] == 1e-8 && o[4] == 0);
    front_free(&r);
}

Test(check, adamw_decays_by_default)
{
    FrontResult r = check_ok("network w { input 1; dense 1; loss mse; optimizer adamw; }");
    const double *o = r.model.opt_args;
    cr_expect_str_eq(r.model.opt->op.name, "adamw");
    cr_expect(o[0] == 0.001 && o[1] == 0.9 && o[2] == 0.999 && o[3] == 1e-8 && o[4] == 0.01);
    front_free(&r);
}

/* The init statement is the default of every layer without its own `init =`, wherever
 * it stands; the alias 'linear' is the identity row. */
Test(check, init_statement_and_overrides)
{
    FrontResult r = check_ok("network i {\n"
                             "    input 5;\n"
                             "    dense 4 linear;\n"
                             "    dense 4 tanh init = he_normal;\n"
                             "    dense 4 sigmoid init = normal(std = 0.5);\n"
                             "    loss mse;\n"
                             "    init uniform(a = 0.25);\n"
                             "}\n");
    const Node *l = r.model.nodes;
    cr_expect_str_eq(l[0].act->op.name, "identity");
    cr_expect_str_eq(l[0].init->op.name, "uniform");
    cr_expect_eq(l[0].init_args[0], 0.25);
    cr_expect_str_eq(l[1].init->op.name, "he_normal");
    cr_expect_str_eq(l[2].init->op.name, "normal");
    cr_expect_eq(l[2].init_args[0], 0.5);
    front_free(&r);
}

Test(check, offsets_are_layer_by_layer_weights_then_biases)
{
    FrontResult r = check_ok("network o { input 3; dense 5; dense 7; a: dense 2; loss mae; }");
    const Node *l = r.model.nodes;
    long w0 = 0, b0 = 15, w1 = 20, b1 = 55, w2 = 62, b2 = 76;
    cr_expect(l[0].params[0].offset == w0 && l[0].params[1].offset == b0);
    cr_expect(l[1].params[0].offset == w1 && l[1].params[1].offset == b1);
    cr_expect(l[2].params[0].offset == w2 && l[2].params[1].offset == b2);
    cr_expect_eq(r.model.nparams, 78);
    cr_expect_str_eq(l[2].label, "a");
    cr_expect_str_eq(l[1].label, "dense2");
    front_free(&r);
}

Test(check, every_statement)
{
    FrontResult r = check_ok("network Net_2 {\n"
                             "    input 1;\n"
                             "    dense 1 sigmoid;\n"
                             "    loss binary_cross_entropy;\n"
                             "    precision double;\n"
                             "    seed 18446744073709551615;\n"
                             "    batch 1048576;\n"
                             "}\n");
    cr_expect_str_eq(r.model.upper, "NET_2");
    cr_expect(r.model.double_precision);
    cr_expect_eq(r.model.seed, UINT64_MAX);
    cr_expect_eq(r.model.batch, BPC_MAX_BATCH);
    front_free(&r);
}

Test(check, precision_float_is_explicit_default)
{
    FrontResult r = check_ok("network p { input 1; dense 1; loss mse; precision float; seed 0; }");
    cr_expect_not(r.model.double_precision);
    cr_expect_eq(r.model.seed, 0);
    front_free(&r);
}

// ---- limits, at the boundary ----

Test(check, widest_layer_and_most_parameters_allowed)
{
    /* 2^24 inputs × 63 + 63 = 1056964671 parameters, under 2^30. */
    FrontResult r = check_ok("network big { input 16777216; dense 63; loss mse; }");
    cr_expect_eq(r.model.nparams, 16777216L * 63 + 63);
    front_free(&r);
    /* 1024 × 2^20 = 2^30 values per buffer: exactly the limit. */
    r = check_ok("network b { input 1024; dense 1; loss mse; batch 1048576; }");
    front_free(&r);
}

Test(check, parameters_just_over_the_limit)
{
    /* 2^24 × 64 + 64 > 2^30 */
    check_fails("network big { input 16777216; dense 64; loss mse; }",
                "t.bp:1:31: error: too many parameters: layer 'dense1' brings the total to "
                "1073741888; the limit is 1073741824\n"
                "    1 | network big { input 16777216; dense 64; loss mse; }\n"
                "      |                               ^~~~~\n");
}

Test(check, buffers_just_over_the_limit)
{
    check_fails("network b { input 1025; dense 1; loss mse; batch 1048576; }",
                "t.bp:1:50: error: batch 1048576 needs buffers of 1074790400 values; the limit "
                "is 1073741824\n"
                "    1 | network b { input 1025; dense 1; loss mse; batch 1048576; }\n"
                "      |                                                  ^~~~~~~\n"
                "t.bp:1:19: note: the input has 1025 units\n"
                "    1 | network b { input 1025; dense 1; loss mse; batch 1048576; }\n"
                "      |                   ^~~~\n");
}

static char *deep_network(int layers)
{
    char *s = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&s, &len);
    fputs("network deep {\n    input 1;\n", f);
    for (int i = 0; i < layers; i++)
        fputs("    dense 1;\n", f);
    fputs("    loss mse;\n}\n", f);
    fclose(f);
    return s;
}

Test(check, at_most_1024_layers)
{
    char *src = deep_network(BPC_MAX_LAYERS);
    FrontResult r = check_ok(src);
    cr_expect_eq(r.model.nnodes, BPC_MAX_LAYERS);
    cr_expect_str_eq(r.model.nodes[BPC_MAX_LAYERS - 1].label, "dense1024");
    cr_expect_eq(r.model.nparams, 2L * BPC_MAX_LAYERS);
    front_free(&r);
    free(src);

    src = deep_network(BPC_MAX_LAYERS + 1);
    r = front_run_str(src, true);
    cr_expect_not(r.checked);
    cr_expect_eq(r.errors, 1);
    cr_expect(strstr(r.diags, "t.bp:1027:5: error: too many layers; the limit is 1024\n"),
              "got:\n%s", r.diags);
    front_free(&r);
    free(src);
}

// ---- messages, in full ----

Test(check, unknown_activation_as_in_the_docs)
{
    check_fails("network n {\n"
                "    input 784;\n"
                "    hidden: dense 128 rellu;\n"
                "    dense 10;\n"
                "    loss mse;\n"
                "}\n",
                "t.bp:3:23: error: unknown activation 'rellu'\n"
                "    3 |     hidden: dense 128 rellu;\n"
                "      |                       ^~~~~\n"
                "t.bp:3:23: note: did you mean 'relu'?\n");
}

Test(check, softmax_of_one_unit_is_only_a_warning)
{
    FrontResult r = front_run_str("network s { input 2; dense 1 softmax; loss mse; }", true);
    cr_expect(r.checked);
    cr_expect_eq(r.errors, 0);
    cr_expect_eq(r.warnings, 1);
    cr_expect_str_eq(r.diags,
                     "t.bp:1:30: warning: softmax over a single unit always outputs 1\n"
                     "    1 | network s { input 2; dense 1 softmax; loss mse; }\n"
                     "      |                              ^~~~~~~\n"
                     "t.bp:1:30: note: for one probability use 'sigmoid' (with 'loss "
                     "binary_cross_entropy')\n");
    front_free(&r);
}

Test(check, softmax_hidden_layers_are_allowed)
{
    FrontResult r = check_ok("network s { input 2; dense 4 softmax; dense 3 softmax; loss cross_entropy; }");
    front_free(&r);
}

Test(check, labels_that_look_automatic)
{
    /* Its own automatic label, a labelled layer's, leading zeros, past the end. */
    FrontResult r = check_ok("network l { input 1; dense1: dense 1; dense1x: dense 1; h: dense 1;"
                             " dense3: dense 1; dense05: dense 1; dense9: dense 1; loss mse; }");
    cr_expect_str_eq(r.model.nodes[0].label, "dense1");
    cr_expect_str_eq(r.model.nodes[3].label, "dense3");
    front_free(&r);
    check_fails("network l { dense2: dense 1; dense 1; loss mse; }",
                "t.bp:1:13: error: duplicate label 'dense2'\n"
                "    1 | network l { dense2: dense 1; dense 1; loss mse; }\n"
                "      |             ^~~~~~\n"
                "t.bp:1:30: note: this unlabelled layer is 'dense2' automatically\n"
                "    1 | network l { dense2: dense 1; dense 1; loss mse; }\n"
                "      |                              ^~~~~\n"
                "t.bp:1:9: error: network 'l' has no 'input' statement\n"
                "    1 | network l { dense2: dense 1; dense 1; loss mse; }\n"
                "      |         ^\n"
                "t.bp:1:9: note: begin it with 'input N;', N the number of inputs\n");
}

Test(check, reserved_labels)
{
    static const char *const reserved[] = {
        "model", "real", "init_", "forward", "backward", "step", "train", "params", "grads",
        "save", "load", "checkpoint", "restore", "output", "outputs", "inputs", "x", "y", "t", "n",
        "m", "i", "j", "k", "_x", "bprt_x", "bprt", "static", "_Bool", "restrict", "inline",
    };
    for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++) {
        char src[200];
        snprintf(src, sizeof src, "network r { input 1; %s: dense 1; loss mse; }", reserved[i]);
        FrontResult r = front_run_str(src, true);
        /* init_ is fine; every other one is refused (some by the parser: 'init' is a
         * keyword, so it cannot be tested here). */
        if (!strcmp(reserved[i], "init_"))
            cr_expect(r.checked, "%s: %s", reserved[i], r.diags);
        else
            cr_expect(!r.checked && r.errors == 1, "%s: %s", reserved[i], r.diags);
        front_free(&r);
    }
}

Test(check, network_names)
{
    FrontResult r = check_ok("network bprtx { input 1; dense 1; loss mse; }");
    front_free(&r);
    r = check_ok("network model { input 1; dense 1; loss mse; }");
    front_free(&r);
    r = front_run_str("network _Atomic { input 1; dense 1; loss mse; }", true);
    cr_expect_str_eq(r.diags, "t.bp:1:9: error: network name '_Atomic' is a C keyword\n"
                              "    1 | network _Atomic { input 1; dense 1; loss mse; }\n"
                              "      |         ^~~~~~~\n");
    front_free(&r);
}

Test(check, loss_after_an_unknown_output_activation_is_not_reported)
{
    FrontResult r = front_run_str("network c { input 1; dense 3 softmx; loss cross_entropy; }", true);
    cr_expect_eq(r.errors, 1, "%s", r.diags);
    front_free(&r);
}

Test(check, argument_forms)
{
    /* Negative zero, integers for doubles, exponents, huge integers: values are values. */
    FrontResult r = check_ok("network a { input 1; dense 1 leaky_relu(alpha = -0); loss mse;"
                             " optimizer sgd(lr = 1, momentum = 5e-1, nesterov = 1.0,"
                             " weight_decay = 100000000000000000000000); }");
    cr_expect_eq(r.model.opt_args[0], 1.0);
    cr_expect_eq(r.model.opt_args[1], 0.5);
    cr_expect_eq(r.model.opt_args[2], 1.0);
    cr_expect_eq(r.model.opt_args[3], 1e23);
    front_free(&r);
}
