/*
 * startup.c - the bare-metal side of the MCU test (tests/mcu/README.md): the vector
 * table, the reset handler that sets up C (the FPU, .data, .bss) and runs main(), and
 * output and exit through semihosting, which QEMU implements (-semihosting-config).
 * No C library start-up code and no stdio: the driver prints with mcu_print.
 */
#include <stdint.h>

#include "mcu.h"

/* from mps2.ld */
extern uint32_t mcu_data_start[], mcu_data_end[], mcu_data_load[];
extern uint32_t mcu_bss_start[], mcu_bss_end[], mcu_stack_top[];

int main(void);
void mcu_reset(void);

// ---- semihosting: BKPT 0xAB with the operation in r0 and its argument in r1 ----

enum {
    SYS_WRITE0 = 0x04,                     /* print a NUL-terminated string */
    SYS_EXIT = 0x18,                       /* stop, with the reason in r1 */
    ADP_STOPPED_APPLICATION_EXIT = 0x20026, /* QEMU exits with status 0 */
    ADP_STOPPED_RUNTIME_ERROR = 0x20023,    /* ... and 1 */
};

static void semihost(uint32_t op, const void *arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
}

void mcu_print(const char *s)
{
    semihost(SYS_WRITE0, s);
}

void mcu_exit(int status)
{
    semihost(SYS_EXIT, (const void *)(uintptr_t)(status == 0 ? ADP_STOPPED_APPLICATION_EXIT
                                                             : ADP_STOPPED_RUNTIME_ERROR));
    for (;;) /* not reached under QEMU */
        ;
}

// ---- reset and faults ----

static void fault(void)
{
    mcu_print("mcu: fault\n");
    mcu_exit(1);
}

void mcu_reset(void)
{
#if defined(__ARM_FP)
    /* CPACR: full access to the coprocessors 10 and 11, the FPU, before any float
     * instruction */
    *(volatile uint32_t *)0xE000ED88 |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    for (uint32_t *src = mcu_data_load, *dst = mcu_data_start; dst < mcu_data_end;)
        *dst++ = *src++;
    for (uint32_t *dst = mcu_bss_start; dst < mcu_bss_end;)
        *dst++ = 0;
    mcu_exit(main());
}

/* The initial stack pointer, then the handlers: reset, NMI, hard fault, memory
 * management, bus and usage faults. */
__attribute__((section(".vectors"), used)) static void (*const vectors[])(void) = {
    (void (*)(void))(uintptr_t)mcu_stack_top, mcu_reset, fault, fault, fault, fault, fault,
};
