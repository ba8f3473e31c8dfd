// Test harness shared by every suite: raw pthreads (so the primitives are tested without the
// module's own Thread type), CPython's `Bunch`, and small timing helpers.

import Synchronization
import Testing

@testable import Threading

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif

/// A joinable raw pthread running `body`.
final class RawThread: @unchecked Sendable {
    // @unchecked Sendable: `handle` is written once by `init` before the object is shared.
    private var handle = pthread_t()

    private final class Box {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }

    /// Starts a new pthread running `body`.
    ///
    /// The new thread owns `body` and releases it when it returns: a RawThread kept in a list
    /// that `body` captures makes no reference cycle.
    init(_ body: @escaping @Sendable () -> Void) {
        let context = Unmanaged.passRetained(Box(body)).toOpaque()
        let rc = pthread_create(&handle, nil, rawThreadEntry, context)
        precondition(rc == 0, "pthread_create failed: \(rc)")
    }

    /// Waits for the thread to end.
    func join() {
        let rc = pthread_join(handle, nil)
        precondition(rc == 0, "pthread_join failed: \(rc)")
    }

    fileprivate static func run(_ context: UnsafeMutableRawPointer) {
        Unmanaged<Box>.fromOpaque(context).takeRetainedValue().body()
    }
}

// A nonisolated global start routine: safe to call from any thread under Swift 6.
private func rawThreadEntry(_ context: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    RawThread.run(context!)
    return nil
}

extension [RawThread] {
    /// Waits for every thread to end, in order.
    func joinAll() {
        for thread in self { thread.join() }
    }
}

/// The timeout of a wait in an async test for something that must come (a wake-up, a setter):
/// reached only when the test fails. Long, because all the async tests of the suite share the
/// cooperative pool (two threads on a 2-CPU machine), which the suite's synchronous tests hold
/// while they run: under ThreadSanitizer on a loaded machine an async test's setter has been seen
/// to wait over a minute for a pool thread.
let safetyTimeout: Double = 600

/// Runs `body` on a raw thread and suspends the calling task until it returns.
///
/// For a long synchronous test body (thousands of threads started and joined): run as a plain
/// synchronous test, it would hold one of the cooperative pool's threads (two on a 2-CPU machine)
/// for its whole run, and with both held every async test in the process stalls meanwhile, until
/// their own timeouts fail them.
func offThePool(_ body: @escaping @Sendable () -> Void) async {
    var thread: RawThread? = nil
    await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
        thread = RawThread {
            body()
            continuation.resume()
        }
    }
    thread?.join()  // at its end already
}

/// Starts `count` raw threads running `body(i)` and returns them.
@discardableResult
func spawn(_ count: Int = 1, _ body: @escaping @Sendable (Int) -> Void) -> [RawThread] {
    (0..<count).map { i in RawThread { body(i) } }
}

/// CPython's `lock_tests.Bunch`: runs `body` on `n` raw threads, records errors, and lets the
/// test wait until all have started or finished.
final class Bunch: Sendable {
    let started = Atomic<Int>(0)
    let finished = Atomic<Int>(0)
    let count: Int
    private let doFinish = Atomic<Bool>(false)
    private let errors = Protected<[String]>([])
    private let threads = Protected<[RawThread]>([])

    /// Starts `n` threads running `body`; with `waitBeforeExit`, they stay alive until `doFinish()`.
    init(_ n: Int, waitBeforeExit: Bool = false, _ body: @escaping @Sendable () throws -> Void) {
        count = n
        let spawned = (0..<n).map { _ in
            RawThread { [self] in
                started.add(1, ordering: .sequentiallyConsistent)
                do { try body() } catch { errors.withLock { $0.append("\(error)") } }
                if waitBeforeExit {
                    while !doFinish.load(ordering: .sequentiallyConsistent) { usleep(1000) }
                }
                finished.add(1, ordering: .sequentiallyConsistent)
            }
        }
        threads.withLock { $0 = spawned }
    }

    /// Waits until every thread has started (CPython's `wait_for_started`).
    func waitForStarted() {
        while started.load(ordering: .sequentiallyConsistent) < count { usleep(1000) }
    }

    /// Lets threads created with `waitBeforeExit` end.
    func doFinishNow() {
        doFinish.store(true, ordering: .sequentiallyConsistent)
    }

