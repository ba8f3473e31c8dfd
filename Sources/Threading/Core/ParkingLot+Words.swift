import Synchronization

extension ParkingLot {
    /// Sleeps while the 32-bit `word` holds `expected`, until a `wakeAll(on:)` or `deadline`;
    /// returns `false` once the deadline has passed.
    ///
    /// The sequence-word form of waiting, for a primitive that always releases all its sleepers
    /// at once (a barrier's generation): the waker changes the word, then wakes every sleeper
    /// with one `FUTEX_WAKE`, where `unpark` would dequeue each and wake it with a call of its
    /// own — calls between which the first woken may already preempt the waker. The caller reads
    /// `expected` under its own lock and changes the word under that lock before waking, so no
    /// wake-up is lost; a return without timeout only says "look again" (the word changed, a
    /// signal arrived). Waiters are not ordered, which is all such a primitive needs.
    @usableFromInline
    static func wait(on word: UnsafePointer<Atomic<UInt32>>, while expected: UInt32, until deadline: Deadline) -> Bool {
        Platform.futexWait(word, expected: expected, deadline: deadline) != .timedOut
    }

    /// Wakes every thread sleeping in `wait(on:while:until:)` on `word`, which the caller has
    /// just changed.
    @usableFromInline
    static func wakeAll(on word: UnsafePointer<Atomic<UInt32>>) {
        Platform.futexWake(word, count: Int32.max)
    }
}
