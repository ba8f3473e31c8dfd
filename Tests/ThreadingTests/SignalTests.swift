// Waits interrupted by signals. A SIGUSR1 handler installed without SA_RESTART makes every futex
// sleep of the waiting thread end with EINTR; the waits must go back to sleep for the time that
// is left (a timed wait still lasts its full timeout, and returns false) and must not report a
// wake-up that did not happen (an untimed wait returns once, when really woken).

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

/// How many SIGUSR1 the handler has seen, in the whole process.
private let handledSignals = Atomic<Int>(0)

/// The SIGUSR1 handler: async-signal-safe, it only bumps an atomic counter.
private func countSignal(_ signal: Int32) {
    handledSignals.wrappingAdd(1, ordering: .relaxed)
}

@Suite(.serialized) struct SignalTests {
    static let timeout = 0.5

    // MARK: Timed waits that expire while signals arrive

    @Test func lockTimedAcquire() throws {
        let lock = Lock()
        try lock.acquire()
        let outcome = try interruptedWait { try lock.acquire(timeout: Self.timeout) ? "acquired" : "timed out" }
        #expect(outcome.result == "timed out")
        expectFullTimeout(outcome)
        #expect(lock.isLocked)
        try lock.release()
        #expect(try lock.acquire(timeout: 0))
        try lock.release()
    }

    @Test func rlockTimedAcquire() throws {
        let lock = RLock()
        try lock.acquire()
        let outcome = try interruptedWait { try lock.acquire(timeout: Self.timeout) ? "acquired" : "timed out" }
        #expect(outcome.result == "timed out")
        expectFullTimeout(outcome)
        try lock.release()
        #expect(!lock.isLocked)
    }

    @Test(arguments: [false, true])
    func conditionTimedWait(reentrant: Bool) throws {
        let cond = reentrant ? Condition() : Condition(Lock())
        let outcome = try interruptedWait {
            try cond.withLock {
                let notified = try cond.wait(timeout: Self.timeout)
                return "\(notified ? "notified" : "timed out"), owned \(cond.isOwned)"
            }
        }
        #expect(outcome.result == "timed out, owned true")
        expectFullTimeout(outcome)
        #expect(cond.waiterCount.load(ordering: .relaxed) == 0)
    }

    @Test func conditionTimedWaitFor() throws {
        let cond = Condition()
        let outcome = try interruptedWait {
            try cond.withLock { try cond.waitFor(timeout: Self.timeout) { false } ? "true" : "false" }
        }
        #expect(outcome.result == "false")
        expectFullTimeout(outcome)
    }

    @Test func semaphoreTimedAcquire() throws {
        let sem = try Threading.Semaphore(0)
        let outcome = try interruptedWait { try sem.acquire(timeout: Self.timeout) ? "acquired" : "timed out" }
        #expect(outcome.result == "timed out")
        expectFullTimeout(outcome)
        #expect(sem.currentValue == 0)
        try sem.release()
        #expect(try sem.acquire(timeout: 0))
    }

    @Test func eventTimedWait() throws {
        let event = Event()
        let outcome = try interruptedWait { try event.wait(timeout: Self.timeout) ? "set" : "timed out" }
        #expect(outcome.result == "timed out")
        expectFullTimeout(outcome)
        #expect(!event.isSet)
    }

    @Test func barrierTimedWait() throws {
        let barrier = try Barrier(2)
        let outcome = try interruptedWait { () -> String in
            do {
                return "passed as \(try barrier.wait(timeout: Self.timeout))"
            } catch let error as ThreadingError {
                return "\(error.kind)"
            }
        }
        #expect(outcome.result == "brokenBarrier")
        expectFullTimeout(outcome)
        #expect(barrier.isBroken)
    }

    // MARK: Untimed waits: signals, then a real wake-up

