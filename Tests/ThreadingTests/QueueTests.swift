// CPython's BaseQueueTestMixin (Lib/test/test_queue.py), ported and run for each of Queue,
// LifoQueue and PriorityQueue, plus every error path, CPython's timeout asymmetries, the
// first-come-first-served service of blocked putters and getters, the release of items outside the
// lock, and a many-thread run with exact counts.

import Synchronization
import Testing

@testable import Threading

/// The three queue classes CPython's mixin runs over.
enum QueueKind: String, CaseIterable, Sendable {
    case fifo = "Queue"
    case lifo = "LifoQueue"
    case priority = "PriorityQueue"

    func make<E: Sendable & Comparable>(_ maxsize: Int = 0, of type: E.Type = E.self) -> Threading.Queue<E> {
        switch self {
        case .fifo: return Threading.Queue<E>(maxsize: maxsize)
        case .lifo: return LifoQueue<E>(maxsize: maxsize)
        case .priority: return PriorityQueue<E>(maxsize: maxsize)
        }
    }
}

private let queueSize = 5

/// CPython's `do_blocking_test`: `trigger` runs on another thread after 0.1 s; `block` must not
/// return before that.
private func doBlockingTest<R>(
    _ block: () throws -> R,
    trigger: @escaping @Sendable () throws -> Void,
    sourceLocation: SourceLocation = #_sourceLocation
) rethrows -> R {
    let started = Event()
    let thread = RawThread {
        sleep(seconds: 0.1)
        started.set()
        try! trigger()
    }
    defer { thread.join() }
    let result = try block()
    #expect(started.isSet, "blocking function appeared not to block", sourceLocation: sourceLocation)
    return result
}

/// Whether `body` throws `ThreadingError` of `kind` (and records an issue if it does not).
private func expectKind<R>(
    _ kind: ThreadingError.Kind,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> R
) {
    expectThreadingError(kind, "", sourceLocation: sourceLocation, body)
}

/// Runs `body` on a new raw thread and collects whether it returned `true`.
private func start(_ threads: inout [RawThread], _ body: @escaping @Sendable () -> Void) {
    threads.append(RawThread(body))
}

/// An item that runs `onDeinit` when released.
private final class Tracked: Sendable, Comparable {
    let value: Int
    let onDeinit: @Sendable () -> Void
    init(_ value: Int = 0, _ onDeinit: @escaping @Sendable () -> Void = {}) {
        self.value = value
        self.onDeinit = onDeinit
    }
    deinit { onDeinit() }
    static func == (a: Tracked, b: Tracked) -> Bool { a.value == b.value }
    static func < (a: Tracked, b: Tracked) -> Bool { a.value < b.value }
}

@Suite struct QueueTests {
    // MARK: - CPython's BaseQueueTestMixin

    private func basicQueueTest(_ q: Threading.Queue<Int>, _ kind: QueueKind) throws {
        #expect(q.qsize() == 0)
        #expect(q.isEmpty)
        #expect(!q.isFull)
        try q.put(111)
        try q.put(333)
        try q.put(222)
        let target: [QueueKind: [Int]] = [
            .fifo: [111, 333, 222], .lifo: [222, 333, 111], .priority: [111, 222, 333],
        ]
        let actual = [try q.get(), try q.get(), try q.get()]
        #expect(actual == target[kind], "Didn't seem to queue the correct data!")
        for i in 0..<(queueSize - 1) {
            try q.put(i)
            #expect(q.qsize() > 0, "Queue should not be empty")
        }
        #expect(!q.isFull, "Queue should not be full")
        let last = 2 * queueSize
        let full = 3 * 2 * queueSize
        try q.put(last)
        #expect(q.qsize() == q.maxsize, "Queue should be full")
        #expect(!q.isEmpty)
        #expect(q.isFull)
        expectKind(.full) { try q.put(full, block: false) }
        expectKind(.full) { try q.put(full, timeout: 0.01) }
        // Blocking puts, released by a get.
        try doBlockingTest({ try q.put(full) }, trigger: { _ = try q.get() })
        try doBlockingTest({ try q.put(full, block: true, timeout: 10) }, trigger: { _ = try q.get() })
        for _ in 0..<queueSize { _ = try q.get() }
        #expect(q.qsize() == 0, "Queue should be empty")
        expectKind(.empty) { try q.get(block: false) }
        expectKind(.empty) { try q.get(timeout: 0.01) }
        // Blocking gets, released by a put.
        _ = try doBlockingTest({ try q.get() }, trigger: { try q.put(-1) })
        _ = try doBlockingTest({ try q.get(block: true, timeout: 10) }, trigger: { try q.put(-1) })
    }

