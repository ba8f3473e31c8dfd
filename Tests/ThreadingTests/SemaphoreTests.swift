// Ports of CPython 3.13's `Lib/test/lock_tests.py` `BaseSemaphoreTests`, `SemaphoreTests` and
// `BoundedSemaphoreTests`, and of `Lib/test/test_threading.py`'s `test_BoundedSemaphore_limit`
// and the BoundedSemaphore part of `test_various_ops`, plus this package's own tests of the
// error table, the timeout arguments and the descriptions of API.md (their names start with
// `test_own_`).
//
// The bodies CPython shares through `BaseSemaphoreTests` are shared here too: `BaseSemaphoreTests`
// at the bottom of the file, run by both suites with their own `semtype`.
//
// Every CPython test of these classes is ported; none had to be skipped. Adaptations:
// - test_acquire_destroy: Python's `del sem` becomes the end of a scope, and a weak reference
//   checks that the acquired semaphore is really freed.
// - test_release_unacquired (Semaphore): the two acquisitions are non-blocking, so that a failure
//   is reported instead of hanging.
// - test_repr: the description has no module name and no address (`<Semaphore: value=N>`), so it
//   is compared exactly.
// - test_BoundedSemaphore_limit and test_various_ops run on raw pthreads (the primitives are
//   tested without the module's own `Thread`); test_various_ops keeps only its BoundedSemaphore
//   part (at most 3 of 10 tasks inside at once), its Thread checks belong to the Thread tests.
//
// Checks that fail inside a worker thread throw (`check`), and `Bunch.join()` records them as
// issues of the test.

import Synchronization
import Testing

@testable import Threading

// MARK: - Semaphore

@Suite(.serialized) struct SemaphoreTests {
    private let base = BaseSemaphoreTests(
        bounded: false,
        semtype: { try Threading.Semaphore($0) },
        semtypeDefault: { try Threading.Semaphore() }
    )

    // CPython BaseSemaphoreTests
    @Test func test_constructor() throws { base.test_constructor() }
    @Test func test_acquire() throws { try base.test_acquire() }
    @Test func test_acquire_destroy() throws { try base.test_acquire_destroy() }
    @Test func test_acquire_contended() throws { try base.test_acquire_contended() }
    @Test func test_multirelease() throws { try base.test_multirelease() }
    @Test func test_try_acquire() throws { try base.test_try_acquire() }
    @Test func test_try_acquire_contended() throws { try base.test_try_acquire_contended() }
    @Test func test_acquire_timeout() throws { try base.test_acquire_timeout() }
    @Test func test_default_value() throws { try base.test_default_value() }
    @Test func test_with() throws { try base.test_with() }

    // CPython SemaphoreTests
    @Test func test_release_unacquired() throws {
        // Unbounded releases are allowed and increment the semaphore's value.
        let sem = try Threading.Semaphore(1)
        try sem.release()
        #expect(sem.currentValue == 2)
        #expect(try sem.acquire(blocking: false))
        #expect(try sem.acquire(blocking: false))
        #expect(try !sem.acquire(blocking: false))
        try sem.release()
        #expect(sem.currentValue == 1)
    }

    @Test func test_repr() throws {
        let sem = try Threading.Semaphore(3)
        #expect(sem.description == "<Semaphore: value=3>")
        try sem.acquire()
        #expect(sem.description == "<Semaphore: value=2>")
        try sem.release()
        try sem.release()
        #expect(sem.description == "<Semaphore: value=4>")
    }

    // Own tests, shared with BoundedSemaphoreTests
    @Test func test_own_release_count_errors() throws { try base.test_own_release_count_errors() }
    @Test func test_own_nonblocking_timeout_errors() throws { try base.test_own_nonblocking_timeout_errors() }
    @Test func test_own_timeouts_when_blocking() throws { try base.test_own_timeouts_when_blocking() }
    @Test func test_own_timeouts_when_available() throws { try base.test_own_timeouts_when_available() }
    @Test func test_own_timeout_max_waits() throws { try base.test_own_timeout_max_waits() }
    @Test func test_own_release_n_wakes_exactly_n() throws { try base.test_own_release_n_wakes_exactly_n() }
    @Test func test_own_never_more_than_value_inside() throws { try base.test_own_never_more_than_value_inside() }

