// Every timed call against every kind of timeout argument, by API.md's rules:
//
// - `Lock`, `RLock` and `Condition.acquire` check their arguments up front, in CPython's order:
//   NaN (valueError), out of range either way (overflowError), a timeout on a non-blocking call
//   (valueError), negative other than -1 (valueError); -1 means no timeout.
// - `Condition.wait`/`waitFor`, `Semaphore.acquire`, `Event.wait` and `Barrier.wait` treat zero and
//   negative as "don't wait", and throw for NaN and for too large a timeout when they would block.
//
// Each check also looks at how long the call took (promptly where it must not wait, at least the
// timeout where it must) and that the object still works afterwards. A call that wrongly blocks
// is rescued by another thread after a few seconds, so the test fails instead of hanging.

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

private let negatives: [Double] = [-0.5, -1, -1e100, -.infinity]
private let tooLarge: [Double] = [1e100, timeoutMax + 1, .infinity]
/// Negative timeouts that `Lock`/`RLock` reject as out of range rather than as negative.
private let negativeOutOfRange: [Double] = [-1e100, -.infinity]
/// How long a call that must not wait may take, loosely (two shared cores).
private let prompt = 1.0

private let nanMessage = "Invalid value NaN (not a number)"
private let tooLargeMessage = "timeout value is too large"
private let negativeMessage = "timeout value must be a non-negative number"
private let nonBlockingMessage = "can't specify a timeout for a non-blocking call"
private let semaphoreNonBlockingMessage = "can't specify timeout for non-blocking acquire"

@Suite struct TimeoutArgumentTests {
    @Test func timeoutMaxIsCPythons() {
        // floor((2^63 - 1) ns / 1e9): the value CPython reports on 64-bit Linux.
        #expect(timeoutMax == 9_223_372_036.0)
        #expect(timeoutMax + 1 > timeoutMax)
    }

    // MARK: Lock, RLock, Condition.acquire

    @Test(arguments: TimeoutLockKind.allCases)
    func acquireRejectsBadArgumentsUpFrontOnAFreeLock(_ kind: TimeoutLockKind) throws {
        let subject = kind.make()
        let lock = subject.lock
        for blocking in [true, false] {
            expectThreadingError(.valueError, nanMessage) { try lock.acquire(blocking: blocking, timeout: .nan) }
            for t in tooLarge + negativeOutOfRange {
                expectThreadingError(.overflowError, tooLargeMessage) {
                    try lock.acquire(blocking: blocking, timeout: t)
                }
            }
        }
        expectThreadingError(.valueError, negativeMessage) { try lock.acquire(blocking: true, timeout: -0.5) }
        expectThreadingError(.valueError, negativeMessage) { try lock.acquire(blocking: true, timeout: -1e-9) }
        // Non-blocking with any timeout but -1, zero and timeoutMax included; the non-blocking
        // check comes before the negative one.
        for t in [0, 1e-9, 0.5, timeoutMax, -0.5] {
            expectThreadingError(.valueError, nonBlockingMessage) { try lock.acquire(blocking: false, timeout: t) }
        }
        #expect(!subject.isLocked(), "a rejected call must not take the lock")

        // The accepted arguments on a free lock: true at once.
        for t in [nil, -1, 0, 1e-9, 0.5, timeoutMax] as [Double?] {
            let elapsed = try measure {
                let got = try lock.acquire(blocking: true, timeout: t)
                #expect(got, "timeout \(String(describing: t))")
            }
            #expect(elapsed < prompt)
            #expect(subject.isLocked())
            try lock.release()
            #expect(!subject.isLocked())
        }
        #expect(try lock.acquire(blocking: false, timeout: -1))
        try lock.release()
        #expect(try lock.acquire(blocking: false, timeout: nil))
        try lock.release()
        #expect(!subject.isLocked())
    }

