// Ports of CPython 3.13's Lib/test/lock_tests.py `BaseLockTests` + `RLockTests`, run twice as in
// test_threading.py: against `RLock` (CRLockTests/PyRLockTests) and against `Condition()`
// (ConditionAsRLockTests: a Condition must pass the RLock tests). Each test body is written once,
// generic over the lock, in `RLockBodies` at the bottom of this file; both suites call it with
// their own factory. Plus tests of the API contract's RLock rules: the error table, every kind of
// timeout, and `description`.
//
// Not ported, because they cannot transfer:
// - CRLockTests.test_signature: `RLock(1)` and `RLock(a=1)` do not compile in Swift, and Python's
//   DeprecationWarning machinery has no counterpart.
// ConditionAsRLockTests.test_recursion_count, which CPython skips ("Condition does not expose
// _recursion_count()"), is ported here: the Condition's underlying RLock is reachable through
// `@testable import`.

import Testing

@testable import Threading

@Suite(.serialized) struct RLockTests {
    private static func make() -> RLock { RLock() }

    // MARK: - CPython BaseLockTests (with locktype = RLock)

    @Test func test_constructor() { RLockBodies.test_constructor(Self.make) }
    @Test func test_repr() { RLockBodies.test_repr(Self.make) }
    @Test func test_locked_repr() throws { try RLockBodies.test_locked_repr(Self.make) }
    @Test func test_acquire_destroy() throws { try RLockBodies.test_acquire_destroy(Self.make) }
    @Test func test_acquire_release() throws { try RLockBodies.test_acquire_release(Self.make) }
    @Test func test_try_acquire() throws { try RLockBodies.test_try_acquire(Self.make) }
    @Test func test_try_acquire_contended() throws { try RLockBodies.test_try_acquire_contended(Self.make) }
    @Test func test_acquire_contended() throws { try RLockBodies.test_acquire_contended(Self.make) }
    @Test func test_with() throws { try RLockBodies.test_with(Self.make) }
    @Test func test_thread_leak() { RLockBodies.test_thread_leak(Self.make) }
    @Test func test_weakref_exists() { RLockBodies.test_weakref_exists(Self.make) }
    @Test func test_weakref_deleted() { RLockBodies.test_weakref_deleted(Self.make) }
    @Test func test_timeout() throws { try RLockBodies.test_timeout(Self.make) }

    // MARK: - CPython RLockTests

    @Test func test_reacquire() throws { try RLockBodies.test_reacquire(Self.make) }
    @Test func test_release_unacquired() throws { try RLockBodies.test_release_unacquired(Self.make) }
    @Test func test_release_save_unacquired() throws { try RLockBodies.test_release_save_unacquired(Self.make) }
    @Test func test_recursion_count() throws { try RLockBodies.test_recursion_count(Self.make) }
    @Test func test_different_thread() throws { try RLockBodies.test_different_thread(Self.make) }
    @Test func test__is_owned() throws { try RLockBodies.test__is_owned(Self.make) }

    // MARK: - The API contract

    @Test(arguments: RLockBodies.InvalidTimeout.all)
    func invalidTimeoutThrowsUpFront(_ call: RLockBodies.InvalidTimeout) throws {
        try RLockBodies.invalidTimeoutThrowsUpFront(Self.make, call)
    }
    @Test func validTimeouts() throws { try RLockBodies.validTimeouts(Self.make) }
    @Test func releaseByNonOwnerLeavesTheLockUsable() throws {
        try RLockBodies.releaseByNonOwnerLeavesTheLockUsable(Self.make)
    }
    @Test func otherThreadGetsItOnlyAfterTheLastRelease() throws {
        try RLockBodies.otherThreadGetsItOnlyAfterTheLastRelease(Self.make)
    }
    @Test(arguments: [-1.0, timeoutMax])
    func blockingTimeoutWaitsForTheRelease(_ timeout: Double) throws {
        try RLockBodies.blockingTimeoutWaitsForTheRelease(Self.make, timeout)
    }
    @Test func withLockNestsAndReleasesOnThrow() throws { try RLockBodies.withLockNestsAndReleasesOnThrow(Self.make) }

