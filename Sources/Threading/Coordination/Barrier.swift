import Synchronization

/// A rendezvous for a fixed number of threads, Python's `threading.Barrier`.
///
/// Each of `parties` threads calls `wait`; all are released together when the last arrives. The
/// barrier is reusable, generation after generation. It keeps CPython's states (filling,
/// resetting, broken) and what they do: a timeout, an `abort()` or an error thrown by `action`
/// breaks it for every waiter, and `reset()` makes it usable again. CPython's draining phase,
/// in which the next generation waits for the released threads to leave, is replaced by a
/// generation number: the last arrival starts the next generation at once, and a released thread
/// sees the number move on and leaves without taking the lock again.
open class Barrier: CustomStringConvertible, @unchecked Sendable {
    // @unchecked Sendable: `state` and `count` are read and written only while holding `word`;
    // `generation` and `epoch` are atomic; everything else is immutable.

    private enum State: Equatable {
        case filling, resetting, broken
    }

    /// The barrier's own lock (a `RawLock` word), guarding `state` and `count`.
    private let word = Atomic<UInt32>(RawLock.unlocked)
    /// Completed generations; advanced, under the lock, by the last arrival of each.
    private let generation = Atomic<UInt64>(0)
    /// The word that waiting threads sleep on: changed, under the lock, by every event that
    /// releases them (a generation completes, the barrier breaks, is aborted or reset), which
    /// then wakes them all with one call.
    private let epoch = Atomic<UInt32>(0)
    /// Whether a thread may sleep on `epoch`: set, holding `word`, by a thread about to sleep, and
    /// taken back by the next move of the epoch, which wakes the sleepers only when it was set.
    private let sleepersOnEpoch = Atomic<Bool>(false)
    /// Threads and tasks that joined the parking-lot line on `key` (a wait for a reset to end, or
    /// a task's wait), counted up holding `word` before they queue and down once they are back.
    /// The last arrival of a generation looks at the parking lot only when it is not zero.
    private let parkedOnKey = Atomic<Int>(0)
    private let action: (@Sendable () throws -> Void)?
    private let defaultTimeout: Double?
    private var state = State.filling
    /// Threads waiting in the current generation (or leaving it, after a reset or a break).
    private var count = 0

    /// The number of threads required to pass the barrier.
    public let parties: Int

    /// Creates a barrier for `parties` threads.
    ///
    /// - Parameters:
    ///   - parties: How many threads must call `wait` before all are released.
    ///   - action: Run by the last thread to arrive, before any is released. If it throws, the
    ///     error reaches that thread and the barrier breaks for the others.
    ///   - timeout: The default timeout of `wait`, in seconds.
    /// - Throws: `ThreadingError.Kind.valueError` ("parties must be > 0") when `parties < 1`.
    public init(_ parties: Int, action: (@Sendable () throws -> Void)? = nil, timeout: Double? = nil) throws {
        guard parties >= 1 else { throw ThreadingError.noParties }
        self.parties = parties
        self.action = action
        self.defaultTimeout = timeout
    }

    /// Waits until `parties` threads have called `wait`, then returns this thread's arrival index.
    ///
    /// - Parameters:
    ///   - timeout: The longest wait, in seconds; `nil` uses the barrier's own timeout. Zero or
    ///     negative breaks the barrier unless this thread is the last to arrive.
    /// - Returns: The arrival index, from 0 for the first thread to `parties - 1` for the last.
    /// - Throws: `ThreadingError.Kind.brokenBarrier` when the barrier is or becomes broken or is
    ///   reset while waiting; the error thrown by `action`, in the thread that ran it;
    ///   `.valueError` for NaN and `.overflowError` above `timeoutMax` (the arrival is then
    ///   withdrawn and the barrier is not broken, as in CPython).
    @discardableResult
    @available(*, noasync, message: "use `try await barrier.wait()`, which suspends the task instead")
    public final func wait(timeout: Double? = nil) throws -> Int {
        let timeout = timeout ?? defaultTimeout
        lock()
        // The common case inline: filling, no timeout, and no action to run if last.
        if _fastPath(state == .filling && timeout == nil) {
            let index = count
            if index + 1 < parties {
                count = index + 1
                return try waitForRelease(index: index, mine: generation.load(ordering: .relaxed), until: .never)
            }
            if action == nil {
                release()
                return index
            }
        }
        // A reset completes when the threads of the interrupted generation have left.
        _ = waitWithLock(until: .never) { state != .resetting }
        guard case .waiting(let index, let mine, let limit) = try arrive(timeout: timeout) else {
            return parties - 1
        }
        guard case .until(let deadline) = limit else {
            leave()
            throw ThreadingError.brokenBarrier
        }
        return try waitForRelease(index: index, mine: mine, until: deadline)
    }

