/// An absolute point on the monotonic clock at which a wait gives up, or no such point.
///
/// Waits take a deadline rather than a duration so that a wait resumed after a signal or a
/// spurious wake-up sleeps only for what is left, never for the full timeout again.
@usableFromInline
struct Deadline: Sendable {
    /// Nanoseconds on `CLOCK_MONOTONIC`, or `nil` for a wait without end.
    @usableFromInline
    let nanoseconds: Int64?

    @inlinable
    init(nanoseconds: Int64?) {
        self.nanoseconds = nanoseconds
    }

    /// No deadline: wait until woken.
    @usableFromInline
    static let never = Deadline(nanoseconds: nil)

    /// The deadline `seconds` from now. `seconds` must be finite, positive and at most
    /// `timeoutMax`; a deadline past the end of the clock's range is treated as `never`.
    @usableFromInline
    static func after(seconds: Double) -> Deadline {
        let delta = (seconds * 1e9).rounded(.up)
        let now = Platform.monotonicNow()
        guard delta < Double(Int64.max - now) else { return .never }
        return Deadline(nanoseconds: now + Int64(delta))
    }

    /// Whether the deadline has passed.
    @usableFromInline
    var hasPassed: Bool {
        guard let ns = nanoseconds else { return false }
        return Platform.monotonicNow() >= ns
    }

    /// Seconds left before the deadline (never negative), or `nil` for `never`.
    @usableFromInline
    var secondsRemaining: Double? {
        guard let ns = nanoseconds else { return nil }
        return Double(max(0, ns - Platform.monotonicNow())) / 1e9
    }
}