    @Test func descriptionShowsOwnerAndCount() throws {
        let lock = RLock()
        #expect(lock.description == "<unlocked RLock owner=0 count=0>")
        try lock.acquire()
        let me = getIdent()
        #expect(lock.description == "<locked RLock owner=\(me) count=1>")
        try lock.acquire()
        try lock.acquire()
        #expect(lock.description == "<locked RLock owner=\(me) count=3>")
        // Another thread sees the same owner and count.
        let seen = SharedList<String>()
        Bunch(1) { seen.append(lock.description) }.join()
        #expect(seen.values == ["<locked RLock owner=\(me) count=3>"])
        try lock.release()
        #expect(lock.description == "<locked RLock owner=\(me) count=2>")
        try lock.release()
        try lock.release()
        #expect(lock.description == "<unlocked RLock owner=0 count=0>")
    }

    @Test func isLockedSeenFromAnyThread() throws {
        let lock = RLock()
        #expect(!lock.isLocked)
        try lock.acquire()
        try lock.acquire()
        let seen = SharedList<Bool>()
        Bunch(1) { seen.append(lock.isLocked) }.join()
        #expect(seen.values == [true])
        try lock.release()
        #expect(lock.isLocked)
        try lock.release()
        #expect(!lock.isLocked)
    }

    @Test func assertionsCanFail() throws {
        // The checks used by the bodies report a wrong expectation (`withKnownIssue` fails
        // if nothing is recorded inside it).
        let lock = RLock()
        withKnownIssue("wrong message") {
            expectThreadingError(.runtimeError, "release unlocked lock") { try lock.release() }
        }
        try lock.acquire()
        withKnownIssue("wrong depth") { #expect(lock.recursionCount == 2) }
        withKnownIssue("not owned here") {
            let seen = SharedList<Bool>()
            Bunch(1) { seen.append(lock.isOwnedByCurrentThread) }.join()
            #expect(seen.values == [true])
        }
        try lock.release()
    }
}

@Suite(.serialized) struct ConditionAsRLockTests {
    private static func make() -> Condition { Condition() }

    // MARK: - CPython BaseLockTests (with locktype = Condition)

    @Test func test_constructor() { RLockBodies.test_constructor(Self.make) }
    @Test func test_repr() { RLockBodies.test_repr(Self.make) }
    @Test func test_locked_repr() throws { try RLockBodies.test_locked_repr(Self.make) }
    @Test func test_acquire_destroy() throws { try RLockBodies.test_acquire_destroy(Self.make) }
    @Test func test_acquire_release() throws { try RLockBodies.test_acquire_release(Self.make) }
    @Test func test_try_acquire() throws { try RLockBodies.test_try_acquire(Self.make) }
    @Test func test_try_acquire_contended() throws { try RLockBodies.test_try_acquire_contended(Self.make) }
    @Test func test_acquire_contended() throws { try RLockBodies.test_acquire_contended(Self.make) }
    @Test func test_with() throws { try RLockBodies.test_with(Self.make) }
    @Test func test_thread_leak() { RLockBodies.test_thread_leak(Self.make) }
    @Test func test_weakref_exists() { RLockBodies.test_weakref_exists(Self.make) }
    @Test func test_weakref_deleted() { RLockBodies.test_weakref_deleted(Self.make) }
    @Test func test_timeout() throws { try RLockBodies.test_timeout(Self.make) }

    // MARK: - CPython RLockTests

    @Test func test_reacquire() throws { try RLockBodies.test_reacquire(Self.make) }
    @Test func test_release_unacquired() throws { try RLockBodies.test_release_unacquired(Self.make) }
    @Test func test_release_save_unacquired() throws { try RLockBodies.test_release_save_unacquired(Self.make) }
    @Test func test_recursion_count() throws { try RLockBodies.test_recursion_count(Self.make) }
    @Test func test_different_thread() throws { try RLockBodies.test_different_thread(Self.make) }
    @Test func test__is_owned() throws { try RLockBodies.test__is_owned(Self.make) }

