/// Iterates over `futures` as they become done, Python's `concurrent.futures.as_completed`.
///
/// The futures already done come first, in their order in `futures`; then each other future as
/// it finishes or is cancelled. A future cancelled before it ran is yielded when it is cancelled
/// (CPython never yields it, python/cpython#87893: not copied).
///
/// ```swift
/// var completed = asCompleted(futures, timeout: 30)
/// while let future = try completed.next() {
///     print(try future.result())
/// }
/// ```
///
/// - Parameters:
///   - futures: The futures; one given more than once is yielded once.
///   - timeout: How long the whole iteration may take, in seconds, counted from this call; `nil`
///     is no limit, zero or negative only yields the futures already done. `next()` checks it.
/// - Returns: The iterator.
/// - Complexity: O(n) to set up for n futures.
public func asCompleted<T>(_ futures: [Future<T>], timeout: Double? = nil) -> AsCompleted<T> {
    AsCompleted(
        futures: uniqueFutures(futures),
        limit: Result { () throws(ThreadingError) in
            try WaitLimit.forWait(timeout)
        }
    )
}

/// The iterator `asCompleted(_:timeout:)` returns: the futures in the order they became done.
///
/// Call `next()` until it returns `nil`. It throws `ThreadingError.Kind.timeout`
/// ("N (of M) futures unfinished") once the timeout has passed with futures still pending.
/// Dropping the iterator early unregisters it from the futures.
public struct AsCompleted<T: Sendable> {
    private let state: AsCompletedState<T>

    init(futures: [Future<T>], limit: Result<WaitLimit, ThreadingError>) {
        state = AsCompletedState(futures: futures, limit: limit)
    }

    /// The next future done, waiting for one if need be; `nil` when every future was yielded.
    ///
    /// - Throws: `ThreadingError.Kind.timeout` ("N (of M) futures unfinished", N the futures not
    ///   yet yielded, M all of them) when the timeout has passed and no other future is done;
    ///   `.valueError` for a NaN timeout and `.overflowError` above `timeoutMax`, when it would
    ///   wait.
    public mutating func next() throws -> Future<T>? {
        try state.next()
    }
}

/// The state of one `asCompleted` iteration; unregisters its waiter when dropped.
final class AsCompletedState<T: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: used by one iterator at a time, as an iterator is; the waiter it
    // shares with the futures is Sendable.

    /// Futures done and not yet yielded, in yield order, reversed (the next one last).
    private var ready: [Future<T>]
    /// Futures that were not done at the start and are not yielded yet: they may hold the
    /// waiter. A yielded future is let go of (`nil`), so the iteration keeps no result alive.
    private var watched: [Future<T>?]
    private var watchedIndex: [ObjectIdentifier: Int] = [:]
    private var waiter: FutureWaiter?
    private let total: Int
    private var yielded = 0
    private let limit: Result<WaitLimit, ThreadingError>

    init(futures: [Future<T>], limit: Result<WaitLimit, ThreadingError>) {
        total = futures.count
        self.limit = limit
        let waiter = futures.allSatisfy(\.isDone) ? nil : FutureWaiter(mode: .asCompleted, remaining: 0)
        // Which futures hold the waiter, as flags: unspecialized, an `append` to an array of
        // `Future<T>` here would cost a metadata lookup a future (see `pick`).
        var registered: [Bool] = []
        registered.reserveCapacity(futures.count)
        for future in futures { registered.append(waiter.map { future.addWaiter($0) } ?? false) }
        let watchedCount = registered.reduce(0) { $0 + ($1 ? 1 : 0) }
        let watched = pick(futures, flagged: registered, true, count: watchedCount)
        ready = pick(futures, flagged: registered, false, count: futures.count - watchedCount).reversed()
        self.watched = watched
        for (index, future) in watched.enumerated() { watchedIndex[ObjectIdentifier(future)] = index }
        self.waiter = watched.isEmpty ? nil : waiter
    }

    deinit {
        unregister()
    }

    private func unregister() {
        if let waiter {
            for case let future? in watched { future.removeWaiter(waiter) }
        }
    }

    /// Ends the iteration after an error, as Python's generator ends: lets go of every future.
    private func end(throwing error: ThreadingError) -> ThreadingError {
        unregister()
        watched = []
        watchedIndex = [:]
        ready = []
        waiter = nil
        return error
    }

    func next() throws(ThreadingError) -> Future<T>? {
        while true {
            switch try step() {
            case .yield(let future): return future
            case .end: return nil
            case .wait(let waiter, let deadline):
                if !waiter.wait(until: deadline) { try timedOut() }
            }
        }
    }

    /// The `async` form of `next()`; throws `CancellationError` when the task is cancelled while
    /// it waits (the iteration may go on afterwards).
    func nextAsync() async throws -> Future<T>? {
        while true {
            switch try step() {
            case .yield(let future): return future
            case .end: return nil
            case .wait(let waiter, let deadline):
                if try await !waiter.wait(until: deadline) { try timedOut() }
            }
        }
    }

    /// What `next()` does now.
    private enum Step {
        case yield(Future<T>)
        case end
        case wait(FutureWaiter, Deadline)
    }

    private func step() throws(ThreadingError) -> Step {
        while true {
            if let future = ready.popLast() {
                yielded += 1
                return .yield(future)
            }
            guard yielded < total, let waiter else { return .end }
            let completed = waiter.takeCompleted(of: T.self)
            if !completed.isEmpty {
                forget(completed)
                ready = completed.reversed()
                continue
            }
            let deadline: Deadline
            switch limit {
            case .failure(let error): throw end(throwing: error)
            case .success(.dontWait): throw end(throwing: unfinished())
            case .success(.until(let until)): deadline = until
            }
            if deadline.hasPassed { try timedOut() } else { return .wait(waiter, deadline) }
        }
    }

    /// After the deadline: throws the timeout, unless futures finished as it passed (they are
    /// yielded first).
    private func timedOut() throws(ThreadingError) {
        let late = waiter?.takeCompleted(of: T.self) ?? []
        guard late.isEmpty else {
            forget(late)
            ready = late.reversed()
            return
        }
        throw end(throwing: unfinished())
    }

    /// Lets go of done futures in `watched` (they dropped the waiter when they became done).
    private func forget(_ futures: [Future<T>]) {
        for future in futures {
            if let index = watchedIndex.removeValue(forKey: ObjectIdentifier(future)) { watched[index] = nil }
        }
    }

    private func unfinished() -> ThreadingError {
        ThreadingError(.timeout, "\(total - yielded) (of \(total)) futures unfinished")
    }
}

extension AsCompleted: AsyncSequence {
    /// The futures as they become done, awaited: `for try await future in asCompleted(fs)`.
    public struct AsyncIterator: AsyncIteratorProtocol {
        fileprivate let state: AsCompletedState<T>

        /// The next future done, suspending the calling task until there is one; `nil` when
        /// every future was yielded.
        ///
        /// Cancel safety: a task cancelled while it waits throws `CancellationError`; no future
        /// is lost (the next call yields it).
        ///
        /// - Throws: As the blocking `next()`, and `CancellationError`.
        public mutating func next() async throws -> Future<T>? {
            try await state.nextAsync()
        }
    }

    /// An iterator over the same iteration (the futures the blocking `next()` has not yielded).
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(state: state)
    }
}
