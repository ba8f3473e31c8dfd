import Synchronization

extension Queue {
    /// Adds `item` to the queue, suspending the calling task (not blocking its thread) while a
    /// bounded queue is full: the `async` twin of `put(_:block:timeout:)`.
    ///
    /// Threads and tasks waiting on one queue are served in one first-come-first-served line.
    ///
    /// Cancel safety: a task cancelled while it waits for room leaves the line and throws
    /// `CancellationError` without adding the item; the room it would have had goes to the next
    /// putter. Room already handed to it when it is cancelled is used: the item is added and the
    /// call returns normally. A call that finds room at once adds the item even in a cancelled
    /// task.
    ///
    /// - Parameters:
    ///   - item: The item to add; it counts as an unfinished task until its `taskDone()`.
    ///   - block: When `false`, does not wait.
    ///   - timeout: The longest wait, in seconds; `nil` waits without limit, `0` does not wait.
    /// - Throws: `CancellationError` when the task is cancelled while it waits; otherwise as
    ///   `put(_:block:timeout:)`.
    @inlinable
    public nonisolated(nonsending) final func put(
        _ item: Element,
        block: Bool = true,
        timeout: Double? = nil
    ) async throws {
        // Specialized in the caller, with the wait out of line: most calls do not wait.
        lock()
        if try startPut(block: block, timeout: timeout) { try await suspendForRoom(block: block, timeout: timeout) }
        push(item)
        unfinished += 1
        if _slowPath(waitingGetters > 0) { unlockServingGetter() } else { unlock() }
    }

    /// Suspends the calling task until room is reserved for it; called with the lock held on a
    /// full queue. Returns with the lock held and room for one item, or throws with the lock
    /// released.
    @usableFromInline
    nonisolated(nonsending) final func suspendForRoom(block: Bool, timeout: Double?) async throws {
        let deadline = try startWaitForRoom(block: block, timeout: timeout)
        waitingPutters += 1
        let result = await ParkingLot.parkTask(key: putterKey, deadline: deadline) {
            unlock()  // under the bucket lock: no put or get can slip in before this task is in line
            return true
        }
        lock()
        try finishWaitForRoom(WaitOutcome(result))
    }

    /// Removes and returns the next item, suspending the calling task (not blocking its thread)
    /// while the queue is empty: the `async` twin of `get(block:timeout:)`.
    ///
    /// Threads and tasks waiting on one queue are served in one first-come-first-served line.
    ///
    /// Cancel safety: a task cancelled while it waits leaves the line and throws
    /// `CancellationError`; the item it would have had goes to the next getter, never lost. An
    /// item already handed to it when it is cancelled is returned normally. A call that finds an
    /// item at once takes it even in a cancelled task.
    ///
    /// - Parameters:
    ///   - block: When `false`, does not wait.
    ///   - timeout: The longest wait, in seconds; `nil` waits without limit, `0` does not wait.
    /// - Returns: The item.
    /// - Throws: `CancellationError` when the task is cancelled while it waits; otherwise as
    ///   `get(block:timeout:)`.
    @inlinable
    public nonisolated(nonsending) final func get(block: Bool = true, timeout: Double? = nil) async throws -> Element {
        // Specialized in the caller, with the wait out of line.
        lock()
        try startGet(block: block, timeout: timeout)
        if _slowPath(ring.count <= reservedItems) { try await suspendForItem(block: block, timeout: timeout) }
        let item = pop()
        if _slowPath(waitingPutters > 0) { unlockServingPutters() } else { unlock() }
        return item
    }

    /// Suspends the calling task until an item is reserved for it; called with the lock held and
    /// no item free. Returns with the lock held and an item to take, or throws with the lock
    /// released.
    @usableFromInline
    nonisolated(nonsending) final func suspendForItem(block: Bool, timeout: Double?) async throws {
        let deadline = try startWaitForItem(block: block, timeout: timeout)
        waitingGetters += 1
        let result = await ParkingLot.parkTask(key: getterKey, deadline: deadline) {
            unlock()  // under the bucket lock: no put can slip in before this task is in line
            return true
        }
        lock()
        try finishWaitForItem(WaitOutcome(result))
    }

    /// Waits, suspending the calling task, until every item put has had its `taskDone()`: the
    /// `async` twin of `join()`.
    ///
    /// Cancel safety: a cancelled task leaves the line and throws `CancellationError`; nothing
    /// else changes.
    ///
    /// - Throws: `CancellationError` only, when the task is cancelled while it waits.
    public nonisolated(nonsending) final func join() async throws {
        lock()
        while unfinished > 0 {
            waitingJoiners += 1
            let result = await ParkingLot.parkTask(key: joinerKey, deadline: .never) {
                unlock()
                return true
            }
            lock()
            if case .cancelled = result {
                waitingJoiners -= 1
                unlock()
                throw CancellationError()
            }
        }
        unlock()
    }
}

extension SimpleQueue {
    /// Removes and returns the first item, suspending the calling task (not blocking its thread)
    /// while the queue is empty: the `async` twin of `get(block:timeout:)`.
    ///
    /// Threads and tasks waiting on one queue are served in one first-come-first-served line.
    ///
    /// Cancel safety: a task cancelled while it waits leaves the line and throws
    /// `CancellationError`; the item it would have had goes to the next getter, never lost. An
    /// item already handed to it when it is cancelled is returned normally. A call that finds an
    /// item at once takes it even in a cancelled task.
    ///
    /// - Parameters:
    ///   - block: When `false`, does not wait.
    ///   - timeout: The longest wait, in seconds; `nil` waits without limit, `0` does not wait.
    /// - Returns: The first item.
    /// - Throws: `CancellationError` when the task is cancelled while it waits; otherwise as
    ///   `get(block:timeout:)`.
    @inlinable
    public nonisolated(nonsending) func get(block: Bool = true, timeout: Double? = nil) async throws -> Element {
        if _slowPath(block && timeout != nil) { try SimpleQueue.check(timeout: timeout!) }
        lock()
        if let item = takeReady() { return item }
        guard block, timeout != 0 else {
            unlock()
            throw ThreadingError.queueEmpty
        }
        let deadline = timeout.map { Deadline.after(seconds: $0) } ?? .never
        waitingGetters += 1
        let result = await ParkingLot.parkTask(key: key, deadline: deadline) {
            unlock()  // under the bucket lock: no put can slip in before this task is in line
            return true
        }
        lock()
        switch result {
        case .unparked:
            reserved -= 1
        case .cancelled:
            waitingGetters -= 1
            unlock()
            throw CancellationError()
        case .timedOut, .invalid:
            waitingGetters -= 1
            guard ring.count > reserved else {
                unlock()
                throw ThreadingError.queueEmpty
            }
        }
        let item = ring.removeFirst()
        countHint.store(ring.count, ordering: .relaxed)
        unlock()
        return item
    }
}
