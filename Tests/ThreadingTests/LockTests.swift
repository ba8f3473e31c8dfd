// Ports of CPython 3.13's Lib/test/lock_tests.py `BaseLockTests` + `LockTests` (run there as
// test_threading.LockTests) and test_threading.py's `test_releasing_unacquired_lock`, plus tests of
// the API contract's Lock rules: the error table, every kind of timeout, `description`,
// `Lockable.withLock` and `with(_:_:)`.
//
// Not ported, because they cannot transfer:
// - test_at_fork_reinit: `os.fork` and the private `_at_fork_reinit()`.
// - test_threading.test_lock_no_args: `Lock(1)` and `Lock(a=1)` do not compile in Swift (checked by
//   the type system, not at run time).
// - test_threading.test_lock_no_subclass: `Lock` is a `final class`; subclassing it does not compile.
// - test_threading.test_lock_or_none: `threading.Lock | None` is Python-only typing.
// test_acquire_destroy and test_constructor are kept: they end a held lock's life without a release.

import Testing

@testable import Threading

@Suite(.serialized) struct LockTests {
    // MARK: - CPython BaseLockTests

    @Test func test_constructor() {
        let lock = Lock()
        #expect(!lock.isLocked)
    }

    @Test func test_repr() {
        let lock = Lock()
        #expect(lock.description == "<unlocked Lock>")
    }

    @Test func test_locked_repr() throws {
        let lock = Lock()
        try lock.acquire()
        #expect(lock.description == "<locked Lock>")
        try lock.release()
        #expect(lock.description == "<unlocked Lock>")
    }

    @Test func test_acquire_destroy() throws {
        // A held lock goes away without being released: nothing may trap or leak a sleeper.
        var lock: Lock? = Lock()
        weak let watcher = lock
        #expect(try lock!.acquire())
        lock = nil
        #expect(watcher == nil)
    }

    @Test func test_acquire_release() throws {
        let lock = Lock()
        #expect(try lock.acquire())
        #expect(lock.isLocked)
        try lock.release()
        #expect(!lock.isLocked)
    }

    @Test func test_try_acquire() throws {
        let lock = Lock()
        #expect(try lock.acquire(blocking: false))
        try lock.release()
    }

    @Test func test_try_acquire_contended() throws {
        let lock = Lock()
        try lock.acquire()
        let result = SharedList<Bool>()
        Bunch(1) { result.append(try lock.acquire(blocking: false)) }.join()
        #expect(result.values == [false])
        try lock.release()
    }

    @Test func test_acquire_contended() throws {
        let lock = Lock()
        try lock.acquire()
        let n = 5
        let bunch = Bunch(n) {
            try lock.acquire()
            try lock.release()
        }
        bunch.waitForStarted()
        // Threads block on lock.acquire()
        waitThreadsBlocked(n)
        #expect(bunch.finishedCount == 0)
        // Threads unblocked
        try lock.release()
        bunch.join()
        #expect(bunch.finishedCount == n)
    }

    @Test func test_with() throws {
        let lock = Lock()
        let f: @Sendable () throws -> Void = {
            try lock.acquire()
            try lock.release()
        }
        // Acquire the lock, do nothing, with releases the lock
        with(lock) { #expect(lock.isLocked) }
        // Check that the lock is unacquired
        Bunch(1, f).join()
        #expect(!lock.isLocked)

        // Acquire the lock, raise an exception, with releases the lock
        #expect(throws: LockTestsError.self) {
            try with(lock) { throw LockTestsError() }
        }
        // Check that the lock is unacquired even after an exception was raised in `with`
        #expect(!lock.isLocked)
        Bunch(1, f).join()
    }

    @Test func test_weakref_exists() {
        let lock = Lock()
        weak let reference = lock
        #expect(reference === lock)
    }

    @Test func test_weakref_deleted() {
        var lock: Lock? = Lock()
        weak let reference = lock
        lock = nil
        #expect(reference == nil)
    }

    @Test func test_thread_leak() {
        // The lock shouldn't leak anything when used from foreign (non-threading) threads.
        let lock = Lock()
        let count = Counter()
        let seen = SharedList<Threading.Thread>()
        let bunch = Bunch(15) {
            try lock.acquire()
            count.increment()
            seen.append(currentThread())
            try lock.release()
        }
        bunch.join()
        #expect(bunch.finishedCount == 15)
        #expect(count.current == 15)
        #expect(!lock.isLocked)
        expectNoneLeft(seen.values)
    }