    @Test(arguments: QueueKind.allCases)
    func test_basic(_ kind: QueueKind) throws {
        let q = kind.make(queueSize, of: Int.self)
        try basicQueueTest(q, kind)
        try basicQueueTest(q, kind)
    }

    private func queueJoinTest(_ q: Threading.Queue<Int>) throws {
        let cum = Counter()
        let workers = spawn(2) { _ in
            while true {
                let x = try! q.get()
                if x < 0 {
                    try! q.taskDone()
                    return
                }
                cum.increment(by: x)
                try! q.taskDone()
            }
        }
        for i in 0..<100 { try q.put(i) }
        q.join()
        #expect(cum.current == (0..<100).reduce(0, +), "q.join() did not block until all tasks were done")
        for _ in 0..<2 { try q.put(-1) }
        q.join()  // verify that you can join twice
        for worker in workers { worker.join() }
    }

    @Test(arguments: QueueKind.allCases)
    func test_queue_task_done(_ kind: QueueKind) {
        let q = kind.make(of: Int.self)
        expectThreadingError(.valueError, "task_done() called too many times") { try q.taskDone() }
    }

    @Test(arguments: QueueKind.allCases)
    func test_queue_join(_ kind: QueueKind) throws {
        let q = kind.make(of: Int.self)
        try queueJoinTest(q)
        try queueJoinTest(q)
        expectThreadingError(.valueError, "task_done() called too many times") { try q.taskDone() }
    }

    @Test(arguments: QueueKind.allCases)
    func test_negative_timeout_raises_exception(_ kind: QueueKind) {
        let q = kind.make(queueSize, of: Int.self)
        expectThreadingError(.valueError, "'timeout' must be a non-negative number") { try q.put(1, timeout: -1) }
        expectThreadingError(.valueError, "'timeout' must be a non-negative number") { try q.get(timeout: -1) }
    }

    @Test(arguments: QueueKind.allCases)
    func test_nowait(_ kind: QueueKind) throws {
        let q = kind.make(queueSize, of: Int.self)
        for _ in 0..<queueSize { try q.putNowait(1) }
        expectKind(.full) { try q.putNowait(1) }
        for _ in 0..<queueSize { _ = try q.getNowait() }
        expectKind(.empty) { try q.getNowait() }
    }

    @Test(arguments: QueueKind.allCases)
    func test_shrinking_queue(_ kind: QueueKind) throws {
        // issue 10110
        let q = kind.make(3, of: Int.self)
        try q.put(1)
        try q.put(2)
        try q.put(3)
        expectKind(.full) { try q.putNowait(4) }
        #expect(q.qsize() == 3)
        q.maxsize = 2  // shrink the queue
        expectKind(.full) { try q.putNowait(4) }
    }

    @Test(arguments: QueueKind.allCases)
    func test_shutdown_empty(_ kind: QueueKind) {
        let q = kind.make(of: String.self)
        q.shutdown()
        expectKind(.shutDown) { try q.put("data") }
        expectKind(.shutDown) { try q.get() }
    }

    @Test(arguments: QueueKind.allCases)
    func test_shutdown_nonempty(_ kind: QueueKind) throws {
        let q = kind.make(of: String.self)
        try q.put("data")
        q.shutdown()
        _ = try q.get()
        expectKind(.shutDown) { try q.get() }
    }

