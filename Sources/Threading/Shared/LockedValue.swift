import Synchronization

/// A lock that owns the value it guards: the proof Swift 6 asks for before state is shared
/// between threads, where Python shares objects freely.
///
/// The value is reachable only inside `withLock`, so it can never be touched without the lock.
/// `withLock(when:timeout:_:)` waits until a condition on the value holds, and replaces a
/// `Condition` with its `notify` calls: whenever a `withLock` body ends, the thread leaving the
/// lock evaluates the conditions of the waiting threads, oldest first, and wakes the first one
/// whose condition holds (Abseil's `Mutex::Await`/`LockWhen`). No notify is needed, a waiter is
/// woken only when its condition holds, and its body runs with the condition true.
///
/// ```swift
/// let inbox = LockedValue<[String]>([])
///
/// let consumer = Thread {
///     // Waits until a message is there, then takes it.
///     let message = try inbox.withLock(when: { !$0.isEmpty }) { $0.removeFirst() }
///     print("got", message ?? "nothing")
/// }
/// try consumer.start()
/// inbox.withLock { $0.append("hello") }  // wakes the consumer: no notify
/// try consumer.join()
/// ```
///
/// It is `Sendable` whatever `Value` is, as `Synchronization.Mutex` is: a value goes in as
/// `sending` (it cannot stay reachable from the thread that gave it), and the body must leave the
/// value, and return a result, that is not reachable from anything else.
///
/// Uncontended, `withLock` is one atomic compare-and-swap to take the lock and one to release it,
/// plus a check that no thread waits on a condition: as fast as `Mutex.withLock`. The lock is
/// not recursive: calling `withLock` on the same value from inside its body deadlocks.
public final class LockedValue<Value>: @unchecked Sendable {
    // @unchecked Sendable: `value` and `waiters` are touched only while holding the lock `word`,
    // and values cross threads only as `sending`.

    /// The lock: a `RawLock` futex word.
    @usableFromInline
    let word = Atomic<UInt32>(RawLock.unlocked)

    /// The threads waiting in `withLock(when:)`, oldest first. Changed only with the lock held
    /// (which gives the exclusive access the runtime would otherwise check on each unlock).
    @usableFromInline
    @exclusivity(unchecked)
    var waiters = WaiterList()

    /// The guarded value. Only ever accessed with the lock held, so the lock already gives the
    /// exclusive access the runtime would otherwise check on each `withLock`.
    @usableFromInline
    @exclusivity(unchecked)
    var value: Value

    /// Creates a lock that owns `value`.
    ///
    /// - Parameters:
    ///   - value: The initial value. It is sent into the lock: the caller cannot keep a reference
    ///     to anything in it that is not `Sendable`.
    public init(_ value: sending Value) {
        self.value = value
    }

    /// Runs `body` with exclusive access to the value, as Python's `with lock:` does around the
    /// state it guards.
    ///
    /// When `body` ends, returning or throwing, the conditions of the threads waiting in
    /// `withLock(when:timeout:_:)` are evaluated and the lock goes to the first of them whose
    /// condition now holds.
    ///
    /// A `return` inside `body` leaves only `body`, with what it returns becoming `withLock`'s
    /// result.
    ///
    /// - Parameters:
    ///   - body: The critical section; it gets the value `inout`.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws; the lock is released all the same.
    /// - Complexity: O(1) when no thread waits on a condition; otherwise, O(w) evaluations of
    ///   waiting conditions, `w` being the number of waiters.
    @inlinable
    public func withLock<Result, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result {
        lock()
        defer { unlock() }
        return try body(&value)
    }

    /// Waits until `condition` holds for the value, then runs `body` with the lock held and the
    /// condition still true.
    ///
    /// The condition is evaluated first, with the lock held; if it is false, the thread sleeps.
    /// It is evaluated again, by the thread that leaves the lock, whenever another `withLock`
    /// body ends, and this thread is woken only when it holds: no notify is needed. Waiters whose
    /// conditions hold at the same time are woken oldest first, one per body that ends. A woken
    /// thread evaluates its condition once more when it has the lock: if a thread that took the
    /// lock first made it false again, it goes back to waiting, first in line.
    ///
    /// The condition runs with the lock held, on this thread or on whichever thread leaves the
    /// lock: it should only read the value (and what it captured), quickly, without taking other
    /// locks.
    ///
    /// ```swift
    /// let stock = LockedValue(0)
    /// let producer = Thread { stock.withLock { $0 += 1 } }
    /// try producer.start()
    /// // Takes one as soon as there is one, or gives up after a second.
    /// let inStock = { (count: borrowing Int) in count > 0 }
    /// let taken = try stock.withLock(when: inStock, timeout: 1) { count -> Bool in
    ///     count -= 1
    ///     return true
    /// }
    /// print(taken == nil ? "timed out" : "took one")
    /// try producer.join()
    /// ```
    ///
    /// - Parameters:
    ///   - condition: The state to wait for.
    ///   - timeout: The longest wait, in seconds: `nil` waits without limit; zero or negative
    ///     does not wait (the condition is evaluated once). As `Condition.wait`.
    ///   - body: The critical section, run once the condition holds.
    /// - Returns: What `body` returns, or `nil` if the timeout passed first (and the condition
    ///   was still false when this thread took the lock back).
    /// - Throws: `ThreadingError.Kind.valueError` for a NaN timeout and `.overflowError` for one
    ///   above `timeoutMax`, before anything else; otherwise what `body` throws.
    /// - Complexity: Each end of a `withLock` body while this thread waits costs one evaluation
    ///   of `condition`.
    @available(*, noasync, message: "use `try await value.withLock(when:timeout:_:)`, which suspends the task instead")
    public func withLock<Result>(
        when condition: (borrowing Value) -> Bool,
        timeout: Double? = nil,
        _ body: (inout sending Value) throws -> sending Result
    ) throws -> sending Result? {
        let limit = try WaitLimit.forWait(timeout)
        lock()
        defer { unlock() }
        if !condition(value) {
            guard case .until(let deadline) = limit, wait(for: condition, until: deadline) else {
                return nil
            }
        }
        return try body(&value)
    }

