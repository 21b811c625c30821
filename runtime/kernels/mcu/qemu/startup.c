/*===- startup.c - reset and vectors for QEMU's Cortex-M boards -----------===*
 *
 * SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
 *
 * Zeroes .bss, opens newlib's semihosting handles (librdimon), calls main
 * and exits through semihosting with its return value. A fault exits with
 * 70 instead of hanging, so the runner sees it. SysTick, clocked by the
 * core under QEMU -icount, counts instructions for `lowbit bench`.
 *===----------------------------------------------------------------------===*/

#include <stdint.h>

extern uint32_t __bss_start__, __bss_end__, __stack_top;
extern int main(void);
extern void initialise_monitor_handles(void);
extern void exit(int);

volatile uint32_t lowbit_systick_wraps;

void _init(void) {}
void _fini(void) {}

void Reset_Handler(void) {
  uint32_t *p;
  for (p = &__bss_start__; p < &__bss_end__; ++p)
    *p = 0;
  initialise_monitor_handles();
  exit(main());
}

static void Fault_Handler(void) { exit(70); }
static void Idle_Handler(void) {}
static void SysTick_Handler(void) { ++lowbit_systick_wraps; }

__attribute__((section(".vectors"), used)) void (*const lowbit_vectors[16])(
    void) = {
    (void (*)(void))(&__stack_top), Reset_Handler, Fault_Handler,
    Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler, 0, 0, 0, 0,
    Idle_Handler, Idle_Handler, 0, Idle_Handler, SysTick_Handler};