    @Test(arguments: TimeoutLockKind.allCases)
    func acquireOnALockHeldElsewhere(_ kind: TimeoutLockKind) throws {
        let subject = kind.make()
        let lock = subject.lock
        let holder = TimeoutLockHolder(lock)
        defer { holder.finish() }

        // Rejected arguments throw at once even though the call would have to wait.
        for blocking in [true, false] {
            try expectPromptError(.valueError, nanMessage, rescue: holder.releaseNow) {
                try lock.acquire(blocking: blocking, timeout: .nan)
            }
            for t in tooLarge + negativeOutOfRange {
                try expectPromptError(.overflowError, tooLargeMessage, rescue: holder.releaseNow) {
                    try lock.acquire(blocking: blocking, timeout: t)
                }
            }
        }
        try expectPromptError(.valueError, negativeMessage, rescue: holder.releaseNow) {
            try lock.acquire(blocking: true, timeout: -0.5)
        }
        try expectPromptError(.valueError, nonBlockingMessage, rescue: holder.releaseNow) {
            try lock.acquire(blocking: false, timeout: 0)
        }

        // Zero, tiny and non-blocking: false at once.
        for (blocking, t) in [(true, 0), (true, 1e-9), (false, -1), (false, nil)] as [(Bool, Double?)] {
            let elapsed = try measure {
                let got = try withRescue(holder.releaseNow) { try lock.acquire(blocking: blocking, timeout: t) }
                #expect(!got, "blocking \(blocking), timeout \(String(describing: t))")
            }
            #expect(elapsed < prompt, "blocking \(blocking), timeout \(String(describing: t))")
        }

        // A timed wait that expires lasts at least its timeout.
        let elapsed = try measure {
            let got = try withRescue(holder.releaseNow) { try lock.acquire(blocking: true, timeout: 0.1) }
            #expect(!got)
        }
        #expect(elapsed >= 0.099, "took \(elapsed) s")
        #expect(elapsed < 5)
        #expect(holder.isHolding, "the lock must still be the holder's")

        // -1 is "no timeout": the call waits until the holder lets go.
        holder.release(after: 0.2)
        let waited = try measure {
            let r = try lock.acquire(blocking: true, timeout: -1)
            #expect(r)
        }
        #expect(waited >= 0.15, "acquire(timeout: -1) returned after \(waited) s, before the holder let go")
        #expect(waited < 10)
        #expect(!holder.isHolding)
        #expect(subject.isLocked())
        try lock.release()
        #expect(!subject.isLocked())
        #expect(try lock.acquire(blocking: true, timeout: 0))
        try lock.release()
    }

    @Test(arguments: TimeoutLockKind.allCases)
    func acquireWithTimeoutMaxWaitsForTheHolder(_ kind: TimeoutLockKind) throws {
        let subject = kind.make()
        let lock = subject.lock
        let holder = TimeoutLockHolder(lock)
        defer { holder.finish() }
        holder.release(after: 0.1)
        let waited = try measure {
            let r = try lock.acquire(blocking: true, timeout: timeoutMax)
            #expect(r)
        }
        #expect(waited >= 0.05, "acquire(timeout: timeoutMax) returned after \(waited) s")
        #expect(waited < 10)
        try lock.release()
        #expect(!subject.isLocked())
    }

    @Test(arguments: TimeoutLockKind.allCases.filter(\.isReentrant))
    func reentrantAcquireStillChecksArguments(_ kind: TimeoutLockKind) throws {
        let subject = kind.make()
        let lock = subject.lock
        let rlock = try #require(subject.rlock)
        try lock.acquire()
        #expect(rlock.recursionCount == 1)
        // The owner re-entering would not wait, yet the arguments are checked first.
        expectThreadingError(.valueError, nanMessage) { try lock.acquire(blocking: true, timeout: .nan) }
        for t in tooLarge + negativeOutOfRange {
            expectThreadingError(.overflowError, tooLargeMessage) { try lock.acquire(blocking: true, timeout: t) }
        }
        expectThreadingError(.valueError, negativeMessage) { try lock.acquire(blocking: true, timeout: -0.5) }
        expectThreadingError(.valueError, nonBlockingMessage) { try lock.acquire(blocking: false, timeout: 0) }
        #expect(rlock.recursionCount == 1, "a rejected call must not deepen the hold")
        for t in [-1, 0, 1e-9, timeoutMax] as [Double] {
            #expect(try lock.acquire(blocking: true, timeout: t))
        }
        #expect(rlock.recursionCount == 5)
        for _ in 0..<5 { try lock.release() }
        #expect(!subject.isLocked())
    }

    // MARK: Condition.wait, Condition.waitFor

