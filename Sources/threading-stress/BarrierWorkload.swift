// The Barrier workload: rounds with random party counts and generations, some disrupted by
// abort(), reset(), a zero timeout, short timeouts or a throwing action; every generation that
// all parties passed is a permutation, and a reset barrier works again.

import Synchronization
import Threading

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The team's own rendezvous between rounds: a pthread barrier, independent of the library.
final class TeamGate: @unchecked Sendable {
    // @unchecked Sendable: a pthread barrier is made to be shared; the pointer never changes.
    private let barrier: UnsafeMutablePointer<pthread_barrier_t>

    /// Creates a gate for `count` threads.
    init(count: Int) {
        barrier = .allocate(capacity: 1)
        let rc = pthread_barrier_init(barrier, nil, UInt32(count))
        precondition(rc == 0, "pthread_barrier_init failed with error \(rc)")
    }

    deinit {
        pthread_barrier_destroy(barrier)
        barrier.deallocate()
    }

    /// Waits for the whole team; returns true in exactly one thread, the round's leader.
    func wait() -> Bool {
        pthread_barrier_wait(barrier) == PTHREAD_BARRIER_SERIAL_THREAD
    }
}

/// What each member did in a round: its arrival index per generation, or a failure code.
final class RoundRecords: @unchecked Sendable {
    // @unchecked Sendable: during a round each member writes only its own row; the leader reads
    // and resets every row between the two gates, while the members wait at the gate.
    static let brokenBarrier = -1
    static let actionError = -2
    static let notReached = -3
    static let otherError = -4

    let members: Int
    let generations: Int
    private let indices: UnsafeMutablePointer<Int>
    private let honest: UnsafeMutablePointer<Bool>

    /// Creates the records of `members` members for up to `generations` generations.
    init(members: Int, generations: Int) {
        self.members = members
        self.generations = generations
        indices = .allocate(capacity: members * generations)
        indices.initialize(repeating: RoundRecords.notReached, count: members * generations)
        honest = .allocate(capacity: members)
        honest.initialize(repeating: false, count: members)
    }

    deinit {
        indices.deallocate()
        honest.deallocate()
    }

    /// `member`'s arrival index in `generation`, or a failure code.
    subscript(member: Int, generation: Int) -> Int {
        get { indices[member * generations + generation] }
        set { indices[member * generations + generation] = newValue }
    }

    /// Whether `member`'s failed wait lasted its whole timeout.
    func timedOut(_ member: Int) -> Bool { honest[member] }
    /// Records that `member`'s failed wait lasted its whole timeout.
    func setTimedOut(_ member: Int) { honest[member] = true }

    /// Clears every row for the next round.
    func reset() {
        indices.update(repeating: RoundRecords.notReached, count: members * generations)
        honest.update(repeating: false, count: members)
    }
}

/// The error a round's action throws on purpose.
struct BarrierActionError: Error {}

/// Shared with the barrier's action: arrivals and action runs of the current round.
final class BarrierActionState: Sendable {
    let arrivals = Atomic<Int>(0)
    let actionsRun = Atomic<Int>(0)
    let parties = Atomic<Int>(1)
    /// Whether the action checks that every party arrived (clean rounds only).
    let checkArrivals = Atomic<Bool>(false)
    /// The generation whose action throws, -1 for none.
    let throwAt = Atomic<Int>(-1)
}

/// How a round is disturbed.
enum BarrierDisruption: Sendable {
    case none, abort, reset, zeroTimeout, actionThrows, shortTimeouts
}

/// One round, planned by the leader between the gates and read by every member during the round.
struct BarrierPlan: Sendable {
    var number = 0
    var stop = false
    var barrier: Barrier
    var parties = 1
    var generations = 1
    var disruption = BarrierDisruption.none
    /// The member that aborts or resets: a non-participant when there is one, else member 0.
    var disruptor = 0
    var disruptAt = 0
    var disruptDelay = 0.0
    var timeout = 10.0
    /// Whether waits pass no timeout and rely on the barrier's default (equal to `timeout`).
    var useDefault = false
}

/// A team of threads runs rounds. Between rounds the team meets at a pthread gate, where one
/// member (the leader) checks the round just done, resets the barrier, and plans the next from a
/// generator of its own: the party count (the first `parties` members take part), whether a new
/// Barrier is made or the last one (perhaps just broken and reset) is reused, the number of
/// generations, the timeouts, and the disruption.
///
/// Invariants: in every generation where all parties returned without error, the indices are a
/// permutation of 0..<parties; in a round without disruption, the action sees every party arrive
/// before it runs and runs before any party is released, and the barrier breaks only if some
/// wait ran out its timeout; only brokenBarrier (or the action's own error) is ever thrown; after
/// `reset()` the barrier is not broken and has no waiters, and works again.
final class BarrierWorkload: Workload {
    let stats: [PrimitiveStats]
    private let barrierStats: PrimitiveStats
    private let rounds = Counter("rounds")
    private let generations = Counter("complete-generations")
    private let brokenRounds = Counter("broken-rounds")
    private let actionRuns = Counter("action-runs")
    private let team: Int
    private static let maxGenerations = 24
    private let gate: TeamGate
    private let records: RoundRecords
    private let actionState = BarrierActionState()
    /// Guarded by `gate`: written by the leader between the gates only.
    private let plan: GuardedBox<BarrierPlan>
    /// Guarded by `gate`: the leader's generator for planning rounds.
    private let planner: GuardedBox<Xoshiro256>
    private let gateLabel: Label
    /// `Barrier(parties).wait`, by party count.
    private let waitLabels: [Label]
    private let disruptLabel: Label

