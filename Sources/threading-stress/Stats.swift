// Per-primitive counters (operations, violations, honoured timeouts) and the log of violations.

import Synchronization
import Threading

/// A named count shown in the notes column of a summary line (handoffs, items, generations...).
final class Counter: Sendable {
    /// The name printed before the value.
    let name: String
    private let value = Atomic<Int>(0)

    /// Creates a counter at zero.
    init(_ name: String) {
        self.name = name
    }

    /// Adds `n`.
    func add(_ n: Int = 1) {
        value.wrappingAdd(n, ordering: .relaxed)
    }

    /// Raises the value to `n` if `n` is larger (for maxima).
    func raise(to n: Int) {
        var current = value.load(ordering: .relaxed)
        while n > current {
            let (exchanged, seen) = value.compareExchange(expected: current, desired: n, ordering: .relaxed)
            if exchanged { return }
            current = seen
        }
    }

    /// The value now.
    var current: Int {
        value.load(ordering: .relaxed)
    }
}

/// Prints violations as they are found, up to a limit, so that a broken primitive cannot flood
/// the output.
final class ViolationLog: Sendable {
    private let printed = Atomic<Int>(0)
    /// How many violation messages are printed; the rest are only counted.
    static let limit = 40

    /// Prints one violation of `primitive`, unless the limit is reached.
    func report(_ primitive: String, _ message: String) {
        let number = printed.wrappingAdd(1, ordering: .relaxed).newValue
        if number <= ViolationLog.limit {
            Output.err("VIOLATION [\(primitive)] \(message) (thread \(currentThread().name))")
        } else if number == ViolationLog.limit + 1 {
            Output.err("(further violations are counted but not printed)")
        }
    }
}

/// The running totals of one primitive: one line of the summary.
final class PrimitiveStats: Sendable {
    /// The primitive's name, first column of its line.
    let name: String
    /// Extra counts shown at the end of the line.
    let notes: [Counter]
    private let log: ViolationLog
    private let operations = Atomic<Int>(0)
    private let violationCount = Atomic<Int>(0)
    private let honoured = Atomic<Int>(0)

    /// Creates the totals of `name`, reporting violations to `log`.
    init(_ name: String, log: ViolationLog, notes: [Counter] = []) {
        self.name = name
        self.log = log
        self.notes = notes
    }

    /// Counts `n` operations done.
    func op(_ n: Int = 1) {
        operations.wrappingAdd(n, ordering: .relaxed)
    }

    /// Counts and prints a broken invariant.
    func violation(_ message: String) {
        violationCount.wrappingAdd(1, ordering: .relaxed)
        log.report(name, message)
    }

    /// The number of violations so far.
    var violations: Int {
        violationCount.load(ordering: .relaxed)
    }

    /// Checks a timed call that gave up: it must have waited at least `timeout` seconds since
    /// `start` (a `Monotonic.now()` taken before the call). Counts it as honoured, or as a violation.
    func checkExpired(since start: Int64, timeout: Double, _ what: @autoclosure () -> String) {
        let elapsed = Monotonic.now() - start
        guard timeout > 0 else { return }
        if Double(elapsed) >= timeout * 1e9 {
            honoured.wrappingAdd(1, ordering: .relaxed)
        } else {
            violation(
                "\(what()) gave up after \(decimal(Double(elapsed) / 1e6, 3)) ms, before its timeout of "
                    + "\(decimal(timeout * 1e3, 3)) ms"
            )
        }
    }

    /// Counts a timed wait that lasted at least its timeout, checked by the caller.
    func countHonoured() {
        honoured.wrappingAdd(1, ordering: .relaxed)
    }

    /// Runs `body`, which must throw `ThreadingError` of `kind` with `message` (any message when
    /// `nil`); anything else is a violation. Returns whether it threw as expected.
    @discardableResult
    func expectError(
        _ kind: ThreadingError.Kind,
        _ message: String?,
        _ what: @autoclosure () -> String,
        _ body: () throws -> Void
    ) -> Bool {
        do {
            try body()
            violation("\(what()) did not throw (expected \(kind) \(message.map { "\"\($0)\"" } ?? ""))")
            return false
        } catch let error as ThreadingError {
            if error.kind == kind && (message == nil || error.message == message) { return true }
            violation("\(what()) threw \(error), expected \(kind) \(message.map { "\"\($0)\"" } ?? "")")
            return false
        } catch {
            violation("\(what()) threw \(error), expected ThreadingError \(kind)")
            return false
        }
    }

    /// The column headings matching `line(elapsed:)`.
    static let heading =
        column("primitive", 17, left: true) + column("ops", 12) + column("ops/s", 11) + column("violations", 12)
        + column("timeouts-honoured", 19) + "  notes"

    /// The summary line: operations, operations per second over `elapsed` seconds, violations,
    /// honoured timeouts, and the notes.
    func line(elapsed: Double) -> String {
        let ops = operations.load(ordering: .relaxed)
        let rate = elapsed > 0 ? Double(ops) / elapsed : 0
        let notesText = notes.map { "\($0.name)=\($0.current)" }.joined(separator: " ")
        return column(name, 17, left: true) + column(String(ops), 12) + column(String(Int(rate.rounded())), 11)
            + column(String(violations), 12) + column(String(honoured.load(ordering: .relaxed)), 19)
            + (notesText.isEmpty ? "" : "  " + notesText)
    }
}
