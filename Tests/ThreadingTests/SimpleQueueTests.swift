// CPython's BaseSimpleQueueTest and CSimpleQueueTest (Lib/test/test_queue.py), ported, plus the
// error paths, first-come-first-served service of blocked getters and the release of items
// outside the lock.

import Synchronization
import Testing

@testable import Threading

/// Feeds `inputs` to `q` from `n` threads and drains it with `n` consumers (CPython's
/// `run_threads`); returns what the consumers got.
private func runThreads(
    _ n: Int,
    _ q: SimpleQueue<Int?>,
    _ inputs: [Int],
    consume: @escaping @Sendable (SimpleQueue<Int?>) throws -> Int?
) -> [Int] {
    let seq = Protected<[Int]>(inputs.reversed())
    let results = SharedList<Int>()
    let feeders = Bunch(n) {
        var random = SystemRandomNumberGenerator()
        while true {
            guard let value = seq.withLock({ $0.popLast() }) else {
                q.put(nil)
                return
            }
            q.put(value)
            if Double.random(in: 0..<1, using: &random) > 0.5 {
                sleep(seconds: Double.random(in: 0..<1, using: &random) * 1e-3)
            }
        }
    }
    let consumers = Bunch(n) {
        while let value = try consume(q) { results.append(value) }
    }
    feeders.join()
    consumers.join()
    #expect(q.isEmpty)
    #expect(q.qsize() == 0)
    return results.values
}

/// An item that runs `onDeinit` when released.
private final class Tracked: Sendable {
    let onDeinit: @Sendable () -> Void
    init(_ onDeinit: @escaping @Sendable () -> Void = {}) { self.onDeinit = onDeinit }
    deinit { onDeinit() }
}

@Suite struct SimpleQueueTests {
    @Test func test_basic() throws {
        let q = SimpleQueue<Int>()
        #expect(q.isEmpty)
        #expect(q.qsize() == 0)
        q.put(1)
        #expect(!q.isEmpty)
        #expect(q.qsize() == 1)
        q.put(2)
        q.putNowait(3)
        q.put(4)
        #expect(!q.isEmpty)
        #expect(q.qsize() == 4)

        #expect(try q.get() == 1)
        #expect(q.qsize() == 3)
        #expect(try q.getNowait() == 2)
        #expect(q.qsize() == 2)
        #expect(try q.get(block: false) == 3)
        #expect(!q.isEmpty)
        #expect(q.qsize() == 1)
        #expect(try q.get(timeout: 0.1) == 4)
        #expect(q.isEmpty)
        #expect(q.qsize() == 0)

        expectThreadingError(.empty, "") { try q.get(block: false) }
        expectThreadingError(.empty, "") { try q.get(timeout: 1e-3) }
        expectThreadingError(.empty, "") { try q.getNowait() }
        #expect(q.isEmpty)
        #expect(q.qsize() == 0)
    }

    @Test func test_negative_timeout_raises_exception() throws {
        let q = SimpleQueue<Int>()
        q.put(1)
        expectThreadingError(.valueError, "'timeout' must be a non-negative number") { try q.get(timeout: -1) }
        #expect(q.qsize() == 1)
    }

    @Test func test_order() {
        let q = SimpleQueue<Int?>()
        let inputs = Array(0..<100)
        let results = runThreads(1, q, inputs) { try $0.get() }
        #expect(results == inputs)
    }

    @Test func test_many_threads() {
        let q = SimpleQueue<Int?>()
        let inputs = Array(0..<10_000)
        let results = runThreads(50, q, inputs) { try $0.get() }
        #expect(results.sorted() == inputs)
    }

    @Test func test_many_threads_nonblock() {
        let q = SimpleQueue<Int?>()
        let inputs = Array(0..<10_000)
        let results = runThreads(50, q, inputs) { q in
            while true {
                do { return try q.get(block: false) } catch let error as ThreadingError where error.kind == .empty {
                    sleep(seconds: 1e-5)
                }
            }
        }
        #expect(results.sorted() == inputs)
    }

    @Test func test_many_threads_timeout() {
        let q = SimpleQueue<Int?>()
        let inputs = Array(0..<1_000)
        let results = runThreads(50, q, inputs) { q in
            while true {
                do { return try q.get(timeout: 1e-5) } catch let error as ThreadingError where error.kind == .empty {}
            }
        }
        #expect(results.sorted() == inputs)
    }

    /// The queue lets go of an item as soon as it is got.
    @Test func test_references() throws {
        let q = SimpleQueue<Tracked>()
        for _ in 0..<20 { q.put(Tracked()) }
        for _ in 0..<20 {
            weak let item = try q.get()
            #expect(item == nil)
        }
    }

    /// CPython's test_reentrancy, for Swift: an item's `deinit` puts into the queue it came from.
    /// It runs after the queue's lock is released, so it cannot deadlock, and nothing is lost.
    @Test func test_reentrancy() throws {
        let q = SimpleQueue<Tracked?>()
        let n = 10_000
        let produced = Counter()
        for _ in 0..<n {
            q.put(
                Tracked {
                    q.put(nil)
                    produced.increment()
                }
            )
            _ = try q.get()  // the item dies here, outside the lock, and puts `nil`
            #expect(try q.getNowait() == nil)
        }
        #expect(produced.current == n)
        #expect(q.isEmpty)
        // Items still queued when the queue goes away are released with it.
        let released = Counter()
        do {
            let doomed = SimpleQueue<Tracked>()
            for _ in 0..<100 { doomed.put(Tracked { released.increment() }) }
        }
        #expect(released.current == 100)
    }

