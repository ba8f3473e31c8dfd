// The RLock workload: mutual exclusion and balanced recursion at random depths, reached with
// untimed, timed and non-blocking acquires, and releases by threads that do not own the lock.

import Synchronization
import Threading

/// One RLock of the pool and the state that checks it.
final class RLockSlot: Sendable {
    let index: Int
    let lock = RLock()
    /// The id of the worker holding the lock (at any depth), 0 when free.
    let owner = Atomic<Int>(0)
    /// Incremented without atomics while the lock is held: guarded by `lock`.
    let count = GuardedBox(0)
    let acquireLabel: Label
    let tryLabel: Label

    /// Creates RLock number `index`, with its labels for the watchdog.
    init(index: Int, board: StatusBoard) {
        self.index = index
        acquireLabel = board.label("RLock#\(index).acquire")
        tryLabel = board.label("RLock#\(index).acquire(blocking: false)")
    }
}

/// Workers take a random RLock of a small pool to a random depth (each level acquired in a random
/// way), check the owner marker at every level, release exactly as many times, and sometimes
/// release once more or release a lock they do not hold, which must throw.
///
/// Invariants: mutual exclusion (owner marker, plain counter); every re-entrant acquire succeeds at
/// once, whatever its mode; the holder stays owner until its last release; a release by a thread
/// that does not own the lock throws "cannot release un-acquired lock"; a failed timed acquire
/// waited its timeout.
final class RLockWorkload: Workload {
    let stats: [PrimitiveStats]
    private let rlockStats: PrimitiveStats
    private let maxDepth = Counter("max-depth")
    private let refused = Counter("foreign-releases-refused")
    private let slots: [RLockSlot]
    private let threads: Int
    private let increments: PthreadMutex<[Int]>

    /// How one acquire is made.
    private enum Mode: UInt64, Sendable {
        case untimed, untimedMinusOne, timed, nonBlocking, zeroTimeout
    }

    private let firstModes = WeightedChoice<Mode>([
        (.untimed, 35), (.untimedMinusOne, 5), (.timed, 35), (.nonBlocking, 15), (.zeroTimeout, 10),
    ])
    private let reentryModes = WeightedChoice<Mode>([
        (.untimed, 30), (.untimedMinusOne, 10), (.timed, 20), (.nonBlocking, 30), (.zeroTimeout, 10),
    ])

    /// Creates the workload for `threads` workers over a pool of three RLocks.
    init(threads: Int, board: StatusBoard, log: ViolationLog) {
        self.threads = threads
        rlockStats = PrimitiveStats("RLock", log: log, notes: [maxDepth, refused])
        stats = [rlockStats]
        slots = (0..<3).map { RLockSlot(index: $0, board: board) }
        increments = PthreadMutex([Int](repeating: 0, count: 3))
    }

    /// The workers `rlock-0`, `rlock-1`, ...
    func makeWorkers() -> [WorkerSpec] {
        (0..<threads).map { index in
            WorkerSpec(name: "rlock-\(index)", stats: rlockStats) { [self] context in work(&context) }
        }
    }

    /// A worker's loop: one nested hold (or one foreign release) per step until the stop flag.
    private func work(_ context: inout WorkerContext) {
        var mine = [Int](repeating: 0, count: slots.count)
        while context.running {
            let slot = slots[context.rng.below(slots.count)]
            let depth = context.rng.int(in: 1...6)
            let first = firstModes.pick(&context.rng)
            // The modes of the five possible re-entries, four bits each (no per-step array).
            var reentries: UInt64 = 0
            var shift: UInt64 = 0
            while shift < 20 {
                reentries |= reentryModes.pick(&context.rng).rawValue << shift
                shift += 4
            }
            let timeout = context.rng.seconds(0.0005, 0.02)
            let spins = context.rng.below(64)
            let yieldInside = context.rng.chance(3)
            let extraRelease = context.rng.chance(10)
            let foreignRelease = context.rng.chance(5)
            do {
                if foreignRelease {
                    context.doing(slot.tryLabel)
                    if rlockStats.expectError(
                        .runtimeError,
                        "cannot release un-acquired lock",
                        "RLock.release() by a non-owner",
                        {
                            try slot.lock.release()
                        }
                    ) {
                        refused.add()
                    }
                } else if try acquire(slot, first, timeout: timeout, context, reentry: false) {
                    try hold(
                        slot,
                        depth: depth,
                        reentries: reentries,
                        timeout: timeout,
                        context,
                        spins: spins,
                        yieldInside: yieldInside
                    )
                    mine[slot.index] += 1
                    if extraRelease {
                        rlockStats.expectError(
                            .runtimeError,
                            "cannot release un-acquired lock",
                            "RLock.release() past depth 0"
                        ) {
                            try slot.lock.release()
                        }
                    }
                }
            } catch {
                rlockStats.violation("unexpected error \(error) on RLock#\(slot.index)")
            }
            rlockStats.op()
            context.step()
        }
        increments.withLock { totals in
            for index in totals.indices { totals[index] += mine[index] }
        }
    }

