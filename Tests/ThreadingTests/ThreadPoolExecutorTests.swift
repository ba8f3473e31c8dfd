// ThreadPoolExecutor: CPython 3.13's Lib/test/test_concurrent_futures/ ExecutorTest and
// ThreadPoolExecutorTest (test_thread_pool.py, executor.py), ThreadPoolShutdownTest
// (test_shutdown.py) and the thread-pool initializer tests (test_init.py), ported; the
// exit-time ones run in a child process (ThreadPoolExecutorExitTests). Plus the error paths,
// the exact idle count, OS thread names, `map(buffersize:)` and nested use.
//
// Not ported: test_submit_keyword (keyword arguments), test_hang_global_shutdown_lock (fork and
// a process pool), ProcessPool* (no processes here).

import CThreading
import Synchronization
import Testing

@testable import Threading

/// CPython's `MyObject`.
final class MyObject: Sendable {
    func myMethod() {}
}

/// Polls `condition` every millisecond for up to `timeout` seconds.
func eventually(timeout: Double = 10, _ condition: () -> Bool) -> Bool {
    let end = monotonicSeconds() + timeout
    while !condition() {
        if monotonicSeconds() > end { return false }
        sleep(seconds: 0.001)
    }
    return true
}

/// Every result of `results`, or the error that ended them.
func collect<T>(_ results: inout FutureResults<T>) -> (values: [T], error: (any Error)?) {
    var values: [T] = []
    do {
        while let value = try results.next() { values.append(value) }
        return (values, nil)
    } catch {
        return (values, error)
    }
}

@Suite struct ThreadPoolExecutorTests {
    // MARK: ExecutorTest

    @Test func test_submit() throws {
        try withPool { executor in
            let future = try executor.submit { 1 << 8 }
            #expect(try future.result() == 256)
        }
    }

    @Test func test_map() throws {
        try withPool { executor in
            var results = try executor.map(0..<10) { i in (0..<i).reduce(1) { acc, _ in acc * i } }
            let (values, error) = collect(&results)
            #expect(error == nil)
            #expect(values == (0..<10).map { i in (0..<i).reduce(1) { acc, _ in acc * i } })
        }
    }

    @Test func test_map_exception() throws {
        try withPool { executor in
            var results = try executor.map(zip([1, 1, 1, 1], [2, 3, 0, 5])) { (x, y) throws -> Int in
                guard y != 0 else { throw TestException(args: "integer division or modulo by zero") }
                return x / y
            }
            #expect(try results.next() == 0)
            #expect(try results.next() == 0)
            #expect(throws: TestException(args: "integer division or modulo by zero")) { try results.next() }
            #expect(try results.next() == nil)  // the iteration ended with the error
        }
    }

    @Test func test_map_timeout() throws {
        try withPool { executor in
            var results = try executor.map([0, 0, 1.5], timeout: 0.5) { sleep(seconds: $0) }
            var count = 0
            let elapsed = measure {
                expectThreadingError(.timeout, "") {
                    while try results.next() != nil { count += 1 }
                }
            }
            #expect(count == 2)
            #expect(elapsed >= 0.3 && elapsed < 1.4)
        }
    }

    @Test func test_shutdown_race_issue12456() throws {
        let executor = try ThreadPoolExecutor(maxWorkers: 5)
        _ = try executor.map(Array(repeating: 2, count: 6)) { String($0) }
        executor.shutdown()
    }

    @Test func test_no_stale_references() throws {
        try withPool { executor in
            var myObject: MyObject? = MyObject()
            weak let weakObject = myObject
            _ = try executor.submit { [myObject] in myObject?.myMethod() }  // the future is discarded
            myObject = nil
            #expect(eventually { weakObject == nil }, "Stale reference not collected within timeout.")
        }
    }

    @Test func test_max_workers_negative() {
        for number in [0, -1] {
            expectThreadingError(.valueError, "max_workers must be greater than 0") {
                try ThreadPoolExecutor(maxWorkers: number)
            }
        }
    }

