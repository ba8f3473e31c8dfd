// The watchdog: a status table every worker updates, and a raw pthread that reports a hang.
//
// Nothing here uses the library under test: the table is made of `Synchronization` atomics and a
// pthread mutex, and the watchdog is a plain pthread that ends the process with `_exit`, so a real
// deadlock of the library is reported instead of hanging the run.

import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A description of something a worker may block on ("Lock#1.acquire"), interned once at setup
/// so that recording it costs one atomic store.
struct Label: Sendable {
    fileprivate let index: Int
}

/// What one worker is doing, as the watchdog sees it.
final class WorkerStatus: Sendable {
    /// The worker's thread name.
    let name: String
    /// Whether the stall rules apply (the main thread sleeps through the run and is only shown).
    let monitored: Bool
    /// Operations completed; the watchdog's notion of progress.
    fileprivate let progress = Atomic<UInt64>(0)
    /// The label of the call in progress (0: running between calls).
    fileprivate let activity = Atomic<Int>(0)
    /// The arguments of that call: `Arguments` encodes none, untimed, or a timeout.
    fileprivate let arguments = Atomic<UInt64>(Arguments.none)
    /// Set when the worker's body has returned.
    fileprivate let finished = Atomic<Bool>(false)

    /// Creates a row; use `StatusBoard.register`.
    fileprivate init(name: String, monitored: Bool) {
        self.name = name
        self.monitored = monitored
    }

    /// Records that the worker is about to call `label` with `timeout` (`nil`: no timeout).
    func blocking(_ label: Label, timeout: Double?) {
        arguments.store(timeout.map(Arguments.timeout) ?? Arguments.untimed, ordering: .relaxed)
        activity.store(label.index, ordering: .relaxed)
    }

    /// Records that the worker is busy with `label`, which is not a timed call.
    func doing(_ label: Label) {
        arguments.store(Arguments.none, ordering: .relaxed)
        activity.store(label.index, ordering: .relaxed)
    }

    /// Records one completed operation.
    func step() {
        activity.store(0, ordering: .relaxed)
        progress.wrappingAdd(1, ordering: .relaxed)
    }

    /// Records that the worker's body has returned.
    func finish() {
        activity.store(0, ordering: .relaxed)
        finished.store(true, ordering: .releasing)
    }
}

/// How a worker's status encodes the arguments of the call it is in.
private enum Arguments {
    /// Not a call: the label alone.
    static let none = UInt64.max
    /// A call without a timeout: `()`.
    static let untimed = UInt64.max - 1
    /// A call with a timeout: its bit pattern (a non-negative `Double` never collides).
    static func timeout(_ seconds: Double) -> UInt64 { seconds.bitPattern }
}

/// Every worker's status and every label, shared by the workers and the watchdog.
final class StatusBoard: Sendable {
    private let labels = PthreadMutex<[String]>(["running"])
    private let statuses = PthreadMutex<[WorkerStatus]>([])

    /// Interns `text`; call at setup, not per operation.
    func label(_ text: String) -> Label {
        labels.withLock { labels in
            if let index = labels.firstIndex(of: text) { return Label(index: index) }
            labels.append(text)
            return Label(index: labels.count - 1)
        }
    }

    /// Adds a worker (or, unmonitored, the main thread) to the table.
    func register(_ name: String, monitored: Bool = true) -> WorkerStatus {
        let status = WorkerStatus(name: name, monitored: monitored)
        statuses.withLock { $0.append(status) }
        return status
    }

    fileprivate var all: [WorkerStatus] {
        statuses.withLock { $0 }
    }

    /// How `status`'s current activity reads in a report: `Lock#1.acquire(timeout: 0.02)`.
    fileprivate func describe(_ status: WorkerStatus) -> String {
        let index = status.activity.load(ordering: .relaxed)
        let bits = status.arguments.load(ordering: .relaxed)
        let text = labels.withLock { index < $0.count ? $0[index] : "label #\(index)" }
        if index == 0 { return text }
        switch bits {
        case Arguments.none: return text
        case Arguments.untimed: return text + "()"
        default: return text + "(timeout: \(Double(bitPattern: bits)))"
        }
    }
}

