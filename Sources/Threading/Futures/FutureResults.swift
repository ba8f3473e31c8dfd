/// The results of `ThreadPoolExecutor.map`, in the order of its inputs.
///
/// Call `next()` until it returns `nil`: it waits for the next item's result and returns it, or
/// rethrows the error the item's work threw. When `next()` throws (that error, or `.timeout`
/// once `map`'s timeout has passed), the items not yet started are cancelled and the iteration
/// ends. Dropping the results after a first `next()` and before the end cancels the items not yet
/// started, as Python does when its started result generator is closed; results never iterated
/// leave the items to run.
public struct FutureResults<T: Sendable> {
    private let state: MapState<T>

    init(futures: [Future<T>], limit: Result<WaitLimit, ThreadingError>, refill: (() throws -> Future<T>?)?) {
        state = MapState(futures: futures, limit: limit, refill: refill)
    }

    /// The next item's result, waiting for it if need be; `nil` after the last.
    ///
    /// - Throws: The error the item's work threw; `ThreadingError.Kind.timeout` when `map`'s
    ///   timeout passes first; `.valueError` for a NaN timeout and `.overflowError` above
    ///   `timeoutMax`, when it would wait; with `buffersize`, what submitting the next item throws.
    public mutating func next() throws -> T? {
        try state.next()
    }
}

/// The state of one `map` iteration; cancels what is left when dropped.
final class MapState<T: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: used by one iterator at a time, as an iterator is (its `refill`
    // closure holds the input sequence's iterator).
    /// The futures not yet taken, oldest at `head`; taken slots are cleared so that no result
    /// is kept alive by the iteration.
    private var futures: [Future<T>?]
    private var head = 0
    private let limit: Result<WaitLimit, ThreadingError>
    private var refill: (() throws -> Future<T>?)?
    private var ended = false

    init(futures: [Future<T>], limit: Result<WaitLimit, ThreadingError>, refill: (() throws -> Future<T>?)?) {
        self.futures = futures
        self.limit = limit
        self.refill = refill
    }

    /// Whether `next()` was called: as a Python generator's `finally` runs only once it started,
    /// dropping results never iterated cancels nothing (test_map_submits_without_iteration).
    private var started = false

    deinit {
        if started { cancelRemaining() }
    }

    func next() throws -> T? {
        guard let future = peek() else { return nil }
        do {
            if !future.isDone { try future.waitUntilDone(limit: limit.get()) }
        } catch {
            throw fail(error)
        }
        return try take(future)
    }

    /// The `async` form of `next()`: a task cancelled while it waits throws `CancellationError`
    /// and the iteration stays where it was.
    func nextAsync() async throws -> T? {
        guard let future = peek() else { return nil }
        do {
            if !future.isDone { try await future.waitUntilDone(limit: limit.get()) }
        } catch let error as CancellationError {
            throw error
        } catch {
            throw fail(error)
        }
        return try take(future)
    }

    /// The next future, left in place; `nil` (and the iteration over) after the last.
    private func peek() -> Future<T>? {
        started = true
        guard !ended, head < futures.count, let future = futures[head] else {
            end()
            return nil
        }
        return future
    }

    /// Takes `future`, done, off the front; its value, or its error (which ends the iteration).
    private func take(_ future: Future<T>) throws -> T {
        futures[head] = nil
        head += 1
        if head == futures.count {
            futures.removeAll(keepingCapacity: true)
            head = 0
        }
        do {
            let value = try future.result()
            if let refill, let another = try refill() {
                futures.append(another)
            }
            return value
        } catch {
            end()
            throw error
        }
    }

    /// Ends the iteration on `error` (a timeout or a timeout argument): cancels the front future
    /// and the rest, as Python's `_result_or_cancel` and the generator's `finally` do.
    private func fail(_ error: any Error) -> any Error {
        futures[head]?.cancel()
        end()
        return error
    }

    private func end() {
        ended = true
        refill = nil
        cancelRemaining()
    }

    private func cancelRemaining() {
        for index in head..<futures.count {
            futures[index].take()?.cancel()
        }
        head = futures.count
    }
}

extension FutureResults: AsyncSequence {
    /// The results awaited in input order: `for try await value in try pool.map(items) { … }`.
    public struct AsyncIterator: AsyncIteratorProtocol {
        fileprivate let state: MapState<T>

        /// The next item's result, suspending the calling task until it is ready; `nil` after
        /// the last.
        ///
        /// Cancel safety: a task cancelled while it waits throws `CancellationError` and the
        /// iteration stays where it was (the item is neither taken nor cancelled).
        ///
        /// - Throws: As the blocking `next()`, and `CancellationError`.
        public mutating func next() async throws -> T? {
            try await state.nextAsync()
        }
    }

    /// An iterator over the same results (those the blocking `next()` has not taken).
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(state: state)
    }
}
