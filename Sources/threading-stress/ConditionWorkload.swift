// The Condition workload: producers and consumers over Lock- and RLock-backed conditions, with
// random notify(n)/notifyAll, timed wait and waitFor; every item is consumed exactly once.

import Synchronization
import Threading

/// The bookkeeping of one condition's bounded queue; every field is guarded by the condition's lock.
struct ConditionLedger {
    /// Items waiting: `producer << 40 | sequence number`.
    var queue: [UInt64] = []
    /// Items produced so far by each producer (its next sequence number).
    var produced: [Int]
    /// One bit per item of each producer, set when the item is consumed.
    var consumed: [[UInt64]]
    var consumedCount = 0
    /// Threads inside `wait`/`waitFor` (counted under the lock before and after the call).
    var registered = 0
    /// An upper bound on the waiters that notifications have woken and that have not returned yet.
    ///
    /// `notify(n)` wakes min(n, parked) waiters, and parked <= registered - (woken, not returned),
    /// so afterwards the woken-not-returned are at most min(bound + n, registered); a `wait` that
    /// returns true is one of them; and they are never more than `registered`. A `wait` that
    /// returns true while the bound is 0 was woken by no notification: a spurious wake-up.
    var wakesInFlight = 0

    /// An empty ledger for `producers` producers.
    init(producers: Int) {
        produced = [Int](repeating: 0, count: producers)
        consumed = [[UInt64]](repeating: [], count: producers)
    }

    /// A thread is about to wait.
    mutating func register() {
        registered += 1
    }

    /// A waiter is back, holding the lock.
    mutating func deregister() {
        registered -= 1
        wakesInFlight = min(wakesInFlight, registered)
    }

    /// `notify(n)` is about to be called.
    mutating func notifying(_ n: Int) {
        wakesInFlight = min(wakesInFlight + min(n, registered), registered)
    }

    /// A `wait` returned true; returns false if no notification can have woken it.
    mutating func consumeWake() -> Bool {
        guard wakesInFlight > 0 else { return false }
        wakesInFlight -= 1
        return true
    }
}

/// One condition with its queue and checking state.
final class ConditionChannel: Sendable {
    let index: Int
    let condition: Condition
    /// Whether the lock underneath is an RLock (then only its owner may wait and notify).
    let reentrant: Bool
    /// The id of the worker holding the condition's lock, 0 when none.
    let owner = Atomic<Int>(0)
    /// Guarded by `condition`'s lock.
    let ledger: GuardedBox<ConditionLedger>
    let name: String
    let acquireLabel: Label
    let waitLabel: Label
    let waitForLabel: Label

    /// Creates channel `index` over `condition`, whose lock is of `kind`.
    init(index: Int, condition: Condition, kind: String, reentrant: Bool, producers: Int, board: StatusBoard) {
        self.index = index
        self.condition = condition
        self.reentrant = reentrant
        ledger = GuardedBox(ConditionLedger(producers: producers))
        name = "Condition#\(index)(\(kind))"
        acquireLabel = board.label("\(name).acquire")
        waitLabel = board.label("\(name).wait")
        waitForLabel = board.label("\(name).waitFor")
    }
}

/// Each worker, at each step, produces into or consumes from a random condition: a bounded queue
/// of uniquely numbered items guarded by the condition's lock (a Lock, an RLock, and the default
/// RLock; RLock holders sometimes hold it twice across the wait).
///
/// Invariants: the lock is held by one worker at a time, also right after `wait` returns; each
/// item is consumed at most once, and at the end every item produced has been consumed (the
/// leftovers in the queues are drained then); `wait` returns true only when a notification can
/// have woken it (no spurious wake-ups); a `wait` or `waitFor` that returns false
/// waited its timeout; the RLock depth is restored after `wait`; waiting or notifying without the
/// lock throws.
final class ConditionWorkload: Workload {
    let stats: [PrimitiveStats]
    private let conditionStats: PrimitiveStats
    private let produced = Counter("items-produced")
    private let consumed = Counter("items-consumed")
    private let notifiedWakeups = Counter("notified-wakeups")
    private let channels: [ConditionChannel]
    private let threads: Int
    private let capacity = 32

    /// How a producer notifies: one waiter, as many as it produced, a random 0...3, or all.
    private enum Notify: Sendable {
        case one, produced, random, all
    }

