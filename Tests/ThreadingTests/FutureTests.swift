// Future: CPython 3.13's Lib/test/test_concurrent_futures/test_future.py (FutureTests), ported,
// plus the error paths, the timeout arguments and waiters woken from many threads.
//
// CPython builds futures in internal states (`create_future(state=…)`); here each state is
// reached through the API: RUNNING by `setRunningOrNotifyCancel()`, CANCELLED by `cancel()`,
// CANCELLED_AND_NOTIFIED by `cancel()` then `setRunningOrNotifyCancel()`.

import Synchronization
import Testing

@testable import Threading

/// CPython's `OSError()` in the state tables.
struct OSError: Error, Equatable {}

/// CPython's `Exception('test')`.
struct TestException: Error, Equatable {
    var args: String
}

func pendingFuture() -> Future<Int> { Future() }

func runningFuture() -> Future<Int> {
    let f = Future<Int>()
    _ = try? f.setRunningOrNotifyCancel()
    return f
}

func cancelledFuture() -> Future<Int> {
    let f = Future<Int>()
    f.cancel()
    return f
}

func cancelledAndNotifiedFuture() -> Future<Int> {
    let f = cancelledFuture()
    _ = try? f.setRunningOrNotifyCancel()
    return f
}

func exceptionFuture() -> Future<Int> {
    let f = Future<Int>()
    try? f.setException(OSError())
    return f
}

func successfulFuture() -> Future<Int> {
    let f = Future<Int>()
    try? f.setResult(42)
    return f
}

/// A value set from another thread.
final class Box<Value: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: every access to `value` holds `lock`.
    private let lock = Protected<Value?>(nil)
    var value: Value? {
        get { lock.withLock { $0 } }
        set { lock.withLock { $0 = newValue } }
    }
}

/// Whether `description` is `<Future at 0x… state=…>` with `tail` after the address.
func matchesFutureRepr(_ description: String, _ tail: String) -> Bool {
    guard description.hasPrefix("<Future at 0x"), description.hasSuffix(" \(tail)>") else { return false }
    let hex = description.dropFirst("<Future at 0x".count).dropLast(tail.count + 2)
    return !hex.isEmpty && hex.allSatisfy { $0.isHexDigit && !$0.isUppercase }
}

@Suite struct FutureTests {
    // MARK: CPython's FutureTests

    @Test func test_done_callback_with_result() throws {
        let callbackResult = Box<Int>()
        let f = Future<Int>()
        f.addDoneCallback { callbackResult.value = try? $0.result() }
        try f.setResult(5)
        #expect(callbackResult.value == 5)
    }

    @Test func test_done_callback_with_exception() throws {
        let callbackException = Box<TestException>()
        let f = Future<Int>()
        f.addDoneCallback { callbackException.value = (try? $0.exception()) as? TestException }
        try f.setException(TestException(args: "test"))
        #expect(callbackException.value == TestException(args: "test"))
    }

    @Test func test_done_callback_with_cancel() {
        let wasCancelled = Box<Bool>()
        let f = Future<Int>()
        f.addDoneCallback { wasCancelled.value = $0.isCancelled }
        #expect(f.cancel())
        #expect(wasCancelled.value == true)
    }

    @Test func test_done_callback_raises() throws {
        // The log line goes to standard error; FutureChildTests checks its text.
        let raisingWasCalled = Counter()
        let fnWasCalled = Counter()
        let f = Future<Int>()
        f.addDoneCallback { (_: Future<Int>) throws in
            raisingWasCalled.increment()
            throw TestException(args: "doh!")
        }
        f.addDoneCallback { _ in fnWasCalled.increment() }
        try f.setResult(5)
        #expect(raisingWasCalled.current == 1)
        #expect(fnWasCalled.current == 1)
    }

    @Test func test_done_callback_already_successful() throws {
        let callbackResult = Box<Int>()
        let f = Future<Int>()
        try f.setResult(5)
        f.addDoneCallback { callbackResult.value = try? $0.result() }
        #expect(callbackResult.value == 5)
    }

    @Test func test_done_callback_already_failed() throws {
        let callbackException = Box<TestException>()
        let f = Future<Int>()
        try f.setException(TestException(args: "test"))
        f.addDoneCallback { callbackException.value = (try? $0.exception()) as? TestException }
        #expect(callbackException.value == TestException(args: "test"))
    }

