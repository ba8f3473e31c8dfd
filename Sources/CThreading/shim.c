#ifndef _GNU_SOURCE
#error "CThreading needs _GNU_SOURCE (set in Package.swift)"
#endif

#include "CThreading.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>
#include <linux/futex.h>
#include <sys/syscall.h>

int cthreading_futex_wait(uint32_t *word, uint32_t expected, const struct timespec *deadline) {
    // FUTEX_WAIT_BITSET takes an absolute deadline, on CLOCK_MONOTONIC unless FUTEX_CLOCK_REALTIME
    // is given: a wall-clock jump neither shortens nor lengthens the wait.
    long rc = syscall(SYS_futex, word, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, expected, deadline, NULL,
                      FUTEX_BITSET_MATCH_ANY);
    return rc == 0 ? 0 : errno;
}

int cthreading_futex_wake(uint32_t *word, int count) {
    long rc = syscall(SYS_futex, word, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, count, NULL, NULL, 0);
    return rc >= 0 ? (int)rc : -errno;
}

int cthreading_futex_requeue(uint32_t *from, uint32_t expected, uint32_t *to, int count) {
    // The fourth argument carries the requeue count in the place of a timeout; none is woken.
    long rc = syscall(SYS_futex, from, FUTEX_CMP_REQUEUE | FUTEX_PRIVATE_FLAG, 0, (void *)(long)count, to, expected);
    return rc >= 0 ? (int)rc : -errno;
}

uint64_t cthreading_gettid(void) {
    return (uint64_t)syscall(SYS_gettid);
}

int cthreading_setname(pthread_t thread, const char *name) {
    return pthread_setname_np(thread, name);
}

int cthreading_getname(pthread_t thread, char *buffer, size_t size) {
    return pthread_getname_np(thread, buffer, size);
}

int cthreading_pin_to_cpu(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (cpu < 0) {
        long n = sysconf(_SC_NPROCESSORS_CONF);
        for (long i = 0; i < n && i < CPU_SETSIZE; i++) CPU_SET(i, &set);
    } else {
        CPU_SET(cpu, &set);
    }
    return sched_setaffinity(0, sizeof(set), &set) == 0 ? 0 : errno;
}

int cthreading_cpu_count(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
    return CPU_COUNT(&set);
}

size_t cthreading_current_stack_size(void) {
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) != 0) return 0;
    size_t size = 0;
    pthread_attr_getstacksize(&attr, &size);
    pthread_attr_destroy(&attr);
    return size;
}

__thread cthreading_local_storage *cthreading_local_current = NULL;
