/*
 * startup.c - the bare-metal side of the MCU test (docs/EMBEDDED.md): the vector
 * table, the reset handler that sets up C (the FPU, .data, .bss) and runs main(), and
 * output and exit through semihosting, which QEMU implements (-semihosting-config);
 * at exit, how much of the stack was used.
 * No C library start-up code and no stdio: the driver prints with mcu_print.
 */
#include <stdint.h>

#include "mcu.h"

/* from mps2.ld */
extern uint32_t mcu_data_start[], mcu_data_end[], mcu_data_load[];
extern uint32_t mcu_bss_start[], mcu_bss_end[], mcu_stack_bottom[], mcu_stack_top[];

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

/* The stack is painted with this at reset; what the program overwrote is its
 * high-water mark, which mcu_exit reports on a line of its own ("mcu: ...", left out
 * of the comparison with the host). */
enum { PAINT = 0x5a5aa5a5u };

static void report_stack(void)
{
    const uintptr_t top = (uintptr_t)mcu_stack_top;
    const uint32_t *p = mcu_stack_bottom;
    while ((uintptr_t)p < top && *p == PAINT)
        p++;
    char line[64] = "mcu: stack used ", digits[12];
    unsigned long used = (unsigned long)(top - (uintptr_t)p);
    int n = 0, len = 16;
    do
        digits[n++] = (char)('0' + used % 10);
    while (used /= 10);
    while (n)
        line[len++] = digits[--n];
    for (const char *s = " bytes\n"; *s;)
        line[len++] = *s++;
    line[len] = 0;
    mcu_print(line);
}

void mcu_exit(int status)
{
    report_stack();
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
    /* up to this function's own frame, which lies within the last 64 bytes */
    for (uint32_t *dst = mcu_stack_bottom; (uintptr_t)dst < (uintptr_t)mcu_stack_top - 64;)
        *dst++ = PAINT;
    mcu_exit(main());
}

/* The initial stack pointer, then the handlers: reset, NMI, hard fault, memory
 * management, bus and usage faults. */
__attribute__((section(".vectors"), used)) static void (*const vectors[])(void) = {
    (void (*)(void))(uintptr_t)mcu_stack_top, mcu_reset, fault, fault, fault, fault, fault,
};
