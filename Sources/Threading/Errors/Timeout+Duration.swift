// Every timeout also takes a `Duration` (`timeout: .milliseconds(50)`): its value in seconds,
// under exactly the rules of the `Double` form (so `.seconds(-1)` on a lock waits without limit,
// as `-1` does). The blocking overloads live here; the `async` ones beside each twin.

extension Duration {
    /// This duration in seconds, as the `Double` timeouts take it.
    @inlinable
    var timeoutSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }
}

extension Lock {
    /// Acquires the lock, waiting at most `timeout`; see `acquire(blocking:timeout:)`.
    ///
    /// - Parameters:
    ///   - blocking: Must be `true` when a timeout is given.
    ///   - timeout: The longest wait; `-1` seconds waits without limit, zero only tries.
    /// - Returns: Whether the lock was acquired.
    /// - Throws: As `acquire(blocking:timeout:)` for the same value in seconds.
    @available(*, noasync, message: "use `try await lock.acquire(timeout:)`, which suspends the task instead")
    @discardableResult
    public func acquire(blocking: Bool = true, timeout: Duration) throws -> Bool {
        try acquire(blocking: blocking, timeout: timeout.timeoutSeconds)
    }
}

extension RLock {
    /// Acquires the lock, waiting at most `timeout`; see `acquire(blocking:timeout:)`.
    ///
    /// - Parameters:
    ///   - blocking: Must be `true` when a timeout is given.
    ///   - timeout: The longest wait; `-1` seconds waits without limit, zero only tries.
    /// - Returns: Whether the lock was acquired.
    /// - Throws: As `acquire(blocking:timeout:)` for the same value in seconds.
    @discardableResult
    public func acquire(blocking: Bool = true, timeout: Duration) throws -> Bool {
        try acquire(blocking: blocking, timeout: timeout.timeoutSeconds)
    }
}

extension Condition {
    /// Acquires the underlying lock, waiting at most `timeout`; see `acquire(blocking:timeout:)`.
    ///
    /// - Parameters:
    ///   - blocking: Must be `true` when a timeout is given.
    ///   - timeout: The longest wait; `-1` seconds waits without limit, zero only tries.
    /// - Returns: Whether the lock was acquired.
    /// - Throws: As `acquire(blocking:timeout:)` for the same value in seconds.
    @discardableResult
    public func acquire(blocking: Bool = true, timeout: Duration) throws -> Bool {
        try acquire(blocking: blocking, timeout: timeout.timeoutSeconds)
    }

    /// Releases the lock, waits until notified or until `timeout` passes, and re-acquires the
    /// lock; see `wait(timeout:)`.
    ///
    /// - Parameters:
    ///   - timeout: The longest wait; zero or negative does not wait.
    /// - Returns: `true` if notified, `false` if the timeout passed first.
    /// - Throws: As `wait(timeout:)` for the same value in seconds.
    @discardableResult
    public func wait(timeout: Duration) throws -> Bool {
        try wait(timeout: timeout.timeoutSeconds)
    }

    /// Waits until `predicate` is true, or until `timeout` passes; see `waitFor(timeout:_:)`.
    ///
    /// - Parameters:
    ///   - timeout: The longest total wait.
    ///   - predicate: The state to wait for; evaluated with the lock held.
    /// - Returns: The predicate's last value: `false` only if the timeout passed.
    /// - Throws: As `waitFor(timeout:_:)` for the same value in seconds.
    @discardableResult
    public func waitFor(timeout: Duration, _ predicate: () -> Bool) throws -> Bool {
        try waitFor(timeout: timeout.timeoutSeconds, predicate)
    }
}

extension Semaphore {
    /// Takes one unit, waiting at most `timeout`; see `acquire(blocking:timeout:)`.
    ///
    /// - Parameters:
    ///   - blocking: Must be `true` when a timeout is given.
    ///   - timeout: The longest wait; zero or negative only tries.
    /// - Returns: Whether a unit was taken.
    /// - Throws: As `acquire(blocking:timeout:)` for the same value in seconds.
    @available(*, noasync, message: "use `try await sem.acquire(timeout:)`, which suspends the task instead")
    @discardableResult
    public final func acquire(blocking: Bool = true, timeout: Duration) throws -> Bool {
        try acquire(blocking: blocking, timeout: timeout.timeoutSeconds)
    }
}

extension Event {
    /// Waits until the flag is set, or until `timeout` passes; see `wait(timeout:)`.
    ///
    /// - Parameters:
    ///   - timeout: The longest wait; zero or negative does not wait.
    /// - Returns: `true` if the flag was set, `false` on timeout.
    /// - Throws: As `wait(timeout:)` for the same value in seconds.
    @available(*, noasync, message: "use `try await event.wait(timeout:)`, which suspends the task instead")
    @discardableResult
    public func wait(timeout: Duration) throws -> Bool {
        try wait(timeout: timeout.timeoutSeconds)
    }
}

extension Barrier {
    /// Creates a barrier for `parties` threads whose `wait` gives up after `timeout` by default;
    /// see `init(_:action:timeout:)`.
    ///
    /// - Parameters:
    ///   - parties: How many threads must call `wait` before all are released.
    ///   - action: Run by the last thread to arrive, before any is released.
    ///   - timeout: The default timeout of `wait`.
    /// - Throws: `ThreadingError.Kind.valueError` ("parties must be > 0") when `parties < 1`.
    public convenience init(_ parties: Int, action: (@Sendable () throws -> Void)? = nil, timeout: Duration) throws {
        try self.init(parties, action: action, timeout: timeout.timeoutSeconds)
    }

    /// Waits until `parties` threads have called `wait`, giving up after `timeout`; see
    /// `wait(timeout:)`.
    ///
    /// - Parameters:
    ///   - timeout: The longest wait; zero or negative breaks the barrier unless this thread is
    ///     the last to arrive.
    /// - Returns: The arrival index.
    /// - Throws: As `wait(timeout:)` for the same value in seconds.
    @available(*, noasync, message: "use `try await barrier.wait(timeout:)`, which suspends the task instead")
    @discardableResult
    public func wait(timeout: Duration) throws -> Int {
        try wait(timeout: timeout.timeoutSeconds)
    }
}

extension Thread {
    /// Waits until the thread finishes, or until `timeout` passes; see `join(timeout:)`.
    ///
    /// - Parameters:
    ///   - timeout: The longest wait; negative is zero.
    /// - Throws: As `join(timeout:)` for the same value in seconds.
    @available(*, noasync, message: "use `try await thread.join(timeout:)`, which suspends the task instead")
    public func join(timeout: Duration) throws {
        try join(timeout: timeout.timeoutSeconds)
    }
}

extension LockedValue {
    /// Waits at most `timeout` until `condition` holds, then runs `body`; see
    /// `withLock(when:timeout:_:)`.
    ///
    /// - Parameters:
    ///   - condition: The state to wait for.
    ///   - timeout: The longest wait; zero or negative does not wait.
    ///   - body: The critical section, run once the condition holds.
    /// - Returns: What `body` returns, or `nil` if the timeout passed first.
    /// - Throws: As `withLock(when:timeout:_:)` for the same value in seconds.
    @available(*, noasync, message: "use `try await value.withLock(when:timeout:_:)`, which suspends the task instead")
    public func withLock<Result>(
        when condition: (borrowing Value) -> Bool,
        timeout: Duration,
        _ body: (inout sending Value) throws -> sending Result
    ) throws -> sending Result? {
        try withLock(when: condition, timeout: timeout.timeoutSeconds, body)
    }
}