    // MARK: - The API contract

    @Test(arguments: RLockBodies.InvalidTimeout.all)
    func invalidTimeoutThrowsUpFront(_ call: RLockBodies.InvalidTimeout) throws {
        try RLockBodies.invalidTimeoutThrowsUpFront(Self.make, call)
    }
    @Test func validTimeouts() throws { try RLockBodies.validTimeouts(Self.make) }
    @Test func releaseByNonOwnerLeavesTheLockUsable() throws {
        try RLockBodies.releaseByNonOwnerLeavesTheLockUsable(Self.make)
    }
    @Test func otherThreadGetsItOnlyAfterTheLastRelease() throws {
        try RLockBodies.otherThreadGetsItOnlyAfterTheLastRelease(Self.make)
    }
    @Test(arguments: [-1.0, timeoutMax])
    func blockingTimeoutWaitsForTheRelease(_ timeout: Double) throws {
        try RLockBodies.blockingTimeoutWaitsForTheRelease(Self.make, timeout)
    }
    @Test func withLockNestsAndReleasesOnThrow() throws { try RLockBodies.withLockNestsAndReleasesOnThrow(Self.make) }

    @Test func descriptionEmbedsTheRLock() throws {
        let cond = Condition()
        #expect(cond.description == "<Condition(<unlocked RLock owner=0 count=0>, 0)>")
        try cond.acquire()
        try cond.acquire()
        #expect(cond.description == "<Condition(<locked RLock owner=\(getIdent()) count=2>, 0)>")
        try cond.release()
        try cond.release()
        #expect(cond.description == "<Condition(<unlocked RLock owner=0 count=0>, 0)>")
    }
}

// MARK: - The shared bodies

/// What the RLock tests need of the lock under test: CPython's `_is_owned()`,
/// `_recursion_count()` and `_release_save()` besides `acquire`/`release`.
private protocol RLockUnderTest: Lockable, CustomStringConvertible {
    var ownedHere: Bool { get }
    var depthHere: Int { get }
    var lockedAnywhere: Bool { get }
    func releaseSave() throws -> Int
}

extension RLock: RLockUnderTest {
    fileprivate var ownedHere: Bool { isOwnedByCurrentThread }
    fileprivate var depthHere: Int { recursionCount }
    fileprivate var lockedAnywhere: Bool { isLocked }
    fileprivate func releaseSave() throws -> Int { try releaseAll() }
}

extension Condition: RLockUnderTest {
    /// The RLock a `Condition()` creates (CPython's Condition exports its lock's methods).
    fileprivate var rlock: RLock {
        guard case .rlock(let lock) = underlying else { fatalError("this Condition is not over an RLock") }
        return lock
    }
    fileprivate var ownedHere: Bool { isOwned }
    fileprivate var depthHere: Int { rlock.recursionCount }
    fileprivate var lockedAnywhere: Bool { rlock.isLocked }
    fileprivate func releaseSave() throws -> Int { try rlock.releaseAll() }
}

/// CPython's `BaseLockTests` and `RLockTests` bodies, over any reentrant lock.
enum RLockBodies {
    // MARK: BaseLockTests

    fileprivate static func test_constructor<L: RLockUnderTest>(_ make: () -> L) {
        let lock = make()
        #expect(!lock.lockedAnywhere)
        #expect(!lock.ownedHere)
    }

    fileprivate static func test_repr<L: RLockUnderTest>(_ make: () -> L) {
        let lock = make()
        #expect(lock.description.contains("<unlocked RLock owner=0 count=0>"))
    }

    fileprivate static func test_locked_repr<L: RLockUnderTest>(_ make: () -> L) throws {
        let lock = make()
        try lock.acquire()
        #expect(lock.description.contains("<locked RLock owner=\(getIdent()) count=1>"))
        try lock.release()
    }

