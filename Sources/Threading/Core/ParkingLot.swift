import Synchronization

/// The waiting core: threads park on an address and are unparked first come, first served.
///
/// A fixed table of buckets, each a `RawLock` and an intrusive FIFO list of the threads waiting on
/// the addresses that hash to it (the design of WebKit's `WTF::ParkingLot`, Rust's `parking_lot`
/// and CPython's `Python/parking_lot.c`). A primitive parks on its own address after checking,
/// under the bucket lock, that it still has to wait; a waker dequeues exactly the threads it
/// decides to wake, hands each a token, and wakes it on its own futex word. So a primitive is a
/// few words of state, no wake-up is ever lost, none is spurious, and waiters are served in order.
///
/// Each parked thread's wait node lives on its own stack for the duration of `park`.
///
/// ## Threads and tasks in one line
///
/// A task is the second kind of waiter (`parkTask`, in `ParkingLot+Tasks.swift`): its wait node
/// lives on the heap, since a task's stack does not survive a suspension, and holds the task's
/// continuation where a thread's holds its futex word. Both kinds share each key's queue, so every
/// primitive serves parked threads and suspended tasks first come, first served; `unpark` resumes
/// a task's continuation (after the bucket lock is released) where it sets a thread's word. A
/// task's timed wait is expired by one timer thread (`TaskTimer`), and a task cancelled while in
/// line leaves it exactly as a timed-out thread does: a waiter already dequeued by a waker keeps
/// the wake-up that is owed to it.
///
/// How a primitive adds an `async` twin of a wait:
/// 1. Try its lock-free fast path first; a call that can complete at once does, cancelled or not.
/// 2. Call `ParkingLot.parkTask(key:deadline:validate:undo:)` with the same `key` and the same
///    `validate` as its blocking `park`; `undo` takes back what `validate` announced (a waiter
///    count, a "has waiters" state). Unlike `park`'s `timedOut`, `undo` runs after the task has
///    left the line (under the bucket lock again), so a waker may meanwhile find the announced
///    waiter gone: wakers must already tolerate that (`unpark` simply finds no one).
/// 3. Map the result: `.unparked(token:)` as for a thread; `.timedOut` as for a thread;
///    `.cancelled` throws `CancellationError`; `.invalid` means `validate` declined to queue.
/// 4. Its wakers need no change: `unpark` serves both kinds in arrival order.
@usableFromInline
enum ParkingLot {
    /// How a call to `park` ended.
    @usableFromInline
    enum ParkResult {
        /// `validate` said not to park.
        case invalid
        /// The deadline passed before any thread unparked this one (`timedOut` has run).
        case timedOut
        /// Another thread unparked this one, passing `token`.
        case unparked(token: UInt)
    }

    /// Parks the calling thread on `key` until unparked or until `deadline`.
    ///
    /// - Parameters:
    ///   - key: The address to wait on, usually the waiting primitive's own.
    ///   - deadline: When to give up.
    ///   - validate: Runs under the bucket lock before the thread is queued; returns whether to
    ///     park. Wakers run under the same lock, so no wake-up can slip between check and sleep.
    ///   - beforeSleep: Runs after the thread is queued, outside the bucket lock, before it sleeps
    ///     (a condition variable releases its lock here).
    ///   - timedOut: Runs under the bucket lock when the wait times out and the thread has been
    ///     taken off the queue; its argument says whether other threads still wait on `key`.
    @usableFromInline
    static func park(
        key: UnsafeRawPointer,
        deadline: Deadline,
        validate: () -> Bool,
        beforeSleep: () -> Void = {},
        timedOut: (_ othersWaiting: Bool) -> Void = { _ in }
    ) -> ParkResult {
        withUnsafeTemporaryAllocation(of: WaitNode.self, capacity: 1) { buffer in
            let node = buffer.baseAddress!
            node.initialize(to: WaitNode(key: key))
            defer { node.deinitialize(count: 1) }
            let bucket = Buckets.bucket(for: key)

            Buckets.lock(bucket)
            guard validate() else {
                Buckets.unlock(bucket)
                return .invalid
            }
            bucket.queue.pointee.append(node)
            Buckets.unlock(bucket)

            beforeSleep()

            let state = address(of: node.pointee.state)
            var deadline = deadline
            while true {
                var current = state.pointee.load(ordering: .acquiring)
                if current == WaitNode.unparked { break }
                if current == WaitNode.moving {
                    // Moved to the lock word and back here before the mover finished (a signal,
                    // or a stale wake-up of an earlier wait): say that this thread sleeps on its
                    // own word again, so that the mover wakes it here.
                    guard
                        state.pointee.compareExchange(
                            expected: WaitNode.moving,
                            desired: WaitNode.parkedAgain,
                            ordering: .relaxed
                        ).exchanged
                    else { continue }
                    current = WaitNode.parkedAgain
                }
                if Platform.futexWait(state, expected: current, deadline: deadline) == .timedOut {
                    Buckets.lock(bucket)
                    if node.pointee.isQueued {
                        bucket.queue.pointee.remove(node)
                        timedOut(bucket.queue.pointee.hasWaiter(on: key))
                        Buckets.unlock(bucket)
                        return .timedOut
                    }
                    Buckets.unlock(bucket)
                    // A waker has dequeued this thread and is about to set its word: the wake-up
                    // is in flight and is owed to us, so wait for it without a deadline.
                    deadline = .never
                }
            }
            return .unparked(token: node.pointee.token)
        }
    }

