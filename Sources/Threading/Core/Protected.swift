import Synchronization

/// A value guarded by the waiting core's own futex lock: the module's internal `Mutex`.
///
/// The library uses it instead of `Synchronization.Mutex` for its bookkeeping (thread states, the
/// thread registry, hooks) because ThreadSanitizer sees its atomics and so its happens-before
/// edges, while `Mutex`'s lock lives in the uninstrumented runtime and makes TSan report races
/// that are not there.
final class Protected<Value> {
    private let word = Atomic<UInt32>(RawLock.unlocked)
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    /// Runs `body` with exclusive access to the value.
    func withLock<R, E: Error>(_ body: (inout Value) throws(E) -> R) throws(E) -> R {
        RawLock.lock(address(of: word))
        defer { RawLock.unlock(address(of: word)) }
        return try body(&value)
    }

    /// Stores `newValue` at `path` and returns what was there. The old value is released by the
    /// caller, after the lock: its deinitializers (a closure's captures) may take this lock again.
    func exchange<T>(_ path: WritableKeyPath<Value, T>, with newValue: T) -> T {
        var old = newValue
        withLock { swap(&$0[keyPath: path], &old) }
        return old
    }
}

// @unchecked Sendable: every access to `value` goes through `withLock`.
extension Protected: @unchecked Sendable where Value: Sendable {}