    @Test func lockUntimedAcquire() throws {
        let lock = Lock()
        try lock.acquire()
        let wake = { try lock.release() }
        let outcome = try interruptedWait(wake: wake) {
            let got = try lock.acquire()
            try lock.release()
            return got ? "acquired" : "not acquired"
        }
        #expect(outcome.result == "acquired")
        expectWokenOnce(outcome)
        #expect(!lock.isLocked)
    }

    @Test func rlockUntimedAcquire() throws {
        let lock = RLock()
        try lock.acquire()
        let wake = { try lock.release() }
        let outcome = try interruptedWait(wake: wake) {
            let got = try lock.acquire()
            let depth = lock.recursionCount
            try lock.release()
            return got ? "acquired at depth \(depth)" : "not acquired"
        }
        #expect(outcome.result == "acquired at depth 1")
        expectWokenOnce(outcome)
        #expect(!lock.isLocked)
    }

    @Test(arguments: [false, true])
    func conditionUntimedWait(reentrant: Bool) throws {
        let cond = reentrant ? Condition() : Condition(Lock())
        let wake = { try cond.withLock { try cond.notify() } }
        let outcome = try interruptedWait(wake: wake) {
            try cond.withLock { try cond.wait() ? "notified" : "not notified" }
        }
        #expect(outcome.result == "notified")
        expectWokenOnce(outcome)
        #expect(cond.waiterCount.load(ordering: .relaxed) == 0)
    }

    /// A waiter that `notify` moves onto the lock's word, then interrupted there by a signal whose
    /// handler has SA_RESTART, before the notifier tells it that it was notified. The kernel
    /// restarts the sleep on the waiter's own word if that still holds the value it slept on, and
    /// the notifier, which believes it on the lock word, never wakes it there: the lost wake-up a
    /// CI stress run found (a consumer asleep after `notifyAll`, the lock free). The notifier
    /// announces the move in the word first, so the restarted sleep ends at once. Only the futex
    /// backend moves sleepers (the portable one has no requeue: `notify` wakes them in place).
    @Test(.enabled(if: Platform.waitBackend == "futex"), arguments: [false, true])
    func conditionWaiterMovedToTheLockThenSignalled(reentrant: Bool) throws {
        let cond = reentrant ? Condition() : Condition(Lock())
        let lockWord: UnsafePointer<Atomic<UInt32>>
        switch cond.underlying {
        case .lock(let lock): lockWord = address(of: lock.word)
        case .rlock(let lock): lockWord = address(of: lock.word)
        }
        let key = UnsafeRawPointer(Unmanaged.passUnretained(cond).toOpaque())
        let waiterThread = Atomic<UInt>(0)
        let moves = Atomic<Int>(0)
        let result = Mutex<String?>(nil)
        TestHooks.afterMoveBody = {
            moves.add(1, ordering: .relaxed)
            _ = pthread_kill(pthread_t(waiterThread.load(ordering: .acquiring)), SIGUSR1)
            usleep(50_000)  // the signal is handled and the sleep restarted meanwhile
        }
        TestHooks.afterMoveTarget.store(UInt(bitPattern: lockWord), ordering: .releasing)
        defer {
            TestHooks.afterMoveTarget.store(0, ordering: .releasing)
            TestHooks.afterMoveBody = nil
        }

        let ran: Void? = withCountingHandler(restart: true) {
            let waiter = RawThread {
                unblockSIGUSR1()
                waiterThread.store(UInt(pthread_self()), ordering: .releasing)
                let text: String
                do {
                    text = try cond.withLock { try cond.wait() } ? "notified" : "not notified"
                } catch {
                    text = "threw \(error)"
                }
                result.withLock { $0 = text }
            }
            // Notify once the waiter sleeps in the kernel: only a sleeping thread is moved.
            #expect(pollUntil { ParkingLot.waiterCount(on: key) == 1 })
            usleep(100_000)
            do { try cond.withLock { try cond.notify() } } catch { Issue.record("notify threw \(error)") }
            // Left blocked and not joined if it never returns, instead of hanging the test.
            if pollUntil(seconds: 10, { result.withLock { $0 } != nil }) {
                waiter.join()
            } else {
                Issue.record("the notified waiter did not return within 10 s")
            }
        }
        #expect(ran != nil, "sigaction failed: \(errno)")
        #expect(moves.load(ordering: .relaxed) == 1, "notify did not move the sleeping waiter")
        let text = result.withLock { $0 }
        #expect(text == "notified" || text == nil)
        #expect(handledSignals.load(ordering: .relaxed) >= 1)
    }

