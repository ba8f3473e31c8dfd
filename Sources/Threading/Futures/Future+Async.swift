import Synchronization

extension Future {
    /// The value the work returned, suspending the calling task (not blocking its thread) until
    /// the future is done: `try await future.value`.
    ///
    /// Cancel safety: a task cancelled while it waits throws `CancellationError` and leaves the
    /// future as it is (the work is not cancelled; use `cancel()` for that).
    ///
    /// - Throws: The error the work threw; `ThreadingError.Kind.cancelled` when the future was
    ///   cancelled; `CancellationError` when the waiting task is cancelled.
    public var value: Value {
        get async throws { try await result() }
    }

    /// The value the work returned, waiting for it if need be, suspending the calling task: the
    /// `async` twin of `result(timeout:)`.
    ///
    /// Threads and tasks waiting on one future are woken together when it completes.
    ///
    /// Cancel safety: a task cancelled while it waits throws `CancellationError` and leaves the
    /// future as it is. A finished future returns its value at once, even in a cancelled task.
    ///
    /// - Parameters:
    ///   - timeout: The longest wait, in seconds; `nil` waits without limit, zero or negative
    ///     does not wait.
    /// - Returns: The value passed to `setResult`.
    /// - Throws: The error the work threw; `ThreadingError.Kind.cancelled` when the future was
    ///   cancelled; `.timeout` when `timeout` passed first; `CancellationError` when the task is
    ///   cancelled while it waits; `.valueError` for NaN and `.overflowError` above
    ///   `timeoutMax`, when the call would wait.
    public func result(timeout: Double? = nil) async throws -> Value {
        if _fastPath(state.load(ordering: .acquiring) & (Future.stateMask | Future.failedBit) == Future.finished) {
            return finishedValue
        }
        try await waitUntilDone(timeout: timeout)
        return try outcome.unsafelyUnwrapped.get()
    }

    /// The error the work threw, or `nil`, suspending the calling task until the future is done:
    /// the `async` twin of `exception(timeout:)`.
    ///
    /// Cancel safety: as `result(timeout:)`.
    ///
    /// - Parameters:
    ///   - timeout: The longest wait, in seconds; `nil` waits without limit, zero or negative
    ///     does not wait.
    /// - Returns: The error passed to `setException`, or `nil` after `setResult`.
    /// - Throws: `ThreadingError.Kind.cancelled` when the future was cancelled; `.timeout` when
    ///   `timeout` passed first; `CancellationError` when the task is cancelled while it waits;
    ///   `.valueError` for NaN and `.overflowError` above `timeoutMax`, when the call would wait.
    public func exception(timeout: Double? = nil) async throws -> (any Error)? {
        try await waitUntilDone(timeout: timeout)
        return storedFailure
    }

    /// The `async` form of `waitUntilDone(timeout:)`; throws `CancellationError` if the task is
    /// cancelled while it waits.
    func waitUntilDone(timeout: Double?) async throws {
        if state.load(ordering: .acquiring) & Future.stateMask < Future.cancelledState {
            try await waitUntilDone(limit: WaitLimit.forWait(timeout))
        } else {
            try checkDone()
        }
    }

    /// The `async` form of `waitUntilDone(limit:)`.
    func waitUntilDone(limit: WaitLimit) async throws {
        if state.load(ordering: .acquiring) & Future.stateMask < Future.cancelledState,
            case .until(let deadline) = limit
        {
            let result = await ParkingLot.parkTask(
                key: UnsafeRawPointer(Unmanaged.passUnretained(self).toOpaque()),
                deadline: deadline,
                validate: { markParked() },
                undo: { othersWaiting in if !othersWaiting { clearParked() } }
            )
            if case .cancelled = result { throw CancellationError() }
        }
        try checkDone()
    }

    /// Waits for the future without regard to the task's cancellation, which cancels the future
    /// instead: what `ThreadPoolExecutor.run` awaits. Inlined, so that the continuation is
    /// specialized in the caller; on the caller's executor (`nonisolated(nonsending)` and the
    /// executor-inheriting `withTaskCancellationHandler`), so that neither the way in nor the way
    /// out switches executors; the future keeps the continuation in a slot of its own
    /// (`resumeWhenDone`), so that the wait allocates nothing.
    @inlinable
    nonisolated(nonsending) func valueCancellingFuture() async throws -> Value {
        await _unsafeInheritExecutor_withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
                resumeWhenDone(continuation)
            }
        } onCancel: {
            cancel()
        }
        if isCancelled { throw CancellationError() }
        if let failure = storedFailure { throw failure }
        return finishedValue
    }
}