    fileprivate static func test_acquire_destroy<L: RLockUnderTest>(_ make: () -> L) throws {
        var lock: L? = make()
        weak let watcher = lock
        #expect(try lock!.acquire())
        lock = nil
        #expect(watcher == nil)
    }

    fileprivate static func test_acquire_release<L: RLockUnderTest>(_ make: () -> L) throws {
        let lock = make()
        #expect(try lock.acquire())
        #expect(lock.lockedAnywhere)
        try lock.release()
        #expect(!lock.lockedAnywhere)
    }

    fileprivate static func test_try_acquire<L: RLockUnderTest>(_ make: () -> L) throws {
        let lock = make()
        #expect(try lock.acquire(blocking: false, timeout: nil))
        try lock.release()
    }

    fileprivate static func test_try_acquire_contended<L: RLockUnderTest>(_ make: () -> L) throws {
        let lock = make()
        try lock.acquire()
        let result = SharedList<Bool>()
        Bunch(1) { result.append(try lock.acquire(blocking: false, timeout: nil)) }.join()
        #expect(result.values == [false])
        try lock.release()
    }

    fileprivate static func test_acquire_contended<L: RLockUnderTest>(_ make: () -> L) throws {
        let lock = make()
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

    fileprivate static func test_with<L: RLockUnderTest>(_ make: () -> L) throws {
        let lock = make()
        let f: @Sendable () throws -> Void = {
            try lock.acquire()
            try lock.release()
        }
        // Acquire the lock, do nothing, with releases the lock
        with(lock) { #expect(lock.ownedHere) }
        // Check that the lock is unacquired
        Bunch(1, f).join()
        #expect(!lock.lockedAnywhere)
        // Acquire the lock, raise an exception, with releases the lock
        #expect(throws: RLockTestsError.self) {
            try with(lock) { () throws -> Void in throw RLockTestsError() }
        }
        // Check that the lock is unacquired even after the exception
        #expect(!lock.lockedAnywhere)
        Bunch(1, f).join()
    }

    fileprivate static func test_weakref_exists<L: RLockUnderTest>(_ make: () -> L) {
        let lock = make()
        weak let reference = lock
        #expect(reference === lock)
    }

    fileprivate static func test_weakref_deleted<L: RLockUnderTest>(_ make: () -> L) {
        var lock: L? = make()
        weak let reference = lock
        lock = nil
        #expect(reference == nil)
    }

    fileprivate static func test_thread_leak<L: RLockUnderTest>(_ make: () -> L) {
        let lock = make()
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
        #expect(!lock.lockedAnywhere)
        expectNoneLeft(seen.values)
    }

    fileprivate static func test_timeout<L: RLockUnderTest>(_ make: () -> L) throws {
        let lock = make()
        // Can't set timeout if not blocking
        expectThreadingError(.valueError, "can't specify a timeout for a non-blocking call") {
            try lock.acquire(blocking: false, timeout: 1)
        }
        // Invalid timeout values
        expectThreadingError(.valueError, "timeout value must be a non-negative number") {
            try lock.acquire(blocking: true, timeout: -100)
        }
        expectThreadingError(.overflowError, "timeout value is too large") {
            try lock.acquire(blocking: true, timeout: 1e100)
        }
        expectThreadingError(.overflowError, "timeout value is too large") {
            try lock.acquire(blocking: true, timeout: timeoutMax + 1)
        }
        // TIMEOUT_MAX is ok
        #expect(try lock.acquire(blocking: true, timeout: timeoutMax))
        try lock.release()
        var acquired = false
        let elapsed = try measure { acquired = try lock.acquire(blocking: true, timeout: 5) }
        #expect(acquired)
        // Just a sanity test that it didn't actually wait for the timeout.
        #expect(elapsed < 5)
        let results = SharedList<Bool>()
        let times = SharedList<Double>()
        Bunch(1) {
            var got = true
            times.append(try measure { got = try lock.acquire(blocking: true, timeout: 0.5) })
            results.append(got)
        }.join()
        #expect(results.values == [false])
        expectTimeout(try #require(times.values.first), 0.5)
        try lock.release()
    }

    // MARK: RLockTests

    fileprivate static func test_reacquire<L: RLockUnderTest>(_ make: () -> L) throws {
        let lock = make()
        try lock.acquire()
        try lock.acquire()
        try lock.release()
        try lock.acquire()
        try lock.release()
        #expect(lock.ownedHere)
        try lock.release()
        #expect(!lock.lockedAnywhere)
    }

    fileprivate static func test_release_unacquired<L: RLockUnderTest>(_ make: () -> L) throws {
        // Cannot release an unacquired lock
        let lock = make()
        expectThreadingError(.runtimeError, "cannot release un-acquired lock") { try lock.release() }
        try lock.acquire()
        try lock.acquire()
        try lock.release()
        try lock.acquire()
        try lock.release()
        try lock.release()
        expectThreadingError(.runtimeError, "cannot release un-acquired lock") { try lock.release() }
        // Still usable.
        #expect(try lock.acquire(blocking: false, timeout: nil))
        try lock.release()
    }

    fileprivate static func test_release_save_unacquired<L: RLockUnderTest>(_ make: () -> L) throws {
        // Cannot _release_save an unacquired lock
        let lock = make()
        expectThreadingError(.runtimeError, "cannot release un-acquired lock") { try lock.releaseSave() }
        try lock.acquire()
        try lock.acquire()
        try lock.release()
        try lock.acquire()
        try lock.release()
        try lock.release()
        expectThreadingError(.runtimeError, "cannot release un-acquired lock") { try lock.releaseSave() }
        // And when it is owned, it releases every level at once and reports the depth.
        try lock.acquire()
        try lock.acquire()
        #expect(try lock.releaseSave() == 2)
        #expect(!lock.lockedAnywhere)
        #expect(lock.depthHere == 0)
    }

    fileprivate static func test_recursion_count<L: RLockUnderTest>(_ make: () -> L) throws {
        let lock = make()
        #expect(lock.depthHere == 0)
        try lock.acquire()
        #expect(lock.depthHere == 1)
        try lock.acquire()
        try lock.acquire()
        #expect(lock.depthHere == 3)
        try lock.release()
        #expect(lock.depthHere == 2)
        try lock.release()
        try lock.release()
        #expect(lock.depthHere == 0)

        let phase = Counter()
        let thread = RawThread {
            try! lock.acquire()
            phase.increment()
            _ = rlockTestsPoll { phase.current >= 2 }
            try! lock.release()
            phase.increment()
        }
        // Thread blocked on lock.acquire()
        #expect(rlockTestsPoll { phase.current >= 1 })
        #expect(lock.depthHere == 0)
        #expect(lock.lockedAnywhere)
        // Thread unblocked
        phase.increment()
        #expect(rlockTestsPoll { phase.current >= 3 })
        #expect(lock.depthHere == 0)
        thread.join()
        #expect(!lock.lockedAnywhere)
    }

    fileprivate static func test_different_thread<L: RLockUnderTest>(_ make: () -> L) throws {
        // Cannot release from a different thread
        let lock = make()
        let bunch = Bunch(1, waitBeforeExit: true) { try lock.acquire() }
        bunch.waitForStarted()
        #expect(rlockTestsPoll { lock.lockedAnywhere })
        expectThreadingError(.runtimeError, "cannot release un-acquired lock") { try lock.release() }
        bunch.doFinishNow()
        bunch.join()
        // The thread ended holding it: it is still locked, and still not ours to release.
        #expect(lock.lockedAnywhere)
        expectThreadingError(.runtimeError, "cannot release un-acquired lock") { try lock.release() }
    }

    fileprivate static func test__is_owned<L: RLockUnderTest>(_ make: () -> L) throws {
        let lock = make()
        #expect(!lock.ownedHere)
        try lock.acquire()
        #expect(lock.ownedHere)
        try lock.acquire()
        #expect(lock.ownedHere)
        let result = SharedList<Bool>()
        Bunch(1) { result.append(lock.ownedHere) }.join()
        #expect(result.values == [false])
        try lock.release()
        #expect(lock.ownedHere)
        try lock.release()
        #expect(!lock.ownedHere)
    }

    // MARK: The API contract

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
            .init(blocking: true, timeout: 1e100, kind: .overflowError, message: tooLarge),
            .init(blocking: true, timeout: timeoutMax + 1, kind: .overflowError, message: tooLarge),
            .init(blocking: true, timeout: .infinity, kind: .overflowError, message: tooLarge),
            .init(blocking: true, timeout: -.infinity, kind: .overflowError, message: tooLarge),
            .init(blocking: false, timeout: .infinity, kind: .overflowError, message: tooLarge),
        ]
    }

