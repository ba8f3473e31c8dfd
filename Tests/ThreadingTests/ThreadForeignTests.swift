// Dummy threads from each kind of foreign thread: a Dispatch worker, a Swift-concurrency worker
// (a Task), a Foundation thread. (Raw pthreads: ThreadTests.test_foreign_thread.) Foundation is
// imported here, so `Thread` and `Timer` are written `Threading.Thread` and `Threading.Timer`.
//
// Dispatch and Swift-concurrency workers are pooled: they end when the pool lets them go idle,
// which a test cannot force. Their tests check the dummy thread, then watch the worker for a while:
// if the kernel shows it has ended, its dummy must have left `enumerate()`.

import Dispatch
import Foundation
import Synchronization
import Testing

@testable import Threading

/// What a foreign thread saw of its own dummy thread.
struct DummyFacts: Sendable {
    var dummy: Threading.Thread
    var ident: UInt
    var nativeID: UInt
    var enumerated: Bool
    var alive: Bool
    var stable: Bool
    var createdThreadIsDaemon: Bool
    var description: String
}

/// Collects `DummyFacts` on the calling (foreign) thread.
func observeDummy() -> DummyFacts {
    let dummy = currentThread()
    return DummyFacts(
        dummy: dummy,
        ident: getIdent(),
        nativeID: getNativeID(),
        enumerated: enumerate().contains { $0 === dummy },
        alive: dummy.isAlive,
        stable: currentThread() === dummy,
        createdThreadIsDaemon: Threading.Thread().daemon,
        description: dummy.description
    )
}

/// The checks common to every kind of foreign thread.
func checkDummy(_ facts: DummyFacts, sourceLocation: SourceLocation = #_sourceLocation) {
    let dummy = facts.dummy
    #expect(dummy.name.hasPrefix("Dummy-"), "\(dummy.name)", sourceLocation: sourceLocation)
    #expect(Int(dummy.name.dropFirst("Dummy-".count)) != nil, sourceLocation: sourceLocation)
    #expect(dummy.ident == facts.ident, sourceLocation: sourceLocation)
    #expect(dummy.nativeID == facts.nativeID, sourceLocation: sourceLocation)
    #expect(dummy.daemon, sourceLocation: sourceLocation)
    #expect(facts.enumerated, sourceLocation: sourceLocation)
    #expect(facts.alive, sourceLocation: sourceLocation)
    #expect(facts.stable, sourceLocation: sourceLocation)
    #expect(facts.createdThreadIsDaemon, sourceLocation: sourceLocation)
    #expect(
        facts.description == "<_DummyThread(\(dummy.name), started daemon \(facts.ident))>",
        sourceLocation: sourceLocation
    )
    expectThreadingError(.runtimeError, "cannot join a dummy thread", sourceLocation: sourceLocation) {
        try dummy.join()
    }
}

/// Watches a pooled worker for up to `seconds`: once the kernel no longer lists it, its dummy
/// must be gone from `enumerate()` (the slot's destructor ran before the thread ended).
func checkDummyLeavesWithPooledWorker(
    _ facts: DummyFacts,
    seconds: Double,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let ended = pollUntil(seconds: seconds) { !kernelThreadExists(nativeID: facts.nativeID) }
    if ended {
        #expect(
            !enumerate().contains { $0 === facts.dummy },
            "the worker ended, its dummy thread stayed",
            sourceLocation: sourceLocation
        )
        #expect(!facts.dummy.isAlive, sourceLocation: sourceLocation)
    } else {
        // Still a pooled worker: its dummy stays as long as it runs.
        #expect(
            enumerate().contains { $0 === facts.dummy },
            "the worker runs, its dummy thread left",
            sourceLocation: sourceLocation
        )
    }
}

extension ThreadTests {
    @Test func test_foreign_thread_dispatch_worker() throws {
        let done = DispatchSemaphore(value: 0)
        let result = Mutex<DummyFacts?>(nil)
        DispatchQueue(label: "swift-threading.tests.dummy").async {
            result.withLock { $0 = observeDummy() }
            done.signal()
        }
        #expect(done.wait(timeout: .now() + 120) == .success)
        let facts = try #require(result.withLock { $0 })
        checkDummy(facts)
        checkDummyLeavesWithPooledWorker(facts, seconds: 1)
    }

    /// A Task on the cooperative pool, awaited: a test that blocked a thread of the pool to wait
    /// for it could starve it, when a long test holds the pool's other thread (the pool has as
    /// many threads as CPUs, 2 here), until its timeout ran out and every task in the process
    /// with it (seen under ThreadSanitizer: a 120 s stall that failed 7 async tests).
    @Test func test_foreign_thread_task() async throws {
        let facts = await Task.detached { observeDummy() }.value
        checkDummy(facts)
        checkDummyLeavesWithPooledWorker(facts, seconds: 1)
    }

    /// A Foundation thread ends when its block returns: its dummy leaves within 5 s.
    @Test func test_foreign_thread_foundation() throws {
        let done = DispatchSemaphore(value: 0)
        let result = Mutex<DummyFacts?>(nil)
        let thread = Foundation.Thread {
            result.withLock { $0 = observeDummy() }
            done.signal()
        }
        thread.start()
        #expect(done.wait(timeout: .now() + 120) == .success)
        let facts = try #require(result.withLock { $0 })
        checkDummy(facts)
        #expect(
            pollUntil { !enumerate().contains { $0 === facts.dummy } },
            "the dummy thread outlived its Foundation thread by 5 s"
        )
        #expect(!facts.dummy.isAlive)
    }
}