    private let notifies = WeightedChoice<Notify>([(.one, 35), (.produced, 25), (.random, 20), (.all, 20)])

    /// Creates the workload for `threads` workers (at least 2) over three conditions.
    init(threads: Int, board: StatusBoard, log: ViolationLog) {
        self.threads = max(threads, 2)
        conditionStats = PrimitiveStats("Condition", log: log, notes: [produced, consumed, notifiedWakeups])
        stats = [conditionStats]
        let team = self.threads
        channels = [
            ConditionChannel(
                index: 0,
                condition: Condition(Lock()),
                kind: "Lock",
                reentrant: false,
                producers: team,
                board: board
            ),
            ConditionChannel(
                index: 1,
                condition: Condition(RLock()),
                kind: "RLock",
                reentrant: true,
                producers: team,
                board: board
            ),
            ConditionChannel(
                index: 2,
                condition: Condition(),
                kind: "default RLock",
                reentrant: true,
                producers: team,
                board: board
            ),
        ]
    }

    /// The workers `condition-0`, `condition-1`, ...; each produces under its own number.
    func makeWorkers() -> [WorkerSpec] {
        (0..<threads).map { slot in
            WorkerSpec(name: "condition-\(slot)", stats: conditionStats) { [self] context in work(&context, slot: slot)
            }
        }
    }

    /// The parameters of one step, all drawn from the worker's generator before it runs.
    private struct Step {
        var produce: Bool
        var timedAcquire: Bool
        var nest: Bool
        var timeout: Double
        var count: Int
        var notify: Notify
        var notifyCount: Int
        var explicitWait: Bool
        var extraRelease: Bool
        var misuse: Bool
    }

    /// A worker's loop: one produce, consume or misuse step per iteration until the stop flag.
    private func work(_ context: inout WorkerContext, slot: Int) {
        while context.running {
            let channel = channels[context.rng.below(channels.count)]
            let step = Step(
                produce: context.rng.chance(50),
                timedAcquire: context.rng.chance(25),
                nest: context.rng.chance(30),
                timeout: context.rng.seconds(0.001, 0.03),
                count: context.rng.int(in: 1...4),
                notify: notifies.pick(&context.rng),
                notifyCount: context.rng.int(in: 0...3),
                explicitWait: context.rng.chance(50),
                extraRelease: context.rng.chance(10),
                misuse: context.rng.chance(2)
            )
            if step.misuse {
                misuse(channel)
            } else {
                run(step, on: channel, slot: slot, context)
            }
            conditionStats.op()
            context.step()
        }
    }

    /// Acquires the condition's lock (twice for a nested RLock step), produces or consumes, and
    /// releases it as many times.
    private func run(_ step: Step, on channel: ConditionChannel, slot: Int, _ context: WorkerContext) {
        let condition = channel.condition
        do {
            if step.timedAcquire {
                context.blocking(channel.acquireLabel, timeout: step.timeout)
                let start = Monotonic.now()
                guard try condition.acquire(timeout: step.timeout) else {
                    conditionStats.checkExpired(
                        since: start,
                        timeout: step.timeout,
                        "\(channel.name).acquire(timeout:)"
                    )
                    return
                }
            } else {
                context.blocking(channel.acquireLabel, timeout: nil)
                try condition.acquire()
            }
        } catch {
            conditionStats.violation("\(channel.name).acquire threw \(error)")
            return
        }
        var depth = 1
        if step.nest && channel.reentrant {
            if (try? condition.acquire(blocking: false)) == true {
                depth = 2
            } else {
                conditionStats.violation("re-entrant acquire of \(channel.name) failed")
            }
        }
        enter(channel, context)
        do {
            if step.produce {
                try produce(step, on: channel, slot: slot, context)
            } else {
                try consume(step, on: channel, context)
            }
        } catch {
            conditionStats.violation(
                "unexpected error \(error) in \(step.produce ? "producer" : "consumer") on \(channel.name)"
            )
        }
        leave(channel, context)
        for level in 0..<depth {
            do {
                try condition.release()
            } catch {
                conditionStats.violation(
                    "release \(level + 1) of \(depth) of \(channel.name) threw \(error) "
                        + "(depth not restored after wait?)"
                )
            }
        }
        if step.extraRelease && channel.reentrant {
            conditionStats.expectError(
                .runtimeError,
                "cannot release un-acquired lock",
                "\(channel.name).release() past depth 0"
            ) {
                try condition.release()
            }
        }
    }

