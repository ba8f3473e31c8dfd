import CThreading
import Synchronization

/// A pool of threads that runs submitted work, Python's `concurrent.futures.ThreadPoolExecutor`.
///
/// ```swift
/// let pool = try ThreadPoolExecutor(maxWorkers: 4)
/// let page = try pool.submit { try fetch("https://example.com") }
/// print(try page.result())
/// pool.shutdown()
/// ```
///
/// Workers start lazily, one per `submit` that finds no idle worker, up to `maxWorkers`; an idle
/// worker is reused before a new one starts. The pool counts its idle workers exactly (CPython's
/// semaphore drifts, python/cpython#88354): three sequential `submit` + `result` calls use one
/// thread. Workers are non-daemon `Thread`s named `"\(threadNamePrefix)_\(n)"` (the OS thread
/// name too), `n` counting from 0; the default prefix is `ThreadPoolExecutor-K`, `K` counting the
/// pools created from 0.
///
/// When the process exits (`main` returns or `exit` is called), the work already submitted still
/// runs and the workers are joined, even after `shutdown(wait: false)`; `submit` from then on
/// throws. A pool dropped without `shutdown()` lets its workers finish the queued work and end.
///
/// The pool is also a Swift `TaskExecutor`: `Task(executorPreference: pool) { … }` runs the
/// task's synchronous stretches on the pool's threads, off the cooperative pool.
public final class ThreadPoolExecutor: @unchecked Sendable {
    // @unchecked Sendable: its only state is `core`, which is Sendable.

    @usableFromInline
    let core: PoolCore

    /// The number of workers the pool starts at most.
    public var maxWorkers: Int { core.maxWorkers }

    /// Creates a pool; no thread starts until the first `submit`.
    ///
    /// - Parameters:
    ///   - maxWorkers: The most threads the pool runs; `nil` is `min(32, CPUs + 4)`, the CPUs
    ///     being those this process may run on (its affinity mask), as in Python 3.13.
    ///   - threadNamePrefix: The workers' name prefix; empty gives `ThreadPoolExecutor-K`.
    ///   - initializer: Runs at the start of each worker; if it throws, the error is reported on
    ///     standard error and the pool becomes broken: every pending future fails with
    ///     `ThreadingError.Kind.brokenThreadPool`, and so does every later `submit`.
    /// - Throws: `ThreadingError.Kind.valueError` ("max_workers must be greater than 0") when
    ///   `maxWorkers` is zero or negative.
    public init(
        maxWorkers: Int? = nil,
        threadNamePrefix: String = "",
        initializer: (@Sendable () throws -> Void)? = nil
    ) throws {
        let workers = maxWorkers ?? min(32, Int(cthreading_cpu_count()) + 4)
        guard workers > 0 else { throw ThreadingError.nonPositiveMaxWorkers }
        let number = ThreadPoolExecutor.counter.add(1, ordering: .relaxed).newValue - 1
        let prefix = threadNamePrefix.isEmpty ? "ThreadPoolExecutor-\(number)" : threadNamePrefix
        core = PoolCore(maxWorkers: workers, prefix: prefix, initializer: initializer)
        core.owner = self
        PoolCore.register(core)
    }

    deinit {
        // Dropped without `shutdown()`: the workers finish what is queued, then end.
        core.shutdown(wait: false, cancelFutures: false)
    }

    /// Numbers the default name prefixes, from 0 (CPython's `ThreadPoolExecutor._counter`).
    private static let counter = Atomic<Int>(0)

    /// Schedules `fn` to run on a worker and returns its future.
    ///
    /// - Parameters:
    ///   - fn: The work; what it returns or throws becomes the future's result.
    /// - Returns: A pending future; `cancel()` on it stops the work from starting.
    /// - Throws: `ThreadingError.Kind.runtimeError`: "cannot schedule new futures after shutdown"
    ///   after `shutdown()`, "cannot schedule new futures after interpreter shutdown" once the
    ///   process is exiting, "can't start new thread" when the OS refuses a worker;
    ///   `.brokenThreadPool` when an initializer has failed.
    /// - Complexity: O(1); starts a thread when no worker is idle and fewer than `maxWorkers` run.
    @inlinable
    public func submit<T: Sendable>(_ fn: @escaping @Sendable () throws -> T) throws -> Future<T> {
        let future = Future<T>(work: fn)
        try core.enqueue(.work(future))
        return future
    }