    @Test func semaphoreUntimedAcquire() throws {
        let sem = try Threading.Semaphore(0)
        let wake = { try sem.release() }
        let outcome = try interruptedWait(wake: wake) { try sem.acquire() ? "acquired" : "not acquired" }
        #expect(outcome.result == "acquired")
        expectWokenOnce(outcome)
        #expect(sem.currentValue == 0, "the one unit was taken exactly once")
    }

    @Test func eventUntimedWait() throws {
        let event = Event()
        let wake = { event.set() }
        let outcome = try interruptedWait(wake: wake) { try event.wait() ? "set" : "not set" }
        #expect(outcome.result == "set")
        expectWokenOnce(outcome)
    }

    @Test func barrierUntimedWait() throws {
        let barrier = try Barrier(2)
        let lastIndex = Counter(-1)
        let wake = {
            let index = try barrier.wait(timeout: 10)
            lastIndex.increment(by: index + 1)
        }
        let outcome = try interruptedWait(wake: wake) {
            "index \(try barrier.wait())"
        }
        #expect(outcome.result == "index 0")
        #expect(lastIndex.current == 1)
        expectWokenOnce(outcome)
        #expect(!barrier.isBroken)
    }
}

// MARK: - Signal storm

extension SignalTests {
    /// 28 waiters at once, timed and untimed, on every primitive, while one thread sends each of
    /// them SIGUSR1 every millisecond: every timed wait lasts its full timeout and reports a
    /// timeout, every untimed wait returns exactly once, only after it was really woken, and no
    /// wake-up is lost.
    @Test func signalStormOnEveryPrimitive() throws {
        let ran: Void? = try withCountingHandler { try signalStorm() }
        #expect(ran != nil, "sigaction failed: \(errno)")
    }

