/*
 * act.c - the activation functions: one table row each (name, parameters) and the
 * code that emits its forward and backward computation.
 */
#include <math.h>

#include "bpc.h"

const ActDef act_table[] = {
    {.name = "identity", .alias = "linear"},
    {.name = "sigmoid"},
    {.name = "tanh"},
    {.name = "relu"},
    {.name = "leaky_relu", .params = {{"alpha", 0.01, 0, INFINITY, 0}}},
    {.name = "elu", .params = {{"alpha", 1.0, 0, INFINITY, 0}}},
    {.name = "softplus"},
    {.name = "silu"},
    {.name = "gelu"},
    {.name = "softmax"},
    {.name = NULL},
};
