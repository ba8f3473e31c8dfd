// The small C layer under swift-threading: the calls that Swift's `Glibc`, `Musl` or `Darwin`
// modules do not expose alike (GNU extensions, raw system calls, Darwin's `_np` functions), each
// a thin wrapper that reports errno, with one branch per platform in the .c files. Not public
// API: only the `Threading` module and the package's own tests and tools use it.
#ifndef C_THREADING_H
#define C_THREADING_H

#include <stdint.h>
#include <time.h>
#include <pthread.h>

/// Sleeps while `*word == expected`, until woken or until the absolute CLOCK_MONOTONIC time
/// `deadline` (NULL: no deadline). Returns 0 when woken (possibly spuriously) or errno:
/// EAGAIN (the word differed), ETIMEDOUT, EINTR. The backend is chosen in wait.c: futex on
/// Linux, os_sync_wait_on_address on Darwin 14.4+, pthread condition variables elsewhere or
/// when THREADING_PORTABLE_WAIT is defined.
int cthreading_futex_wait(uint32_t *word, uint32_t expected, const struct timespec *deadline);

/// Wakes at most `count` threads sleeping on `word`. Returns how many were woken, or -errno.
int cthreading_futex_wake(uint32_t *word, int count);

/// Moves at most `count` threads sleeping on `from` to sleep on `to` instead, without waking
/// any, provided `*from == expected` (FUTEX_CMP_REQUEUE). Returns how many were moved, or -errno
/// (-EAGAIN when `*from` differed). Only the futex backend moves threads: the others return 0
/// (none moved), and callers then wake the sleeper instead, as they do when it was not asleep yet.
int cthreading_futex_requeue(uint32_t *from, uint32_t expected, uint32_t *to, int count);

/// The waiting backend in use: "futex", "os_sync_wait_on_address" or "posix".
const char *cthreading_wait_backend(void);

/// Makes `cthreading_heavy_barrier` usable by this process (Linux's
/// `MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED`). Returns 0, or errno: ENOSYS where the kernel or
/// the platform has no such barrier, EPERM where a sandbox refuses the call.
int cthreading_heavy_barrier_register(void);

/// Runs a full memory barrier on every CPU that runs a thread of this process, and returns once
/// they all have (`membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)`). Returns 0 or errno. Only after
/// `cthreading_heavy_barrier_register` returned 0.
int cthreading_heavy_barrier(void);

/// Keeps the compiler from moving memory accesses across this point (it emits no instruction):
/// the light half of an asymmetric fence, whose CPU-level ordering `cthreading_heavy_barrier`
/// provides.
static inline void cthreading_compiler_barrier(void) {
    __asm__ __volatile__("" ::: "memory");
}

/// The kernel's id of the calling thread.
uint64_t cthreading_gettid(void);

/// The kernel's id of `thread`, which must not have been joined or have ended detached, read from
/// its descriptor without a system call (as soon as `pthread_create` returns); 0 if the C library
/// does not tell.
uint64_t cthreading_native_id(pthread_t thread);

/// Sets the OS name of `thread` (at most 15 bytes are kept; longer names are truncated
/// on a UTF-8 boundary by the caller). Returns 0 or errno; ENOTSUP on Darwin for a thread other
/// than the calling one (Darwin names only the calling thread).
int cthreading_setname(pthread_t thread, const char *name);

/// Reads the OS name of `thread` into `buffer` of `size` bytes. Returns 0 or errno.
int cthreading_getname(pthread_t thread, char *buffer, size_t size);

/// Pins the calling thread to CPU `cpu`, or lets it run anywhere when `cpu` < 0. Returns 0 or errno
/// (ENOTSUP on Darwin, which has no thread affinity).
int cthreading_pin_to_cpu(int cpu);

/// Sets the calling thread's timer slack (how late the kernel may end its timed sleeps, to
/// batch wake-ups; 50 µs by default on Linux) to `nanoseconds`. Returns 0 or errno (ENOTSUP
/// where there is no such setting).
int cthreading_set_timer_slack(unsigned long nanoseconds);

/// 1 where `cthreading_pin_to_cpu` can pin (Linux), 0 elsewhere: tests and benchmarks that pin skip.
int cthreading_can_pin(void);

/// The number of CPUs the calling thread may run on.
int cthreading_cpu_count(void);

/// The stack size of the calling thread, as its pthread attributes report it (0 if unknown).
size_t cthreading_current_stack_size(void);

/// `thread` as an integer (Python's `get_ident()`): `pthread_t` is an integer on Linux and a
/// pointer on Darwin.
uintptr_t cthreading_thread_ident(pthread_t thread);

/// The `pthread_t` whose identity is `ident`.
pthread_t cthreading_thread_from_ident(uintptr_t ident);

