import Synchronization

/// The operations of a futex lock on a 32-bit word, the waiting core's mutex.
///
/// The word is `0` when unlocked, `1` when locked with no thread asleep on it, `2` when locked
/// and some thread may be asleep (contended), `3` when, in addition, a sleeper has waited longer
/// than `fairnessThreshold` and asked for the lock to be handed over, and `4` while it is being
/// handed over: free, but only for a thread that has already slept on it.
///
/// Locking is one compare-and-swap when free; unlocking is one compare-and-swap, plus a
/// `FUTEX_WAKE` only when threads sleep. Any thread may unlock, which is what Python's `Lock`
/// needs. It is the design of Rust's `std::sync::Mutex` on Linux (no priority-inheritance futex,
/// so no convoys and no trap on a foreign unlock), with absolute monotonic deadlines for timed
/// acquisition and CPython's eventual fairness: a thread that has waited more than a millisecond
/// gets the lock handed to it, so no thread starves however hard others hammer the lock.
@usableFromInline
enum RawLock {
    @usableFromInline static let unlocked: UInt32 = 0
    @usableFromInline static let locked: UInt32 = 1
    @usableFromInline static let contended: UInt32 = 2
    @usableFromInline static let fairnessRequested: UInt32 = 3
    @usableFromInline static let handedOff: UInt32 = 4

    /// How long a sleeper waits before it asks for the lock to be handed to it (CPython: 1 ms).
    static let fairnessThreshold: Int64 = 1_000_000

    /// How many times a thread looks at a held lock before it goes to sleep on it. Spinning only
    /// pays when the holder runs on another CPU meanwhile; with two CPUs or fewer it mostly
    /// delays the holder, so it is off there.
    static let spinLimit: Int = Platform.cpuCount > 2 ? 20 : 0

    /// Takes the lock if it is free.
    @inlinable @inline(__always)
    static func tryLock(_ word: borrowing Atomic<UInt32>) -> Bool {
        word.compareExchange(expected: unlocked, desired: locked, ordering: .acquiring).exchanged
    }

    /// Takes the lock, sleeping until it is free or `deadline` passes. Returns `false` on timeout.
    ///
    /// Call it after a failed `tryLock`, or with `slept` for a thread that has already slept on the
    /// lock word (one moved there by `ParkingLot.unpark(key:requeueingOnto:_:)`): such a thread
    /// takes the lock marked contended, since others may sleep on it, and may claim a hand-over.
    @usableFromInline
    static func lockContended(_ word: UnsafePointer<Atomic<UInt32>>, deadline: Deadline, slept: Bool = false) -> Bool {
        var slept = slept
        var sleepingSince: Int64 = slept ? Platform.monotonicNow() : 0
        if !slept { spin(word) }
        while true {
            var state = word.pointee.load(ordering: .relaxed)
            switch state {
            case unlocked:
                // Mark it contended: other threads may be asleep, and the unlock must wake one.
                if cas(word, unlocked, contended) { return true }
                continue
            case handedOff where slept:
                if cas(word, handedOff, contended) { return true }
                continue
            case locked:
                if !cas(word, locked, contended) { continue }
                state = contended
            case contended where slept && Platform.monotonicNow() - sleepingSince > fairnessThreshold:
                if !cas(word, contended, fairnessRequested) { continue }
                state = fairnessRequested
            default:
                break
            }
            if Platform.futexWait(word, expected: state, deadline: deadline) == .timedOut {
                // One last look: the lock may have been released, or handed to us, as time ran out.
                return cas(word, unlocked, contended) || cas(word, handedOff, contended)
            }
            if !slept {
                slept = true
                sleepingSince = Platform.monotonicNow()
            }
        }
    }

    @inline(__always)
    private static func cas(_ word: UnsafePointer<Atomic<UInt32>>, _ expected: UInt32, _ desired: UInt32) -> Bool {
        word.pointee.compareExchange(expected: expected, desired: desired, ordering: .acquiringAndReleasing).exchanged
    }

    /// Watches a held, uncontended lock for a short while.
    static func spin(_ word: UnsafePointer<Atomic<UInt32>>) {
        var remaining = spinLimit
        while remaining > 0 && word.pointee.load(ordering: .relaxed) == locked {
            Platform.spinHint()
            remaining -= 1
        }
    }

    /// Takes the lock, waiting as long as it takes: the internal `lock()` of the module's own
    /// bookkeeping locks.
    @inline(__always)
    static func lock(_ word: UnsafePointer<Atomic<UInt32>>) {
        if !tryLock(word.pointee) { _ = lockContended(word, deadline: .never) }
    }

    /// Releases a lock taken with `lock(_:)`.
    @inline(__always)
    static func unlock(_ word: UnsafePointer<Atomic<UInt32>>) {
        if !unlock(word.pointee) { unlockContended(word) }
    }

    /// Makes sure that a thread just moved to sleep on the lock word is woken: marks a held lock
    /// contended, so that its release wakes a sleeper, and wakes one now if the lock is free or
    /// being handed over (a release may have passed without seeing the new sleeper).
    static func ensureWakeUp(_ word: UnsafePointer<Atomic<UInt32>>) {
        while true {
            switch word.pointee.load(ordering: .relaxed) {
            case locked:
                if cas(word, locked, contended) { return }
            case unlocked, handedOff:
                Platform.futexWake(word, count: 1)
                return
            default:
                return  // contended or fairness requested: the release wakes a sleeper
            }
        }
    }

    /// Releases a lock held without sleepers: returns `false` when the slow path is needed
    /// (threads sleep on it, or it is not locked).
    @inlinable @inline(__always)
    static func unlock(_ word: borrowing Atomic<UInt32>) -> Bool {
        word.compareExchange(expected: locked, desired: unlocked, ordering: .releasing).exchanged
    }

    /// Releases the lock after `unlock` returned `false`: wakes a sleeper, or hands the lock to one
    /// that asked. Returns `false` if the lock was not locked.
    @usableFromInline
    @discardableResult
    static func unlockContended(_ word: UnsafePointer<Atomic<UInt32>>) -> Bool {
        while true {
            switch word.pointee.load(ordering: .relaxed) {
            case unlocked:
                return false
            case locked:
                if cas(word, locked, unlocked) { return true }
            case contended:
                if cas(word, contended, unlocked) {
                    Platform.futexWake(word, count: 1)
                    return true
                }
            case fairnessRequested:
                // Keep it taken and hand it over: the sleeper woken claims it. If no thread was
                // asleep after all (its wait timed out), take the offer back.
                if cas(word, fairnessRequested, handedOff) {
                    if Platform.futexWake(word, count: 1) == 0 { _ = cas(word, handedOff, unlocked) }
                    return true
                }
            default:
                // Being handed over: the woken sleeper will find it free instead.
                if cas(word, handedOff, unlocked) { return true }
            }
        }
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
