// Task workloads: hand-offs between tasks, between a thread and a task, an uncontended async
// acquire, and the overshoot of an async timed wait. Run the whole process on one CPU:
//
//     taskset -c 0 swift run -c release --package-path Benchmarks threading-benchmarks --filter task
//
// The cooperative pool's width is fixed when the process starts, from its CPU affinity: pinning
// threads afterwards (as the thread rows do) leaves it as wide as the machine. The rows say which
// affinity the process started with.

import AsyncAlgorithms
import CBench
import Dispatch
import Floors
import Glibc
import Synchronization
import Threading

/// The CPUs the process started on ("0" under `taskset -c 0`), read before any workload pins a
/// thread; and how many.
let startupAffinity: (cpus: String, count: Int) = {
    var buffer = [CChar](repeating: 0, count: 256)
    let count = Int(cbench_startup_affinity(&buffer, buffer.count))
    let cpus = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    return (cpus, count)
}()

/// The tag of a task row: where the process ran.
var taskPlacement: String {
    startupAffinity.count == 1
        ? "process on CPU \(startupAffinity.cpus)"
        : "process on CPUs \(startupAffinity.cpus), NOT pinned: run under `taskset -c 0`"
}

/// A value handed from a task to the thread that waits for it.
final class ResultBox<T: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: `value` is written by the task before `done.signal()` and read by the
    // waiting thread after `done.wait()`, which orders the two.
    var value: T?
    let done = DispatchSemaphore(value: 0)
}

/// Runs `body` in a detached task and blocks the calling thread (not a pool thread) until it ends.
func runTask<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
    let box = ResultBox<T>()
    Task.detached {
        box.value = await body()
        box.done.signal()
    }
    box.done.wait()
    return box.value!
}

/// Runs `rounds` of `body(isPartner)` in two tasks; µs per round, timed in the first task.
func taskPingPong(rounds: Int, _ body: @escaping @Sendable (_ partner: Bool) async -> Void) -> Double {
    runTask {
        let partner = Task.detached { await body(true) }
        let start = now()
        await body(false)
        let elapsed = now() - start
        await partner.value
        return elapsed / Double(rounds) * 1e6
    }
}

enum TaskWorkloads {
    static func run(_ options: Options, _ report: Report) {
        let s = options.samples
        if options.wants("task-handoff") { handoff(s, report) }
        if options.wants("task-thread-roundtrip") { threadTaskThread(s, report) }
        if options.wants("task-semaphore-uncontended") { uncontended(s, report) }
        if options.wants("task-timed-wait-overshoot") { overshoot(s, report) }
    }

