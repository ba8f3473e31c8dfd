// wait(_:timeout:returnWhen:): CPython 3.13's Lib/test/test_concurrent_futures/test_wait.py
// (WaitTests, ThreadPoolWaitTests), ported, plus the deliberate difference (a future cancelled
// before it ran is done, python/cpython#92001 and #87893) and the timeout arguments.
//
// Where CPython's test_first_completed and test_first_exception_some_already_complete expect
// CANCELLED_FUTURE (cancelled, never seen by a worker) among the pending futures, these ports
// expect it among the done ones: that is the bug this package does not copy.

import Testing

@testable import Threading

/// CPython's `sleep_and_raise`.
@Sendable func sleepAndRaise(_ t: Double) throws -> Int {
    sleep(seconds: t)
    throw TestException(args: "this is an exception")
}

/// A pool for one test, shut down (waiting) at the end.
func withPool<R>(_ maxWorkers: Int = 5, _ body: (ThreadPoolExecutor) throws -> R) throws -> R {
    try withThreadPoolExecutor(maxWorkers: maxWorkers, body)
}

@Suite struct WaitTests {
    @Test func test_20369() throws {
        try withPool { executor in
            let future = try executor.submit { sleep(seconds: 0.3) }
            let (done, notDone) = try wait([future, future], returnWhen: .allCompleted)
            #expect(done == [future])
            #expect(notDone.isEmpty)
        }
    }

    @Test func test_first_completed() throws {
        try withPool { executor in
            let cancelled = Future<Int>()
            cancelled.cancel()
            let future1 = try executor.submit { 21 * 2 }
            let future2 = try executor.submit {
                sleep(seconds: 0.5)
                return 0
            }
            _ = try future1.result()
            let (done, notDone) = try wait([cancelled, future1, future2], returnWhen: .firstCompleted)
            // CPython: done == {future1}, not_done == {CANCELLED_FUTURE, future2} (#92001).
            #expect(done == [cancelled, future1])
            #expect(notDone == [future2])
        }
    }

    @Test func test_first_completed_waits_for_one() throws {
        // The same without any future done beforehand: it returns at the first completion.
        try withPool { executor in
            let future1 = try executor.submit {
                sleep(seconds: 0.1)
                return 42
            }
            let future2 = try executor.submit {
                sleep(seconds: 3)
                return 0
            }
            let elapsed = try measure {
                let (done, notDone) = try wait([future1, future2], returnWhen: .firstCompleted)
                #expect(done == [future1])
                #expect(notDone == [future2])
            }
            #expect(elapsed >= 0.06 && elapsed < 2.5)
        }
    }

    @Test func test_first_completed_some_already_completed() throws {
        try withPool { executor in
            let cancelledNotified = cancelledAndNotifiedFuture()
            let successful = successfulFuture()
            let future1 = try executor.submit {
                sleep(seconds: 0.5)
                return 0
            }
            let (finished, pending) = try wait(
                [cancelledNotified, successful, future1],
                returnWhen: .firstCompleted
            )
            #expect(finished == [cancelledNotified, successful])
            #expect(pending == [future1])
        }
    }

    @Test func test_first_exception() throws {
        try withPool { executor in
            let future1 = try executor.submit { 2 * 21 }
            let future2 = try executor.submit { try sleepAndRaise(0.3) }
            let future3 = try executor.submit {
                sleep(seconds: 3)
                return 0
            }
            let (finished, pending) = try wait([future1, future2, future3], returnWhen: .firstException)
            #expect(finished == [future1, future2])
            #expect(pending == [future3])
        }
    }

    @Test func test_first_exception_some_already_complete() throws {
        try withPool { executor in
            let successful = successfulFuture()
            let cancelled = cancelledFuture()
            let cancelledNotified = cancelledAndNotifiedFuture()
            let future1 = try executor.submit { () throws -> Int in throw TestException(args: "division by zero") }
            let future2 = try executor.submit {
                sleep(seconds: 0.5)
                return 0
            }
            let (finished, pending) = try wait(
                [successful, cancelled, cancelledNotified, future1, future2],
                returnWhen: .firstException
            )
            // CPython: CANCELLED_FUTURE pending (#92001).
            #expect(finished == [successful, cancelled, cancelledNotified, future1])
            #expect(pending == [future2])
        }
    }

    @Test func test_first_exception_one_already_failed() throws {
        try withPool { executor in
            let failed = exceptionFuture()
            let future1 = try executor.submit {
                sleep(seconds: 0.5)
                return 0
            }
            let (finished, pending) = try wait([failed, future1], returnWhen: .firstException)
            #expect(finished == [failed])
            #expect(pending == [future1])
        }
    }

