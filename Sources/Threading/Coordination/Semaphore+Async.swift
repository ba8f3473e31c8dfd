import Synchronization

extension Semaphore {
    /// Takes one unit, suspending the calling task (not blocking its thread) while there are none:
    /// the `async` twin of `acquire(blocking:timeout:)`.
    ///
    /// Threads and tasks waiting on one semaphore are served in one first-come-first-served line:
    /// `release` hands units to the oldest waiters, whichever kind they are.
    ///
    /// Cancel safety: a task cancelled while it waits leaves the line and throws
    /// `CancellationError` without taking a unit; a unit already handed to it when it is
    /// cancelled is kept and the call returns `true` (release it if you no longer need it). A call
    /// that finds a unit at once takes it even if the task is already cancelled; one that would
    /// have to wait in a cancelled task throws at once, without taking a place in line.
    ///
    /// - Parameters:
    ///   - blocking: When `false`, returns at once instead of waiting; no timeout may be given then.
    ///   - timeout: The longest wait, in seconds; `nil` waits without limit, zero or negative
    ///     only tries.
    /// - Returns: Whether a unit was taken.
    /// - Throws: `CancellationError` when the task is cancelled while it waits;
    ///   `ThreadingError.Kind.valueError` for a timeout on a non-blocking call or NaN;
    ///   `.overflowError` above `timeoutMax`, when the call would wait.
    /// - Complexity: One atomic compare-and-swap when a unit is available.
    @inlinable
    @discardableResult
    public nonisolated(nonsending) final func acquire(
        blocking: Bool = true,
        timeout: Double? = nil
    ) async throws -> Bool {
        if _slowPath(!blocking && timeout != nil) { throw ThreadingError.semaphoreNonBlockingTimeout }
        if _fastPath(tryTake()) { return true }
        return try await acquireSuspending(blocking: blocking, timeout: timeout)
    }

    /// Takes one unit, suspending the calling task while there are none; returns `true`.
    ///
    /// Cancel safety: as `acquire(blocking:timeout:)`.
    ///
    /// - Throws: `CancellationError` when the task is cancelled while it waits.
    @inlinable
    @discardableResult
    public nonisolated(nonsending) final func acquire() async throws -> Bool {
        if _fastPath(tryTake()) { return true }
        return try await acquireSuspending(blocking: true, timeout: nil)
    }

    /// Takes one unit, suspending the calling task for at most `timeout`; see
    /// `acquire(blocking:timeout:)`.
    ///
    /// Cancel safety: as `acquire(blocking:timeout:)`.
    ///
    /// - Parameters:
    ///   - blocking: Must be `true` when a timeout is given.
    ///   - timeout: The longest wait; zero or negative only tries.
    /// - Returns: Whether a unit was taken.
    /// - Throws: As `acquire(blocking:timeout:)` for the same value in seconds.
    @inlinable
    @discardableResult
    public nonisolated(nonsending) final func acquire(blocking: Bool = true, timeout: Duration) async throws -> Bool {
        try await acquire(blocking: blocking, timeout: timeout.timeoutSeconds)
    }

    @usableFromInline
    nonisolated(nonsending) final func acquireSuspending(blocking: Bool, timeout: Double?) async throws -> Bool {
        if !blocking { return false }
        guard case .until(let deadline) = try WaitLimit.forWait(timeout) else { return tryTake() }
        var tookWithoutParking = false
        let result = await ParkingLot.parkTask(
            key: UnsafeRawPointer(Unmanaged.passUnretained(self).toOpaque()),
            deadline: deadline,
            validate: { announceWaiter(tookWithoutParking: &tookWithoutParking) },
            undo: { _ in waiters.wrappingSubtract(1, ordering: .relaxed) }
        )
        switch result {
        case .invalid: return tookWithoutParking
        case .timedOut: return false
        case .cancelled: throw CancellationError()
        case .unparked: return true  // the releaser handed this task its unit
        }
    }
}
