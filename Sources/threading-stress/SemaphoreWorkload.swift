// The Semaphore and BoundedSemaphore workload: holders never exceed the bound, under single
// acquires of every kind, bursts of timed acquires given back with one release(n), and
// over-releases that a BoundedSemaphore must refuse.

import Synchronization
import Threading

/// A shared semaphore with its bound and the count of threads holding units.
final class SemaphoreTarget: Sendable {
    let name: String
    let semaphore: Threading.Semaphore
    /// The initial value: no more units than this may ever be held at once.
    let bound: Int
    let bounded: Bool
    /// Units held, incremented after an acquire and decremented before the release.
    let holders = Atomic<Int>(0)
    let stats: PrimitiveStats
    let acquireLabel: Label
    let tryLabel: Label

    /// Creates a Semaphore or BoundedSemaphore of initial value `bound`.
    init(bounded: Bool, bound: Int, stats: PrimitiveStats, board: StatusBoard) throws {
        self.bounded = bounded
        self.bound = bound
        self.stats = stats
        name = bounded ? "BoundedSemaphore(\(bound))" : "Semaphore(\(bound))"
        semaphore = bounded ? try BoundedSemaphore(bound) : try Threading.Semaphore(bound)
        acquireLabel = board.label("\(name).acquire")
        tryLabel = board.label("\(name).acquire(blocking: false)")
    }
}

/// Half the workers use the Semaphore, half the BoundedSemaphore (each of a random value from 1
/// to 4). They take one unit in a random way, or a burst of several with timed acquires given
/// back with one `release(n)`; now and then they check misuse, and a private BoundedSemaphore's
/// refusals.
///
/// Invariants: the units held never exceed the initial value; a failed timed acquire waited its
/// timeout; a BoundedSemaphore refuses a release past its initial value with "Semaphore released
/// too many times" and leaves its value unchanged; at the end both values are back to the initial
/// value.
final class SemaphoreWorkload: Workload {
    let stats: [PrimitiveStats]
    private let semaphoreStats: PrimitiveStats
    private let boundedStats: PrimitiveStats
    private let semaphoreBursts = Counter("bursts")
    private let boundedBursts = Counter("bursts")
    private let refusals = Counter("over-releases-refused")
    private let targets: [SemaphoreTarget]
    private let threads: Int

    /// What a step does.
    private enum Op: Sendable {
        case untimed, timed, nonBlocking, zeroTimeout, burst, privateBounded, misuse
    }

    private let ops = WeightedChoice<Op>([
        (.untimed, 25), (.timed, 30), (.nonBlocking, 12), (.zeroTimeout, 5), (.burst, 23), (.privateBounded, 3),
        (.misuse, 2),
    ])

    /// Creates the workload for `threads` workers; the initial values come from `rng`.
    init(threads: Int, board: StatusBoard, log: ViolationLog, rng: inout Xoshiro256) {
        self.threads = threads
        semaphoreStats = PrimitiveStats("Semaphore", log: log, notes: [semaphoreBursts])
        boundedStats = PrimitiveStats("BoundedSemaphore", log: log, notes: [boundedBursts, refusals])
        stats = [semaphoreStats, boundedStats]
        targets = [
            try! SemaphoreTarget(bounded: false, bound: rng.int(in: 1...4), stats: semaphoreStats, board: board),
            try! SemaphoreTarget(bounded: true, bound: rng.int(in: 1...4), stats: boundedStats, board: board),
        ]
    }

    /// The workers `semaphore-0`, `semaphore-1`, ...
    func makeWorkers() -> [WorkerSpec] {
        (0..<threads).map { index in
            WorkerSpec(name: "semaphore-\(index)", stats: semaphoreStats) { [self] context in
                work(&context, preferred: index % 2)
            }
        }
    }

    /// A worker's loop: one random operation on its semaphore per step until the stop flag.
    ///
    /// Each semaphore has its own half of the team (a team of one alternates): when workers pick
    /// either at random, the FIFO handoff of one of them turns into a convoy that holds nearly
    /// every thread, and the other is then hardly ever contended.
    private func work(_ context: inout WorkerContext, preferred: Int) {
        var step = 0
        while context.running {
            let target = targets[threads == 1 ? step % 2 : preferred]
            step += 1
            let op = ops.pick(&context.rng)
            let timeout = context.rng.seconds(0.0005, 0.02)
            let burst = context.rng.int(in: 1...max(1, target.bound))
            let spins = context.rng.below(64)
            let overRelease = context.rng.chance(20)
            let privateValue = context.rng.int(in: 1...4)
            let privateHeld = context.rng.int(in: 0...privateValue)
            do {
                switch op {
                case .untimed, .timed, .nonBlocking, .zeroTimeout:
                    if try acquireOne(target, op, timeout: timeout, context) {
                        hold(target, units: 1, spins: spins)
                        try target.semaphore.release()
                    }
                case .burst:
                    try runBurst(
                        target,
                        units: burst,
                        timeout: timeout,
                        overRelease: overRelease,
                        spins: spins,
                        context
                    )
                case .privateBounded:
                    try checkPrivateBounded(value: privateValue, held: privateHeld)
                case .misuse:
                    misuse(target)
                }
            } catch {
                if op == .privateBounded {
                    boundedStats.violation("unexpected error \(error) checking a private BoundedSemaphore")
                } else {
                    target.stats.violation("unexpected error \(error) in \(op) on \(target.name)")
                }
            }
            target.stats.op()
            context.step()
        }
    }