    fileprivate static func invalidTimeoutThrowsUpFront<L: RLockUnderTest>(
        _ make: () -> L,
        _ call: InvalidTimeout
    ) throws {
        let lock = make()
        let attempt = {
            expectThreadingError(call.kind, call.message) {
                try lock.acquire(blocking: call.blocking, timeout: call.timeout)
            }
        }
        // Free: checked before the lock is tried.
        attempt()
        #expect(!lock.lockedAnywhere)
        // Owned by this thread: checked before the re-entry, and the depth is unchanged.
        try lock.acquire()
        try lock.acquire()
        attempt()
        #expect(lock.depthHere == 2)
        try lock.release()
        try lock.release()
        #expect(!lock.lockedAnywhere)
        // Held by another thread: the same error, at once.
        let bunch = Bunch(1, waitBeforeExit: true) { try lock.acquire() }
        #expect(rlockTestsPoll { lock.lockedAnywhere })
        let elapsed = measure { attempt() }
        #expect(elapsed < 1)
        #expect(!lock.ownedHere)
        bunch.join()
    }

    fileprivate static func validTimeouts<L: RLockUnderTest>(_ make: () -> L) throws {
        let lock = make()
        let calls: [(blocking: Bool, timeout: Double?)] = [
            (true, nil), (false, nil), (true, -1), (false, -1), (true, 0), (true, -0.0), (true, 1),
            (true, timeoutMax),
        ]
        // Free: each acquires. Owned: each re-enters at once, even the non-blocking ones.
        for call in calls {
            let label = "acquire(blocking: \(call.blocking), timeout: \(String(describing: call.timeout)))"
            #expect(try lock.acquire(blocking: call.blocking, timeout: call.timeout), "\(label)")
            #expect(lock.depthHere == 1, "\(label)")
            #expect(try lock.acquire(blocking: call.blocking, timeout: call.timeout), "\(label)")
            #expect(lock.depthHere == 2, "\(label)")
            try lock.release()
            try lock.release()
        }
        #expect(!lock.lockedAnywhere)
        // Held by another thread: the calls that do not wait fail at once.
        let bunch = Bunch(1, waitBeforeExit: true) { try lock.acquire() }
        #expect(rlockTestsPoll { lock.lockedAnywhere })
        for call in calls where call.blocking == false || call.timeout == 0 {
            var got = true
            let elapsed = try measure { got = try lock.acquire(blocking: call.blocking, timeout: call.timeout) }
            #expect(!got, "acquire(blocking: \(call.blocking), timeout: \(String(describing: call.timeout)))")
            #expect(elapsed < 1)
        }
        // A short timeout waits, then fails.
        var got = true
        let elapsed = try measure { got = try lock.acquire(blocking: true, timeout: 0.1) }
        #expect(!got)
        expectTimeout(elapsed, 0.1)
        #expect(elapsed >= 0.1)  // the deadline is on the monotonic clock: never early
        #expect(!lock.ownedHere)
        bunch.join()
    }

