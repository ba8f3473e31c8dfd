// The async twins run on the caller's executor (`nonisolated(nonsending)`): a call that completes
// at once never leaves the caller's actor, and one that suspends resumes on it.

import Dispatch
import Synchronization
import Testing

@testable import Threading

/// A serial executor that counts the jobs enqueued on it: each is a hop onto its actor.
final class CountingExecutor: SerialExecutor, @unchecked Sendable {
    // @unchecked Sendable: `queue` is a serial DispatchQueue and `enqueued` is atomic.
    let enqueued = Atomic<Int>(0)
    let queue = DispatchQueue(label: "counting-executor")

    func enqueue(_ job: consuming ExecutorJob) {
        enqueued.wrappingAdd(1, ordering: .relaxed)
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedSerialExecutor()) }
    }
}

/// An actor on a `CountingExecutor`.
actor CountedActor {
    let executor = CountingExecutor()
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    var hops: Int { executor.enqueued.load(ordering: .relaxed) }

    /// Runs every twin on objects that let it complete at once; returns the hops onto this actor
    /// meanwhile.
    func twinsThatCompleteAtOnce(thread: Threading.Thread) async throws -> Int {
        let before = hops
        let semaphore = try Threading.Semaphore(1)
        let bounded = try BoundedSemaphore(1)
        let lock = Threading.Lock()
        let event = Event()
        event.set()
        let barrier = try Barrier(1)
        let queue = Queue<Int>()
        try queue.putNowait(1)
        let simple = SimpleQueue<Int>()
        simple.put(2)
        #expect(try await semaphore.acquire())
        #expect(try await bounded.acquire(timeout: .seconds(1)))
        #expect(try await lock.acquire())
        #expect(try await event.wait(timeout: 1))
        #expect(try await barrier.wait() == 0)
        try await thread.join()
        try await queue.put(3)
        #expect(try await queue.get() == 1)
        #expect(try await simple.get() == 2)
        return hops - before
    }

    /// Waits on `semaphore` until another party releases it; whether it resumed on this actor.
    func suspendAndResume(_ semaphore: Threading.Semaphore) async throws -> Bool {
        let before = hops
        #expect(try await semaphore.acquire(timeout: safetyTimeout))
        dispatchPrecondition(condition: .onQueue(executor.queue))
        return hops > before
    }
}

@Suite struct AsyncExecutorTests {
    @Test func test_own_async_twins_completing_at_once_stay_on_the_actor() async throws {
        let thread = Threading.Thread(target: {})
        try thread.start()
        try await thread.join()
        let actor = CountedActor()
        #expect(try await actor.twinsThatCompleteAtOnce(thread: thread) == 0)
    }

    @Test func test_own_async_twin_resumes_on_the_actor() async throws {
        let semaphore = try Threading.Semaphore(0)
        let actor = CountedActor()
        let releaser = RawThread {
            eventuallyBlocking { waiterCount(semaphore) == 1 }
            try! semaphore.release()
        }
        #expect(try await actor.suspendAndResume(semaphore))
        releaser.join()
    }
}