    /// Waits for room if the queue is full, appends up to `step.count` items, and notifies.
    private func produce(_ step: Step, on channel: ConditionChannel, slot: Int, _ context: WorkerContext) throws {
        let ledger = channel.ledger
        if ledger.value.queue.count >= capacity {
            ledger.value.register()
            leave(channel, context)
            context.blocking(channel.waitForLabel, timeout: step.timeout)
            let start = Monotonic.now()
            let ready = try channel.condition.waitFor(timeout: step.timeout) { ledger.value.queue.count < capacity }
            enter(channel, context)
            ledger.value.deregister()
            if !ready {
                conditionStats.checkExpired(since: start, timeout: step.timeout, "\(channel.name).waitFor(timeout:)")
                if ledger.value.queue.count < capacity {
                    conditionStats.violation("\(channel.name).waitFor returned false while its predicate holds")
                }
            }
        }
        let count = min(step.count, capacity - ledger.value.queue.count)
        for _ in 0..<count {
            let sequence = ledger.value.produced[slot]
            ledger.value.produced[slot] += 1
            ledger.value.queue.append(UInt64(slot) << 40 | UInt64(sequence))
        }
        produced.add(count)
        switch step.notify {
        case .one: try notify(channel, 1)
        case .produced: try notify(channel, count)
        case .random: try notify(channel, step.notifyCount)
        case .all:
            ledger.value.notifying(.max)
            try channel.condition.notifyAll()
        }
    }

    /// Waits for items if the queue is empty (`wait` in a loop, or `waitFor`), takes up to
    /// `step.count` of them, and may notify one waiting producer.
    private func consume(_ step: Step, on channel: ConditionChannel, _ context: WorkerContext) throws {
        let ledger = channel.ledger
        if ledger.value.queue.isEmpty {
            if step.explicitWait {
                var rounds = 0
                while ledger.value.queue.isEmpty && rounds < 3 && context.running {
                    rounds += 1
                    ledger.value.register()
                    leave(channel, context)
                    context.blocking(channel.waitLabel, timeout: step.timeout)
                    let start = Monotonic.now()
                    let notified = try channel.condition.wait(timeout: step.timeout)
                    enter(channel, context)
                    if notified && !ledger.value.consumeWake() {
                        conditionStats.violation(
                            "\(channel.name).wait returned true, but no notification can have woken it "
                                + "(a spurious wake-up)"
                        )
                    }
                    ledger.value.deregister()
                    if notified {
                        notifiedWakeups.add()
                    } else {
                        conditionStats.checkExpired(
                            since: start,
                            timeout: step.timeout,
                            "\(channel.name).wait(timeout:)"
                        )
                        break
                    }
                }
            } else {
                ledger.value.register()
                leave(channel, context)
                context.blocking(channel.waitForLabel, timeout: step.timeout)
                let start = Monotonic.now()
                let ready = try channel.condition.waitFor(timeout: step.timeout) { !ledger.value.queue.isEmpty }
                enter(channel, context)
                ledger.value.deregister()
                if ready && ledger.value.queue.isEmpty {
                    conditionStats.violation("\(channel.name).waitFor returned true, but its predicate is false")
                } else if !ready {
                    conditionStats.checkExpired(
                        since: start,
                        timeout: step.timeout,
                        "\(channel.name).waitFor(timeout:)"
                    )
                    if !ledger.value.queue.isEmpty {
                        conditionStats.violation("\(channel.name).waitFor returned false while its predicate holds")
                    }
                }
            }
        }
        let count = min(step.count, ledger.value.queue.count)
        for _ in 0..<count {
            markConsumed(ledger.value.queue.removeFirst(), in: channel)
        }
        if count > 0 && step.notifyCount > 0 { try notify(channel, 1) }
    }

    /// `notify(n)`, accounting for the waiters it may wake.
    private func notify(_ channel: ConditionChannel, _ n: Int) throws {
        channel.ledger.value.notifying(n)
        try channel.condition.notify(n)
    }

