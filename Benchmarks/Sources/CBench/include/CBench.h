#ifndef C_BENCH_H
#define C_BENCH_H
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/// Pins the calling thread to `cpu`, or (when `cpu` < 0) back to the CPUs the process started on.
/// Returns 0 or errno.
int cbench_pin(int cpu);
/// The usable size of the heap block at `pointer` (`malloc_usable_size`).
size_t cbench_malloc_usable_size(void *pointer);
/// CPU time (user + system) of the whole process, in seconds (`getrusage(RUSAGE_SELF)`).
double cbench_process_cpu_seconds(void);
/// CPU time (user + system) of the calling thread, in seconds (`getrusage(RUSAGE_THREAD)`).
double cbench_thread_cpu_seconds(void);
/// CPU time of `thread` so far, in seconds, from its CPU-time clock; negative on error.
double cbench_cpu_seconds_of(pthread_t thread);
/// Keeps `value` alive as far as the optimizer knows.
void cbench_blackhole(uint64_t value);
/// Writes the CPUs the process started on ("0,1") into `buffer`; returns how many there are.
int cbench_startup_affinity(char *buffer, size_t size);
#endif
