#define _GNU_SOURCE
#include "runnel_signals.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int read_end = -1;
static volatile int write_end = -1;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

// Async-signal-safe: one write(2) to a non-blocking pipe. A full pipe drops the byte, which
// loses nothing: the reader has that signal's number queued already.
static void handler(int signo) {
    int saved = errno;
    unsigned char byte = (unsigned char)signo;
    if (write_end >= 0) (void)write(write_end, &byte, 1);
    errno = saved;
}

int runnel_signals_open(void) {
    pthread_mutex_lock(&lock);
    if (read_end < 0) {
        int ends[2];
        if (pipe2(ends, O_CLOEXEC | O_NONBLOCK) == 0) {
            read_end = ends[0];
            write_end = ends[1];
        }
    }
    int result = read_end;
    pthread_mutex_unlock(&lock);
    return result;
}

int runnel_signals_catch(int signo) {
    if (write_end < 0) {
        errno = EBADF;
        return -1;
    }
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = handler;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    return sigaction(signo, &action, NULL);
}

int runnel_pidfd_open(int pid) {
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);  // pidfds are always close-on-exec
#else
    errno = ENOSYS;
    return -1;
#endif
}
