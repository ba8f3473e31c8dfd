// The async twins of `Lock.acquire` and `withLock`: tasks wait for the lock in the parking lot,
// threads on its futex word, and every release serves them.

import Synchronization
import Testing

@testable import Threading

@Suite(.serialized) struct LockAsyncTests {
    @Test func test_own_async_acquire_release() async throws {
        let lock = Lock()
        #expect(try await lock.acquire())
        #expect(lock.isLocked)
        #expect(try await lock.acquire(blocking: false) == false)
        #expect(try await lock.acquire(timeout: 0) == false)
        try lock.release()
        #expect(try await lock.acquire(timeout: 1))
        try lock.release()
        #expect(!lock.isLocked)
    }

    @Test func test_own_async_released_by_thread() async throws {
        let lock = Lock()
        try await lock.acquire()
        let releaser = RawThread {
            eventuallyBlocking { waiterCount(lock) == 1 }
            try! lock.release()
        }
        #expect(try await lock.acquire(timeout: safetyTimeout))
        releaser.join()
        #expect(lock.isLocked)
        try lock.release()
        #expect(lock.taskWaiters.load(ordering: .relaxed) == 0)
    }

    @Test func test_own_async_released_by_task_in_order() async throws {
        let lock = Lock()
        try await lock.acquire()
        let order = SharedList<Int>()
        var tasks: [Task<Void, any Error>] = []
        for i in 0..<3 {
            tasks.append(
                Task {
                    try await lock.acquire()
                    order.append(i)
                    try lock.release()
                }
            )
            #expect(await eventually { waiterCount(lock) == i + 1 })
        }
        try await Task { try lock.release() }.value
        for task in tasks { try await task.value }
        #expect(order.values == [0, 1, 2])
        #expect(!lock.isLocked)
    }

    @Test func test_own_async_with_lock_across_await() async throws {
        let lock = Lock()
        let inside = Counter()
        let most = Counter()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    try await lock.withLock {
                        let now = inside.increment()
                        if now > most.current { most.increment(by: now - most.current) }
                        try await Task.sleep(nanoseconds: 1_000_000)
                        inside.increment(by: -1)
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(most.current == 1)
        #expect(!lock.isLocked)
    }

    @Test func test_own_async_with_lock_releases_on_throw() async throws {
        struct Boom: Error {}
        let lock = Lock()
        await #expect(throws: Boom.self) {
            try await lock.withLock {
                await Task.yield()
                throw Boom()
            }
        }
        #expect(!lock.isLocked)
    }

    @Test func test_own_async_thread_and_task_contend() async throws {
        let lock = Lock()
        let total = Counter()
        let threads = spawn(2) { _ in
            for _ in 0..<2000 {
                _ = try! lock.acquire(blocking: true, timeout: nil)
                total.increment()
                try! lock.release()
            }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    for _ in 0..<500 {
                        try await lock.acquire()
                        total.increment()
                        try lock.release()
                    }
                }
            }
            try await group.waitForAll()
        }
        for thread in threads { thread.join() }
        #expect(total.current == 6000)
        #expect(!lock.isLocked)
        #expect(lock.taskWaiters.load(ordering: .relaxed) == 0)
    }

    @Test func test_own_async_cancel_while_suspended() async throws {
        let lock = Lock()
        try await lock.acquire()
        let task = Task { try await lock.acquire() }
        #expect(await eventually { waiterCount(lock) == 1 })
        let behind = Counter()
        let thread = RawThread {
            _ = try! lock.acquire(blocking: true, timeout: nil)
            behind.increment()
            try! lock.release()
        }
        waitThreadsBlocked(1)
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(waiterCount(lock) == 0)
        try lock.release()
        thread.join()
        #expect(behind.current == 1)
        #expect(!lock.isLocked)
        #expect(lock.taskWaiters.load(ordering: .relaxed) == 0)
    }

    @Test func test_own_async_timeout() async throws {
        let lock = Lock()
        try await lock.acquire()
        let start = monotonicSeconds()
        #expect(try await lock.acquire(timeout: 0.1) == false)
        let elapsed = monotonicSeconds() - start
        #expect(elapsed >= 0.1)
        expectAsyncTimeout(elapsed, 0.1)
        try lock.release()
        #expect(try await lock.acquire(timeout: 0.1))
        try lock.release()
    }

    @Test func test_own_async_argument_errors() async throws {
        let lock = Lock()
        await #expect(throws: ThreadingError.self) { try await lock.acquire(blocking: false, timeout: 1) }
        await #expect(throws: ThreadingError.self) { try await lock.acquire(timeout: -2) }
        await #expect(throws: ThreadingError.self) { try await lock.acquire(timeout: .nan) }
    }

    @Test func test_own_async_cancellation_storm() async throws {
        let lock = Lock()
        try await lock.acquire()
        let total = 1000
        let acquired = Counter()
        let cancelled = Counter()
        var tasks: [Task<Void, Never>] = []
        for _ in 0..<total {
            tasks.append(
                Task {
                    do {
                        try await lock.acquire()
                        acquired.increment()
                        try! lock.release()
                    } catch {
                        #expect(isCancellation(error))
                        cancelled.increment()
                    }
                }
            )
        }
        #expect(await eventually { waiterCount(lock) == total })
        let releaser = Task { try lock.release() }
        for task in tasks { task.cancel() }
        try await releaser.value
        for task in tasks { await task.value }
        #expect(acquired.current + cancelled.current == total)
        #expect(!lock.isLocked)
        #expect(waiterCount(lock) == 0)
        #expect(lock.taskWaiters.load(ordering: .relaxed) == 0)
    }

    /// In async code a `withLock` whose body does not await is still the blocking one: a short
    /// critical section, no `await` needed.
    @Test func test_own_short_with_lock_in_async_code() async throws {
        let lock = Lock()
        let value = lock.withLock { 42 }
        #expect(value == 42)
        #expect(!lock.isLocked)
    }

    @Test func test_own_async_duration_timeout() async throws {
        let lock = Lock()
        try await lock.acquire()
        let start = monotonicSeconds()
        #expect(try await lock.acquire(timeout: .milliseconds(50)) == false)
        #expect(monotonicSeconds() - start >= 0.05)
        try lock.release()
        #expect(try await lock.acquire(timeout: .seconds(-1)))  // -1 s: without limit, as -1
        try lock.release()
        await #expect(throws: ThreadingError.self) { try await lock.acquire(timeout: .seconds(-2)) }
        await #expect(throws: ThreadingError.self) {
            try await lock.acquire(blocking: false, timeout: .milliseconds(1))
        }
    }
}