    @Test(arguments: TimeoutConditionKind.allCases)
    func conditionWait(_ kind: TimeoutConditionKind) throws {
        let cond = kind.make()
        let rescue: @Sendable () -> Void = { try? cond.withLock { try cond.notifyAll() } }
        try cond.acquire()
        defer { try? cond.release() }

        try expectPromptError(.valueError, nanMessage, rescue: rescue) { try cond.wait(timeout: .nan) }
        for t in tooLarge {
            try expectPromptError(.overflowError, tooLargeMessage, rescue: rescue) { try cond.wait(timeout: t) }
        }
        #expect(kind.ownsLock(cond), "the lock is still held after a rejected wait")

        // Zero, negative and tiny: not notified, at once, and still holding the lock.
        for t in [0, 1e-9] + negatives {
            let elapsed = try measure {
                let got = try withRescue(rescue) { try cond.wait(timeout: t) }
                #expect(!got, "timeout \(t)")
            }
            #expect(elapsed < prompt, "wait(timeout: \(t)) took \(elapsed) s")
            #expect(kind.ownsLock(cond))
        }

        // An expiring wait lasts at least its timeout.
        let elapsed = try measure {
            let got = try withRescue(rescue) { try cond.wait(timeout: 0.1) }
            #expect(!got)
        }
        #expect(elapsed >= 0.099, "took \(elapsed) s")
        #expect(elapsed < 5)

        // timeoutMax: woken by a notify. The notifier gets the lock only once this thread waits.
        let notifier = RawThread { try! cond.withLock { try cond.notify() } }
        #expect(try cond.wait(timeout: timeoutMax))
        notifier.join()
        #expect(kind.ownsLock(cond))
        #expect(cond.waiterCount.load(ordering: .relaxed) == 0)
    }

    @Test(arguments: TimeoutConditionKind.allCases)
    func conditionWaitWithoutTheLockIsARuntimeErrorFirst(_ kind: TimeoutConditionKind) throws {
        let cond = kind.make()
        for t in [.nan, 1e100, .infinity, -1, 0, 0.1] as [Double] {
            expectThreadingError(.runtimeError, "cannot wait on un-acquired lock") { try cond.wait(timeout: t) }
            expectThreadingError(.runtimeError, "cannot wait on un-acquired lock") {
                try cond.waitFor(timeout: t) { false }
            }
        }
    }

    @Test(arguments: TimeoutConditionKind.allCases)
    func conditionWaitFor(_ kind: TimeoutConditionKind) throws {
        let cond = kind.make()
        let rescue: @Sendable () -> Void = { try? cond.withLock { try cond.notifyAll() } }
        try cond.acquire()
        defer { try? cond.release() }

        // A predicate that is false: the call would block.
        try expectPromptError(.valueError, nanMessage, rescue: rescue) { try cond.waitFor(timeout: .nan) { false } }
        for t in tooLarge {
            try expectPromptError(.overflowError, tooLargeMessage, rescue: rescue) {
                try cond.waitFor(timeout: t) { false }
            }
        }
        #expect(kind.ownsLock(cond))

        for t in [0, 1e-9] + negatives {
            let calls = Counter()
            let elapsed = try measure {
                let result = try withRescue(rescue) {
                    try cond.waitFor(timeout: t) {
                        calls.increment()
                        return false
                    }
                }
                #expect(!result, "timeout \(t)")
            }
            #expect(elapsed < prompt, "waitFor(timeout: \(t)) took \(elapsed) s")
            if t <= 0 {
                // CPython evaluates the predicate twice when it does not wait: before and after.
                #expect(calls.current == 2, "timeout \(t): predicate called \(calls.current) times")
            } else {
                #expect(calls.current >= 2)
            }
            #expect(kind.ownsLock(cond))
        }

        let elapsed = try measure {
            let got = try withRescue(rescue) { try cond.waitFor(timeout: 0.1) { false } }
            #expect(!got)
        }
        #expect(elapsed >= 0.099, "took \(elapsed) s")
        #expect(elapsed < 5)

        // A predicate that is already true: no wait, so no timeout is looked at (as CPython).
        for t in [.nan, 1e100, .infinity, timeoutMax, 0] + negatives as [Double] {
            #expect(try cond.waitFor(timeout: t) { true }, "timeout \(t)")
        }

        // timeoutMax: the predicate becomes true while waiting.
        let flag = TimeoutFlag()  // guarded by cond
        let notifier = RawThread {
            try! cond.withLock {
                flag.value = true
                try cond.notifyAll()
            }
        }
        #expect(try cond.waitFor(timeout: timeoutMax) { flag.value })
        notifier.join()
        #expect(kind.ownsLock(cond))
    }

    // MARK: Semaphore, BoundedSemaphore