/// A pthread that samples the status table ten times a second and, when the run hangs, prints
/// every worker with what it is blocked on, then the summary so far, and ends the process.
final class Watchdog: Sendable {
    /// Seconds without progress of any worker before a hang is reported.
    static let globalStall = 10.0
    /// Seconds without progress of one worker, while others progress, before a hang is reported.
    static let workerStall = 30.0

    private let board: StatusBoard
    private let startTime: Int64
    private let hardLimit: Double
    private let summary: @Sendable () -> String

    /// Creates a watchdog over `board` for a run begun at `start` that must end within
    /// `hardLimit` seconds; `summary` renders the summary so far for a report.
    init(board: StatusBoard, start: Int64, hardLimit: Double, summary: @escaping @Sendable () -> String) {
        self.board = board
        self.startTime = start
        self.hardLimit = hardLimit
        self.summary = summary
    }

    /// Starts the watchdog's pthread; it runs until the process exits.
    func start() {
        let context = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(
            &thread,
            nil,
            { context in
                Unmanaged<Watchdog>.fromOpaque(context!).takeRetainedValue().watch()
                return nil
            },
            context
        )
        precondition(rc == 0, "threading-stress: cannot start the watchdog thread (error \(rc))")
        pthread_detach(thread)
    }

    /// Samples the table every 100 ms until a hang is seen; never returns otherwise.
    private func watch() {
        var lastProgress: [ObjectIdentifier: (value: UInt64, time: Int64)] = [:]
        var lastAny = Monotonic.now()
        while true {
            Monotonic.sleep(0.1)
            let now = Monotonic.now()
            var unfinished = 0
            var stalled: WorkerStatus? = nil
            for status in board.all where status.monitored {
                let key = ObjectIdentifier(status)
                let value = status.progress.load(ordering: .relaxed)
                if status.finished.load(ordering: .acquiring) {
                    if lastProgress[key]?.value != .max { lastAny = now }
                    lastProgress[key] = (.max, now)
                    continue
                }
                unfinished += 1
                if let previous = lastProgress[key], previous.value == value {
                    if Double(now - previous.time) / 1e9 >= Watchdog.workerStall { stalled = status }
                } else {
                    lastProgress[key] = (value, now)
                    lastAny = now
                }
            }
            let idle = Double(now - lastAny) / 1e9
            if unfinished > 0 && idle >= Watchdog.globalStall {
                report("no worker has made progress for \(decimal(idle, 1)) s", lastProgress, now)
            }
            if let stalled {
                report("\(stalled.name) has made no progress for \(Int(Watchdog.workerStall)) s", lastProgress, now)
            }
            if Double(now - startTime) / 1e9 >= hardLimit {
                report("the run is still going \(decimal(hardLimit, 0)) s after it started", lastProgress, now)
            }
        }
    }

    /// Prints the hang report and the summary so far, and ends the process with `exitHang`.
    private func report(
        _ reason: String,
        _ lastProgress: [ObjectIdentifier: (value: UInt64, time: Int64)],
        _ now: Int64
    ) -> Never {
        var lines = ["", "WATCHDOG: hang detected: \(reason) (at \(decimal(Double(now - startTime) / 1e9, 1)) s)"]
        lines.append("Workers and what they are blocked on:")
        for status in board.all {
            let ops = status.progress.load(ordering: .relaxed)
            let state: String
            if status.finished.load(ordering: .acquiring) {
                state = "finished"
            } else if !status.monitored {
                state = "in " + board.describe(status)
            } else {
                let since =
                    lastProgress[ObjectIdentifier(status)].map { decimal(Double(now - $0.time) / 1e9, 1) } ?? "?"
                let what = board.describe(status)
                state = (what == "running" ? "running" : "in \(what)") + ", no progress for \(since) s"
            }
            lines.append("  " + column(status.name, 18, left: true) + column("ops=\(ops)", 14, left: true) + state)
        }
        lines.append("Summary so far:")
        lines.append(summary())
        lines.append("threading-stress: FAIL (hang)")
        Output.err(lines.joined(separator: "\n"))
        _exit(Options.exitHang)
    }
}
