#if defined(__linux__) && !defined(_GNU_SOURCE)
#error "CThreading needs _GNU_SOURCE on Linux (set in Package.swift)"
#endif

#include "CThreading.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_t main_thread;
static uint64_t main_native_id;

// Runs on the initial thread before `main`: the only moment its identity can be read for sure.
__attribute__((constructor)) static void cthreading_record_main_thread(void) {
    main_thread = pthread_self();
    main_native_id = cthreading_gettid();
}

pthread_t cthreading_main_thread(void) { return main_thread; }

uint64_t cthreading_main_native_id(void) { return main_native_id; }

int cthreading_start(void *(*start)(void *), void *context, size_t stack_size, int joinable, uintptr_t *ident) {
    pthread_t thread;
    pthread_attr_t attr;
    int rc = pthread_attr_init(&attr);
    if (rc != 0) return rc;
    rc = pthread_attr_setdetachstate(&attr, joinable ? PTHREAD_CREATE_JOINABLE : PTHREAD_CREATE_DETACHED);
#if defined(__APPLE__)
    // Darwin takes only whole pages (16 KiB on arm64): round up, as the size is a minimum.
    size_t page = (size_t)getpagesize();
    if (stack_size % page != 0) stack_size += page - stack_size % page;
#endif
    if (rc == 0 && stack_size != 0) rc = pthread_attr_setstacksize(&attr, stack_size);
    if (rc == 0) rc = pthread_create(&thread, &attr, start, context);
    if (rc == 0) *ident = cthreading_thread_ident(thread);
    pthread_attr_destroy(&attr);
    return rc;
}

int cthreading_start_detached(void *(*start)(void *), void *context, size_t stack_size, uintptr_t *ident) {
    return cthreading_start(start, context, stack_size, 0, ident);
}

int cthreading_join(uintptr_t ident) { return pthread_join(cthreading_thread_from_ident(ident), NULL); }

int cthreading_detach_self(void) { return pthread_detach(pthread_self()); }

// Weak: a process without libdispatch (no Swift concurrency in it) has no main queue to be on.
extern const char *dispatch_queue_get_label(void *queue) __attribute__((weak));

int cthreading_on_main_queue(void) {
    if (dispatch_queue_get_label == NULL) return 0;
    // DISPATCH_CURRENT_QUEUE_LABEL (NULL): the label of the queue whose work this thread runs.
    const char *label = dispatch_queue_get_label(NULL);
    return label != NULL && strcmp(label, "com.apple.main-thread") == 0;
}

int cthreading_atexit(void (*hook)(void)) { return atexit(hook); }
