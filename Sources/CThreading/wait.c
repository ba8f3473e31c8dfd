// The waiting backends under Platform.futexWait/futexWake: sleep while a 32-bit word holds an
// expected value, until woken or an absolute CLOCK_MONOTONIC deadline; wake some or all sleepers.
//
//   Linux (default)       futex(FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG) and FUTEX_WAKE.
//   Darwin                os_sync_wait_on_address / os_sync_wake_by_address_any (macOS 14.4,
//                         iOS 17.4 and later), the portable backend on older systems.
//   everything else       the portable backend: pthread mutexes and condition variables.
//   THREADING_PORTABLE_WAIT  forces the portable backend on Linux too (it is tested there).
//
// The portable backend keeps a fixed table of buckets, chosen by the word's address. A sleeper
// puts an entry on its own stack (the word's address, a condition variable, a woken flag) at the
// tail of its bucket's list after checking the word under the bucket's mutex; a waker takes the
// first `count` entries for the word off the list, flags them and signals each one's condition.
// Checking the word and queueing under the same mutex the waker takes is what makes a wake-up
// that follows a change of the word impossible to miss, as the kernel's futex hash bucket lock
// does. Wake-ups are first come, first served and each returns how many sleepers it woke, so
// callers that hand a lock to the woken thread can tell when nobody was there.

#include "CThreading.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#if defined(__linux__) && !defined(THREADING_PORTABLE_WAIT)
#define CTHREADING_WAIT_FUTEX 1
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#elif defined(__APPLE__)
#define CTHREADING_WAIT_DARWIN 1
#if __has_include(<os/os_sync_wait_on_address.h>)
#include <os/os_sync_wait_on_address.h>
#define CTHREADING_HAVE_OS_SYNC 1
#endif
#endif

// MARK: - The portable backend

#if !CTHREADING_WAIT_FUTEX

typedef struct wait_entry {
    const uint32_t *word;
    pthread_cond_t condition;
    bool woken;
    struct wait_entry *next;
    struct wait_entry *previous;
} wait_entry;

typedef struct {
    pthread_mutex_t mutex;
    wait_entry *head;
    wait_entry *tail;
} wait_bucket;

#define BUCKET_COUNT 256
static wait_bucket buckets[BUCKET_COUNT] = {
    [0 ... BUCKET_COUNT - 1] = {PTHREAD_MUTEX_INITIALIZER, NULL, NULL},
};

static wait_bucket *bucket_for(const uint32_t *word) {
    uintptr_t key = (uintptr_t)word >> 2;
    key *= (uintptr_t)0x9E3779B97F4A7C15ull;  // Fibonacci hashing: the high bits are well mixed
    return &buckets[key >> (sizeof(uintptr_t) * 8 - 8)];
}

static void unlink_entry(wait_bucket *bucket, wait_entry *entry) {
    if (entry->previous) entry->previous->next = entry->next; else bucket->head = entry->next;
    if (entry->next) entry->next->previous = entry->previous; else bucket->tail = entry->previous;
    entry->next = entry->previous = NULL;
}

static int64_t monotonic_ns(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

static int portable_wait(uint32_t *word, uint32_t expected, const struct timespec *deadline) {
    wait_bucket *bucket = bucket_for(word);
    pthread_mutex_lock(&bucket->mutex);
    if (__atomic_load_n(word, __ATOMIC_SEQ_CST) != expected) {
        pthread_mutex_unlock(&bucket->mutex);
        return EAGAIN;
    }
    wait_entry entry = {.word = word, .woken = false, .next = NULL, .previous = bucket->tail};
#if defined(__APPLE__)
    pthread_cond_init(&entry.condition, NULL);  // timed waits are relative below
#else
    pthread_condattr_t attributes;
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);  // deadlines are on the monotonic clock
    pthread_cond_init(&entry.condition, &attributes);
    pthread_condattr_destroy(&attributes);
#endif
    if (bucket->tail) bucket->tail->next = &entry; else bucket->head = &entry;
    bucket->tail = &entry;

    int rc = 0;
    if (deadline == NULL) {
        rc = pthread_cond_wait(&entry.condition, &bucket->mutex);
    } else {
#if defined(__APPLE__)
        // Darwin's condition variables have no CLOCK_MONOTONIC attribute: wait for what is left.
        int64_t left = (int64_t)deadline->tv_sec * 1000000000 + deadline->tv_nsec - monotonic_ns();
        if (left <= 0) {
            rc = ETIMEDOUT;
        } else {
            struct timespec relative = {.tv_sec = left / 1000000000, .tv_nsec = left % 1000000000};
            rc = pthread_cond_timedwait_relative_np(&entry.condition, &bucket->mutex, &relative);
        }
#else
        rc = pthread_cond_timedwait(&entry.condition, &bucket->mutex, deadline);
#endif
    }
    // Woken: a waker has taken the entry off the list. Otherwise (time out, or a spurious
    // return) take it off here; the caller looks at its state again either way.
    bool woken = entry.woken;
    if (!woken) unlink_entry(bucket, &entry);
    pthread_mutex_unlock(&bucket->mutex);
    pthread_cond_destroy(&entry.condition);
    if (woken) return 0;
    if (rc == ETIMEDOUT) return ETIMEDOUT;
    return 0;
}

