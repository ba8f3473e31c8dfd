import CThreading
import Synchronization

/// The operations of a futex lock whose release is a plain store: the queues' lock.
///
/// A `RawLock` is taken with one compare-and-swap and released with another, and a locked
/// read-modify-write is most of what an uncontended `put` or `get` costs (about 2.5 ns each
/// here). This lock is taken the same way but released with a plain store followed by a load,
/// so an uncontended `put` + `get` makes two locked operations instead of four.
///
/// A release must still see a thread that went to sleep on the lock, and a sleeper must still
/// see a release: the store-then-load on one side and the register-then-look on the other is
/// Dekker's pattern, which needs a full fence on each side. The fence of the release side is
/// moved to the sleeper: before it first sleeps, a thread calls the heavy barrier
/// (`membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)` on Linux), which runs a full fence on every
/// CPU running a thread of the process. Every release then either happened before that fence (its
/// store is visible to the sleeper's next look) or after it (its load sees the sleeper's count).
/// This is the asymmetric fence of Folly's `asymmetricLightBarrier`/`asymmetricHeavyBarrier`
/// and liburcu. Where the heavy barrier is missing (not Linux, an old kernel, a sandbox that
/// refuses it) `fenced` is `true` and the release makes an ordinary full fence instead.
///
/// The state is two words: `word` is `0` when unlocked and `1` when locked, and `sleepers` counts
/// the threads that have registered to sleep on the lock and not yet taken it. A release wakes
/// one sleeper whenever `sleepers` is not zero; the woken thread competes for the lock again
/// (no hand-over: like `ArrayBlockingQueue`'s default lock and Rust's `Mutex`, it barges).
@usableFromInline
enum FencelessLock {
    @usableFromInline static var unlocked: UInt32 { 0 }
    @usableFromInline static var locked: UInt32 { 1 }

    /// Whether releases must make a full fence: `true` where the heavy barrier is not available.
    /// Read once by each lock's owner when it is created.
    static let fenced: Bool = cthreading_heavy_barrier_register() != 0

    /// The longest pause, in spin hints, of the exponential backoff with which a thread watches a
    /// held lock before it yields (1, 2, 4, … 64: 127 hints, about 3.5 µs here). The queues hold
    /// their lock for tens of nanoseconds, so a holder running on another CPU is worth waiting
    /// for, and registering to sleep costs a heavy barrier (about 0.5 µs, 16 µs when the other CPU
    /// of this machine runs a thread of the process). On one CPU the holder cannot run meanwhile.
    static let spinLimit: Int = Platform.cpuCount > 1 ? 64 : 0

    /// How many times a thread then yields its CPU (`sched_yield`), looking at the lock after
    /// each, before it registers to sleep: a holder preempted on this CPU runs, and one running
    /// elsewhere gets a few more microseconds. Sleeping as soon as the spin ends made a stream
    /// between two threads fall into sleep/wake-up cycles on the lock (3 000–5 000 heavy barriers
    /// and 30–40 ns an item where this makes 40–500 and 14–28 ns).
    static let yieldLimit = 16

    /// Takes the lock if it is free.
    @inlinable @inline(__always)
    static func tryLock(_ word: borrowing Atomic<UInt32>) -> Bool {
        word.compareExchange(expected: unlocked, desired: locked, ordering: .acquiring).exchanged
    }

    /// Releases the lock; returns whether a thread may be asleep on it, and then the caller must
    /// call `wake(_:)`.
    ///
    /// - Parameters:
    ///   - fenced: `FencelessLock.fenced`, as the owner read it when it was created.
    @inlinable @inline(__always)
    static func unlock(_ word: borrowing Atomic<UInt32>, sleepers: borrowing Atomic<UInt32>, fenced: Bool) -> Bool {
        // A barrier the optimizer cannot see through, before the store too: Swift's ARC
        // optimizer moves a retain past an atomic store (not past a compare-and-swap), and a
        // retain of an item put in the queue that sinks below the release runs after another
        // thread may have taken the item and released it.
        cthreading_compiler_barrier()
        word.store(unlocked, ordering: .releasing)
        // The store must come before the load: for the CPU, the sleeper's heavy barrier (or the
        // fence here) sees to it; for the compiler, the barrier.
        if _slowPath(fenced) {
            atomicMemoryFence(ordering: .sequentiallyConsistent)
        } else {
            cthreading_compiler_barrier()
        }
        return sleepers.load(ordering: .relaxed) != 0
    }

    /// Wakes one thread asleep on the lock, after `unlock` returned `true`.
    @usableFromInline
    static func wake(_ word: UnsafePointer<Atomic<UInt32>>) {
        Platform.futexWake(word, count: 1)
    }

    /// Takes the lock, sleeping until it is free: call it after a failed `tryLock`.
    @usableFromInline
    static func lockContended(
        _ word: UnsafePointer<Atomic<UInt32>>,
        sleepers: UnsafePointer<Atomic<UInt32>>,
        fenced: Bool
    ) {
        var pauses = 1
        while pauses <= spinLimit {
            for _ in 0..<pauses { Platform.spinHint() }
            if tryLockIfFree(word) { return }
            pauses &*= 2
        }
        for _ in 0..<yieldLimit {
            Platform.yieldProcessor()
            if tryLockIfFree(word) { return }
        }
        // Register, then make sure that every release from now on either is seen below or sees
        // the registration (the other half of the release's fence).
        sleepers.pointee.wrappingAdd(1, ordering: .sequentiallyConsistent)
        if fenced {
            atomicMemoryFence(ordering: .sequentiallyConsistent)
        } else {
            heavyBarrier()
        }
        while true {
            if tryLockIfFree(word) {
                sleepers.pointee.wrappingSubtract(1, ordering: .relaxed)
                return
            }
            _ = Platform.futexWait(word, expected: locked, deadline: .never)
        }
    }

    /// Takes the lock if a look finds it free (the look keeps a watcher from taking the cache line
    /// from the holder with a failing compare-and-swap).
    @inline(__always)
    static func tryLockIfFree(_ word: UnsafePointer<Atomic<UInt32>>) -> Bool {
        word.pointee.load(ordering: .relaxed) == unlocked && tryLock(word.pointee)
    }

    /// Runs the heavy half of the fence: a full fence on every CPU running a thread of the process.
    static func heavyBarrier() {
        let rc = cthreading_heavy_barrier()
        precondition(rc == 0, "membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) failed with error \(rc)")
    }
}
