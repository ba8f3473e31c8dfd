// The async twin of `Event.wait`: tasks and threads waiting for one flag, with cancellation,
// timeouts, and the pool-starvation case that blocking waits cause.

import Synchronization
import Testing

@testable import Threading

@Suite(.serialized) struct EventAsyncTests {
    @Test func test_own_async_wait_set() async throws {
        let event = Event()
        event.set()
        #expect(try await event.wait())
        #expect(try await event.wait(timeout: 0))
        event.clear()
        #expect(try await event.wait(timeout: 0) == false)
        #expect(try await event.wait(timeout: -1) == false)
    }

    @Test func test_own_async_set_by_thread() async throws {
        let event = Event()
        let setter = RawThread {
            eventuallyBlocking { waiterCount(event) == 1 }
            event.set()
        }
        #expect(try await event.wait(timeout: safetyTimeout))
        setter.join()
    }

    @Test func test_own_async_set_by_task_wakes_threads_and_tasks() async throws {
        let event = Event()
        let woken = Counter()
        let threads = spawn(2) { _ in
            if try! event.wait(timeout: safetyTimeout) { woken.increment() }
        }
        let tasks = (0..<3).map { _ in
            Task { if try await event.wait(timeout: safetyTimeout) { woken.increment() } }
        }
        #expect(await eventually { waiterCount(event) == 5 })
        await Task { event.set() }.value
        for task in tasks { try await task.value }
        for thread in threads { thread.join() }
        #expect(woken.current == 5)
        #expect(waiterCount(event) == 0)
    }

    @Test func test_own_async_timeout() async throws {
        let event = Event()
        let start = monotonicSeconds()
        #expect(try await event.wait(timeout: 0.1) == false)
        let elapsed = monotonicSeconds() - start
        #expect(elapsed >= 0.1)
        expectAsyncTimeout(elapsed, 0.1)
        #expect(event.state.load(ordering: .relaxed) == Event.unset)
    }

    @Test func test_own_async_cancel_while_suspended() async throws {
        let event = Event()
        let task = Task { try await event.wait() }
        let thread = RawThread { _ = try! event.wait(timeout: safetyTimeout) }
        #expect(await eventually { waiterCount(event) == 2 })
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(waiterCount(event) == 1)
        #expect(event.state.load(ordering: .relaxed) == Event.unsetWithWaiters)
        event.set()
        thread.join()
        #expect(waiterCount(event) == 0)
    }

    @Test func test_own_async_cancel_last_waiter_resets_state() async throws {
        let event = Event()
        let task = Task { try await event.wait(timeout: safetyTimeout) }
        #expect(await eventually { waiterCount(event) == 1 })
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(event.state.load(ordering: .relaxed) == Event.unset)
    }

    @Test func test_own_async_argument_errors() async throws {
        let event = Event()
        await #expect(throws: ThreadingError.self) { try await event.wait(timeout: .nan) }
        await #expect(throws: ThreadingError.self) { try await event.wait(timeout: timeoutMax * 2) }
    }

    /// The pool-starvation case: more tasks than cooperative threads wait for one event, then
    /// another task sets it. With a blocking wait the setter could not run until a waiter timed
    /// out; here every waiter returns long before its timeout.
    @Test func test_own_async_starvation() async throws {
        let event = Event()
        let waiters = Platform.cpuCount + 2
        let start = monotonicSeconds()
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<waiters { group.addTask { try await event.wait(timeout: 120) } }
            group.addTask {
                await eventually { waiterCount(event) == waiters }
                event.set()
                return true
            }
            var count = 0
            for try await result in group {
                #expect(result)
                count += 1
            }
            #expect(count == waiters + 1)
        }
        #expect(monotonicSeconds() - start < 60)  // blocking waits would hold the pool for 120 s
    }

    @Test func test_own_async_duration_timeout() async throws {
        let event = Event()
        let start = monotonicSeconds()
        #expect(try await event.wait(timeout: .milliseconds(50)) == false)
        #expect(monotonicSeconds() - start >= 0.05)
        event.set()
        #expect(try await event.wait(timeout: .seconds(1)))
    }
}