    // MARK: The lock

    /// Takes the lock, sleeping as long as it takes.
    @inlinable @inline(__always)
    func lock() {
        if _slowPath(!RawLock.tryLock(word)) {
            _ = RawLock.lockContended(address(of: word), deadline: .never)
        }
    }

    /// Leaves the lock: wakes a waiter whose condition now holds, if any, and releases it.
    @inlinable @inline(__always)
    func unlock() {
        if _slowPath(!waiters.isEmpty) { wakeSatisfiedWaiter() }
        if _fastPath(RawLock.unlock(word)) { return }
        RawLock.unlockContended(address(of: word))
    }

    /// Evaluates the waiters' conditions, oldest first, the lock held, and wakes the first waiter
    /// whose condition holds (taking it off the queue). The woken thread takes the lock once this
    /// one releases it.
    ///
    /// Only one is woken: when its body ends, its own leaving evaluates the others. The lock is
    /// not handed over, so the thread leaving can take it again at once instead of waiting for
    /// the woken one to be scheduled (a producer goes on filling a buffer while the consumer wakes).
    @usableFromInline
    func wakeSatisfiedWaiter() {
        var candidate = waiters.head
        while let node = candidate {
            candidate = node.pointee.next
            guard node.pointee.condition(value) else { continue }
            waiters.remove(node)
            // The node stays valid while the lock is held: its thread is either asleep in the
            // parking lot, and this wakes it; or its wait has just timed out, nobody is found,
            // and it is blocked on this very lock. In that case it looks at its condition itself
            // once it has the lock, and the next satisfied waiter, if any, is woken too.
            if ParkingLot.unpark(key: UnsafeRawPointer(node), { _ in 1 }) == 1 { return }
        }
    }

    /// Sleeps, the lock held on entry, until a leaving thread finds `condition` true and wakes
    /// this one, or until `deadline`. Returns with the lock held, and whether the condition holds.
    func wait(for condition: (borrowing Value) -> Bool, until deadline: Deadline) -> Bool {
        BlockingInTask.check("LockedValue.withLock(when:)")
        return withoutActuallyEscaping(condition) { condition in
            withUnsafeTemporaryAllocation(of: Waiter.self, capacity: 1) { buffer in
                let node = buffer.baseAddress!
                node.initialize(to: Waiter(condition: condition))
                defer { node.deinitialize(count: 1) }
                waiters.append(node)
                while true {
                    let result = ParkingLot.park(
                        key: UnsafeRawPointer(node),
                        deadline: deadline,
                        validate: { true },
                        // This thread changed nothing, so no other waiter's condition can have
                        // become true: a plain release.
                        beforeSleep: { if !RawLock.unlock(word) { RawLock.unlockContended(address(of: word)) } }
                    )
                    lock()
                    guard case .unparked = result else {
                        // Timed out: leave the queue, unless a leaving thread already took this
                        // waiter off it (and found it gone from the parking lot); look once more.
                        if node.pointee.isQueued { waiters.remove(node) }
                        return condition(value)
                    }
                    if condition(value) { return true }
                    // Another thread took the lock between the wake-up and now, and changed the
                    // value back: wait again, first in line.
                    waiters.prepend(node)
                }
            }
        }
    }

    // MARK: The waiters

    /// A thread waiting in `withLock(when:)`: its condition and its links in `waiters`. Lives on
    /// the waiting thread's stack; changed only with the lock held.
    @usableFromInline
    struct Waiter {
        let condition: (borrowing Value) -> Bool
        var next: UnsafeMutablePointer<Waiter>? = nil
        var previous: UnsafeMutablePointer<Waiter>? = nil
        var isQueued = false
    }

    /// The FIFO list of waiters.
    @usableFromInline
    struct WaiterList {
        @usableFromInline
        var head: UnsafeMutablePointer<Waiter>? = nil
        var tail: UnsafeMutablePointer<Waiter>? = nil

        @usableFromInline
        init() {}

        @inlinable
        var isEmpty: Bool { head == nil }

        mutating func append(_ node: UnsafeMutablePointer<Waiter>) {
            node.pointee.previous = tail
            node.pointee.next = nil
            node.pointee.isQueued = true
            if let tail { tail.pointee.next = node } else { head = node }
            tail = node
        }

        mutating func prepend(_ node: UnsafeMutablePointer<Waiter>) {
            node.pointee.previous = nil
            node.pointee.next = head
            node.pointee.isQueued = true
            if let head { head.pointee.previous = node } else { tail = node }
            head = node
        }

        mutating func remove(_ node: UnsafeMutablePointer<Waiter>) {
            let previous = node.pointee.previous
            let next = node.pointee.next
            if let previous { previous.pointee.next = next } else { head = next }
            if let next { next.pointee.previous = previous } else { tail = previous }
            node.pointee.previous = nil
            node.pointee.next = nil
            node.pointee.isQueued = false
        }
    }
}

extension LockedValue {
    /// Stores `newValue` at `path` and returns what was there. The old value is released by the
    /// caller, after the lock: its deinitializers (a closure's captures) may take this lock again.
    func exchange<T>(_ path: WritableKeyPath<Value, T>, with newValue: T) -> T {
        var old = newValue
        lock()
        swap(&value[keyPath: path], &old)
        unlock()
        return old
    }
}