    /// Joins every thread and reports the errors their bodies threw (CPython's `__exit__`).
    func join(sourceLocation: SourceLocation = #_sourceLocation) {
        doFinishNow()
        for thread in threads.withLock({ $0 }) { thread.join() }
        for error in errors.withLock({ $0 }) {
            Issue.record("a thread threw: \(error)", sourceLocation: sourceLocation)
        }
    }

    var finishedCount: Int { finished.load(ordering: .sequentiallyConsistent) }
}

/// Whether a sanitizer's runtime is linked into this process (`swift test --sanitize=...`).
/// Resource figures are then the sanitizer's more than the library's: AddressSanitizer keeps freed
/// memory in quarantine, and every sanitizer slows each call down several times.
let runningUnderSanitizer = ["__asan_init", "__tsan_init"].contains { (name: String) in dlsym(nil, name) != nil }

/// Sleeps for `seconds` (CPython's `time.sleep`).
func sleep(seconds: Double) {
    var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
}

/// Gives `n` threads time to block (CPython's `wait_threads_blocked`: 10 ms each).
func waitThreadsBlocked(_ n: Int) {
    sleep(seconds: 0.010 * Double(n))
}

/// Seconds on the monotonic clock.
func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Runs `body` and returns the seconds it took.
func measure(_ body: () throws -> Void) rethrows -> Double {
    let start = monotonicSeconds()
    try body()
    return monotonicSeconds() - start
}

/// CPython's `assertTimeout`: at least 0.6× the expected time (the clock may be coarse), and
/// loosely below 10× (the machine is shared).
func expectTimeout(_ actual: Double, _ expected: Double, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual >= 0.6 * expected, "took \(actual) s, expected about \(expected) s", sourceLocation: sourceLocation)
    #expect(actual < 10 * expected, "took \(actual) s, expected about \(expected) s", sourceLocation: sourceLocation)
}

/// The same for a task's timed wait: the lower bound as strict, the upper one loose, since the
/// task resumes on the cooperative pool, whose few threads the synchronous tests running in
/// parallel may hold for a while.
func expectAsyncTimeout(_ actual: Double, _ expected: Double, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual >= 0.6 * expected, "took \(actual) s, expected about \(expected) s", sourceLocation: sourceLocation)
    #expect(actual < 60, "took \(actual) s, expected about \(expected) s", sourceLocation: sourceLocation)
}

/// Expects `body` to throw `ThreadingError` of `kind` with exactly `message`.
func expectThreadingError<R>(
    _ kind: ThreadingError.Kind,
    _ message: String,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> R
) {
    do {
        _ = try body()
        Issue.record("expected \(kind): \(message), nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as ThreadingError {
        #expect(error.kind == kind, sourceLocation: sourceLocation)
        #expect(error.message == message, sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected ThreadingError, got \(error)", sourceLocation: sourceLocation)
    }
}

/// A thread-safe list for results gathered from many threads.
final class SharedList<Element: Sendable>: Sendable {
    private let storage = Protected<[Element]>([])
    func append(_ element: Element) { storage.withLock { $0.append(element) } }
    var values: [Element] { storage.withLock { $0 } }
    var count: Int { storage.withLock { $0.count } }
}

/// Checks that the dummy threads of raw pthreads that have ended left nothing behind: each is
/// stopped and gone from `enumerate()` (CPython's test_thread_leak counts `enumerate()`).
func expectNoneLeft(_ dummies: [Threading.Thread], sourceLocation: SourceLocation = #_sourceLocation) {
    let left = enumerate()
    for dummy in dummies {
        #expect(!dummy.isAlive, "\(dummy) is alive after its thread ended", sourceLocation: sourceLocation)
        #expect(!left.contains { $0 === dummy }, "\(dummy) is still in enumerate()", sourceLocation: sourceLocation)
    }
}

/// A thread-safe counter.
final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    init(_ initial: Int = 0) { value.store(initial, ordering: .sequentiallyConsistent) }
    @discardableResult func increment(by n: Int = 1) -> Int { value.add(n, ordering: .sequentiallyConsistent).newValue }
    var current: Int { value.load(ordering: .sequentiallyConsistent) }
}