    /// `put` ignores `block` and `timeout`, as CPython's does, however odd they are.
    @Test func putIgnoresItsArguments() throws {
        let q = SimpleQueue<Int>()
        q.put(1, block: false, timeout: -1)
        q.put(2, timeout: .nan)
        q.put(3, timeout: .infinity)
        #expect(q.qsize() == 3)
        #expect(try q.get() == 1)
    }

    /// A blocking `get` with a timeout checks it before looking for an item, in CPython's order;
    /// a non-blocking one ignores it.
    @Test func timeoutErrors() throws {
        let q = SimpleQueue<Int>()
        q.put(7)
        expectThreadingError(.valueError, "Invalid value NaN (not a number)") { try q.get(timeout: .nan) }
        expectThreadingError(.overflowError, "timeout value is too large") { try q.get(timeout: .infinity) }
        expectThreadingError(.overflowError, "timeout value is too large") { try q.get(timeout: -.infinity) }
        expectThreadingError(.overflowError, "timeout value is too large") { try q.get(timeout: 1e300) }
        expectThreadingError(.valueError, "'timeout' must be a non-negative number") { try q.get(timeout: -0.5) }
        #expect(q.qsize() == 1)
        #expect(try q.get(block: false, timeout: -1) == 7)
        q.put(8)
        #expect(try q.get(block: false, timeout: .nan) == 8)
        q.put(9)
        #expect(try q.get(timeout: 0) == 9)
        expectThreadingError(.empty, "") { try q.get(timeout: 0) }
        expectThreadingError(.empty, "") { try q.get(block: false, timeout: .nan) }
        q.put(10)
        #expect(try q.get(timeout: timeoutMax) == 10)
    }

    @Test func timedGetWaitsItsTimeout() {
        let q = SimpleQueue<Int>()
        let elapsed = measure { expectThreadingError(.empty, "") { try q.get(timeout: 0.1) } }
        expectTimeout(elapsed, 0.1)
        // The queue is usable afterwards: no waiter is left counted.
        q.put(1)
        #expect((try? q.get(timeout: 1)) == 1)
    }

    /// A blocked `get` returns the item a later `put` brings.
    @Test func blockedGetIsReleasedByPut() throws {
        let q = SimpleQueue<Int>()
        let started = Event()
        let thread = RawThread {
            sleep(seconds: 0.1)
            started.set()
            q.put(5)
        }
        let item = try q.get()
        #expect(started.isSet, "get() appeared not to block")
        #expect(item == 5)
        thread.join()
    }

    /// Blocked getters are served first come, first served: the i-th getter to block gets the i-th
    /// item, and a getter that arrives while an item is on its way to a woken one cannot take it.
    @Test func blockedGettersAreServedInOrder() throws {
        let q = SimpleQueue<Int>()
        let order = SharedList<(getter: Int, item: Int)>()
        var threads: [RawThread] = []
        for getter in 0..<5 {
            threads.append(RawThread { order.append((getter, try! q.get())) })
            // In line before the next one starts (a fixed sleep was not enough on a loaded machine).
            #expect(pollUntil(seconds: 30) { ParkingLot.waiterCount(on: q.key) == getter + 1 })
        }
        for item in 0..<5 {
            q.put(item)
            while order.count <= item { sleep(seconds: 0.001) }
        }
        for thread in threads { thread.join() }
        #expect(order.values.map(\.getter) == Array(0..<5))
        #expect(order.values.map(\.item) == Array(0..<5))
    }

    /// Items put while getters are blocked are reserved for them, oldest getter first, even when
    /// a non-blocking getter comes in between.
    @Test func reservedItemsAreNotStolen() throws {
        let q = SimpleQueue<Int>()
        let got = SharedList<Int>()
        let getters = spawn(3) { _ in got.append(try! q.get()) }
        waitThreadsBlocked(3)
        for i in 0..<3 { q.put(i) }
        // All three items belong to the woken getters: a fourth caller finds the queue empty
        // unless they already took theirs.
        if q.qsize() > 0 { expectThreadingError(.empty, "") { try q.getNowait() } }
        for thread in getters { thread.join() }
        #expect(got.values.sorted() == [0, 1, 2])
        #expect(q.isEmpty)
    }

    /// Getters that time out while items arrive leave no count behind: later items go to later
    /// getters and every item is got exactly once.
    @Test func timeoutsRacingPuts() throws {
        let q = SimpleQueue<Int>()
        let got = SharedList<Int>()
        let n = 2_000
        let consumers = Bunch(4) {
            while got.count < n {
                if let item = try? q.get(timeout: 0.0005) { got.append(item) }
            }
        }
        for i in 0..<n {
            q.put(i)
            if i % 64 == 0 { sleep(seconds: 0.0003) }
        }
        consumers.join()
        #expect(got.values.sorted() == Array(0..<n))
        #expect(q.qsize() == 0)
    }

    /// Objects put by some threads and got and dropped by others: each is released exactly once
    /// (see `QueueTests.objectsCrossingThreadsAreReleasedExactlyOnce`).
    @Test func objectsCrossingThreadsAreReleasedExactlyOnce() {
        let q = SimpleQueue<TrackedItem>()
        passObjectsBetweenThreads(put: { q.put($0) }, get: { _ = try! q.get() })
        #expect(q.qsize() == 0)
    }
}