    @Test(arguments: TimeoutSemaphoreKind.allCases)
    func semaphoreAcquire(_ kind: TimeoutSemaphoreKind) throws {
        let sem = try kind.makeEmpty()
        let rescue: @Sendable () -> Void = { try? sem.release() }

        try expectPromptError(.valueError, nanMessage, rescue: rescue) { try sem.acquire(timeout: .nan) }
        for t in tooLarge {
            try expectPromptError(.overflowError, tooLargeMessage, rescue: rescue) { try sem.acquire(timeout: t) }
        }
        // Non-blocking with any timeout at all, -1 included, with Semaphore's own wording.
        for t in [.nan, 1e100, -1, -0.5, 0, 1e-9, timeoutMax] as [Double] {
            expectThreadingError(.valueError, semaphoreNonBlockingMessage) {
                try sem.acquire(blocking: false, timeout: t)
            }
        }
        #expect(sem.currentValue == 0)

        for t in [0, 1e-9] + negatives {
            let elapsed = try measure {
                let got = try withRescue(rescue) { try sem.acquire(timeout: t) }
                #expect(!got, "timeout \(t)")
            }
            #expect(elapsed < prompt, "acquire(timeout: \(t)) took \(elapsed) s")
        }
        #expect(try !sem.acquire(blocking: false))
        #expect(sem.currentValue == 0, "a rescue released a unit: some call blocked")

        let elapsed = try measure {
            let got = try withRescue(rescue) { try sem.acquire(timeout: 0.1) }
            #expect(!got)
        }
        #expect(elapsed >= 0.099, "took \(elapsed) s")
        #expect(elapsed < 5)

        // Still usable, and zero/negative timeouts take an available unit.
        for t in [0, -1, -.infinity, 1e-9, timeoutMax] as [Double] {
            try sem.release()
            #expect(try sem.acquire(timeout: t), "timeout \(t) with a unit available")
            #expect(sem.currentValue == 0)
        }

        // timeoutMax while empty: a release wakes it.
        let releaser = RawThread {
            waitThreadsBlocked(1)
            try! sem.release()
        }
        let waited = try measure {
            let r = try sem.acquire(timeout: timeoutMax)
            #expect(r)
        }
        releaser.join()
        #expect(waited < 10)
        #expect(sem.currentValue == 0)
    }

    // MARK: Event

    @Test func eventWait() throws {
        let event = Event()
        let rescue: @Sendable () -> Void = { event.set() }

        try expectPromptError(.valueError, nanMessage, rescue: rescue) { try event.wait(timeout: .nan) }
        for t in tooLarge {
            try expectPromptError(.overflowError, tooLargeMessage, rescue: rescue) { try event.wait(timeout: t) }
        }
        for t in [0, 1e-9] + negatives {
            let elapsed = try measure {
                let got = try withRescue(rescue) { try event.wait(timeout: t) }
                #expect(!got, "timeout \(t)")
            }
            #expect(elapsed < prompt, "wait(timeout: \(t)) took \(elapsed) s")
        }
        #expect(!event.isSet, "a rescue set the event: some call blocked")

        let elapsed = try measure {
            let got = try withRescue(rescue) { try event.wait(timeout: 0.1) }
            #expect(!got)
        }
        #expect(elapsed >= 0.099, "took \(elapsed) s")
        #expect(elapsed < 5)

        // timeoutMax while unset: a set wakes it.
        let setter = RawThread {
            waitThreadsBlocked(1)
            event.set()
        }
        #expect(try event.wait(timeout: timeoutMax))
        setter.join()

        // Set: every timeout that the call accepts returns true at once.
        for t in [0, 1e-9, timeoutMax] + negatives {
            let elapsed = try measure {
                let r = try event.wait(timeout: t)
                #expect(r, "timeout \(t)")
            }
            #expect(elapsed < prompt)
        }
        event.clear()
        #expect(try !event.wait(timeout: 0))
    }

    // MARK: Barrier

