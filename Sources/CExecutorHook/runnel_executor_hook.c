#include "runnel_executor_hook.h"

#include <stddef.h>

// Defined by the Swift concurrency runtime (libswift_Concurrency), as NIO expects it: a pointer
// to a function the runtime calls for every job it would give its own global executor.
extern const void *swift_task_enqueueGlobal_hook;

bool runnel_install_enqueue_global_hook(const void *hook) {
    const void *expected = NULL;
    return __atomic_compare_exchange_n(&swift_task_enqueueGlobal_hook, &expected, hook, false,
                                       __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}