    private let disruptions = WeightedChoice<BarrierDisruption>([
        (.none, 55), (.abort, 9), (.reset, 9), (.zeroTimeout, 9), (.actionThrows, 9), (.shortTimeouts, 9),
    ])

    /// Creates the workload for a team of `threads` (at least 2); rounds are planned from `seed`.
    init(threads: Int, board: StatusBoard, log: ViolationLog, seed: UInt64) {
        team = max(threads, 2)
        barrierStats = PrimitiveStats("Barrier", log: log, notes: [rounds, generations, brokenRounds, actionRuns])
        stats = [barrierStats]
        gate = TeamGate(count: team)
        records = RoundRecords(members: team, generations: Self.maxGenerations)
        planner = GuardedBox(Xoshiro256(seed: seed, stream: 0xBA55_1E55))
        plan = GuardedBox(BarrierPlan(barrier: try! Barrier(1)))
        gateLabel = board.label("Barrier team gate (pthread_barrier_wait)")
        waitLabels = (0...team).map { board.label("Barrier(\($0)).wait") }
        disruptLabel = board.label("Barrier abort/reset")
    }

    /// The team members `barrier-0`, `barrier-1`, ...
    func makeWorkers() -> [WorkerSpec] {
        (0..<team).map { member in
            WorkerSpec(name: "barrier-\(member)", stats: barrierStats) { [self] context in
                work(&context, member: member)
            }
        }
    }

    /// A member's loop: meet at the gate (the leader checks and plans), then play its part in
    /// the round, until the leader plans the stop.
    private func work(_ context: inout WorkerContext, member: Int) {
        while true {
            context.doing(gateLabel)
            if gate.wait() {
                checkRound()
                planRound(stop: !context.running)
            }
            context.doing(gateLabel)
            _ = gate.wait()
            context.step()
            let round = plan.value
            if round.stop { break }
            if member < round.parties {
                participate(round, member: member, &context)
            } else if member == round.disruptor && (round.disruption == .abort || round.disruption == .reset) {
                context.doing(disruptLabel)
                Monotonic.sleep(round.disruptDelay)
                disrupt(round)
                context.step()
            }
        }
    }

    /// This member's waits of the round: one per generation, until the first error.
    private func participate(_ round: BarrierPlan, member: Int, _ context: inout WorkerContext) {
        for generation in 0..<round.generations {
            if member == round.disruptor && generation == round.disruptAt
                && (round.disruption == .abort || round.disruption == .reset)
            {
                disrupt(round)
            }
            let zero = round.disruption == .zeroTimeout && member == 0 && generation == round.disruptAt
            let timeout = zero ? 0 : round.timeout
            actionState.arrivals.wrappingAdd(1, ordering: .sequentiallyConsistent)
            context.blocking(waitLabels[round.parties], timeout: timeout)
            let start = Monotonic.now()
            defer {
                barrierStats.op()
                context.step()
            }
            do {
                let index = try round.useDefault && !zero ? round.barrier.wait() : round.barrier.wait(timeout: timeout)
                records[member, generation] = index
                if index < 0 || index >= round.parties {
                    barrierStats.violation(
                        "round \(round.number): wait returned index \(index) with \(round.parties) parties"
                    )
                }
                if round.disruption == .none
                    && actionState.actionsRun.load(ordering: .sequentiallyConsistent) < generation + 1
                {
                    barrierStats.violation(
                        "round \(round.number): released from generation \(generation) before its action ran"
                    )
                }
            } catch let error as ThreadingError where error.kind == .brokenBarrier {
                records[member, generation] = RoundRecords.brokenBarrier
                if timeout > 0 && Double(Monotonic.now() - start) >= timeout * 1e9 {
                    records.setTimedOut(member)
                    barrierStats.countHonoured()
                }
                return
            } catch is BarrierActionError {
                records[member, generation] = RoundRecords.actionError
                if round.disruption != .actionThrows {
                    barrierStats.violation(
                        "round \(round.number): the action's error reached a party, but it was not asked to throw"
                    )
                }
                return
            } catch {
                records[member, generation] = RoundRecords.otherError
                barrierStats.violation("round \(round.number): wait threw \(error), expected brokenBarrier")
                return
            }
        }
    }

