// The async twin of `Barrier.wait`: threads and tasks as parties of one barrier, cancellation
// breaking it as a timeout does.

import Testing

@testable import Threading

@Suite(.serialized) struct BarrierAsyncTests {
    @Test func test_own_async_threads_and_tasks_pass_together() async throws {
        let barrier = try Barrier(4)
        let indices = SharedList<Int>()
        for _ in 0..<3 {  // three generations
            let threads = spawn(2) { _ in
                do { indices.append(try barrier.wait(timeout: safetyTimeout)) } catch { indices.append(-1) }
            }
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<2 { group.addTask { try await barrier.wait(timeout: safetyTimeout) } }
                for try await index in group { indices.append(index) }
            }
            for thread in threads { thread.join() }
        }
        #expect(indices.values.sorted() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3])
        #expect(barrier.nWaiting == 0)
        #expect(!barrier.isBroken)
    }

    @Test func test_own_async_cancel_breaks_barrier() async throws {
        let barrier = try Barrier(3)
        let errors = SharedList<String>()
        let thread = RawThread {
            do { _ = try barrier.wait(timeout: safetyTimeout) } catch { errors.append("\(error)") }
        }
        #expect(await eventually { barrier.nWaiting == 1 })
        let task = Task { try await barrier.wait() }
        #expect(await eventually { barrier.nWaiting == 2 })
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        thread.join()
        #expect(barrier.isBroken)
        #expect(errors.values.count == 1)
        #expect(errors.values.first?.contains("BrokenBarrierError") ?? false)
        barrier.reset()
        #expect(!barrier.isBroken)
    }

    @Test func test_own_async_timeout_breaks_barrier() async throws {
        let barrier = try Barrier(2)
        let start = monotonicSeconds()
        await #expect(throws: ThreadingError.self) { try await barrier.wait(timeout: .milliseconds(100)) }
        #expect(monotonicSeconds() - start >= 0.1)
        #expect(barrier.isBroken)
        await #expect(throws: ThreadingError.self) { try await barrier.wait() }
    }

    @Test func test_own_async_released_before_cancel_returns_index() async throws {
        let barrier = try Barrier(2)
        let task = Task { try await barrier.wait(timeout: safetyTimeout) }
        #expect(await eventually { barrier.nWaiting == 1 })
        let index = try await barrier.wait(timeout: safetyTimeout)
        task.cancel()
        #expect(try await task.value + index == 1)
        #expect(!barrier.isBroken)
    }

    @Test func test_own_async_abort_and_errors() async throws {
        let barrier = try Barrier(2)
        let task = Task { try await barrier.wait() }
        #expect(await eventually { barrier.nWaiting == 1 })
        barrier.abort()
        await #expect(throws: ThreadingError.self) { try await task.value }
        barrier.reset()
        await #expect(throws: ThreadingError.self) { try await barrier.wait(timeout: .nan) }
        #expect(!barrier.isBroken)  // a NaN timeout withdraws the arrival without breaking
        #expect(barrier.nWaiting == 0)
    }
}
