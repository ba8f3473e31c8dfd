// The measuring harness: interleaved samples and medians, raw pthreads, pinning, and the report.

import CBench
import Glibc

/// Seconds on the monotonic clock.
func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// The median of `values` (NaN when empty).
func median(_ values: [Double]) -> Double {
    if values.isEmpty { return .nan }
    let sorted = values.sorted()
    let mid = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/// Run options, from the command line.
struct Options: Sendable {
    var filters: [String] = []
    var samples = 15
    var quick = false

    static func parse(_ arguments: [String]) -> Options {
        var options = Options()
        var iterator = arguments.dropFirst().makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--filter":
                guard let filter = iterator.next() else { usage() }
                options.filters.append(filter)
            case "--quick":
                options.quick = true
                options.samples = 5
            case "--samples":
                guard let n = iterator.next().flatMap({ Int($0) }), n > 0 else { usage() }
                options.samples = n
            case "--list":
                for name in allWorkloads { print(name) }
                exit(0)
            default:
                usage()
            }
        }
        return options
    }

    static func usage() -> Never {
        print(
            """
            usage: threading-benchmarks [--filter SUBSTRING]... [--quick] [--samples N] [--list]
              --filter S   run only the workloads whose name contains S (repeatable)
              --quick      5 samples instead of 15, shorter contended runs
              --samples N  N samples per measurement
              --list       print the workload names
            """
        )
        exit(2)
    }

    /// Whether `workload` was asked for.
    func wants(_ workload: String) -> Bool {
        filters.isEmpty || filters.contains { workload.contains($0) }
    }
}

/// Every workload name, for `--list` and `--filter`.
let allWorkloads = [
    "lock-uncontended", "lock-contended-2", "lock-contended-8", "rlock",
    "condition-pingpong-pinned", "condition-pingpong-unpinned",
    "event-pingpong-pinned", "event-pingpong-unpinned",
    "semaphore-uncontended", "semaphore-handoff", "lockedvalue-uncontended",
    "lockedvalue-buffer-pinned", "lockedvalue-buffer-unpinned", "barrier-2-pinned", "barrier-4-pinned",
    "timed-wait-overshoot", "bytes", "cpu-blocked", "thread-start-join", "thread-local-read",
    "queue-pingpong-pinned", "queue-stream", "queue-uncontended", "queue-mpmc",
    "futures-roundtrip-pinned", "futures-submit-many-pinned", "futures-set-result", "futures-wait-100",
    "futures-run-async",
    "task-handoff", "task-thread-roundtrip", "task-semaphore-uncontended", "task-timed-wait-overshoot",
]

/// Measures every candidate `samples` times, interleaved (one sample of each in turn, the order
/// rotating every round), after one warm-up each; returns the medians in the candidates' order.
///
/// Interleaving matters on a shared machine: a slow spell hits every candidate alike instead of
/// whichever one happened to be running.
func compare(_ samples: Int, _ candidates: [() -> Double]) -> [Double] {
    for candidate in candidates { _ = candidate() }
    var values = Array(repeating: [Double](), count: candidates.count)
    for round in 0..<samples {
        for k in 0..<candidates.count {
            let i = (k + round) % candidates.count
            values[i].append(candidates[i]())
        }
    }
    return values.map(median)
}

/// A joinable raw pthread, optionally pinned to a CPU.
final class RawThread: @unchecked Sendable {
    // @unchecked Sendable: `handle` is written once by `init`, before the object is shared.
    private(set) var handle = pthread_t()

    init(pin cpu: Int? = nil, _ body: @escaping @Sendable () -> Void) {
        let work: @Sendable () -> Void = {
            if let cpu { _ = cbench_pin(Int32(cpu)) }
            body()
        }
        let context = Unmanaged.passRetained(Closure(work)).toOpaque()
        let rc = pthread_create(&handle, nil, rawEntry, context)
        precondition(rc == 0, "pthread_create failed: \(rc)")
    }

    func join() {
        let rc = pthread_join(handle, nil)
        precondition(rc == 0, "pthread_join failed: \(rc)")
    }

