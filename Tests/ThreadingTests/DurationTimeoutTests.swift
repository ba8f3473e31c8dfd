// Every blocking timeout also takes a `Duration`, meaning its value in seconds under the rules of
// the `Double` form.

import Testing

@testable import Threading

@Suite struct DurationTimeoutTests {
    @Test func test_own_duration_seconds() {
        #expect(Duration.milliseconds(1500).timeoutSeconds == 1.5)
        #expect(Duration.seconds(-1).timeoutSeconds == -1)
        #expect(Duration.nanoseconds(1).timeoutSeconds == 1e-9)
        #expect(Duration.zero.timeoutSeconds == 0)
    }

    @Test func test_own_lock_duration() throws {
        let lock = Lock()
        #expect(try lock.acquire(timeout: .milliseconds(10)))
        let start = monotonicSeconds()
        #expect(try lock.acquire(timeout: .milliseconds(50)) == false)
        #expect(monotonicSeconds() - start >= 0.05)
        expectThreadingError(.valueError, "timeout value must be a non-negative number") {
            try lock.acquire(timeout: .seconds(-2))
        }
        expectThreadingError(.valueError, "can't specify a timeout for a non-blocking call") {
            try lock.acquire(blocking: false, timeout: .seconds(1))
        }
        try lock.release()
    }

    @Test func test_own_rlock_and_condition_duration() throws {
        let rlock = RLock()
        #expect(try rlock.acquire(timeout: .milliseconds(10)))
        try rlock.release()
        let condition = Condition()
        #expect(try condition.acquire(timeout: .milliseconds(10)))
        let start = monotonicSeconds()
        #expect(try condition.wait(timeout: .milliseconds(50)) == false)
        #expect(monotonicSeconds() - start >= 0.05)
        #expect(try condition.waitFor(timeout: .milliseconds(10)) { false } == false)
        try condition.release()
    }

    @Test func test_own_semaphore_event_duration() throws {
        let sem = try Threading.Semaphore(1)
        #expect(try sem.acquire(timeout: .milliseconds(10)))
        let start = monotonicSeconds()
        #expect(try sem.acquire(timeout: .milliseconds(50)) == false)
        #expect(monotonicSeconds() - start >= 0.05)
        let event = Event()
        #expect(try event.wait(timeout: .milliseconds(10)) == false)
        event.set()
        #expect(try event.wait(timeout: .zero))
    }

    @Test func test_own_barrier_thread_duration() throws {
        let barrier = try Barrier(1, timeout: .seconds(1))
        #expect(try barrier.wait(timeout: .milliseconds(10)) == 0)
        let thread = Threading.Thread(target: {})
        try thread.start()
        try thread.join(timeout: .seconds(10))
        #expect(!thread.isAlive)
    }
}