    /// Aborts or resets the round's barrier.
    private func disrupt(_ round: BarrierPlan) {
        if round.disruption == .abort { round.barrier.abort() } else { round.barrier.reset() }
        barrierStats.op()
    }

    /// The leader, between the gates: checks the round just done and resets the barrier.
    private func checkRound() {
        let round = plan.value
        guard round.number > 0 else { return }
        rounds.add()
        let runs = actionState.actionsRun.load(ordering: .sequentiallyConsistent)
        actionRuns.add(runs)
        var complete = 0
        var failed = false
        var anyTimedOut = false
        for member in 0..<round.parties {
            anyTimedOut = anyTimedOut || records.timedOut(member)
            for generation in 0..<round.generations where records[member, generation] < 0 {
                if records[member, generation] != RoundRecords.notReached { failed = true }
            }
        }
        for generation in 0..<round.generations {
            let indices = (0..<round.parties).map { records[$0, generation] }
            guard indices.allSatisfy({ $0 >= 0 }) else { continue }
            complete += 1
            if indices.sorted() != Array(0..<round.parties) {
                barrierStats.violation(
                    "round \(round.number), generation \(generation): indices \(indices) are not a "
                        + "permutation of 0..<\(round.parties)"
                )
            }
        }
        generations.add(complete)
        if failed { brokenRounds.add() }
        if round.disruption == .none {
            if failed && !anyTimedOut {
                barrierStats.violation("round \(round.number): the barrier broke with no abort, reset or timeout")
            }
            if !failed && (complete != round.generations || runs != round.generations) {
                barrierStats.violation(
                    "round \(round.number): \(round.generations) generations, \(complete) complete, "
                        + "\(runs) action runs"
                )
            }
        }
        if round.barrier.parties != round.parties {
            barrierStats.violation("round \(round.number): parties is \(round.barrier.parties), not \(round.parties)")
        }
        round.barrier.reset()
        if round.barrier.isBroken { barrierStats.violation("round \(round.number): still broken after reset()") }
        if round.barrier.nWaiting != 0 {
            barrierStats.violation("round \(round.number): nWaiting is \(round.barrier.nWaiting) with nobody waiting")
        }
    }

    /// The leader, between the gates: plans the next round (or the stop).
    private func planRound(stop: Bool) {
        var next = plan.value
        records.reset()
        next.number += 1
        next.stop = stop
        guard !stop else {
            plan.value = next
            return
        }
        var rng = planner.value
        defer { planner.value = rng }
        let parties = rng.chance(40) ? team : rng.int(in: 1...team)
        // The placeholder barrier of round 0 has no action: round 1 always makes its own.
        let reuse = next.number > 1 && next.barrier.parties == parties && rng.chance(70)
        next.disruption = disruptions.pick(&rng)
        next.generations = rng.int(in: 1...Self.maxGenerations)
        next.disruptAt = rng.below(next.generations)
        next.disruptDelay = rng.seconds(0, 0.003)
        next.disruptor = parties < team ? parties : 0
        switch next.disruption {
        case .none: next.timeout = 10
        case .shortTimeouts: next.timeout = rng.seconds(0.0005, 0.005)
        default: next.timeout = rng.seconds(0.02, 0.2)
        }
        next.useDefault = !reuse && rng.chance(30)
        next.parties = parties
        if !reuse {
            let state = actionState
            let stats = barrierStats
            next.barrier = try! Barrier(
                parties,
                action: {
                    let generation = state.actionsRun.load(ordering: .sequentiallyConsistent)
                    if generation == state.throwAt.load(ordering: .sequentiallyConsistent) {
                        state.actionsRun.wrappingAdd(1, ordering: .sequentiallyConsistent)
                        throw BarrierActionError()
                    }
                    if state.checkArrivals.load(ordering: .sequentiallyConsistent) {
                        let arrivals = state.arrivals.load(ordering: .sequentiallyConsistent)
                        let expected = (generation + 1) * state.parties.load(ordering: .sequentiallyConsistent)
                        if arrivals != expected {
                            stats.violation(
                                "the action of generation \(generation) ran after \(arrivals) arrivals, not \(expected)"
                            )
                        }
                    }
                    state.actionsRun.wrappingAdd(1, ordering: .sequentiallyConsistent)
                },
                timeout: next.useDefault ? next.timeout : nil
            )
        }
        actionState.arrivals.store(0, ordering: .sequentiallyConsistent)
        actionState.actionsRun.store(0, ordering: .sequentiallyConsistent)
        actionState.parties.store(parties, ordering: .sequentiallyConsistent)
        actionState.checkArrivals.store(next.disruption == .none, ordering: .sequentiallyConsistent)
        actionState.throwAt.store(
            next.disruption == .actionThrows ? next.disruptAt : -1,
            ordering: .sequentiallyConsistent
        )
        plan.value = next
    }
}
