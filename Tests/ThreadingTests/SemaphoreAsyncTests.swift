// The async twin of `Semaphore.acquire` (and `BoundedSemaphore`'s): suspended tasks and parked
// threads in one line on the same parking lot, with cancellation and timeouts.

import Synchronization
import Testing

@testable import Threading

@Suite(.serialized) struct SemaphoreAsyncTests {
    @Test func test_own_async_acquire_uncontended() async throws {
        let sem = try Threading.Semaphore(2)
        #expect(try await sem.acquire())
        #expect(try await sem.acquire(blocking: true, timeout: 1))
        #expect(try await sem.acquire(blocking: false) == false)
        #expect(try await sem.acquire(timeout: 0) == false)
        #expect(sem.currentValue == 0)
    }

    @Test func test_own_async_released_by_thread() async throws {
        let sem = try Threading.Semaphore(0)
        let releaser = RawThread {
            eventuallyBlocking { waiterCount(sem) == 1 }
            try! sem.release()
        }
        #expect(try await sem.acquire(timeout: safetyTimeout))
        releaser.join()
        #expect(sem.currentValue == 0)
        #expect(sem.waiters.load(ordering: .relaxed) == 0)
    }

    @Test func test_own_async_released_by_task() async throws {
        let sem = try BoundedSemaphore(1)
        try await sem.acquire()
        let waiter = Task { try await sem.acquire() }
        #expect(await eventually { waiterCount(sem) == 1 })
        try sem.release()
        #expect(try await waiter.value)
        #expect(sem.currentValue == 0)
    }

    @Test func test_own_async_thread_task_thread_fifo() async throws {
        let sem = try Threading.Semaphore(0)
        let order = SharedList<String>()
        let first = RawThread {
            _ = try! sem.acquire()
            order.append("thread 1")
        }
        #expect(await eventually { waiterCount(sem) == 1 })
        let task = Task {
            try await sem.acquire()
            order.append("task")
        }
        #expect(await eventually { waiterCount(sem) == 2 })
        let third = RawThread {
            _ = try! sem.acquire()
            order.append("thread 2")
        }
        #expect(await eventually { waiterCount(sem) == 3 })
        for served in 1...3 {
            try sem.release()
            #expect(await eventually { order.count == served })
            // The next waiter does not get a unit meant for nobody.
            #expect(sem.currentValue == 0)
        }
        first.join()
        try await task.value
        third.join()
        #expect(order.values == ["thread 1", "task", "thread 2"])
    }

    @Test func test_own_async_cancel_while_suspended() async throws {
        let sem = try Threading.Semaphore(0)
        let task = Task { try await sem.acquire() }
        #expect(await eventually { waiterCount(sem) == 1 })
        let behind = Counter()
        let thread = RawThread {
            _ = try! sem.acquire()
            behind.increment()
        }
        #expect(await eventually { waiterCount(sem) == 2 })
        let start = monotonicSeconds()
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(monotonicSeconds() - start < 60)  // prompt (loose: parallel tests may hold the pool)
        #expect(waiterCount(sem) == 1)
        // The unit released afterwards reaches the thread that was behind the cancelled task.
        try sem.release()
        thread.join()
        #expect(behind.current == 1)
        #expect(sem.currentValue == 0)
        #expect(sem.waiters.load(ordering: .relaxed) == 0)
    }

