/// The short watch a queue's blocked caller keeps, lock released, before it parks: an item or
/// room often comes within a microsecond when the other side runs on another CPU, and a park
/// costs a sleep and a wake-up, two system calls and two context switches. Crossbeam's
/// `Backoff` (Rust's std channels since 1.67) spins in rounds of 1, 2, 4, … pause instructions;
/// so does this, without its yields of the CPU afterwards: on a loaded machine a yield hands the
/// CPU to other processes for a time slice each, where a parked thread that is woken gets it
/// back at once.
///
/// The rounds adapt per queue, since spinning pays only when the other side runs on another CPU
/// at the same time (not when both threads share one CPU, nor on one CPU in all): one more round
/// after a wait that spinning ended, one fewer after a wait that it did not, down to one round
/// (a pause) that keeps watching whether spinning starts to pay again.
@usableFromInline
struct Backoff {
    /// Spin rounds done before parking, `minSpinRounds...maxSpinRounds`; round `k` spins `2^k`
    /// pauses.
    @usableFromInline var spinRounds = Backoff.maxSpinRounds

    /// 1 + 2 + … + 32 = 63 pauses at most, about 1.6 µs on a current x86 CPU; none on one CPU.
    static var maxSpinRounds: Int { Platform.cpuCount > 1 ? 6 : 0 }
    static var minSpinRounds: Int { min(1, maxSpinRounds) }

    @usableFromInline
    init() {}

    /// Watches until `stillWaiting()` is `false` or the rounds run out, then adapts the rounds.
    /// Call it without the queue's lock, with the copy of `self` taken under it, and store the
    /// copy back under the lock (a lost update only costs a round).
    mutating func watch(_ stillWaiting: () -> Bool) {
        let rounds = spinRounds
        var round = 0
        while stillWaiting() {
            guard round < rounds else {
                spinRounds = max(Backoff.minSpinRounds, rounds - 1)
                return
            }
            for _ in 0..<(1 << round) { Platform.spinHint() }
            round += 1
        }
        if round > 0 { spinRounds = min(Backoff.maxSpinRounds, rounds + 1) }
    }
}