    /// Waits, holding the lock on entry, until generation `mine` is released, the barrier breaks or
    /// is reset, or `deadline` passes; returns `index` if released, else takes this waiter out
    /// (`leave`, which breaks a barrier still filling) and throws `brokenBarrier`.
    private func waitForRelease(index: Int, mine: UInt64, until deadline: Deadline) throws -> Int {
        BlockingInTask.check("Barrier.wait")
        // One yield before sleeping: the other parties may run meanwhile (on this CPU, when all
        // share it) and complete the generation, which then costs no futex wait and, with no
        // sleeper announced, no wake-up.
        if generation.load(ordering: .relaxed) == mine && state == .filling && !deadline.hasPassed {
            unlock()
            Platform.yieldProcessor()
            if generation.load(ordering: .acquiring) != mine { return index }
            lock()
        }
        while generation.load(ordering: .relaxed) == mine && state == .filling {
            let seen = epoch.load(ordering: .relaxed)
            sleepersOnEpoch.store(true, ordering: .relaxed)
            unlock()
            let inTime = ParkingLot.wait(on: address(of: epoch), while: seen, until: deadline)
            // Released: leave without the lock, which the last arrival may still hold.
            if generation.load(ordering: .acquiring) != mine { return index }
            lock()
            if !inTime { break }
        }
        // The lock is held again, so the generation and the state are settled.
        if generation.load(ordering: .relaxed) != mine {
            unlock()
            return index
        }
        // Not released. Still filling means this wait ran out (or was told not to wait).
        leave()
        throw ThreadingError.brokenBarrier
    }

    /// Returns the barrier to its initial state; threads waiting in it get `brokenBarrier`.
    public final func reset() {
        lock()
        if count > 0 {
            if state == .filling || state == .broken { state = .resetting }
        } else {
            state = .filling
        }
        unlockAndWakeAll()
    }

    /// Breaks the barrier: current and future `wait` calls throw `brokenBarrier` until `reset()`.
    public final func abort() {
        lock()
        state = .broken
        unlockAndWakeAll()
    }

    /// The number of threads waiting in the barrier while it fills (Python's `n_waiting`).
    public final var nWaiting: Int {
        withLock { state == .filling ? count : 0 }
    }

    /// Whether the barrier is broken (Python's `broken`).
    public final var isBroken: Bool {
        withLock { state == .broken }
    }

    /// `<Barrier: waiters=K/P>`, or `<Barrier: broken>`.
    open var description: String {
        withLock {
            state == .broken ? "<Barrier: broken>" : "<Barrier: waiters=\(state == .filling ? count : 0)/\(parties)>"
        }
    }

    // MARK: - Arriving and leaving, for both forms of `wait`

    /// How an arrival went: the last one has completed the generation (the lock released); any
    /// other waits for generation `mine` to end, for at most `limit` (the lock held).
    private enum Arrival {
        case last
        case waiting(index: Int, mine: UInt64, limit: WaitLimit)
    }

    /// Counts the caller in, holding the lock; the last arrival runs the action and releases the
    /// generation. Throws with the lock released: the barrier is broken, the action threw (which
    /// breaks it), or `timeout` cannot be waited on (NaN, too large: the arrival is withdrawn and
    /// the barrier is not broken, as in CPython).
    private func arrive(timeout: Double?) throws -> Arrival {
        if state == .broken {
            unlock()
            throw ThreadingError.brokenBarrier
        }
        let index = count
        count += 1
        if index + 1 == parties {
            // The last arrival runs the action, then releases everyone and starts the next
            // generation. Wake-ups are issued after the lock is released.
            do {
                try action?()
            } catch {
                state = .broken
                count -= 1
                unlockAndWakeAll()
                throw error
            }
            release()
            return .last
        }
        let mine = generation.load(ordering: .relaxed)
        do {
            return .waiting(index: index, mine: mine, limit: try WaitLimit.forWait(timeout))
        } catch {
            count -= 1
            unlock()
            throw error
        }
    }

    /// Completes the generation, holding the lock, and releases the lock: the next generation
    /// starts empty, and the threads of this one that sleep are woken.
    @inline(__always)
    private func release() {
        count = 0
        generation.wrappingAdd(1, ordering: .releasing)
        unlockAndWakeAll()
    }

    /// Takes out a waiter that was not released, holding the lock, and releases it: a barrier
    /// still filling breaks (the wait ran out, was told not to wait, or was cancelled); otherwise
    /// it was broken or reset meanwhile, and the last one out of a reset makes it fill again.
    /// Returns whether this waiter broke it.
    @discardableResult
    private func leave() -> Bool {
        let breaking = state == .filling
        if breaking { state = .broken }
        count -= 1
        if count == 0 && state == .resetting { state = .filling }
        unlockAndWakeAll()
        return breaking
    }

    // MARK: - The lock and the waiting

    private var key: UnsafeRawPointer {
        UnsafeRawPointer(Unmanaged.passUnretained(self).toOpaque())
    }

    private func lock() {
        RawLock.lock(address(of: word))
    }

    private func unlock() {
        RawLock.unlock(address(of: word))
    }

