// The small C layer under swift-threading: the Linux calls that Swift's `Glibc` module does not
// expose (they are GNU extensions or raw system calls), each a thin wrapper that reports errno.
#ifndef C_THREADING_H
#define C_THREADING_H

#include <stdint.h>
#include <time.h>
#include <pthread.h>

/// Sleeps while `*word == expected`, until woken or until the absolute CLOCK_MONOTONIC time
/// `deadline` (NULL: no deadline). Returns 0 when woken (possibly spuriously) or errno:
/// EAGAIN (the word differed), ETIMEDOUT, EINTR.
int cthreading_futex_wait(uint32_t *word, uint32_t expected, const struct timespec *deadline);

/// Wakes at most `count` threads sleeping on `word`. Returns how many were woken, or -errno.
int cthreading_futex_wake(uint32_t *word, int count);

/// Moves at most `count` threads sleeping on `from` to sleep on `to` instead, without waking
/// any, provided `*from == expected` (FUTEX_CMP_REQUEUE). Returns how many were moved, or -errno
/// (-EAGAIN when `*from` differed).
int cthreading_futex_requeue(uint32_t *from, uint32_t expected, uint32_t *to, int count);

/// The kernel's id of the calling thread.
uint64_t cthreading_gettid(void);

/// Sets the OS name of `thread` (at most 15 bytes are kept; longer names are truncated
/// on a UTF-8 boundary by the caller). Returns 0 or errno.
int cthreading_setname(pthread_t thread, const char *name);

/// Reads the OS name of `thread` into `buffer` of `size` bytes. Returns 0 or errno.
int cthreading_getname(pthread_t thread, char *buffer, size_t size);

/// Pins the calling thread to CPU `cpu`, or lets it run anywhere when `cpu` < 0. Returns 0 or errno.
int cthreading_pin_to_cpu(int cpu);

/// The number of CPUs the calling thread may run on.
int cthreading_cpu_count(void);

/// The stack size of the calling thread, as its pthread attributes report it (0 if unknown).
size_t cthreading_current_stack_size(void);

/// The process's initial thread, recorded by a constructor before `main` runs.
pthread_t cthreading_main_thread(void);

/// The kernel's id of the process's initial thread.
uint64_t cthreading_main_native_id(void);

/// Starts a detached thread running `start(context)` with `stack_size` bytes of stack
/// (0: the default). Returns 0 or the error of `pthread_attr_setstacksize`/`pthread_create`.
int cthreading_start_detached(void *(*start)(void *), void *context, size_t stack_size, pthread_t *thread);

/// Whether the calling thread is running work of Dispatch's main queue: the main actor's
/// executor, which runs on Dispatch's threads once an `async` main has ended the initial thread
/// (`dispatch_main`). 0 when libdispatch is not in the process.
int cthreading_on_main_queue(void);

/// Registers `hook` to run at process exit (`atexit`). Returns 0 or -1.
int cthreading_atexit(void (*hook)(void));

/// The kernel's limit on a thread name, terminator excluded.
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
extern __thread cthreading_local_storage *cthreading_local_current __attribute__((tls_model("initial-exec")));

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
