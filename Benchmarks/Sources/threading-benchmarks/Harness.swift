// The measuring harness: repeated samples and medians, raw pthreads, pinning, and the report.

import CBench
import Glibc

/// Seconds on the monotonic clock.
func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// The median of `values`.
func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    let mid = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/// Run options, from the command line.
struct Options: Sendable {
    var filter: String? = nil
    var samples = 11

    static func parse(_ arguments: [String]) -> Options {
        var options = Options()
        var iterator = arguments.dropFirst().makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--filter": options.filter = iterator.next()
            case "--quick": options.samples = 5
            case "--samples": options.samples = Int(iterator.next() ?? "") ?? options.samples
            default:
                print("usage: threading-benchmarks [--filter SUBSTRING] [--quick] [--samples N]")
                exit(2)
            }
        }
        return options
    }
}

/// Runs `sample` `count` times and returns the median of what it returns.
func medianOf(_ count: Int, _ sample: () -> Double) -> Double {
    _ = sample()  // warm-up
    return median((0..<count).map { _ in sample() })
}

/// A joinable raw pthread, optionally pinned to a CPU.
final class RawThread: @unchecked Sendable {
    // @unchecked Sendable: `handle` is written once by `init`, before the object is shared.
    private var handle = pthread_t()

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
}

final class Closure {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
}

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

/// One line of the report: a workload, our figure, the peers', and the target.
struct Row {
    let workload: String
    let unit: String
    let ours: Double
    let peers: [(String, Double)]
    /// The peer the target compares against (default: the best, i.e. the smallest).
    let reference: String?
    /// The largest ratio ours/reference that meets the target.
    let target: Double?

    init(_ workload: String, unit: String, ours: Double, peers: [(String, Double)], against reference: String? = nil, target: Double? = 1.0) {
        self.workload = workload
        self.unit = unit
        self.ours = ours
        self.peers = peers
        self.reference = reference
        self.target = target
    }

    func render() -> String {
        let referenceValue = reference.flatMap { name in peers.first { $0.0 == name }?.1 }
            ?? peers.map(\.1).min() ?? .nan
        let referenceName = reference ?? peers.min { $0.1 < $1.1 }?.0 ?? "-"
        let ratio = ours / referenceValue
        var verdict = ""
        if let target { verdict = ratio <= target ? "met (≤ \(format(target))×)" : "NOT met (≤ \(format(target))×)" }
        let peerText = peers.map { "\($0.0) \(format($0.1))" }.joined(separator: ", ")
        return "\(workload): ours \(format(ours)) \(unit) | \(peerText) | ours/\(referenceName) \(format(ratio))× \(verdict)"
    }
}

/// A number with three significant digits.
func format(_ value: Double) -> String {
    if value.isNaN { return "n/a" }
    let magnitude = abs(value)
    let decimals = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : magnitude >= 1 ? 2 : 3
    var text = String(Int((value * pow(10, Double(decimals))).rounded()))
    if decimals > 0 {
        let negative = text.hasPrefix("-")
        if negative { text.removeFirst() }
        while text.count <= decimals { text = "0" + text }
        text.insert(".", at: text.index(text.endIndex, offsetBy: -decimals))
        if negative { text = "-" + text }
    }
    return text
}
