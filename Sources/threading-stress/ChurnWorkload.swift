// The Thread/Timer/Local workload: threads started and joined (timed and untimed), timers
// started and cancelled at random moments, and thread-local values counted alive and freed.

import Synchronization
import Threading

/// How many values of one set of thread-local objects are alive.
final class LiveCount: Sendable {
    let value = Atomic<Int>(0)

    /// Waits up to `seconds` for the count to drop to zero; returns the last count.
    func drained(within seconds: Double) -> Int {
        let deadline = Monotonic.now() + Int64(seconds * 1e9)
        while value.load(ordering: .sequentiallyConsistent) != 0 && Monotonic.now() < deadline {
            Monotonic.sleep(0.001)
        }
        return value.load(ordering: .sequentiallyConsistent)
    }
}

/// A thread-local value whose life is counted: `init` and `deinit` move its `LiveCount`.
final class Tracked: Sendable {
    /// Which thread stored it (-1: a default made by the library on first access).
    let token: Int
    let live: LiveCount

    /// Creates a value stored by thread `token`, counted in `live`.
    init(token: Int, live: LiveCount) {
        self.token = token
        self.live = live
        live.value.wrappingAdd(1, ordering: .sequentiallyConsistent)
    }

    deinit {
        live.value.wrappingSubtract(1, ordering: .sequentiallyConsistent)
    }
}

/// A `Local` whose every thread starts with the attribute `initial` (Python's `__init__`).
final class TrackedLocal: Local, @unchecked Sendable {
    // @unchecked Sendable: adds only an immutable reference to a Sendable counter.
    let live: LiveCount

    /// Creates the object; each thread's `initial` is counted in `live`.
    init(live: LiveCount) {
        self.live = live
        super.init()
    }

    /// Gives the calling thread its `initial` attribute.
    override func initializeThread() {
        self[dynamicMember: "initial"] = Tracked(token: -1, live: live)
    }
}

/// A `ThreadLocal` and a `Local` sharing one count of live values.
final class LocalSet: Sendable {
    let live: LiveCount
    let typed: ThreadLocal<Tracked>
    let attributes: TrackedLocal

    /// Creates the pair and their counter.
    init() {
        let live = LiveCount()
        self.live = live
        typed = ThreadLocal { Tracked(token: -1, live: live) }
        attributes = TrackedLocal(live: live)
    }
}

/// Set once by a thread's target, or by a timer's function (with the time it ran).
final class RunRecord: Sendable {
    let runs = Atomic<Int>(0)
    let time = Atomic<Int64>(0)

    /// Records a run, now.
    func record() {
        time.store(Monotonic.now(), ordering: .sequentiallyConsistent)
        runs.wrappingAdd(1, ordering: .sequentiallyConsistent)
    }
}

/// Workers churn: start a few threads that use thread-local data and join them (with timed joins
/// that may give up first), start timers and cancel them at random moments, use thread-local data
/// on their own thread, replace their own thread-local objects, and check thread misuse.
///
/// Invariants: a joined thread is not alive, ran its target, has its ident, reads as stopped and
/// has left `enumerate()`; a timed join that returns while the thread lives waited its timeout; a
/// timer not cancelled fires exactly once, never before its interval; a timer cancelled before
/// start or before its interval ran out never fires; `finished` is set after join; each thread
/// sees the default of a `ThreadLocal` and the `initial` attribute of a `Local` first, then only
/// its own values, never another thread's; once a `ThreadLocal`/`Local` is released and the
/// threads that used it are joined, all its values are freed (the live count returns to 0).
final class ChurnWorkload: Workload {
    let stats: [PrimitiveStats]
    private let threadStats: PrimitiveStats
    private let timerStats: PrimitiveStats
    private let localStats: PrimitiveStats
    private let threadLocalStats: PrimitiveStats
    private let threadsStarted = Counter("started")
    private let timersFired = Counter("fired")
    private let cancelledInTime = Counter("cancelled-in-time")
    private let cancelledLate = Counter("cancelled-after-due")
    private let localRotations = Counter("objects-released")
    private let threadLocalRotations = Counter("objects-released")
    private let team: Int
    /// The objects every churn thread uses; released in `finalCheck`.
    private let shared = PthreadMutex<LocalSet?>(LocalSet())
    private let startLabel: Label
    private let joinLabel: Label
    private let timerStartLabel: Label
    private let timerJoinLabel: Label
    private let timerPauseLabel: Label
    private let drainLabel: Label

