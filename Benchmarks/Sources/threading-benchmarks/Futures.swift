// Futures workloads: ThreadPoolExecutor and Future beside Java's Executors.newFixedThreadPool(1)
// with Future.get and CompletableFuture, swift-nio's NIOThreadPool, Dispatch, CPython's
// concurrent.futures and a Mutex-based minimal future. The Java and CPython peers are the small
// programs in Benchmarks/Peers (FuturePeers.java, futures_peers.py), compiled and run as the queue
// peers are (QueuePeers), skipped with a note when their toolchain is absent.

import Dispatch
import Glibc
import NIOCore
import NIOPosix
import Synchronization
import Threading

enum FuturePeers {
    static let java: Bool = QueuePeers.compile(
        "javac",
        "javac -d '\(QueuePeers.build)' '\(QueuePeers.sources)/FuturePeers.java'",
        peer: "Java FixedThreadPool/CompletableFuture"
    )
    static let python: Bool = QueuePeers.compile(
        "python3",
        "python3 -c 'import concurrent.futures'",
        peer: "CPython concurrent.futures"
    )

    /// Runs the available peer programs on `workload` (`java`, `python` select them); the figures
    /// they print, by name.
    static func run(
        _ workload: String,
        samples: Int,
        pinned: Bool,
        java useJava: Bool = true,
        python usePython: Bool = true
    ) -> [(String, Double)] {
        let pin = pinned ? "taskset -c 0 " : ""
        var commands: [String] = []
        if useJava && java {
            commands.append("\(pin)java -cp '\(QueuePeers.build)' FuturePeers \(workload) \(samples)")
        }
        if usePython && python {
            commands.append(
                "\(pin)python3 '\(QueuePeers.sources)/futures_peers.py' \(workload) \(max(3, samples / 3))"
            )
        }
        return QueuePeers.figures(of: commands)
    }
}

/// The minimal future the `Future` figures are compared with: a `Mutex` around an optional `Int`
/// (not generic: a generic class's unspecialized `deinit` would look its field types up).
final class MutexFuture: Sendable {
    private let value = Mutex<Int?>(nil)
    func set(_ newValue: Int) { value.withLock { $0 = newValue } }
    func get() -> Int? { value.withLock { $0 } }
}

@inline(never) func makeFuture() -> Future<Int> { Future<Int>() }
@inline(never) func makeMutexFuture() -> MutexFuture { MutexFuture() }

/// The floor of any class-based future: a bare final class holding an `Int`.
final class BareObject {
    let value: Int
    init(_ value: Int) { self.value = value }
}

@inline(never) func makeBareObject(_ value: Int) -> BareObject { BareObject(value) }

/// Counts down to zero, then signals: the "wait for all" of the peers without futures.
final class Countdown: Sendable {
    private let remaining: Atomic<Int>
    let done = DispatchSemaphore(value: 0)
    init(_ count: Int) { remaining = Atomic(count) }
    func arrive() {
        if remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 { done.signal() }
    }
}