    @Test func test_free_reference() throws {
        try withPool { executor in
            var results = try executor.map(0..<10) { _ in MyObject() }
            while true {
                weak var weakObject: MyObject?
                do {
                    guard let object = try results.next() else { break }
                    weakObject = object
                }
                // Freed once the worker lets go of the future that held it, which it does just
                // after `setResult` has woken this thread (CPython collects garbage here).
                #expect(eventually { weakObject == nil })
            }
        }
    }

    // MARK: ThreadPoolExecutorTest

    @Test func test_map_submits_without_iteration() throws {
        let executor = try ThreadPoolExecutor(maxWorkers: 5)
        let finished = SharedList<Int>()
        _ = try executor.map(0..<10) { finished.append($0) }
        executor.shutdown(wait: true)
        #expect(finished.values.sorted() == Array(0..<10))
    }

    @Test func test_default_workers() throws {
        let executor = try ThreadPoolExecutor()
        #expect(executor.maxWorkers == min(32, Int(cthreading_cpu_count()) + 4))
        executor.shutdown()
    }

    @Test func test_saturation() throws {
        let executor = try ThreadPoolExecutor(maxWorkers: 4)
        let sem = try Threading.Semaphore(0)
        for _ in 0..<(15 * executor.maxWorkers) {
            _ = try executor.submit { _ = try sem.acquire() }
        }
        #expect(executor.threadCount == executor.maxWorkers)
        for _ in 0..<(15 * executor.maxWorkers) { try sem.release() }
        executor.shutdown(wait: true)
    }

    @Test func test_idle_thread_reuse() throws {
        let executor = try ThreadPoolExecutor()
        #expect(try executor.submit { 21 * 2 }.result() == 42)
        #expect(try executor.submit { 6 * 7 }.result() == 42)
        #expect(try executor.submit { 3 * 14 }.result() == 42)
        #expect(executor.threadCount == 1)
        executor.shutdown(wait: true)
    }

    @Test func test_executor_map_current_future_cancel() throws {
        let stopEvent = Event()
        let log = SharedList<String>()
        @Sendable func logAndWait(_ ident: String) {
            log.append("ident='\(ident)' started")
            _ = try? stopEvent.wait()
            log.append("ident='\(ident)' stopped")
        }
        try withThreadPoolExecutor(maxWorkers: 1) { pool in
            let fut = try pool.submit { logAndWait("first") }
            do {
                var gen = try pool.map(["second", "third"], timeout: 0) { logAndWait($0) }
                expectThreadingError(.timeout, "") { try gen.next() }
            }
            stopEvent.set()
            try fut.result()
        }
        #expect(log.values == ["ident='first' started", "ident='first' stopped"])
    }

    // MARK: Idle count, names, buffersize, nesting

