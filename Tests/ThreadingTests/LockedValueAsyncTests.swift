// The async twin of `LockedValue.withLock(when:timeout:_:)`: tasks and threads waiting on
// conditions of one value, evaluated by whoever leaves the lock.

import Testing

@testable import Threading

@Suite(.serialized) struct LockedValueAsyncTests {
    @Test func test_own_async_when_satisfied_by_thread() async throws {
        let stock = LockedValue(0)
        let producer = RawThread {
            eventuallyBlocking { stock.withLock { _ in true } && waiterTotal(stock) == 1 }
            stock.withLock { $0 += 1 }
        }
        let taken = try await stock.withLock(
            when: { $0 > 0 },
            timeout: safetyTimeout,
            { count -> Int in
                count -= 1
                return 7
            }
        )
        producer.join()
        #expect(taken == 7)
        #expect(stock.withLock { $0 } == 0)
    }

    @Test func test_own_async_when_satisfied_by_task_in_order() async throws {
        let queue = LockedValue<[Int]>([])
        let got = SharedList<String>()
        let first = Task {
            let item = try await queue.withLock(when: { !$0.isEmpty }) { $0.removeFirst() }
            got.append("task \(item ?? -1)")
        }
        #expect(await eventually { waiterTotal(queue) == 1 })
        let thread = RawThread {
            let item = try! queue.withLock(when: { !$0.isEmpty }, timeout: safetyTimeout) { $0.removeFirst() }
            got.append("thread \(item ?? -1)")
        }
        #expect(await eventually { waiterTotal(queue) == 2 })
        await Task { queue.withLock { $0.append(1) } }.value
        #expect(await eventually { got.count == 1 })
        queue.withLock { $0.append(2) }
        try await first.value
        thread.join()
        #expect(got.values == ["task 1", "thread 2"])
    }

    @Test func test_own_async_when_timeout() async throws {
        let value = LockedValue(0)
        let start = monotonicSeconds()
        let result = try await value.withLock(when: { $0 > 0 }, timeout: .milliseconds(100), { _ in 1 })
        #expect(result == nil)
        #expect(monotonicSeconds() - start >= 0.1)
        #expect(waiterTotal(value) == 0)
        #expect(try await value.withLock(when: { $0 == 0 }, timeout: 0, { _ in 2 }) == 2)
        await #expect(throws: ThreadingError.self) {
            _ = try await value.withLock(when: { _ in false }, timeout: .nan, { _ in 0 })
        }
    }

    @Test func test_own_async_when_cancelled_loses_nothing() async throws {
        let stock = LockedValue(0)
        let task = Task {
            try await stock.withLock(when: { $0 > 0 }) { count -> Bool in
                count -= 1
                return true
            }
        }
        #expect(await eventually { waiterTotal(stock) == 1 })
        let behind = Counter()
        let thread = RawThread {
            if try! stock.withLock(
                when: { $0 > 0 },
                timeout: safetyTimeout,
                { count -> Bool in
                    count -= 1
                    return true
                }
            ) == true {
                behind.increment()
            }
        }
        #expect(await eventually { waiterTotal(stock) == 2 })
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        stock.withLock { $0 += 1 }  // reaches the thread behind the cancelled task
        thread.join()
        #expect(behind.current == 1)
        #expect(stock.withLock { $0 } == 0)
    }

    @Test func test_own_async_when_cancellation_storm() async throws {
        let stock = LockedValue(0)
        let total = 300
        let produced = 150
        let taken = Counter()
        let cancelled = Counter()
        var tasks: [Task<Void, Never>] = []
        for _ in 0..<total {
            tasks.append(
                Task {
                    do {
                        if try await stock.withLock(
                            when: { $0 > 0 },
                            { count -> Bool in
                                count -= 1
                                return true
                            }
                        ) == true {
                            taken.increment()
                        }
                    } catch {
                        cancelled.increment()
                    }
                }
            )
        }
        #expect(await eventually { waiterTotal(stock) == total })
        let producer = RawThread { for _ in 0..<produced { stock.withLock { $0 += 1 } } }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
        producer.join()
        #expect(taken.current + cancelled.current == total)
        #expect(taken.current + stock.withLock { $0 } == produced)
        #expect(waiterTotal(stock) == 0)
    }
}

/// How many threads and tasks wait in `withLock(when:)` on `value`.
private func waiterTotal<Value>(_ value: LockedValue<Value>) -> Int {
    value.lock()
    defer { value.unlock() }
    var count = 0
    var node = value.waiters.head
    while let current = node {
        count += 1
        node = current.pointee.next
    }
    return count
}
