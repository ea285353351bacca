/*
 * loss.c - the loss functions: one table row each (name, parameters, the output
 * activation it requires) and the code that emits its value and gradient.
 */
#include <math.h>

#include "bpc.h"

const LossDef loss_table[] = {
    {.name = "mse"},
    {.name = "mae"},
    {.name = "huber", .params = {{"delta", 1.0, 0, INFINITY, PARAM_LO_OPEN}}},
    {.name = "cross_entropy", .needs_act = "softmax"},
    {.name = "binary_cross_entropy", .needs_act = "sigmoid"},
    {.name = NULL},
};
