/// When `wait(_:timeout:returnWhen:)` returns (Python's `FIRST_COMPLETED`, `FIRST_EXCEPTION`,
/// `ALL_COMPLETED`).
public enum ReturnWhen: Sendable {
    /// As soon as any future is done (finished or cancelled).
    case firstCompleted
    /// As soon as any future finishes with an error; when none does, as `.allCompleted`.
    case firstException
    /// When every future is done.
    case allCompleted
}

/// Waits until some or all of `futures` are done, Python's `concurrent.futures.wait`.
///
/// A future cancelled before it ran counts as done, as soon as it is cancelled (CPython forgets
/// such a future until a worker dequeues it, python/cpython#92001 and #87893: not copied).
///
/// ```swift
/// let (done, notDone) = try wait(futures, timeout: 5, returnWhen: .firstException)
/// ```
///
/// - Parameters:
///   - futures: The futures to watch, from any executors or none; a future given more than once
///     counts once.
///   - timeout: The longest wait, in seconds; `nil` waits without limit, zero or negative does
///     not wait.
///   - returnWhen: The condition to wait for.
/// - Returns: The futures done when the call returned and those not done, each in order of first
///   appearance in `futures`.
/// - Throws: `ThreadingError.Kind.valueError` for a NaN timeout and `.overflowError` above
///   `timeoutMax`, when the call would wait.
/// - Complexity: O(n) for n futures; without a wait, a few nanoseconds per future and no
///   allocation beyond the returned arrays (none when every future is done and none repeats).
@inlinable
public func wait<T>(
    _ futures: [Future<T>],
    timeout: Double? = nil,
    returnWhen: ReturnWhen = .allCompleted
) throws -> (done: [Future<T>], notDone: [Future<T>]) {
    // Inlined, so specialized for the caller's `T`: when every future is done, whatever
    // `returnWhen` asks, the answer is all of them.
    let futures = uniqueFutures(futures)
    var allDone = true
    for future in futures where !future.isDone {
        allDone = false
        break
    }
    if allDone { return (futures, []) }
    return try waitForUnique(futures, timeout: timeout, returnWhen: returnWhen)
}

/// `wait(_:timeout:returnWhen:)` for futures without repeats, not all done.
@usableFromInline
func waitForUnique<T>(
    _ futures: [Future<T>],
    timeout: Double?,
    returnWhen: ReturnWhen
) throws -> (done: [Future<T>], notDone: [Future<T>]) {
    var doneCount = 0
    var anyFailed = false
    for future in futures where future.isDone {
        doneCount += 1
        if returnWhen == .firstException && !anyFailed && future.hasFailed { anyFailed = true }
    }
    if doneCount == futures.count { return (futures, []) }
    if (returnWhen == .firstCompleted && doneCount > 0) || anyFailed { return split(futures) }

    guard case .until(let deadline) = try WaitLimit.forWait(timeout) else { return split(futures) }
    let mode: FutureWaiter.Mode
    switch returnWhen {
    case .firstCompleted: mode = .firstCompleted
    case .firstException: mode = .firstException
    case .allCompleted:
        waitForAll(futures, until: deadline)
        return split(futures)
    }
    // Every future is counted once: by its own notification, or here if it is done already
    // (some may have finished since the count above). Which ones hold the waiter is kept as
    // flags: an array of `Future<T>` built here, unspecialized, would cost a metadata lookup a
    // future (see `split`).
    let waiter = FutureWaiter(mode: mode, remaining: futures.count)
    var registered: [Bool] = []
    registered.reserveCapacity(futures.count)
    for future in futures {
        let added = future.addWaiter(waiter)
        if !added { waiter.futureDone(future, failed: future.hasFailed) }
        registered.append(added)
    }
    waiter.wait(until: deadline)
    for (future, added) in zip(futures, registered) where added { future.removeWaiter(waiter) }
    return split(futures)
}

/// Returns once every future is done or `deadline` passed: parks on each unfinished future in
/// turn, the last first (a pool runs its work in submission order, so that the others are done
/// by then, most often). No waiter is registered with the futures: waiting for n futures costs
/// one sleep, not n registrations.
private func waitForAll<T>(_ futures: [Future<T>], until deadline: Deadline) {
    for future in futures.reversed() where !future.isDone {
        future.park(until: deadline)
        if !future.isDone { return }  // the deadline passed
    }
}

/// The futures done and not done now, in their order.
private func split<T>(_ futures: [Future<T>]) -> (done: [Future<T>], notDone: [Future<T>]) {
    let isDone = futures.map { $0.isDone }
    let doneCount = isDone.reduce(0) { $0 + ($1 ? 1 : 0) }
    if doneCount == futures.count { return (futures, []) }
    if doneCount == 0 { return ([], futures) }
    return (
        pick(futures, flagged: isDone, true, count: doneCount),
        pick(futures, flagged: isDone, false, count: futures.count - doneCount)
    )
}

/// The `count` futures whose flag in `flags` is `wanted`, in their order.
///
/// For code that runs unspecialized (for any `T`): it fills the array through its buffer, where
/// an `append` would look up `Array<Future<T>>`'s metadata in the runtime's cache on every call,
/// about 330 instructions a future.
func pick<T>(_ futures: [Future<T>], flagged flags: [Bool], _ wanted: Bool, count: Int) -> [Future<T>] {
    [Future<T>](unsafeUninitializedCapacity: count) { buffer, initialized in
        var next = 0
        for (future, flag) in zip(futures, flags) where flag == wanted {
            (buffer.baseAddress! + next).initialize(to: future)
            next += 1
        }
        initialized = next
    }
}
