// Signals caught by a handler that writes each one's number to a pipe (the self-pipe trick), so
// that no signal is lost between asking for it and being able to take it.
//
// libdispatch's signal sources need the signal ignored (SIG_IGN) first and install their own
// handler later, on their manager thread: a SIGTERM that comes in between is discarded. Here
// `runnel_signals_catch` has the handler in place when it returns; before it, the signal has its
// default action. A handler (unlike SIG_IGN) is also reset to the default action in a child at
// exec, so children never inherit an ignored SIGTERM.
#ifndef RUNNEL_SIGNALS_H
#define RUNNEL_SIGNALS_H

#ifdef __cplusplus
extern "C" {
#endif

/// Creates the pipe the handler writes to, once per process, and returns its read end
/// (non-blocking, close-on-exec): each signal caught is one byte, its number. Later calls return
/// the same descriptor. -1 with errno set when the pipe cannot be made.
int runnel_signals_open(void);

/// Installs the handler for `signo` (after `runnel_signals_open`). 0, or -1 with errno set.
int runnel_signals_catch(int signo);

/// A descriptor that becomes readable when the child `pid` exits (Linux pidfd_open, 5.3 and
/// later; close-on-exec): one child's exit seen without SIGCHLD, which is process-wide and can
/// be lost between threads. -1 with errno set (ENOSYS on older kernels).
int runnel_pidfd_open(int pid);

#ifdef __cplusplus
}
#endif

#endif