    /// Task↔task round trips: one task hands a turn to another and waits for it back.
    static func handoff(_ s: Int, _ report: Report) {
        let rounds = 20_000
        let m = compare(
            s,
            [
                {
                    let ping = try! Threading.Semaphore(0)
                    let pong = try! Threading.Semaphore(0)
                    return taskPingPong(rounds: rounds) { partner in
                        for _ in 0..<rounds {
                            if partner {
                                _ = try! await ping.acquire()
                                try! pong.release()
                            } else {
                                try! ping.release()
                                _ = try! await pong.acquire()
                            }
                        }
                    }
                },
                {
                    let ping = Event()
                    let pong = Event()
                    return taskPingPong(rounds: rounds) { partner in
                        for _ in 0..<rounds {
                            if partner {
                                _ = try! await ping.wait()
                                ping.clear()
                                pong.set()
                            } else {
                                ping.set()
                                _ = try! await pong.wait()
                                pong.clear()
                            }
                        }
                    }
                },
                {
                    let ping = FloorSemaphore(0)
                    let pong = FloorSemaphore(0)
                    return taskPingPong(rounds: rounds) { partner in
                        for _ in 0..<rounds {
                            if partner {
                                await ping.acquire()
                                pong.release()
                            } else {
                                ping.release()
                                await pong.acquire()
                            }
                        }
                    }
                },
                {
                    let ping = AsyncStream.makeStream(of: Int.self)
                    let pong = AsyncStream.makeStream(of: Int.self)
                    return taskPingPong(rounds: rounds) { partner in
                        if partner {
                            var received = ping.stream.makeAsyncIterator()
                            for _ in 0..<rounds {
                                _ = await received.next()
                                pong.continuation.yield(0)
                            }
                        } else {
                            var received = pong.stream.makeAsyncIterator()
                            for _ in 0..<rounds {
                                ping.continuation.yield(0)
                                _ = await received.next()
                            }
                        }
                    }
                },
                {
                    let ping = AsyncChannel<Int>()
                    let pong = AsyncChannel<Int>()
                    return taskPingPong(rounds: rounds) { partner in
                        if partner {
                            var received = ping.makeAsyncIterator()
                            for _ in 0..<rounds {
                                _ = await received.next()
                                await pong.send(0)
                            }
                        } else {
                            var received = pong.makeAsyncIterator()
                            for _ in 0..<rounds {
                                await ping.send(0)
                                _ = await received.next()
                            }
                        }
                    }
                },
                {
                    let ping = CancellableFloorSemaphore(0)
                    let pong = CancellableFloorSemaphore(0)
                    return taskPingPong(rounds: rounds) { partner in
                        for _ in 0..<rounds {
                            if partner {
                                try! await ping.acquire()
                                pong.release()
                            } else {
                                ping.release()
                                try! await pong.acquire()
                            }
                        }
                    }
                },
                {
                    let ping = Queue<Int>()
                    let pong = Queue<Int>()
                    return taskPingPong(rounds: rounds) { partner in
                        for i in 0..<rounds {
                            if partner {
                                let item = try! await ping.get()
                                try! await pong.put(item)
                            } else {
                                try! await ping.put(i)
                                _ = try! await pong.get()
                            }
                        }
                    }
                },
                {
                    let ping = SimpleQueue<Int>()
                    let pong = SimpleQueue<Int>()
                    return taskPingPong(rounds: rounds) { partner in
                        for i in 0..<rounds {
                            if partner {
                                pong.put(try! await ping.get())
                            } else {
                                ping.put(i)
                                _ = try! await pong.get()
                            }
                        }
                    }
                },
            ]
        )
        let peers = [
            ("Mutex+UnsafeContinuation floor", m[2]), ("AsyncStream pair", m[3]), ("AsyncChannel pair", m[4]),
            ("floor with cancellation", m[5]),
        ]
        report.add(
            Row(
                "task-handoff: 2 tasks, await Semaphore round trip, \(taskPlacement)",
                unit: "µs",
                ours: m[0],
                peers: peers,
                against: "Mutex+UnsafeContinuation floor",
                target: .ratioAtMost(1.2)
            )
        )
        report.add(
            Row(
                "task-handoff: 2 tasks, await Event round trip, \(taskPlacement)",
                unit: "µs",
                ours: m[1],
                peers: peers,
                against: "Mutex+UnsafeContinuation floor",
                target: .ratioAtMost(1.2)
            )
        )
        for (name, index) in [("Queue", 6), ("SimpleQueue", 7)] {
            report.add(
                Row(
                    "task-handoff: 2 tasks, await \(name) put/get round trip, \(taskPlacement)",
                    unit: "µs",
                    ours: m[index],
                    peers: peers,
                    against: "Mutex+UnsafeContinuation floor",
                    target: .ratioAtMost(1.2)
                )
            )
        }
        // The floor cannot be cancelled; every wait here can. The same target against the
        // least a cancellable wait costs (a `withTaskCancellationHandler` around the floor's).
        for (name, index) in [("Semaphore", 0), ("Queue put/get", 6)] {
            report.add(
                Row(
                    "task-handoff (extra): await \(name) round trip vs the floor with cancellation, \(taskPlacement)",
                    unit: "µs",
                    ours: m[index],
                    peers: [("floor with cancellation", m[5])],
                    against: "floor with cancellation",
                    target: .ratioAtMost(1.2)
                )
            )
        }
    }