    /// One acquire in `mode`; a failed timed acquire is checked against its timeout.
    private func acquire(
        _ slot: RLockSlot,
        _ mode: Mode,
        timeout: Double,
        _ context: WorkerContext,
        reentry: Bool
    ) throws -> Bool {
        switch mode {
        case .untimed:
            context.blocking(slot.acquireLabel, timeout: nil)
            return try slot.lock.acquire()
        case .untimedMinusOne:
            context.blocking(slot.acquireLabel, timeout: nil)
            return try slot.lock.acquire(timeout: -1)
        case .timed:
            context.blocking(slot.acquireLabel, timeout: timeout)
            let start = Monotonic.now()
            let acquired = try slot.lock.acquire(timeout: timeout)
            if !acquired && !reentry {
                rlockStats.checkExpired(since: start, timeout: timeout, "RLock#\(slot.index).acquire(timeout:)")
            }
            return acquired
        case .nonBlocking:
            context.doing(slot.tryLabel)
            return try slot.lock.acquire(blocking: false)
        case .zeroTimeout:
            context.doing(slot.tryLabel)
            return try slot.lock.acquire(timeout: 0)
        }
    }

    /// Holds the lock acquired once: marks ownership, re-enters to `depth`, releases `depth` times.
    private func hold(
        _ slot: RLockSlot,
        depth: Int,
        reentries: UInt64,
        timeout: Double,
        _ context: WorkerContext,
        spins: Int,
        yieldInside: Bool
    ) throws {
        let me = context.id
        let (entered, seen) = slot.owner.compareExchange(expected: 0, desired: me, ordering: .sequentiallyConsistent)
        if !entered { rlockStats.violation("acquired RLock#\(slot.index) while worker \(seen) holds it") }
        slot.count.value += 1
        var held = 1
        var level = 1
        while level < depth {
            let mode = Mode(rawValue: (reentries >> UInt64(4 * (level - 1))) & 0xF)!
            if try acquire(slot, mode, timeout: timeout, context, reentry: true) {
                held += 1
            } else {
                rlockStats.violation(
                    "re-entrant acquire of RLock#\(slot.index) (\(mode)) at depth \(held) returned false"
                )
            }
            level += 1
        }
        maxDepth.raise(to: held)
        _ = busyWork(spins)
        if yieldInside { yieldCPU() }
        if !slot.lock.isLocked { rlockStats.violation("RLock#\(slot.index).isLocked is false while held") }
        while held > 1 {
            held -= 1
            try slot.lock.release()
            if entered && slot.owner.load(ordering: .sequentiallyConsistent) != me {
                rlockStats.violation("RLock#\(slot.index) changed hands before its holder's last release")
            }
        }
        if entered && !slot.owner.compareExchange(expected: me, desired: 0, ordering: .sequentiallyConsistent).exchanged
        {
            rlockStats.violation("RLock#\(slot.index) owner marker changed under its holder")
        }
        try slot.lock.release()
    }

    /// Every RLock is free, and each guarded counter equals the holds made.
    func finalCheck() {
        let totals = increments.withLock { $0 }
        for slot in slots {
            if slot.lock.isLocked {
                rlockStats.violation("RLock#\(slot.index) is still locked after every worker stopped")
            }
            guard (try? slot.lock.acquire(timeout: 1)) == true else {
                rlockStats.violation("RLock#\(slot.index) cannot be acquired after every worker stopped")
                continue
            }
            if slot.count.value != totals[slot.index] {
                rlockStats.violation(
                    "RLock#\(slot.index) guarded counter is \(slot.count.value), but the workers "
                        + "incremented it \(totals[slot.index]) times (lost updates)"
                )
            }
            try? slot.lock.release()
        }
    }
}