    /// What a step does.
    private enum Op: Sendable {
        case spawn, timer, locals, rotate, misuse
    }

    /// When a timer is cancelled.
    private enum Cancel: Sendable {
        case never, beforeStart, immediately, later
    }

    private let ops = WeightedChoice<Op>([(.spawn, 42), (.timer, 35), (.locals, 15), (.rotate, 4), (.misuse, 4)])
    private let cancels = WeightedChoice<Cancel>([(.never, 30), (.beforeStart, 10), (.immediately, 25), (.later, 35)])

    /// Creates the workload for max(2, `threads` / 2) workers (each starts threads of its own).
    init(threads: Int, board: StatusBoard, log: ViolationLog) {
        team = max(2, threads / 2)
        threadStats = PrimitiveStats("Thread", log: log, notes: [threadsStarted])
        timerStats = PrimitiveStats("Timer", log: log, notes: [timersFired, cancelledInTime, cancelledLate])
        localStats = PrimitiveStats("Local", log: log, notes: [localRotations])
        threadLocalStats = PrimitiveStats("ThreadLocal", log: log, notes: [threadLocalRotations])
        stats = [threadStats, timerStats, localStats, threadLocalStats]
        startLabel = board.label("Thread.start")
        joinLabel = board.label("Thread.join")
        timerStartLabel = board.label("Timer.start")
        timerJoinLabel = board.label("Timer.join")
        timerPauseLabel = board.label("sleeping before Timer.cancel")
        drainLabel = board.label("waiting for released thread-local values to be freed")
    }

    /// The workers `churn-0`, `churn-1`, ...
    func makeWorkers() -> [WorkerSpec] {
        (0..<team).map { index in
            WorkerSpec(name: "churn-\(index)", stats: threadStats) { [self] context in work(&context) }
        }
    }

    /// A worker's loop: one spawn, timer, thread-local, rotation or misuse step per iteration;
    /// at the end it releases its own thread-local objects and checks their values are freed.
    private func work(_ context: inout WorkerContext) {
        guard let common = shared.withLock({ $0 }) else { return }
        var own = LocalSet()
        var nextToken = context.id << 32
        useOnce(own, token: -2, context)  // this worker's own first access
        useOnce(common, token: -2, context)
        while context.running {
            let op = ops.pick(&context.rng)
            do {
                switch op {
                case .spawn: try spawn(&context, common: common, own: own, nextToken: &nextToken)
                case .timer: try runTimer(&context)
                case .locals:
                    nextToken += 1
                    update(own, token: nextToken, remove: context.rng.chance(20))
                    update(common, token: nextToken, remove: context.rng.chance(20))
                case .rotate:
                    let live = own.live
                    own = LocalSet()
                    context.doing(drainLabel)
                    let left = live.drained(within: 5)
                    if left != 0 {
                        threadLocalStats.violation(
                            "\(left) values of a released ThreadLocal/Local are still alive after 5 s"
                        )
                    }
                    localRotations.add()
                    threadLocalRotations.add()
                case .misuse: try misuse()
                }
            } catch {
                threadStats.violation("unexpected error \(error) in \(op)")
            }
            context.step()
        }
        // Release this worker's own objects (the last references) and check their values are freed.
        let live = own.live
        own = LocalSet()
        context.doing(drainLabel)
        let left = live.drained(within: 5)
        if left != 0 {
            threadLocalStats.violation("\(left) values of a released ThreadLocal/Local are still alive after 5 s")
        }
    }

