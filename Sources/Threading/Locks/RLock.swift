import Synchronization

/// A reentrant lock, Python's `threading.RLock`: the thread that holds it may acquire it again,
/// and must release it as many times; only that thread may release it.
///
/// The futex word of `Lock` plus the owner's identity and the recursion depth, in a 48-byte object.
/// Re-entry and the matching release touch no shared state but the owner's own fields.
public final class RLock: Lockable, CustomStringConvertible {
    @usableFromInline
    let word = Atomic<UInt32>(RawLock.unlocked)
    /// The owning thread's `getIdent()`, 0 when unowned. Written only by the owner.
    @usableFromInline
    let owner = Atomic<UInt>(0)
    /// The recursion depth. Written only by the owner; read by others for `description`.
    @usableFromInline
    let count = Atomic<Int>(0)

    /// Creates an unlocked reentrant lock.
    public init() {}

    /// Acquires the lock, or deepens the calling thread's hold on it.
    ///
    /// - Parameters:
    ///   - blocking: When `false`, returns at once instead of waiting. A timeout cannot be given then.
    ///   - timeout: The longest wait, in seconds. `nil` or `-1` wait without limit; `0` only tries.
    /// - Returns: Whether the lock was acquired.
    /// - Throws: As `Lock.acquire(blocking:timeout:)`, for the same arguments.
    /// - Complexity: One atomic compare-and-swap on first entry; plain loads and stores on re-entry.
    @inlinable
    @discardableResult
    public func acquire(blocking: Bool = true, timeout: Double? = nil) throws -> Bool {
        let me = Platform.currentIdent()
        if _fastPath(timeout == nil) {
            if owner.load(ordering: .relaxed) == me {
                count.store(count.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
                return true
            }
            if _fastPath(RawLock.tryLock(word))
                || (blocking && RawLock.lockContended(address(of: word), deadline: .never))
            {
                owner.store(me, ordering: .relaxed)
                count.store(1, ordering: .relaxed)
                return true
            }
            return false
        }
        return try acquireTimed(blocking: blocking, timeout: timeout, me: me)
    }

    @usableFromInline
    func acquireTimed(blocking: Bool, timeout: Double?, me: UInt) throws(ThreadingError) -> Bool {
        let limit = try WaitLimit.forLock(blocking: blocking, timeout: timeout)
        if owner.load(ordering: .relaxed) == me {
            count.store(count.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
            return true
        }
        let acquired: Bool
        switch limit {
        case .dontWait: acquired = RawLock.tryLock(word)
        case .until(let deadline):
            acquired = RawLock.tryLock(word) || RawLock.lockContended(address(of: word), deadline: deadline)
        }
        if acquired {
            owner.store(me, ordering: .relaxed)
            count.store(1, ordering: .relaxed)
        }
        return acquired
    }

    /// Releases one level of the calling thread's hold; the last level unlocks it.
    ///
    /// - Throws: `ThreadingError.Kind.runtimeError` ("cannot release un-acquired lock") when the
    ///   calling thread does not hold it, even while another thread does.
    @inlinable @inline(__always)
    public func release() throws {
        // Small enough to inline: the throw is out of line, and so is a contended unlock.
        guard _fastPath(owner.load(ordering: .relaxed) == Platform.currentIdent()) else {
            try releaseUnowned()
        }
        let depth = count.load(ordering: .relaxed) &- 1
        count.store(depth, ordering: .relaxed)
        if depth == 0 {
            owner.store(0, ordering: .relaxed)
            if !RawLock.unlock(word) { unlockContended() }
        }
    }

    @usableFromInline
    func releaseUnowned() throws -> Never {
        throw ThreadingError.releaseUnowned
    }

    @usableFromInline
    func unlockContended() {
        RawLock.unlockContended(address(of: word))
    }

    /// Whether some thread holds the lock.
    public var isLocked: Bool {
        word.load(ordering: .relaxed) != RawLock.unlocked
    }

    /// Whether the calling thread holds the lock (CPython's `_is_owned()`).
    var isOwnedByCurrentThread: Bool {
        owner.load(ordering: .relaxed) == Platform.currentIdent()
    }

    /// The calling thread's recursion depth, 0 when it does not hold the lock
    /// (CPython's `_recursion_count()`).
    var recursionCount: Int {
        isOwnedByCurrentThread ? count.load(ordering: .relaxed) : 0
    }

    /// Fully releases the calling thread's hold, whatever its depth, and returns the depth
    /// (CPython's `_release_save()`). Used by `Condition.wait`.
    func releaseAll() throws(ThreadingError) -> Int {
        guard isOwnedByCurrentThread else { throw .releaseUnowned }
        let depth = count.load(ordering: .relaxed)
        count.store(0, ordering: .relaxed)
        owner.store(0, ordering: .relaxed)
        if !RawLock.unlock(word) { unlockContended() }
        return depth
    }

    /// Re-acquires the lock, waiting as long as it takes, at `depth` (CPython's `_acquire_restore()`);
    /// `slept` for a thread that has already slept on the lock word (see `RawLock.lockContended`).
    func acquire(restoring depth: Int, slept: Bool = false) {
        if slept {
            _ = RawLock.lockContended(address(of: word), deadline: .never, slept: true)
        } else {
            RawLock.lock(address(of: word))
        }
        owner.store(Platform.currentIdent(), ordering: .relaxed)
        count.store(depth, ordering: .relaxed)
    }

    /// `<locked RLock owner=IDENT count=N>` or `<unlocked RLock owner=0 count=0>`.
    public var description: String {
        let holder = owner.load(ordering: .relaxed)
        let depth = count.load(ordering: .relaxed)
        return "<\(isLocked ? "locked" : "unlocked") RLock owner=\(holder) count=\(depth)>"
    }
}
