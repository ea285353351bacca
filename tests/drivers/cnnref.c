/*
 * cnnref.c - bpc's generated CNN (tests/reference/cnn.bp) against the numbers PyTorch
 * computed for it (tests/reference/cnn_ref.h or cnn_ties_ref.h, as REF_HEADER names it,
 * from cnn_ref.py): with the same
 * parameters and data, the softmax outputs, the loss, every gradient and the
 * parameters after two SGD steps with momentum, within 1e-10 relative (double: the
 * sums are taken in another order).  Prints the worst error of each; exit status 1 if
 * one is too large.
 */
#include <math.h>
#include <stdio.h>

#include "cnn.h"
#include REF_HEADER /* cnn_ref.h or cnn_ties_ref.h */

/* cnn_ref.py's parameter and input formulas */
static double param(int i)
{
    return REF_TIES ? ((i * 7) % 5 - 2) * 0.25 : 0.4 * sin(0.37 * i + 0.1) - 0.05;
}

static double input(int i)
{
    return REF_TIES ? ((i * 3) % 4 - 1.5) * 0.5 : cos(0.53 * i) * 1.5;
}

static cnn_model m;

static double worst(const double *got, const double *want, int n)
{
    double w = 0;
    for (int i = 0; i < n; i++) {
        double e = fabs(got[i] - want[i]) / (fabs(want[i]) > 1 ? fabs(want[i]) : 1);
        if (!(e <= w))
            w = e;
    }
    return w;
}

static int report(const char *what, double err)
{
    int bad = !(err <= 1e-10);
    printf("%-28s %.3g%s\n", what, err, bad ? "  FAILED" : "");
    return bad;
}

int main(void)
{
    if (CNN_PARAMS != REF_PARAMS || CNN_OUTPUTS != REF_CLASSES || CNN_BATCH != REF_N) {
        puts("the network does not match cnn_ref.h");
        return 1;
    }
    cnn_init(&m, 1);
    double *p = cnn_params(&m);
    for (int i = 0; i < CNN_PARAMS; i++)
        p[i] = param(i);
    static double x[REF_N * CNN_INPUTS], t[REF_N * REF_CLASSES], y[REF_N * REF_CLASSES];
    for (int i = 0; i < REF_N * CNN_INPUTS; i++)
        x[i] = input(i);
    for (int s = 0; s < REF_N; s++)
        t[s * REF_CLASSES + ref_labels[s]] = 1;

    int failed = 0;
    cnn_forward(&m, x, y, REF_N);
    failed |= report("softmax outputs", worst(y, ref_probs, REF_N * REF_CLASSES));
    double loss = cnn_backward(&m, x, t, REF_N);
    failed |= report("loss", worst(&loss, &ref_loss, 1));
    failed |= report("gradients", worst(cnn_grads(&m), ref_grads, CNN_PARAMS));
    cnn_step(&m);
    cnn_train(&m, x, t, REF_N);
    failed |= report("parameters after 2 steps", worst(cnn_params(&m), ref_after, CNN_PARAMS));
    return failed;
}
