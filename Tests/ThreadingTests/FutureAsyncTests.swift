// The async forms of concurrent.futures: `await future.value` and the `async` `result`/
// `exception`, `for try await` over `asCompleted` and `map`, `await pool.run {}`, and the pool as
// a `TaskExecutor`. Cancellation: an awaiting task throws `CancellationError` and leaves the
// future alone; `run` cancels work that has not started.

import Synchronization
import Testing

@testable import Threading

@Suite struct FutureAsyncTests {
    @Test func valueAndResultAwaitACompletion() async throws {
        let f = Future<Int>()
        let t = RawThread {
            sleep(seconds: 0.05)
            try? f.setResult(42)
        }
        #expect(try await f.value == 42)
        #expect(try await f.result(timeout: 1) == 42)
        #expect(try await f.exception() == nil)
        t.join()
    }

    @Test func asyncResultRethrowsAndReportsStates() async throws {
        let failed = exceptionFuture()
        await #expect(throws: OSError()) { try await failed.value }
        #expect(try await failed.exception() is OSError)
        let cancelled = cancelledFuture()
        do {
            _ = try await cancelled.result()
            Issue.record("no error")
        } catch let error as ThreadingError {
            #expect(error == ThreadingError(.cancelled))
        }
        let pending = pendingFuture()
        let elapsed = try await measureAsync {
            do {
                _ = try await pending.result(timeout: 0.1)
                Issue.record("no error")
            } catch let error as ThreadingError {
                #expect(error == ThreadingError(.timeout))
            }
        }
        // Only the lower bound: the expired task resumes when a cooperative thread is free, and
        // blocking tests of other suites running in parallel may hold both for a long time.
        #expect(elapsed >= 0.06, "took \(elapsed) s")
        do {
            _ = try await pending.exception(timeout: .nan)
            Issue.record("no error")
        } catch let error as ThreadingError {
            #expect(error == ThreadingError(.valueError, "Invalid value NaN (not a number)"))
        }
    }

    @Test func cancelledAwaitLeavesTheFutureAlone() async throws {
        let f = Future<Int>()
        let task = Task { try await f.value }
        try await Task.sleep(nanoseconds: 50_000_000)
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(!f.isDone)
        #expect(!f.isCancelled)
        try f.setResult(7)  // still usable, and a later await gets the value
        #expect(try await f.value == 7)
    }

