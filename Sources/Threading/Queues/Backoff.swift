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
///
/// A wait for a peer that is known to be coming is different: the other side of a bounded queue
/// was served (woken with room or an item reserved for it) and has not run yet. It will come as
/// soon as the kernel has woken it, which takes a few microseconds or, on a virtual machine, tens
/// of them; parking meanwhile would make it wake this thread in turn, and the two would go on
/// handing the CPU back and forth once every few items (a convoy: about 1 µs an item, against
/// about 70 ns when they keep running). Such a wait watches longer, up to `comingSpinRounds`,
/// and its outcome does not adapt the rounds: it says how long a wake-up takes, not whether the
/// other side runs. (Adapting them too was tried: the failures come in bursts, each one making
/// the other side park in turn, and the rounds fell back into the convoy.)
@usableFromInline
struct Backoff {
    /// Spin rounds done before parking, `minSpinRounds...maxSpinRounds`; round `k` spins `2^k`
    /// pauses.
    @usableFromInline var spinRounds = Backoff.maxSpinRounds

    /// 1 + 2 + … + 64 = 127 pauses at most, about 3.6 µs on a current x86 CPU; none on one CPU.
    static var maxSpinRounds: Int { Platform.cpuCount > 1 ? 7 : 0 }
    static var minSpinRounds: Int { min(1, maxSpinRounds) }
    /// 1 023 pauses at most, about 30 µs on a current x86 CPU (a pause takes 28 ns on this
    /// project's AMD EPYC test machine): longer than most wake-ups; none on one CPU.
    static var comingSpinRounds: Int { Platform.cpuCount > 1 ? 10 : 0 }

    @usableFromInline
    init() {}

    /// Watches until `stillWaiting()` is `false` or the rounds run out, then adapts the rounds.
    /// Call it without the queue's lock, with the copy of `self` taken under it, and store the
    /// copy back under the lock (a lost update only costs a round).
    ///
    /// - Parameters:
    ///   - peerComing: Whether the other side was served and will come once it runs: watch for
    ///     up to `comingSpinRounds`, and leave the rounds as they are.
    ///   - stillWaiting: Whether there is still nothing to take (or no room).
    mutating func watch(peerComing: Bool = false, _ stillWaiting: () -> Bool) {
        let rounds = peerComing ? Backoff.comingSpinRounds : spinRounds
        var round = 0
        while stillWaiting() {
            guard round < rounds else {
                if !peerComing { spinRounds = max(Backoff.minSpinRounds, rounds - 1) }
                return
            }
            for _ in 0..<(1 << round) { Platform.spinHint() }
            round += 1
        }
        if round > 0 && !peerComing { spinRounds = min(Backoff.maxSpinRounds, rounds + 1) }
    }
}
