// The Event workload: rounds of events that are only ever set (no waiter sleeps past a set()),
// and set/clear storms on one event whose timed waits must return consistent values.

import Synchronization
import Threading

/// One round of the set-only events: a fresh Event, set once by the round setter.
final class EventRound: Sendable {
    let number: Int
    let event = Event()
    /// Monotonic time just after `set()` returned; 0 before.
    let setTime = Atomic<Int64>(0)

    /// Creates round `number`, its event unset.
    init(number: Int) {
        self.number = number
    }
}

/// The storm event's history as set/clear calls publish it: one atomic word of
/// (sets begun, clears begun, a call in progress, set after the last call).
struct StormState: Equatable {
    var setsBegun: UInt64
    var clearsBegun: UInt64
    var inProgress: Bool
    var isSet: Bool

    /// Unpacks a published word.
    init(_ word: UInt64) {
        isSet = word & 1 != 0
        inProgress = word & 2 != 0
        setsBegun = (word >> 2) & 0x7FFF_FFFF
        clearsBegun = word >> 33
    }

    /// The packed word to publish.
    var word: UInt64 {
        (isSet ? 1 : 0) | (inProgress ? 2 : 0) | (setsBegun & 0x7FFF_FFFF) << 2 | (clearsBegun & 0x7FFF_FFFF) << 33
    }

    /// The event is known to be set: the last call, finished, was a set.
    var settledSet: Bool { !inProgress && isSet }
    /// The event is known to be unset: the last call, finished, was a clear (or none).
    var settledUnset: Bool { !inProgress && !isSet }
}

/// Worker 0 runs rounds: it publishes a fresh Event, sets it after a random pause, records when
/// `set()` returned, and starts the next round. Worker 1 storms one shared Event with set() and
/// clear(), publishing each call (begun, then finished) in `StormState`. The other workers wait,
/// on the current round's event or on the storm event, in random ways.
///
/// Invariants (rounds): a wait that begins after `set()` returned returns true; a wait that
/// returns false ends before the set (its deadline came first, so no waiter sleeps past a
/// `set()`); a wait that returns true finds the event set (it is never cleared); a failed timed
/// wait waited its timeout. Invariants (storm): a wait returning true saw a set() during the wait
/// or the event set at its start; a wait on an event set at its start, with no clear() begun
/// before it returns, returns true.
final class EventWorkload: Workload {
    let stats: [PrimitiveStats]
    private let eventStats: PrimitiveStats
    private let rounds = Counter("rounds")
    private let waitsAfterSet = Counter("waits-after-set")
    private let wokenBySet = Counter("woken-by-set")
    private let stormCalls = Counter("storm-set/clear")
    private let maxLatency = Counter("max-latency-after-set-us")
    private let threads: Int
    private let current: PthreadMutex<EventRound>
    private let storm = Event()
    private let stormState = Atomic<UInt64>(0)
    /// Serializes the storm's set/clear calls with their publication (a pthread mutex, not the
    /// library under test).
    private let stormWriters = PthreadMutex<Void>(())
    private let roundSetLabel: Label
    private let roundWaitLabel: Label
    private let stormWaitLabel: Label
    private let stormSetLabel: Label
    private let pauseLabel: Label
    private let setterPauseLabel: Label

    /// How a round waiter waits: no timeout, 10 s, a few milliseconds, or zero.
    private enum Wait: Sendable {
        case untimed, long, short, zero
    }

    private let roundWaits = WeightedChoice<Wait>([(.untimed, 5), (.long, 35), (.short, 50), (.zero, 10)])

    /// Creates the workload for `threads` workers (at least 3: a setter, a stormer, waiters).
    init(threads: Int, board: StatusBoard, log: ViolationLog) {
        self.threads = max(threads, 3)
        eventStats = PrimitiveStats(
            "Event",
            log: log,
            notes: [rounds, waitsAfterSet, wokenBySet, stormCalls, maxLatency]
        )
        stats = [eventStats]
        current = PthreadMutex(EventRound(number: 0))
        roundSetLabel = board.label("Event#round.set")
        roundWaitLabel = board.label("Event#round.wait")
        stormWaitLabel = board.label("Event#storm.wait")
        stormSetLabel = board.label("Event#storm.set/clear")
        pauseLabel = board.label("pausing between Event waits")
        setterPauseLabel = board.label("sleeping before Event#round.set")
    }

    /// The workers `event-setter`, `event-storm`, `event-waiter-2`, ...
    func makeWorkers() -> [WorkerSpec] {
        var workers = [
            WorkerSpec(name: "event-setter", stats: eventStats) { [self] context in runRounds(&context) },
            WorkerSpec(name: "event-storm", stats: eventStats) { [self] context in runStorm(&context) },
        ]
        for index in 2..<threads {
            workers.append(
                WorkerSpec(name: "event-waiter-\(index)", stats: eventStats) { [self] context in wait(&context) }
            )
        }
        return workers
    }

    /// The round setter: every published round's event gets set, the last one too.
    private func runRounds(_ context: inout WorkerContext) {
        var round = current.withLock { $0 }
        while true {
            let pause = context.rng.chance(20) ? 0 : context.rng.seconds(0, 0.002)
            context.doing(setterPauseLabel)
            if pause > 0 { Monotonic.sleep(pause) } else { yieldCPU() }
            context.doing(roundSetLabel)
            round.event.set()
            round.setTime.store(Monotonic.now(), ordering: .sequentiallyConsistent)
            if !round.event.isSet { eventStats.violation("round \(round.number): isSet is false after set()") }
            rounds.add()
            eventStats.op()
            context.step()
            if !context.running { break }
            let next = EventRound(number: round.number + 1)
            current.withLock { $0 = next }
            round = next
        }
    }