    /// A thread hands a turn to a task, which hands it back: blocking `acquire` on the thread,
    /// `await acquire` in the task; against two threads passing a turn through `DispatchSemaphore`s.
    static func threadTaskThread(_ s: Int, _ report: Report) {
        let rounds = 4_000
        let m = compare(
            s,
            [
                {
                    let ping = try! Threading.Semaphore(0)
                    let pong = try! Threading.Semaphore(0)
                    let partner = Task.detached {
                        for _ in 0..<rounds {
                            _ = try! await ping.acquire()
                            try! pong.release()
                        }
                    }
                    let start = now()
                    for _ in 0..<rounds {
                        try! ping.release()
                        _ = try! pong.acquire()
                    }
                    let elapsed = now() - start
                    runTask { await partner.value }
                    return elapsed / Double(rounds) * 1e6
                },
                {
                    let ping = DispatchSemaphore(value: 0)
                    let pong = DispatchSemaphore(value: 0)
                    return pingPong(rounds: rounds, pinned: false) { partner in
                        for _ in 0..<rounds {
                            if partner {
                                ping.wait()
                                pong.signal()
                            } else {
                                ping.signal()
                                pong.wait()
                            }
                        }
                    }
                },
                {
                    let ping = try! Threading.Semaphore(0)
                    let pong = try! Threading.Semaphore(0)
                    return pingPong(rounds: rounds, pinned: false) { partner in
                        for _ in 0..<rounds {
                            if partner {
                                _ = try! ping.acquire()
                                try! pong.release()
                            } else {
                                try! ping.release()
                                _ = try! pong.acquire()
                            }
                        }
                    }
                },
                {
                    // The same trip at the floor: the task waits on the floor semaphore, the
                    // thread on a DispatchSemaphore.
                    let ping = FloorSemaphore(0)
                    let pong = DispatchSemaphore(value: 0)
                    let partner = Task.detached {
                        for _ in 0..<rounds {
                            await ping.acquire()
                            pong.signal()
                        }
                    }
                    let start = now()
                    for _ in 0..<rounds {
                        ping.release()
                        pong.wait()
                    }
                    let elapsed = now() - start
                    runTask { await partner.value }
                    return elapsed / Double(rounds) * 1e6
                },
            ]
        )
        let peers = [
            ("DispatchSemaphore pair thread↔thread", m[1]), ("Semaphore pair thread↔thread", m[2]),
            ("floor thread→task→thread", m[3]),
        ]
        report.add(
            Row(
                "task-thread-roundtrip: thread→task→thread through 2 Semaphores, \(taskPlacement)",
                unit: "µs",
                ours: m[0],
                peers: peers,
                against: "DispatchSemaphore pair thread↔thread",
                target: .ratioAtMost(1.1)
            )
        )
    }

    /// `await acquire()` + `release()` on a semaphore that always has a unit, in one task.
    static func uncontended(_ s: Int, _ report: Report) {
        let n = 2_000_000
        let ours = try! Threading.Semaphore(1)
        let floor = FloorSemaphore(1)
        let m = compare(
            s,
            [
                {
                    runTask {
                        let start = now()
                        for _ in 0..<n {
                            _ = try! await ours.acquire()
                            try! ours.release()
                        }
                        return (now() - start) / Double(n) * 1e9
                    }
                },
                {
                    runTask {
                        let start = now()
                        for _ in 0..<n {
                            await floor.acquire()
                            floor.release()
                        }
                        return (now() - start) / Double(n) * 1e9
                    }
                },
            ]
        )
        report.add(
            Row(
                "task-semaphore-uncontended: await acquire() + release(), 1 task, \(taskPlacement)",
                unit: "ns",
                ours: m[0],
                peers: [("Mutex+UnsafeContinuation floor", m[1])],
                target: .ratioAtMost(1.3)
            )
        )
    }

    /// How far past 2 ms an async timed wait of 2 ms that expires returns, measured in the task;
    /// against `nanosleep` on a thread and `Task.sleep` in a task.
    static func overshoot(_ s: Int, _ report: Report) {
        let semaphore = try! Threading.Semaphore(0)
        let event = Event()
        let m = compare(
            max(s * 4, 41),
            [
                {
                    runTask {
                        let start = now()
                        _ = try! await semaphore.acquire(timeout: .milliseconds(2))
                        return (now() - start - 0.002) * 1e6
                    }
                },
                {
                    runTask {
                        let start = now()
                        _ = try! await event.wait(timeout: 0.002)
                        return (now() - start - 0.002) * 1e6
                    }
                },
                {
                    overshootSample {
                        var request = timespec(tv_sec: 0, tv_nsec: 2_000_000)
                        nanosleep(&request, nil)
                    }
                },
                {
                    runTask {
                        let start = now()
                        try! await Task.sleep(for: .milliseconds(2))
                        return (now() - start - 0.002) * 1e6
                    }
                },
            ]
        )
        let peers = [("nanosleep", m[2]), ("Task.sleep", m[3])]
        report.add(
            Row(
                "task-timed-wait-overshoot: await Semaphore.acquire(timeout: .milliseconds(2)), actual − 2 ms, \(taskPlacement)",
                unit: "µs",
                ours: m[0],
                peers: peers,
                against: "nanosleep",
                target: .ratioAtMost(1.1)
            )
        )
        report.add(
            Row(
                "task-timed-wait-overshoot: await Event.wait(timeout: 0.002), actual − 2 ms, \(taskPlacement)",
                unit: "µs",
                ours: m[1],
                peers: peers,
                against: "nanosleep",
                target: .ratioAtMost(1.1)
            )
        )
    }
}