/// The calling thread's identity: `cthreading_thread_ident(pthread_self())`, inlined.
static inline uintptr_t cthreading_current_ident(void) {
    return (uintptr_t)pthread_self();
}

/// The process's initial thread, recorded by a constructor before `main` runs.
pthread_t cthreading_main_thread(void);

/// The kernel's id of the process's initial thread.
uint64_t cthreading_main_native_id(void);

/// Starts a detached thread running `start(context)` with `stack_size` bytes of stack
/// (0: the default), and stores its identity (`cthreading_thread_ident`) in `ident`. Returns 0
/// or the error of `pthread_attr_setstacksize`/`pthread_create`.
int cthreading_start_detached(void *(*start)(void *), void *context, size_t stack_size, uintptr_t *ident);

/// Starts a thread as `cthreading_start_detached` does, joinable when `joinable` is not 0: then
/// exactly one `cthreading_join` of it, or one `cthreading_detach_self` on it, must follow, or its
/// stack stays mapped after it ends.
int cthreading_start(void *(*start)(void *), void *context, size_t stack_size, int joinable, uintptr_t *ident);

/// Waits until the joinable thread whose identity is `ident` has ended, and frees what it held
/// (`pthread_join`). Returns 0 or errno.
int cthreading_join(uintptr_t ident);

/// Detaches the calling thread (`pthread_detach(pthread_self())`): its resources go when it ends.
/// Returns 0 or errno.
int cthreading_detach_self(void);

/// Whether the calling thread is running work of Dispatch's main queue: the main actor's
/// executor, which runs on Dispatch's threads once an `async` main has ended the initial thread
/// (`dispatch_main`). 0 when libdispatch is not in the process.
int cthreading_on_main_queue(void);

/// Registers `hook` to run at process exit (`atexit`). Returns 0 or -1.
int cthreading_atexit(void (*hook)(void));

/// Stores up to `size` return addresses of the calling thread's stack in `frames` (glibc's
/// `backtrace`); returns how many. For the debug-build report of a blocking call inside a Task.
int cthreading_backtrace(void **frames, int size);

/// Writes the symbolized `frames` to `fd`, one a line (glibc's `backtrace_symbols_fd`).
void cthreading_backtrace_symbols_fd(void *const *frames, int count, int fd);

/// The kernel's limit on a thread name, terminator excluded (Linux's; Darwin keeps 63 bytes, and
/// the shorter limit is kept everywhere so that names behave alike).
#define CTHREADING_NAME_MAX 15

/// A CPU hint for short spin loops (`pause` on x86, `yield` on arm64).
static inline void cthreading_spin_hint(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/// One thread's table of thread-local slots (swift-threading's `Local` and `ThreadLocal`): slot `i`
/// holds a retained Swift box or NULL. The owning thread reads `slots` and `capacity` without a
/// lock; every write of them, and every access from another thread, holds the registry lock.
typedef struct cthreading_local_storage {
    void **slots;
    intptr_t capacity;
    struct cthreading_local_storage *previous;
    struct cthreading_local_storage *next;
} cthreading_local_storage;

/// The calling thread's slot table, or NULL before its first thread-local value. Initial-exec, so
/// a read is one load from the thread pointer. Use the accessors below (Swift does not import it).
#if defined(__APPLE__)
extern __thread cthreading_local_storage *cthreading_local_current;  // Darwin: thread-local variables
#else
extern __thread cthreading_local_storage *cthreading_local_current __attribute__((tls_model("initial-exec")));
#endif

/// The `Thread` object of the calling thread (an unmanaged Swift reference), or NULL: read on
/// every `currentThread()`, so initial-exec as well. Use the accessors below.
#if defined(__APPLE__)
extern __thread void *cthreading_thread_current;
#else
extern __thread void *cthreading_thread_current __attribute__((tls_model("initial-exec")));
#endif

/// The calling thread's `Thread` object, or NULL.
static inline void *cthreading_thread_get_current(void) {
    return cthreading_thread_current;
}

/// Makes `thread` (or NULL) the calling thread's `Thread` object.
static inline void cthreading_thread_set_current(void *thread) {
    cthreading_thread_current = thread;
}

/// The calling thread's slot table, or NULL.
static inline cthreading_local_storage *cthreading_local_get_current(void) {
    return cthreading_local_current;
}

/// Makes `storage` (or NULL) the calling thread's slot table.
static inline void cthreading_local_set_current(cthreading_local_storage *storage) {
    cthreading_local_current = storage;
}

/// Slot `index` of the calling thread's table, or NULL when the thread has no table yet or the
/// table is shorter. Lock-free: only the calling thread ever resizes its own table.
static inline void *cthreading_local_slot(intptr_t index) {
    cthreading_local_storage *storage = cthreading_local_current;
    if (storage == NULL || (uintptr_t)index >= (uintptr_t)storage->capacity) return NULL;
    return storage->slots[index];
}

#endif
