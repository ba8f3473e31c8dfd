import Synchronization

/// An unbounded first-in, first-out queue without task tracking, Python's `queue.SimpleQueue`.
///
/// `put` never blocks. `get` waits for an item; blocked getters are served first come, first
/// served (CPython does not promise that; this type does): each `put` hands its item to the
/// longest-waiting getter, and a getter arriving later cannot take it first.
///
/// The items live in one ring buffer that grows by doubling and never shrinks, so once a queue
/// has held its peak length, `put` and `get` allocate nothing. Items are moved in and out of the
/// buffer and released only after the queue's lock, so an item's `deinit` may use the queue
/// (CPython's reentrancy guarantee, bpo-14976).
///
/// ```swift
/// let results = SimpleQueue<Int>()
/// results.put(42)
/// let answer = try results.get()   // 42
/// ```
public final class SimpleQueue<Element: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: every `var` is read and written only with `word` locked.

    /// The queue's lock (a `FencelessLock` word).
    @usableFromInline let word = Atomic<UInt32>(FencelessLock.unlocked)
    /// The threads registered to sleep on `word` (the `FencelessLock`'s other word).
    @usableFromInline let sleepers = Atomic<UInt32>(0)
    /// Whether releasing `word` makes a full fence (`FencelessLock.fenced`).
    @usableFromInline let fenced = FencelessLock.fenced
    @usableFromInline @exclusivity(unchecked) var ring = Ring<Element>(capacity: 16)
    /// Getters parked in the parking lot that no `put` has handed an item yet.
    @usableFromInline @exclusivity(unchecked) var waitingGetters = 0
    /// Items handed to woken getters that have not taken them yet: no other getter may take them.
    @usableFromInline @exclusivity(unchecked) var reserved = 0

    /// `ring.count`, published after each change for getters that spin before they park.
    @usableFromInline let countHint = Atomic<Int>(0)
    /// How long a blocked thread watches `countHint` before it parks.
    @usableFromInline @exclusivity(unchecked) var backoff = Backoff()

    /// Creates an empty queue.
    public init() {}

    deinit {
        ring.destroy()
    }

    /// Adds `item` at the end of the queue; never blocks.
    ///
    /// - Parameters:
    ///   - item: The item to add.
    ///   - block: Ignored, as in CPython (the queue is unbounded).
    ///   - timeout: Ignored, as in CPython.
    /// - Complexity: Amortized O(1); no allocation once the queue has held as many items before.
    @inlinable
    public func put(_ item: Element, block: Bool = true, timeout: Double? = nil) {
        putNowait(item)
    }

    /// Adds `item` at the end of the queue: the same as `put(_:)` (Python's `put_nowait`).
    ///
    /// - Complexity: Amortized O(1).
    @inlinable
    public func putNowait(_ item: Element) {
        // The common case inline and without a call (a few instructions around the lock's two
        // atomic operations); the rest is in `putLocked`.
        guard _fastPath(FencelessLock.tryLock(word)) else { return putContended(item) }
        guard _fastPath(waitingGetters == 0 && ring.count < ring.capacity) else { return putLocked(item) }
        ring.appendWithinCapacity(item)
        countHint.store(ring.count, ordering: .relaxed)
        unlock()
    }

    /// `putNowait` when the lock was taken: takes it, waiting, then goes on as `putLocked`.
    @inlinable @inline(never)
    func putContended(_ item: Element) {
        lockContended()
        putLocked(item)
    }

    /// `putNowait` with the lock held, every case: adds the item (growing the ring), hands it to
    /// a parked getter, and releases the lock.
    @inlinable @inline(never)
    func putLocked(_ item: Element) {
        ring.append(item)
        countHint.store(ring.count, ordering: .relaxed)
        if _slowPath(waitingGetters > 0) { unlockHandingOff() } else { unlock() }
    }

    /// Removes and returns the first item, waiting for one if the queue is empty.
    ///
    /// - Parameters:
    ///   - block: When `false`, does not wait (the timeout is then ignored, as in CPython).
    ///   - timeout: The longest wait, in seconds; `nil` waits without limit, `0` does not wait.
    /// - Returns: The first item.
    /// - Throws: `ThreadingError.Kind.empty` when there is no item and the call was not to wait or
    ///   its timeout passed. When blocking with a timeout, checked first whether or not an item is
    ///   ready, in CPython's order: `.valueError` ("Invalid value NaN (not a number)") for NaN,
    ///   `.overflowError` ("timeout value is too large") beyond `timeoutMax`, `.valueError`
    ///   ("'timeout' must be a non-negative number") when negative.
    /// - Complexity: O(1) when an item is ready.
    @inlinable
    public func get(block: Bool = true, timeout: Double? = nil) throws -> Element {
        if _slowPath(block && timeout != nil) { try SimpleQueue.check(timeout: timeout!) }
        guard _fastPath(FencelessLock.tryLock(word)) else { return try getContended(block: block, timeout: timeout) }
        if let item = takeReady() { return item }
        return try getSlow(block: block, timeout: timeout)
    }

    /// `get` when the lock was taken: takes it, waiting, then takes an item or waits for one.
    @inlinable @inline(never)
    func getContended(block: Bool, timeout: Double?) throws(ThreadingError) -> Element {
        lockContended()
        if let item = takeReady() { return item }
        return try getSlow(block: block, timeout: timeout)
    }

    /// Takes the first item if one is free, lock held: returns it with the lock released, or
    /// `nil` with the lock still held.
    @inlinable @inline(__always)
    func takeReady() -> Element? {
        guard _fastPath(ring.count > reserved) else { return nil }
        let item = ring.removeFirst()
        countHint.store(ring.count, ordering: .relaxed)
        unlock()
        return item
    }

    /// Removes and returns the first item without waiting (Python's `get_nowait`).
    ///
    /// - Throws: `ThreadingError.Kind.empty` when the queue is empty.
    @inlinable
    public func getNowait() throws -> Element {
        try get(block: false)
    }

    /// The number of items in the queue (Python's `qsize()`); it may change as soon as it returns.
    public func qsize() -> Int {
        lock()
        defer { unlock() }
        return ring.count
    }

    /// Whether the queue holds no item (Python's `empty()`); it may change as soon as it returns.
    public var isEmpty: Bool {
        qsize() == 0
    }

    /// Checks a blocking call's timeout as CPython's `SimpleQueue.get` does, before anything else.
    /// (Untyped, so that the inlined `get` only passes the error on, without boxing it itself.)
    @usableFromInline
    static func check(timeout t: Double) throws {
        if t.isNaN { throw ThreadingError.nanTimeout }
        if !(t.magnitude <= timeoutMax) { throw ThreadingError.timeoutTooLarge }
        if t < 0 { throw ThreadingError.queueNegativeTimeout }
    }

    /// Waits for an item; called with the lock held and no unreserved item. Returns with the lock
    /// released.
    @usableFromInline
    func getSlow(block: Bool, timeout: Double?) throws(ThreadingError) -> Element {
        guard block, timeout != 0 else {
            unlock()
            throw .queueEmpty
        }
        // An item often comes soon: watch for it a little, lock released, before paying for a
        // sleep and a wake-up (`Backoff`).
        var watch = backoff
        unlock()
        watch.watch { countHint.load(ordering: .relaxed) == 0 }
        lock()
        backoff = watch
        if ring.count > reserved {
            let item = ring.removeFirst()
            countHint.store(ring.count, ordering: .relaxed)
            unlock()
            return item
        }
        let deadline = timeout.map { Deadline.after(seconds: $0) } ?? .never
        waitingGetters += 1
        let result = ParkingLot.park(key: key, deadline: deadline, validate: { true }, beforeSleep: { unlock() })
        lock()
        switch result {
        case .unparked:
            // A `put` reserved an item for this thread.
            reserved -= 1
        case .timedOut, .invalid:
            waitingGetters -= 1
            guard ring.count > reserved else {
                unlock()
                throw .queueEmpty
            }
        }
        let item = ring.removeFirst()
        countHint.store(ring.count, ordering: .relaxed)
        unlock()
        return item
    }

    /// Reserves the newest item for the longest-waiting getter, releases the lock and wakes the
    /// getter; called with the lock held (the lock is taken before the parking lot's, by waiters
    /// and wakers alike). The getter is woken after the release, so that it finds the lock free:
    /// one wake-up, no wait for the lock.
    @usableFromInline
    func unlockHandingOff() {
        var handed = false
        let dequeued = ParkingLot.dequeue(key: key) { _ in
            guard !handed else { return nil }
            handed = true
            waitingGetters -= 1
            reserved += 1
            return 1
        }
        unlock()
        ParkingLot.wake(dequeued)
    }

    @usableFromInline
    var key: UnsafeRawPointer {
        UnsafeRawPointer(Unmanaged.passUnretained(self).toOpaque())
    }

    @inlinable @inline(__always)
    func lock() {
        if !FencelessLock.tryLock(word) { lockContended() }
    }

    /// Takes the lock after a failed `tryLock`, waiting as long as it takes.
    @inlinable @inline(__always)
    func lockContended() {
        FencelessLock.lockContended(address(of: word), sleepers: address(of: sleepers), fenced: fenced)
    }

    @inlinable @inline(__always)
    func unlock() {
        if FencelessLock.unlock(word, sleepers: sleepers, fenced: fenced) { FencelessLock.wake(address(of: word)) }
    }
}