    @Test func test_done_callback_already_cancelled() {
        let wasCancelled = Box<Bool>()
        let f = Future<Int>()
        #expect(f.cancel())
        f.addDoneCallback { wasCancelled.value = $0.isCancelled }
        #expect(wasCancelled.value == true)
    }

    @Test func test_done_callback_raises_already_succeeded() throws {
        let called = Counter()
        let f = Future<Int>()
        try f.setResult(5)
        f.addDoneCallback { (_: Future<Int>) throws in
            called.increment()
            throw TestException(args: "doh!")
        }
        #expect(called.current == 1)
    }

    @Test func test_repr() {
        #expect(matchesFutureRepr(pendingFuture().description, "state=pending"))
        #expect(matchesFutureRepr(runningFuture().description, "state=running"))
        #expect(matchesFutureRepr(cancelledFuture().description, "state=cancelled"))
        #expect(matchesFutureRepr(cancelledAndNotifiedFuture().description, "state=cancelled"))
        #expect(matchesFutureRepr(exceptionFuture().description, "state=finished raised OSError"))
        #expect(matchesFutureRepr(successfulFuture().description, "state=finished returned Int"))
    }

    @Test func test_cancel() {
        let f1 = pendingFuture()
        let f2 = runningFuture()
        let f3 = cancelledFuture()
        let f4 = cancelledAndNotifiedFuture()
        let f5 = exceptionFuture()
        let f6 = successfulFuture()

        #expect(f1.cancel())
        #expect(f1.isCancelled && f1.isDone)
        #expect(!f2.cancel())
        #expect(f2.isRunning && !f2.isDone)
        #expect(f3.cancel())
        #expect(f3.isCancelled)
        #expect(f4.cancel())
        #expect(f4.isCancelled)
        #expect(!f5.cancel())
        #expect(!f5.isCancelled && f5.isDone)
        #expect(!f6.cancel())
        #expect(!f6.isCancelled && f6.isDone)
    }

    @Test func test_cancelled() {
        #expect(!pendingFuture().isCancelled)
        #expect(!runningFuture().isCancelled)
        #expect(cancelledFuture().isCancelled)
        #expect(cancelledAndNotifiedFuture().isCancelled)
        #expect(!exceptionFuture().isCancelled)
        #expect(!successfulFuture().isCancelled)
    }

    @Test func test_done() {
        #expect(!pendingFuture().isDone)
        #expect(!runningFuture().isDone)
        #expect(cancelledFuture().isDone)
        #expect(cancelledAndNotifiedFuture().isDone)
        #expect(exceptionFuture().isDone)
        #expect(successfulFuture().isDone)
    }

    @Test func test_running() {
        #expect(!pendingFuture().isRunning)
        #expect(runningFuture().isRunning)
        #expect(!cancelledFuture().isRunning)
        #expect(!cancelledAndNotifiedFuture().isRunning)
        #expect(!exceptionFuture().isRunning)
        #expect(!successfulFuture().isRunning)
    }

    @Test func test_result_with_timeout() throws {
        expectThreadingError(.timeout, "") { try pendingFuture().result(timeout: 0) }
        expectThreadingError(.timeout, "") { try runningFuture().result(timeout: 0) }
        expectThreadingError(.cancelled, "") { try cancelledFuture().result(timeout: 0) }
        expectThreadingError(.cancelled, "") { try cancelledAndNotifiedFuture().result(timeout: 0) }
        #expect(throws: OSError()) { try exceptionFuture().result(timeout: 0) }
        #expect(try successfulFuture().result(timeout: 0) == 42)
    }

    @Test func test_result_with_success() throws {
        let f1 = pendingFuture()
        let t = RawThread {
            sleep(seconds: 0.2)  // until the main thread waits for the result
            try? f1.setResult(42)
        }
        #expect(try f1.result(timeout: 5) == 42)
        t.join()
    }

    @Test func test_result_with_cancel() throws {
        let f1 = pendingFuture()
        let t = RawThread {
            sleep(seconds: 0.2)
            f1.cancel()
        }
        expectThreadingError(.cancelled, "") { try f1.result(timeout: 60) }
        t.join()
    }

