// The Lock workload: mutual exclusion under untimed, timed and non-blocking acquires, and Locks
// handed off from the thread that acquired them to another thread that releases them.

import Synchronization
import Threading

/// One Lock of the pool and the state that checks it.
final class LockSlot: Sendable {
    let index: Int
    let lock = Lock()
    /// The id of the worker inside the critical section, or of the worker that left the lock held
    /// for another thread to release; 0 when the lock is free.
    let owner = Atomic<Int>(0)
    /// The id of the worker that handed the lock off, 0 when no handoff is pending.
    let mailbox = Atomic<Int>(0)
    /// Incremented inside the critical section without atomics: guarded by `lock`.
    let count = GuardedBox(0)
    let acquireLabel: Label
    let tryLabel: Label

    /// Creates lock number `index`, with its labels for the watchdog.
    init(index: Int, board: StatusBoard) {
        self.index = index
        acquireLabel = board.label("Lock#\(index).acquire")
        tryLabel = board.label("Lock#\(index).acquire(blocking: false)")
    }
}

/// Workers acquire a random Lock of a small pool in a random way, check an owner marker inside the
/// critical section, and release it — or leave it held for another worker to release.
///
/// Invariants: the owner marker is never seen set by a thread that just acquired the lock; a
/// plain counter incremented under the lock ends equal to the sum of the workers' increments;
/// `isLocked` holds inside; a timed acquire that fails waited its timeout; misuse throws
/// CPython's errors. A worker that must block without a timeout first releases any pending
/// handoff of that lock, and every worker releases pending handoffs when it stops, so a handoff
/// never strands a blocked thread.
final class LockWorkload: Workload {
    let stats: [PrimitiveStats]
    private let lockStats: PrimitiveStats
    private let handoffs = Counter("handoffs")
    private let releasedByOther = Counter("released-by-other-thread")
    private let slots: [LockSlot]
    private let threads: Int
    /// Every worker's increments per lock, added up when the workers stop.
    private let increments: PthreadMutex<[Int]>

    /// What a step does with a lock of the pool.
    private enum Op: Sendable {
        case untimed, untimedMinusOne, timed, nonBlocking, zeroTimeout, takeHandoff, misuse
    }

    private let ops = WeightedChoice<Op>([
        (.untimed, 25), (.untimedMinusOne, 5), (.timed, 30), (.nonBlocking, 15), (.zeroTimeout, 5),
        (.takeHandoff, 18), (.misuse, 2),
    ])

    /// Creates the workload for `threads` workers over a pool of three Locks.
    init(threads: Int, board: StatusBoard, log: ViolationLog) {
        self.threads = threads
        lockStats = PrimitiveStats("Lock", log: log, notes: [handoffs, releasedByOther])
        stats = [lockStats]
        slots = (0..<3).map { LockSlot(index: $0, board: board) }
        increments = PthreadMutex([Int](repeating: 0, count: 3))
    }

    /// The workers `lock-0`, `lock-1`, ...
    func makeWorkers() -> [WorkerSpec] {
        (0..<threads).map { index in
            WorkerSpec(name: "lock-\(index)", stats: lockStats) { [self] context in work(&context) }
        }
    }

    /// A worker's loop: one random operation per step until the stop flag; then it releases any
    /// pending handoff and reports its increments.
    private func work(_ context: inout WorkerContext) {
        var mine = [Int](repeating: 0, count: slots.count)
        while context.running {
            let op = ops.pick(&context.rng)
            let slot = slots[context.rng.below(slots.count)]
            let timeout = context.rng.seconds(0.0005, 0.02)
            let handOff = context.rng.chance(15)
            let spins = context.rng.below(64)
            let yieldInside = context.rng.chance(3)
            do {
                var acquired = false
                switch op {
                case .untimed, .untimedMinusOne:
                    try releaseHandoff(of: slot, context, requireOther: false)
                    context.blocking(slot.acquireLabel, timeout: nil)
                    acquired = try op == .untimed ? slot.lock.acquire() : slot.lock.acquire(timeout: -1)
                    if !acquired { lockStats.violation("Lock#\(slot.index).acquire() without timeout returned false") }
                case .timed:
                    context.blocking(slot.acquireLabel, timeout: timeout)
                    let start = Monotonic.now()
                    acquired = try slot.lock.acquire(timeout: timeout)
                    if !acquired {
                        lockStats.checkExpired(since: start, timeout: timeout, "Lock#\(slot.index).acquire(timeout:)")
                    }
                case .nonBlocking:
                    context.doing(slot.tryLabel)
                    acquired = try slot.lock.acquire(blocking: false)
                case .zeroTimeout:
                    context.doing(slot.tryLabel)
                    acquired = try slot.lock.acquire(timeout: 0)
                case .takeHandoff:
                    try releaseHandoff(of: slot, context, requireOther: true)
                case .misuse:
                    misuse(slot)
                }
                if acquired {
                    try critical(slot, context, handOff: handOff, spins: spins, yieldInside: yieldInside)
                    mine[slot.index] += 1
                }
            } catch {
                lockStats.violation("unexpected error \(error) in \(op) on Lock#\(slot.index)")
            }
            lockStats.op()
            context.step()
        }
        for slot in slots {
            do { try releaseHandoff(of: slot, context, requireOther: false) } catch {
                lockStats.violation("releasing a handed-off Lock#\(slot.index) threw \(error)")
            }
        }
        increments.withLock { totals in
            for index in totals.indices { totals[index] += mine[index] }
        }
    }