    /// Starts 1 to 3 threads that use thread-local data, then joins them in random ways.
    private func spawn(_ context: inout WorkerContext, common: LocalSet, own: LocalSet, nextToken: inout Int) throws {
        let count = context.rng.int(in: 1...3)
        var started: [(Threading.Thread, RunRecord, timed: Bool, timeout: Double)] = []
        for _ in 0..<count {
            nextToken += 1
            let token = nextToken
            let nap = context.rng.chance(30) ? context.rng.seconds(0, 0.0005) : 0
            let overwrite = context.rng.chance(30)
            let named = context.rng.chance(50)
            let record = RunRecord()
            let thread = Threading.Thread(
                target: { [self] in
                    record.record()
                    useOnce(common, token: token, nil)
                    useOnce(own, token: token, nil)
                    if nap > 0 { Monotonic.sleep(nap) }
                    if overwrite { update(own, token: token, remove: false) }
                },
                name: named ? "\(context.name).\(token & 0xFFFF_FFFF)" : nil
            )
            context.doing(startLabel)
            try thread.start()
            threadsStarted.add()
            threadStats.op()
            started.append((thread, record, context.rng.chance(50), context.rng.seconds(0.0001, 0.003)))
        }
        let checkEnumerate = context.rng.chance(10)
        for (thread, record, timed, timeout) in started {
            try join(thread, timed: timed, timeout: timeout, label: joinLabel, stats: threadStats, context)
            threadStats.op()
            if record.runs.load(ordering: .sequentiallyConsistent) != 1 {
                threadStats.violation(
                    "a joined thread ran its target \(record.runs.load(ordering: .sequentiallyConsistent)) times"
                )
            }
            if thread.ident == nil { threadStats.violation("a joined thread has no ident") }
            if !thread.description.contains("stopped") {
                threadStats.violation("a joined thread's description is \(thread.description)")
            }
            if checkEnumerate && enumerate().contains(where: { $0 === thread }) {
                threadStats.violation("a joined thread is still in enumerate()")
            }
        }
    }

    /// Joins `thread`, first with timed joins when `timed`, then without a timeout.
    private func join(
        _ thread: Threading.Thread,
        timed: Bool,
        timeout: Double,
        label: Label,
        stats: PrimitiveStats,
        _ context: WorkerContext
    ) throws {
        if timed {
            for _ in 0..<1000 {
                context.blocking(label, timeout: timeout)
                let start = Monotonic.now()
                try thread.join(timeout: timeout)
                if !thread.isAlive { break }
                stats.checkExpired(since: start, timeout: timeout, "join(timeout:) of a live thread")
            }
        }
        context.blocking(label, timeout: nil)
        try thread.join()
        if thread.isAlive { stats.violation("a thread is alive after join()") }
    }

    /// Starts a timer, cancels it (or not) at a random moment, joins it, and checks what happened.
    private func runTimer(_ context: inout WorkerContext) throws {
        let interval = context.rng.chance(15) ? 0 : context.rng.seconds(0.0005, 0.015)
        let cancel = cancels.pick(&context.rng)
        let delay = context.rng.seconds(0, 0.02)
        let timed = context.rng.chance(50)
        let joinTimeout = context.rng.seconds(0.0005, 0.01)
        let record = RunRecord()
        let timer = Threading.Timer(interval: interval) { record.record() }
        var cancelTime: Int64 = 0
        if cancel == .beforeStart {
            timer.cancel()
            cancelTime = Monotonic.now()
        }
        context.doing(timerStartLabel)
        let start = Monotonic.now()
        try timer.start()
        switch cancel {
        case .never, .beforeStart:
            break
        case .immediately:
            timer.cancel()
            cancelTime = Monotonic.now()
        case .later:
            context.doing(timerPauseLabel)
            Monotonic.sleep(delay)
            timer.cancel()
            cancelTime = Monotonic.now()
        }
        try join(timer, timed: timed, timeout: joinTimeout, label: timerJoinLabel, stats: timerStats, context)
        timerStats.op()

        let runs = record.runs.load(ordering: .sequentiallyConsistent)
        let fired = runs > 0
        let dueTime = start + Int64((interval * 1e9).rounded(.up))
        if runs > 1 { timerStats.violation("a timer fired \(runs) times") }
        if !timer.finished.isSet { timerStats.violation("a joined timer's finished event is not set") }
        if fired {
            timersFired.add()
            let firedTime = record.time.load(ordering: .sequentiallyConsistent)
            if interval > 0 {
                if Double(firedTime - start) >= interval * 1e9 {
                    timerStats.countHonoured()
                } else {
                    timerStats.violation(
                        "a timer of interval \(decimal(interval * 1e3, 3)) ms fired after "
                            + "\(decimal(Double(firedTime - start) / 1e6, 3)) ms"
                    )
                }
            }
        }
        switch cancel {
        case .never:
            if !fired { timerStats.violation("a timer that was not cancelled never fired") }
        case .beforeStart:
            if fired { timerStats.violation("a timer cancelled before start() fired") } else { cancelledInTime.add() }
        case .immediately, .later:
            if !fired {
                cancelledInTime.add()
            } else if cancelTime < dueTime {
                timerStats.violation(
                    "a timer cancelled \(decimal(Double(dueTime - cancelTime) / 1e6, 3)) ms before it was due fired"
                )
            } else {
                cancelledLate.add()
            }
        }
    }