    @Test func barrierWaitThatWouldBlock() throws {
        let barrier = try Barrier(2)
        let rescue: @Sendable () -> Void = { _ = try? barrier.wait(timeout: 5) }

        let rejected: [(Double, ThreadingError.Kind, String)] =
            [(.nan, .valueError, nanMessage)] + tooLarge.map { ($0, .overflowError, tooLargeMessage) }
        for (t, kind, message) in rejected {
            try expectPromptError(kind, message, rescue: rescue) { try barrier.wait(timeout: t) }
            #expect(barrier.nWaiting == 0, "the rejected thread has left the barrier")
            barrier.reset()
            try expectUsable(barrier)
        }

        // Zero, negative and tiny break the barrier at once (not the last arrival).
        for t in [0, 1e-9] + negatives {
            let elapsed = try measure {
                try expectPromptError(.brokenBarrier, "", rescue: rescue) { try barrier.wait(timeout: t) }
            }
            #expect(elapsed < prompt)
            #expect(barrier.isBroken, "timeout \(t) breaks the barrier")
            barrier.reset()
            #expect(!barrier.isBroken)
            try expectUsable(barrier)
        }

        // An expiring wait lasts at least its timeout and breaks the barrier.
        let elapsed = measure {
            expectThreadingError(.brokenBarrier, "") { try withRescue(rescue) { try barrier.wait(timeout: 0.1) } }
        }
        #expect(elapsed >= 0.099, "took \(elapsed) s")
        #expect(elapsed < 5)
        #expect(barrier.isBroken)
        barrier.reset()

        // timeoutMax as the first arrival: released by the second.
        let partner = RawThread {
            waitThreadsBlocked(1)
            _ = try? barrier.wait(timeout: 5)
        }
        #expect(try barrier.wait(timeout: timeoutMax) == 0)
        partner.join()
        #expect(!barrier.isBroken)

        // The constructor's default timeout follows the same rules.
        let defaulted = try Barrier(2, timeout: .nan)
        expectThreadingError(.valueError, nanMessage) { try defaulted.wait() }
        let defaultedShort = try Barrier(2, timeout: 0.1)
        let defaultElapsed = measure { expectThreadingError(.brokenBarrier, "") { try defaultedShort.wait() } }
        #expect(defaultElapsed >= 0.099)
    }

    @Test func barrierLastArrivalDoesNotWait() throws {
        // The last arrival never waits, so zero, negative and timeoutMax do not break anything.
        let single = try Barrier(1)
        for t in [0, 1e-9, timeoutMax] + negatives {
            let elapsed = try measure {
                let r = try single.wait(timeout: t)
                #expect(r == 0, "timeout \(t)")
            }
            #expect(elapsed < prompt)
            #expect(!single.isBroken)
        }

        let barrier = try Barrier(2)
        for t in [0, -1, -.infinity, timeoutMax] as [Double] {
            let index = Atomic<Int>(-1)
            let first = RawThread { index.store((try? barrier.wait(timeout: 10)) ?? -2, ordering: .relaxed) }
            while barrier.nWaiting < 1 { usleep(1000) }
            let elapsed = try measure {
                let r = try barrier.wait(timeout: t)
                #expect(r == 1, "timeout \(t)")
            }
            first.join()
            #expect(index.load(ordering: .relaxed) == 0)
            #expect(elapsed < prompt)
            #expect(!barrier.isBroken, "timeout \(t) as the last arrival")
        }
    }
}

// MARK: - Helpers

/// The lock-like objects whose `acquire` checks its arguments up front.
enum TimeoutLockKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case lock, rlock, conditionOverLock, conditionOverRLock, defaultCondition

    var testDescription: String { rawValue }
    var isReentrant: Bool { self == .rlock || self == .conditionOverRLock || self == .defaultCondition }

    func make() -> TimeoutLockSubject {
        switch self {
        case .lock:
            let lock = Lock()
            return TimeoutLockSubject(lock: lock, rlock: nil, isLocked: { lock.isLocked })
        case .rlock:
            let lock = RLock()
            return TimeoutLockSubject(lock: lock, rlock: lock, isLocked: { lock.isLocked })
        case .conditionOverLock:
            let lock = Lock()
            return TimeoutLockSubject(lock: Condition(lock), rlock: nil, isLocked: { lock.isLocked })
        case .conditionOverRLock:
            let lock = RLock()
            return TimeoutLockSubject(lock: Condition(lock), rlock: lock, isLocked: { lock.isLocked })
        case .defaultCondition:
            let cond = Condition()
            guard case .rlock(let lock) = cond.underlying else { fatalError("Condition() is over an RLock") }
            return TimeoutLockSubject(lock: cond, rlock: lock, isLocked: { lock.isLocked })
        }
    }
}

struct TimeoutLockSubject: Sendable {
    let lock: any Lockable
    /// The RLock underneath, if the lock is reentrant.
    let rlock: RLock?
    let isLocked: @Sendable () -> Bool
}