    private func signalStorm() throws {
        let timed = 0.4
        let heldLock = Lock()
        let heldRLock = RLock()
        let wakeLock = Lock()
        let wakeRLock = RLock()
        let cond = Condition(Lock())
        let rcond = Condition()
        let sem = try Threading.Semaphore(0)
        let event = Event()
        let neverSet = Event()
        let wakeBarrier = try Barrier(3)  // two waiters and this thread
        try heldLock.acquire()
        try wakeLock.acquire()
        let rlockOwner = RawThread { _ = try? heldRLock.acquire() }  // exits owning it: never released
        rlockOwner.join()
        let wakeRLockHolder = Event()
        let wakeRLockRelease = Event()
        let wakeRLockOwner = RawThread {
            _ = try? wakeRLock.acquire()
            wakeRLockHolder.set()
            _ = try? wakeRLockRelease.wait(timeout: 30)
            try? wakeRLock.release()
        }
        _ = try wakeRLockHolder.wait(timeout: 10)

        let timedWaits: [(String, @Sendable () throws -> String)] = [
            ("lock", { "\(try heldLock.acquire(timeout: timed))" }),
            ("rlock", { "\(try heldRLock.acquire(timeout: timed))" }),
            ("condition", { "\(try cond.withLock { try cond.wait(timeout: timed) })" }),
            ("rcondition", { "\(try rcond.withLock { try rcond.waitFor(timeout: timed) { false } })" }),
            ("semaphore", { "\(try sem.acquire(timeout: timed))" }),
            ("event", { "\(try neverSet.wait(timeout: timed))" }),
            (
                "barrier",
                {
                    // Its own barrier: a timeout breaks the barrier for every party.
                    let barrier = try Barrier(2)
                    do { return "passed \(try barrier.wait(timeout: timed))" } catch { return "false" }
                }
            ),
        ]
        let untimedWaits: [(String, @Sendable () throws -> String)] = [
            (
                "lock",
                {
                    let got = try wakeLock.acquire()
                    try wakeLock.release()  // on to the other waiter
                    return "\(got)"
                }
            ),
            (
                "rlock",
                {
                    let got = try wakeRLock.acquire()
                    try wakeRLock.release()
                    return "\(got)"
                }
            ),
            ("condition", { "\(try cond.withLock { try cond.wait() })" }),
            ("rcondition", { "\(try rcond.withLock { try rcond.wait() })" }),
            ("semaphore", { "\(try sem.acquire())" }),
            ("event", { "\(try event.wait())" }),
            ("barrier", { "\(try wakeBarrier.wait() >= 0)" }),
        ]

        let storm = SignalStorm()
        let woken = Atomic<Bool>(false)
        var threads: [RawThread] = []
        // Two waiters of each kind: the 14 timed ones first, then the 14 untimed ones.
        for (index, (name, wait)) in (timedWaits + timedWaits + untimedWaits + untimedWaits).enumerated() {
            let isTimed = index < 2 * timedWaits.count
            threads.append(
                RawThread {
                    storm.enlist()
                    let start = monotonicSeconds()
                    let result: String
                    do { result = try wait() } catch { result = "threw \(error)" }
                    let elapsed = monotonicSeconds() - start
                    let early = !isTimed && !woken.load(ordering: .sequentiallyConsistent)
                    storm.report(
                        "\(isTimed ? "timed" : "untimed") \(name): \(result)\(early ? " early" : "")",
                        elapsed,
                        isTimed
                    )
                }
            )
        }
        let total = threads.count
        while storm.enlisted < total { usleep(100) }
        let signaller = RawThread { storm.run(everyMicroseconds: 1000) }

        // The timed waits expire under the storm; the untimed ones must sit through it.
        let timedDone = monotonicSeconds() + 10
        while storm.finished < total / 2 && monotonicSeconds() < timedDone { usleep(1000) }
        sleep(seconds: 0.1)
        #expect(storm.finished == total / 2, "the timed waits, and only they, have returned: \(storm.results)")
        woken.store(true, ordering: .sequentiallyConsistent)
        try wakeLock.release()
        wakeRLockRelease.set()
        try cond.withLock { try cond.notifyAll() }
        try rcond.withLock { try rcond.notify(2) }
        try sem.release(2)
        event.set()
        _ = try wakeBarrier.wait(timeout: 10)

        let giveUp = monotonicSeconds() + 10
        while storm.finished < total && monotonicSeconds() < giveUp { usleep(1000) }
        storm.stop()
        signaller.join()
        #expect(storm.finished == total, "a woken wait never returned: a wake-up was lost")
        guard storm.finished == total else { return }  // leave the blocked threads behind
        for thread in threads { thread.join() }
        wakeRLockOwner.join()

        let results = storm.results.sorted()
        let expected = (timedWaits.map { "timed \($0.0): false" } + untimedWaits.map { "untimed \($0.0): true" })
            .flatMap { [$0, $0] }.sorted()
        #expect(results == expected)
        #expect(storm.shortestTimed >= timed, "a timed wait returned early, after \(storm.shortestTimed) s")
        #expect(storm.sent >= 10 * total, "only \(storm.sent) signals were sent")
        #expect(
            handledSignals.load(ordering: .relaxed) > total,
            "the handler ran \(handledSignals.load(ordering: .relaxed)) times"
        )
        try heldLock.release()
    }
}

/// The waiters of a signal storm and the thread that signals them.
private final class SignalStorm: Sendable {
    private struct State {
        var targets: [pthread_t] = []
        var done: Set<UInt> = []
        var results: [String] = []
        var shortestTimed = Double.infinity
        var sent = 0
        var stopped = false
    }
    private let state = Protected(State())

