// Queue workloads: Queue and SimpleQueue beside Java's ArrayBlockingQueue/LinkedBlockingQueue,
// Rust's std mpsc channels, CPython's queue.Queue/SimpleQueue and a Swift Mutex + array +
// DispatchSemaphore baseline. The peers are the small programs in Benchmarks/Peers, compiled into
// this build folder (javac, rustc -O) when their toolchain is present and skipped, with a note,
// when it is not. Each peer program warms up and reports the median of its own samples.

import CBench
import Dispatch
import Glibc
import Synchronization
import Threading

/// The external peer programs: where their sources are, compiling them, running them.
enum QueuePeers {
    /// `Benchmarks/Peers`, found from this source file's path.
    static let sources: String = {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)  // Sources/threading-benchmarks/Queues.swift
        return parts.joined(separator: "/") + "/Peers"
    }()

    /// A `peers` folder beside this executable, in the build folder.
    static let build: String = {
        var parts = CommandLine.arguments[0].split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast()
        let directory = parts.isEmpty || parts == [""] ? "." : parts.joined(separator: "/")
        return directory + "/peers"
    }()

    /// Runs `command` with `sh -c`; returns its standard output, or nil if it failed.
    static func shell(_ command: String) -> String? {
        guard let pipe = popen(command, "r") else { return nil }
        var output = ""
        var buffer = [CChar](repeating: 0, count: 4096)
        while fgets(&buffer, Int32(buffer.count), pipe) != nil {
            output += String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        return pclose(pipe) == 0 ? output : nil
    }

    static let java: Bool = compile(
        "javac",
        "javac -d '\(build)' '\(sources)/QueuePeers.java'",
        peer: "Java ArrayBlockingQueue/LinkedBlockingQueue"
    )
    static let rust: Bool = compile(
        "rustc",
        "rustc -O -o '\(build)/queue_peers' '\(sources)/queue_peers.rs'",
        peer: "Rust std mpsc"
    )
    static let python: Bool = compile("python3", "python3 -c 'import queue'", peer: "CPython queue")

    static func compile(_ tool: String, _ command: String, peer: String) -> Bool {
        guard shell("command -v \(tool) >/dev/null 2>&1") != nil else {
            print("note: \(tool) not found: the \(peer) peers are skipped")
            return false
        }
        guard shell("mkdir -p '\(build)' && \(command) >/dev/null 2>&1") != nil else {
            print("note: `\(command)` failed: the \(peer) peers are skipped")
            return false
        }
        return true
    }

    /// Runs every available peer program on `workload`; the figures they print, by name.
    static func run(_ workload: String, samples: Int, pinned: Bool) -> [(String, Double)] {
        let pin = pinned ? "taskset -c 0 " : ""
        var commands: [String] = []
        if java { commands.append("\(pin)java -cp '\(build)' QueuePeers \(workload) \(samples)") }
        if rust { commands.append("\(pin)'\(build)/queue_peers' \(workload) \(samples)") }
        if python { commands.append("\(pin)python3 '\(sources)/queue_peers.py' \(workload) \(max(3, samples / 3))") }
        return figures(of: commands)
    }

    /// Runs each peer command; the figures they print, one `name value` per line, by name. A
    /// command that fails is noted and skipped.
    static func figures(of commands: [String]) -> [(String, Double)] {
        var figures: [(String, Double)] = []
        for command in commands {
            guard let output = shell(command) else {
                print("note: `\(command)` failed")
                continue
            }
            for line in output.split(separator: "\n") {
                guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...])
                else { continue }
                figures.append((String(line[..<space]), value))
            }
        }
        return figures
    }
}

/// The hand-written Swift baseline: `Synchronization.Mutex` around an array used as a ring, with
/// a `DispatchSemaphore` counting items (and one counting free slots when bounded).
final class MutexRingQueue: Sendable {
    private struct Storage {
        var items: [Int] = []
        var head = 0
    }

    private let storage = Mutex(Storage())
    private let itemCount = DispatchSemaphore(value: 0)
    private let slots: DispatchSemaphore?

    init(bound: Int = 0) {
        slots = bound > 0 ? DispatchSemaphore(value: bound) : nil
    }

    func put(_ item: Int) {
        slots?.wait()
        storage.withLock { $0.items.append(item) }
        itemCount.signal()
    }