/// The kinds of condition whose `wait` and `waitFor` are checked.
enum TimeoutConditionKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case overLock, overRLock, defaultCondition

    var testDescription: String { rawValue }

    func make() -> Condition {
        switch self {
        case .overLock: return Condition(Lock())
        case .overRLock: return Condition(RLock())
        case .defaultCondition: return Condition()
        }
    }

    /// Whether the calling thread may wait on `cond` (holds its lock).
    func ownsLock(_ cond: Condition) -> Bool { cond.isOwned }
}

/// Semaphore and BoundedSemaphore.
enum TimeoutSemaphoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case semaphore, boundedSemaphore

    var testDescription: String { rawValue }

    /// A semaphore with no unit left, that a `release()` may refill.
    func makeEmpty() throws -> Threading.Semaphore {
        switch self {
        case .semaphore:
            return try Threading.Semaphore(0)
        case .boundedSemaphore:
            let sem = try BoundedSemaphore(1)
            _ = try sem.acquire()
            return sem
        }
    }
}

/// Holds a lock on another thread until told to let go.
private final class TimeoutLockHolder: Sendable {
    private let lock: any Lockable
    private let holding = Atomic<Bool>(false)
    /// When to release, in `monotonicSeconds()`, as the bits of a Double (infinity: not yet).
    private let releaseAt = Atomic<UInt64>(Double.infinity.bitPattern)
    private let thread = Mutex<RawThread?>(nil)

    init(_ lock: any Lockable) {
        self.lock = lock
        let t = RawThread { [self] in
            try! self.lock.acquire()
            holding.store(true, ordering: .sequentiallyConsistent)
            while monotonicSeconds() < Double(bitPattern: releaseAt.load(ordering: .sequentiallyConsistent)) {
                usleep(500)
            }
            holding.store(false, ordering: .sequentiallyConsistent)
            try! self.lock.release()
        }
        thread.withLock { $0 = t }
        while !holding.load(ordering: .sequentiallyConsistent) { usleep(500) }
    }

    var isHolding: Bool { holding.load(ordering: .sequentiallyConsistent) }

    /// Lets go `seconds` from now.
    func release(after seconds: Double) {
        releaseAt.store((monotonicSeconds() + seconds).bitPattern, ordering: .sequentiallyConsistent)
    }

    /// Lets go now (a rescue).
    var releaseNow: @Sendable () -> Void { { [self] in release(after: 0) } }

    /// Lets go and waits for the thread to end.
    func finish() {
        release(after: 0)
        thread.withLock { $0 }?.join()
    }
}

/// A Bool guarded by the test's condition.
private final class TimeoutFlag: @unchecked Sendable {
    // @unchecked Sendable: read and written only while holding the condition's lock.
    var value = false
}

/// Runs `body`; if it has not returned after `seconds`, runs `rescue` on another thread, so that
/// a call that wrongly blocks fails its checks instead of hanging the test.
private func withRescue<R>(
    after seconds: Double = 3,
    _ rescue: @escaping @Sendable () -> Void,
    _ body: () throws -> R
) rethrows -> R {
    let done = TimeoutDoneFlag()
    let watchdog = RawThread {
        let end = monotonicSeconds() + seconds
        while !done.isDone {
            if monotonicSeconds() >= end {
                rescue()
                return
            }
            usleep(1000)
        }
    }
    defer {
        done.markDone()
        watchdog.join()
    }
    return try body()
}

private final class TimeoutDoneFlag: Sendable {
    private let done = Atomic<Bool>(false)
    var isDone: Bool { done.load(ordering: .sequentiallyConsistent) }
    func markDone() { done.store(true, ordering: .sequentiallyConsistent) }
}

/// Expects `body` to throw `kind`/`message` promptly (rescued if it blocks instead).
private func expectPromptError<R>(
    _ kind: ThreadingError.Kind,
    _ message: String,
    rescue: @escaping @Sendable () -> Void,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> R
) throws {
    let elapsed = measure {
        expectThreadingError(kind, message, sourceLocation: sourceLocation) { try withRescue(rescue, body) }
    }
    #expect(elapsed < prompt, "took \(elapsed) s to throw", sourceLocation: sourceLocation)
}

/// Expects a 2-party barrier to pass one generation normally.
private func expectUsable(_ barrier: Barrier, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let other = Atomic<Int>(-1)
    let partner = RawThread { other.store((try? barrier.wait(timeout: 10)) ?? -2, ordering: .relaxed) }
    let mine = try barrier.wait(timeout: 10)
    partner.join()
    #expect(Set([mine, other.load(ordering: .relaxed)]) == [0, 1], sourceLocation: sourceLocation)
    #expect(!barrier.isBroken, sourceLocation: sourceLocation)
}
