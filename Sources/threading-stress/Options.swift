// The command line of threading-stress: options, defaults, usage text.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The settings of one run, parsed from the command line.
struct Options: Sendable {
    /// How long the workloads run before they are stopped and checked.
    var seconds: Double = 10
    /// Worker threads per workload.
    var threads = 8
    /// The seed of every worker's generator.
    var seed: UInt64 = Options.clockSeed()
    /// The workloads to run (`Options.workloads`); all of them by default.
    var only: Set<String> = Set(Options.workloads)
    /// Hidden: add two threads that deadlock on two Locks, to demonstrate the watchdog.
    var injectDeadlock = false

    /// Exit status of a run without violations.
    static let exitPassed: Int32 = 0
    /// Exit status of a run that found violations.
    static let exitViolations: Int32 = 1
    /// Exit status when the watchdog reports a hang.
    static let exitHang: Int32 = 2
    /// Exit status of a command-line error.
    static let exitUsage: Int32 = 64

    /// The workloads, by the names `--only` takes.
    static let workloads = [
        "lock", "rlock", "condition", "semaphore", "event", "barrier", "queue", "tasks", "executor", "churn",
    ]

    static let usage = """
        usage: threading-stress [--seconds N] [--threads T] [--seed S] [--only W,...]

        Runs randomized workloads over every primitive of Threading at once (Lock, RLock,
        Condition, Semaphore, BoundedSemaphore, Event, Barrier, the queues, ThreadPoolExecutor,
        Thread, Timer, Local, ThreadLocal),
        checks their invariants continuously, and prints one summary line per primitive.

          --seconds N   how long to run (default 10; fractions allowed)
          --threads T   worker threads per workload (default 8)
          --seed S      seed of the workers' generators (default: from the clock, printed);
                        the same seed gives every worker the same schedule of operations
          --only W,...  run only these workloads (for debugging; default all): lock, rlock,
                        condition, semaphore (both kinds), event, barrier, queue (Queue,
                        LifoQueue, PriorityQueue, SimpleQueue), tasks, executor
                        (ThreadPoolExecutor, Future, wait, asCompleted), churn (Thread, Timer,
                        Local, ThreadLocal)
          --help        this text

        A watchdog reports every worker and what it is blocked on when nothing progresses for
        10 s, when one worker makes no progress for 30 s, or when the run passes its deadline
        by 60 s.

        Exit status: 0 no violation, 1 violations found, 2 hang reported, 64 bad command line.
        """

    /// Parses `arguments` (the program name excluded). Prints the usage and exits on `--help`
    /// or on a bad argument.
    static func parse(_ arguments: [String]) -> Options {
        var options = Options()
        var remaining = arguments[...]
        while let argument = remaining.popFirst() {
            var name = argument
            var inlineValue: String? = nil
            if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                inlineValue = String(argument[argument.index(after: equals)...])
            }
            func value() -> String {
                if let inlineValue { return inlineValue }
                guard let next = remaining.popFirst() else { fail("\(name) needs a value") }
                return next
            }
            switch name {
            case "--help", "-h":
                Output.out(usage)
                exit(exitPassed)
            case "--seconds":
                let text = value()
                guard let seconds = Double(text), seconds.isFinite, seconds > 0 else {
                    fail("--seconds wants a positive number, not \(text)")
                }
                options.seconds = seconds
            case "--threads":
                let text = value()
                guard let threads = Int(text), (1...256).contains(threads) else {
                    fail("--threads wants a whole number from 1 to 256, not \(text)")
                }
                options.threads = threads
            case "--seed":
                let text = value()
                guard let seed = UInt64(text) else { fail("--seed wants an unsigned 64-bit number, not \(text)") }
                options.seed = seed
            case "--only":
                let names = value().split(separator: ",").map(String.init)
                guard !names.isEmpty, names.allSatisfy(workloads.contains) else {
                    fail("--only wants names among \(workloads.joined(separator: ", "))")
                }
                options.only = Set(names)
            case "--inject-deadlock":
                options.injectDeadlock = true
            default:
                fail("unknown argument \(argument)")
            }
        }
        return options
    }

    /// Prints `message` and the usage to standard error, and exits with `exitUsage`.
    private static func fail(_ message: String) -> Never {
        Output.err("threading-stress: \(message)\n\n\(usage)")
        exit(exitUsage)
    }

    /// A seed from the real-time clock and the process id, for runs that do not give one.
    private static func clockSeed() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var mixer = SplitMix64(seed: UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec) ^ UInt64(getpid()) << 32)
        // Decimal seeds of at most 12 digits are easier to copy from a log.
        return mixer.next() % 1_000_000_000_000
    }
}
