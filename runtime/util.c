/*
 * util.c - small helpers that training programs share: shuffling the sample order
 * each epoch, picking the predicted class, encoding labels and standardizing inputs.
 */
#include <math.h>

#include "bprt.h"

/* Fisher-Yates: position i takes a uniform pick of the i + 1 not yet placed. */
void bprt_shuffle(int *idx, int n, bprt_rng *r)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int)bprt_rng_below(r, (uint64_t)i + 1);
        int t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}

/* NaN counts as smaller than any number, so a NaN output is never the prediction
 * while a real one exists; all NaN gives 0.  n <= 0 gives -1 (no element). */
#define ARGMAX_BODY                                                \
    if (n <= 0)                                                    \
        return -1;                                                 \
    int best = 0;                                                  \
    for (int i = 1; i < n; i++)                                    \
        if (v[i] > v[best] || (isnan(v[best]) && !isnan(v[i])))    \
            best = i;                                              \
    return best;

int bprt_argmax_f(const float *v, int n) { ARGMAX_BODY }
int bprt_argmax_d(const double *v, int n) { ARGMAX_BODY }

/* A label outside [0, classes) leaves the row all zeros: it then adds nothing to a
 * loss, and the caller's own validation decides how to report it. */
#define ONE_HOT_BODY                                               \
    for (int i = 0; i < classes; i++)                              \
        out[i] = 0;                                                \
    if (label >= 0 && label < classes)                             \
        out[label] = 1;

void bprt_one_hot_f(float *out, int classes, int label) { ONE_HOT_BODY }
void bprt_one_hot_d(double *out, int classes, int label) { ONE_HOT_BODY }

/* Computed in double, as the trainer standardizes before converting to the model's
 * type, so that a program applying the saved statistics gets the trainer's inputs. */
#define STANDARDIZE_BODY(T)                                                        \
    for (size_t i = 0; i < (size_t)(n > 0 ? n : 0); i++)                          \
        for (size_t j = 0; j < (size_t)(inputs > 0 ? inputs : 0); j++) {           \
            T *v = &x[i * (size_t)inputs + j];                                     \
            *v = (T)((*v - mean[j]) / std[j]);                                     \
        }

void bprt_standardize_f(float *x, int n, int inputs, const double *mean, const double *std)
{
    STANDARDIZE_BODY(float)
}

void bprt_standardize_d(double *x, int n, int inputs, const double *mean, const double *std)
{
    STANDARDIZE_BODY(double)
}
