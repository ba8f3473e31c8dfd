// The scenarios of ThreadPoolExecutorExitTests: what a thread pool does when the process exits
// (CPython's test_interpreter_shutdown, test_submit_after_interpreter_shutdown, test_hang_gh83386,
// test_cancel_futures_wait_false), a pool dropped without shutdown, and the log lines of a
// failing initializer and a throwing done callback.

import Synchronization
import Threading

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#endif

let futureScenarios: [String: @Sendable () throws -> Void] = [
    "pool-exit-runs-queued": poolExitRunsQueued,
    "pool-submit-after-exit": poolSubmitAfterExit,
    "pool-shutdown-no-wait-exit": poolShutdownNoWaitExit,
    "pool-cancel-futures-no-wait-exit": poolCancelFuturesNoWaitExit,
    "pool-dropped": poolDropped,
    "pool-initializer-fails": poolInitializerFails,
    "future-callback-throws": futureCallbackThrows,
]

/// CPython's `sleep_and_print`.
@Sendable func sleepAndPrint(_ t: Double, _ message: String) {
    sleep(seconds: t)
    say(message)
}

/// test_interpreter_shutdown: work queued when `main` returns still runs.
/// Expected: "apple\n", empty stderr, exit 0.
func poolExitRunsQueued() throws {
    let pool = try ThreadPoolExecutor(maxWorkers: 5)
    _ = try pool.submit { sleepAndPrint(0.3, "apple") }
    keepAlive(pool)
}

/// The pool the exit handler of `poolSubmitAfterExit` submits to.
let atexitPool = Mutex<ThreadPoolExecutor?>(nil)

/// test_submit_after_interpreter_shutdown: an `atexit` handler that runs after the module's
/// exit-time shutdown sees `submit` throw. Expected: stdout "runtime-error\n", stderr
/// "RuntimeError: cannot schedule new futures after interpreter shutdown\n", exit 0.
func poolSubmitAfterExit() throws {
    // Registered before the pool exists, so before the module's own exit handler: it runs after.
    atexit {
        guard let pool = atexitPool.withLock({ $0 }) else { return }
        do {
            _ = try pool.submit { 0 }
            say("no error")
        } catch {
            say("runtime-error")
            fputs("\(error)\n", stderr)
        }
    }
    let pool = try ThreadPoolExecutor(maxWorkers: 5)
    atexitPool.withLock { $0 = pool }
}

/// test_hang_gh83386: `shutdown(wait: false)` with work running; the process waits for it.
/// Expected: "apple\n", empty stderr, exit 0.
func poolShutdownNoWaitExit() throws {
    let pool = try ThreadPoolExecutor(maxWorkers: 3)
    _ = try pool.submit { sleepAndPrint(0.3, "apple") }
    pool.shutdown(wait: false)
}

/// test_cancel_futures_wait_false. Expected: "apple\n" or nothing (if the work had not started),
/// empty stderr, exit 0.
func poolCancelFuturesNoWaitExit() throws {
    let pool = try ThreadPoolExecutor()
    _ = try pool.submit { sleepAndPrint(0.1, "apple") }
    pool.shutdown(wait: false, cancelFutures: true)
}

/// A pool dropped without `shutdown()`: its queued work runs, its workers end, the process exits
/// at once. Expected: "done 3\nworkers alive: 0\n", exit 0, well under the watchdog.
func poolDropped() throws {
    let ran = Atomic<Int>(0)
    var threads: [Threading.Thread] = []
    do {
        let pool = try ThreadPoolExecutor(maxWorkers: 3)
        for _ in 0..<3 {
            _ = try pool.submit {
                sleep(seconds: 0.1)
                ran.add(1, ordering: .relaxed)
            }
        }
        threads = enumerate().filter { $0.name.hasPrefix("ThreadPoolExecutor-") }
    }
    for thread in threads { try thread.join(timeout: 30) }
    say("done \(ran.load(ordering: .relaxed))")
    say("workers alive: \(threads.filter(\.isAlive).count)")
}

/// A failing initializer is logged as CPython logs it. Expected stderr: "Exception in
/// initializer:\nRunFailed: error in initializer\n"; stdout "broken\n".
func poolInitializerFails() throws {
    let pool = try ThreadPoolExecutor(maxWorkers: 1, initializer: { throw RunFailed("error in initializer") })
    let future = try pool.submit { 0 }
    do {
        _ = try future.result(timeout: 30)
    } catch let error as ThreadingError where error.kind == .brokenThreadPool {
        say("broken")
    }
    pool.shutdown()
}

/// test_done_callback_raises: the error of a throwing callback is logged and the next callback
/// runs. Expected stdout "next ran\n"; stderr "exception calling callback for <Future at 0x…
/// state=finished returned Int>\nRunFailed: doh!\n".
func futureCallbackThrows() throws {
    let future = Future<Int>()
    future.addDoneCallback { (_: Future<Int>) throws in throw RunFailed("doh!") }
    future.addDoneCallback { _ in say("next ran") }
    try future.setResult(5)
}

/// Keeps `object` alive until the process exits (the pool of an exit scenario is not dropped).
func keepAlive(_ object: AnyObject) {
    _ = Unmanaged.passRetained(object)
}