    // Own tests of the plain Semaphore
    @Test func test_own_constructor_errors() throws {
        expectThreadingError(.valueError, "semaphore initial value must be >= 0") { try Threading.Semaphore(-1) }
        expectThreadingError(.valueError, "semaphore initial value must be >= 0") { try Threading.Semaphore(Int.min) }
        #expect(try Threading.Semaphore().description == "<Semaphore: value=1>")
        let zero = try Threading.Semaphore(0)
        #expect(zero.description == "<Semaphore: value=0>")
        #expect(try !zero.acquire(blocking: false))
    }

    @Test func test_own_release_above_initial_value() throws {
        let sem = try Threading.Semaphore(0)
        try sem.release(5)
        #expect(sem.currentValue == 5)
        #expect(sem.description == "<Semaphore: value=5>")
        try sem.release()
        #expect(sem.description == "<Semaphore: value=6>")
        for _ in 0..<6 { #expect(try sem.acquire(blocking: false)) }
        #expect(try !sem.acquire(blocking: false))
        #expect(sem.description == "<Semaphore: value=0>")
    }

    @Test func test_own_release_past_int_max_does_not_trap() throws {
        // Python's value is unbounded; here it is an Int. Passing Int.max must be refused with a
        // ThreadingError (not a trap), leaving the value unchanged.
        let sem = try Threading.Semaphore(Int.max)
        #expect(throws: ThreadingError.self) { try sem.release() }
        #expect(sem.currentValue == Int.max)
        #expect(try sem.acquire(blocking: false))
        #expect(sem.currentValue == Int.max - 1)
        try sem.release()
        #expect(sem.currentValue == Int.max)
    }
}

// MARK: - BoundedSemaphore

@Suite(.serialized) struct BoundedSemaphoreTests {
    private let base = BaseSemaphoreTests(
        bounded: true,
        semtype: { try BoundedSemaphore($0) },
        semtypeDefault: { try BoundedSemaphore() }
    )

    // CPython BaseSemaphoreTests
    @Test func test_constructor() throws { base.test_constructor() }
    @Test func test_acquire() throws { try base.test_acquire() }
    @Test func test_acquire_destroy() throws { try base.test_acquire_destroy() }
    @Test func test_acquire_contended() throws { try base.test_acquire_contended() }
    @Test func test_multirelease() throws { try base.test_multirelease() }
    @Test func test_try_acquire() throws { try base.test_try_acquire() }
    @Test func test_try_acquire_contended() throws { try base.test_try_acquire_contended() }
    @Test func test_acquire_timeout() throws { try base.test_acquire_timeout() }
    @Test func test_default_value() throws { try base.test_default_value() }
    @Test func test_with() throws { try base.test_with() }

    // CPython BoundedSemaphoreTests
    @Test func test_release_unacquired() throws {
        // Cannot go past the initial value.
        let sem = try BoundedSemaphore()
        expectThreadingError(.valueError, "Semaphore released too many times") { try sem.release() }
        try sem.acquire()
        try sem.release()
        expectThreadingError(.valueError, "Semaphore released too many times") { try sem.release() }
    }

    @Test func test_repr() throws {
        let sem = try BoundedSemaphore(3)
        #expect(sem.description == "<BoundedSemaphore: value=3/3>")
        try sem.acquire()
        #expect(sem.description == "<BoundedSemaphore: value=2/3>")
    }

    // test_threading.py ThreadTests.test_BoundedSemaphore_limit, on raw threads.
    @Test func test_BoundedSemaphore_limit() throws {
        // BoundedSemaphore should throw valueError if released too often, also when other
        // threads did the acquiring and the releasing.
        for limit in 1..<10 {
            let bs = try BoundedSemaphore(limit)
            Bunch(limit) { try bs.acquire() }.join()
            #expect(bs.currentValue == 0)
            Bunch(limit) { try bs.release() }.join()
            #expect(bs.currentValue == limit)
            expectThreadingError(.valueError, "Semaphore released too many times") { try bs.release() }
            #expect(bs.currentValue == limit)
        }
    }