    /// The critical section: marks ownership, increments the guarded counter, then releases the
    /// lock or hands it off.
    private func critical(
        _ slot: LockSlot,
        _ context: WorkerContext,
        handOff: Bool,
        spins: Int,
        yieldInside: Bool
    ) throws {
        let me = context.id
        let (entered, seen) = slot.owner.compareExchange(expected: 0, desired: me, ordering: .sequentiallyConsistent)
        if !entered { lockStats.violation("acquired Lock#\(slot.index) while worker \(seen) holds it") }
        if !slot.lock.isLocked {
            lockStats.violation("Lock#\(slot.index).isLocked is false inside the critical section")
        }
        slot.count.value += 1
        _ = busyWork(spins)
        if yieldInside { yieldCPU() }
        let still = slot.owner.load(ordering: .sequentiallyConsistent)
        if entered && still != me {
            lockStats.violation("worker \(still) entered Lock#\(slot.index) while this worker held it")
        }
        if entered && handOff
            && slot.mailbox.compareExchange(expected: 0, desired: me, ordering: .sequentiallyConsistent).exchanged
        {
            handoffs.add()
            return  // stays locked, marked with this worker's id, until another thread releases it
        }
        if entered && !slot.owner.compareExchange(expected: me, desired: 0, ordering: .sequentiallyConsistent).exchanged
        {
            lockStats.violation("Lock#\(slot.index) owner marker changed under its holder")
        }
        try slot.lock.release()
    }

    /// Releases the pending handoff of `slot`, if any (only another worker's when `requireOther`).
    private func releaseHandoff(of slot: LockSlot, _ context: WorkerContext, requireOther: Bool) throws {
        let giver = slot.mailbox.load(ordering: .sequentiallyConsistent)
        guard giver != 0, !(requireOther && giver == context.id) else { return }
        guard slot.mailbox.compareExchange(expected: giver, desired: 0, ordering: .sequentiallyConsistent).exchanged
        else {
            return
        }
        let (cleared, seen) = slot.owner.compareExchange(expected: giver, desired: 0, ordering: .sequentiallyConsistent)
        if !cleared {
            lockStats.violation("Lock#\(slot.index) handed off by worker \(giver), but the owner marker is \(seen)")
        }
        if !slot.lock.isLocked {
            lockStats.violation("Lock#\(slot.index) handed off while held, but isLocked is false")
        }
        try slot.lock.release()
        if giver != context.id { releasedByOther.add() }
    }

    /// Misuse that must throw, without ever taking the shared lock.
    private func misuse(_ slot: LockSlot) {
        lockStats.expectError(.runtimeError, "release unlocked lock", "Lock().release()") { try Lock().release() }
        lockStats.expectError(
            .valueError,
            "can't specify a timeout for a non-blocking call",
            "acquire(blocking: false, timeout: 1)"
        ) {
            if try slot.lock.acquire(blocking: false, timeout: 1) { try slot.lock.release() }
        }
        lockStats.expectError(.valueError, "timeout value must be a non-negative number", "acquire(timeout: -2)") {
            if try slot.lock.acquire(timeout: -2) { try slot.lock.release() }
        }
        lockStats.expectError(.valueError, "Invalid value NaN (not a number)", "acquire(timeout: .nan)") {
            if try slot.lock.acquire(timeout: .nan) { try slot.lock.release() }
        }
    }

    /// Every lock is free and unmarked, and each guarded counter equals the increments made.
    func finalCheck() {
        let totals = increments.withLock { $0 }
        for slot in slots {
            if slot.lock.isLocked {
                lockStats.violation("Lock#\(slot.index) is still locked after every worker stopped")
            }
            if slot.owner.load(ordering: .sequentiallyConsistent) != 0 {
                lockStats.violation("Lock#\(slot.index) owner marker still set after every worker stopped")
            }
            guard (try? slot.lock.acquire(timeout: 1)) == true else {
                lockStats.violation("Lock#\(slot.index) cannot be acquired after every worker stopped")
                continue
            }
            if slot.count.value != totals[slot.index] {
                lockStats.violation(
                    "Lock#\(slot.index) guarded counter is \(slot.count.value), but the workers "
                        + "incremented it \(totals[slot.index]) times (lost updates)"
                )
            }
            try? slot.lock.release()
        }
    }
}