    func get() -> Int {
        itemCount.wait()
        let item = storage.withLock { s -> Int in
            let item = s.items[s.head]
            s.head += 1
            if s.head > 1024 && s.head * 2 > s.items.count {
                s.items.removeFirst(s.head)
                s.head = 0
            }
            return item
        }
        slots?.signal()
        return item
    }
}

enum QueueWorkloads {
    /// µs per round trip: `ping.put` → partner `get` → `pong.put` → `get`, both threads on CPU 0.
    static func pingPong(
        rounds: Int,
        _ put: @escaping @Sendable (Bool, Int) -> Void,
        _ get: @escaping @Sendable (Bool) -> Int
    )
        -> Double
    {
        onCPU0(true) {
            let partner = RawThread(pin: 0) {
                for _ in 0..<rounds { put(true, get(false)) }
            }
            let start = now()
            for i in 0..<rounds {
                put(false, i)
                _ = get(true)
            }
            let elapsed = now() - start
            partner.join()
            return elapsed / Double(rounds) * 1e6
        }
    }

    /// ns per item from one producer thread to one consumer thread (unpinned).
    static func stream(
        items n: Int,
        _ put: @escaping @Sendable (Int) -> Void,
        _ get: @escaping @Sendable () -> Int
    )
        -> Double
    {
        let consumer = RawThread { for _ in 0..<n { _ = get() } }
        let start = now()
        for i in 0..<n { put(i) }
        consumer.join()
        return (now() - start) / Double(n) * 1e9
    }

    /// ns per item through 4 producers and 4 consumers (unpinned), the inverse of throughput.
    static func mpmc(
        perProducer n: Int,
        _ put: @escaping @Sendable (Int) -> Void,
        _ get: @escaping @Sendable () -> Int
    )
        -> Double
    {
        let start = now()
        var threads: [RawThread] = []
        for _ in 0..<4 {
            threads.append(RawThread { for i in 0..<n { put(i) } })
            threads.append(RawThread { for _ in 0..<n { _ = get() } })
        }
        for thread in threads { thread.join() }
        return (now() - start) / Double(4 * n) * 1e9
    }

