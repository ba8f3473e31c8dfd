/// The results of `ThreadPoolExecutor.map`, in the order of its inputs.
///
/// Call `next()` until it returns `nil`: it waits for the next item's result and returns it, or
/// rethrows the error the item's work threw. When `next()` throws (that error, or `.timeout`
/// once `map`'s timeout has passed), the items not yet started are cancelled and the iteration
/// ends. Dropping the results before the end cancels the items not yet started, as Python does
/// when its result generator is closed.
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
final class MapState<T: Sendable> {
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

    deinit {
        cancelRemaining()
    }

    func next() throws -> T? {
        guard !ended, head < futures.count, let future = futures[head].take() else {
            end()
            return nil
        }
        head += 1
        if head == futures.count {
            futures.removeAll(keepingCapacity: true)
            head = 0
        }
        do {
            let value: T
            if future.isDone {
                value = try future.result()
            } else {
                try future.waitUntilDone(limit: limit.get())
                value = try future.result()
            }
            if let refill, let another = try refill() {
                futures.append(another)
            }
            return value
        } catch {
            future.cancel()
            end()
            throw error
        }
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
