/// A lock that Python's `with` statement accepts: `Lock`, `RLock`, `Condition`, `Semaphore` and
/// `BoundedSemaphore` all are.
public protocol Lockable: AnyObject, Sendable {
    /// Acquires the lock, waiting at most `timeout` seconds when `blocking`; returns whether it did.
    ///
    /// A blocking acquisition without a timeout must not throw.
    @discardableResult func acquire(blocking: Bool, timeout: Double?) throws -> Bool
    /// Releases the lock.
    func release() throws
}

extension Lockable {
    /// Acquires the lock, waiting as long as it takes. Returns `true`.
    @inlinable
    @discardableResult
    public func acquire() throws -> Bool {
        try acquire(blocking: true, timeout: nil)
    }

    /// Runs `body` holding the lock, as Python's `with lock:` does, and releases the lock
    /// afterwards even when `body` throws.
    ///
    /// If `body` itself releases the lock, the release error that follows is not reported.
    ///
    /// - Parameters:
    ///   - body: The critical section.
    /// - Returns: What `body` returns.
    @inlinable
    public func withLock<R>(_ body: () throws -> R) rethrows -> R {
        // A blocking acquire without a timeout never throws (the protocol's requirement).
        try! acquire(blocking: true, timeout: nil)
        defer { try? release() }
        return try body()
    }
}

/// Runs `body` holding `lock`, as Python's `with lock:` does; releases it even when `body` throws.
///
/// - Parameters:
///   - lock: The lock, semaphore or condition to hold.
///   - body: The critical section.
/// - Returns: What `body` returns.
@inlinable
public func with<L: Lockable, R>(_ lock: L, _ body: () throws -> R) rethrows -> R {
    try lock.withLock(body)
}
