#include "CBench.h"
#include <errno.h>
#include <malloc.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>

int cbench_pin(int cpu) {
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