    // test_threading.py ThreadTests.test_various_ops, its BoundedSemaphore part, on raw threads.
    @Test func test_various_ops() throws {
        let numTasks = 10
        // No more than 3 of the 10 can run at once.
        let sema = try BoundedSemaphore(3)
        let mutex = RLock()
        let numRunning = Counter()
        let bunch = Bunch(numTasks) {
            let delay = Double.random(in: 0..<1) / 10_000
            try with(sema) {
                try mutex.withLock {
                    let running = numRunning.increment()
                    try check(running <= 3, "\(running) tasks are running")
                }
                sleep(seconds: delay)
                try mutex.withLock {
                    let running = numRunning.increment(by: -1)
                    try check(running >= 0, "\(running) tasks are running")
                }
            }
        }
        bunch.join()
        #expect(bunch.finishedCount == numTasks)
        #expect(numRunning.current == 0)
        #expect(sema.description == "<BoundedSemaphore: value=3/3>")
    }

    // Own tests, shared with SemaphoreTests
    @Test func test_own_release_count_errors() throws { try base.test_own_release_count_errors() }
    @Test func test_own_nonblocking_timeout_errors() throws { try base.test_own_nonblocking_timeout_errors() }
    @Test func test_own_timeouts_when_blocking() throws { try base.test_own_timeouts_when_blocking() }
    @Test func test_own_timeouts_when_available() throws { try base.test_own_timeouts_when_available() }
    @Test func test_own_timeout_max_waits() throws { try base.test_own_timeout_max_waits() }
    @Test func test_own_release_n_wakes_exactly_n() throws { try base.test_own_release_n_wakes_exactly_n() }
    @Test func test_own_never_more_than_value_inside() throws { try base.test_own_never_more_than_value_inside() }

    // Own tests of the BoundedSemaphore
    @Test func test_own_constructor_errors() throws {
        expectThreadingError(.valueError, "semaphore initial value must be >= 0") { try BoundedSemaphore(-1) }
        expectThreadingError(.valueError, "semaphore initial value must be >= 0") { try BoundedSemaphore(Int.min) }
        #expect(try BoundedSemaphore().description == "<BoundedSemaphore: value=1/1>")
    }

    @Test func test_own_over_release_leaves_value_unchanged() throws {
        let sem = try BoundedSemaphore(2)
        // Full: one more release is refused.
        expectThreadingError(.valueError, "Semaphore released too many times") { try sem.release() }
        #expect(sem.currentValue == 2)
        #expect(sem.description == "<BoundedSemaphore: value=2/2>")

        // At 1/2, release(2) would reach 3: refused as a whole, nothing added.
        try sem.acquire()
        #expect(sem.description == "<BoundedSemaphore: value=1/2>")
        expectThreadingError(.valueError, "Semaphore released too many times") { try sem.release(2) }
        #expect(sem.currentValue == 1)
        #expect(sem.description == "<BoundedSemaphore: value=1/2>")

        // Still usable: release(1) fills it, and it can be emptied.
        try sem.release(1)
        #expect(sem.description == "<BoundedSemaphore: value=2/2>")
        #expect(try sem.acquire(blocking: false))
        #expect(try sem.acquire(blocking: false))
        #expect(try !sem.acquire(blocking: false))
        #expect(sem.description == "<BoundedSemaphore: value=0/2>")

        // At 0/2, release(3) is refused, release(2) is not.
        expectThreadingError(.valueError, "Semaphore released too many times") { try sem.release(3) }
        #expect(sem.description == "<BoundedSemaphore: value=0/2>")
        expectThreadingError(.valueError, "Semaphore released too many times") { try sem.release(Int.max) }
        #expect(sem.description == "<BoundedSemaphore: value=0/2>")
        try sem.release(2)
        #expect(sem.description == "<BoundedSemaphore: value=2/2>")
    }

