import Synchronization

/// A flag that threads can wait for, Python's `threading.Event`.
///
/// One atomic word (unset, set, unset with waiters). `wait` on a set event is one load; `set`
/// wakes every waiter at once, and each returns `true` even if `clear()` follows immediately.
open class Event: CustomStringConvertible, @unchecked Sendable {
    // @unchecked Sendable: its only state is an atomic word; waiting goes through the parking lot.

    @usableFromInline static let unset: UInt32 = 0
    @usableFromInline static let isSetState: UInt32 = 1
    @usableFromInline static let unsetWithWaiters: UInt32 = 2

    @usableFromInline
    let state = Atomic<UInt32>(Event.unset)

    /// Creates an event whose flag is unset.
    public init() {}

    /// Whether the flag is set (Python's `is_set()`).
    @inlinable
    public final var isSet: Bool {
        state.load(ordering: .acquiring) == Event.isSetState
    }

    /// Sets the flag and wakes every thread waiting for it.
    public final func set() {
        if state.exchange(Event.isSetState, ordering: .acquiringAndReleasing) == Event.unsetWithWaiters {
            ParkingLot.unparkAll(key: key, token: 1)
        }
    }

    /// Unsets the flag; later `wait` calls block until the next `set()`.
    public final func clear() {
        _ = state.compareExchange(expected: Event.isSetState, desired: Event.unset, ordering: .acquiringAndReleasing)
    }

    /// Waits until the flag is set, or until `timeout` passes.
    ///
    /// - Parameters:
    ///   - timeout: The longest wait, in seconds; `nil` waits without limit, zero or negative
    ///     does not wait.
    /// - Returns: `true` if the flag was set or a `set()` woke this thread; `false` on timeout.
    /// - Throws: `ThreadingError.Kind.valueError` for NaN and `.overflowError` above
    ///   `timeoutMax`, when the flag is unset.
    @inlinable
    @discardableResult
    @available(*, noasync, message: "use `try await event.wait()`, which suspends the task instead")
    public final func wait(timeout: Double? = nil) throws -> Bool {
        if _fastPath(isSet) { return true }
        return try waitSlow(timeout: timeout)
    }

    @usableFromInline
    final func waitSlow(timeout: Double?, operation: StaticString? = "Event.wait") throws(ThreadingError) -> Bool {
        guard case .until(let deadline) = try WaitLimit.forWait(timeout) else { return isSet }
        if let operation { BlockingInTask.check(operation) }
        let result = ParkingLot.park(
            key: key,
            deadline: deadline,
            validate: announceWaiter,
            timedOut: withdrawWaiter
        )
        switch result {
        case .invalid: return true  // set before this thread could park
        case .timedOut: return false
        case .unparked: return true
        }
    }

    /// A waiter's check before it queues, under the bucket lock (for threads and tasks alike):
    /// marks the event as having waiters unless it is set; returns whether to queue.
    final func announceWaiter() -> Bool {
        var current = state.load(ordering: .acquiring)
        while current == Event.unset {
            let (exchanged, seen) = state.compareExchange(
                expected: Event.unset,
                desired: Event.unsetWithWaiters,
                ordering: .acquiringAndReleasing
            )
            if exchanged { return true }
            current = seen
        }
        return current == Event.unsetWithWaiters
    }

    /// A waiter that timed out or was cancelled has left the line, under the bucket lock: the
    /// last one out takes the "has waiters" mark back.
    final func withdrawWaiter(othersWaiting: Bool) {
        if !othersWaiting {
            _ = state.compareExchange(expected: Event.unsetWithWaiters, desired: Event.unset, ordering: .relaxed)
        }
    }

    private var key: UnsafeRawPointer {
        UnsafeRawPointer(Unmanaged.passUnretained(self).toOpaque())
    }

    /// `<Event: set>` or `<Event: unset>`.
    open var description: String {
        isSet ? "<Event: set>" : "<Event: unset>"
    }
}
