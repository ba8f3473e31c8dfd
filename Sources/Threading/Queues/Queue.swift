import Synchronization

/// A first-in, first-out queue for handing work between threads, Python's `queue.Queue`, with
/// Python 3.13's semantics: an optional bound, task tracking (`taskDone()`/`join()`) and a
/// two-mode `shutdown(immediate:)`.
///
/// Blocked putters and blocked getters are each served first come, first served: a `put` hands
/// its item to the longest-waiting getter (no later `get` can take it first), and a `get` hands
/// the room it frees to the longest-waiting putter. The items live in one ring buffer that grows
/// by doubling and never shrinks, so in steady state `put` and `get` allocate nothing. Items are
/// moved in and out and released only after the queue's lock, so an item's `deinit` may use the
/// queue.
///
/// ```swift
/// let jobs = Queue<Int>(maxsize: 64)
/// let worker = Thread {
///     while let job = try? jobs.get() {
///         print(job)
///         try? jobs.taskDone()
///     }
/// }
/// try worker.start()
/// for n in 0..<10 { try jobs.put(n) }
/// jobs.join()          // every job was done
/// jobs.shutdown()      // the worker's next get() throws .shutDown
/// ```
///
/// Python's storage hooks (`_init`, `_qsize`, `_put`, `_get`) are not part of this type: the
/// order is fixed by the class (`Queue`, `LifoQueue`, `PriorityQueue`), storage cannot fail, and
/// so the states CPython's `FailingQueueTest` guards against (an exception from a hook, or from
/// `heappush` on incomparable items) cannot arise. Subclasses may add behaviour around the public
/// methods.
open class Queue<Element: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: every `var` is read and written only with `word` locked.

    /// How the items are ordered.
    @usableFromInline
    enum Order {
        case fifo
        case lifo
        case priority((Element, Element) -> Bool)
    }

    /// The token a waker hands a waiter it has served (an item or room reserved for it).
    @usableFromInline static var served: UInt { 1 }
    /// The token a shutdown hands every waiter.
    @usableFromInline static var woken: UInt { 2 }

    /// The queue's lock (a `FencelessLock` word). Waiters take it before the parking lot's bucket
    /// lock.
    @usableFromInline final let word = Atomic<UInt32>(FencelessLock.unlocked)
    /// The threads registered to sleep on `word` (the `FencelessLock`'s other word).
    @usableFromInline final let sleepers = Atomic<UInt32>(0)
    /// Whether releasing `word` makes a full fence (`FencelessLock.fenced`).
    @usableFromInline final let fenced = FencelessLock.fenced
    @usableFromInline final let order: Order
    @usableFromInline @exclusivity(unchecked) final var ring: Ring<Element>
    @usableFromInline @exclusivity(unchecked) final var bound: Int
    @usableFromInline @exclusivity(unchecked) final var unfinished = 0
    @usableFromInline @exclusivity(unchecked) final var shutDown = false
    /// Getters parked that no `put` has served yet.
    @usableFromInline @exclusivity(unchecked) final var waitingGetters = 0
    /// Items reserved for served getters that have not taken them yet.
    @usableFromInline @exclusivity(unchecked) final var reservedItems = 0
    /// Putters parked that no `get` has served yet.
    @usableFromInline @exclusivity(unchecked) final var waitingPutters = 0
    /// Room reserved for served putters that have not used it yet.
    @usableFromInline @exclusivity(unchecked) final var reservedRoom = 0
    /// `ring.count`, published after each change for waiters that spin before they park.
    @usableFromInline final let countHint = Atomic<Int>(0)
    /// How long a blocked thread watches `countHint` before it parks.
    @usableFromInline @exclusivity(unchecked) final var backoff = Backoff()
    /// Threads parked in `join()`.
    @usableFromInline @exclusivity(unchecked) final var waitingJoiners = 0

    /// Creates a queue holding at most `maxsize` items; zero or negative means no bound.
    ///
    /// - Parameters:
    ///   - maxsize: The bound; `put` waits while the queue holds this many items.
    public init(maxsize: Int = 0) {
        order = .fifo
        bound = maxsize
        ring = Ring(capacity: maxsize > 0 ? min(maxsize, 1024) : 16)
    }

    @usableFromInline
    init(maxsize: Int, order: Order) {
        self.order = order
        bound = maxsize
        ring = Ring(capacity: maxsize > 0 ? min(maxsize, 1024) : 16)
    }

    deinit {
        ring.destroy()
    }

    // MARK: - Size

    /// The bound: `put` waits while the queue holds this many items; zero or negative means no
    /// bound. A new value holds from the next `put`; a larger one also lets blocked putters in.
    public var maxsize: Int {
        get {
            lock()
            defer { unlock() }
            return bound
        }
        set {
            lock()
            bound = newValue
            if waitingPutters > 0 { unlockServingPutters() } else { unlock() }
        }
    }

    /// The number of items in the queue (Python's `qsize()`); it may change as soon as it returns.
    public func qsize() -> Int {
        lock()
        defer { unlock() }
        return ring.count
    }

    /// Whether the queue holds no item (Python's `empty()`).
    public var isEmpty: Bool {
        qsize() == 0
    }

    /// Whether the queue holds `maxsize` items or more (Python's `full()`); always `false`
    /// without a bound.
    public var isFull: Bool {
        lock()
        defer { unlock() }
        return bound > 0 && ring.count >= bound
    }

    /// The number of items put that have not had their `taskDone()` yet.
    public var unfinishedTasks: Int {
        lock()
        defer { unlock() }
        return unfinished
    }

    /// Whether `shutdown(immediate:)` was called.
    public var isShutdown: Bool {
        lock()
        defer { unlock() }
        return shutDown
    }

    // MARK: - Put

    /// Adds `item` to the queue, waiting for room if it is bounded and full.
    ///
    /// - Parameters:
    ///   - item: The item to add; it counts as an unfinished task until its `taskDone()`.
    ///   - block: When `false`, does not wait (the timeout is then ignored, as in CPython).
    ///   - timeout: The longest wait, in seconds; `nil` waits without limit, `0` does not wait.
    /// - Throws: `ThreadingError.Kind.shutDown` when the queue is shut down, or is shut down while
    ///   this call waits; `.full` when there is no room and the call was not to wait or its
    ///   timeout passed. On a bounded queue a blocking call with a negative timeout throws
    ///   `.valueError` ("'timeout' must be a non-negative number") even when there is room (an
    ///   unbounded queue never looks at the timeout, as in CPython); NaN throws `.valueError` and
    ///   more than `timeoutMax` `.overflowError`, when the call would wait.
    /// - Complexity: Amortized O(1) (O(log n) for a `PriorityQueue`).
    @inlinable
    public final func put(_ item: Element, block: Bool = true, timeout: Double? = nil) throws {
        // The common case inline and without a call (a few instructions around the lock's two
        // atomic operations); the rest is in `putLocked`.
        guard _fastPath(FencelessLock.tryLock(word)) else {
            return try putContended(item, block: block, timeout: timeout)
        }
        guard _fastPath(canPutAtOnce(block: block, timeout: timeout)) else {
            return try putLocked(item, block: block, timeout: timeout)
        }
        ring.appendWithinCapacity(item)
        countHint.store(ring.count, ordering: .relaxed)
        unfinished &+= 1
        unlock()
    }

    /// Whether a `put` can add its item at once, lock held, in order and without a wait or a
    /// growth of the ring: a FIFO or LIFO queue, not shut down, without parked getters to serve,
    /// with room, and no negative timeout to refuse on a bounded queue.
    @inlinable @inline(__always)
    final func canPutAtOnce(block: Bool, timeout: Double?) -> Bool {
        if case .priority = order { return false }
        guard !shutDown && waitingGetters == 0 && ring.count < ring.capacity else { return false }
        guard bound > 0 else { return true }
        return ring.count &+ reservedRoom < bound && !(block && (timeout ?? 0) < 0)
    }

    /// `put` when the lock was taken: takes it, waiting, then goes on as `putLocked`.
    @inlinable @inline(never)
    final func putContended(_ item: Element, block: Bool, timeout: Double?) throws {
        lockContended()
        try putLocked(item, block: block, timeout: timeout)
    }

    /// `put` with the lock held, every case: checks, waits for room, adds the item, serves a
    /// parked getter, and releases the lock.
    @inlinable @inline(never)
    final func putLocked(_ item: Element, block: Bool, timeout: Double?) throws {
        if try startPut(block: block, timeout: timeout) { try waitForRoom(block: block, timeout: timeout) }
        push(item)
        unfinished += 1
        if _slowPath(waitingGetters > 0) { unlockServingGetter() } else { unlock() }
    }

    /// A putter's first checks, in CPython's order, lock held; throws with the lock released.
    /// Returns whether the putter must wait for room.
    @inlinable @inline(__always)
    final func startPut(block: Bool, timeout: Double?) throws(ThreadingError) -> Bool {
        if _slowPath(shutDown) {
            unlock()
            throw .queueShutDown
        }
        guard bound > 0 else { return false }
        if block, let t = timeout, t < 0 {
            unlock()
            throw .queueNegativeTimeout
        }
        return ring.count + reservedRoom >= bound
    }

    /// Adds `item` without waiting (Python's `put_nowait`).
    ///
    /// - Throws: `ThreadingError.Kind.full` when the queue is full; `.shutDown` when it is shut
    ///   down.
    @inlinable
    public final func putNowait(_ item: Element) throws {
        try put(item, block: false)
    }

    /// Waits until room is reserved for this putter; called with the lock held on a full queue.
    /// Returns with the lock held and room for one item, or throws with the lock released.
    @usableFromInline
    final func waitForRoom(block: Bool, timeout: Double?) throws {
        if block && timeout != 0 {
            let full = bound
            // A served getter that has not taken its item yet is coming, and frees room then.
            spinBeforeParking(peerComing: reservedItems > 0) { $0 >= full }
            if shutDown {
                unlock()
                throw ThreadingError.queueShutDown
            }
            if bound <= 0 || ring.count + reservedRoom < bound { return }
        }
        let deadline = try startWaitForRoom(block: block, timeout: timeout)
        waitingPutters += 1
        let result = ParkingLot.park(key: putterKey, deadline: deadline, validate: { true }, beforeSleep: { unlock() })
        lock()
        try finishWaitForRoom(WaitOutcome(result))
    }

    /// The deadline of a putter about to wait, or the error it ends with (the lock then released).
    final func startWaitForRoom(block: Bool, timeout: Double?) throws(ThreadingError) -> Deadline {
        try deadlineToWait(block: block, timeout: timeout, orElse: .queueFull)
    }

    /// The deadline of a call about to wait, lock held; when it is not to wait (not blocking, or
    /// a zero or negative timeout) or `timeout` is unusable, releases the lock and throws
    /// `failure` or the timeout's error.
    final func deadlineToWait(
        block: Bool,
        timeout: Double?,
        orElse failure: ThreadingError
    ) throws(ThreadingError) -> Deadline {
        let limit: WaitLimit
        do throws(ThreadingError) {
            guard block else { throw failure }
            limit = try WaitLimit.forWait(timeout)
        } catch {
            unlock()
            throw error
        }
        guard case .until(let deadline) = limit else {
            unlock()
            throw failure
        }
        return deadline
    }

    /// Settles a putter's wait, lock held: returns with room for the item, or throws with the lock
    /// released.
    final func finishWaitForRoom(_ outcome: WaitOutcome) throws {
        switch outcome {
        case .served:
            reservedRoom -= 1
            if shutDown {
                unlock()
                throw ThreadingError.queueShutDown
            }
        case .woken:
            unlock()
            throw ThreadingError.queueShutDown
        case .cancelled:
            waitingPutters -= 1
            unlock()
            throw CancellationError()
        case .timedOut:
            waitingPutters -= 1
            if shutDown {
                unlock()
                throw ThreadingError.queueShutDown
            }
            guard bound <= 0 || ring.count + reservedRoom < bound else {
                unlock()
                throw ThreadingError.queueFull
            }
        }
    }

    // MARK: - Get

    /// Removes and returns the next item (the oldest, the newest for a `LifoQueue`, the smallest
    /// for a `PriorityQueue`), waiting for one if the queue is empty.
    ///
    /// - Parameters:
    ///   - block: When `false`, does not wait (the timeout is then ignored, as in CPython).
    ///   - timeout: The longest wait, in seconds; `nil` waits without limit, `0` does not wait.
    /// - Returns: The item.
    /// - Throws: `ThreadingError.Kind.shutDown` when the queue is shut down and empty (at once
    ///   after `shutdown(immediate: true)`), also for a call waiting when that happens; `.empty`
    ///   when there is no item and the call was not to wait or its timeout passed;
    ///   `.valueError` ("'timeout' must be a non-negative number") for a blocking call with a
    ///   negative timeout, even when an item is ready (as in CPython); NaN throws `.valueError`
    ///   and more than `timeoutMax` `.overflowError`, when the call would wait.
    /// - Complexity: O(1) (O(log n) for a `PriorityQueue`).
    @inlinable
    public final func get(block: Bool = true, timeout: Double? = nil) throws -> Element {
        // The common case inline and without a call (a few instructions around the lock's two
        // atomic operations); the rest is in `getLocked`.
        guard _fastPath(FencelessLock.tryLock(word)) else { return try getContended(block: block, timeout: timeout) }
        guard _fastPath(ring.count > reservedItems && waitingPutters == 0 && !(block && (timeout ?? 0) < 0)) else {
            return try getLocked(block: block, timeout: timeout)
        }
        let item: Element
        switch order {
        case .fifo: item = ring.removeFirst()
        case .lifo: item = ring.removeLast()
        case .priority: return try getLocked(block: block, timeout: timeout)
        }
        countHint.store(ring.count, ordering: .relaxed)
        unlock()
        return item
    }

    /// `get` when the lock was taken: takes it, waiting, then goes on as `getLocked`.
    @inlinable @inline(never)
    final func getContended(block: Bool, timeout: Double?) throws -> Element {
        lockContended()
        return try getLocked(block: block, timeout: timeout)
    }

    /// `get` with the lock held, every case: checks, waits for an item, takes it, serves parked
    /// putters, and releases the lock.
    @inlinable @inline(never)
    final func getLocked(block: Bool, timeout: Double?) throws -> Element {
        try startGet(block: block, timeout: timeout)
        if _slowPath(ring.count <= reservedItems) { try waitForItem(block: block, timeout: timeout) }
        let item = pop()
        if _slowPath(waitingPutters > 0) { unlockServingPutters() } else { unlock() }
        return item
    }

    /// A getter's first checks, in CPython's order, lock held; throws with the lock released.
    @inlinable @inline(__always)
    final func startGet(block: Bool, timeout: Double?) throws(ThreadingError) {
        if _slowPath(shutDown && ring.count == 0) {
            unlock()
            throw .queueShutDown
        }
        if block, let t = timeout, t < 0 {
            unlock()
            throw .queueNegativeTimeout
        }
    }

    /// Removes and returns the next item without waiting (Python's `get_nowait`).
    ///
    /// - Throws: `ThreadingError.Kind.empty` when the queue is empty; `.shutDown` when it is
    ///   shut down and empty.
    @inlinable
    public final func getNowait() throws -> Element {
        try get(block: false)
    }

    /// Waits until an item is reserved for this getter; called with the lock held and no item
    /// free. Returns with the lock held and an item to take, or throws with the lock released.
    @usableFromInline
    final func waitForItem(block: Bool, timeout: Double?) throws {
        if block && timeout != 0 && !shutDown {
            // A served putter that has not added its item yet is coming with one.
            spinBeforeParking(peerComing: reservedRoom > 0) { $0 == 0 }
            if ring.count > reservedItems { return }
        }
        let deadline = try startWaitForItem(block: block, timeout: timeout)
        waitingGetters += 1
        let result = ParkingLot.park(key: getterKey, deadline: deadline, validate: { true }, beforeSleep: { unlock() })
        lock()
        try finishWaitForItem(WaitOutcome(result))
    }

    /// The deadline of a getter about to wait, or the error it ends with (the lock then released).
    final func startWaitForItem(block: Bool, timeout: Double?) throws(ThreadingError) -> Deadline {
        // Every item left is owed to a served getter: after a shutdown there is none for this one.
        if shutDown {
            unlock()
            throw .queueShutDown
        }
        return try deadlineToWait(block: block, timeout: timeout, orElse: .queueEmpty)
    }

    /// Settles a getter's wait, lock held: returns with an item to take, or throws with the lock
    /// released.
    final func finishWaitForItem(_ outcome: WaitOutcome) throws {
        switch outcome {
        case .served:
            // The item is this getter's, unless an immediate shutdown dropped every item since.
            if ring.count == 0 {
                unlock()
                throw ThreadingError.queueShutDown
            }
            reservedItems -= 1
            return
        case .cancelled:
            waitingGetters -= 1
            unlock()
            throw CancellationError()
        case .timedOut:
            waitingGetters -= 1
        case .woken:
            break
        }
        guard ring.count > reservedItems else {
            let error: ThreadingError = shutDown ? .queueShutDown : .queueEmpty
            unlock()
            throw error
        }
    }

    // MARK: - Tasks

    /// Marks one item got earlier as done (Python's `task_done()`); when every item put has been
    /// marked, `join()` returns.
    ///
    /// - Throws: `ThreadingError.Kind.valueError` ("task_done() called too many times") when
    ///   there is no unfinished task; also after `shutdown(immediate: true)` dropped the items
    ///   that were left.
    public final func taskDone() throws {
        lock()
        guard unfinished > 0 else {
            unlock()
            throw ThreadingError.taskDoneTooManyTimes
        }
        unfinished -= 1
        if unfinished == 0 && waitingJoiners > 0 { wakeJoiners() }
        unlock()
    }

    /// Waits until every item put has had its `taskDone()`: until `unfinishedTasks` is 0.
    ///
    /// A shutdown does not end the wait by itself: an immediate one drops the items not yet got
    /// (each counts off `unfinishedTasks`), but the items already got still need their
    /// `taskDone()`.
    public final func join() {
        lock()
        while unfinished > 0 {
            waitingJoiners += 1
            _ = ParkingLot.park(key: joinerKey, deadline: .never, validate: { true }, beforeSleep: { unlock() })
            lock()
        }
        unlock()
    }

    // MARK: - Shutdown

    /// Shuts the queue down: every later `put` throws `.shutDown`, and `get` returns the items
    /// left, then throws `.shutDown` instead of waiting. Blocked putters, and blocked getters that
    /// no item is left for, are woken and throw `.shutDown`.
    ///
    /// - Parameters:
    ///   - immediate: Also drop the items left, so that every `get` throws `.shutDown` at once.
    ///     Each dropped item counts off `unfinishedTasks` (not below 0) without a `taskDone()`;
    ///     `join()` returns once `unfinishedTasks` is 0, that is when the items got earlier have
    ///     all had their `taskDone()`. The dropped items are released after the queue's lock.
    ///
    /// Shutting down again, in either mode, is allowed.
    public final func shutdown(immediate: Bool = false) {
        var dropped: [Element] = []
        lock()
        shutDown = true
        if immediate {
            dropped = ring.removeAll()
            countHint.store(0, ordering: .relaxed)
            unfinished = max(0, unfinished - dropped.count)
            reservedItems = 0
            if unfinished == 0 && waitingJoiners > 0 { wakeJoiners() }
        }
        if waitingGetters > 0 {
            ParkingLot.unpark(key: getterKey) { _ in
                waitingGetters -= 1
                return Queue.woken
            }
        }
        if waitingPutters > 0 {
            ParkingLot.unpark(key: putterKey) { _ in
                waitingPutters -= 1
                return Queue.woken
            }
        }
        unlock()
        withExtendedLifetime(dropped) {}
    }

    // MARK: - Internals

    @inlinable @inline(__always)
    final func push(_ item: Element) {
        switch order {
        case .fifo, .lifo: ring.append(item)
        case .priority(let less): ring.heapPush(item, by: less)
        }
        countHint.store(ring.count, ordering: .relaxed)
    }

    @inlinable @inline(__always)
    final func pop() -> Element {
        defer { countHint.store(ring.count, ordering: .relaxed) }
        switch order {
        case .fifo: return ring.removeFirst()
        case .lifo: return ring.removeLast()
        case .priority(let less): return ring.heapPop(by: less)
        }
    }

    /// Releases the lock while `stillWaiting(countHint)` holds, for a short while (`Backoff`),
    /// and takes it again; longer when `peerComing` (the other side was served and has not run).
    final func spinBeforeParking(peerComing: Bool, _ stillWaiting: (Int) -> Bool) {
        var watch = backoff
        unlock()
        watch.watch(peerComing: peerComing) { stillWaiting(countHint.load(ordering: .relaxed)) }
        lock()
        backoff = watch
    }

    /// Reserves an item for the longest-waiting getter, releases the lock and wakes the getter
    /// (after the release, so that it finds the lock free: one wake-up, no wait for the lock).
    @usableFromInline
    final func unlockServingGetter() {
        var served = false
        let dequeued = ParkingLot.dequeue(key: getterKey) { _ in
            guard !served else { return nil }
            served = true
            waitingGetters -= 1
            reservedItems += 1
            return Queue.served
        }
        unlock()
        ParkingLot.wake(dequeued)
    }

    /// Reserves the room there is for the longest-waiting putters, releases the lock and wakes
    /// them (after the release, so that they find the lock free).
    @usableFromInline
    final func unlockServingPutters() {
        let dequeued = ParkingLot.dequeue(key: putterKey) { _ in
            guard bound <= 0 || ring.count + reservedRoom < bound else { return nil }
            waitingPutters -= 1
            reservedRoom += 1
            return Queue.served
        }
        unlock()
        ParkingLot.wake(dequeued)
    }

    final func wakeJoiners() {
        ParkingLot.unpark(key: joinerKey) { _ in
            waitingJoiners -= 1
            return Queue.woken
        }
    }

    /// How a wait in the parking lot ended, for a thread or a task.
    enum WaitOutcome {
        /// A waker reserved an item or room for this waiter.
        case served
        /// A shutdown woke it.
        case woken
        case timedOut
        case cancelled

        init(_ result: ParkingLot.ParkResult) {
            switch result {
            case .unparked(let token): self = token == Queue.served ? .served : .woken
            case .timedOut, .invalid: self = .timedOut  // `validate` always queues: never `.invalid`
            }
        }

        init(_ result: TaskParkResult) {
            switch result {
            case .unparked(let token): self = token == Queue.served ? .served : .woken
            case .timedOut, .invalid: self = .timedOut
            case .cancelled: self = .cancelled
            }
        }
    }

    // Three distinct addresses inside this object, one line of waiters each.
    @usableFromInline final var getterKey: UnsafeRawPointer {
        UnsafeRawPointer(Unmanaged.passUnretained(self).toOpaque())
    }
    @usableFromInline final var putterKey: UnsafeRawPointer { getterKey + 1 }
    @usableFromInline final var joinerKey: UnsafeRawPointer { getterKey + 2 }

    @inlinable @inline(__always)
    final func lock() {
        if !FencelessLock.tryLock(word) { lockContended() }
    }

    /// Takes the lock after a failed `tryLock`, waiting as long as it takes.
    @inlinable @inline(__always)
    final func lockContended() {
        FencelessLock.lockContended(address(of: word), sleepers: address(of: sleepers), fenced: fenced)
    }

    @inlinable @inline(__always)
    final func unlock() {
        if FencelessLock.unlock(word, sleepers: sleepers, fenced: fenced) { FencelessLock.wake(address(of: word)) }
    }
}

/// A last-in, first-out queue, Python's `queue.LifoQueue`: `get` returns the newest item.
///
/// Everything else is `Queue`'s: bound, task tracking, shutdown, first-come-first-served waiters.
open class LifoQueue<Element: Sendable>: Queue<Element>, @unchecked Sendable {
    // @unchecked Sendable: adds no stored property to `Queue`.

    /// Creates a queue holding at most `maxsize` items; zero or negative means no bound.
    public override init(maxsize: Int = 0) {
        super.init(maxsize: maxsize, order: .lifo)
    }
}

/// A queue that returns its smallest item first, Python's `queue.PriorityQueue` (a binary heap;
/// among equal items the order is unspecified, as with `heapq`). Put `(priority, item)` pairs in
/// a small `Comparable` struct to order items by priority.
///
/// Everything else is `Queue`'s: bound, task tracking, shutdown, first-come-first-served waiters.
open class PriorityQueue<Element: Sendable & Comparable>: Queue<Element>, @unchecked Sendable {
    // @unchecked Sendable: adds no stored property to `Queue`.

    /// Creates a queue holding at most `maxsize` items; zero or negative means no bound.
    public override init(maxsize: Int = 0) {
        super.init(maxsize: maxsize, order: .priority(<))
    }
}
