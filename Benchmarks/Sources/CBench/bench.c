#include "CBench.h"
#include <errno.h>
#include <malloc.h>
#include <sched.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>

/// The CPU affinity the process started with (`taskset -c 0` gives {0}), saved before `main`.
static cpu_set_t startup_set;
static int startup_set_valid;

__attribute__((constructor)) static void save_startup_affinity(void) {
    startup_set_valid = sched_getaffinity(0, sizeof(startup_set), &startup_set) == 0;
}

int cbench_pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (cpu < 0 && startup_set_valid) {
        set = startup_set;
    } else if (cpu < 0) {
        long n = sysconf(_SC_NPROCESSORS_CONF);
        for (long i = 0; i < n && i < CPU_SETSIZE; i++) CPU_SET(i, &set);
    } else {
        CPU_SET(cpu, &set);
    }
    return sched_setaffinity(0, sizeof(set), &set) == 0 ? 0 : errno;
}

int cbench_startup_affinity(char *buffer, size_t size) {
    if (size == 0) return 0;
    buffer[0] = 0;
    if (!startup_set_valid) return 0;
    size_t used = 0;
    for (int i = 0; i < CPU_SETSIZE; i++) {
        if (!CPU_ISSET(i, &startup_set)) continue;
        int written = snprintf(buffer + used, size - used, used == 0 ? "%d" : ",%d", i);
        if (written < 0 || (size_t)written >= size - used) break;
        used += (size_t)written;
    }
    return CPU_COUNT(&startup_set);
}

size_t cbench_malloc_usable_size(void *pointer) { return malloc_usable_size(pointer); }

static double seconds_of(const struct rusage *usage) {
    return usage->ru_utime.tv_sec + usage->ru_stime.tv_sec
        + (usage->ru_utime.tv_usec + usage->ru_stime.tv_usec) / 1e6;
}

double cbench_process_cpu_seconds(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return seconds_of(&usage);
}

double cbench_thread_cpu_seconds(void) {
    struct rusage usage;
    getrusage(RUSAGE_THREAD, &usage);
    return seconds_of(&usage);
}

double cbench_cpu_seconds_of(pthread_t thread) {
    clockid_t clock;
    struct timespec ts;
    if (pthread_getcpuclockid(thread, &clock) != 0 || clock_gettime(clock, &ts) != 0) return -1;
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

void cbench_blackhole(uint64_t value) { __asm__ __volatile__("" : : "r"(value) : "memory"); }