    @Test func test_all_completed() throws {
        try withPool { executor in
            let successful = successfulFuture()
            let cancelledNotified = cancelledAndNotifiedFuture()
            let failed = exceptionFuture()
            let future1 = try executor.submit { () throws -> Int in throw TestException(args: "division by zero") }
            let future2 = try executor.submit { 2 * 21 }
            let (finished, pending) = try wait(
                [successful, cancelledNotified, failed, future1, future2],
                returnWhen: .allCompleted
            )
            #expect(finished == [successful, cancelledNotified, failed, future1, future2])
            #expect(pending.isEmpty)
        }
    }

    @Test func allCompletedWaitsForFuturesFinishingInAnyOrder() throws {
        // Without waiters, `.allCompleted` waits on each unfinished future in turn (the last
        // first): the first ones finishing last must still be waited for.
        let executor = try ThreadPoolExecutor(maxWorkers: 4)
        for _ in 0..<20 {
            let gates = (0..<4).map { _ in Event() }
            let futures = try gates.map { gate in try executor.submit { _ = try gate.wait(timeout: 60) } }
            let opener = RawThread {
                for gate in gates.reversed() {
                    sleep(seconds: 0.001)
                    gate.set()
                }
            }
            let (done, notDone) = try wait(futures, returnWhen: .allCompleted)
            #expect(done == futures)
            #expect(notDone.isEmpty)
            #expect(futures.allSatisfy { $0.isDone })
            opener.join()
        }
        executor.shutdown()
    }

    @Test func allCompletedTimeoutWhileTheLastIsDone() throws {
        // The last future is done, an earlier one never is: the timeout still applies.
        let never = Future<Int>()
        let done = successfulFuture()
        var result: (done: [Future<Int>], notDone: [Future<Int>]) = ([], [])
        let elapsed = try measure { result = try wait([never, done], timeout: 0.05) }
        expectTimeout(elapsed, 0.05)
        #expect(result.done == [done])
        #expect(result.notDone == [never])
    }

    @Test func test_timeout() throws {
        try withPool { executor in
            let shortTimeout = 0.050
            let longTimeout = shortTimeout * 10
            let cancelledNotified = cancelledAndNotifiedFuture()
            let failed = exceptionFuture()
            let successful = successfulFuture()
            let future = try executor.submit {
                sleep(seconds: longTimeout)
                return 0
            }
            var result: (done: [Future<Int>], notDone: [Future<Int>]) = ([], [])
            let elapsed = try measure {
                result = try wait(
                    [cancelledNotified, failed, successful, future],
                    timeout: shortTimeout,
                    returnWhen: .allCompleted
                )
            }
            #expect(result.done == [cancelledNotified, failed, successful])
            #expect(result.notDone == [future])
            expectTimeout(elapsed, shortTimeout)
        }
    }

    @Test func test_pending_calls_race() throws {
        // Issue #14406: 100 futures released at once.
        try withPool { executor in
            let event = Event()
            let fs = try (0..<100).map { _ in try executor.submit { _ = try event.wait() } }
            event.set()
            let (done, notDone) = try wait(fs, returnWhen: .allCompleted)
            #expect(done.count == 100)
            #expect(notDone.isEmpty)
        }
    }

    // MARK: The deliberate difference: cancelled futures are done

    @Test func cancelledFutureIsDoneForWait() throws {
        // python/cpython#92001: CPython reports it not done, and without a timeout hangs.
        let f = Future<Int>()
        f.cancel()
        let (done, notDone) = try wait([f], timeout: 0.3)
        #expect(done == [f])
        #expect(notDone.isEmpty)
        let (done2, _) = try wait([f])  // no timeout: returns at once
        #expect(done2 == [f])
    }

    @Test func cancelWakesWait() throws {
        let f = Future<Int>()
        let g = Future<Int>()
        let t = RawThread {
            sleep(seconds: 0.1)
            f.cancel()
            g.cancel()
        }
        let (done, notDone) = try wait([f, g], timeout: 60)
        t.join()
        #expect(done == [f, g])
        #expect(notDone.isEmpty)
    }