    @Test(arguments: QueueKind.allCases)
    func test_shutdown_immediate(_ kind: QueueKind) throws {
        let q = kind.make(of: String.self)
        try q.put("data")
        q.shutdown(immediate: true)
        expectKind(.shutDown) { try q.get() }
    }

    @Test(arguments: QueueKind.allCases)
    func test_shutdown_allowed_transitions(_ kind: QueueKind) {
        let q = kind.make(of: String.self)
        #expect(!q.isShutdown)
        q.shutdown()
        #expect(q.isShutdown)
        q.shutdown(immediate: true)
        #expect(q.isShutdown)
        q.shutdown(immediate: false)
        #expect(q.isShutdown)
    }

    private func shutdownAllMethodsInOneThread(_ kind: QueueKind, immediate: Bool) throws {
        let q = kind.make(2, of: String.self)
        try q.put("L")
        try q.putNowait("O")
        q.shutdown(immediate: immediate)
        expectKind(.shutDown) { try q.put("E") }
        expectKind(.shutDown) { try q.putNowait("W") }
        if immediate {
            expectKind(.shutDown) { try q.get() }
            expectKind(.shutDown) { try q.getNowait() }
            expectThreadingError(.valueError, "task_done() called too many times") { try q.taskDone() }
            q.join()
        } else {
            #expect(["L", "O"].contains(try q.get()))
            try q.taskDone()
            #expect(["L", "O"].contains(try q.get()))
            try q.taskDone()
            q.join()
            // After shutdown(immediate: false), an empty queue throws ShutDown.
            expectKind(.shutDown) { try q.get() }
            expectKind(.shutDown) { try q.getNowait() }
            expectKind(.shutDown) { try q.get(block: true, timeout: 1.0) }
        }
    }

    @Test(arguments: QueueKind.allCases)
    func test_shutdown_all_methods_in_one_thread(_ kind: QueueKind) throws {
        try shutdownAllMethodsInOneThread(kind, immediate: false)
    }

    @Test(arguments: QueueKind.allCases)
    func test_shutdown_immediate_all_methods_in_one_thread(_ kind: QueueKind) throws {
        try shutdownAllMethodsInOneThread(kind, immediate: true)
    }

    private func shutdownAllMethodsInManyThreads(_ kind: QueueKind, immediate: Bool) throws {
        let q = kind.make(of: Int.self)
        let resPuts = SharedList<Bool>()
        let resGets = SharedList<Bool>()
        let resShutdown = SharedList<Bool>()
        let writeThreads = 4
        let readThreads = 6
        let joinThreads = 2
        let nbMsgs = 1024 * 64
        let nbMsgsW = nbMsgs / writeThreads
        let whenExecShutdown = nbMsgsW / 2
        let barrierStart = try Barrier(writeThreads + readThreads + (immediate ? joinThreads : 0))
        let evExecShutdown = Event()
        var threads: [RawThread] = []
        for _ in 0..<writeThreads {
            start(&threads) {
                for i in 0..<(whenExecShutdown / 2) { try! q.put(i) }
                _ = try! barrierStart.wait()
                for i in (whenExecShutdown / 2)..<nbMsgsW {
                    do { try q.put(i) } catch {
                        resPuts.append(false)
                        break
                    }
                    if i == whenExecShutdown && !evExecShutdown.isSet {
                        evExecShutdown.set()
                        resPuts.append(true)
                    }
                }
            }
        }
        for _ in 0..<readThreads {
            start(&threads) {
                _ = try! q.get(block: true)
                try! q.taskDone()
                _ = try! barrierStart.wait()
                while true {
                    do {
                        _ = try q.get(block: false)
                        try q.taskDone()
                    } catch let error as ThreadingError where error.kind == .shutDown {
                        resGets.append(true)
                        break
                    } catch {}
                }
            }
        }
        start(&threads) {
            try! evExecShutdown.wait()
            q.shutdown(immediate: immediate)
            resShutdown.append(q.qsize() == 0)
        }
        if immediate {
            for _ in 0..<joinThreads {
                start(&threads) {
                    _ = try! barrierStart.wait()
                    q.join()
                }
            }
        }
        for thread in threads { thread.join() }
        #expect(resPuts.values.contains(true))
        #expect(resGets.values.filter { $0 }.count == readThreads)
        if immediate {
            #expect(resShutdown.values == [true])
            #expect(q.isEmpty)
        }
    }

