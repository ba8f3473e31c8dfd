/// The largest timeout any call accepts, in seconds: Python's `threading.TIMEOUT_MAX`.
///
/// It is `floor((2^63 - 1) ns / 10^9)`, as on CPython for 64-bit Linux. A longer timeout throws
/// `ThreadingError` of kind `.overflowError`.
public let timeoutMax: Double = 9_223_372_036.0

/// How long a blocking call may wait, once its timeout argument has been checked.
@usableFromInline
enum WaitLimit: Sendable {
    /// Do not block: try once.
    case dontWait
    /// Block until woken or until the deadline.
    case until(Deadline)

    /// The limit for a call of `Lock`/`RLock`/`Condition.acquire`, checked in CPython's order:
    /// NaN, then a value out of the clock's range either way (infinities included), then a timeout
    /// on a non-blocking call, then a negative value other than `-1`.
    @usableFromInline
    static func forLock(blocking: Bool, timeout: Double?) throws(ThreadingError) -> WaitLimit {
        guard let t = timeout, t != -1 else { return blocking ? .until(.never) : .dontWait }
        if t.isNaN { throw .nanTimeout }
        if !(t.magnitude <= timeoutMax) { throw .timeoutTooLarge }  // CPython fails to convert it
        if !blocking { throw .nonBlockingTimeout }
        if t < 0 { throw .negativeTimeout }
        return t == 0 ? .dontWait : .until(.after(seconds: t))
    }

    /// The limit for every other timed call (`Condition.wait`, `Event.wait`, `Semaphore.acquire`,
    /// `Barrier.wait`, `Thread.join`): `nil` waits without end, zero or negative does not wait,
    /// NaN throws `.valueError` and more than `timeoutMax` throws `.overflowError`.
    @usableFromInline
    static func forWait(_ timeout: Double?) throws(ThreadingError) -> WaitLimit {
        guard let t = timeout else { return .until(.never) }
        if t.isNaN { throw .nanTimeout }
        if t <= 0 { return .dontWait }
        if t > timeoutMax { throw .timeoutTooLarge }
        return .until(.after(seconds: t))
    }
}
