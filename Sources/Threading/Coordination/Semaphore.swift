import Synchronization

/// A counting semaphore, Python's `threading.Semaphore`: `acquire` takes one unit, waiting while
/// there are none; `release(n)` returns `n` units and wakes up to `n` waiters.
///
/// The count is one atomic word: an uncontended `acquire` or `release` is one compare-and-swap,
/// inlined into the caller. Threads that must wait park in first-come order, and `release` hands
/// units to them directly, so no release is lost and no waiter wakes without a unit.
///
/// `Threading.Semaphore` is the full name where `Glibc`'s `Semaphore` (a `sem_t` pointer) is
/// also imported.
open class Semaphore: Lockable, CustomStringConvertible, @unchecked Sendable {
    // @unchecked Sendable: a non-final class; every stored property is a `let` of a Sendable type.

    @usableFromInline
    let value: Atomic<Int>
    /// Threads parked in `acquire`. Changed only under the parking-lot bucket lock.
    @usableFromInline
    let waiters = Atomic<Int>(0)
    /// The largest value `release` may reach: the initial value for a `BoundedSemaphore`.
    @usableFromInline
    let bound: Int

    /// Creates a semaphore holding `value` units.
    ///
    /// - Throws: `ThreadingError.Kind.valueError` ("semaphore initial value must be >= 0") when
    ///   `value` is negative.
    public init(_ value: Int = 1) throws {
        guard value >= 0 else { throw ThreadingError.negativeSemaphore }
        self.value = Atomic(value)
        self.bound = .max
    }

    init(value: Int, bound: Int) throws(ThreadingError) {
        guard value >= 0 else { throw .negativeSemaphore }
        self.value = Atomic(value)
        self.bound = bound
    }

    /// Takes one unit, waiting for one when there are none.
    ///
    /// - Parameters:
    ///   - blocking: When `false`, returns at once instead of waiting; no timeout may be given then.
    ///   - timeout: The longest wait, in seconds; `nil` waits without limit, zero or negative
    ///     only tries.
    /// - Returns: Whether a unit was taken.
    /// - Throws: `ThreadingError.Kind.valueError` for a timeout on a non-blocking call or NaN;
    ///   `.overflowError` above `timeoutMax`, when the call would wait.
    /// - Complexity: One atomic compare-and-swap when a unit is available.
    @inlinable
    @discardableResult
    @available(*, noasync, message: "use `try await sem.acquire()`, which suspends the task instead")
    public final func acquire(blocking: Bool = true, timeout: Double? = nil) throws -> Bool {
        if _slowPath(!blocking && timeout != nil) { throw ThreadingError.semaphoreNonBlockingTimeout }
        if _fastPath(tryTake()) { return true }
        return try acquireSlow(blocking: blocking, timeout: timeout)
    }

    /// Takes a unit if there is one.
    @inlinable @inline(__always)
    final func tryTake() -> Bool {
        var current = value.load(ordering: .relaxed)
        while current > 0 {
            let (exchanged, seen) = value.weakCompareExchange(
                expected: current,
                desired: current - 1,
                ordering: .acquiringAndReleasing
            )
            if exchanged { return true }
            current = seen
        }
        return false
    }

    @usableFromInline
    final func acquireSlow(blocking: Bool, timeout: Double?) throws(ThreadingError) -> Bool {
        if !blocking { return false }
        guard case .until(let deadline) = try WaitLimit.forWait(timeout) else { return tryTake() }
        BlockingInTask.check("Semaphore.acquire")
        // A unit often comes back within a microsecond when the releasing thread runs on another
        // CPU (a producer feeding a consumer): look a few times before paying for a sleep.
        if Platform.cpuCount > 1 {
            for _ in 0..<Semaphore.spinLimit {
                Platform.spinHint()
                if value.load(ordering: .relaxed) > 0 && tryTake() { return true }
            }
        }
        var tookWithoutParking = false
        let result = ParkingLot.park(
            key: UnsafeRawPointer(Unmanaged.passUnretained(self).toOpaque()),
            deadline: deadline,
            validate: { announceWaiter(tookWithoutParking: &tookWithoutParking) },
            timedOut: { _ in waiters.wrappingSubtract(1, ordering: .relaxed) }
        )
        switch result {
        case .invalid: return tookWithoutParking
        case .timedOut: return false
        case .unparked: return true  // the releaser handed this thread its unit
        }
    }

    /// A waiter's check before it queues, under the bucket lock (for threads and tasks alike):
    /// announces the waiter, then looks again, since a release either sees the waiter or left a
    /// unit that this look finds (both are sequentially consistent). Returns whether to queue;
    /// `false` with `tookWithoutParking` set when the look took a unit.
    final func announceWaiter(tookWithoutParking: inout Bool) -> Bool {
        waiters.wrappingAdd(1, ordering: .sequentiallyConsistent)
        if value.load(ordering: .sequentiallyConsistent) > 0 && tryTake() {
            waiters.wrappingSubtract(1, ordering: .relaxed)
            tookWithoutParking = true
            return false
        }
        return true
    }