    @Test(arguments: QueueKind.allCases)
    func test_shutdown_all_methods_in_many_threads(_ kind: QueueKind) throws {
        try shutdownAllMethodsInManyThreads(kind, immediate: false)
    }

    @Test(arguments: QueueKind.allCases)
    func test_shutdown_immediate_all_methods_in_many_threads(_ kind: QueueKind) throws {
        try shutdownAllMethodsInManyThreads(kind, immediate: true)
    }

    /// CPython's `_get`: after `go`, a get; records whether it ended as `shutdown` says it should.
    private static func getter(
        _ q: Threading.Queue<String>,
        _ go: Event,
        _ results: SharedList<Bool>,
        shutdown: Bool
    )
        -> @Sendable () -> Void
    {
        {
            try! go.wait()
            do {
                _ = try q.get()
                results.append(!shutdown)
            } catch {
                results.append(shutdown && (error as? ThreadingError)?.kind == .shutDown)
            }
        }
    }

    /// CPython's `_get_task_done`.
    private static func getTaskDone(
        _ q: Threading.Queue<String>,
        _ go: Event,
        _ results: SharedList<Bool>
    )
        -> @Sendable () -> Void
    {
        {
            try! go.wait()
            do {
                _ = try q.get()
                try q.taskDone()
                results.append(true)
            } catch {
                results.append(false)
            }
        }
    }

    /// CPython's `_put`.
    private static func putter(
        _ q: Threading.Queue<String>,
        _ msg: String,
        _ go: Event,
        _ results: SharedList<Bool>,
        shutdown: Bool
    ) -> @Sendable () -> Void {
        {
            try! go.wait()
            do {
                try q.put(msg)
                results.append(!shutdown)
            } catch {
                results.append(shutdown && (error as? ThreadingError)?.kind == .shutDown)
            }
        }
    }

    /// CPython's `_join`.
    private static func joiner(_ q: Threading.Queue<String>, _ results: SharedList<Bool>) -> @Sendable () -> Void {
        {
            q.join()
            results.append(true)
        }
    }

    private func shutdownGet(_ kind: QueueKind, immediate: Bool) throws {
        let q = kind.make(2, of: String.self)
        let results = SharedList<Bool>()
        let go = Event()
        try q.put("Y")
        try q.put("D")
        // queue full
        let count = immediate ? 2 : 3
        let threads = (0..<count).map { _ in RawThread(QueueTests.getter(q, go, results, shutdown: immediate)) }
        q.shutdown(immediate: immediate)
        go.set()
        for thread in threads { thread.join() }
        if immediate {
            #expect(results.values == [true, true])
        } else {
            // One of the three getters finds the queue shut down and empty.
            #expect(results.values.sorted { !$0 && $1 } == [false, true, true])
        }
    }

    @Test(arguments: QueueKind.allCases)
    func test_shutdown_get(_ kind: QueueKind) throws {
        try shutdownGet(kind, immediate: false)
    }

    @Test(arguments: QueueKind.allCases)
    func test_shutdown_immediate_get(_ kind: QueueKind) throws {
        try shutdownGet(kind, immediate: true)
    }

    private func shutdownPut(_ kind: QueueKind, immediate: Bool) throws {
        let q = kind.make(2, of: String.self)
        let results = SharedList<Bool>()
        let go = Event()
        try q.put("Y")
        try q.put("D")
        // queue full
        let threads = ["E", "W"].map { RawThread(QueueTests.putter(q, $0, go, results, shutdown: true)) }
        // CPython's helper shuts down without `immediate` in both variants; this port does what the
        // name says.
        q.shutdown(immediate: immediate)
        go.set()
        for thread in threads { thread.join() }
        #expect(results.values == [true, true])
    }

