// The harness: builds the workloads, starts every worker on its own Thread, stops them at the
// deadline, joins them, runs the final checks and prints the summary.

import Synchronization
import Threading

/// One workload: the workers that load a primitive (or a few) and the checks at the end.
protocol Workload: AnyObject, Sendable {
    /// The summary lines this workload fills in.
    var stats: [PrimitiveStats] { get }
    /// The workload's workers; called once, before any starts.
    func makeWorkers() -> [WorkerSpec]
    /// Called once the stop flag is set: wakes workers blocked past it (most waits are timed).
    func wakeForShutdown()
    /// Called after every worker is joined: the invariants that hold only at rest.
    func finalCheck()
}

extension Workload {
    /// Nothing to wake by default: every wait of the workload has a timeout.
    func wakeForShutdown() {}

    /// No check at rest by default.
    func finalCheck() {}
}

/// A worker to start: its thread name, the stats its unexpected errors are charged to, and its body.
struct WorkerSpec: Sendable {
    let name: String
    let stats: PrimitiveStats
    let body: @Sendable (inout WorkerContext) -> Void
}

/// The stop flag, set at the deadline.
final class RunControl: Sendable {
    private let stopping = Atomic<Bool>(false)

    /// Whether workers should finish their current operation and return.
    var isStopping: Bool {
        stopping.load(ordering: .relaxed)
    }

    /// Asks every worker to stop.
    func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
    }
}

/// What a worker's body gets: its identity, its own generator, its status for the watchdog.
struct WorkerContext {
    /// The thread's name.
    let name: String
    /// A number unique to this worker, from 1: the value of owner markers.
    let id: Int
    /// The worker's generator: every choice of operation comes from it.
    var rng: Xoshiro256
    /// The worker's row in the watchdog's table.
    let status: WorkerStatus
    let control: RunControl

    /// Whether to start another operation.
    var running: Bool {
        !control.isStopping
    }

    /// Records that the worker is about to call `label` with `timeout` (`nil`: no timeout).
    func blocking(_ label: Label, timeout: Double?) {
        status.blocking(label, timeout: timeout)
    }

    /// Records that the worker is busy with `label`.
    func doing(_ label: Label) {
        status.doing(label)
    }

    /// Records one completed operation.
    func step() {
        status.step()
    }
}

/// Runs one stress run from the options to the exit status.
final class Harness {
    private let options: Options
    private let board = StatusBoard()
    private let log = ViolationLog()
    private let control = RunControl()

    /// Creates the harness of a run with `options`.
    init(options: Options) {
        self.options = options
    }

    /// Runs the workloads for `options.seconds`, checks them, prints the summary, and returns
    /// the exit status (`Options.exitPassed` or `Options.exitViolations`; a hang never returns).
    func run() -> Int32 {
        let threads = options.threads
        var setup = Xoshiro256(seed: options.seed, stream: 0)
        var workloads: [any Workload] = []
        for name in Options.workloads where options.only.contains(name) {
            switch name {
            case "lock": workloads.append(LockWorkload(threads: threads, board: board, log: log))
            case "rlock": workloads.append(RLockWorkload(threads: threads, board: board, log: log))
            case "condition": workloads.append(ConditionWorkload(threads: threads, board: board, log: log))
            case "semaphore": workloads.append(SemaphoreWorkload(threads: threads, board: board, log: log, rng: &setup))
            case "event": workloads.append(EventWorkload(threads: threads, board: board, log: log))
            case "queue": workloads.append(QueueWorkload(threads: threads, board: board, log: log))
            case "tasks": workloads.append(TaskWorkload(threads: threads, board: board, log: log))
            case "executor": workloads.append(ExecutorWorkload(threads: threads, board: board, log: log))
            case "barrier":
                workloads.append(BarrierWorkload(threads: threads, board: board, log: log, seed: options.seed))
            default: workloads.append(ChurnWorkload(threads: threads, board: board, log: log))
            }
        }
        if options.injectDeadlock { workloads.append(DeadlockInjection(board: board, log: log)) }
        let stats = workloads.flatMap(\.stats)
        let specs = workloads.flatMap { $0.makeWorkers() }

        Output.out(
            "threading-stress: seed \(options.seed), threads \(threads) per workload, "
                + "\(specs.count) workers, \(decimal(options.seconds, 1)) s"
                + " (reproduce with --seed \(options.seed) --threads \(threads))"
        )

        let start = Monotonic.now()
        let runEnd = Atomic<Int64>(0)
        let summary: @Sendable () -> String = {
            let end = runEnd.load(ordering: .relaxed)
            let elapsed = Double((end != 0 ? end : Monotonic.now()) - start) / 1e9
            return ([PrimitiveStats.heading] + stats.map { $0.line(elapsed: elapsed) }).joined(separator: "\n")
        }
        let main = board.register("main", monitored: false)
        Watchdog(board: board, start: start, hardLimit: options.seconds + 60, summary: summary).start()

        var started: [(Threading.Thread, WorkerSpec)] = []
        for (index, spec) in specs.enumerated() {
            let status = board.register(spec.name)
            let context = WorkerContext(
                name: spec.name,
                id: index + 1,
                rng: Xoshiro256(seed: options.seed, stream: Self.stream(of: spec.name)),
                status: status,
                control: control
            )
            let thread = Threading.Thread(
                target: {
                    var context = context
                    spec.body(&context)
                    status.finish()
                },
                name: spec.name,
                daemon: true
            )
            do {
                try thread.start()
                started.append((thread, spec))
            } catch {
                spec.stats.violation("starting worker \(spec.name) threw \(error)")
                status.finish()
            }
        }

        main.doing(board.label("main: running until the deadline"))
        let deadline = start + Int64(options.seconds * 1e9)
        while Monotonic.now() < deadline {
            Monotonic.sleep(min(0.1, Double(deadline - Monotonic.now()) / 1e9))
        }
        runEnd.store(Monotonic.now(), ordering: .relaxed)
        control.stop()
        main.doing(board.label("main: waking workers for shutdown"))
        for workload in workloads { workload.wakeForShutdown() }
        for (thread, spec) in started {
            main.doing(board.label("main: joining \(spec.name)"))
            do {
                try thread.join()
                if thread.isAlive { spec.stats.violation("worker \(spec.name) is alive after join()") }
            } catch {
                spec.stats.violation("joining worker \(spec.name) threw \(error)")
            }
        }
        let joined = Monotonic.seconds(since: deadline)
        main.doing(board.label("main: final checks"))
        for workload in workloads { workload.finalCheck() }

        Output.out(summary())
        let violations = stats.reduce(0) { $0 + $1.violations }
        let verdict = violations == 0 ? "PASS" : "FAIL (\(violations) violation\(violations == 1 ? "" : "s"))"
        Output.out(
            "threading-stress: \(verdict), seed \(options.seed), workers stopped and joined "
                + "\(decimal(joined, 2)) s after the deadline, \(decimal(Monotonic.seconds(since: start), 1)) s in all"
        )
        return violations == 0 ? Options.exitPassed : Options.exitViolations
    }

    /// The generator stream of the worker named `name` (FNV-1a of the name): it depends on the
    /// name alone, so a worker's schedule is the same whichever other workloads run.
    private static func stream(of name: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in name.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        return hash
    }
}
