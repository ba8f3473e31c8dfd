// The heavy half of an asymmetric fence: `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)` on Linux,
// which runs a full memory barrier on every CPU running a thread of this process before it
// returns. A lock that uses it releases with a plain store (no locked instruction): the rare
// thread about to sleep on the lock pays for the ordering instead (see `FencelessLock.swift`).

#include "CThreading.h"

#include <errno.h>

#if defined(__linux__) && !defined(THREADING_PORTABLE_WAIT) && __has_include(<linux/membarrier.h>)
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#if defined(SYS_membarrier)
#define CTHREADING_HAVE_MEMBARRIER 1
#endif
#endif

#if CTHREADING_HAVE_MEMBARRIER

int cthreading_heavy_barrier_register(void) {
    long commands = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    if (commands < 0) return errno;
    if (!(commands & MEMBARRIER_CMD_PRIVATE_EXPEDITED)) return ENOSYS;
    if (syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) != 0) return errno;
    return 0;
}

int cthreading_heavy_barrier(void) {
    if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0) return errno;
    return 0;
}

#else

int cthreading_heavy_barrier_register(void) {
    return ENOSYS;
}

int cthreading_heavy_barrier(void) {
    return ENOSYS;
}

#endif