    /// Records the consumption of `item`; the lock is held.
    private func markConsumed(_ item: UInt64, in channel: ConditionChannel) {
        let producer = Int(item >> 40)
        let sequence = Int(item & (1 << 40 - 1))
        let ledger = channel.ledger
        guard producer < ledger.value.produced.count, sequence < ledger.value.produced[producer] else {
            conditionStats.violation("\(channel.name): consumed item \(producer):\(sequence), which was never produced")
            return
        }
        let word = sequence / 64
        let bit = UInt64(1) << UInt64(sequence % 64)
        while ledger.value.consumed[producer].count <= word { ledger.value.consumed[producer].append(0) }
        if ledger.value.consumed[producer][word] & bit != 0 {
            conditionStats.violation("\(channel.name): item \(producer):\(sequence) consumed twice")
            return
        }
        ledger.value.consumed[producer][word] |= bit
        ledger.value.consumedCount += 1
        consumed.add()
    }

    /// Marks the lock as held by this worker (just acquired, or re-acquired by `wait`).
    private func enter(_ channel: ConditionChannel, _ context: WorkerContext) {
        let (entered, seen) = channel.owner.compareExchange(
            expected: 0,
            desired: context.id,
            ordering: .sequentiallyConsistent
        )
        if !entered { conditionStats.violation("\(channel.name): got the lock while worker \(seen) holds it") }
    }

    /// Clears the marker before the lock is let go (released, or released by `wait`).
    private func leave(_ channel: ConditionChannel, _ context: WorkerContext) {
        let (left, seen) = channel.owner.compareExchange(
            expected: context.id,
            desired: 0,
            ordering: .sequentiallyConsistent
        )
        if !left { conditionStats.violation("\(channel.name): the holder's marker was replaced by worker \(seen)") }
    }

    /// Waiting and notifying without the lock must throw.
    private func misuse(_ channel: ConditionChannel) {
        let condition = channel.reentrant ? channel.condition : Condition(Lock())
        let name = channel.reentrant ? channel.name : "Condition(Lock())"
        conditionStats.expectError(.runtimeError, "cannot wait on un-acquired lock", "\(name).wait without the lock") {
            try condition.wait(timeout: 0.001)
        }
        conditionStats.expectError(.runtimeError, "cannot wait on un-acquired lock", "\(name).waitFor without the lock")
        {
            try condition.waitFor(timeout: 0.001) { false }
        }
        conditionStats.expectError(
            .runtimeError,
            "cannot notify on un-acquired lock",
            "\(name).notify without the lock"
        ) {
            try condition.notify()
        }
    }

    /// Notifies every waiter of every condition (they all wait with timeouts anyway).
    func wakeForShutdown() {
        for channel in channels {
            do {
                try channel.condition.acquire()
                channel.ledger.value.notifying(.max)
                try channel.condition.notifyAll()
                try channel.condition.release()
            } catch {
                conditionStats.violation("waking \(channel.name) for shutdown threw \(error)")
            }
        }
    }

    /// Drains the queues, then checks that every item produced was consumed exactly once.
    func finalCheck() {
        for channel in channels {
            guard (try? channel.condition.acquire(timeout: 1)) == true else {
                conditionStats.violation("\(channel.name) cannot be acquired after every worker stopped")
                continue
            }
            let ledger = channel.ledger
            while !ledger.value.queue.isEmpty { markConsumed(ledger.value.queue.removeFirst(), in: channel) }
            var missing = 0
            for producer in ledger.value.produced.indices {
                for sequence in 0..<ledger.value.produced[producer] {
                    let word = sequence / 64
                    let bits = word < ledger.value.consumed[producer].count ? ledger.value.consumed[producer][word] : 0
                    if bits & (UInt64(1) << UInt64(sequence % 64)) == 0 { missing += 1 }
                }
            }
            let total = ledger.value.produced.reduce(0, +)
            if missing > 0 || ledger.value.consumedCount != total {
                conditionStats.violation(
                    "\(channel.name): \(total) items produced, \(ledger.value.consumedCount) consumed, "
                        + "\(missing) never consumed"
                )
            }
            if ledger.value.registered != 0 {
                conditionStats.violation(
                    "\(channel.name): \(ledger.value.registered) waiters still registered at the end"
                )
            }
            try? channel.condition.release()
        }
    }
}
