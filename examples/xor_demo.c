/*
 * xor_demo.c - trains the network of xor.bp on the four XOR cases and prints the loss
 * falling and the four predictions (make demo).
 *
 *   bpc xor.bp -o xor.c
 *   cc -std=c99 -I../runtime xor_demo.c xor.c ../build/libbprt.a -lm -o xor_demo
 */
#include <stdio.h>

#include "xor.h"

int main(void)
{
    static const xor_real x[4 * XOR_INPUTS] = {0, 0, 0, 1, 1, 0, 1, 1};
    static const xor_real t[4 * XOR_OUTPUTS] = {0, 1, 1, 0};
    xor_model model; /* a complete type: no allocation needed */
    xor_init(&model, XOR_SEED);

    xor_real loss = 0;
    for (int epoch = 0; epoch < 500; epoch++) {
        loss = xor_train(&model, x, t, 4);
        if (epoch % 50 == 0)
            printf("epoch %3d  loss %.6f\n", epoch, (double)loss);
    }
    printf("final      loss %.6f\n", (double)xor_loss(&model, x, t, 4));

    xor_real y[4 * XOR_OUTPUTS];
    xor_forward(&model, x, y, 4);
    for (int i = 0; i < 4; i++)
        printf("%g xor %g = %.4f  (expected %g)\n", (double)x[2 * i], (double)x[2 * i + 1],
               (double)y[i], (double)t[i]);
    return loss < 0.01 ? 0 : 1;
}
