import Synchronization

/// A condition variable, Python's `threading.Condition`: threads wait on it, holding its lock,
/// until another thread holding the lock notifies them.
///
/// Waiters are queued first come, first served in the parking lot, each on its own word, so
/// `notify(n)` wakes exactly the `n` longest waiters and nothing else ever wakes one: there are
/// no spurious wake-ups, and `wait` returns `true` exactly when the thread was notified. `wait`
/// releases the lock completely, however deep an `RLock` is held, and restores that depth.
///
/// ```swift
/// final class Mailbox: @unchecked Sendable {  // @unchecked: `items` is only touched holding `cv`
///     let cv = Condition()
///     var items: [Int] = []
/// }
/// let mailbox = Mailbox()
///
/// let producer = Thread {
///     try mailbox.cv.withLock {
///         mailbox.items.append(42)
///         try mailbox.cv.notify()         // wakes the consumer below
///     }
/// }
/// try producer.start()
/// let item = try mailbox.cv.withLock {
///     try mailbox.cv.waitFor { !mailbox.items.isEmpty }
///     return mailbox.items.removeFirst()
/// }
/// try producer.join()
/// ```
///
/// For state that is only shared, `LockedValue` needs neither the class that the compiler takes
/// on trust nor the notify calls: `withLock(when:)` waits until a condition on the value holds.
open class Condition: Lockable, CustomStringConvertible, @unchecked Sendable {
    // @unchecked Sendable: an open class; its stored properties are `let`s of Sendable types.

    @usableFromInline
    enum Underlying: Sendable {
        case lock(Lock)
        case rlock(RLock)
    }

    @usableFromInline
    let underlying: Underlying
    /// Threads queued in `wait`, for `description`. Changed only under the parking-lot bucket lock.
    let waiterCount = Atomic<Int>(0)

    /// Creates a condition over a new `RLock`, as Python's `Condition()` does.
    public init() {
        underlying = .rlock(RLock())
    }

    /// Creates a condition over `lock`. Any thread that holds the `Lock` counts as its owner.
    public init(_ lock: Lock) {
        underlying = .lock(lock)
    }

    /// Creates a condition over `lock`; only the thread that holds it counts as its owner.
    public init(_ lock: RLock) {
        underlying = .rlock(lock)
    }

    /// Acquires the underlying lock, exactly as its own `acquire` does.
    @inlinable
    @discardableResult
    public final func acquire(blocking: Bool = true, timeout: Double? = nil) throws -> Bool {
        switch underlying {
        case .lock(let lock): return try lock.acquire(blocking: blocking, timeout: timeout)
        case .rlock(let lock): return try lock.acquire(blocking: blocking, timeout: timeout)
        }
    }

    /// Releases the underlying lock, exactly as its own `release` does.
    @inlinable
    public final func release() throws {
        switch underlying {
        case .lock(let lock): try lock.release()
        case .rlock(let lock): try lock.release()
        }
    }

    /// Whether the calling thread may wait and notify: it holds the `RLock`, or the `Lock` is held.
    final var isOwned: Bool {
        switch underlying {
        case .lock(let lock): return lock.isLocked
        case .rlock(let lock): return lock.isOwnedByCurrentThread
        }
    }

    /// Releases the lock, waits until notified or until `timeout` passes, and re-acquires the lock.
    ///
    /// - Parameters:
    ///   - timeout: The longest wait, in seconds; `nil` waits without limit, zero or negative
    ///     does not wait.
    /// - Returns: `true` if notified, `false` if the timeout passed first.
    /// - Throws: `ThreadingError.Kind.runtimeError` ("cannot wait on un-acquired lock") when the
    ///   calling thread does not own the lock; `.valueError` for NaN; `.overflowError` above
    ///   `timeoutMax`.
    @discardableResult
    public final func wait(timeout: Double? = nil) throws -> Bool {
        guard isOwned else { throw ThreadingError.waitUnowned }
        guard case .until(let deadline) = try WaitLimit.forWait(timeout) else { return false }
        BlockingInTask.check("Condition.wait", hasTwin: false)
        return wait(until: deadline)
    }

