/*
 * host.c - the MCU test's driver on the build machine: mcu_print and mcu_exit on
 * stdio, so that its output can be compared with the boards' (docs/EMBEDDED.md).
 */
#include <stdio.h>
#include <stdlib.h>

#include "mcu.h"

void mcu_print(const char *s)
{
    fputs(s, stdout);
}

void mcu_exit(int status)
{
    fflush(stdout);
    exit(status);
}
