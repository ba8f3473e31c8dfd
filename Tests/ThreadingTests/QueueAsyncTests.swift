// The async twins of Queue.put/get/join and SimpleQueue.get: suspended tasks and parked threads in
// one first-come-first-served line, with cancellation (no item lost) and timeouts.

import Synchronization
import Testing

@testable import Threading

/// How many threads and tasks wait on `q` to get, to put and to join.
private func getters(_ q: AnyObject) -> Int { ParkingLot.waiterCount(on: parkingKey(q)) }
private func putters(_ q: AnyObject) -> Int { ParkingLot.waiterCount(on: parkingKey(q) + 1) }
private func joiners(_ q: AnyObject) -> Int { ParkingLot.waiterCount(on: parkingKey(q) + 2) }

@Suite(.serialized) struct QueueAsyncTests {
    @Test(arguments: QueueKind.allCases)
    func asyncPutGetUncontended(_ kind: QueueKind) async throws {
        let q = kind.make(2, of: Int.self)
        try await q.put(1)
        try await q.put(2, timeout: 1)
        await #expect(throws: ThreadingError(.full)) { try await q.put(3, block: false) }
        await #expect(throws: ThreadingError(.full)) { try await q.put(3, timeout: 0) }
        #expect(try await q.get() == (kind == .lifo ? 2 : 1))
        _ = try await q.get(timeout: 1)
        await #expect(throws: ThreadingError(.empty)) { try await q.get(block: false) }
        await #expect(throws: ThreadingError(.empty)) { try await q.get(timeout: 0) }
        await #expect(throws: ThreadingError.queueNegativeTimeout) { try await q.get(timeout: -1) }
        await #expect(throws: ThreadingError.queueNegativeTimeout) { try await q.put(1, timeout: -1) }
        await #expect(throws: ThreadingError.nanTimeout) { try await q.get(timeout: .nan) }
        await #expect(throws: ThreadingError.timeoutTooLarge) { try await q.get(timeout: .infinity) }
        #expect(q.unfinishedTasks == 2)
        try q.taskDone()
        try q.taskDone()
        try await q.join()
    }

    @Test func asyncGetReleasedByThreadAndTask() async throws {
        let q = Threading.Queue<Int>()
        let putter = RawThread {
            eventuallyBlocking { getters(q) == 1 }
            try! q.put(7)
        }
        #expect(try await q.get(timeout: 10) == 7)
        putter.join()
        let waiter = Task { try await q.get() }
        #expect(await eventually { getters(q) == 1 })
        try await q.put(8)
        #expect(try await waiter.value == 8)
        #expect(q.waitingGetters == 0 && q.reservedItems == 0)
    }

    @Test func asyncPutWaitsForRoom() async throws {
        let q = Threading.Queue<Int>(maxsize: 1)
        try await q.put(1)
        let waiter = Task { try await q.put(2) }
        #expect(await eventually { putters(q) == 1 })
        #expect(try await q.get() == 1)
        try await waiter.value
        #expect(try await q.get() == 2)
        #expect(q.waitingPutters == 0 && q.reservedRoom == 0)
    }

    /// Threads and tasks blocked on one queue are served in the order they came.
    @Test func threadTaskThreadFIFO() async throws {
        let q = Threading.Queue<Int>()
        let order = SharedList<String>()
        let first = RawThread {
            _ = try! q.get()
            order.append("thread 1")
        }
        #expect(await eventually { getters(q) == 1 })
        let task = Task {
            _ = try await q.get()
            order.append("task")
        }
        #expect(await eventually { getters(q) == 2 })
        let third = RawThread {
            _ = try! q.get()
            order.append("thread 2")
        }
        #expect(await eventually { getters(q) == 3 })
        for served in 1...3 {
            try await q.put(served)
            #expect(await eventually { order.count == served })
        }
        first.join()
        try await task.value
        third.join()
        #expect(order.values == ["thread 1", "task", "thread 2"])
    }