    @Test(arguments: QueueKind.allCases)
    func test_shutdown_put(_ kind: QueueKind) throws {
        try shutdownPut(kind, immediate: false)
    }

    @Test(arguments: QueueKind.allCases)
    func test_shutdown_immediate_put(_ kind: QueueKind) throws {
        try shutdownPut(kind, immediate: true)
    }

    private func shutdownJoin(_ kind: QueueKind, immediate: Bool) throws {
        let q = kind.make(of: String.self)
        let results = SharedList<Bool>()
        try q.put("Y")
        let go = Event()
        let nb = q.qsize()
        var threads = (0..<2).map { _ in RawThread(QueueTests.joiner(q, results)) }
        if !immediate {
            let res = SharedList<Bool>()
            for _ in 0..<nb { threads.append(RawThread(QueueTests.getTaskDone(q, go, res))) }
        }
        q.shutdown(immediate: immediate)
        go.set()
        for thread in threads { thread.join() }
        #expect(results.values == [true, true])
    }

    @Test(arguments: QueueKind.allCases)
    func test_shutdown_immediate_join(_ kind: QueueKind) throws {
        try shutdownJoin(kind, immediate: true)
    }

    @Test(arguments: QueueKind.allCases)
    func test_shutdown_join(_ kind: QueueKind) throws {
        try shutdownJoin(kind, immediate: false)
    }

    private func shutdownPutJoin(_ kind: QueueKind, immediate: Bool) throws {
        let q = kind.make(2, of: String.self)
        let results = SharedList<Bool>()
        let go = Event()
        try q.put("Y")
        // queue not full
        let threads = [
            RawThread(QueueTests.putter(q, "E", go, results, shutdown: true)),
            RawThread(QueueTests.joiner(q, results)),
        ]
        #expect(q.unfinishedTasks == 1)
        q.shutdown(immediate: immediate)
        go.set()
        if immediate {
            expectKind(.shutDown) { try q.getNowait() }
        } else {
            #expect(try q.get() == "Y")
            try q.taskDone()
        }
        for thread in threads { thread.join() }
        #expect(results.values == [true, true])
    }

    @Test(arguments: QueueKind.allCases)
    func test_shutdown_immediate_put_join(_ kind: QueueKind) throws {
        try shutdownPutJoin(kind, immediate: true)
    }

    @Test(arguments: QueueKind.allCases)
    func test_shutdown_put_join(_ kind: QueueKind) throws {
        try shutdownPutJoin(kind, immediate: false)
    }

    @Test(arguments: QueueKind.allCases)
    func test_shutdown_get_task_done_join(_ kind: QueueKind) throws {
        let q = kind.make(2, of: String.self)
        let results = SharedList<Bool>()
        let go = Event()
        try q.put("Y")
        try q.put("D")
        #expect(q.unfinishedTasks == q.qsize())
        let threads = [
            RawThread(QueueTests.getTaskDone(q, go, results)),
            RawThread(QueueTests.getTaskDone(q, go, results)),
            RawThread(QueueTests.joiner(q, results)),
            RawThread(QueueTests.joiner(q, results)),
        ]
        go.set()
        q.shutdown(immediate: false)
        for thread in threads { thread.join() }
        #expect(results.values == [true, true, true, true])
    }

    @Test(arguments: QueueKind.allCases)
    func test_shutdown_pending_get(_ kind: QueueKind) {
        let q = kind.make(of: String.self)
        let results = SharedList<String>()
        let thread = RawThread {
            do { results.append(try q.get()) } catch { results.append("\(error)") }
        }
        q.shutdown(immediate: false)
        thread.join()
        #expect(results.values == ["ShutDown"])
    }

    // MARK: - CPython 3.13's exact rules, probed