    static func run(_ options: Options, _ report: Report) {
        let s = options.samples
        if options.wants("queue-pingpong-pinned") {
            let rounds = 4_000
            let m = compare(
                s,
                [
                    {
                        let ping = Threading.Queue<Int>()
                        let pong = Threading.Queue<Int>()
                        return pingPong(
                            rounds: rounds,
                            { try! ($0 ? pong : ping).put($1) },
                            { try! ($0 ? pong : ping).get() }
                        )
                    },
                    {
                        let ping = SimpleQueue<Int>()
                        let pong = SimpleQueue<Int>()
                        return pingPong(
                            rounds: rounds,
                            { ($0 ? pong : ping).put($1) },
                            { try! ($0 ? pong : ping).get() }
                        )
                    },
                    {
                        let ping = MutexRingQueue()
                        let pong = MutexRingQueue()
                        return pingPong(rounds: rounds, { ($0 ? pong : ping).put($1) }, { ($0 ? pong : ping).get() })
                    },
                    {
                        let ping = Event()
                        let pong = Event()
                        return pingPong(
                            rounds: rounds,
                            { partner, _ in (partner ? pong : ping).set() },
                            { partner in
                                let e = partner ? pong : ping
                                _ = try! e.wait()
                                e.clear()
                                return 0
                            }
                        )
                    },
                ]
            )
            let peers = QueuePeers.run("pingpong", samples: s, pinned: true)
            let swiftPeers = [("SimpleQueue", m[1]), ("Mutex+array+DispatchSemaphore", m[2]), ("Event pair", m[3])]
            report.add(
                Row(
                    "queue-pingpong-pinned: Queue put→get round trip, both threads on CPU 0",
                    unit: "µs",
                    ours: m[0],
                    peers: peers + swiftPeers,
                    against: "ArrayBlockingQueue(64)"
                )
            )
            report.add(
                Row(
                    "queue-pingpong-pinned vs Event: the same, against this package's Event ping-pong",
                    unit: "µs",
                    ours: m[0],
                    peers: [("Event pair", m[3])],
                    against: "Event pair",
                    target: .ratioAtMost(1.1)
                )
            )
        }
        if options.wants("queue-stream") {
            let n = 500_000
            let m = compare(
                s,
                [
                    {
                        let q = Threading.Queue<Int>()
                        return stream(items: n, { try! q.put($0) }, { try! q.get() })
                    },
                    {
                        let q = SimpleQueue<Int>()
                        return stream(items: n, { q.put($0) }, { try! q.get() })
                    },
                    {
                        let q = MutexRingQueue()
                        return stream(items: n, { q.put($0) }, { q.get() })
                    },
                    {
                        let q = Threading.Queue<Int>(maxsize: 64)
                        return stream(items: n, { try! q.put($0) }, { try! q.get() })
                    },
                    {
                        let q = MutexRingQueue(bound: 64)
                        return stream(items: n, { q.put($0) }, { q.get() })
                    },
                ]
            )
            let peers = QueuePeers.run("stream", samples: s, pinned: false)
            let unbounded = peers.filter { !$0.0.contains("64") }
            let bounded = peers.filter { $0.0.contains("64") }
            report.add(
                Row(
                    "queue-stream-unbounded: Queue(), 1 producer → 1 consumer, per item",
                    unit: "ns",
                    ours: m[0],
                    peers: unbounded + [("SimpleQueue", m[1]), ("Mutex+array+DispatchSemaphore", m[2])],
                    against: "mpsc::channel"
                )
            )
            report.add(
                Row(
                    "queue-stream-bounded-64: Queue(maxsize: 64), 1 producer → 1 consumer, per item",
                    unit: "ns",
                    ours: m[3],
                    peers: bounded + [("Mutex+array+2 DispatchSemaphores", m[4])],
                    against: "mpsc::sync_channel(64)"
                )
            )
            report.add(Row("queue-stream-bounded-64 absolute", unit: "ns", ours: m[3], peers: [], target: .atMost(100)))
        }
        if options.wants("queue-uncontended") {
            let n = 2_000_000
            let q = Threading.Queue<Int>()
            let simple = SimpleQueue<Int>()
            let baseline = MutexRingQueue()
            let bounded = Threading.Queue<Int>(maxsize: 64)
            let m = compare(
                s,
                [
                    {
                        let start = now()
                        for i in 0..<n {
                            try! q.put(i)
                            _ = try! q.get()
                        }
                        return (now() - start) / Double(n) * 1e9
                    },
                    {
                        let start = now()
                        for i in 0..<n {
                            simple.put(i)
                            _ = try! simple.get()
                        }
                        return (now() - start) / Double(n) * 1e9
                    },
                    {
                        let start = now()
                        for i in 0..<n {
                            baseline.put(i)
                            _ = baseline.get()
                        }
                        return (now() - start) / Double(n) * 1e9
                    },
                    {
                        let start = now()
                        for i in 0..<n {
                            try! bounded.put(i)
                            _ = try! bounded.get()
                        }
                        return (now() - start) / Double(n) * 1e9
                    },
                ]
            )
            let peers = QueuePeers.run("uncontended", samples: s, pinned: true)
            report.add(
                Row(
                    "queue-uncontended: Queue() put+get, 1 thread",
                    unit: "ns",
                    ours: m[0],
                    peers: peers + [
                        ("SimpleQueue", m[1]), ("Queue(maxsize: 64)", m[3]), ("Mutex+array+DispatchSemaphore", m[2]),
                    ],
                    against: "ArrayBlockingQueue(64)"
                )
            )
        }
        if options.wants("queue-mpmc") {
            let n = options.quick ? 25_000 : 100_000
            let m = compare(
                max(3, s / 3),
                [
                    {
                        let q = Threading.Queue<Int>(maxsize: 64)
                        return mpmc(perProducer: n, { try! q.put($0) }, { try! q.get() })
                    },
                    {
                        let q = MutexRingQueue(bound: 64)
                        return mpmc(perProducer: n, { q.put($0) }, { q.get() })
                    },
                ]
            )
            // The peers report items per second; shown here as ns per item.
            let peers = QueuePeers.run("mpmc", samples: max(3, s / 3), pinned: false).map { ($0.0, 1e9 / $0.1) }
            report.add(
                Row(
                    "queue-mpmc-4x4: Queue(maxsize: 64), 4 producers / 4 consumers, ns per item (1/throughput)",
                    unit: "ns",
                    ours: m[0],
                    peers: peers + [("Mutex+array+2 DispatchSemaphores", m[1])],
                    against: "ArrayBlockingQueue(64)"
                )
            )
        }
    }
}
