// Scenarios about thread-local values and module state at process exit, and about the first use
// of the module on a thread other than the main one: CPython's test_finalization_shutdown,
// test_locals_at_exit, test_main_thread_during_shutdown, test_import_from_another_thread and
// test_print_exception_stderr_is_none_2.

import CThreading
import Threading

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif

/// A value whose `deinit` takes a while and then says so (CPython's `Sleeper`, slower, so that a
/// process exiting before the `deinit` ends shows).
final class Sleeper: Sendable {
    deinit {
        sleep(seconds: 0.3)
        say("deinit done")
    }
}

/// The global `Local` of test_finalization_shutdown: the only reference to the value stored in it
/// is the thread's own slot.
let finalizationLocal = Local()

/// The same with a typed thread-local value.
let finalizationThreadLocal = ThreadLocal<Sleeper?> { nil }

/// test_finalization_shutdown: a non-daemon thread stores in a global `Local` a value whose
/// `deinit` is slow, and `main` returns while the thread still runs. The exit-time shutdown waits
/// until the thread's values are released. Expected: "end of main\ndeinit done\n".
func finalizationShutdownLocal() throws {
    try Threading.Thread(target: {
        sleep(seconds: 0.1)
        finalizationLocal.x = Sleeper()
        sleep(seconds: 0.01)
    }).start()
    say("end of main")
}

/// test_finalization_shutdown with a `ThreadLocal`. Expected: "end of main\ndeinit done\n".
func finalizationShutdownThreadLocal() throws {
    try Threading.Thread(target: {
        sleep(seconds: 0.1)
        finalizationThreadLocal.value = Sleeper()
        sleep(seconds: 0.01)
    }).start()
    say("end of main")
}

/// The `Local` of test_locals_at_exit, set on the main thread.
let exitLocal = Local()

// Runs at exit, after the module's shutdown (registered before the module's own hook).
private func readMainLocalAtExit() {
    say("thread_dict.atexit = \(exitLocal.atexit.map { "\($0)" } ?? "nil")")
}

/// test_locals_at_exit: the main thread's thread-local values are still there when code runs at
/// exit. Expected: "thread_dict.atexit = value\n".
func localsAtExit() throws {
    precondition(cthreading_atexit(readMainLocalAtExit) == 0)
    exitLocal.atexit = "value"
}

/// The main thread as `main` began, for the exit hooks of test_main_thread_during_shutdown.
nonisolated(unsafe) private var mainAtStart: Threading.Thread?

// Runs at exit after the module's shutdown (registered before the module's own hook).
private func describeMainAfterShutdown() {
    let main = mainAtStart!
    say(
        "after shutdown: \(currentThread() === main) \(mainThread() === main) "
            + "\(enumerate().count == 1 && enumerate().first === main) alive: \(main.isAlive)"
    )
}

// Runs at exit before the module's shutdown (registered after the module's own hook): the
// non-daemon worker may still run then, so `enumerate()` is not looked at.
private func describeMainBeforeShutdown() {
    let main = mainAtStart!
    say("before shutdown: \(currentThread() === main) \(mainThread() === main) alive: \(main.isAlive)")
}

/// test_main_thread_during_shutdown: code running at exit is on the main thread; after the
/// module's shutdown (which CPython runs before every `atexit` callback) `enumerate()` is the
/// main thread alone, the non-daemon worker joined. Expected:
/// "before shutdown: true true alive: true\nafter shutdown: true true true alive: false\n".
func mainThreadDuringShutdown() throws {
    // Registered before the module's first use, so it runs after the module's own hook.
    precondition(cthreading_atexit(describeMainAfterShutdown) == 0)
    mainAtStart = currentThread()
    precondition(cthreading_atexit(describeMainBeforeShutdown) == 0)
    let worker = Threading.Thread(target: { sleep(seconds: 0.2) })
    try worker.start()
}

/// test_import_from_another_thread: the module is first used on a raw pthread, and `main`
/// returns without waiting for that thread. The main thread is still recognised as such, and the
/// exit-time shutdown neither complains nor waits for the foreign thread. Expected:
/// "first use: Dummy-1 daemon: true main: MainThread\ncurrent is main: true\n", exit 0, no stderr.
func importFromAnotherThread() throws {
    let used = RawSemaphore()
    let mainIdent = UInt(bitPattern: Int(bitPattern: UInt(pthread_self())))
    _ = RawThread {
        let me = currentThread()
        let main = mainThread()
        say("first use: \(me.name) daemon: \(me.daemon) main: \(main.name)")
        precondition(main.ident == mainIdent, "the main thread's ident is not the initial thread's")
        used.post()
        sleep(seconds: 10)
    }
    used.wait()
    say("current is main: \(currentThread() === mainThread())")
}

/// test_print_exception_stderr_is_none_2: with file descriptor 2 closed, a thread whose target
/// throws reaches the default `excepthook`, which cannot write, and the process goes on.
/// Expected: "joined\n", exit 0.
func stderrClosed() throws {
    close(2)
    let thread = Threading.Thread(target: { throw RunFailed("with no standard error") })
    try thread.start()
    try thread.join()
    say("joined")
}

/// A counting semaphore outside the module under test, for scenarios that must not use it yet.
final class RawSemaphore: @unchecked Sendable {
    // @unchecked Sendable: a `sem_t` is made to be shared between threads.
    private let semaphore = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)

    init() { sem_init(semaphore, 0, 0) }

    func post() { sem_post(semaphore) }

    func wait() { while sem_wait(semaphore) != 0 && errno == EINTR {} }
}
