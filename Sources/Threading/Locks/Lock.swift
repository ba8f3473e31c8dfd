import Synchronization

/// A primitive lock, Python's `threading.Lock`: not owned by any thread, so any thread may
/// release it.
///
/// Four bytes of state (a futex word: unlocked, locked, locked with sleepers) in a 32-byte object.
/// An uncontended `acquire`/`release` is one atomic instruction each, inlined into the caller; a
/// blocked thread sleeps in the kernel until released or until its deadline on the monotonic
/// clock. Unlike `Synchronization.Mutex`, releasing from another thread is allowed, a second
/// `acquire` on the same thread blocks (or times out) instead of trapping, and misuse throws
/// `ThreadingError` as Python raises.
///
/// Tasks wait for it with `try await lock.acquire()`, in a line of their own: see that method for
/// how threads and tasks take turns (not one first-come-first-served line, as on the other
/// primitives).
///
/// ```swift
/// let lock = Lock()
/// try lock.acquire()
/// defer { try? lock.release() }
/// ```
public final class Lock: Lockable, CustomStringConvertible {
    @usableFromInline
    let word = Atomic<UInt32>(RawLock.unlocked)
    /// Tasks announced or waiting in the parking lot for this lock (see `Lock+Async.swift`).
    /// While it is non-zero the word is kept contended, so every release takes the slow path.
    let taskWaiters = Atomic<UInt32>(0)

    /// Creates an unlocked lock.
    public init() {}

    /// Acquires the lock.
    ///
    /// - Parameters:
    ///   - blocking: When `false`, returns at once instead of waiting. A timeout cannot be given then.
    ///   - timeout: The longest wait, in seconds. `nil` or `-1` wait without limit; `0` only tries.
    /// - Returns: Whether the lock was acquired (`false` only when not blocking or timed out).
    /// - Throws: `ThreadingError.Kind.valueError` for a timeout on a non-blocking call, a negative
    ///   timeout other than `-1`, or NaN; `.overflowError` for a timeout above `timeoutMax`.
    /// - Complexity: One atomic compare-and-swap when the lock is free.
    @inlinable
    @discardableResult
    @available(*, noasync, message: "use `try await lock.acquire()`, which suspends the task instead")
    public func acquire(blocking: Bool = true, timeout: Double? = nil) throws -> Bool {
        if _fastPath(timeout == nil) {
            if _fastPath(RawLock.tryLock(word)) { return true }
            return blocking ? RawLock.lockContended(address(of: word), deadline: .never) : false
        }
        return try acquireTimed(blocking: blocking, timeout: timeout)
    }

    @usableFromInline
    func acquireTimed(blocking: Bool, timeout: Double?) throws(ThreadingError) -> Bool {
        switch try WaitLimit.forLock(blocking: blocking, timeout: timeout) {
        case .dontWait:
            return RawLock.tryLock(word)
        case .until(let deadline):
            return RawLock.tryLock(word) || RawLock.lockContended(address(of: word), deadline: deadline)
        }
    }

    /// Releases the lock. Any thread may release it, not only the one that acquired it.
    ///
    /// - Throws: `ThreadingError.Kind.runtimeError` ("release unlocked lock") when it is not locked.
    /// - Complexity: One atomic compare-and-swap, plus a kernel call when a thread sleeps on the lock.
    @inlinable
    public func release() throws {
        if _fastPath(RawLock.unlock(word)) { return }
        try releaseSlow()
    }

    @usableFromInline
    func releaseSlow() throws(ThreadingError) {
        if !RawLock.unlockContended(address(of: word)) { throw .releaseUnlocked }
        // A task that announced itself before looking at the word either saw it unlocked (and
        // took it) or is seen here.
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        if taskWaiters.load(ordering: .sequentiallyConsistent) > 0 { handOffToTask() }
    }

    /// Whether some thread holds the lock (Python's `locked()`).
    public var isLocked: Bool {
        word.load(ordering: .relaxed) != RawLock.unlocked
    }

    /// `<locked Lock>` or `<unlocked Lock>`.
    public var description: String {
        isLocked ? "<locked Lock>" : "<unlocked Lock>"
    }
}