    /// Called by a waiter before it waits: lets SIGUSR1 in and signs up for signals.
    func enlist() {
        unblockSIGUSR1()
        let me = pthread_self()
        state.withLock { $0.targets.append(me) }
    }

    /// Called by a waiter after its wait: no more signals for it.
    func report(_ result: String, _ elapsed: Double, _ timed: Bool) {
        let me = UInt(pthread_self())
        state.withLock {
            $0.done.insert(me)
            $0.results.append(result)
            if timed { $0.shortestTimed = min($0.shortestTimed, elapsed) }
        }
    }

    /// Sends SIGUSR1 to every waiter still waiting, every `interval` µs, until `stop()`. A waiter
    /// is signalled only under the lock it reports under, so never after it has returned.
    func run(everyMicroseconds interval: UInt32) {
        while true {
            let stopped = state.withLock { state -> Bool in
                if state.stopped { return true }
                for target in state.targets where !state.done.contains(UInt(target)) {
                    if pthread_kill(target, SIGUSR1) == 0 { state.sent += 1 }
                }
                return false
            }
            if stopped { return }
            usleep(interval)
        }
    }

    func stop() { state.withLock { $0.stopped = true } }
    var enlisted: Int { state.withLock { $0.targets.count } }
    var finished: Int { state.withLock { $0.results.count } }
    var results: [String] { state.withLock { $0.results } }
    var shortestTimed: Double { state.withLock { $0.shortestTimed } }
    var sent: Int { state.withLock { $0.sent } }
}

// MARK: - Helpers

/// What happened to a wait run by `interruptedWait`.
private struct InterruptedOutcome {
    /// What the wait returned (or the error it threw, described).
    var result: String
    /// How long the wait took, measured on its own thread.
    var elapsed: Double
    /// How many SIGUSR1 were sent to the waiting thread, and how many the handler ran for.
    var sent: Int
    var handled: Int
    /// For an untimed wait: whether it had returned before it was woken.
    var returnedBeforeWake: Bool
}

/// The waiting thread's identity and progress, shared with the signalling thread.
private final class WaiterState: Sendable {
    let thread = Atomic<UInt>(0)
    let published = Atomic<Bool>(false)
    let returns = Atomic<Int>(0)
    let result = Mutex<(String, Double)?>(nil)
}

/// Runs `body` on a raw thread while this thread sends it SIGUSR1 about every 5 ms. Without
/// `wake`, signals go on until `body` returns; with it, for 150 ms first (the wait must not end
/// meanwhile), then `wake` runs and signals go on until `body` returns.
private func interruptedWait(
    wake: (() throws -> Void)? = nil,
    _ body: @escaping @Sendable () throws -> String
) throws -> InterruptedOutcome {
    let outcome = try withCountingHandler { try signalledWait(wake: wake, body) }
    guard let outcome else {
        Issue.record("sigaction failed: \(errno)")
        return InterruptedOutcome(result: "", elapsed: 0, sent: 0, handled: 0, returnedBeforeWake: false)
    }
    return outcome
}

/// Runs `body` with `countSignal` as the SIGUSR1 handler, installed without SA_RESTART so that
/// sleeping system calls end with EINTR (with it if `restart`: the kernel then restarts them),
/// and the previous action restored after; nil (and `body` not run) if the handler cannot be
/// installed. The count starts from zero.
private func withCountingHandler<R>(restart: Bool = false, _ body: () throws -> R) rethrows -> R? {
    handledSignals.store(0, ordering: .relaxed)  // touch the global before any handler runs
    var action = sigaction()
    action.__sigaction_handler.sa_handler = countSignal
    sigemptyset(&action.sa_mask)
    action.sa_flags = restart ? SA_RESTART : 0
    var previous = sigaction()
    guard sigaction(SIGUSR1, &action, &previous) == 0 else { return nil }
    defer { sigaction(SIGUSR1, &previous, nil) }
    return try body()
}

