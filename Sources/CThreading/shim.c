// Thread identity, names, CPU affinity and stack size, with one branch per C library:
// glibc and Musl on Linux, and Darwin. The waiting backends are in wait.c.
#if defined(__linux__) && !defined(_GNU_SOURCE)
#error "CThreading needs _GNU_SOURCE on Linux (set in Package.swift)"
#endif

#include "CThreading.h"

#include <errno.h>
#include <execinfo.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#if defined(__linux__)
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#endif

uint64_t cthreading_native_id(pthread_t thread) {
#if defined(__APPLE__)
    uint64_t tid = 0;
    pthread_threadid_np(thread, &tid);
    return tid;
#else
    // glibc and Musl give a thread's CPU-time clock as the kernel encodes it, from the id that
    // `clone` stored in the thread's descriptor before either thread ran on: `~tid << 3 | 6`
    // (CPUCLOCK_PERTHREAD_MASK | CPUCLOCK_SCHED, Linux's posix-cpu-timers ABI). No system call.
    clockid_t clock;
    if (pthread_getcpuclockid(thread, &clock) != 0 || (clock & 7) != 6) return 0;
    return (uint64_t)(uint32_t)~(clock >> 3);
#endif
}

uint64_t cthreading_gettid(void) {
#if defined(__APPLE__)
    return cthreading_native_id(pthread_self());
#else
    uint64_t tid = cthreading_native_id(pthread_self());
    return tid != 0 ? tid : (uint64_t)syscall(SYS_gettid);
#endif
}

int cthreading_setname(pthread_t thread, const char *name) {
#if defined(__APPLE__)
    // Darwin names only the calling thread.
    if (!pthread_equal(thread, pthread_self())) return ENOTSUP;
    return pthread_setname_np(name);
#else
    return pthread_setname_np(thread, name);
#endif
}

int cthreading_getname(pthread_t thread, char *buffer, size_t size) {
    return pthread_getname_np(thread, buffer, size);
}

int cthreading_pin_to_cpu(int cpu) {
#if defined(__linux__)
    cpu_set_t set;
    CPU_ZERO(&set);
    if (cpu < 0) {
        long n = sysconf(_SC_NPROCESSORS_CONF);
        for (long i = 0; i < n && i < CPU_SETSIZE; i++) CPU_SET(i, &set);
    } else {
        CPU_SET(cpu, &set);
    }
    return sched_setaffinity(0, sizeof(set), &set) == 0 ? 0 : errno;
#else
    (void)cpu;
    return ENOTSUP;  // Darwin has no thread affinity (only hints): callers that pin skip it
#endif
}

int cthreading_set_timer_slack(unsigned long nanoseconds) {
#if defined(__linux__)
    return prctl(PR_SET_TIMERSLACK, nanoseconds, 0, 0, 0) == 0 ? 0 : errno;
#else
    (void)nanoseconds;
    return ENOTSUP;
#endif
}

int cthreading_can_pin(void) {
#if defined(__linux__)
    return 1;
#else
    return 0;
#endif
}

int cthreading_cpu_count(void) {
#if defined(__linux__)
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
    return CPU_COUNT(&set);
#else
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
#endif
}

size_t cthreading_current_stack_size(void) {
#if defined(__APPLE__)
    return pthread_get_stacksize_np(pthread_self());
#else
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) != 0) return 0;
    size_t size = 0;
    pthread_attr_getstacksize(&attr, &size);
    pthread_attr_destroy(&attr);
    return size;
#endif
}

uintptr_t cthreading_thread_ident(pthread_t thread) { return (uintptr_t)thread; }

pthread_t cthreading_thread_from_ident(uintptr_t ident) { return (pthread_t)ident; }

__thread cthreading_local_storage *cthreading_local_current = NULL;
__thread void *cthreading_thread_current = NULL;

int cthreading_backtrace(void **frames, int size) {
    return backtrace(frames, size);
}

void cthreading_backtrace_symbols_fd(void *const *frames, int count, int fd) {
    backtrace_symbols_fd(frames, count, fd);
}