    /// Waits for a notification until `deadline`; the caller owns the lock.
    final func wait(until deadline: Deadline) -> Bool {
        var saved = 0
        var releaseError: (any Error)? = nil
        let key = UnsafeRawPointer(Unmanaged.passUnretained(self).toOpaque())
        let result = ParkingLot.park(
            key: key,
            deadline: deadline,
            validate: {
                waiterCount.wrappingAdd(1, ordering: .relaxed)
                return true
            },
            beforeSleep: {
                do {
                    switch underlying {
                    case .lock(let lock): try lock.release()
                    case .rlock(let lock): saved = try lock.releaseAll()
                    }
                } catch {
                    releaseError = error
                }
            },
            timedOut: { _ in waiterCount.wrappingSubtract(1, ordering: .relaxed) }
        )
        // A notified waiter may have been moved onto the lock's queue and woken by its release:
        // it has slept on the lock word, and takes the lock as a woken sleeper does.
        var requeued = false
        if case .unparked(let token) = result { requeued = token & ParkingLot.requeued != 0 }
        switch underlying {
        case .lock(let lock):
            if releaseError != nil {
                // Not taking the lock: pass on the lock's wake-up that this thread consumed.
                if requeued { Platform.futexWake(address(of: lock.word), count: 1) }
            } else if requeued {
                _ = RawLock.lockContended(address(of: lock.word), deadline: .never, slept: true)
            } else {
                _ = try? lock.acquire()
            }
        case .rlock(let lock):
            if releaseError != nil {
                if requeued { Platform.futexWake(address(of: lock.word), count: 1) }
            } else {
                lock.acquire(restoring: saved, slept: requeued)
            }
        }
        if case .unparked = result { return true }
        return false
    }

    /// Waits until `predicate` is true, or until `timeout` passes, and returns its last value.
    ///
    /// The predicate is evaluated first, holding the lock; the wait happens only while it is
    /// false, and the remaining time is recomputed after each wake-up.
    ///
    /// - Parameters:
    ///   - timeout: The longest total wait, in seconds; `nil` waits without limit.
    ///   - predicate: The state to wait for; evaluated with the lock held.
    /// - Returns: The predicate's last value: `false` only if the timeout passed.
    /// - Throws: As `wait(timeout:)`.
    @discardableResult
    public final func waitFor(timeout: Double? = nil, _ predicate: () -> Bool) throws -> Bool {
        var deadline: Deadline? = nil
        var result = predicate()
        while !result {
            if deadline == nil {
                guard isOwned else { throw ThreadingError.waitUnowned }
                guard case .until(let d) = try WaitLimit.forWait(timeout) else {
                    return predicate()
                }
                deadline = d
            } else if deadline!.hasPassed {
                break
            }
            _ = wait(until: deadline!)
            result = predicate()
        }
        return result
    }

    /// Wakes at most `n` threads waiting on this condition, the longest-waiting first.
    ///
    /// `notify(0)` and negative counts do nothing. The woken threads return from `wait` once they
    /// re-acquire the lock, after the caller releases it.
    ///
    /// - Throws: `ThreadingError.Kind.runtimeError` ("cannot notify on un-acquired lock") when the
    ///   calling thread does not own the lock.
    /// - Complexity: O(w) in the waiters sharing this condition's parking-lot bucket.
    public final func notify(_ n: Int = 1) throws {
        guard isOwned else { throw ThreadingError.notifyUnowned }
        guard n > 0, waiterCount.load(ordering: .relaxed) > 0 else { return }
        var woken = 0
        // The woken threads' next step is to take the lock: they are moved onto its queue rather
        // than woken while the notifier still holds it.
        let lockWord: UnsafePointer<Atomic<UInt32>>
        switch underlying {
        case .lock(let lock): lockWord = address(of: lock.word)
        case .rlock(let lock): lockWord = address(of: lock.word)
        }
        let key = UnsafeRawPointer(Unmanaged.passUnretained(self).toOpaque())
        ParkingLot.unpark(key: key, requeueingOnto: lockWord) { _ in
            guard woken < n else { return nil }
            woken += 1
            waiterCount.wrappingSubtract(1, ordering: .relaxed)
            return 1
        }
    }

    /// Wakes every thread waiting on this condition.
    ///
    /// - Throws: As `notify(_:)`.
    public final func notifyAll() throws {
        try notify(Int.max)
    }

    /// `<Condition(<lock description>, N)>`, N being the number of waiting threads.
    open var description: String {
        let lock: String
        switch underlying {
        case .lock(let l): lock = l.description
        case .rlock(let l): lock = l.description
        }
        return "<Condition(\(lock), \(waiterCount.load(ordering: .relaxed)))>"
    }
}