    /// A getter cancelled while in line throws CancellationError; the item goes to the next getter.
    @Test func cancelledGetterLosesNoItem() async throws {
        let q = Threading.Queue<Int>()
        let cancelled = Task { try await q.get() }
        #expect(await eventually { getters(q) == 1 })
        let next = Task { try await q.get() }
        #expect(await eventually { getters(q) == 2 })
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        #expect(await eventually { getters(q) == 1 })
        try await q.put(42)
        #expect(try await next.value == 42)
        #expect(q.qsize() == 0)
        #expect(q.waitingGetters == 0 && q.reservedItems == 0)
        // A task already cancelled that finds an item takes it; one that would wait throws at once.
        try await q.put(5)
        let late = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            let first = try await q.get()
            do {
                _ = try await q.get()
                return (first, false)
            } catch {
                return (first, error is CancellationError)
            }
        }
        let (first, threw) = try await late.value
        #expect(first == 5)
        #expect(threw)
        #expect(q.waitingGetters == 0)
    }

    /// A putter cancelled while waiting for room adds nothing; the room goes to the next putter.
    @Test func cancelledPutterAddsNothing() async throws {
        let q = Threading.Queue<Int>(maxsize: 1)
        try await q.put(0)
        let cancelled = Task { try await q.put(1) }
        #expect(await eventually { putters(q) == 1 })
        let next = Task { try await q.put(2) }
        #expect(await eventually { putters(q) == 2 })
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        #expect(try await q.get() == 0)
        try await next.value
        #expect(try await q.get() == 2)
        #expect(q.unfinishedTasks == 2)
        #expect(q.waitingPutters == 0 && q.reservedRoom == 0)
    }

    @Test func asyncTimeouts() async throws {
        let q = Threading.Queue<Int>(maxsize: 1)
        let start = monotonicSeconds()
        await #expect(throws: ThreadingError(.empty)) { try await q.get(timeout: 0.1) }
        expectAsyncTimeout(monotonicSeconds() - start, 0.1)
        try await q.put(1)
        let start2 = monotonicSeconds()
        await #expect(throws: ThreadingError(.full)) { try await q.put(2, timeout: 0.1) }
        expectAsyncTimeout(monotonicSeconds() - start2, 0.1)
        #expect(q.waitingGetters == 0 && q.waitingPutters == 0)
        #expect(try await q.get() == 1)
    }

    @Test func asyncShutdownWakesWaiters() async throws {
        let q = Threading.Queue<Int>(maxsize: 1)
        let getter = Task { try await q.get() }
        #expect(await eventually { getters(q) == 1 })
        q.shutdown()
        await #expect(throws: ThreadingError(.shutDown)) { try await getter.value }
        let q2 = Threading.Queue<Int>(maxsize: 1)
        try await q2.put(1)
        let putter = Task { try await q2.put(2) }
        #expect(await eventually { putters(q2) == 1 })
        q2.shutdown(immediate: true)
        await #expect(throws: ThreadingError(.shutDown)) { try await putter.value }
        #expect(q2.unfinishedTasks == 0)
    }

    @Test func asyncJoin() async throws {
        let q = Threading.Queue<Int>()
        try await q.join()  // nothing unfinished
        try await q.put(1)
        let joined = Task { try await q.join() }
        #expect(await eventually { joiners(q) == 1 })
        _ = try await q.get()
        try q.taskDone()
        try await joined.value
        // A cancelled join throws CancellationError and leaves nothing behind.
        try await q.put(2)
        let cancelled = Task { try await q.join() }
        #expect(await eventually { joiners(q) == 1 })
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        #expect(q.waitingJoiners == 0)
        // A blocking joiner is still released.
        let thread = RawThread { q.join() }
        #expect(await eventually { joiners(q) == 1 })
        _ = try await q.get()
        try q.taskDone()
        thread.join()
    }

    @Test func simpleQueueAsyncGet() async throws {
        let q = SimpleQueue<Int>()
        q.put(1)
        #expect(try await q.get() == 1)
        await #expect(throws: ThreadingError(.empty)) { try await q.get(block: false) }
        await #expect(throws: ThreadingError(.empty)) { try await q.get(timeout: 0.01) }
        await #expect(throws: ThreadingError.queueNegativeTimeout) { try await q.get(timeout: -1) }
        let cancelled = Task { try await q.get() }
        #expect(await eventually { getters(q) == 1 })
        let next = Task { try await q.get() }
        #expect(await eventually { getters(q) == 2 })
        let thread = RawThread { #expect(try! q.get() == 3) }
        #expect(await eventually { getters(q) == 3 })
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        q.put(2)
        #expect(try await next.value == 2)
        q.put(3)
        thread.join()
        #expect(q.waitingGetters == 0 && q.reserved == 0 && q.isEmpty)
    }

    /// Many producing and consuming tasks and threads over a bounded queue: every item once.
    @Test(arguments: QueueKind.allCases)
    func tasksAndThreadsExactCounts(_ kind: QueueKind) async throws {
        let q = kind.make(4, of: Int.self)
        let n = 2_000
        let got = SharedList<Int>()
        let produced = Counter()
        let threadProducer = RawThread {
            for i in 0..<n { try! q.put(i) }
            produced.increment()
        }
        let threadConsumer = RawThread {
            while let item = try? q.get() {
                got.append(item)
                try! q.taskDone()
            }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for i in n..<(2 * n) { try await q.put(i) }
            }
            for _ in 0..<2 {
                group.addTask {
                    while let item = try? await q.get() {
                        got.append(item)
                        try q.taskDone()
                    }
                }
            }
            #expect(await eventually(timeout: safetyTimeout) { produced.current == 1 })
            try await group.next()  // the producing task (or a consumer, which ends only on shutdown)
            try await q.join()
            q.shutdown()
            try await group.waitForAll()
        }
        threadProducer.join()
        threadConsumer.join()
        #expect(got.values.sorted() == Array(0..<(2 * n)))
    }
}
