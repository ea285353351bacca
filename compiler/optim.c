/*
 * optim.c - the optimizers: one table row each (name, hyperparameters with defaults
 * and ranges) and the code that emits its update rule.  The rules are PyTorch's.
 */
#include <math.h>

#include "bpc.h"

#define ADAM_PARAMS(decay)                                            \
    {                                                                 \
        {"lr", 0.001, 0, INFINITY, PARAM_LO_OPEN},                    \
        {"beta1", 0.9, 0, 1, PARAM_HI_OPEN},                          \
        {"beta2", 0.999, 0, 1, PARAM_HI_OPEN},                        \
        {"eps", 1e-8, 0, INFINITY, 0},                                \
        {"weight_decay", decay, 0, INFINITY, 0},                      \
    }

const OptDef opt_table[] = {
    {.name = "sgd",
     .params = {{"lr", 0.01, 0, INFINITY, PARAM_LO_OPEN | PARAM_REQUIRED},
                {"momentum", 0, 0, 1, PARAM_HI_OPEN},
                {"nesterov", 0, 0, 1, PARAM_BOOL},
                {"weight_decay", 0, 0, INFINITY, 0}}},
    {.name = "adam", .params = ADAM_PARAMS(0)},
    {.name = "adamw", .params = ADAM_PARAMS(0.01)},
    {.name = NULL},
};