    @Test func finishedFutureReturnsEvenInACancelledTask() async throws {
        let f = successfulFuture()
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await f.value
        }
        #expect(try await task.value == 42)
    }

    @Test func threadsAndTasksWokenTogether() async throws {
        let f = Future<Int>()
        let threadResults = SharedList<Int>()
        let bunch = Bunch(3) { threadResults.append(try f.result(timeout: safetyTimeout)) }
        let tasks = (0..<3).map { _ in Task { try await f.result(timeout: safetyTimeout) } }
        bunch.waitForStarted()
        try await Task.sleep(nanoseconds: 50_000_000)
        try f.setResult(5)
        for task in tasks { #expect(try await task.value == 5) }
        bunch.join()
        #expect(threadResults.values == [5, 5, 5])
    }

    @Test func asCompletedForTryAwait() async throws {
        let fs = (0..<4).map { _ in Future<Int>() }
        try fs[2].setResult(2)
        let t = RawThread {
            for i in [3, 0, 1] {
                sleep(seconds: 0.01)
                try? fs[i].setResult(i)
            }
        }
        var order: [Int] = []
        for try await f in asCompleted(fs, timeout: safetyTimeout) { order.append(try await f.result()) }
        t.join()
        #expect(order == [2, 3, 0, 1])
    }

    @Test func asCompletedAsyncTimeout() async throws {
        let fs = [successfulFuture(), pendingFuture()]
        var seen = 0
        do {
            for try await _ in asCompleted(fs, timeout: 0.05) { seen += 1 }
            Issue.record("no timeout")
        } catch let error as ThreadingError {
            #expect(error == ThreadingError(.timeout, "1 (of 2) futures unfinished"))
        }
        #expect(seen == 1)
    }

    @Test func asCompletedCancelledTaskLosesNothing() async throws {
        let f = Future<Int>()
        // The iteration is used by one task at a time: first the cancelled one, then this one.
        nonisolated(unsafe) let iteration = asCompleted([f])
        let task = Task {
            var it = iteration.makeAsyncIterator()
            return try await it.next()
        }
        try await Task.sleep(nanoseconds: 50_000_000)
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        try f.setResult(1)
        var it = iteration.makeAsyncIterator()
        #expect(try await it.next() === f)
        #expect(try await it.next() == nil)
    }

    @Test func mapForTryAwait() async throws {
        let pool = try ThreadPoolExecutor(maxWorkers: 3)
        var values: [Int] = []
        for try await v in try pool.map(0..<10, { $0 * $0 }) { values.append(v) }
        #expect(values == (0..<10).map { $0 * $0 })
        pool.shutdown()
    }

    @Test func runReturnsAndRethrows() async throws {
        let pool = try ThreadPoolExecutor(maxWorkers: 2, threadNamePrefix: "runner")
        let name = try await pool.run { currentThread().name }
        #expect(name.hasPrefix("runner_"))
        await #expect(throws: TestException(args: "boom")) {
            try await pool.run { () throws -> Int in throw TestException(args: "boom") }
        }
        pool.shutdown()
    }

    @Test func cancellingRunBeforeTheWorkStartedCancelsIt() async throws {
        let pool = try ThreadPoolExecutor(maxWorkers: 1)
        let gate = Event()
        let blocker = try pool.submit { _ = try gate.wait(timeout: safetyTimeout) }
        let ran = Counter()
        let task = Task { try await pool.run { ran.increment() } }
        try await Task.sleep(nanoseconds: 50_000_000)
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        gate.set()
        try await blocker.value
        pool.shutdown()
        #expect(ran.current == 0)
    }

    @Test func cancellingRunAfterTheWorkStartedReturnsItsResult() async throws {
        let pool = try ThreadPoolExecutor(maxWorkers: 1)
        let started = Event()
        let gate = Event()
        let task = Task {
            try await pool.run { () throws -> Int in
                started.set()
                _ = try gate.wait(timeout: safetyTimeout)
                return 9
            }
        }
        _ = try await started.wait(timeout: safetyTimeout)
        task.cancel()
        gate.set()
        #expect(try await task.value == 9)
        pool.shutdown()
    }

    @Test func runWhoseWorkAShutdownCancelsThrowsCancellationError() async throws {
        let pool = try ThreadPoolExecutor(maxWorkers: 1)
        let started = Event()
        let gate = Event()
        let blocker = try pool.submit {
            started.set()
            _ = try gate.wait(timeout: safetyTimeout)
        }
        let ran = Counter()
        let task = Task { try await pool.run { ran.increment() } }
        _ = try await started.wait(timeout: safetyTimeout)
        // The run's work is queued behind the blocker once the pool holds one more item.
        #expect(await eventually { pool.core.queue.qsize() == 1 })
        pool.shutdown(wait: false, cancelFutures: true)
        await #expect(throws: CancellationError.self) { try await task.value }
        gate.set()
        try await blocker.value
        pool.shutdown()
        #expect(ran.current == 0)
    }

    @Test func runInAnAlreadyCancelledTaskDoesNotSubmit() async throws {
        let pool = try ThreadPoolExecutor(maxWorkers: 1)
        let ran = Counter()
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await pool.run { ran.increment() }
        }
        await #expect(throws: CancellationError.self) { try await task.value }
        pool.shutdown()
        #expect(ran.current == 0)
    }

    // MARK: TaskExecutor

    @Test func taskPreferringThePoolRunsOnAPoolThread() async throws {
        let pool = try ThreadPoolExecutor(maxWorkers: 2, threadNamePrefix: "blocking")
        let name = await Task(executorPreference: pool) { currentThread().name }.value
        #expect(name.hasPrefix("blocking_"))
        let nested = await withTaskExecutorPreference(pool) { currentThread().name }
        #expect(nested.hasPrefix("blocking_"))
        pool.shutdown()
    }

    @Test func cooperativeTasksKeepRunningWhilePoolWorkBlocks() async throws {
        // More blocking tasks than the cooperative pool has threads: on the pool they block its
        // workers, and a plain task still runs meanwhile.
        let pool = try ThreadPoolExecutor(maxWorkers: 8)
        let gate = Event()
        // A synchronous closure: the blocking wait is meant here (on the pool, not the
        // cooperative threads), and `noasync` diagnoses it only when called from async code.
        let blockingWait: @Sendable () -> Bool = { (try? gate.wait(timeout: safetyTimeout)) ?? false }
        let blocked = (0..<6).map { _ in
            Task(executorPreference: pool) { () -> Bool in blockingWait() }
        }
        try await Task.sleep(nanoseconds: 50_000_000)
        let free = await Task { 1 + 1 }.value
        #expect(free == 2)
        gate.set()
        for task in blocked { #expect(await task.value) }
        pool.shutdown()
    }

    @Test func jobsAfterShutdownRunElsewhere() async throws {
        let pool = try ThreadPoolExecutor(maxWorkers: 1, threadNamePrefix: "gone")
        pool.shutdown()
        let name = await Task(executorPreference: pool) { currentThread().name }.value
        #expect(!name.hasPrefix("gone_"))
    }
}

/// Runs `body` and returns the seconds it took.
func measureAsync(_ body: () async throws -> Void) async rethrows -> Double {
    let start = monotonicSeconds()
    try await body()
    return monotonicSeconds() - start
}