    /// A thread's first use of `set`: it must see the defaults, then only its own values.
    private func useOnce(_ set: LocalSet, token: Int, _ context: WorkerContext?) {
        let first = set.typed.value
        if first.token != -1 {
            threadLocalStats.violation(
                "a thread's first read of a ThreadLocal gave token \(first.token), not the default"
            )
        }
        set.typed.value = Tracked(token: token, live: set.live)
        if set.typed.value.token != token {
            threadLocalStats.violation("a ThreadLocal read back token \(set.typed.value.token), not \(token)")
        }
        threadLocalStats.op(3)
        let initial = set.attributes.initial as? Tracked
        if initial?.token != -1 {
            localStats.violation("a thread's first access of a Local did not run initializeThread()")
        }
        if let seen = set.attributes.mark {
            localStats.violation("a new thread sees another thread's attribute: \(seen)")
        }
        set.attributes.mark = Tracked(token: token, live: set.live)
        if (set.attributes.mark as? Tracked)?.token != token {
            localStats.violation("a Local attribute read back a different value")
        }
        localStats.op(4)
    }

    /// Replaces (or removes) this thread's values in `set` and reads them back.
    private func update(_ set: LocalSet, token: Int, remove: Bool) {
        set.typed.value = Tracked(token: token, live: set.live)
        if set.typed.value.token != token {
            threadLocalStats.violation("a ThreadLocal read back token \(set.typed.value.token), not \(token)")
        }
        threadLocalStats.op(2)
        if remove {
            set.attributes.mark = nil
            if set.attributes.mark != nil {
                localStats.violation("a Local attribute set to nil still reads as a value")
            }
        } else {
            set.attributes.mark = Tracked(token: token, live: set.live)
            if (set.attributes.mark as? Tracked)?.token != token {
                localStats.violation("a Local attribute read back a different value")
            }
        }
        if (set.attributes.initial as? Tracked)?.token != -1 {
            localStats.violation("a thread's initial attribute changed")
        }
        localStats.op(3)
    }

    /// Thread misuse that must throw.
    private func misuse() throws {
        let thread = Threading.Thread(target: {})
        threadStats.expectError(.runtimeError, "cannot join thread before it is started", "join() before start()") {
            try thread.join()
        }
        try thread.start()
        threadsStarted.add()
        threadStats.expectError(.runtimeError, "threads can only be started once", "start() twice") {
            try thread.start()
        }
        try thread.join()
        threadStats.expectError(.runtimeError, "cannot set daemon status of active thread", "setDaemon after start()") {
            try thread.setDaemon(false)
        }
        threadStats.expectError(.runtimeError, "cannot join current thread", "currentThread().join()") {
            try currentThread().join()
        }
        threadStats.op(5)
    }

    /// Releases the shared thread-local objects and checks that all their values are freed.
    func finalCheck() {
        // The workers are joined, so this drops the last reference: the objects are released here.
        let released: LiveCount? = shared.withLock { set in
            defer { set = nil }
            return set?.live
        }
        guard let live = released else { return }
        let left = live.drained(within: 5)
        if left != 0 {
            threadLocalStats.violation(
                "\(left) values of the shared ThreadLocal/Local are alive 5 s after it was released "
                    + "and every thread that used it was joined"
            )
        }
    }
}