    @Test func idleReuseIsExactUnderLoad() throws {
        // Sequential round trips from several rounds never start a second thread, and a burst
        // of blocked work starts exactly as many threads as items, up to maxWorkers.
        let executor = try ThreadPoolExecutor(maxWorkers: 8)
        for i in 0..<200 { #expect(try executor.submit { i }.result() == i) }
        #expect(executor.threadCount == 1)
        let gate = Event()
        let blocked = try (0..<3).map { _ in try executor.submit { _ = try gate.wait() } }
        #expect(executor.threadCount == 3)  // the idle one was reused, two started
        gate.set()
        for f in blocked { try f.result() }
        #expect(eventually { executor.core.idleWorkers == 3 })  // all three back, none started
        let gate2 = Event()
        let blocked2 = try (0..<3).map { _ in try executor.submit { _ = try gate2.wait() } }
        #expect(executor.threadCount == 3)  // all three idle again: none started
        gate2.set()
        for f in blocked2 { try f.result() }
        executor.shutdown()
    }

    // MARK: The future is the work item

    /// Counts its deinitializations.
    final class Tracked: Sendable {
        let released: Counter
        init(_ released: Counter) { self.released = released }
        deinit { released.increment() }
    }

    @Test func workIsReleasedOnceRun() throws {
        // The future carries its work; the worker takes it out and drops it after running it, so
        // what the closure captured does not live as long as the future.
        let executor = try ThreadPoolExecutor(maxWorkers: 1)
        let released = Counter()
        var futures: [Future<Int>] = []
        for i in 0..<100 {
            let tracked = Tracked(released)
            futures.append(try executor.submit { tracked.released === released ? i : -1 })
        }
        for (i, f) in futures.enumerated() { #expect(try f.result() == i) }
        #expect(eventually { released.current == 100 })
        executor.shutdown()
        #expect(released.current == 100)
    }

    @Test func cancelledWorkIsReleasedByCancel() throws {
        let executor = try ThreadPoolExecutor(maxWorkers: 1)
        let gate = Event()
        let blocker = try executor.submit { _ = try gate.wait(timeout: 60) }
        let released = Counter()
        let ran = Counter()
        let f = try {
            let tracked = Tracked(released)
            return try executor.submit {
                ran.increment()
                return tracked.released === released
            }
        }()
        #expect(released.current == 0)
        #expect(f.cancel())
        #expect(released.current == 1)  // at once, not when a worker dequeues the future
        gate.set()
        try blocker.result()
        executor.shutdown()
        #expect(ran.current == 0)
        #expect(f.isCancelled)
        #expect(released.current == 1)
    }

    @Test func submittedFutureCompletedBeforeItRunsSkipsItsWork() throws {
        // Completing a pending submitted future from outside (as CPython allows) drops its work:
        // the worker does not run it and the outside result stands.
        let executor = try ThreadPoolExecutor(maxWorkers: 1)
        let gate = Event()
        let blocker = try executor.submit { _ = try gate.wait(timeout: 60) }
        let released = Counter()
        let ran = Counter()
        let (byValue, byError) = try { () throws -> (Future<Int>, Future<Int>) in
            let tracked = Tracked(released)
            let work: @Sendable () -> Int = {
                ran.increment()
                return tracked.released === released ? 1 : 2
            }
            return (try executor.submit(work), try executor.submit(work))
        }()
        try byValue.setResult(42)
        try byError.setException(OSError())
        gate.set()
        try blocker.result()
        executor.shutdown()
        #expect(ran.current == 0)
        #expect(try byValue.result() == 42)
        #expect(throws: OSError.self) { try byError.result() }
        #expect(released.current == 1)
    }

    @Test func workCapturingItsOwnFutureLeaksNothing() throws {
        // The work refers to its own future (through a box filled after submit): once run, the
        // work is dropped, so the future is freed with its last outside reference.
        final class Slot: @unchecked Sendable {
            // @unchecked Sendable: set before the gate opens, read after.
            var future: Future<Int>?
        }
        let executor = try ThreadPoolExecutor(maxWorkers: 1)
        let gate = Event()
        weak var weakFuture: Future<Int>?
        do {
            let slot = Slot()
            let f = try executor.submit { () throws -> Int in
                _ = try gate.wait(timeout: 60)
                return slot.future?.isRunning == true ? 1 : 0
            }
            slot.future = f
            weakFuture = f
            gate.set()
            #expect(try f.result() == 1)
        }
        executor.shutdown()
        #expect(eventually { weakFuture == nil })
    }

    @Test func workerNamesAreOSThreadNames() throws {
        let executor = try ThreadPoolExecutor(maxWorkers: 2, threadNamePrefix: "Downloader")
        let gate = Event()
        let names = try (0..<2).map { _ in
            try executor.submit { () throws -> [String] in
                _ = try gate.wait(timeout: 60)
                return [currentThread().name, OSThreadName.get(of: getIdent()) ?? "?"]
            }
        }
        sleep(seconds: 0.05)
        gate.set()
        let seen = try names.map { try $0.result() }.sorted { $0[0] < $1[0] }
        #expect(seen == [["Downloader_0", "Downloader_0"], ["Downloader_1", "Downloader_1"]])
        #expect(executor.threads.allSatisfy { !$0.daemon })
        executor.shutdown()
    }

    @Test func mapBuffersize() throws {
        try withPool(4) { executor in
            let inFlight = Atomic<Int>(0)
            let maxInFlight = Atomic<Int>(0)
            let submitted = Atomic<Int>(0)
            let items = (0..<20).lazy.map { i -> Int in
                submitted.add(1, ordering: .relaxed)
                return i
            }
            var results = try executor.map(items, buffersize: 3) { i -> Int in
                let now = inFlight.add(1, ordering: .relaxed).newValue
                maxInFlight.max(now, ordering: .relaxed)
                sleep(seconds: 0.002)
                inFlight.subtract(1, ordering: .relaxed)
                return i * 2
            }
            #expect(submitted.load(ordering: .relaxed) == 3)  // lazily consumed
            var values: [Int] = []
            while let v = try results.next() {
                values.append(v)
                #expect(submitted.load(ordering: .relaxed) <= values.count + 3)
            }
            #expect(values == (0..<20).map { $0 * 2 })
            #expect(maxInFlight.load(ordering: .relaxed) <= 3)
            expectThreadingError(.valueError, "buffersize must be None or > 0") {
                try executor.map([1], buffersize: 0) { $0 }
            }
        }
    }

    @Test func mapTimeoutCountsFromTheCall() throws {
        try withPool(1) { executor in
            var results = try executor.map([0.3, 0.3], timeout: 0.45) { sleep(seconds: $0) }
            sleep(seconds: 0.2)
            #expect(try results.next() != nil)  // done at about 0.3 s
            let elapsed = measure { expectThreadingError(.timeout, "") { try results.next() } }
            #expect(elapsed < 0.3, "the timeout restarted: \(elapsed) s")
        }
    }

    @Test func droppedMapResultsCancelPendingItems() throws {
        // Results dropped after a first next(): the items not yet started are cancelled.
        let ran = Counter()
        try withPool(1) { executor in
            let gate = Event()
            do {
                var results = try executor.map(0..<5) { i in
                    if i == 1 { _ = try? gate.wait(timeout: 60) }
                    if i >= 2 { ran.increment() }
                    return i
                }
                #expect(try results.next() == 0)
            }
            gate.set()
        }
        #expect(ran.current == 0)
    }

    @Test func submitFromAWorkerAndNestedResults() throws {
        try withPool(2) { executor in
            let outer = try executor.submit { () throws -> Int in
                let inner = try executor.submit { 21 }
                return try inner.result(timeout: 60) * 2
            }
            #expect(try outer.result(timeout: 60) == 42)
        }
    }

    @Test func shutdownFromAWorkerDoesNotJoinItself() throws {
        let executor = try ThreadPoolExecutor(maxWorkers: 2)
        let f = try executor.submit { executor.shutdown(wait: true) }
        try f.result(timeout: 60)
        expectThreadingError(.runtimeError, "cannot schedule new futures after shutdown") {
            try executor.submit {}
        }
        executor.shutdown()
    }

    @Test func workErrorsAndCancelledWork() throws {
        try withPool(1) { executor in
            let gate = Event()
            let first = try executor.submit { _ = try gate.wait(timeout: 60) }
            let ran = Counter()
            let second = try executor.submit { ran.increment() }
            #expect(second.cancel())
            let failing = try executor.submit { () throws -> Int in throw TestException(args: "boom") }
            gate.set()
            try first.result()
            #expect(throws: TestException(args: "boom")) { try failing.result(timeout: 60) }
            expectThreadingError(.cancelled, "") { try second.result() }
            #expect(ran.current == 0)
        }
    }

    // MARK: ThreadPoolShutdownTest (in this process)

    @Test func test_run_after_shutdown() throws {
        let executor = try ThreadPoolExecutor(maxWorkers: 5)
        executor.shutdown()
        expectThreadingError(.runtimeError, "cannot schedule new futures after shutdown") {
            try executor.submit { 1 << 5 }
        }
        expectThreadingError(.runtimeError, "cannot schedule new futures after shutdown") {
            try executor.map([1]) { $0 }
        }
        executor.shutdown()  // twice is fine
    }

    @Test func test_hang_issue12364() throws {
        let executor = try ThreadPoolExecutor(maxWorkers: 5)
        let fs = try (0..<50).map { _ in try executor.submit { sleep(seconds: 0.01) } }
        executor.shutdown()
        for f in fs { try f.result() }
    }

    @Test func test_cancel_futures() throws {
        let executor = try ThreadPoolExecutor(maxWorkers: 5)
        let fs = try (0..<50).map { _ in try executor.submit { sleep(seconds: 0.1) } }
        // CPython's workers (started synchronously, under the GIL) have picked up work by now;
        // here a worker may still be starting on a loaded machine: wait until one runs.
        #expect(eventually { fs.contains { $0.isRunning || $0.isDone } })
        executor.shutdown(cancelFutures: true)
        let cancelled = fs.filter(\.isCancelled)
        #expect(cancelled.count > 20)
        let others = fs.filter { !$0.isCancelled }
        for fut in others {
            #expect(fut.isDone)
            #expect(try fut.exception() == nil)
        }
        #expect(others.count > 0)
    }

    @Test func test_hang_gh94440() throws {
        let executor = try ThreadPoolExecutor(maxWorkers: 1)
        _ = try executor.submit { 0 }.result()
        try executor.submit { 0 }.cancel()
        let elapsed = measure { executor.shutdown(wait: true) }
        #expect(elapsed < 5, "timed out waiting for shutdown")
    }

    @Test func test_threads_terminate() throws {
        let executor = try ThreadPoolExecutor(maxWorkers: 5)
        let sem = try Threading.Semaphore(0)
        for _ in 0..<3 { _ = try executor.submit { _ = try sem.acquire() } }
        #expect(executor.threadCount == 3)
        for _ in 0..<3 { try sem.release() }
        executor.shutdown()
        for t in executor.threads {
            try t.join()
            #expect(!t.isAlive)
        }
    }

    @Test func test_context_manager_shutdown() throws {
        let threads = try withThreadPoolExecutor(maxWorkers: 5) { e in
            var results = try e.map(-5..<5) { abs($0) }
            #expect(collect(&results).values == [5, 4, 3, 2, 1, 0, 1, 2, 3, 4])
            return e.threads
        }
        for t in threads {
            try t.join(timeout: 0)
            #expect(!t.isAlive)  // already joined by the shutdown
        }
    }

    @Test func test_del_shutdown() throws {
        var executor: ThreadPoolExecutor? = try ThreadPoolExecutor(maxWorkers: 5)
        var res = try executor!.map(-5..<5) { abs($0) }
        let threads = executor!.threads
        executor = nil
        for t in threads { try t.join(timeout: 60) }
        #expect(threads.allSatisfy { !$0.isAlive })
        #expect(collect(&res).values == (-5..<5).map { abs($0) })
    }

    @Test func test_shutdown_no_wait() throws {
        let executor = try ThreadPoolExecutor(maxWorkers: 5)
        var res = try executor.map(-5..<5) { abs($0) }
        let threads = executor.threads
        executor.shutdown(wait: false)
        for t in threads { try t.join(timeout: 60) }
        #expect(threads.allSatisfy { !$0.isAlive })
        #expect(collect(&res).values == (-5..<5).map { abs($0) })
    }

    @Test func test_thread_names_assigned() throws {
        var executor: ThreadPoolExecutor? = try ThreadPoolExecutor(maxWorkers: 5, threadNamePrefix: "SpecialPool")
        _ = try executor!.map(-5..<5) { abs($0) }
        let threads = executor!.threads
        executor = nil
        for t in threads {
            #expect(t.name.wholeMatch(of: /SpecialPool_[0-4]/) != nil, "\(t.name)")
            try t.join(timeout: 60)
        }
    }

    @Test func test_thread_names_default() throws {
        var executor: ThreadPoolExecutor? = try ThreadPoolExecutor(maxWorkers: 5)
        _ = try executor!.map(-5..<5) { abs($0) }
        let threads = executor!.threads
        executor = nil
        for t in threads {
            #expect(t.name.wholeMatch(of: /ThreadPoolExecutor-\d+_[0-4]/) != nil, "\(t.name)")
            try t.join(timeout: 60)
        }
    }

    // MARK: test_init (thread pool)

    @Test func test_initializer() throws {
        let status = ThreadLocal<String> { "uninitialized" }
        let executor = try ThreadPoolExecutor(maxWorkers: 2, initializer: { status.value = "initialized" })
        let futures = try (0..<2).map { _ in try executor.submit { status.value } }
        for f in futures { #expect(try f.result() == "initialized") }
        executor.shutdown()
    }

    @Test func test_failing_initializer() throws {
        // The log line ("Exception in initializer:") is checked in ThreadPoolExecutorExitTests.
        let executor = try ThreadPoolExecutor(
            maxWorkers: 2,
            initializer: {
                sleep(seconds: 0.1)  // let some futures be scheduled
                throw TestException(args: "error in initializer")
            }
        )
        do {
            let future = try executor.submit { 0 }
            expectThreadingError(
                .brokenThreadPool,
                "A thread initializer failed, the thread pool is not usable anymore"
            ) {
                try future.result(timeout: 60)
            }
        } catch let error as ThreadingError {
            #expect(error.kind == .brokenThreadPool)  // perhaps the executor is already broken
        }
        #expect(eventually { executor.isBroken }, "executor not broken")
        expectThreadingError(.brokenThreadPool, "A thread initializer failed, the thread pool is not usable anymore") {
            try executor.submit { 0 }
        }
        executor.shutdown()  // fine on a broken pool
    }

    @Test func brokenPoolFailsEveryPendingFuture() throws {
        let executor = try ThreadPoolExecutor(
            maxWorkers: 1,
            initializer: {
                sleep(seconds: 0.1)
                throw TestException(args: "error in initializer")
            }
        )
        let fs = try (0..<10).map { i in try executor.submit { i } }
        for f in fs {
            expectThreadingError(
                .brokenThreadPool,
                "A thread initializer failed, the thread pool is not usable anymore"
            ) {
                try f.result(timeout: 60)
            }
        }
        executor.shutdown()
    }
}

/// What a pool does when the process exits, and its log lines, in a child process
/// (`threading-test-child`, FutureScenarios.swift).
@Suite struct ThreadPoolExecutorExitTests {
    @Test func test_interpreter_shutdown() throws {
        let child = try #require(runChild("pool-exit-runs-queued"))
        #expect(child.stderr == "")
        #expect(child.stdout == "apple\n")
        #expect(child.status == 0)
    }

    @Test func test_submit_after_interpreter_shutdown() throws {
        let child = try #require(runChild("pool-submit-after-exit"))
        #expect(child.stderr == "RuntimeError: cannot schedule new futures after interpreter shutdown\n")
        #expect(child.stdout == "runtime-error\n")
        #expect(child.status == 0)
    }

    @Test func test_hang_gh83386() throws {
        let child = try #require(runChild("pool-shutdown-no-wait-exit"))
        #expect(child.stderr == "")
        #expect(child.stdout == "apple\n")
        #expect(child.status == 0)
    }

    @Test func test_cancel_futures_wait_false() throws {
        let child = try #require(runChild("pool-cancel-futures-no-wait-exit"))
        #expect(child.stderr == "")
        #expect(["apple\n", ""].contains(child.stdout))
        #expect(child.status == 0)
    }

    @Test func droppedPoolEndsItsWorkers() throws {
        let child = try #require(runChild("pool-dropped", timeout: 30))
        #expect(child.stdout == "done 3\nworkers alive: 0\n")
        #expect(child.stderr == "")
        #expect(child.status == 0)
        #expect(child.seconds < 20)
    }

    @Test func failingInitializerIsLogged() throws {
        let child = try #require(runChild("pool-initializer-fails"))
        #expect(child.stdout == "broken\n")
        #expect(child.stderr == "Exception in initializer:\nRunFailed: error in initializer\n")
        #expect(child.status == 0)
    }

    @Test func test_done_callback_raises_log() throws {
        let child = try #require(runChild("future-callback-throws"))
        #expect(child.stdout == "next ran\n")
        let lines = child.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(lines.first.map { $0.hasPrefix("exception calling callback for <Future at 0x") } == true)
        #expect(lines.first.map { $0.hasSuffix(" state=finished returned Int>") } == true)
        #expect(lines.last == "RunFailed: doh!")
        #expect(child.status == 0)
    }
}
