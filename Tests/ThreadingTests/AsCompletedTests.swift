// asCompleted(_:timeout:): CPython 3.13's Lib/test/test_concurrent_futures/test_as_completed.py
// (AsCompletedTests with the thread pool), ported, plus the deliberate difference (a cancelled
// future is yielded, python/cpython#87893), the order, and the timeout arguments.

import Testing

@testable import Threading

/// Every future `iterator` yields until it ends or throws; the error, if any.
func drain<T>(_ iterator: inout AsCompleted<T>) -> (yielded: [Future<T>], error: (any Error)?) {
    var yielded: [Future<T>] = []
    do {
        while let f = try iterator.next() { yielded.append(f) }
        return (yielded, nil)
    } catch {
        return (yielded, error)
    }
}

/// A weak reference to a future.
final class WeakFuture<T: Sendable> {
    weak var future: Future<T>?
    init(_ future: Future<T>) { self.future = future }
}

/// Takes the next future, removes it from `list`, and returns only a weak reference to it (the
/// strong ones end with this function).
func nextWeakly<T>(_ iterator: inout AsCompleted<T>, removingFrom list: inout [Future<T>]) throws -> WeakFuture<T>? {
    guard let future = try iterator.next() else { return nil }
    list.removeAll { $0 === future }
    return WeakFuture(future)
}

@Suite struct AsCompletedTests {
    @Test func test_no_timeout() throws {
        try withPool { executor in
            let cancelledNotified = cancelledAndNotifiedFuture()
            let failed = exceptionFuture()
            let successful = successfulFuture()
            let future1 = try executor.submit { 2 * 21 }
            let future2 = try executor.submit { 7 * 6 }
            var it = asCompleted([cancelledNotified, failed, successful, future1, future2])
            let (yielded, error) = drain(&it)
            #expect(error == nil)
            #expect(Set(yielded) == Set([cancelledNotified, failed, successful, future1, future2]))
            #expect(yielded.count == 5)
        }
    }

    @Test(arguments: [0.0, 0.1])
    func test_future_times_out(timeout: Double) throws {
        try withPool { executor in
            let alreadyCompleted = [cancelledAndNotifiedFuture(), exceptionFuture(), successfulFuture()]
            let future = try executor.submit {
                sleep(seconds: 1.0)
                return 0
            }
            var it = asCompleted(alreadyCompleted + [future], timeout: timeout)
            let (yielded, error) = drain(&it)
            #expect(yielded == alreadyCompleted)
            #expect((error as? ThreadingError)?.kind == .timeout)
            #expect((error as? ThreadingError)?.message == "1 (of 4) futures unfinished")
        }
    }

    @Test func test_duplicate_futures() throws {
        try withPool { executor in
            let future1 = try executor.submit { sleep(seconds: 0.3) }
            var it = asCompleted([future1, future1, future1])
            let (yielded, error) = drain(&it)
            #expect(error == nil)
            #expect(yielded == [future1])
        }
    }

    @Test func test_free_reference_yielded_future() throws {
        var futuresList = (0..<8).map { _ in Future<String>() }
        futuresList.append(Future())
        futuresList.last!.cancel()
        futuresList.append(Future())
        try futuresList.last!.setResult("42")

        var it = asCompleted(futuresList, timeout: 0)
        do {
            while let weakFuture = try nextWeakly(&it, removingFrom: &futuresList) {
                #expect(weakFuture.future == nil)
            }
            Issue.record("no timeout")
        } catch let error as ThreadingError {
            #expect(error.kind == .timeout)
        }
        #expect(futuresList.count == 8)
        #expect(try it.next() == nil)  // the iteration ended with its error

        try futuresList[0].setResult("test")
        var it2 = asCompleted(futuresList)
        while let weakFuture = try nextWeakly(&it2, removingFrom: &futuresList) {
            #expect(weakFuture.future == nil)
            if !futuresList.isEmpty { try futuresList[0].setResult("test") }
        }
        #expect(futuresList.isEmpty)
    }

    @Test func test_correct_timeout_exception_msg() {
        let futuresList = [cancelledAndNotifiedFuture(), pendingFuture(), runningFuture(), successfulFuture()]
        var it = asCompleted(futuresList, timeout: 0)
        let (yielded, error) = drain(&it)
        #expect(yielded.count == 2)
        #expect((error as? ThreadingError) == ThreadingError(.timeout, "2 (of 4) futures unfinished"))
    }

    // MARK: The deliberate difference, order, arguments

    @Test func cancelledFutureIsYielded() throws {
        // python/cpython#87893: CPython never yields a future cancelled before it ran.
        let f = Future<Int>()
        let g = Future<Int>()
        let t = RawThread {
            sleep(seconds: 0.05)
            g.cancel()
        }
        f.cancel()
        var it = asCompleted([f, g], timeout: 60)
        let (yielded, error) = drain(&it)
        t.join()
        #expect(error == nil)
        #expect(yielded == [f, g])
    }

    @Test func yieldsInCompletionOrder() throws {
        let fs = (0..<5).map { _ in Future<Int>() }
        let order = [3, 0, 4, 1, 2]
        let t = RawThread {
            for i in order {
                sleep(seconds: 0.02)
                try? fs[i].setResult(i)
            }
        }
        var it = asCompleted(fs, timeout: 60)
        var seen: [Int] = []
        while let f = try it.next() { seen.append(try f.result()) }
        t.join()
        #expect(seen == order)
    }

    @Test func timeoutCountsFromTheCall() throws {
        let f = Future<Int>()
        var it = asCompleted([f], timeout: 0.1)
        sleep(seconds: 0.15)
        let elapsed = measure { expectThreadingError(.timeout, "1 (of 1) futures unfinished") { try it.next() } }
        #expect(elapsed < 0.09, "the timeout restarted at next(): \(elapsed) s")
    }

    @Test func timeoutArgumentsCheckedWhenWaiting() throws {
        let done = successfulFuture()
        let pending = pendingFuture()
        var nan = asCompleted([done, pending], timeout: .nan)
        #expect(try nan.next() === done)  // no wait needed yet
        expectThreadingError(.valueError, "Invalid value NaN (not a number)") { try nan.next() }
        var huge = asCompleted([pending], timeout: .infinity)
        expectThreadingError(.overflowError, "timeout value is too large") { try huge.next() }
        var negative = asCompleted([pending], timeout: -5)
        expectThreadingError(.timeout, "1 (of 1) futures unfinished") { try negative.next() }
    }

    @Test func emptyAndAllDone() throws {
        var empty = asCompleted([Future<Int>]())
        #expect(try empty.next() == nil)
        let fs = [successfulFuture(), exceptionFuture()]
        var it = asCompleted(fs, timeout: 0)
        #expect(try it.next() === fs[0])
        #expect(try it.next() === fs[1])
        #expect(try it.next() == nil)
        #expect(try it.next() == nil)
    }

    @Test func droppedIteratorUnregisters() throws {
        let f = Future<Int>()
        do {
            let it = asCompleted([f])
            _ = it
        }
        try f.setResult(1)  // would tell a waiter that is gone: nothing happens
        #expect(f.isDone)
    }
}