    @Test func test_own_async_cancelled_before_waiting() async throws {
        let sem = try Threading.Semaphore(1)
        let gate = Event()
        let results = SharedList<String>()
        let task = Task {
            try await gate.wait()  // cancelled while waiting here: throws
            results.append("not reached")
        }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        // A unit available at once is taken even by a cancelled task; waiting is not.
        let second = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            let first = try await sem.acquire()
            results.append("took \(first)")
            _ = try await sem.acquire()
            results.append("not reached")
        }
        await #expect(throws: CancellationError.self) { try await second.value }
        #expect(results.values == ["took true"])
        #expect(sem.currentValue == 0)
        #expect(waiterCount(sem) == 0)
        #expect(sem.waiters.load(ordering: .relaxed) == 0)
    }

    @Test func test_own_async_timeout() async throws {
        let sem = try Threading.Semaphore(0)
        let start = monotonicSeconds()
        #expect(try await sem.acquire(timeout: 0.1) == false)
        expectAsyncTimeout(monotonicSeconds() - start, 0.1)
        #expect(monotonicSeconds() - start >= 0.1)
        #expect(waiterCount(sem) == 0)
        #expect(sem.waiters.load(ordering: .relaxed) == 0)
        // A release after the timeout is kept for the next caller.
        try sem.release()
        #expect(try await sem.acquire(timeout: 0.1))
    }

    @Test func test_own_async_timeout_then_released() async throws {
        let sem = try Threading.Semaphore(0)
        let waiter = Task { try await sem.acquire(timeout: safetyTimeout) }
        #expect(await eventually { waiterCount(sem) == 1 })
        try sem.release()
        #expect(try await waiter.value)
        #expect(sem.currentValue == 0)
    }

    @Test func test_own_async_argument_errors() async throws {
        let sem = try Threading.Semaphore(0)
        await #expect(throws: ThreadingError.self) { try await sem.acquire(blocking: false, timeout: 1) }
        await #expect(throws: ThreadingError.self) { try await sem.acquire(timeout: .nan) }
        await #expect(throws: ThreadingError.self) { try await sem.acquire(timeout: timeoutMax * 2) }
        #expect(try await sem.acquire(timeout: -1) == false)
    }

    /// 1000 tasks wait for units while a thread releases 500 and every task is cancelled: each
    /// task either got a unit or threw, and no unit is lost or made up.
    @Test func test_own_async_cancellation_storm() async throws {
        let sem = try Threading.Semaphore(0)
        let total = 1000
        let released = 500
        let acquired = Counter()
        let cancelled = Counter()
        var tasks: [Task<Void, Never>] = []
        for _ in 0..<total {
            tasks.append(
                Task {
                    do {
                        if try await sem.acquire() { acquired.increment() }
                    } catch {
                        #expect(isCancellation(error))
                        cancelled.increment()
                    }
                }
            )
        }
        // Every task is in line before the race starts, so each cancellation races a release.
        #expect(await eventually { waiterCount(sem) == total })
        let releaser = RawThread {
            for _ in 0..<released { try! sem.release() }
        }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
        releaser.join()
        #expect(acquired.current + cancelled.current == total)
        #expect(acquired.current + sem.currentValue == released)
        #expect(waiterCount(sem) == 0)
        #expect(sem.waiters.load(ordering: .relaxed) == 0)
    }

    @Test func test_own_async_duration_timeout() async throws {
        let sem = try BoundedSemaphore(1)
        #expect(try await sem.acquire(timeout: .milliseconds(10)))
        let start = monotonicSeconds()
        #expect(try await sem.acquire(timeout: .milliseconds(50)) == false)
        #expect(monotonicSeconds() - start >= 0.05)
        #expect(try await sem.acquire(timeout: .zero) == false)
        await #expect(throws: ThreadingError.self) {
            try await sem.acquire(blocking: false, timeout: .milliseconds(1))
        }
    }

    /// In debug builds, a blocking wait reached from inside a task (through a synchronous
    /// function, which `noasync` cannot see) is reported once per call site.
    @Test func test_own_blocking_wait_in_task_reported_once_per_site() async throws {
        #if DEBUG
        let sem = try Threading.Semaphore(0)
        let blockBriefly: @Sendable () -> Void = { _ = try? sem.acquire(timeout: 0.001) }
        let blockBrieflyElsewhere: @Sendable () -> Void = { _ = try? sem.acquire(timeout: 0.001) }
        // Other suites run in parallel and may add their own sites meanwhile: each count is
        // checked from below only.
        let before = BlockingInTask.reported.withLock { $0.count }
        await Task {
            for _ in 0..<3 { blockBriefly() }
        }.value
        let afterOneSite = BlockingInTask.reported.withLock { $0.count }
        #expect(afterOneSite >= before + 1)
        await Task { blockBrieflyElsewhere() }.value
        #expect(BlockingInTask.reported.withLock { $0.count } >= afterOneSite + 1)
        // A plain thread is not a task: nothing is reported (and nothing traps).
        RawThread { blockBriefly() }.join()
        #endif
    }
}