    @Test func test_own_bounded_zero() throws {
        let sem = try BoundedSemaphore(0)
        #expect(sem.description == "<BoundedSemaphore: value=0/0>")
        expectThreadingError(.valueError, "Semaphore released too many times") { try sem.release() }
        #expect(sem.description == "<BoundedSemaphore: value=0/0>")
        #expect(try !sem.acquire(blocking: false))
        #expect(try !sem.acquire(timeout: 0.01))
    }

    @Test func test_own_over_release_with_waiters_wakes_nobody() throws {
        // A refused release must not hand a unit to a waiting thread.
        let sem = try BoundedSemaphore(1)
        try sem.acquire()
        let got = SharedList<Bool>()
        let bunch = Bunch(1) { got.append(try sem.acquire(timeout: 0.3)) }
        bunch.waitForStarted()
        waitThreadsBlocked(1)
        expectThreadingError(.valueError, "Semaphore released too many times") { try sem.release(2) }
        bunch.join()
        #expect(got.values == [false])
        #expect(sem.description == "<BoundedSemaphore: value=0/1>")
    }
}

// MARK: - Shared bodies

/// CPython's `BaseSemaphoreTests` (and the own tests that apply to both kinds), parameterised by
/// the type under test.
private struct BaseSemaphoreTests: Sendable {
    let bounded: Bool
    let semtype: @Sendable (Int) throws -> Threading.Semaphore
    let semtypeDefault: @Sendable () throws -> Threading.Semaphore

    func test_constructor() {
        expectThreadingError(.valueError, "semaphore initial value must be >= 0") { try semtype(-1) }
        expectThreadingError(.valueError, "semaphore initial value must be >= 0") { try semtype(-Int.max) }
    }

    func test_acquire() throws {
        let sem = try semtype(1)
        #expect(try sem.acquire())
        try sem.release()
        let sem2 = try semtype(2)
        #expect(try sem2.acquire())
        #expect(try sem2.acquire())
        #expect(sem2.currentValue == 0)
        try sem2.release()
        try sem2.release()
        #expect(sem2.currentValue == 2)
    }

    func test_acquire_destroy() throws {
        weak var weakSem: Threading.Semaphore?
        do {
            let sem = try semtypeDefault()
            try sem.acquire()
            weakSem = sem
        }
        #expect(weakSem == nil)
    }

    func test_acquire_contended() throws {
        let semValue = 7
        let sem = try semtype(semValue)
        try sem.acquire()

        let semResults = SharedList<Bool>()
        let results1 = SharedList<Int>()
        let results2 = SharedList<Int>()
        let phase = Counter(0)
        func waitCount(_ count: Int) {
            _ = waitUntil { results1.count + results2.count >= count }
            // Give a wrong extra acquisition the time to show.
            waitThreadsBlocked(2)
        }

        let bunch = Bunch(10) {
            semResults.append(try sem.acquire())
            results1.append(phase.current)
            semResults.append(try sem.acquire())
            results2.append(phase.current)
        }
        bunch.waitForStarted()

        // Phase 0
        let count1 = semValue - 1
        waitCount(count1)
        #expect(results1.values + results2.values == Array(repeating: 0, count: count1))

        // Phase 1
        phase.increment()
        for _ in 0..<semValue { try sem.release() }
        let count2 = semValue
        waitCount(count1 + count2)
        #expect(
            (results1.values + results2.values).sorted() == [Int](repeating: 0, count: count1)
                + [Int](repeating: 1, count: count2)
        )

        // Phase 2
        phase.increment()
        let count3 = semValue - 1
        for _ in 0..<count3 { try sem.release() }
        waitCount(count1 + count2 + count3)
        #expect(
            (results1.values + results2.values).sorted()
                == [Int](repeating: 0, count: count1) + [Int](repeating: 1, count: count2)
                + [Int](repeating: 2, count: count3)
        )
        // The semaphore is still locked.
        #expect(try !sem.acquire(blocking: false))