    fileprivate static func releaseByNonOwnerLeavesTheLockUsable<L: RLockUnderTest>(_ make: () -> L) throws {
        let lock = make()
        let release = Counter()
        let released = Counter()
        let acquired = Counter()
        let holder = RawThread {
            try! lock.acquire()
            try! lock.acquire()
            acquired.increment()
            _ = rlockTestsPoll { release.current > 0 }
            try! lock.release()
            try! lock.release()
            released.increment()
        }
        #expect(rlockTestsPoll { acquired.current > 0 })
        // Not the owner: refused, and nothing changes for the owner.
        expectThreadingError(.runtimeError, "cannot release un-acquired lock") { try lock.release() }
        expectThreadingError(.runtimeError, "cannot release un-acquired lock") { try lock.release() }
        #expect(lock.lockedAnywhere)
        #expect(try lock.acquire(blocking: false, timeout: nil) == false)
        #expect(lock.description.contains("count=2>"))
        // The owner still releases both levels, and then this thread gets it.
        release.increment()
        #expect(rlockTestsPoll { released.current > 0 })
        holder.join()
        #expect(!lock.lockedAnywhere)
        #expect(try lock.acquire(blocking: true, timeout: 5))
        #expect(lock.depthHere == 1)
        try lock.release()
    }

