// The Swift runtime's hook for the global executor, reached by linking instead of by `dlsym`.
//
// NIO installs its event loops as Swift concurrency's global executor through the runtime's
// `swift_task_enqueueGlobal_hook`, which it finds with `dlsym`. A binary that links the Swift
// runtime in (`--static-swift-stdlib`, runnel's release build) keeps the symbol out of its
// dynamic symbol table, so `dlsym` finds nothing there; a reference the linker resolves finds it
// in both kinds of build.
#ifndef RUNNEL_EXECUTOR_HOOK_H
#define RUNNEL_EXECUTOR_HOOK_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Sets the runtime's enqueue hook to `hook` (a `@convention(thin)` Swift function of the
/// runtime's hook type) if no hook is set yet, atomically. Returns whether it was set.
bool runnel_install_enqueue_global_hook(const void *_Nonnull hook);

#ifdef __cplusplus
}
#endif

#endif