/// Lets SIGUSR1 in on the calling thread. The tests run on Dispatch workers, which block most
/// signals, and a new thread inherits that mask.
private func unblockSIGUSR1() {
    var unblock = sigset_t()
    sigemptyset(&unblock)
    sigaddset(&unblock, SIGUSR1)
    pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
}

/// `interruptedWait`, once the handler is in place.
private func signalledWait(
    wake: (() throws -> Void)?,
    _ body: @escaping @Sendable () throws -> String
) throws -> InterruptedOutcome {
    let state = WaiterState()
    let waiter = RawThread {
        unblockSIGUSR1()
        state.thread.store(UInt(pthread_self()), ordering: .sequentiallyConsistent)
        state.published.store(true, ordering: .sequentiallyConsistent)
        let start = monotonicSeconds()
        let result: String
        do { result = try body() } catch { result = "threw \(error)" }
        let elapsed = monotonicSeconds() - start
        state.result.withLock { $0 = (result, elapsed) }
        state.returns.add(1, ordering: .sequentiallyConsistent)
    }
    while !state.published.load(ordering: .sequentiallyConsistent) { usleep(100) }
    let target = pthread_t(state.thread.load(ordering: .sequentiallyConsistent))

    var sent = 0
    func signal(until stop: () -> Bool) {
        while !stop() {
            let rc = pthread_kill(target, SIGUSR1)
            if rc != 0 {
                Issue.record("pthread_kill failed: \(rc)")
                return
            }
            sent += 1
            usleep(5000)
        }
    }
    var returnedBeforeWake = false
    var wakeError: (any Error)? = nil
    if let wake {
        let until = monotonicSeconds() + 0.15
        signal { monotonicSeconds() >= until || state.returns.load(ordering: .sequentiallyConsistent) > 0 }
        returnedBeforeWake = state.returns.load(ordering: .sequentiallyConsistent) > 0
        do { try wake() } catch { wakeError = error }
    }
    // A wait that never returns fails the test after 10 s instead of hanging it: the waiting
    // thread is then left behind, blocked, and not joined.
    let giveUp = monotonicSeconds() + 10
    signal { state.returns.load(ordering: .sequentiallyConsistent) > 0 || monotonicSeconds() >= giveUp }
    if state.returns.load(ordering: .sequentiallyConsistent) == 0 {
        Issue.record("the wait did not return within 10 s of being woken")
    } else {
        waiter.join()
    }
    if let wakeError { throw wakeError }
    // Give a signal sent last time a moment to be handled, then count.
    usleep(1000)
    let (result, elapsed) = state.result.withLock { $0 } ?? ("no result", 0)
    return InterruptedOutcome(
        result: result,
        elapsed: elapsed,
        sent: sent,
        handled: handledSignals.load(ordering: .relaxed),
        returnedBeforeWake: returnedBeforeWake
    )
}

/// A timed wait interrupted many times still lasted its full timeout.
private func expectFullTimeout(_ outcome: InterruptedOutcome, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(
        outcome.elapsed >= SignalTests.timeout,
        "returned after \(outcome.elapsed) s",
        sourceLocation: sourceLocation
    )
    #expect(outcome.elapsed < 5, "returned after \(outcome.elapsed) s", sourceLocation: sourceLocation)
    #expect(outcome.sent >= 10, "only \(outcome.sent) signals sent", sourceLocation: sourceLocation)
    #expect(outcome.handled > 0, "the handler never ran", sourceLocation: sourceLocation)
}

/// An untimed wait interrupted many times returned once, and only after the real wake-up.
private func expectWokenOnce(_ outcome: InterruptedOutcome, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(
        !outcome.returnedBeforeWake,
        "the wait returned before it was woken: \(outcome.result)",
        sourceLocation: sourceLocation
    )
    #expect(outcome.elapsed >= 0.14, "returned after \(outcome.elapsed) s", sourceLocation: sourceLocation)
    #expect(outcome.sent >= 5, "only \(outcome.sent) signals sent", sourceLocation: sourceLocation)
    #expect(outcome.handled > 0, "the handler never ran", sourceLocation: sourceLocation)
}