    /// Moves the epoch on, releases the lock, then wakes every thread waiting in the barrier:
    /// those of the generation, asleep on the epoch word, with one call, and those waiting for a
    /// reset to complete, parked on the barrier. Hold the lock when calling it.
    private func unlockAndWakeAll() {
        epoch.wrappingAdd(1, ordering: .relaxed)
        // Read holding the lock: a waiter announces itself before it lets the lock go to sleep.
        let sleepers = sleepersOnEpoch.exchange(false, ordering: .relaxed)
        let parked = parkedOnKey.load(ordering: .relaxed) > 0
        unlock()
        if sleepers { ParkingLot.wakeAll(on: address(of: epoch)) }
        if parked { ParkingLot.unparkAll(key: key) }
    }

    private func withLock<R>(_ body: () -> R) -> R {
        lock()
        defer { unlock() }
        return body()
    }

    /// Waits, holding the lock on entry and on return, until `done()` or until `deadline`;
    /// returns `done()`. The lock is released while asleep: the thread is queued on the barrier
    /// before it lets the lock go, so a change made under the lock always finds it.
    private func waitWithLock(until deadline: Deadline, _ done: () -> Bool) -> Bool {
        while !done() {
            if deadline.hasPassed { return false }
            parkedOnKey.wrappingAdd(1, ordering: .relaxed)
            let result = ParkingLot.park(key: key, deadline: deadline, validate: { true }, beforeSleep: { unlock() })
            parkedOnKey.wrappingSubtract(1, ordering: .relaxed)
            lock()
            if case .timedOut = result { return done() }
        }
        return true
    }
}

// MARK: - The async twin

extension Barrier {
    /// Waits until `parties` threads and tasks have called `wait`, suspending the calling task
    /// (not blocking its thread), then returns its arrival index: the `async` twin of
    /// `wait(timeout:)`. Threads and tasks may be parties of the same barrier.
    ///
    /// Cancel safety: a task cancelled while it waits breaks the barrier, as a timeout does: it
    /// throws `CancellationError` and the other parties of its generation get `brokenBarrier`. A
    /// task whose generation was already released when it is cancelled returns its index. A
    /// cancelled task that arrives last completes the generation; one that would have to wait
    /// breaks the barrier at once.
    ///
    /// - Parameters:
    ///   - timeout: The longest wait, in seconds; `nil` uses the barrier's own timeout. Zero or
    ///     negative breaks the barrier unless this task is the last to arrive.
    /// - Returns: The arrival index, from 0 for the first party to `parties - 1` for the last.
    /// - Throws: `CancellationError` when the task is cancelled while it waits;
    ///   `ThreadingError.Kind.brokenBarrier` when the barrier is or becomes broken or is reset
    ///   while waiting; the error thrown by `action`, in the party that ran it; `.valueError` for
    ///   NaN and `.overflowError` above `timeoutMax` (the arrival is then withdrawn).
    @discardableResult
    public nonisolated(nonsending) func wait(timeout: Double? = nil) async throws -> Int {
        let timeout = timeout ?? defaultTimeout
        lock()
        // A reset completes when the parties of the interrupted generation have left.
        while state == .resetting {
            parkedOnKey.wrappingAdd(1, ordering: .relaxed)
            let result = await ParkingLot.parkTask(
                key: key,
                deadline: .never,
                validate: { true },
                beforeSuspend: { unlock() }
            )
            parkedOnKey.wrappingSubtract(1, ordering: .relaxed)
            lock()
            if case .cancelled = result, state == .resetting {
                unlock()
                throw CancellationError()
            }
        }
        guard case .waiting(let index, let mine, let limit) = try arrive(timeout: timeout) else {
            return parties - 1
        }
        var cancelled = false
        if case .until(let deadline) = limit {
            while generation.load(ordering: .relaxed) == mine && state == .filling && !deadline.hasPassed {
                parkedOnKey.wrappingAdd(1, ordering: .relaxed)
                let result = await ParkingLot.parkTask(
                    key: key,
                    deadline: deadline,
                    validate: { true },
                    beforeSuspend: { unlock() }
                )
                parkedOnKey.wrappingSubtract(1, ordering: .relaxed)
                // Released: leave without the lock, which the last arrival may still hold.
                if generation.load(ordering: .acquiring) != mine { return index }
                lock()
                if case .timedOut = result { break }
                if case .cancelled = result {
                    cancelled = true
                    break
                }
            }
        }
        if generation.load(ordering: .relaxed) != mine {
            unlock()
            return index
        }
        // Not released: a timeout or a cancellation of this task breaks the barrier.
        let breaking = leave()
        if cancelled && breaking { throw CancellationError() }
        throw ThreadingError.brokenBarrier
    }

    /// Waits until `parties` threads and tasks have called `wait`, suspending the calling task
    /// for at most `timeout`; see `wait(timeout:)`.
    ///
    /// Cancel safety: as `wait(timeout:)`.
    ///
    /// - Parameters:
    ///   - timeout: The longest wait; zero or negative breaks the barrier unless this task is the
    ///     last to arrive.
    /// - Returns: The arrival index.
    /// - Throws: As `wait(timeout:)` for the same value in seconds.
    @discardableResult
    public nonisolated(nonsending) func wait(timeout: Duration) async throws -> Int {
        try await wait(timeout: timeout.timeoutSeconds)
    }
}
