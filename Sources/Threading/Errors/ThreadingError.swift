/// The error every call of this module throws where Python's `threading` raises an exception.
///
/// `kind` names the Python exception class and `message` is CPython's message, word for word, so
/// that code ported from Python can match on either.
public struct ThreadingError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The Python exception class an error stands for.
    public enum Kind: Sendable, Equatable {
        /// Python's `RuntimeError` (and `threading.ThreadError`, its alias).
        case runtimeError
        /// Python's `ValueError`.
        case valueError
        /// Python's `OverflowError`.
        case overflowError
        /// Python's `threading.BrokenBarrierError`, a `RuntimeError`.
        case brokenBarrier
        /// `concurrent.futures.CancelledError`: the result of a cancelled future.
        case cancelled
        /// Python's `TimeoutError` (`concurrent.futures.TimeoutError`): a future's answer was not
        /// ready in time.
        case timeout
        /// `concurrent.futures.InvalidStateError`: a result set on a future that is already done.
        case invalidState
        /// `concurrent.futures.thread.BrokenThreadPool`, a `RuntimeError`: a worker's initializer
        /// failed.
        case brokenThreadPool
        /// Python's `queue.Empty`: a `get` found no item and was not to wait, or its timeout passed.
        case empty
        /// Python's `queue.Full`: a `put` found no room and was not to wait, or its timeout passed.
        case full
        /// Python's `queue.ShutDown`: the queue was shut down.
        case shutDown
    }

    /// Which Python exception this is.
    public let kind: Kind
    /// CPython's message for the situation (empty for a broken barrier and the `queue` errors).
    public let message: String

    /// Creates an error of `kind` with `message`.
    public init(_ kind: Kind, _ message: String = "") {
        self.kind = kind
        self.message = message
    }

    /// `Kind: message`, as Python prints an exception (`BrokenBarrierError` alone when empty).
    public var description: String {
        let name: String
        switch kind {
        case .runtimeError: name = "RuntimeError"
        case .valueError: name = "ValueError"
        case .overflowError: name = "OverflowError"
        case .brokenBarrier: name = "BrokenBarrierError"
        case .cancelled: name = "CancelledError"
        case .timeout: name = "TimeoutError"
        case .invalidState: name = "InvalidStateError"
        case .brokenThreadPool: name = "BrokenThreadPool"
        case .empty: name = "Empty"
        case .full: name = "Full"
        case .shutDown: name = "ShutDown"
        }
        return message.isEmpty ? name : "\(name): \(message)"
    }
}

extension ThreadingError {
    // Every message, in one place, as CPython spells it.
    @usableFromInline static let nonBlockingTimeout = ThreadingError(
        .valueError,
        "can't specify a timeout for a non-blocking call"
    )
    @usableFromInline static let semaphoreNonBlockingTimeout = ThreadingError(
        .valueError,
        "can't specify timeout for non-blocking acquire"
    )
    @usableFromInline static let negativeTimeout = ThreadingError(
        .valueError,
        "timeout value must be a non-negative number"
    )
    @usableFromInline static let nanTimeout = ThreadingError(.valueError, "Invalid value NaN (not a number)")
    @usableFromInline static let timeoutTooLarge = ThreadingError(.overflowError, "timeout value is too large")
    @usableFromInline static let releaseUnlocked = ThreadingError(.runtimeError, "release unlocked lock")
    @usableFromInline static let releaseUnowned = ThreadingError(.runtimeError, "cannot release un-acquired lock")
    @usableFromInline static let waitUnowned = ThreadingError(.runtimeError, "cannot wait on un-acquired lock")
    @usableFromInline static let notifyUnowned = ThreadingError(.runtimeError, "cannot notify on un-acquired lock")
    @usableFromInline static let negativeSemaphore = ThreadingError(.valueError, "semaphore initial value must be >= 0")
    @usableFromInline static let releaseCount = ThreadingError(.valueError, "n must be one or more")
    @usableFromInline static let overReleased = ThreadingError(.valueError, "Semaphore released too many times")
    @usableFromInline static let semaphoreOverflow = ThreadingError(.overflowError, "semaphore value is too large")
    @usableFromInline static let noParties = ThreadingError(.valueError, "parties must be > 0")
    @usableFromInline static let brokenBarrier = ThreadingError(.brokenBarrier)
    @usableFromInline static let cancelled = ThreadingError(.cancelled)
    @usableFromInline static let timedOut = ThreadingError(.timeout)
    @usableFromInline static let futureUnexpectedState = ThreadingError(.runtimeError, "Future in unexpected state")
    @usableFromInline static let scheduleAfterShutdown = ThreadingError(
        .runtimeError,
        "cannot schedule new futures after shutdown"
    )
    @usableFromInline static let scheduleAfterInterpreterShutdown = ThreadingError(
        .runtimeError,
        "cannot schedule new futures after interpreter shutdown"
    )
    @usableFromInline static let brokenThreadPool = ThreadingError(
        .brokenThreadPool,
        "A thread initializer failed, the thread pool is not usable anymore"
    )
    @usableFromInline static let nonPositiveMaxWorkers = ThreadingError(
        .valueError,
        "max_workers must be greater than 0"
    )
    @usableFromInline static let nonPositiveBuffersize = ThreadingError(.valueError, "buffersize must be None or > 0")
    @usableFromInline static let queueEmpty = ThreadingError(.empty)
    @usableFromInline static let queueFull = ThreadingError(.full)
    @usableFromInline static let queueShutDown = ThreadingError(.shutDown)
    @usableFromInline static let queueNegativeTimeout = ThreadingError(
        .valueError,
        "'timeout' must be a non-negative number"
    )
    @usableFromInline static let taskDoneTooManyTimes = ThreadingError(.valueError, "task_done() called too many times")
}