    @Test func test_exception_with_timeout() throws {
        expectThreadingError(.timeout, "") { try pendingFuture().exception(timeout: 0) }
        expectThreadingError(.timeout, "") { try runningFuture().exception(timeout: 0) }
        expectThreadingError(.cancelled, "") { try cancelledFuture().exception(timeout: 0) }
        expectThreadingError(.cancelled, "") { try cancelledAndNotifiedFuture().exception(timeout: 0) }
        #expect(try exceptionFuture().exception(timeout: 0) is OSError)
        #expect(try successfulFuture().exception(timeout: 0) == nil)
    }

    @Test func test_exception_with_success() throws {
        let f1 = pendingFuture()
        let t = RawThread {
            sleep(seconds: 0.2)
            try? f1.setException(OSError())
        }
        #expect(try f1.exception(timeout: 60) is OSError)
        t.join()
    }

    @Test func test_multiple_set_result() throws {
        let f = pendingFuture()
        try f.setResult(1)
        do {
            try f.setResult(2)
            Issue.record("no error")
        } catch let error as ThreadingError {
            #expect(error.kind == .invalidState)
            #expect(error.message.hasPrefix("FINISHED: "))
            #expect(
                matchesFutureRepr(String(error.message.dropFirst("FINISHED: ".count)), "state=finished returned Int")
            )
        }
        #expect(f.isDone)
        #expect(try f.result() == 1)
    }

    @Test func test_multiple_set_exception() throws {
        let f = pendingFuture()
        try f.setException(TestException(args: "first"))
        do {
            try f.setException(OSError())
            Issue.record("no error")
        } catch let error as ThreadingError {
            #expect(error.kind == .invalidState)
            #expect(error.message == "FINISHED: \(f.description)")
            #expect(matchesFutureRepr(f.description, "state=finished raised TestException"))
        }
        #expect(try f.exception() as? TestException == TestException(args: "first"))
    }

    // MARK: Error paths and edge cases

    @Test func setResultOnCancelledFuture() {
        let f = cancelledFuture()
        expectThreadingError(.invalidState, "CANCELLED: \(f.description)") { try f.setResult(1) }
        expectThreadingError(.invalidState, "CANCELLED: \(f.description)") { try f.setException(OSError()) }
        let g = cancelledAndNotifiedFuture()
        expectThreadingError(.invalidState, "CANCELLED: \(g.description)") { try g.setResult(1) }
        #expect(g.isCancelled)
    }

    @Test func setResultOnRunningAndPendingFutures() throws {
        let running = runningFuture()
        try running.setResult(7)
        #expect(try running.result() == 7)
        let pending = pendingFuture()  // Python allows finishing a future that never ran
        try pending.setResult(8)
        #expect(try pending.result() == 8)
    }

    @Test func setRunningOrNotifyCancelStates() throws {
        #expect(try pendingFuture().setRunningOrNotifyCancel())
        #expect(try !cancelledFuture().setRunningOrNotifyCancel())
        #expect(try !cancelledAndNotifiedFuture().setRunningOrNotifyCancel())
        expectThreadingError(.runtimeError, "Future in unexpected state") {
            try runningFuture().setRunningOrNotifyCancel()
        }
        expectThreadingError(.runtimeError, "Future in unexpected state") {
            try successfulFuture().setRunningOrNotifyCancel()
        }
        expectThreadingError(.runtimeError, "Future in unexpected state") {
            try exceptionFuture().setRunningOrNotifyCancel()
        }
    }

    @Test func resultRethrowsTheVeryError() throws {
        final class Marker: Error, @unchecked Sendable {}
        let marker = Marker()
        let f = Future<String>()
        try f.setException(marker)
        do {
            _ = try f.result()
            Issue.record("no error")
        } catch {
            #expect((error as? Marker) === marker)
        }
        #expect((try f.exception() as? Marker) === marker)
    }

    @Test func timeoutArguments() throws {
        let f = pendingFuture()
        expectThreadingError(.valueError, "Invalid value NaN (not a number)") { try f.result(timeout: .nan) }
        expectThreadingError(.overflowError, "timeout value is too large") { try f.result(timeout: .infinity) }
        expectThreadingError(.overflowError, "timeout value is too large") { try f.exception(timeout: 1e300) }
        expectThreadingError(.timeout, "") { try f.result(timeout: -1) }
        expectThreadingError(.timeout, "") { try f.exception(timeout: -.infinity) }
        // A finished future never looks at the timeout.
        #expect(try successfulFuture().result(timeout: .nan) == 42)
        #expect(try successfulFuture().exception(timeout: .infinity) == nil)
    }

    @Test func timedResultWaitsItsTimeout() throws {
        let f = pendingFuture()
        let elapsed = measure { expectThreadingError(.timeout, "") { try f.result(timeout: 0.1) } }
        expectTimeout(elapsed, 0.1)
        try f.setResult(3)  // a timed-out wait leaves the future usable
        #expect(try f.result(timeout: 0.1) == 3)
    }

    @Test func callbacksRunOnceInOrder() throws {
        let order = SharedList<Int>()
        let f = Future<Int>()
        for i in 0..<5 { f.addDoneCallback { _ in order.append(i) } }
        try f.setResult(1)
        #expect(order.values == [0, 1, 2, 3, 4])
        #expect(!f.cancel())
        _ = try? f.setResult(2)
        #expect(order.values == [0, 1, 2, 3, 4])
        f.addDoneCallback { _ in order.append(5) }
        #expect(order.values == [0, 1, 2, 3, 4, 5])
    }

    @Test func callbackRunsOnTheCompletingThread() throws {
        let f = Future<Int>()
        let callbackIdent = Box<UInt>()
        f.addDoneCallback { _ in callbackIdent.value = getIdent() }
        let setter = Box<UInt>()
        let t = RawThread {
            setter.value = getIdent()
            try? f.setResult(1)
        }
        t.join()
        #expect(callbackIdent.value != nil)
        #expect(callbackIdent.value == setter.value)
    }

    @Test func callbackMayUseTheFuture() throws {
        // Callbacks run outside the future's lock: one may add another callback or read it.
        let f = Future<Int>()
        let seen = SharedList<String>()
        f.addDoneCallback { future in
            seen.append(future.description)
            future.addDoneCallback { _ in seen.append("inner") }
        }
        try f.setResult(1)
        #expect(seen.count == 2)
        #expect(seen.values.last == "inner")
    }

    @Test func manyWaitersAllWoken() throws {
        let f = Future<Int>()
        let results = SharedList<Int>()
        let bunch = Bunch(10) { results.append(try f.result(timeout: 60)) }
        bunch.waitForStarted()
        waitThreadsBlocked(10)
        try f.setResult(99)
        bunch.join()
        #expect(results.values == Array(repeating: 99, count: 10))
    }

    @Test func waitersWokenByCancel() throws {
        let f = Future<Int>()
        let cancelled = Counter()
        let bunch = Bunch(5) {
            do { _ = try f.result(timeout: 60) } catch let error as ThreadingError where error.kind == .cancelled {
                cancelled.increment()
            }
        }
        bunch.waitForStarted()
        waitThreadsBlocked(5)
        #expect(f.cancel())
        bunch.join()
        #expect(cancelled.current == 5)
    }

    @Test func hashableByIdentity() {
        let a = Future<Int>()
        let b = Future<Int>()
        #expect(a == a)
        #expect(a != b)
        #expect(Set([a, b, a]).count == 2)
    }

    @Test func completionRaceHasOneWinner() throws {
        // Threads race to set, fail and cancel one future: exactly one call wins.
        for _ in 0..<200 {
            let f = Future<Int>()
            let winners = Counter()
            let threads = (0..<3).map { i in
                RawThread {
                    switch i {
                    case 0: if (try? f.setResult(1)) != nil { winners.increment() }
                    case 1: if (try? f.setException(OSError())) != nil { winners.increment() }
                    default: if f.cancel() { winners.increment() }
                    }
                }
            }
            for t in threads { t.join() }
            #expect(winners.current == 1)
            #expect(f.isDone)
        }
    }

    // MARK: The inlined paths (setResult without listeners, result and exception of a finished future)

    @Test func valuesOfEveryShapeRoundTrip() throws {
        // The value is kept in place (three words) or boxed when larger: optionals,
        // existentials, large structs and class references come back as they went in.
        let optional = Future<Int?>()
        try optional.setResult(nil)
        #expect(try optional.result() == nil)
        #expect(try optional.exception() == nil)
        let existential = Future<any Sendable>()
        try existential.setResult(42)
        #expect(try existential.result() as? Int == 42)
        let nested = Future<(any Sendable)?>()
        try nested.setResult(Optional<any Sendable>.some("x"))
        #expect(try nested.result() as? String == "x")
        let large = Future<(Int, Int, Int, Int, String)>()
        try large.setResult((1, 2, 3, 4, "five"))
        #expect(try large.result() == (1, 2, 3, 4, "five"))
        final class Box: Sendable {}
        let box = Box()
        let reference = Future<Box>()
        try reference.setResult(box)
        #expect(try reference.result() === box)
        #expect(reference.description.hasSuffix("state=finished returned Box>"))
        #expect(large.description.hasSuffix("state=finished returned (Int, Int, Int, Int, String)>"))
    }

    @Test func valueIsReleasedWithTheFuture() throws {
        let released = Counter()
        do {
            let f = Future<ReleaseCounted>()
            try f.setResult(ReleaseCounted(released))
            _ = try f.result()
            #expect(released.current == 0)
        }
        #expect(released.current == 1)
    }

    @Test func storageAddressIsTheStoredProperty() {
        // `storageAddress` assumes `storage` is the first stored property.
        let f = Future<Int>()
        let address = withUnsafeMutablePointer(to: &f.storage) { UnsafeMutableRawPointer($0) }
        #expect(f.storageAddress == address)
        let g = Future<(Int, Int, Int, Int, String)>()
        #expect(g.storageAddress == withUnsafeMutablePointer(to: &g.storage) { UnsafeMutableRawPointer($0) })
    }

    @Test func valueTooLargeToKeepInPlaceIsReleasedOnceWithTheFuture() throws {
        // Four words: boxed. The box, and the value in it, go with the future, once.
        let released = Counter()
        do {
            let f = Future<(ReleaseCounted, Int, Int, Int)>()
            f.addDoneCallback { _ in }  // the slow path stores it too
            try f.setResult((ReleaseCounted(released), 1, 2, 3))
            let (tracked, a, b, c) = try f.result()
            #expect((a, b, c) == (1, 2, 3))
            #expect(tracked.released === released)
            let g = Future<(ReleaseCounted, Int, Int, Int)>()
            try g.setResult((ReleaseCounted(released), 4, 5, 6))
            #expect(try g.result().3 == 6)
            #expect(released.current == 0)
        }
        #expect(released.current == 2)
        do {
            // A future that never finished, or failed, has no value to release.
            _ = Future<ReleaseCounted>()
            let failed = Future<(ReleaseCounted, Int, Int, Int)>()
            try failed.setException(OSError())
            let cancelled = Future<ReleaseCounted>()
            cancelled.cancel()
        }
        #expect(released.current == 2)
    }

    @Test func setResultAfterCallbackOnRunningFutureRunsIt() throws {
        // The callback marks the future; setRunningOrNotifyCancel keeps the mark, so setResult
        // takes the path that runs callbacks.
        let f = Future<Int>()
        let calls = Counter()
        f.addDoneCallback { future in
            if (try? future.result()) == 7 { calls.increment() }
        }
        #expect(try f.setRunningOrNotifyCancel())
        try f.setResult(7)
        #expect(calls.current == 1)
        #expect(throws: ThreadingError.self) { try f.setResult(8) }
        #expect(try f.result() == 7)
    }

    @Test func setResultWakesParkedThreadsWithoutListeners() throws {
        // No callback or waiter: setResult stores the value quickly and still wakes the threads
        // parked in result().
        for _ in 0..<50 {
            let f = Future<Int>()
            let got = Counter()
            let threads = (0..<3).map { _ in
                RawThread {
                    if (try? f.result(timeout: 30)) == 5 { got.increment() }
                }
            }
            sleep(seconds: 0.001)
            try f.setResult(5)
            for t in threads { t.join() }
            #expect(got.current == 3)
        }
    }

    @Test func exceptionOfFinishedFutures() throws {
        let failed = Future<Int>()
        try failed.setException(OSError())
        #expect(try failed.exception() as? OSError == OSError())
        #expect(throws: OSError.self) { try failed.result() }
        let succeeded = Future<Int>()
        try succeeded.setResult(1)
        #expect(try succeeded.exception() == nil)
        #expect(throws: ThreadingError.self) { try cancelledFuture().exception(timeout: 0) }
        #expect(throws: ThreadingError.self) { try pendingFuture().exception(timeout: 0) }
    }
}

/// Counts its own release: for the tests that a future releases its value once, with itself.
private final class ReleaseCounted: Sendable {
    let released: Counter
    init(_ released: Counter) { self.released = released }
    deinit { released.increment() }
}