    @Test func test_timeout() throws {
        let lock = Lock()
        // Can't set timeout if not blocking
        expectThreadingError(.valueError, "can't specify a timeout for a non-blocking call") {
            try lock.acquire(blocking: false, timeout: 1)
        }
        // Invalid timeout values
        expectThreadingError(.valueError, "timeout value must be a non-negative number") {
            try lock.acquire(timeout: -100)
        }
        expectThreadingError(.overflowError, "timeout value is too large") { try lock.acquire(timeout: 1e100) }
        expectThreadingError(.overflowError, "timeout value is too large") {
            try lock.acquire(timeout: timeoutMax + 1)
        }
        // TIMEOUT_MAX is ok
        #expect(try lock.acquire(timeout: timeoutMax))
        try lock.release()
        var acquired = false
        let elapsed = try measure { acquired = try lock.acquire(timeout: 5) }
        #expect(acquired)
        // Just a sanity test that it didn't actually wait for the timeout.
        #expect(elapsed < 5)
        let results = SharedList<Bool>()
        let times = SharedList<Double>()
        Bunch(1) {
            var got = true
            times.append(try measure { got = try lock.acquire(timeout: 0.5) })
            results.append(got)
        }.join()
        #expect(results.values == [false])
        expectTimeout(try #require(times.values.first), 0.5)
        try lock.release()
    }

    // MARK: - CPython LockTests

    @Test func test_reacquire() throws {
        // Lock needs to be released before re-acquiring.
        let lock = Lock()
        let phase = Counter()
        let thread = RawThread {
            try! lock.acquire()
            phase.increment()
            try! lock.acquire()
            phase.increment()
        }
        // Thread blocked on lock.acquire()
        #expect(lockTestsPoll { phase.current >= 1 })
        waitThreadsBlocked(1)
        #expect(phase.current == 1)
        // Thread unblocked
        try lock.release()
        #expect(lockTestsPoll { phase.current >= 2 })
        thread.join()
        #expect(phase.current == 2)
        #expect(lock.isLocked)
    }

    @Test func test_different_thread() throws {
        // Lock can be released from a different thread.
        let lock = Lock()
        try lock.acquire()
        Bunch(1) { try lock.release() }.join()
        #expect(!lock.isLocked)
        #expect(try lock.acquire(blocking: false))
        try lock.release()
    }

    @Test func test_state_after_timeout() throws {
        // Issue #11618: check that lock is in a proper state after a (non-zero) timeout.
        let lock = Lock()
        try lock.acquire()
        #expect(try lock.acquire(timeout: 0.01) == false)
        try lock.release()
        #expect(!lock.isLocked)
        #expect(try lock.acquire(blocking: false))
        try lock.release()
    }

    // MARK: - CPython test_threading.py

    @Test func test_releasing_unacquired_lock() {
        let lock = Lock()
        expectThreadingError(.runtimeError, "release unlocked lock") { try lock.release() }
    }

    // MARK: - The error table

    @Test func releaseUnlockedLeavesTheLockUsable() throws {
        let lock = Lock()
        expectThreadingError(.runtimeError, "release unlocked lock") { try lock.release() }
        #expect(!lock.isLocked)
        #expect(lock.description == "<unlocked Lock>")
        #expect(try lock.acquire(blocking: false))
        try lock.release()
        // A second release after a balanced pair fails the same way, and changes nothing.
        expectThreadingError(.runtimeError, "release unlocked lock") { try lock.release() }
        #expect(try lock.acquire(timeout: 1))
        #expect(lock.isLocked)
        try lock.release()
    }

    /// A call of `acquire(blocking:timeout:)` whose arguments CPython rejects.
    struct InvalidTimeout: Sendable, CustomTestStringConvertible {
        let blocking: Bool
        let timeout: Double
        let kind: ThreadingError.Kind
        let message: String
        var testDescription: String { "acquire(blocking: \(blocking), timeout: \(timeout))" }

        static let nonBlocking = "can't specify a timeout for a non-blocking call"
        static let negative = "timeout value must be a non-negative number"
        static let nan = "Invalid value NaN (not a number)"
        static let tooLarge = "timeout value is too large"

        /// CPython 3.13 checks NaN, then the range (infinities included), then a timeout on a
        /// non-blocking call, then a negative value other than -1 (probed on 3.13.0).
        static let all: [InvalidTimeout] = [
            .init(blocking: true, timeout: .nan, kind: .valueError, message: nan),
            .init(blocking: false, timeout: .nan, kind: .valueError, message: nan),
            .init(blocking: false, timeout: 1, kind: .valueError, message: nonBlocking),
            .init(blocking: false, timeout: 0, kind: .valueError, message: nonBlocking),
            .init(blocking: false, timeout: -5, kind: .valueError, message: nonBlocking),
            .init(blocking: true, timeout: -100, kind: .valueError, message: negative),
            .init(blocking: true, timeout: -2, kind: .valueError, message: negative),
            .init(blocking: true, timeout: -0.5, kind: .valueError, message: negative),
            .init(blocking: true, timeout: -1e-9, kind: .valueError, message: negative),
            .init(blocking: true, timeout: 1e100, kind: .overflowError, message: tooLarge),
            .init(blocking: true, timeout: timeoutMax + 1, kind: .overflowError, message: tooLarge),
            .init(blocking: true, timeout: .infinity, kind: .overflowError, message: tooLarge),
            .init(blocking: true, timeout: -.infinity, kind: .overflowError, message: tooLarge),
            .init(blocking: true, timeout: -1e100, kind: .overflowError, message: tooLarge),
            .init(blocking: false, timeout: .infinity, kind: .overflowError, message: tooLarge),
            .init(blocking: false, timeout: 1e100, kind: .overflowError, message: tooLarge),
        ]
    }

    @Test(arguments: InvalidTimeout.all)
    func invalidTimeoutThrowsUpFront(_ call: InvalidTimeout) throws {
        // On a free lock: the arguments are checked before the lock is even tried.
        let lock = Lock()
        expectThreadingError(call.kind, call.message) {
            try lock.acquire(blocking: call.blocking, timeout: call.timeout)
        }
        #expect(!lock.isLocked)
        // Still usable.
        #expect(try lock.acquire(blocking: false))
        // On a held lock: the same error, at once, and the lock stays held.
        let elapsed = measure {
            expectThreadingError(call.kind, call.message) {
                try lock.acquire(blocking: call.blocking, timeout: call.timeout)
            }
        }
        #expect(elapsed < 1)
        #expect(lock.isLocked)
        try lock.release()
        #expect(!lock.isLocked)
    }

    @Test func validTimeoutsOnAFreeLock() throws {
        let lock = Lock()
        let accepted: [(blocking: Bool, timeout: Double?)] = [
            (true, nil), (false, nil), (true, -1), (false, -1), (true, 0), (true, -0.0),
            (true, 1e-9), (true, 1), (true, timeoutMax),
        ]
        for call in accepted {
            let got = try lock.acquire(blocking: call.blocking, timeout: call.timeout)
            #expect(got, "acquire(blocking: \(call.blocking), timeout: \(String(describing: call.timeout)))")
            #expect(lock.isLocked)
            try lock.release()
        }
    }

    @Test func nonWaitingTimeoutsOnAHeldLockFailAtOnce() throws {
        let lock = Lock()
        try lock.acquire()
        let tries: [(blocking: Bool, timeout: Double?)] = [(false, nil), (false, -1), (true, 0), (true, -0.0)]
        for call in tries {
            var got = true
            let elapsed = try measure { got = try lock.acquire(blocking: call.blocking, timeout: call.timeout) }
            #expect(!got, "acquire(blocking: \(call.blocking), timeout: \(String(describing: call.timeout)))")
            #expect(elapsed < 1)
        }
        #expect(lock.isLocked)
        try lock.release()
    }

    @Test func shortTimeoutOnAHeldLockWaitsThenFails() throws {
        let lock = Lock()
        try lock.acquire()
        var got = true
        let elapsed = try measure { got = try lock.acquire(timeout: 0.2) }
        #expect(!got)
        expectTimeout(elapsed, 0.2)
        #expect(elapsed >= 0.2)  // the deadline is on the monotonic clock: never early
        #expect(lock.isLocked)
        try lock.release()
    }

    @Test(arguments: [-1.0, timeoutMax, 30.0])
    func blockingTimeoutWaitsForTheRelease(_ timeout: Double) throws {
        // -1 means "no timeout", timeoutMax is a valid (huge) timeout: both wait for the release
        // and neither times out early.
        let lock = Lock()
        try lock.acquire()
        let results = SharedList<Bool>()
        let bunch = Bunch(1) { results.append(try lock.acquire(timeout: timeout)) }
        bunch.waitForStarted()
        waitThreadsBlocked(5)
        #expect(bunch.finishedCount == 0)
        #expect(results.values.isEmpty)
        try lock.release()
        bunch.join()
        #expect(results.values == [true])
        #expect(lock.isLocked)  // now held on behalf of the (ended) thread
        try lock.release()
    }

    // MARK: - Release from another thread

    @Test func releasedFromADifferentThreadThanTheAcquirer() throws {
        // Thread A acquires, main releases it, thread B (blocked meanwhile) gets it and main
        // releases it again: a Lock has no owner.
        let lock = Lock()
        Bunch(1) { try lock.acquire() }.join()
        #expect(lock.isLocked)
        let results = SharedList<Bool>()
        let waiter = Bunch(1) { results.append(try lock.acquire(timeout: 30)) }
        waiter.waitForStarted()
        waitThreadsBlocked(2)
        #expect(results.values.isEmpty)
        try lock.release()
        waiter.join()
        #expect(results.values == [true])
        #expect(lock.isLocked)
        try lock.release()
        #expect(!lock.isLocked)
    }

    // MARK: - withLock and with(_:_:)

    @Test func withLockReleasesOnNormalExitAndReturnsTheBodysValue() throws {
        let lock = Lock()
        let value = lock.withLock { () -> Int in
            #expect(lock.isLocked)
            #expect(try! lock.acquire(blocking: false) == false)
            return 42
        }
        #expect(value == 42)
        #expect(!lock.isLocked)
        // Another thread can take it now.
        let results = SharedList<Bool>()
        Bunch(1) {
            results.append(try lock.acquire(blocking: false))
            try lock.release()
        }.join()
        #expect(results.values == [true])
    }

    @Test func withLockReleasesWhenTheBodyThrows() throws {
        let lock = Lock()
        do {
            try lock.withLock { () throws -> Void in
                #expect(lock.isLocked)
                throw LockTestsError(code: 7)
            }
            Issue.record("withLock did not rethrow")
        } catch let error as LockTestsError {
            #expect(error.code == 7)
        }
        #expect(!lock.isLocked)
        #expect(try lock.acquire(blocking: false))
        try lock.release()
    }

    @Test func withFunctionReleasesOnNormalExitAndReturnsTheBodysValue() throws {
        let lock = Lock()
        let value = with(lock) { () -> String in
            #expect(lock.isLocked)
            return "inside"
        }
        #expect(value == "inside")
        #expect(!lock.isLocked)
        #expect(try lock.acquire(blocking: false))
        try lock.release()
    }

    @Test func withFunctionReleasesWhenTheBodyThrows() throws {
        let lock = Lock()
        #expect(throws: LockTestsError(code: 3)) {
            try with(lock) { () throws -> Void in
                #expect(lock.isLocked)
                throw LockTestsError(code: 3)
            }
        }
        #expect(!lock.isLocked)
        #expect(lock.description == "<unlocked Lock>")
    }

