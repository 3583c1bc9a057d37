/*
 * shoal native trap shim: the only C in shoal.
 *
 * Rust cannot call sigsetjmp itself (a function that "returns twice" breaks
 * the compiler's assumptions), so the setjmp point lives in this C frame.
 * `shoal_native_catch` establishes the jump buffer, hands its address to the
 * Rust body and returns 1 if the body returned normally, 0 if the signal
 * handler jumped back through `shoal_native_unwind`.
 *
 * The mask is not saved (second argument 0): the handlers are installed with
 * SA_NODEFER, so the faulting signal is not blocked while the handler runs
 * and nothing needs restoring, which keeps a sigprocmask syscall off the
 * per-call fast path.
 */
#include <setjmp.h>

int shoal_native_catch(void (*body)(void *data, void *jmp_buf), void *data) {
    sigjmp_buf buf;
    if (sigsetjmp(buf, 0) == 0) {
        body(data, &buf);
        return 1;
    }
    return 0;
}

void shoal_native_unwind(void *jmp_buf) {
    siglongjmp(*(sigjmp_buf *)jmp_buf, 1);
}

/* Makes freshly written code visible to instruction fetch (a no-op on x86). */
void shoal_native_flush_icache(char *start, char *end) {
    __builtin___clear_cache(start, end);
}
