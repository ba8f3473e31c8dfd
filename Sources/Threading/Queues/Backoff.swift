/// The short watch a queue's blocked caller keeps, lock released, before it parks: an item or
/// room often comes within a microsecond when the other side runs on another CPU, or as soon as
/// the other side gets this CPU, and a park costs a sleep and a wake-up, two system calls and
/// two context switches. The design of crossbeam's `Backoff` (Rust's std channels since 1.67):
/// spin rounds of 1, 2, 4, … pause instructions, then a yield of the CPU, then park.
///
/// The spin rounds adapt per queue: they pay only when the other side runs on another CPU at
/// the same time. Where it does not (both threads on one CPU, or one CPU in all), the yield
/// hands the CPU to it at once, and spinning first only delays it; so the watch does one more
/// spin round after a wait that spinning ended, and one fewer after a wait that the spins did
/// not end. With no spin round left, a wait that one yield ends earns a round back, so that a
/// queue whose threads later run apart finds its way back to spinning.
@usableFromInline
struct Backoff {
    /// Spin rounds done before yielding, `0...maxSpinRounds`; round `k` spins `2^k` pauses.
    @usableFromInline var spinRounds = Backoff.maxSpinRounds

    /// 1 + 2 + … + 32 = 63 pauses at most, about 1.6 µs on a current x86 CPU.
    static var maxSpinRounds: Int { Platform.cpuCount > 1 ? 6 : 0 }
    /// Yields of the CPU after the spins, before parking: one hands the CPU to the other side
    /// when both share it; more would also hand it to other processes, each for a time slice,
    /// where a parked thread that is woken gets the CPU back sooner.
    static var yieldRounds: Int { 1 }

    @usableFromInline
    init() {}

    /// Watches until `stillWaiting()` is `false` or the rounds run out, then adapts the spin
    /// rounds. Call it without the queue's lock, with the copy of `self` taken under it, and
    /// store the copy back under the lock (a lost update only costs a round).
    mutating func watch(_ stillWaiting: () -> Bool) {
        let spins = spinRounds
        var round = 0
        while stillWaiting() {
            if round < spins {
                for _ in 0..<(1 << round) { Platform.spinHint() }
            } else if round < spins + Backoff.yieldRounds {
                Platform.yieldProcessor()
            } else {
                // Nothing came: the spins, if any, were for nothing.
                spinRounds = max(0, spins - 1)
                return
            }
            round += 1
        }
        if round == 0 { return }  // ended before any wait: says nothing
        if round <= spins {
            spinRounds = min(Backoff.maxSpinRounds, spins + 1)
        } else if spins == 0 && round == 1 {
            spinRounds = min(Backoff.maxSpinRounds, 1)
        } else {
            spinRounds = max(0, spins - 1)
        }
    }
}
