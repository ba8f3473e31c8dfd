extension LockedValue {
    /// Waits until `condition` holds for the value, suspending the calling task (not blocking
    /// its thread), then runs `body` with the lock held and the condition still true: the `async`
    /// twin of `withLock(when:timeout:_:)`.
    ///
    /// Threads and tasks waiting on one value are evaluated in one line, oldest first, by
    /// whichever thread or task leaves the lock. `body` is synchronous: the lock is never held
    /// across a suspension.
    ///
    /// Cancel safety: a task cancelled while it waits leaves the line and throws
    /// `CancellationError`; `body` does not run and the value is untouched. A leaving thread that
    /// had already picked this task passes its turn to the next satisfied waiter, so no wake-up
    /// is lost. A task woken before it was cancelled runs `body` and returns normally. When the
    /// condition holds at once, `body` runs even in a cancelled task.
    ///
    /// - Parameters:
    ///   - condition: The state to wait for; evaluated with the lock held, possibly on another
    ///     thread.
    ///   - timeout: The longest wait, in seconds: `nil` waits without limit; zero or negative
    ///     does not wait (the condition is evaluated once).
    ///   - body: The critical section, run once the condition holds.
    /// - Returns: What `body` returns, or `nil` if the timeout passed first.
    /// - Throws: `CancellationError` when the task is cancelled while it waits;
    ///   `ThreadingError.Kind.valueError` for a NaN timeout and `.overflowError` for one above
    ///   `timeoutMax`, before anything else; otherwise what `body` throws.
    /// - Complexity: Each end of a `withLock` body while this task waits costs one evaluation of
    ///   `condition`.
    public func withLock<Result>(
        when condition: (borrowing Value) -> Bool,
        timeout: Double? = nil,
        _ body: (inout sending Value) throws -> sending Result
    ) async throws -> sending Result? {
        let limit = try WaitLimit.forWait(timeout)
        lock()
        if !condition(value) {
            guard case .until(let deadline) = limit else {
                unlock()
                return nil
            }
            switch await waitSuspending(for: condition, until: deadline) {
            case .satisfied: break
            case .timedOut:
                unlock()
                return nil
            case .cancelled:
                unlock()
                throw CancellationError()
            }
        }
        defer { unlock() }
        return try body(&value)
    }

    /// Waits until `condition` holds, suspending the calling task for at most `timeout`; see
    /// `withLock(when:timeout:_:)`.
    ///
    /// Cancel safety: as `withLock(when:timeout:_:)`.
    ///
    /// - Parameters:
    ///   - condition: The state to wait for.
    ///   - timeout: The longest wait; zero or negative does not wait.
    ///   - body: The critical section, run once the condition holds.
    /// - Returns: What `body` returns, or `nil` if the timeout passed first.
    /// - Throws: As `withLock(when:timeout:_:)` for the same value in seconds.
    public func withLock<Result>(
        when condition: (borrowing Value) -> Bool,
        timeout: Duration,
        _ body: (inout sending Value) throws -> sending Result
    ) async throws -> sending Result? {
        try await withLock(when: condition, timeout: timeout.timeoutSeconds, body)
    }

    /// How a task's wait for a condition ended; the lock is held again in every case.
    enum TaskWaitOutcome {
        case satisfied, timedOut, cancelled
    }

    /// The task form of `wait(for:until:)`: the lock held on entry and on return. The waiter node
    /// lives on the heap, the task suspends in the parking lot on the node's address, and the
    /// lock is released only once the task is in line there, so a leaving thread that picks it
    /// always finds it.
    func waitSuspending(for condition: (borrowing Value) -> Bool, until deadline: Deadline) async -> TaskWaitOutcome {
        await withoutActuallyEscaping(condition) { condition in
            let node = UnsafeMutablePointer<Waiter>.allocate(capacity: 1)
            node.initialize(to: Waiter(condition: condition))
            defer {
                node.deinitialize(count: 1)
                node.deallocate()
            }
            waiters.append(node)
            while true {
                let result = await ParkingLot.parkTask(
                    key: UnsafeRawPointer(node),
                    deadline: deadline,
                    validate: { true },
                    // This task changed nothing: a plain release, as for a thread.
                    beforeSuspend: { if !RawLock.unlock(word) { RawLock.unlockContended(address(of: word)) } }
                )
                lock()
                switch result {
                case .unparked:
                    if condition(value) { return .satisfied }
                    // Another party took the lock first and changed the value back: wait again,
                    // first in line.
                    waiters.prepend(node)
                case .cancelled:
                    // Still in the list: leave it. Off it: a leaving thread picked this task and
                    // found it gone from the parking lot, so it went on to the next waiter.
                    if node.pointee.isQueued { waiters.remove(node) }
                    return .cancelled
                case .timedOut, .invalid:
                    if node.pointee.isQueued { waiters.remove(node) }
                    return condition(value) ? .satisfied : .timedOut
                }
            }
        }
    }
}