    /// The bit added to the token of a thread that `unpark(key:requeueingOnto:_:)` moved onto a
    /// lock's queue: it has slept on the lock word and must take the lock as a woken sleeper does.
    @usableFromInline
    static let requeued: UInt = 1 << (UInt.bitWidth - 1)

    /// Unparks threads waiting on `key`, oldest first, for as long as `decide` hands out tokens.
    ///
    /// `decide` runs under the bucket lock once per waiter, with whether more threads wait on
    /// `key` after this one; it returns the token to wake that waiter with, or `nil` to stop.
    /// Returns the number of threads unparked.
    ///
    /// With `lockWord` (the futex word of a `RawLock` that the woken threads will take next), a
    /// thread asleep in the kernel is not woken but moved to sleep on the lock word
    /// (`FUTEX_CMP_REQUEUE`): the lock's release wakes it, so a condition variable's notified
    /// waiter does not wake only to block at once on the lock its notifier holds ("wait
    /// morphing"). Such a thread gets its token with `requeued` added.
    @usableFromInline
    @discardableResult
    static func unpark(
        key: UnsafeRawPointer,
        requeueingOnto lockWord: UnsafePointer<Atomic<UInt32>>? = nil,
        _ decide: (_ moreWaiting: Bool) -> UInt?
    ) -> Int {
        let dequeued = dequeue(key: key, decide)
        wake(dequeued, requeueingOnto: lockWord)
        return dequeued.count
    }

    /// Waiters taken off their queue by `dequeue(key:_:)`, oldest first, each with its token, not
    /// woken yet: `wake(_:requeueingOnto:)` wakes them.
    @usableFromInline
    struct Dequeued {
        /// The oldest, linked to the next through `next`.
        var first: UnsafeMutablePointer<WaitNode>?
        /// How many.
        @usableFromInline var count: Int
    }

    /// The first half of `unpark(key:requeueingOnto:_:)`: takes the waiters on `key` off the
    /// queue, oldest first, for as long as `decide` hands out tokens, without waking them.
    ///
    /// A primitive that decides under its own lock whom to serve calls this under that lock and
    /// `wake(_:requeueingOnto:)` once it has released it, so that the woken thread finds the lock
    /// free and no wake-up waits for a lock: one `FUTEX_WAKE` per waiter, where moving it onto
    /// the lock word costs a requeue and a wake. Every dequeued waiter must be passed to `wake`:
    /// until then it sleeps (its deadline passed, it waits for the wake-up that is owed to it).
    @usableFromInline
    static func dequeue(key: UnsafeRawPointer, _ decide: (_ moreWaiting: Bool) -> UInt?) -> Dequeued {
        let bucket = Buckets.bucket(for: key)
        var woken: UnsafeMutablePointer<WaitNode>? = nil
        var count = 0

        Buckets.lock(bucket)
        var candidate = bucket.queue.pointee.first(on: key, from: bucket.queue.pointee.head)
        while let node = candidate {
            let following = bucket.queue.pointee.first(on: key, from: node.pointee.next)
            guard let token = decide(following != nil) else { break }
            bucket.queue.pointee.remove(node)
            node.pointee.token = token
            node.pointee.next = woken
            woken = node
            count += 1
            candidate = following
        }
        Buckets.unlock(bucket)
        return Dequeued(first: reversed(woken), count: count)
    }