    /// Returns `n` units, waking up to `n` waiting threads.
    ///
    /// - Parameters:
    ///   - n: How many units to return.
    /// - Throws: `ThreadingError.Kind.valueError` ("n must be one or more") when `n < 1`; for a
    ///   `BoundedSemaphore`, `.valueError` ("Semaphore released too many times") when the value
    ///   would pass the initial value, which it then leaves unchanged.
    /// - Complexity: One atomic compare-and-swap when no thread waits.
    @inlinable
    public final func release(_ n: Int = 1) throws {
        if _fastPath(n == 1 && bound == .max) {
            // Unbounded: one atomic add, the cheapest handover of the cache line to a consumer.
            // Small enough to inline: an overflow and waiting threads are dealt with out of line.
            let old = value.wrappingAdd(1, ordering: .sequentiallyConsistent).oldValue
            if _fastPath(old != .max && waiters.load(ordering: .sequentiallyConsistent) <= 0) { return }
            try releasedOne(old: old)
            return
        }
        try releaseSlow(n)
    }

    /// The rest of an unbounded `release(1)` after its add: takes back an add that overflowed,
    /// or hands units to waiting threads.
    @usableFromInline
    final func releasedOne(old: Int) throws {
        if old == .max {
            // An add that overflows is taken back before anyone can take the units.
            value.wrappingSubtract(1, ordering: .sequentiallyConsistent)
            try releaseRefused(overflow: true)
        }
        if waiters.load(ordering: .sequentiallyConsistent) > 0 { handOff() }
    }

    /// `release(n)` for `n` other than 1, or for a bounded semaphore.
    @usableFromInline
    final func releaseSlow(_ n: Int) throws {
        guard n >= 1 else { throw ThreadingError.releaseCount }
        if bound == .max {
            let old = value.wrappingAdd(n, ordering: .sequentiallyConsistent).oldValue
            if old > Int.max - n {
                value.wrappingSubtract(n, ordering: .sequentiallyConsistent)
                try releaseRefused(overflow: true)
            }
            if waiters.load(ordering: .sequentiallyConsistent) > 0 { handOff() }
            return
        }
        var current = value.load(ordering: .relaxed)
        while true {
            let (sum, overflow) = current.addingReportingOverflow(n)
            if overflow || sum > bound { try releaseRefused(overflow: overflow) }
            let (exchanged, seen) = value.weakCompareExchange(
                expected: current,
                desired: sum,
                ordering: .sequentiallyConsistent
            )
            if exchanged { break }
            current = seen
        }
        if waiters.load(ordering: .sequentiallyConsistent) > 0 { handOff() }
    }

    /// How many times `acquire` looks for a unit before it sleeps.
    static let spinLimit = 50

    /// Returns one unit (the `Lockable` requirement); see `release(_:)`.
    @inlinable
    public final func release() throws {
        try release(1)
    }

    @usableFromInline
    final func releaseRefused(overflow: Bool) throws(ThreadingError) -> Never {
        throw overflow && bound == .max ? .semaphoreOverflow : .overReleased
    }

    /// Moves available units to parked threads, oldest first.
    @usableFromInline
    final func handOff() {
        ParkingLot.unpark(key: UnsafeRawPointer(Unmanaged.passUnretained(self).toOpaque())) { _ in
            guard tryTake() else { return nil }
            waiters.wrappingSubtract(1, ordering: .relaxed)
            return 1
        }
    }

    /// The number of units available now (Python's `_value`).
    public final var currentValue: Int {
        value.load(ordering: .relaxed)
    }

    /// `<Semaphore: value=N>`.
    open var description: String {
        "<Semaphore: value=\(currentValue)>"
    }
}

/// A semaphore that may not be released past its initial value, Python's
/// `threading.BoundedSemaphore`: the usual guard for a pool of a fixed size.
open class BoundedSemaphore: Semaphore, @unchecked Sendable {
    // @unchecked Sendable: adds no stored property to `Semaphore`.

    /// The initial value, which `release` may not exceed.
    public final var initialValue: Int { bound }

    /// Creates a bounded semaphore holding `value` units, at most `value` at any time.
    ///
    /// - Throws: `ThreadingError.Kind.valueError` when `value` is negative.
    public override init(_ value: Int = 1) throws {
        try super.init(value: value, bound: value)
    }

    /// `<BoundedSemaphore: value=N/INITIAL>`.
    open override var description: String {
        "<BoundedSemaphore: value=\(currentValue)/\(bound)>"
    }
}