enum FutureWorkloads {
    static func run(_ options: Options, _ report: Report) {
        let s = options.samples
        let roundTripWanted = options.wants("futures-roundtrip-pinned") || options.wants("futures-run-async")
        guard
            roundTripWanted || options.wants("futures-submit-many-pinned") || options.wants("futures-set-result")
                || options.wants("futures-wait-100")
        else { return }
        // One-worker pools whose threads start on CPU 0 (a thread inherits its creator's affinity).
        let (pool, nioPool, dispatchQueue, group) = onCPU0(true) {
            () -> (ThreadPoolExecutor, NIOThreadPool, DispatchQueue, MultiThreadedEventLoopGroup) in
            let pool = try! ThreadPoolExecutor(maxWorkers: 1)
            _ = try! pool.submit {}.result()
            let nioPool = NIOThreadPool(numberOfThreads: 1)
            nioPool.start()
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let queue = DispatchQueue(label: "futures-benchmark")
            let ready = DispatchSemaphore(value: 0)
            queue.async { ready.signal() }
            ready.wait()
            return (pool, nioPool, queue, group)
        }
        defer {
            pool.shutdown()
            try? nioPool.syncShutdownGracefully()
            try? group.syncShutdownGracefully()
        }
        let loop = group.next()

        if options.wants("futures-roundtrip-pinned") {
            let rounds = 5_000
            let m = compare(
                s,
                [
                    {
                        onCPU0(true) {
                            let start = now()
                            for _ in 0..<rounds { _ = try! pool.submit {}.result() }
                            return (now() - start) / Double(rounds) * 1e6
                        }
                    },
                    {
                        onCPU0(true) {
                            let start = now()
                            for _ in 0..<rounds { try! nioPool.runIfActive(eventLoop: loop) {}.wait() }
                            return (now() - start) / Double(rounds) * 1e6
                        }
                    },
                    {
                        onCPU0(true) {
                            let done = DispatchSemaphore(value: 0)
                            let start = now()
                            for _ in 0..<rounds {
                                nioPool.submit { _ in done.signal() }
                                done.wait()
                            }
                            return (now() - start) / Double(rounds) * 1e6
                        }
                    },
                    {
                        onCPU0(true) {
                            let done = DispatchSemaphore(value: 0)
                            let start = now()
                            for _ in 0..<rounds {
                                dispatchQueue.async { done.signal() }
                                done.wait()
                            }
                            return (now() - start) / Double(rounds) * 1e6
                        }
                    },
                ]
            )
            let peers = FuturePeers.run("roundtrip", samples: s, pinned: true)
            let swiftPeers = [
                ("NIOThreadPool.runIfActive+wait", m[1]), ("NIOThreadPool.submit+DispatchSemaphore", m[2]),
                ("DispatchQueue.async+DispatchSemaphore", m[3]),
            ]
            report.add(
                Row(
                    "futures-roundtrip-pinned: submit {} → result(), 1 worker, CPU 0",
                    unit: "µs",
                    ours: m[0],
                    peers: peers + swiftPeers,
                    against: "Java FixedThreadPool(1)"
                )
            )
            report.add(
                Row(
                    "futures-roundtrip-pinned vs NIO: the same, against NIOThreadPool.runIfActive",
                    unit: "µs",
                    ours: m[0],
                    peers: [("NIOThreadPool.runIfActive+wait", m[1])],
                    against: "NIOThreadPool.runIfActive+wait",
                    target: .ratioAtMost(0.999)
                )
            )
        }
        if options.wants("futures-submit-many-pinned") {
            let n = 100_000
            let m = compare(
                s,
                [
                    {
                        onCPU0(true) {
                            var futures: [Future<Void>] = []
                            futures.reserveCapacity(n)
                            let start = now()
                            for _ in 0..<n { futures.append(try! pool.submit {}) }
                            _ = try! wait(futures)
                            return (now() - start) / Double(n) * 1e9
                        }
                    },
                    {
                        onCPU0(true) {
                            let countdown = Countdown(n)
                            let start = now()
                            for _ in 0..<n { nioPool.submit { _ in countdown.arrive() } }
                            countdown.done.wait()
                            return (now() - start) / Double(n) * 1e9
                        }
                    },
                    {
                        onCPU0(true) {
                            let all = DispatchGroup()
                            let start = now()
                            for _ in 0..<n { dispatchQueue.async(group: all) {} }
                            all.wait()
                            return (now() - start) / Double(n) * 1e9
                        }
                    },
                ]
            )
            let peers = FuturePeers.run("submit-many", samples: s, pinned: true)
            report.add(
                Row(
                    "futures-submit-many-pinned: submit 100 000 {}, then wait(all), 1 worker, CPU 0",
                    unit: "ns/item",
                    ours: m[0],
                    peers: peers + [
                        ("NIOThreadPool.submit+countdown", m[1]), ("DispatchQueue.async(group:)+wait", m[2]),
                    ],
                    against: "Java FixedThreadPool(1)"
                )
            )
        }
        if options.wants("futures-set-result") {
            let n = 1_000_000
            let m = compare(
                s,
                [
                    {
                        var sum = 0
                        let start = now()
                        for i in 0..<n {
                            let future = makeFuture()
                            try! future.setResult(i)
                            sum &+= try! future.result()
                        }
                        let elapsed = now() - start
                        if sum == 42 { print(sum) }
                        return elapsed / Double(n) * 1e9
                    },
                    {
                        var sum = 0
                        let start = now()
                        for i in 0..<n {
                            let future = makeMutexFuture()
                            future.set(i)
                            sum &+= future.get()!
                        }
                        let elapsed = now() - start
                        if sum == 42 { print(sum) }
                        return elapsed / Double(n) * 1e9
                    },
                    {
                        var sum = 0
                        let start = now()
                        for i in 0..<n { sum &+= makeBareObject(i).value }
                        let elapsed = now() - start
                        if sum == 42 { print(sum) }
                        return elapsed / Double(n) * 1e9
                    },
                ]
            )
            let peers = FuturePeers.run("set-result", samples: s, pinned: true)
            report.add(
                Row(
                    "futures-set-result: Future(), setResult, result() (no wait)",
                    unit: "ns",
                    ours: m[0],
                    peers: peers + [("Mutex-based future", m[1]), ("bare final class alloc+release (floor)", m[2])],
                    against: "Mutex-based future",
                    target: .atMost(50)
                )
            )
        }
        if options.wants("futures-wait-100") {
            let rounds = 20_000
            let futures = (0..<100).map { _ in Future<Int>() }
            for (i, future) in futures.enumerated() { try! future.setResult(i) }
            let m = compare(
                s,
                [
                    {
                        var count = 0
                        let start = now()
                        for _ in 0..<rounds { count &+= try! wait(futures).done.count }
                        let elapsed = now() - start
                        if count == 42 { print(count) }
                        return elapsed / Double(rounds * 100) * 1e9
                    }
                ]
            )
            let peers = FuturePeers.run("wait-100", samples: s, pinned: true, java: false)
            report.add(
                Row(
                    "futures-wait-100: wait() on 100 finished futures",
                    unit: "ns/future",
                    ours: m[0],
                    peers: peers,
                    target: .atMost(20)
                )
            )
        }
        if options.wants("futures-run-async") {
            let rounds = 5_000
            let m = compare(
                s,
                [
                    {
                        let elapsed = Mutex(0.0)
                        let done = DispatchSemaphore(value: 0)
                        // Detached, at the default priority, as the blocking thread and the workers
                        // run: a `Task {}` made on this thread takes its high priority, and Dispatch
                        // runs it on a thread at nice -2, which on one CPU preempts the worker that
                        // resumes it (1.28-1.35x the blocking trip, against 1.05-1.18x).
                        Task.detached {
                            let start = now()
                            for _ in 0..<rounds { try! await pool.run {} }
                            elapsed.withLock { $0 = now() - start }
                            done.signal()
                        }
                        done.wait()
                        return elapsed.withLock { $0 } / Double(rounds) * 1e6
                    },
                    {
                        let start = now()
                        for _ in 0..<rounds { _ = try! pool.submit {}.result() }
                        return (now() - start) / Double(rounds) * 1e6
                    },
                    {
                        let elapsed = Mutex(0.0)
                        let done = DispatchSemaphore(value: 0)
                        Task.detached {
                            let start = now()
                            for _ in 0..<rounds { try! await nioPool.runIfActive {} }
                            elapsed.withLock { $0 = now() - start }
                            done.signal()
                        }
                        done.wait()
                        return elapsed.withLock { $0 } / Double(rounds) * 1e6
                    },
                ]
            )
            report.add(
                Row(
                    "futures-run-async: await pool.run {} from a detached task (worker on CPU 0)",
                    unit: "µs",
                    ours: m[0],
                    peers: [("blocking submit→result()", m[1]), ("await NIOThreadPool.runIfActive", m[2])],
                    against: "blocking submit→result()",
                    target: .ratioAtMost(1.1)
                )
            )
        }
    }
}