    /// The storm: random set() and clear() on one event, each published before and after.
    private func runStorm(_ context: inout WorkerContext) {
        while context.running {
            let doSet = context.rng.chance(50)
            let pause = context.rng.below(4)
            context.doing(stormSetLabel)
            stormWriters.withLock { _ in
                var state = StormState(stormState.load(ordering: .sequentiallyConsistent))
                state.inProgress = true
                if doSet { state.setsBegun &+= 1 } else { state.clearsBegun &+= 1 }
                stormState.store(state.word, ordering: .sequentiallyConsistent)
                if doSet { storm.set() } else { storm.clear() }
                state.inProgress = false
                state.isSet = doSet
                stormState.store(state.word, ordering: .sequentiallyConsistent)
            }
            stormCalls.add()
            switch pause {
            case 0: Monotonic.sleep(0.0001)
            case 1: yieldCPU()
            default: _ = busyWork(200)
            }
            eventStats.op()
            context.step()
        }
    }

    /// A waiter: each step waits on the current round or on the storm.
    private func wait(_ context: inout WorkerContext) {
        var lastRound = -1
        while context.running {
            let onRound = context.rng.chance(50)
            let style = roundWaits.pick(&context.rng)
            let timeout = context.rng.seconds(0.0002, 0.005)
            let zero = context.rng.chance(10)
            let pause = context.rng.seconds(0.00005, 0.0005)
            do {
                if onRound {
                    let round = try waitOnRound(style: style, shortTimeout: timeout, context)
                    // A round already seen set returns at once: pause rather than spin on it while
                    // the setter is descheduled.
                    if round == lastRound {
                        context.doing(pauseLabel)
                        Monotonic.sleep(pause)
                    }
                    lastRound = round
                } else {
                    try waitOnStorm(timeout: zero ? 0 : timeout, context)
                }
            } catch {
                eventStats.violation("unexpected error \(error) in Event.wait")
            }
            eventStats.op()
            context.step()
        }
    }

    /// One wait on the current round's event; returns the round's number if the wait returned true.
    private func waitOnRound(style: Wait, shortTimeout: Double, _ context: WorkerContext) throws -> Int {
        let round = current.withLock { $0 }
        let setBefore = round.setTime.load(ordering: .sequentiallyConsistent)
        let timeout: Double?
        switch style {
        case .untimed: timeout = nil
        case .long: timeout = 10
        case .short: timeout = shortTimeout
        case .zero: timeout = 0
        }
        if setBefore != 0 { waitsAfterSet.add() }
        context.blocking(roundWaitLabel, timeout: timeout)
        let start = Monotonic.now()
        let result = try timeout.map { try round.event.wait(timeout: $0) } ?? round.event.wait()
        let end = Monotonic.now()
        if setBefore != 0 {
            maxLatency.raise(to: Int((end - start) / 1000))
            if !result {
                eventStats.violation("round \(round.number): set() returned before wait began, yet wait returned false")
            }
        } else if result {
            wokenBySet.add()
        }
        if result {
            if !round.event.isSet {
                eventStats.violation("round \(round.number): wait returned true, but the event is not set")
            }
            return round.number
        }
        guard let timeout else {
            eventStats.violation("round \(round.number): wait() without timeout returned false")
            return -1
        }
        eventStats.checkExpired(since: start, timeout: timeout, "Event.wait(timeout:)")
        let setTime = round.setTime.load(ordering: .sequentiallyConsistent)
        if setTime != 0 && Double(setTime - start) < timeout * 1e9 {
            eventStats.violation(
                "round \(round.number): set() returned \(decimal(Double(setTime - start) / 1e6, 3)) ms "
                    + "into a wait(timeout: \(timeout)), before its deadline, but the wait returned false "
                    + "(missed wake-up)"
            )
        }
        return -1
    }

    /// One timed wait on the storm event, checked against the published history around it.
    private func waitOnStorm(timeout: Double, _ context: WorkerContext) throws {
        let before = StormState(stormState.load(ordering: .sequentiallyConsistent))
        context.blocking(stormWaitLabel, timeout: timeout)
        let start = Monotonic.now()
        let result = try storm.wait(timeout: timeout)
        let after = StormState(stormState.load(ordering: .sequentiallyConsistent))
        if result && before.settledUnset && after.setsBegun == before.setsBegun {
            eventStats.violation("storm: wait returned true, but the event was unset at its start and no set() began")
        }
        if !result {
            eventStats.checkExpired(since: start, timeout: timeout, "Event.wait(timeout:)")
            if before.settledSet && after.clearsBegun == before.clearsBegun {
                eventStats.violation(
                    "storm: wait returned false, but the event was set at its start and no clear() began"
                )
            }
        }
        // isSet agrees with a settled state that did not change around the read.
        let first = stormState.load(ordering: .sequentiallyConsistent)
        let isSet = storm.isSet
        let second = stormState.load(ordering: .sequentiallyConsistent)
        if first == second && !StormState(first).inProgress && StormState(first).isSet != isSet {
            eventStats.violation("storm: isSet is \(isSet), but the last finished call was \(isSet ? "clear" : "set")")
        }
    }

    /// The setter sets every round it publishes, the last one included.
    func finalCheck() {
        let round = current.withLock { $0 }
        if !round.event.isSet { eventStats.violation("the last round's event is not set at the end") }
    }
}