    /// The second half of `unpark(key:requeueingOnto:_:)`: wakes the waiters `dequeue(key:_:)`
    /// took off their queue, in that order.
    ///
    /// With `lockWord` (the futex word of a `RawLock` that the woken threads will take next,
    /// held by the caller), a thread asleep in the kernel is not woken but moved to sleep on the
    /// lock word (`FUTEX_CMP_REQUEUE`), and gets its token with `requeued` added.
    @usableFromInline
    static func wake(_ dequeued: Dequeued, requeueingOnto lockWord: UnsafePointer<Atomic<UInt32>>? = nil) {
        // Wake in the order dequeued. Read `next` before the store: once the state says
        // "unparked", the waiter may return and its stack (the node) is gone. The futex wake on a
        // gone node can at worst wake some other futex user spuriously, which futex users allow.
        var woken = dequeued.first
        while let node = woken {
            woken = node.pointee.next
            if let continuation = node.pointee.continuation {
                // A task: resumed outside the bucket lock; its node is its own from here on.
                continuation.resume(returning: .unparked(token: node.pointee.token))
                continue
            }
            let state = address(of: node.pointee.state)
            // The word still says `parked` until this thread changes it, so the waiter cannot
            // leave and its node is alive during the requeue. The token is written first: once
            // moved, the waiter may run (woken from the lock word) and touch its node while this
            // thread finishes, and it reads the token only after the release below.
            if let lockWord {
                node.pointee.token |= requeued
                // The move is announced in the word before it is made: the kernel puts a moved
                // sleeper that wakes for any other reason (a signal, a stale wake-up of an earlier
                // wait) back to sleep on its own word if that word still holds the value it slept
                // on, where the wake-up below would never come. Announced, the word no longer
                // matches, so such a sleeper returns, sees `moving`, and waits as `parkedAgain`.
                if state.pointee.compareExchange(
                    expected: WaitNode.parked,
                    desired: WaitNode.moving,
                    ordering: .relaxed
                ).exchanged && Platform.futexRequeue(state, expected: WaitNode.moving, to: lockWord) {
                    #if DEBUG
                    TestHooks.afterMove(onto: lockWord)
                    #endif
                    RawLock.ensureWakeUp(lockWord)
                    // Woken from the lock word before this store, the waiter sleeps again on its
                    // own word, as `parkedAgain`, and is woken there.
                    if state.pointee.exchange(WaitNode.unparked, ordering: .releasing) == WaitNode.parkedAgain {
                        Platform.futexWake(state, count: 1)
                    }
                    continue
                }
                // Not asleep on its word, so not moved: woken there, it takes the lock as usual.
                node.pointee.token &= ~requeued
            }
            state.pointee.store(WaitNode.unparked, ordering: .releasing)
            Platform.futexWake(state, count: 1)
        }
    }

    /// Unparks every thread waiting on `key` with `token`; returns how many.
    @usableFromInline
    @discardableResult
    static func unparkAll(key: UnsafeRawPointer, token: UInt = 0) -> Int {
        unpark(key: key) { _ in token }
    }

    private static func reversed(_ list: UnsafeMutablePointer<WaitNode>?) -> UnsafeMutablePointer<WaitNode>? {
        var list = list
        var result: UnsafeMutablePointer<WaitNode>? = nil
        while let node = list {
            list = node.pointee.next
            node.pointee.next = result
            result = node
        }
        return result
    }
}

#if DEBUG
/// Tests only: a pause in `ParkingLot.unpark(key:requeueingOnto:_:)` between moving a thread onto
/// a lock's word and telling it so, where a test can interrupt the moved thread.
enum TestHooks {
    /// The lock word whose moves run `afterMoveBody`; 0 for none. Set after the body.
    static let afterMoveTarget = Atomic<UInt>(0)
    // Written only while `afterMoveTarget` is 0, read only after it was seen set.
    nonisolated(unsafe) static var afterMoveBody: (@Sendable () -> Void)? = nil

    static func afterMove(onto lockWord: UnsafePointer<Atomic<UInt32>>) {
        if afterMoveTarget.load(ordering: .acquiring) == UInt(bitPattern: lockWord) { afterMoveBody?() }
    }
}
#endif

/// A waiter: a parked thread (its futex word) or a suspended task (its continuation), its key, its
/// links in the bucket's queue and the token its waker leaves. All but `state` and `references`
/// change only under the bucket lock; `heapIndex` only under the task timer's lock.
@usableFromInline
struct WaitNode: ~Copyable {
    static let parked: UInt32 = 0
    static let unparked: UInt32 = 1
    /// Still parked, asleep on its own word again after a waker announced a move to a lock's
    /// word (`moving`): the waker must wake it here.
    static let parkedAgain: UInt32 = 2
    /// Being moved by a waker onto a lock's word (`unpark(key:requeueingOnto:_:)`): no longer the
    /// value the thread went to sleep on, so a sleep that the kernel restarts on this word ends.
    static let moving: UInt32 = 3