    @Test func withLockSerializesThreads() {
        // The critical sections of 4 threads never overlap.
        let lock = Lock()
        let inside = Counter()
        let overlaps = Counter()
        let total = Counter()
        Bunch(4) {
            for _ in 0..<2_000 {
                lock.withLock {
                    if inside.increment() != 1 { overlaps.increment() }
                    total.increment()
                    inside.increment(by: -1)
                }
            }
        }.join()
        #expect(overlaps.current == 0)
        #expect(total.current == 8_000)
        #expect(!lock.isLocked)
    }

    // MARK: - The assertions above can fail

    @Test func assertionsCanFail() throws {
        // Each helper used in this file reports a wrong expectation; `withKnownIssue` itself
        // fails if no issue is recorded inside it.
        let lock = Lock()
        withKnownIssue("wrong kind") {
            expectThreadingError(.valueError, "release unlocked lock") { try lock.release() }
        }
        withKnownIssue("wrong message") {
            expectThreadingError(.runtimeError, "release un-acquired lock") { try lock.release() }
        }
        withKnownIssue("nothing thrown") {
            expectThreadingError(.runtimeError, "release unlocked lock") { try lock.acquire() }
        }
        withKnownIssue("wrong description") { #expect(lock.description == "<unlocked Lock>") }
        withKnownIssue("too quick") { expectTimeout(0.01, 0.5) }
        withKnownIssue("too slow") { expectTimeout(5.0, 0.5) }
        try lock.release()
    }
}

// MARK: - Helpers

/// The error the `with` tests throw (CPython raises `TypeError`).
private struct LockTestsError: Error, Equatable {
    var code = 0
}

/// Polls `condition` until it holds or `timeout` seconds pass (CPython's `sleeping_retry`
/// with `SHORT_TIMEOUT`); returns whether it held.
private func lockTestsPoll(timeout: Double = 30, _ condition: () -> Bool) -> Bool {
    let end = monotonicSeconds() + timeout
    while !condition() {
        if monotonicSeconds() > end { return false }
        sleep(seconds: 0.002)
    }
    return true
}