    /// The negative-timeout asymmetry: a blocking `get` checks it even with an item ready, an
    /// unbounded `put` never does, a non-blocking call ignores it, and a shut-down empty queue
    /// answers ShutDown first.
    @Test(arguments: QueueKind.allCases)
    func negativeTimeoutRules(_ kind: QueueKind) throws {
        let unbounded = kind.make(of: Int.self)
        try unbounded.put(1, timeout: -1)
        try unbounded.put(2, block: false, timeout: -1)
        expectThreadingError(.valueError, "'timeout' must be a non-negative number") {
            try unbounded.get(timeout: -1)
        }
        #expect(unbounded.qsize() == 2)
        _ = try unbounded.get(block: false, timeout: -1)
        let bounded = kind.make(2, of: Int.self)
        expectThreadingError(.valueError, "'timeout' must be a non-negative number") {
            try bounded.put(1, timeout: -1)
        }
        #expect(bounded.qsize() == 0)
        #expect(bounded.unfinishedTasks == 0)
        try bounded.put(1)
        try bounded.put(2)
        expectKind(.full) { try bounded.put(3, block: false, timeout: -1) }
        bounded.shutdown()
        expectKind(.shutDown) { try bounded.put(3, timeout: -1) }
        expectThreadingError(.valueError, "'timeout' must be a non-negative number") {
            try bounded.get(timeout: -1)
        }
        _ = try bounded.get()
        _ = try bounded.get()
        expectKind(.shutDown) { try bounded.get(timeout: -1) }
    }

    /// NaN and too-large timeouts throw when the call would wait (CPython's `Queue` spins on NaN);
    /// with an item or room ready they are not looked at, as in CPython.
    @Test(arguments: QueueKind.allCases)
    func nanAndTooLargeTimeouts(_ kind: QueueKind) throws {
        let q = kind.make(1, of: Int.self)
        expectThreadingError(.valueError, "Invalid value NaN (not a number)") { try q.get(timeout: .nan) }
        expectThreadingError(.overflowError, "timeout value is too large") { try q.get(timeout: .infinity) }
        expectThreadingError(.overflowError, "timeout value is too large") { try q.get(timeout: 1e300) }
        try q.put(1, timeout: .nan)
        expectThreadingError(.valueError, "Invalid value NaN (not a number)") { try q.put(2, timeout: .nan) }
        expectThreadingError(.overflowError, "timeout value is too large") { try q.put(2, timeout: .infinity) }
        #expect(q.qsize() == 1)
        #expect(q.unfinishedTasks == 1)
        #expect(try q.get(timeout: .nan) == 1)
        try q.put(3, timeout: timeoutMax)
        #expect(try q.get(timeout: .infinity) == 3)
        expectKind(.empty) { try q.get(timeout: 0) }
        try q.put(4, timeout: 0)
        expectKind(.full) { try q.put(5, timeout: 0) }
    }

    /// Timed waits last their timeout, and leave the queue usable.
    @Test(arguments: QueueKind.allCases)
    func timedWaits(_ kind: QueueKind) throws {
        let q = kind.make(1, of: Int.self)
        expectTimeout(measure { expectKind(.empty) { try q.get(timeout: 0.1) } }, 0.1)
        try q.put(1)
        expectTimeout(measure { expectKind(.full) { try q.put(2, timeout: 0.1) } }, 0.1)
        #expect(try q.get() == 1)
        try q.put(2, timeout: 0.1)
        #expect(try q.get(timeout: 0.1) == 2)
    }

    /// An immediate shutdown drops the items without `taskDone()`: one item got and not done
    /// keeps `unfinishedTasks` at 1 and `join()` waiting; its `taskDone()` releases it; one more
    /// throws.
    @Test(arguments: QueueKind.allCases)
    func immediateShutdownBookkeeping(_ kind: QueueKind) throws {
        let q = kind.make(of: Int.self)
        for i in 0..<3 { try q.put(i) }
        _ = try q.get()
        q.shutdown(immediate: true)
        #expect(q.unfinishedTasks == 1)
        #expect(q.qsize() == 0)
        #expect(q.isEmpty)
        #expect(!q.isFull)
        let joined = Event()
        let joiner = RawThread {
            q.join()
            joined.set()
        }
        waitThreadsBlocked(1)
        #expect(!joined.isSet, "join() returned with a task unfinished")
        try q.taskDone()
        joiner.join()
        #expect(joined.isSet)
        expectThreadingError(.valueError, "task_done() called too many times") { try q.taskDone() }
        #expect(q.unfinishedTasks == 0)
    }