    let key: UnsafeRawPointer
    var next: UnsafeMutablePointer<WaitNode>? = nil
    var previous: UnsafeMutablePointer<WaitNode>? = nil
    var isQueued = false
    var token: UInt = 0
    /// A task's continuation, set when it joins the queue; `nil` for a thread.
    var continuation: UnsafeContinuation<TaskParkResult, Never>? = nil
    /// A task cancelled before it joined the queue: it must not join.
    var cancelledBeforeQueued = false
    /// A task's deadline on the monotonic clock, for the task timer.
    var deadline: Int64 = 0
    /// A task node's position in the task timer's heap, or -1.
    var heapIndex = -1
    /// Owners of a task's heap node: the task, and the task timer while the node is in its heap.
    let references = Atomic<Int>(1)
    /// The parked thread's futex word. Not the first field: a waker's write to the node's other
    /// fields is an access that begins at the node's address, which ThreadSanitizer would take
    /// for one to this atomic word that the woken thread may be using meanwhile.
    let state = Atomic<UInt32>(WaitNode.parked)

    init(key: UnsafeRawPointer) {
        self.key = key
    }
}

/// One slot of the parking lot: its lock word and its queue, kept in separate tables so that
/// changing the queue never touches the memory of the lock that other threads are spinning on.
struct Bucket {
    let lock: UnsafePointer<Atomic<UInt32>>
    let queue: UnsafeMutablePointer<WaitQueue>
}

/// A FIFO queue of wait nodes, changed only under its bucket's lock.
struct WaitQueue {
    var head: UnsafeMutablePointer<WaitNode>? = nil
    var tail: UnsafeMutablePointer<WaitNode>? = nil

    mutating func append(_ node: UnsafeMutablePointer<WaitNode>) {
        node.pointee.previous = tail
        node.pointee.next = nil
        node.pointee.isQueued = true
        if let tail { tail.pointee.next = node } else { head = node }
        tail = node
    }

    mutating func remove(_ node: UnsafeMutablePointer<WaitNode>) {
        let previous = node.pointee.previous
        let next = node.pointee.next
        if let previous { previous.pointee.next = next } else { head = next }
        if let next { next.pointee.previous = previous } else { tail = previous }
        node.pointee.previous = nil
        node.pointee.next = nil
        node.pointee.isQueued = false
    }

    func first(on key: UnsafeRawPointer, from start: UnsafeMutablePointer<WaitNode>?) -> UnsafeMutablePointer<WaitNode>?
    {
        var node = start
        while let current = node, current.pointee.key != key { node = current.pointee.next }
        return node
    }

    func hasWaiter(on key: UnsafeRawPointer) -> Bool {
        first(on: key, from: head) != nil
    }
}

/// The tables of buckets, allocated once for the life of the process.
enum Buckets {
    static let count = 256

    // Both tables are allocated once and never freed; a queue is written only under its lock.
    nonisolated(unsafe) static let locks: UnsafeMutablePointer<Atomic<UInt32>> = {
        let table = UnsafeMutablePointer<Atomic<UInt32>>.allocate(capacity: count)
        for i in 0..<count { (table + i).initialize(to: Atomic(RawLock.unlocked)) }
        return table
    }()
    nonisolated(unsafe) static let queues: UnsafeMutablePointer<WaitQueue> = {
        let table = UnsafeMutablePointer<WaitQueue>.allocate(capacity: count)
        table.initialize(repeating: WaitQueue(), count: count)
        return table
    }()

    static func bucket(for key: UnsafeRawPointer) -> Bucket {
        // Fibonacci hashing of the address, without its always-zero low bits.
        let hash = (UInt(bitPattern: key) >> 3) &* 0x9E37_79B9_7F4A_7C15
        let index = Int(hash >> (UInt.bitWidth - 8))
        return Bucket(lock: UnsafePointer(locks + index), queue: queues + index)
    }

    static func lock(_ bucket: Bucket) {
        RawLock.lock(bucket.lock)
    }

    static func unlock(_ bucket: Bucket) {
        RawLock.unlock(bucket.lock)
    }
}
