import Synchronization

extension Event {
    /// Waits until the flag is set, or until `timeout` passes, suspending the calling task (not
    /// blocking its thread): the `async` twin of `wait(timeout:)`.
    ///
    /// `set()` wakes waiting threads and tasks alike.
    ///
    /// Cancel safety: a task cancelled while it waits stops waiting and throws
    /// `CancellationError`; nothing is consumed, so nothing is lost. A task that a `set()` has
    /// already woken when it is cancelled returns `true`. A call on a set event returns `true` at
    /// once even in a cancelled task; one that would have to wait in a cancelled task throws at
    /// once.
    ///
    /// - Parameters:
    ///   - timeout: The longest wait, in seconds; `nil` waits without limit, zero or negative
    ///     does not wait.
    /// - Returns: `true` if the flag was set or a `set()` woke this task; `false` on timeout.
    /// - Throws: `CancellationError` when the task is cancelled while it waits;
    ///   `ThreadingError.Kind.valueError` for NaN and `.overflowError` above `timeoutMax`, when
    ///   the flag is unset.
    @inlinable
    @discardableResult
    public nonisolated(nonsending) func wait(timeout: Double? = nil) async throws -> Bool {
        if _fastPath(isSet) { return true }
        return try await waitSuspending(timeout: timeout)
    }

    /// Waits until the flag is set, suspending the calling task for at most `timeout`; see
    /// `wait(timeout:)`.
    ///
    /// Cancel safety: as `wait(timeout:)`.
    ///
    /// - Parameters:
    ///   - timeout: The longest wait; zero or negative does not wait.
    /// - Returns: `true` if the flag was set, `false` on timeout.
    /// - Throws: As `wait(timeout:)` for the same value in seconds.
    @inlinable
    @discardableResult
    public nonisolated(nonsending) func wait(timeout: Duration) async throws -> Bool {
        try await wait(timeout: timeout.timeoutSeconds)
    }

    @usableFromInline
    nonisolated(nonsending) func waitSuspending(timeout: Double?) async throws -> Bool {
        guard case .until(let deadline) = try WaitLimit.forWait(timeout) else { return isSet }
        let result = await ParkingLot.parkTask(
            key: UnsafeRawPointer(Unmanaged.passUnretained(self).toOpaque()),
            deadline: deadline,
            validate: announceWaiter,
            undo: withdrawWaiter
        )
        switch result {
        case .invalid: return true  // set before this task could queue
        case .timedOut: return false
        case .cancelled: throw CancellationError()
        case .unparked: return true
        }
    }
}