    @Test func cancelFuturesShutdownFuturesAreDone() throws {
        // python/cpython#87893: after shutdown(cancelFutures: true), CPython's wait never sees
        // the cancelled futures as done.
        let executor = try ThreadPoolExecutor(maxWorkers: 1)
        let gate = Event()
        let started = Event()
        let a = try executor.submit {
            started.set()
            _ = try gate.wait(timeout: 60)
        }
        let b = try executor.submit {}
        _ = try started.wait(timeout: 60)
        executor.shutdown(wait: false, cancelFutures: true)
        #expect(b.isCancelled)
        let (done, notDone) = try wait([b], timeout: 0.3)
        #expect(done == [b])
        #expect(notDone.isEmpty)
        gate.set()
        _ = try a.result(timeout: 60)
        executor.shutdown()
    }

    // MARK: Edge cases and arguments

    @Test func emptyList() throws {
        let (done, notDone) = try wait([Future<Int>]())
        #expect(done.isEmpty && notDone.isEmpty)
    }

    @Test func timeoutArguments() throws {
        let f = Future<Int>()
        expectThreadingError(.valueError, "Invalid value NaN (not a number)") { try wait([f], timeout: .nan) }
        expectThreadingError(.overflowError, "timeout value is too large") { try wait([f], timeout: .infinity) }
        // Zero and negative do not wait.
        for timeout in [0.0, -1.0, -.infinity] {
            let (done, notDone) = try wait([f], timeout: timeout)
            #expect(done.isEmpty && notDone == [f])
        }
        // Nothing to wait for: the timeout is not looked at.
        try f.setResult(1)
        let (done, _) = try wait([f], timeout: .nan)
        #expect(done == [f])
    }

    @Test func duplicatesCountedOnceInOrder() throws {
        let fs = (0..<20).map { _ in Future<Int>() }
        for f in fs.prefix(10) { try f.setResult(1) }
        let input = fs + fs.reversed() + fs
        let (done, notDone) = try wait(input, timeout: 0)
        #expect(done == Array(fs.prefix(10)))
        #expect(notDone == Array(fs.suffix(10)))
        let small = [fs[0], fs[15], fs[0], fs[15], fs[1]]
        let (done2, notDone2) = try wait(small, timeout: 0)
        #expect(done2 == [fs[0], fs[1]])
        #expect(notDone2 == [fs[15]])
    }

    @Test func firstExceptionWithoutFailureWaitsForAll() throws {
        let fs = (0..<3).map { _ in Future<Int>() }
        let t = RawThread {
            for f in fs {
                sleep(seconds: 0.05)
                try? f.setResult(1)
            }
        }
        let (done, notDone) = try wait(fs, timeout: 60, returnWhen: .firstException)
        t.join()
        #expect(done == fs)
        #expect(notDone.isEmpty)
    }

    @Test func waiterUnregisteredAfterTimeout() throws {
        // A timed-out wait leaves nothing behind: completing the future later wakes no one and
        // a second wait works.
        let f = Future<Int>()
        for _ in 0..<3 { _ = try wait([f], timeout: 0.01) }
        try f.setResult(1)
        let (done, _) = try wait([f], timeout: 1)
        #expect(done == [f])
    }

    @Test func manyThreadsWaitOnOverlappingFutures() throws {
        let fs = (0..<50).map { _ in Future<Int>() }
        let counts = SharedList<Int>()
        let bunch = Bunch(8) {
            let (done, notDone) = try wait(fs, timeout: 60)
            #expect(notDone.isEmpty)
            counts.append(done.count)
        }
        bunch.waitForStarted()
        for (i, f) in fs.enumerated() {
            if i % 3 == 0 { f.cancel() } else { try f.setResult(i) }
        }
        bunch.join()
        #expect(counts.values == Array(repeating: 50, count: 8))
    }

    /// Done and pending futures interleaved: each list keeps the order of `futures`, whatever
    /// the element type (the split runs unspecialized).
    @Test(arguments: [0.0, 0.01])
    func doneAndNotDoneKeepTheOrderOfTheFutures(timeout: Double) throws {
        let futures = (0..<7).map { _ in Future<String>() }
        for i in [0, 2, 3, 6] {
            #expect(try futures[i].setRunningOrNotifyCancel())
            try futures[i].setResult("\(i)")
        }
        let (done, notDone) = try wait(futures, timeout: timeout, returnWhen: .allCompleted)
        #expect(done == [futures[0], futures[2], futures[3], futures[6]])
        #expect(notDone == [futures[1], futures[4], futures[5]])
        let (none, all) = try wait(Array(futures[4...5]), timeout: timeout)
        #expect(none.isEmpty)
        #expect(all == [futures[4], futures[5]])
    }
}