        // Final release, to let the last thread finish.
        let count4 = 1
        try sem.release()
        bunch.join()
        #expect(semResults.values == [Bool](repeating: true, count: count1 + count2 + count3 + count4))
    }

    func test_multirelease() throws {
        let semValue = 7
        let sem = try semtype(semValue)
        try sem.acquire()

        let results1 = SharedList<Int>()
        let results2 = SharedList<Int>()
        let phase = Counter(0)
        func waitCount(_ count: Int) {
            _ = waitUntil { results1.count + results2.count >= count }
            waitThreadsBlocked(2)
        }

        let bunch = Bunch(10) {
            try sem.acquire()
            results1.append(phase.current)
            try sem.acquire()
            results2.append(phase.current)
        }
        bunch.waitForStarted()

        // Phase 0
        let count1 = semValue - 1
        waitCount(count1)
        #expect(results1.values + results2.values == Array(repeating: 0, count: count1))

        // Phase 1
        phase.increment()
        let count2 = semValue
        try sem.release(count2)
        waitCount(count1 + count2)
        #expect(
            (results1.values + results2.values).sorted() == [Int](repeating: 0, count: count1)
                + [Int](repeating: 1, count: count2)
        )

        // Phase 2
        phase.increment()
        let count3 = semValue - 1
        try sem.release(count3)
        waitCount(count1 + count2 + count3)
        #expect(
            (results1.values + results2.values).sorted()
                == [Int](repeating: 0, count: count1) + [Int](repeating: 1, count: count2)
                + [Int](repeating: 2, count: count3)
        )
        // The semaphore is still locked.
        #expect(try !sem.acquire(blocking: false))

        // Final release, to let the last thread finish.
        try sem.release()
        bunch.join()
        #expect(results1.count + results2.count == 20)
    }

    func test_try_acquire() throws {
        let sem = try semtype(2)
        #expect(try sem.acquire(blocking: false))
        #expect(try sem.acquire(blocking: false))
        #expect(try !sem.acquire(blocking: false))
        try sem.release()
        #expect(try sem.acquire(blocking: false))
    }

    func test_try_acquire_contended() throws {
        let sem = try semtype(4)
        try sem.acquire()
        let results = SharedList<Bool>()
        Bunch(5) {
            results.append(try sem.acquire(blocking: false))
            results.append(try sem.acquire(blocking: false))
        }.join()
        // The results need not be in order: compare them sorted (false first).
        #expect(
            results.values.sorted { !$0 && $1 } == [Bool](repeating: false, count: 7)
                + [Bool](repeating: true, count: 3)
        )
    }

    func test_acquire_timeout() throws {
        let sem = try semtype(2)
        expectThreadingError(.valueError, "can't specify timeout for non-blocking acquire") {
            try sem.acquire(blocking: false, timeout: 1.0)
        }
        #expect(try sem.acquire(timeout: 0.005))
        #expect(try sem.acquire(timeout: 0.005))
        #expect(try !sem.acquire(timeout: 0.005))
        try sem.release()
        #expect(try sem.acquire(timeout: 0.005))
        var got = true
        let dt = try measure { got = try sem.acquire(timeout: 0.5) }
        #expect(!got)
        expectTimeout(dt, 0.5)
    }

    func test_default_value() throws {
        // The default initial value is 1.
        let sem = try semtypeDefault()
        try sem.acquire()
        let bunch = Bunch(1) {
            try sem.acquire()
            try sem.release()
        }
        bunch.waitForStarted()
        // Thread blocked on sem.acquire()
        waitThreadsBlocked(1)
        #expect(bunch.finishedCount == 0)
        // Thread unblocked
        try sem.release()
        bunch.join()
        #expect(bunch.finishedCount == 1)
        #expect(sem.currentValue == 1)
    }

    func test_with() throws {
        let sem = try semtype(2)
        func withSem(_ err: (any Error)? = nil) throws {
            try with(sem) {
                #expect(try sem.acquire(blocking: false))
                try sem.release()
                try sem.withLock {
                    #expect(try !sem.acquire(blocking: false))
                    if let err { throw err }
                }
            }
        }
        try withSem()
        #expect(try sem.acquire(blocking: false))
        try sem.release()
        #expect(throws: TypeErrorStandIn.self) { try withSem(TypeErrorStandIn()) }
        #expect(try sem.acquire(blocking: false))
        try sem.release()
        #expect(sem.currentValue == 2)
    }

    // MARK: Own tests

    /// `release(0)`, `release(-1)`: valueError "n must be one or more", value unchanged, usable.
    func test_own_release_count_errors() throws {
        let sem = try semtype(2)
        try sem.acquire()
        for n in [0, -1, Int.min] {
            expectThreadingError(.valueError, "n must be one or more") { try sem.release(n) }
            #expect(sem.currentValue == 1)
        }
        try sem.release(1)
        #expect(sem.currentValue == 2)
        #expect(try sem.acquire(blocking: false))
    }

    /// A timeout, any timeout, on a non-blocking acquire is refused, whatever the value.
    func test_own_nonblocking_timeout_errors() throws {
        for initial in [0, 1] {
            let sem = try semtype(initial)
            for t in [1.0, -1.0, 0.0, -0.5, Double.nan, .infinity, -.infinity, 1e100] {
                expectThreadingError(.valueError, "can't specify timeout for non-blocking acquire") {
                    try sem.acquire(blocking: false, timeout: t)
                }
                #expect(sem.currentValue == initial)
            }
            // Still usable, and nil is allowed on a non-blocking acquire.
            #expect(try sem.acquire(blocking: false, timeout: nil) == (initial == 1))
            #expect(sem.currentValue == 0)
        }
    }

    /// Value 0, so every timed acquire would block: zero and negative timeouts only try (no
    /// error), NaN is a valueError, more than `timeoutMax` or infinite an overflowError.
    func test_own_timeouts_when_blocking() throws {
        let sem = try semtype(1)
        try sem.acquire()
        for t in [0.0, -0.0, -1.0, -0.001, -1e100, -Double.infinity] {
            var got = true
            let dt = try measure { got = try sem.acquire(timeout: t) }
            #expect(!got, "timeout \(t)")
            #expect(dt < 1.0, "timeout \(t) took \(dt) s")
        }
        expectThreadingError(.valueError, "Invalid value NaN (not a number)") { try sem.acquire(timeout: .nan) }
        expectThreadingError(.valueError, "Invalid value NaN (not a number)") {
            try sem.acquire(blocking: true, timeout: -.nan)
        }
        for t in [1e100, timeoutMax + 1, timeoutMax * 2, Double.infinity, .greatestFiniteMagnitude] {
            expectThreadingError(.overflowError, "timeout value is too large") { try sem.acquire(timeout: t) }
        }
        // Nothing changed, and the semaphore still works.
        #expect(sem.currentValue == 0)
        try sem.release()
        #expect(try sem.acquire(timeout: 0))
        try sem.release()
        #expect(sem.currentValue == 1)
    }

    /// Value 1, so no acquire needs to wait: zero and negative timeouts take the unit. For NaN and
    /// too large timeouts API.md promises an error only when the call would block, so either
    /// outcome is accepted here, but it must be consistent: `true` with the unit taken, or the
    /// documented error with the value unchanged.
    func test_own_timeouts_when_available() throws {
        for t in [0.0, -1.0, -Double.infinity] {
            let sem = try semtype(1)
            #expect(try sem.acquire(timeout: t), "timeout \(t)")
            #expect(sem.currentValue == 0)
        }
        let odd: [(Double, ThreadingError.Kind, String)] = [
            (.nan, .valueError, "Invalid value NaN (not a number)"),
            (1e100, .overflowError, "timeout value is too large"),
            (timeoutMax + 1, .overflowError, "timeout value is too large"),
            (.infinity, .overflowError, "timeout value is too large"),
        ]
        for (t, kind, message) in odd {
            let sem = try semtype(1)
            do {
                let got = try sem.acquire(timeout: t)
                #expect(got, "timeout \(t)")
                #expect(sem.currentValue == 0, "timeout \(t)")
            } catch let error as ThreadingError {
                #expect(error.kind == kind && error.message == message, "timeout \(t): \(error)")
                #expect(sem.currentValue == 1, "timeout \(t)")
            }
        }
    }

    /// `timeoutMax` itself is accepted: the acquire blocks until a release.
    func test_own_timeout_max_waits() throws {
        let sem = try semtype(1)
        try sem.acquire()
        let got = SharedList<Bool>()
        let bunch = Bunch(2) { got.append(try sem.acquire(timeout: timeoutMax)) }
        bunch.waitForStarted()
        waitThreadsBlocked(2)
        #expect(bunch.finishedCount == 0)
        #expect(got.count == 0)
        try sem.release()
        #expect(waitUntil { got.count == 1 })
        try sem.release()
        bunch.join()
        #expect(got.values == [true, true])
        #expect(sem.currentValue == 0)
    }

    /// `release(n)` wakes exactly `min(n, waiters)` threads and keeps the rest of the units.
    func test_own_release_n_wakes_exactly_n() throws {
        let sem = try semtype(10)
        for _ in 0..<10 { #expect(try sem.acquire(blocking: false)) }
        let acquired = Counter()
        let timedOut = Counter()
        let bunch = Bunch(5) {
            if try sem.acquire(timeout: 10) { acquired.increment() } else { timedOut.increment() }
        }
        bunch.waitForStarted()
        waitThreadsBlocked(5)
        #expect(acquired.current == 0)

        try sem.release(2)
        #expect(waitUntil { acquired.current >= 2 })
        waitThreadsBlocked(5)  // time for a wrong third wake-up
        #expect(acquired.current == 2)
        #expect(sem.currentValue == 0)

        // 8 units for the 3 remaining waiters: 5 are left over.
        try sem.release(8)
        bunch.join()
        #expect(acquired.current == 5)
        #expect(timedOut.current == 0)
        #expect(sem.currentValue == 5)
    }

    /// Many threads cycling through a semaphore of value 3: never more than 3 inside at once.
    func test_own_never_more_than_value_inside() throws {
        let sem = try semtype(3)
        let inside = Counter()
        let maxInside = Atomic<Int>(0)
        let passes = Counter()
        let bunch = Bunch(8) {
            for _ in 0..<20 {
                sem.withLock {
                    let now = inside.increment()
                    maxInside.max(now, ordering: .sequentiallyConsistent)
                    sleep(seconds: 0.0005)
                    inside.increment(by: -1)
                    passes.increment()
                }
            }
        }
        bunch.join()
        #expect(passes.current == 160)
        #expect(maxInside.load(ordering: .sequentiallyConsistent) <= 3)
        #expect(inside.current == 0)
        #expect(sem.currentValue == 3)
    }
}

// MARK: - Helpers

/// Stands for the `TypeError` that CPython's test_with raises inside the `with` block.
private struct TypeErrorStandIn: Error {}

/// A failed check inside a worker thread; `Bunch.join()` reports it.
private struct CheckFailure: Error, CustomStringConvertible {
    let description: String
}

/// Throws `CheckFailure` when `condition` is false (for worker threads, where `#expect` has no test
/// to report to).
private func check(_ condition: Bool, _ message: @autoclosure () -> String, line: Int = #line) throws {
    if !condition { throw CheckFailure(description: "line \(line): \(message())") }
}

/// Polls `condition` every millisecond for up to `timeout` seconds (CPython's
/// `support.sleeping_retry(SHORT_TIMEOUT)` loops); returns whether it became true.
@discardableResult
private func waitUntil(timeout: Double = 30, _ condition: () -> Bool) -> Bool {
    let end = monotonicSeconds() + timeout
    while !condition() {
        if monotonicSeconds() > end { return false }
        sleep(seconds: 0.001)
    }
    return true
}
