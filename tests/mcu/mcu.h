/*
 * mcu.h - what the MCU test's driver needs from the platform: startup.c on the
 * boards (semihosting), host.c on the build machine (stdio).
 */
#ifndef MCU_H
#define MCU_H

void mcu_print(const char *s);
#if defined(__GNUC__)
__attribute__((noreturn))
#endif
void mcu_exit(int status);

#endif