    /// One acquire of one unit in the way `op` says; a failed timed acquire is checked.
    private func acquireOne(
        _ target: SemaphoreTarget,
        _ op: Op,
        timeout: Double,
        _ context: WorkerContext
    ) throws -> Bool {
        switch op {
        case .untimed:
            context.blocking(target.acquireLabel, timeout: nil)
            let acquired = try target.semaphore.acquire()
            if !acquired { target.stats.violation("\(target.name).acquire() without timeout returned false") }
            return acquired
        case .timed:
            context.blocking(target.acquireLabel, timeout: timeout)
            let start = Monotonic.now()
            let acquired = try target.semaphore.acquire(timeout: timeout)
            if !acquired {
                target.stats.checkExpired(since: start, timeout: timeout, "\(target.name).acquire(timeout:)")
            }
            return acquired
        case .zeroTimeout:
            context.doing(target.tryLabel)
            return try target.semaphore.acquire(timeout: 0)
        default:
            context.doing(target.tryLabel)
            return try target.semaphore.acquire(blocking: false)
        }
    }

    /// Counts `units` more holders, checks the bound, works a little, and counts them out again.
    private func hold(_ target: SemaphoreTarget, units: Int, spins: Int) {
        let holders = target.holders.wrappingAdd(units, ordering: .sequentiallyConsistent).newValue
        if holders > target.bound {
            target.stats.violation("\(holders) units of \(target.name) held at once")
        }
        _ = busyWork(spins)
        target.holders.wrappingSubtract(units, ordering: .sequentiallyConsistent)
    }

    /// Takes up to `units` units one timed acquire at a time (never blocking without a timeout
    /// while holding some), then gives them all back with one `release(n)`.
    private func runBurst(
        _ target: SemaphoreTarget,
        units: Int,
        timeout: Double,
        overRelease: Bool,
        spins: Int,
        _ context: WorkerContext
    ) throws {
        var taken = 0
        while taken < units {
            context.blocking(target.acquireLabel, timeout: timeout)
            let start = Monotonic.now()
            guard try target.semaphore.acquire(timeout: timeout) else {
                target.stats.checkExpired(since: start, timeout: timeout, "\(target.name).acquire(timeout:)")
                break
            }
            taken += 1
        }
        guard taken > 0 else { return }
        (target.bounded ? boundedBursts : semaphoreBursts).add()
        target.holders.wrappingAdd(taken, ordering: .sequentiallyConsistent)
        let holders = target.holders.load(ordering: .sequentiallyConsistent)
        if holders > target.bound { target.stats.violation("\(holders) units of \(target.name) held at once") }
        _ = busyWork(spins)
        if target.bounded && overRelease {
            // Whatever the others hold, the value plus `taken + bound` passes the bound.
            if target.stats.expectError(
                .valueError,
                "Semaphore released too many times",
                "\(target.name).release(\(taken + target.bound))",
                {
                    try target.semaphore.release(taken + target.bound)
                }
            ) {
                refusals.add()
            }
        }
        target.holders.wrappingSubtract(taken, ordering: .sequentiallyConsistent)
        try target.semaphore.release(taken)
    }

    /// A private BoundedSemaphore(value) with `held` units taken: releasing one more than held
    /// must throw and leave the value unchanged, as must a release at the full value.
    private func checkPrivateBounded(value: Int, held: Int) throws {
        let semaphore = try BoundedSemaphore(value)
        for _ in 0..<held {
            if !(try semaphore.acquire(blocking: false)) {
                boundedStats.violation("private BoundedSemaphore(\(value)) ran out early")
            }
        }
        if boundedStats.expectError(
            .valueError,
            "Semaphore released too many times",
            "BoundedSemaphore(\(value)).release(\(held + 1)) with \(held) held",
            {
                try semaphore.release(held + 1)
            }
        ) {
            refusals.add()
        }
        if semaphore.currentValue != value - held {
            boundedStats.violation(
                "a refused release changed BoundedSemaphore(\(value))'s value to \(semaphore.currentValue), "
                    + "not \(value - held)"
            )
        }
        if held > 0 { try semaphore.release(held) }
        if boundedStats.expectError(
            .valueError,
            "Semaphore released too many times",
            "BoundedSemaphore(\(value)).release() at full value",
            {
                try semaphore.release()
            }
        ) {
            refusals.add()
        }
        if semaphore.currentValue != value {
            boundedStats.violation(
                "BoundedSemaphore(\(value)) has value \(semaphore.currentValue) after its units came back"
            )
        }
        boundedStats.op()
    }

    /// Misuse that must throw without touching the shared semaphore's value.
    private func misuse(_ target: SemaphoreTarget) {
        target.stats.expectError(.valueError, "semaphore initial value must be >= 0", "Semaphore(-1)") {
            _ = try Threading.Semaphore(-1)
        }
        target.stats.expectError(.valueError, "n must be one or more", "\(target.name).release(0)") {
            try target.semaphore.release(0)
        }
        target.stats.expectError(
            .valueError,
            "can't specify timeout for non-blocking acquire",
            "\(target.name).acquire(blocking: false, timeout: 1)"
        ) {
            if try target.semaphore.acquire(blocking: false, timeout: 1) { try target.semaphore.release() }
        }
    }

    /// Both semaphores are back to their initial value, with no holder counted.
    func finalCheck() {
        for target in targets {
            if target.semaphore.currentValue != target.bound {
                target.stats.violation(
                    "\(target.name) ends with value \(target.semaphore.currentValue), not \(target.bound) "
                        + "(units lost or created)"
                )
            }
            if target.holders.load(ordering: .sequentiallyConsistent) != 0 {
                target.stats.violation("\(target.name) still has holders at the end")
            }
        }
    }
}