    /// Runs `fn` on a worker and returns its result, suspending the calling task meanwhile:
    /// `submit` and `await` in one call, for blocking work that must stay off the cooperative
    /// pool. The call runs on the caller's executor (it submits and suspends there, and resumes
    /// there).
    ///
    /// Cancel safety: cancelling the task before the work started cancels the work, and `run`
    /// throws `CancellationError`; once the work runs, it runs to the end and `run` returns its
    /// result (or rethrows its error) even if the task was cancelled.
    ///
    /// - Parameters:
    ///   - fn: The work.
    /// - Returns: What `fn` returns.
    /// - Throws: What `fn` throws; what `submit` throws; `CancellationError` when the task was
    ///   cancelled before the work started.
    @inlinable
    public nonisolated(nonsending) func run<T: Sendable>(
        _ fn: @escaping @Sendable () throws -> T
    ) async throws -> T {
        try Task.checkCancellation()
        return try await submit(fn).valueCancellingFuture()
    }

    /// Runs `fn` on every element of `items` on the pool and returns the results in input order,
    /// Python's `Executor.map`.
    ///
    /// Every item is submitted before `map` returns, unless `buffersize` limits how many are in
    /// flight (Python 3.14): then `buffersize` are submitted at once, and one more each time a
    /// result is taken. Iterate with `while let x = try results.next()` or `for try await`.
    ///
    /// - Parameters:
    ///   - items: The inputs.
    ///   - timeout: How long the whole iteration may take, in seconds, counted from this call;
    ///     `nil` is no limit. When it passes, `next()` throws `.timeout`.
    ///   - buffersize: At most this many items submitted and not yet taken; `nil` is no limit.
    ///   - fn: The work for one item.
    /// - Returns: The results, in the order of `items`. When `next()` throws (the timeout passed,
    ///   or it rethrows an item's error), the items not yet started are cancelled, and the
    ///   iteration ends; dropping the results after a first `next()` cancels them too.
    /// - Throws: What `submit` throws; `ThreadingError.Kind.valueError` ("buffersize must be None
    ///   or > 0") for a `buffersize` below 1.
    public func map<S: Sequence, T: Sendable>(
        _ items: S,
        timeout: Double? = nil,
        buffersize: Int? = nil,
        _ fn: @escaping @Sendable (S.Element) throws -> T
    ) throws -> FutureResults<T> where S.Element: Sendable {
        if let buffersize, buffersize < 1 { throw ThreadingError.nonPositiveBuffersize }
        let limit = Result { () throws(ThreadingError) in try WaitLimit.forWait(timeout) }
        var iterator = items.makeIterator()
        var futures: [Future<T>] = []
        while buffersize.map({ futures.count < $0 }) ?? true, let item = iterator.next() {
            futures.append(try submit { try fn(item) })
        }
        var refill: (() throws -> Future<T>?)? = nil
        if buffersize != nil {
            let remaining = IteratorBox(iterator)
            refill = { [weak self] in
                guard let self, let item = remaining.iterator.next() else { return nil }
                return try self.submit { try fn(item) }
            }
        }
        return FutureResults(futures: futures, limit: limit, refill: refill)
    }

    /// Stops the pool taking work, Python's `shutdown(wait=True, *, cancel_futures=False)`.
    ///
    /// Work already submitted still runs (unless `cancelFutures`); running work is never
    /// interrupted. Calling it again, or on a broken pool, is harmless.
    ///
    /// - Parameters:
    ///   - wait: Whether to return only once every worker has ended (a worker calling it skips
    ///     joining itself).
    ///   - cancelFutures: Whether to cancel the futures of the work not yet started.
    public func shutdown(wait: Bool = true, cancelFutures: Bool = false) {
        core.shutdown(wait: wait, cancelFutures: cancelFutures)
    }

    /// The number of worker threads started so far (Python's `len(executor._threads)`).
    var threadCount: Int { core.threadCount }

    /// The worker threads started so far (Python's `executor._threads`).
    var threads: [Thread] { core.threads }

    /// Whether an initializer failed (Python's `executor._broken`).
    var isBroken: Bool { core.isBroken }
}

/// Python's `with ThreadPoolExecutor(...) as ex:`: runs `body` with a new pool, then shuts it
/// down, waiting for its work, whether `body` returns or throws.
///
/// - Parameters:
///   - maxWorkers: As `ThreadPoolExecutor.init`.
///   - threadNamePrefix: As `ThreadPoolExecutor.init`.
///   - initializer: As `ThreadPoolExecutor.init`.
///   - body: The code using the pool.
/// - Returns: What `body` returns.
/// - Throws: What the initializer or `body` throws.
public func withThreadPoolExecutor<R>(
    maxWorkers: Int? = nil,
    threadNamePrefix: String = "",
    initializer: (@Sendable () throws -> Void)? = nil,
    _ body: (ThreadPoolExecutor) throws -> R
) throws -> R {
    let pool = try ThreadPoolExecutor(
        maxWorkers: maxWorkers,
        threadNamePrefix: threadNamePrefix,
        initializer: initializer
    )
    defer { pool.shutdown(wait: true) }
    return try body(pool)
}

/// A sequence's iterator kept for `map`'s later submissions.
final class IteratorBox<I: IteratorProtocol> {
    var iterator: I
    init(_ iterator: I) { self.iterator = iterator }
}