    fileprivate static func otherThreadGetsItOnlyAfterTheLastRelease<L: RLockUnderTest>(_ make: () -> L) throws {
        let lock = make()
        try lock.acquire()
        try lock.acquire()
        try lock.acquire()
        let results = SharedList<Bool>()
        let bunch = Bunch(1) {
            results.append(try lock.acquire(blocking: true, timeout: 30))
            try lock.release()
        }
        bunch.waitForStarted()
        waitThreadsBlocked(2)
        try lock.release()
        try lock.release()
        waitThreadsBlocked(5)
        #expect(results.values.isEmpty)
        #expect(lock.depthHere == 1)
        try lock.release()
        bunch.join()
        #expect(results.values == [true])
        #expect(!lock.lockedAnywhere)
    }

    fileprivate static func blockingTimeoutWaitsForTheRelease<L: RLockUnderTest>(
        _ make: () -> L,
        _ timeout: Double
    ) throws {
        // -1 means "no timeout" and timeoutMax is valid: both wait for the release.
        let lock = make()
        try lock.acquire()
        let results = SharedList<Bool>()
        let bunch = Bunch(1) {
            results.append(try lock.acquire(blocking: true, timeout: timeout))
            try lock.release()
        }
        bunch.waitForStarted()
        waitThreadsBlocked(5)
        #expect(results.values.isEmpty)
        try lock.release()
        bunch.join()
        #expect(results.values == [true])
    }

    fileprivate static func withLockNestsAndReleasesOnThrow<L: RLockUnderTest>(_ make: () -> L) throws {
        let lock = make()
        let depth = lock.withLock {
            with(lock) { lock.depthHere }
        }
        #expect(depth == 2)
        #expect(!lock.lockedAnywhere)
        do {
            try lock.withLock { () throws -> Void in
                try with(lock) { () throws -> Void in
                    #expect(lock.depthHere == 2)
                    throw RLockTestsError()
                }
            }
            Issue.record("the error was not rethrown")
        } catch is RLockTestsError {}
        #expect(lock.depthHere == 0)
        #expect(!lock.lockedAnywhere)
        // Another thread can take it.
        let results = SharedList<Bool>()
        Bunch(1) {
            results.append(try lock.acquire(blocking: false, timeout: nil))
            try lock.release()
        }.join()
        #expect(results.values == [true])
    }
}

// MARK: - Helpers

/// The error the `with` tests throw (CPython raises `TypeError`).
private struct RLockTestsError: Error {}

/// Polls `condition` until it holds or `timeout` seconds pass (CPython's `sleeping_retry`
/// with `SHORT_TIMEOUT`); returns whether it held.
private func rlockTestsPoll(timeout: Double = 30, _ condition: () -> Bool) -> Bool {
    let end = monotonicSeconds() + timeout
    while !condition() {
        if monotonicSeconds() > end { return false }
        sleep(seconds: 0.002)
    }
    return true
}
