import Synchronization

extension Lock {
    /// Acquires the lock, suspending the calling task (not blocking its thread) while another
    /// holder has it: the `async` twin of `acquire(blocking:timeout:)`.
    ///
    /// A `Lock` has no owner, so a task may hold it across suspensions and release it from
    /// whatever thread it resumes on. Waiting tasks are served in arrival order; threads blocked
    /// on the same lock sleep on its futex word and take turns with them.
    ///
    /// Known limitation: unlike the other primitives, a `Lock` keeps two lines, not one. Tasks
    /// wait in the parking lot, first come first served; threads sleep on the lock's futex word,
    /// as the kernel queues them. A release that finds both wakes one sleeping thread and then
    /// offers the lock to the oldest task, which takes it if it is still free: so a task usually
    /// goes ahead of threads that were waiting longer, and the woken thread sleeps again. A thread
    /// that has waited more than 1 ms asks for the lock and is handed it at a following release
    /// (CPython's eventual fairness), which no task can take over, so threads are not starved.
    ///
    /// Cancel safety: a task cancelled while it waits leaves the line and throws
    /// `CancellationError` without the lock; if the lock was already handed to it, the call
    /// returns `true` and the task holds it (release it). A call that finds the lock free takes it
    /// even in a cancelled task; one that would have to wait in a cancelled task throws at once.
    ///
    /// - Parameters:
    ///   - blocking: When `false`, returns at once instead of waiting. A timeout cannot be given then.
    ///   - timeout: The longest wait, in seconds. `nil` or `-1` wait without limit; `0` only tries.
    /// - Returns: Whether the lock was acquired (`false` only when not blocking or timed out).
    /// - Throws: `CancellationError` when the task is cancelled while it waits;
    ///   `ThreadingError.Kind.valueError` for a timeout on a non-blocking call, a negative
    ///   timeout other than `-1`, or NaN; `.overflowError` for a timeout above `timeoutMax`.
    /// - Complexity: One atomic compare-and-swap when the lock is free.
    @inlinable
    @discardableResult
    public nonisolated(nonsending) func acquire(blocking: Bool = true, timeout: Double? = nil) async throws -> Bool {
        if _fastPath(timeout == nil && RawLock.tryLock(word)) { return true }
        return try await acquireSuspending(blocking: blocking, timeout: timeout)
    }

    /// Acquires the lock, suspending the calling task while it is held; returns `true`.
    ///
    /// Cancel safety: as `acquire(blocking:timeout:)`.
    ///
    /// - Throws: `CancellationError` when the task is cancelled while it waits.
    @inlinable
    @discardableResult
    public nonisolated(nonsending) func acquire() async throws -> Bool {
        if _fastPath(RawLock.tryLock(word)) { return true }
        return try await acquireSuspending(blocking: true, timeout: nil)
    }

    /// Acquires the lock, suspending the calling task for at most `timeout`; see
    /// `acquire(blocking:timeout:)`.
    ///
    /// Cancel safety: as `acquire(blocking:timeout:)`.
    ///
    /// - Parameters:
    ///   - blocking: Must be `true` when a timeout is given.
    ///   - timeout: The longest wait; `-1` seconds waits without limit, zero only tries.
    /// - Returns: Whether the lock was acquired.
    /// - Throws: As `acquire(blocking:timeout:)` for the same value in seconds.
    @inlinable
    @discardableResult
    public nonisolated(nonsending) func acquire(blocking: Bool = true, timeout: Duration) async throws -> Bool {
        try await acquire(blocking: blocking, timeout: timeout.timeoutSeconds)
    }

    /// Runs `body` holding the lock and releases it afterwards, even when `body` throws; `body`
    /// may suspend while it holds the lock.
    ///
    /// Chosen over the blocking `withLock` when `body` awaits. Keep such sections short: every
    /// other thread and task that needs the lock waits for them.
    ///
    /// Cancel safety: cancellation while waiting for the lock throws `CancellationError` and
    /// `body` does not run; once `body` runs, cancellation is `body`'s business, and the lock is
    /// released however it ends.
    ///
    /// - Parameters:
    ///   - isolation: The caller's actor, inferred: `body` runs on it.
    ///   - body: The critical section.
    /// - Returns: What `body` returns.
    /// - Throws: `CancellationError` when cancelled while waiting for the lock, or what `body`
    ///   throws.
    @inlinable
    @_disfavoredOverload  // a body that does not await keeps the blocking `Lockable.withLock`
    public func withLock<R>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: () async throws -> R
    ) async throws -> R {
        try await acquire()
        defer { try? release() }
        return try await body()
    }

    @usableFromInline
    nonisolated(nonsending) func acquireSuspending(blocking: Bool, timeout: Double?) async throws -> Bool {
        guard case .until(let deadline) = try WaitLimit.forLock(blocking: blocking, timeout: timeout) else {
            return RawLock.tryLock(word)
        }
        if RawLock.tryLock(word) { return true }
        var tookWithoutParking = false
        let result = await ParkingLot.parkTask(
            key: UnsafeRawPointer(Unmanaged.passUnretained(self).toOpaque()),
            deadline: deadline,
            validate: {
                // Announce the task, then look at the word: a release either sees the
                // announcement (and hands the lock over) or left the lock free for this look.
                let others = taskWaiters.wrappingAdd(1, ordering: .sequentiallyConsistent).oldValue > 0
                if takeOrMarkContended(forTaskWithOthers: others) {
                    taskWaiters.wrappingSubtract(1, ordering: .relaxed)
                    tookWithoutParking = true
                    return false
                }
                return true
            },
            undo: { _ in taskWaiters.wrappingSubtract(1, ordering: .relaxed) }
        )
        switch result {
        case .invalid: return tookWithoutParking
        case .timedOut: return false
        case .cancelled: throw CancellationError()
        case .unparked: return true  // the releaser handed the lock to this task
        }
    }

    /// Under the bucket lock: takes the lock if free (contended when other tasks wait, so that
    /// its release serves them), or marks a plain-locked word contended so that the holder's
    /// release takes the slow path. Returns whether it took the lock.
    final func takeOrMarkContended(forTaskWithOthers others: Bool) -> Bool {
        while true {
            switch word.load(ordering: .sequentiallyConsistent) {
            case RawLock.unlocked:
                let desired = others ? RawLock.contended : RawLock.locked
                if word.compareExchange(expected: RawLock.unlocked, desired: desired, ordering: .sequentiallyConsistent)
                    .exchanged
                {
                    return true
                }
            case RawLock.locked:
                if word.compareExchange(
                    expected: RawLock.locked,
                    desired: RawLock.contended,
                    ordering: .sequentiallyConsistent
                ).exchanged {
                    return false
                }
            default:
                // Contended, or being handed to a sleeping thread: its release takes the slow path.
                return false
            }
        }
    }

    /// After a release that found tasks announced: hands the lock to the oldest waiting task if
    /// it is free, or makes sure its current holder's release comes back here.
    final func handOffToTask() {
        ParkingLot.unpark(key: UnsafeRawPointer(Unmanaged.passUnretained(self).toOpaque())) { more in
            guard takeOrMarkContended(forTaskWithOthers: more) else { return nil }
            taskWaiters.wrappingSubtract(1, ordering: .relaxed)
            return 1
        }
    }
}