    /// `join()` after a plain shutdown still waits for the outstanding `taskDone()`s.
    @Test(arguments: QueueKind.allCases)
    func joinAfterShutdownWaits(_ kind: QueueKind) throws {
        let q = kind.make(of: Int.self)
        try q.put(1)
        q.shutdown()
        let joined = Event()
        let joiner = RawThread {
            q.join()
            joined.set()
        }
        waitThreadsBlocked(1)
        #expect(!joined.isSet)
        #expect(try q.get() == 1)
        try q.taskDone()
        joiner.join()
        #expect(joined.isSet)
    }

    @Test(arguments: QueueKind.allCases)
    func maxsizeRules(_ kind: QueueKind) throws {
        let q = kind.make(-5, of: Int.self)
        #expect(q.maxsize == -5)
        #expect(!q.isFull)
        for i in 0..<100 { try q.putNowait(i) }
        #expect(!q.isFull)
        #expect(q.qsize() == 100)
        // A smaller bound holds from the next put; the items stay.
        q.maxsize = 10
        #expect(q.isFull)
        expectKind(.full) { try q.putNowait(0) }
        #expect(q.qsize() == 100)
        q.maxsize = 0
        try q.putNowait(100)
        #expect(!q.isFull)
    }

    /// A larger bound lets blocked putters in at once.
    @Test(arguments: QueueKind.allCases)
    func growingMaxsizeReleasesPutters(_ kind: QueueKind) throws {
        let q = kind.make(1, of: Int.self)
        try q.put(0)
        let putters = spawn(2) { i in try! q.put(i + 1) }
        waitThreadsBlocked(2)
        #expect(q.qsize() == 1)
        q.maxsize = 3
        for thread in putters { thread.join() }
        #expect(q.qsize() == 3)
        #expect(q.isFull)
    }

    /// Blocked getters are served in the order they blocked.
    @Test(arguments: QueueKind.allCases)
    func blockedGettersAreServedInOrder(_ kind: QueueKind) throws {
        let q = kind.make(of: Int.self)
        let order = SharedList<Int>()
        var threads: [RawThread] = []
        for getter in 0..<5 {
            threads.append(
                RawThread {
                    _ = try! q.get()
                    order.append(getter)
                }
            )
            // In line before the next one starts (a fixed sleep was not enough on a loaded machine).
            #expect(pollUntil(seconds: 30) { ParkingLot.waiterCount(on: q.getterKey) == getter + 1 })
        }
        for item in 0..<5 {
            try q.put(item)
            while order.count <= item { sleep(seconds: 0.001) }
        }
        for thread in threads { thread.join() }
        #expect(order.values == Array(0..<5))
    }

    /// Blocked putters are served in the order they blocked, and their items go in in that order.
    @Test func blockedPuttersAreServedInOrder() throws {
        let q = Threading.Queue<Int>(maxsize: 1)
        try q.put(-1)
        var threads: [RawThread] = []
        for putter in 0..<5 {
            threads.append(RawThread { try! q.put(putter) })
            #expect(pollUntil(seconds: 30) { ParkingLot.waiterCount(on: q.putterKey) == putter + 1 })
        }
        var got: [Int] = []
        for _ in 0..<6 { got.append(try q.get()) }
        for thread in threads { thread.join() }
        #expect(got == [-1, 0, 1, 2, 3, 4])
    }

    /// Items go out of the lock before they are released: an item's `deinit` may use the queue,
    /// when it is got and when an immediate shutdown drops it.
    @Test(arguments: QueueKind.allCases)
    func itemsAreReleasedOutsideTheLock(_ kind: QueueKind) throws {
        let q = kind.make(of: Tracked.self)
        let sizes = SharedList<Int>()
        for i in 0..<10 {
            try q.put(Tracked(i) { sizes.append(q.qsize()) })
        }
        do {
            weak let first = try q.get()
            #expect(first == nil)  // released on the spot, and its deinit could read qsize()
        }
        #expect(sizes.values == [9])
        q.shutdown(immediate: true)
        #expect(sizes.count == 10)
        #expect(q.unfinishedTasks == 1)
    }

