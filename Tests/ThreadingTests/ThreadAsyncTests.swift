// The async twin of `Thread.join`: a task waits for a thread to end without blocking a thread of
// the cooperative pool.

import Testing

@testable import Threading

@Suite(.serialized) struct ThreadAsyncTests {
    @Test func test_own_async_join() async throws {
        let gate = Event()
        let thread = Threading.Thread(target: { _ = try? gate.wait(timeout: safetyTimeout) })
        try thread.start()
        let joiner = Task { try await thread.join() }
        #expect(await eventually { waiterCount(thread.stoppedEvent) == 1 })
        #expect(thread.isAlive)
        gate.set()
        try await joiner.value
        #expect(!thread.isAlive)
        try await thread.join()  // a finished thread: at once
        try await thread.join(timeout: .seconds(1))
    }

    @Test func test_own_async_join_timeout() async throws {
        let gate = Event()
        let thread = Threading.Thread(target: { _ = try? gate.wait(timeout: safetyTimeout) })
        try thread.start()
        let start = monotonicSeconds()
        try await thread.join(timeout: 0.1)
        #expect(monotonicSeconds() - start >= 0.1)
        #expect(thread.isAlive)
        try await thread.join(timeout: .milliseconds(-5))  // negative is zero
        #expect(thread.isAlive)
        gate.set()
        try await thread.join(timeout: .seconds(60))
        #expect(!thread.isAlive)
    }

    @Test func test_own_async_join_cancelled() async throws {
        let gate = Event()
        let thread = Threading.Thread(target: { _ = try? gate.wait(timeout: safetyTimeout) })
        try thread.start()
        let joiner = Task { try await thread.join() }
        #expect(await eventually { waiterCount(thread.stoppedEvent) == 1 })
        joiner.cancel()
        await #expect(throws: CancellationError.self) { try await joiner.value }
        #expect(thread.isAlive)  // the thread runs on
        gate.set()
        try await thread.join()
        #expect(!thread.isAlive)
    }

    @Test func test_own_async_join_errors() async throws {
        let thread = Threading.Thread(target: {})
        do {
            try await thread.join()
            Issue.record("expected an error")
        } catch let error as ThreadingError {
            #expect(error.message == "cannot join thread before it is started")
        }
        let gate = Event()
        let waiting = Threading.Thread(target: { _ = try? gate.wait(timeout: safetyTimeout) })
        try waiting.start()
        await #expect(throws: ThreadingError.self) { try await waiting.join(timeout: .nan) }
        gate.set()
        try await waiting.join()
        // Errors are checked only when the call would wait, as in the blocking form.
        try await waiting.join(timeout: .nan)
    }
}
