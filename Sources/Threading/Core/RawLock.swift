import Synchronization

/// The operations of a three-state futex lock on a 32-bit word, the waiting core's mutex.
///
/// The word is `0` when unlocked, `1` when locked with no thread asleep on it, and `2` when locked
/// and some thread may be asleep (contended). Locking is one compare-and-swap when free; unlocking
/// is one exchange, plus a `FUTEX_WAKE` only when the word said `2`. Any thread may unlock, which
/// is what Python's `Lock` needs. It is the design of Rust's `std::sync::Mutex` on Linux, with
/// absolute monotonic deadlines for timed acquisition; it does not use a priority-inheritance
/// futex, so unlocking from another thread is allowed and waiters do not convoy.
@usableFromInline
enum RawLock {
    @usableFromInline static let unlocked: UInt32 = 0
    @usableFromInline static let locked: UInt32 = 1
    @usableFromInline static let contended: UInt32 = 2

    /// How many times a thread looks at a held lock before it goes to sleep on it.
    @usableFromInline static let spinLimit = 40

    /// Takes the lock if it is free.
    @inlinable @inline(__always)
    static func tryLock(_ word: borrowing Atomic<UInt32>) -> Bool {
        word.compareExchange(expected: unlocked, desired: locked, ordering: .acquiring).exchanged
    }

    /// Takes the lock, sleeping until it is free or `deadline` passes. Returns `false` on timeout.
    ///
    /// Call it after a failed `tryLock`.
    @usableFromInline
    static func lockContended(_ word: UnsafePointer<Atomic<UInt32>>, deadline: Deadline) -> Bool {
        var state = spin(word)
        if state == unlocked {
            // Free after the spin: take it without marking it contended.
            let (exchanged, current) = word.pointee.compareExchange(
                expected: unlocked, desired: locked, ordering: .acquiring)
            if exchanged { return true }
            state = current
        }
        while true {
            // Mark the lock contended; if it was free meanwhile, we own it (as contended, since
            // other threads may be asleep: the unlock will wake one, which is harmless if none).
            if state != contended && word.pointee.exchange(contended, ordering: .acquiring) == unlocked {
                return true
            }
            if Platform.futexWait(word, expected: contended, deadline: deadline) == .timedOut {
                // One last look: the lock may have been released as the deadline passed.
                return word.pointee.compareExchange(
                    expected: unlocked, desired: contended, ordering: .acquiring
                ).exchanged
            }
            state = spin(word)
        }
    }

    /// Watches a held, uncontended lock for a short while; returns the state last seen.
    @usableFromInline
    static func spin(_ word: UnsafePointer<Atomic<UInt32>>) -> UInt32 {
        var remaining = spinLimit
        while true {
            let state = word.pointee.load(ordering: .relaxed)
            if state != locked || remaining == 0 { return state }
            Platform.spinHint()
            remaining -= 1
        }
    }

    /// Releases the lock; returns the state it had (`unlocked` means it was not held).
    @inlinable @inline(__always)
    static func unlock(_ word: borrowing Atomic<UInt32>) -> UInt32 {
        word.exchange(unlocked, ordering: .releasing)
    }

    /// Wakes one sleeper after `unlock` returned `contended`.
    @usableFromInline
    static func wakeOne(_ word: UnsafePointer<Atomic<UInt32>>) {
        Platform.futexWake(word, count: 1)
    }
}

/// The address of an atomic word, for the futex calls that need one.
///
/// `Atomic` is address-only and never moved while borrowed (it is `@_rawLayout` and
/// `@_staticExclusiveOnly`), so a borrow hands over its storage in place: for a `let` in a class
/// or a wait node on the stack, this is the word's one and only address. `AtomicAddressTests`
/// checks that it lies inside the object and is the same on every call.
@inlinable @inline(__always)
func address(of word: borrowing Atomic<UInt32>) -> UnsafePointer<Atomic<UInt32>> {
    withUnsafePointer(to: word) { $0 }
}
