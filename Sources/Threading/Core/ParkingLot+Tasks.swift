import Synchronization

/// How a task's wait in the parking lot ended.
@usableFromInline
enum TaskParkResult: Sendable {
    /// `validate` said not to queue.
    case invalid
    /// The deadline passed while the task was still in line.
    case timedOut
    /// The task was cancelled while in line (or before it could join it).
    case cancelled
    /// A waker dequeued the task, passing `token`.
    case unparked(token: UInt)
}

extension ParkingLot {
    /// Suspends the calling task on `key` until unparked, until `deadline`, or until cancelled.
    ///
    /// The task's wait node is allocated on the heap and joins the same first-come-first-served
    /// queue as threads parked on `key`. The continuation is resumed outside the bucket lock by
    /// whoever takes the node off the queue: a waker (`unpark`), the task timer, or the task's
    /// cancellation handler. A node already dequeued by a waker when the deadline passes or the
    /// task is cancelled keeps its wake-up: the result is then `.unparked`.
    ///
    /// - Parameters:
    ///   - key: The address to wait on, usually the waiting primitive's own.
    ///   - deadline: When to give up.
    ///   - validate: Runs under the bucket lock before the task is queued; returns whether to
    ///     queue. Wakers run under the same lock, so no wake-up can slip between check and queue.
    ///   - beforeSuspend: Runs once `validate` has returned `true`, outside the bucket lock, before
    ///     the task suspends (or resumes at once, cancelled): `park`'s `beforeSleep`.
    ///   - undo: After a `.timedOut` or `.cancelled` result, runs under the bucket lock with
    ///     whether other waiters remain on `key`, to take back what `validate` announced.
    @usableFromInline
    nonisolated(nonsending) static func parkTask(
        key: UnsafeRawPointer,
        deadline: Deadline,
        validate: () -> Bool,
        beforeSuspend: () -> Void = {},
        undo: (_ othersWaiting: Bool) -> Void = { _ in }
    ) async -> TaskParkResult {
        let node = UnsafeMutablePointer<WaitNode>.allocate(capacity: 1)
        node.initialize(to: WaitNode(key: key))
        let handle = TaskWaitHandle(node: node)
        // The executor-inheriting form of `withTaskCancellationHandler`: this function already
        // runs on its caller's executor (`nonisolated(nonsending)`), and the `isolation:` form
        // would switch executors on the way in and out (about 400 instructions a wait).
        let result = await _unsafeInheritExecutor_withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<TaskParkResult, Never>) in
                let bucket = Buckets.bucket(for: key)
                Buckets.lock(bucket)
                guard validate() else {
                    Buckets.unlock(bucket)
                    continuation.resume(returning: .invalid)
                    return
                }
                if node.pointee.cancelledBeforeQueued {
                    Buckets.unlock(bucket)
                    beforeSuspend()
                    continuation.resume(returning: .cancelled)
                    return
                }
                node.pointee.continuation = continuation
                bucket.queue.pointee.append(node)
                if let ns = deadline.nanoseconds {
                    node.pointee.deadline = ns
                    TaskTimer.insert(node)
                }
                Buckets.unlock(bucket)
                beforeSuspend()
            }
        } onCancel: {
            handle.cancel()
        }
        if deadline.nanoseconds != nil { TaskTimer.remove(node) }
        switch result {
        case .timedOut, .cancelled:
            let bucket = Buckets.bucket(for: key)
            Buckets.lock(bucket)
            undo(bucket.queue.pointee.hasWaiter(on: key))
            Buckets.unlock(bucket)
        case .invalid, .unparked:
            break
        }
        release(node)
        return result
    }

    /// Takes a task's node off its queue if it is still there, and resumes the task with
    /// `result`. Returns whether it did; a node no longer queued has been (or is being) served.
    static func dequeueTask(_ node: UnsafeMutablePointer<WaitNode>, with result: TaskParkResult) -> Bool {
        let bucket = Buckets.bucket(for: node.pointee.key)
        Buckets.lock(bucket)
        guard node.pointee.isQueued, let continuation = node.pointee.continuation else {
            if node.pointee.continuation == nil {
                // Not queued yet: the task is about to join the line, and must not.
                node.pointee.cancelledBeforeQueued = true
            }
            Buckets.unlock(bucket)
            return false
        }
        bucket.queue.pointee.remove(node)
        Buckets.unlock(bucket)
        continuation.resume(returning: result)
        return true
    }

    /// How many threads and tasks wait on `key` now (for tests and diagnostics).
    static func waiterCount(on key: UnsafeRawPointer) -> Int {
        let bucket = Buckets.bucket(for: key)
        Buckets.lock(bucket)
        defer { Buckets.unlock(bucket) }
        var count = 0
        var node = bucket.queue.pointee.first(on: key, from: bucket.queue.pointee.head)
        while let current = node {
            count += 1
            node = bucket.queue.pointee.first(on: key, from: current.pointee.next)
        }
        return count
    }

    /// Drops one reference to a task's node; the last one frees it.
    static func release(_ node: UnsafeMutablePointer<WaitNode>) {
        if node.pointee.references.wrappingSubtract(1, ordering: .acquiringAndReleasing).oldValue == 1 {
            node.deinitialize(count: 1)
            node.deallocate()
        }
    }
}

/// The node of a waiting task, as its cancellation handler sees it.
struct TaskWaitHandle: @unchecked Sendable {
    // @unchecked Sendable: the node is only read or written under its bucket lock here, and it
    // outlives the handler (withTaskCancellationHandler returns only after a running handler ends).
    let node: UnsafeMutablePointer<WaitNode>

    /// Runs on the cancelling thread: takes the task out of line if it is still in it. Never
    /// called with a bucket lock held, and takes only the node's bucket lock.
    func cancel() {
        _ = ParkingLot.dequeueTask(node, with: .cancelled)
    }
}