    /// The thread's CPU time so far, in seconds.
    var cpuSeconds: Double { cbench_cpu_seconds_of(handle) }
}

final class Closure {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
}

/// The start routine of every raw thread: a nonisolated global function, never a closure literal.
private func rawEntry(_ context: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    Unmanaged<Closure>.fromOpaque(context!).takeRetainedValue().run()
    return nil
}

/// Runs `body` with the calling thread pinned to CPU 0 (when `pinned`), then unpins it.
func onCPU0<R>(_ pinned: Bool, _ body: () -> R) -> R {
    if pinned { _ = cbench_pin(0) }
    defer { if pinned { _ = cbench_pin(-1) } }
    return body()
}

/// What a row is checked against.
enum Target {
    /// ours / reference ≤ the bound.
    case ratioAtMost(Double)
    /// ours ≤ the bound (in the row's unit).
    case atMost(Double)
    /// ours ≥ the bound (in the row's unit).
    case atLeast(Double)
    /// No target: shown for information.
    case none
}

/// One line of the report: a workload, our median, the peers' medians, the ratio and the target.
struct Row {
    let workload: String
    let unit: String
    let ours: Double
    let peers: [(String, Double)]
    /// The peer the ratio is taken against (default: the best, i.e. the smallest).
    let reference: String?
    let target: Target

    init(
        _ workload: String,
        unit: String,
        ours: Double,
        peers: [(String, Double)],
        against reference: String? = nil,
        target: Target = .ratioAtMost(1.0)
    ) {
        self.workload = workload
        self.unit = unit
        self.ours = ours
        self.peers = peers
        self.reference = reference
        self.target = target
    }

    var referencePeer: (String, Double)? {
        if let reference { return peers.first { $0.0 == reference } }
        return peers.min { $0.1 < $1.1 }
    }

    var ratio: Double? { referencePeer.map { ours / $0.1 } }

    var verdict: (text: String, met: Bool?) {
        switch target {
        case .ratioAtMost(let bound):
            let name = referencePeer?.0 ?? "best peer"
            return ("≤ \(format(bound))× \(name)", ratio.map { $0 <= bound })
        case .atMost(let bound):
            return ("≤ \(format(bound)) \(unit)", ours <= bound)
        case .atLeast(let bound):
            return ("≥ \(format(bound))", ours >= bound)
        case .none:
            return ("—", nil)
        }
    }

    static let header = """
        | workload | ours | peers | ours / ref | target | met? |
        | --- | --- | --- | --- | --- | --- |
        """

    func render() -> String {
        let unitSuffix = unit.isEmpty ? "" : " \(unit)"
        let peerText = peers.isEmpty ? "—" : peers.map { "\($0.0) \(format($0.1))" }.joined(separator: ", ")
        let ratioText = referencePeer.map { "\(format(ours / $0.1))× \($0.0)" } ?? "—"
        let (targetText, met) = verdict
        let metText = met.map { $0 ? "yes" : "**NO**" } ?? "—"
        return
            "| \(workload) | \(format(ours))\(unitSuffix) | \(peerText) | \(ratioText) | \(targetText) | \(metText) |"
    }
}

/// Collects the rows and prints each as soon as it is measured.
final class Report {
    private(set) var rows: [Row] = []

    func add(_ row: Row) {
        rows.append(row)
        print(row.render())
        fflush(nil)
    }
}

/// A number with three significant digits or so.
func format(_ value: Double) -> String {
    if value.isNaN { return "n/a" }
    if value.isInfinite { return value > 0 ? "inf" : "-inf" }
    let magnitude = abs(value)
    let decimals = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : magnitude >= 1 ? 2 : 3
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    var text = String(Int((value * scale).rounded()))
    if decimals > 0 {
        let negative = text.hasPrefix("-")
        if negative { text.removeFirst() }
        while text.count <= decimals { text = "0" + text }
        text.insert(".", at: text.index(text.endIndex, offsetBy: -decimals))
        if negative { text = "-" + text }
    }
    return text
}
