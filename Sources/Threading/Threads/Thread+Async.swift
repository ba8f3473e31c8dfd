extension Thread {
    /// Waits until the thread finishes, or until `timeout` passes, suspending the calling task
    /// (not blocking its thread): the `async` twin of `join(timeout:)`.
    ///
    /// Any number of threads and tasks may join one thread at once. Check `isAlive` afterwards to
    /// tell a timeout from an end.
    ///
    /// Cancel safety: joining consumes nothing; a task cancelled while it waits stops waiting and
    /// throws `CancellationError`, and the thread runs on. A join of a finished thread returns at
    /// once even in a cancelled task.
    ///
    /// - Parameters:
    ///   - timeout: The longest wait, in seconds; `nil` waits without limit, negative is zero.
    /// - Throws: `CancellationError` when the task is cancelled while it waits;
    ///   `ThreadingError.Kind.runtimeError` when the thread was not started ("cannot join thread
    ///   before it is started") or is a dummy thread ("cannot join a dummy thread");
    ///   `.valueError` for NaN; `.overflowError` above `timeoutMax`, when the call would wait.
    public nonisolated(nonsending) func join(timeout: Double? = nil) async throws {
        if kind == .dummy { throw ThreadingError(.runtimeError, "cannot join a dummy thread") }
        guard hasStarted else {
            throw ThreadingError(.runtimeError, "cannot join thread before it is started")
        }
        if stoppedEvent.isSet { return }
        if let timeout, timeout < 0 {
            _ = try await stoppedEvent.wait(timeout: 0)
        } else {
            _ = try await stoppedEvent.wait(timeout: timeout)
        }
    }

    /// Waits until the thread finishes, suspending the calling task for at most `timeout`; see
    /// `join(timeout:)`.
    ///
    /// Cancel safety: as `join(timeout:)`.
    ///
    /// - Parameters:
    ///   - timeout: The longest wait; negative is zero.
    /// - Throws: As `join(timeout:)` for the same value in seconds.
    public nonisolated(nonsending) func join(timeout: Duration) async throws {
        try await join(timeout: timeout.timeoutSeconds)
    }
}