    /// Each kind orders many items as it should.
    @Test(arguments: QueueKind.allCases)
    func orderOfManyItems(_ kind: QueueKind) throws {
        let q = kind.make(of: Int.self)
        var generator = SystemRandomNumberGenerator()
        let values = (0..<1000).map { _ in Int.random(in: 0..<200, using: &generator) }
        for v in values { try q.put(v) }
        var got: [Int] = []
        while let v = try? q.getNowait() { got.append(v) }
        switch kind {
        case .fifo: #expect(got == values)
        case .lifo: #expect(got == values.reversed())
        case .priority: #expect(got == values.sorted())
        }
        #expect(q.unfinishedTasks == 1000)
    }

    /// Many producers and consumers over a bounded queue, with timeouts: every item is got exactly
    /// once and every task done.
    @Test(arguments: QueueKind.allCases)
    func manyThreadsExactCounts(_ kind: QueueKind) throws {
        let q = kind.make(8, of: Int.self)
        let producers = 4
        let perProducer = 5_000
        let got = SharedList<Int>()
        let timeouts = Counter()
        let producerThreads = spawn(producers) { p in
            for i in 0..<perProducer {
                let item = p * perProducer + i
                while true {
                    do {
                        try q.put(item, timeout: 0.001)
                        break
                    } catch {
                        timeouts.increment()
                    }
                }
            }
        }
        let consumerThreads = spawn(4) { _ in
            while true {
                do {
                    got.append(try q.get(timeout: 0.001))
                    try! q.taskDone()
                } catch let error as ThreadingError where error.kind == .shutDown {
                    return
                } catch {
                    timeouts.increment()
                }
            }
        }
        for thread in producerThreads { thread.join() }
        q.join()
        q.shutdown()
        for thread in consumerThreads { thread.join() }
        #expect(got.values.sorted() == Array(0..<(producers * perProducer)))
        #expect(q.unfinishedTasks == 0)
        #expect(q.qsize() == 0)
    }

    /// Objects put by some threads and got and dropped by others: each is released exactly once.
    /// A queue whose release let an item's retain run after it (the ARC optimizer sinks a retain
    /// below an atomic store unless it is kept above) crashed here on a freed object.
    @Test(arguments: QueueKind.allCases)
    func objectsCrossingThreadsAreReleasedExactlyOnce(_ kind: QueueKind) {
        let q = kind.make(0, of: TrackedItem.self)
        passObjectsBetweenThreads(put: { try! q.put($0) }, get: { _ = try! q.get() })
        #expect(q.qsize() == 0)
    }
}

/// Two producers put 50 000 fresh objects each and two consumers get and drop as many; expects
/// each object released exactly once.
func passObjectsBetweenThreads(
    put: @escaping @Sendable (TrackedItem) -> Void,
    get: @escaping @Sendable () -> Void
) {
    let released = Counter()
    let perProducer = 50_000
    let producers = spawn(2) { p in
        for i in 0..<perProducer { put(TrackedItem(id: p * perProducer + i, released: released)) }
    }
    let consumers = spawn(2) { _ in
        for _ in 0..<perProducer { get() }
    }
    producers.joinAll()
    consumers.joinAll()
    #expect(released.current == 2 * perProducer)
}

/// An item that counts its release.
final class TrackedItem: Sendable, Comparable {
    let id: Int
    let released: Counter

    init(id: Int, released: Counter) {
        self.id = id
        self.released = released
    }

    deinit {
        released.increment()
    }

    static func == (a: TrackedItem, b: TrackedItem) -> Bool { a.id == b.id }
    static func < (a: TrackedItem, b: TrackedItem) -> Bool { a.id < b.id }
}