static int portable_wake(uint32_t *word, int count) {
    wait_bucket *bucket = bucket_for(word);
    int woken = 0;
    pthread_mutex_lock(&bucket->mutex);
    wait_entry *entry = bucket->head;
    while (entry != NULL && woken < count) {
        wait_entry *next = entry->next;
        if (entry->word == word) {
            unlink_entry(bucket, entry);
            entry->woken = true;
            // Signalled under the mutex: the sleeper cannot destroy its condition before this
            // returns, since it takes the mutex again before it looks at `woken`.
            pthread_cond_signal(&entry->condition);
            woken += 1;
        }
        entry = next;
    }
    pthread_mutex_unlock(&bucket->mutex);
    return woken;
}

#endif  // !CTHREADING_WAIT_FUTEX

// MARK: - The Darwin backend

#if CTHREADING_WAIT_DARWIN && CTHREADING_HAVE_OS_SYNC
static int darwin_wait(uint32_t *word, uint32_t expected, const struct timespec *deadline) {
    int rc;
    if (deadline == NULL) {
        rc = os_sync_wait_on_address(word, expected, sizeof(uint32_t), OS_SYNC_WAIT_ON_ADDRESS_NONE);
    } else {
        int64_t left = (int64_t)deadline->tv_sec * 1000000000 + deadline->tv_nsec - monotonic_ns();
        if (left <= 0) return ETIMEDOUT;
        rc = os_sync_wait_on_address_with_timeout(word, expected, sizeof(uint32_t), OS_SYNC_WAIT_ON_ADDRESS_NONE,
                                                  OS_CLOCK_MACH_ABSOLUTE_TIME, (uint64_t)left);
    }
    if (rc >= 0) return 0;
    return errno;  // ETIMEDOUT, EINTR (look again); anything else is a bug and traps in Swift
}

static int darwin_wake(uint32_t *word, int count) {
    int woken = 0;
    while (woken < count) {
        // One at a time, so the count is exact; ENOENT: nobody was waiting.
        if (os_sync_wake_by_address_any(word, sizeof(uint32_t), OS_SYNC_WAKE_BY_ADDRESS_NONE) != 0) break;
        woken += 1;
    }
    return woken;
}
#endif

// MARK: - The entry points

int cthreading_futex_wait(uint32_t *word, uint32_t expected, const struct timespec *deadline) {
#if CTHREADING_WAIT_FUTEX
    // FUTEX_WAIT_BITSET takes an absolute deadline, on CLOCK_MONOTONIC unless FUTEX_CLOCK_REALTIME
    // is given: a wall-clock jump neither shortens nor lengthens the wait.
    long rc = syscall(SYS_futex, word, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, expected, deadline, NULL,
                      FUTEX_BITSET_MATCH_ANY);
    return rc == 0 ? 0 : errno;
#elif CTHREADING_WAIT_DARWIN && CTHREADING_HAVE_OS_SYNC
    if (__builtin_available(macOS 14.4, iOS 17.4, tvOS 17.4, watchOS 10.4, visionOS 1.1, *)) {
        return darwin_wait(word, expected, deadline);
    }
    return portable_wait(word, expected, deadline);
#else
    return portable_wait(word, expected, deadline);
#endif
}

int cthreading_futex_wake(uint32_t *word, int count) {
#if CTHREADING_WAIT_FUTEX
    long rc = syscall(SYS_futex, word, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, count, NULL, NULL, 0);
    return rc >= 0 ? (int)rc : -errno;
#elif CTHREADING_WAIT_DARWIN && CTHREADING_HAVE_OS_SYNC
    if (__builtin_available(macOS 14.4, iOS 17.4, tvOS 17.4, watchOS 10.4, visionOS 1.1, *)) {
        return darwin_wake(word, count);
    }
    return portable_wake(word, count);
#else
    return portable_wake(word, count);
#endif
}

int cthreading_futex_requeue(uint32_t *from, uint32_t expected, uint32_t *to, int count) {
#if CTHREADING_WAIT_FUTEX
    // The fourth argument carries the requeue count in the place of a timeout; none is woken.
    long rc = syscall(SYS_futex, from, FUTEX_CMP_REQUEUE | FUTEX_PRIVATE_FLAG, 0, (void *)(long)count, to, expected);
    return rc >= 0 ? (int)rc : -errno;
#else
    // os_sync has no requeue, and the portable backend does not move sleepers between buckets:
    // none moved, so the caller wakes the sleeper on its own word (a correct futex answer too).
    (void)from;
    (void)expected;
    (void)to;
    (void)count;
    return 0;
#endif
}

const char *cthreading_wait_backend(void) {
#if CTHREADING_WAIT_FUTEX
    return "futex";
#elif CTHREADING_WAIT_DARWIN && CTHREADING_HAVE_OS_SYNC
    if (__builtin_available(macOS 14.4, iOS 17.4, tvOS 17.4, watchOS 10.4, visionOS 1.1, *)) {
        return "os_sync_wait_on_address";
    }
    return "posix";
#else
    return "posix";
#endif
}
