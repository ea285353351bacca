/*
 * init.c - the weight initialization schemes: one table row each (name, parameters)
 * and the code that emits the draw of a layer's weights.  Bounds and standard
 * deviations follow torch.nn.init; biases always start at zero.
 */
#include <math.h>

#include "bpc.h"

const InitDef init_table[] = {
    {.name = "xavier_uniform"},
    {.name = "xavier_normal"},
    {.name = "he_uniform"},
    {.name = "he_normal"},
    {.name = "lecun_uniform"},
    {.name = "lecun_normal"},
    {.name = "uniform", .params = {{"a", 0.05, 0, INFINITY, PARAM_LO_OPEN}}},
    {.name = "normal", .params = {{"std", 0.01, 0, INFINITY, PARAM_LO_OPEN}}},
    {.name = NULL},
};
