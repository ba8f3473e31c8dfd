// Ports of CPython 3.13's `Lib/test/lock_tests.py` `EventTests`, plus this package's own tests of
// the timeout arguments and the description in API.md (their names start with `test_own_`).
//
// Skipped CPython tests:
// - test_at_fork_reinit: tests `Event._at_fork_reinit()` (a private hook run in the child after
//   `fork()`) and the non-reentrant `_cond` inside the Event; this module has no fork support
//   and its Event has no Condition inside.
//
// Adaptations: test_repr compares the description exactly (`<Event: unset>`, no module name and
// no address). Waiting threads are raw pthreads (CPython's `Bunch`).
//
// Expectations inside worker threads are Swift Testing's `#expect`, which records a failure from
// any thread as an issue of the running test.

import Testing

@testable import Threading

@Suite(.serialized) struct EventTests {
    // MARK: CPython EventTests

    @Test func test_is_set() {
        let evt = Event()
        #expect(!evt.isSet)
        evt.set()
        #expect(evt.isSet)
        evt.set()
        #expect(evt.isSet)
        evt.clear()
        #expect(!evt.isSet)
        evt.clear()
        #expect(!evt.isSet)
    }

    /// All threads get notified.
    private func checkNotify(_ evt: Event) {
        let n = 5
        let results1 = SharedList<Bool>()
        let results2 = SharedList<Bool>()
        let bunch = Bunch(n) {
            results1.append(try evt.wait())
            results2.append(try evt.wait())
        }
        bunch.waitForStarted()
        // Threads blocked on the first evt.wait()
        waitThreadsBlocked(n)
        #expect(results1.count == 0)
        // Threads unblocked
        evt.set()
        bunch.join()
        #expect(results1.values == [Bool](repeating: true, count: n))
        #expect(results2.values == [Bool](repeating: true, count: n))
    }

    @Test func test_notify() {
        let evt = Event()
        checkNotify(evt)
        // Another time, after an explicit clear()
        evt.set()
        evt.clear()
        checkNotify(evt)
    }

    @Test func test_timeout() {
        let evt = Event()
        let n = 5
        var results1 = SharedList<Bool>()
        var results2 = SharedList<(Bool, Double)>()
        func f(_ results1: SharedList<Bool>, _ results2: SharedList<(Bool, Double)>) -> @Sendable () throws -> Void {
            {
                results1.append(try evt.wait(timeout: 0.0))
                let t1 = monotonicSeconds()
                let r = try evt.wait(timeout: 0.5)
                let t2 = monotonicSeconds()
                results2.append((r, t2 - t1))
            }
        }
        Bunch(n, f(results1, results2)).join()
        #expect(results1.values == [Bool](repeating: false, count: n))
        #expect(results2.count == n)
        for (r, dt) in results2.values {
            #expect(!r)
            expectTimeout(dt, 0.5)
        }

        // The event is set
        results1 = SharedList<Bool>()
        results2 = SharedList<(Bool, Double)>()
        evt.set()
        Bunch(n, f(results1, results2)).join()
        #expect(results1.values == [Bool](repeating: true, count: n))
        #expect(results2.count == n)
        for (r, _) in results2.values {
            #expect(r)
        }
    }

    @Test func test_set_and_clear() {
        // gh-57711: check that wait() returns true even when the event is cleared before the
        // waiting thread is woken up.
        let event = Event()
        let results = SharedList<Bool>()
        let n = 5
        let bunch = Bunch(n) { results.append(try event.wait(timeout: 300)) }
        bunch.waitForStarted()
        // Threads blocked on event.wait()
        waitThreadsBlocked(n)
        // Threads unblocked
        event.set()
        event.clear()
        bunch.join()
        #expect(results.values == [Bool](repeating: true, count: n))
        #expect(!event.isSet)
    }

    @Test func test_repr() {
        let evt = Event()
        #expect(evt.description == "<Event: unset>")
        evt.set()
        #expect(evt.description == "<Event: set>")
    }

    // MARK: Own tests

    @Test func test_own_description_follows_state() {
        let evt = Event()
        #expect(evt.description == "<Event: unset>")
        evt.set()
        evt.set()
        #expect(evt.description == "<Event: set>")
        evt.clear()
        #expect(evt.description == "<Event: unset>")
        #expect("\(evt)" == "<Event: unset>")
    }

    /// Unset event, so every timed wait would block: zero and negative timeouts return false at
    /// once (no error), NaN is a valueError, more than `timeoutMax` or infinite an overflowError.
    /// The event is still usable afterwards.
    @Test func test_own_timeouts_when_unset() throws {
        let evt = Event()
        for t in [0.0, -0.0, -1.0, -0.001, -1e100, -Double.infinity] {
            var got = true
            let dt = try measure { got = try evt.wait(timeout: t) }
            #expect(!got, "timeout \(t)")
            #expect(dt < 1.0, "timeout \(t) took \(dt) s")
        }
        expectThreadingError(.valueError, "Invalid value NaN (not a number)") { try evt.wait(timeout: .nan) }
        for t in [1e100, timeoutMax + 1, Double.infinity, .greatestFiniteMagnitude] {
            expectThreadingError(.overflowError, "timeout value is too large") { try evt.wait(timeout: t) }
        }
        #expect(!evt.isSet)
        #expect(evt.description == "<Event: unset>")
        // Still usable: a waiter is woken by set().
        let results = SharedList<Bool>()
        let bunch = Bunch(1) { results.append(try evt.wait(timeout: 10)) }
        bunch.waitForStarted()
        waitThreadsBlocked(1)
        evt.set()
        bunch.join()
        #expect(results.values == [true])
    }

    /// Set event: nothing needs to wait. Zero and negative timeouts return true. For NaN and too
    /// large timeouts API.md promises an error only when the call would block (CPython returns
    /// true), so either is accepted, but a `false` never is.
    @Test func test_own_timeouts_when_set() throws {
        let evt = Event()
        evt.set()
        for t in [0.0, -1.0, -Double.infinity, timeoutMax] {
            #expect(try evt.wait(timeout: t), "timeout \(t)")
        }
        let odd: [(Double, ThreadingError.Kind, String)] = [
            (.nan, .valueError, "Invalid value NaN (not a number)"),
            (1e100, .overflowError, "timeout value is too large"),
            (timeoutMax + 1, .overflowError, "timeout value is too large"),
            (.infinity, .overflowError, "timeout value is too large"),
        ]
        for (t, kind, message) in odd {
            do {
                let got = try evt.wait(timeout: t)
                #expect(got, "timeout \(t)")
            } catch let error as ThreadingError {
                #expect(error.kind == kind && error.message == message, "timeout \(t): \(error)")
            }
        }
        #expect(evt.isSet)
    }

    /// `timeoutMax` itself, and a large but finite timeout, are accepted: they wait for set().
    @Test func test_own_timeout_max_waits() {
        let evt = Event()
        let results = SharedList<Bool>()
        let bunch = Bunch(2) {
            results.append(try evt.wait(timeout: timeoutMax))
            results.append(try evt.wait(timeout: 1e9))
        }
        bunch.waitForStarted()
        waitThreadsBlocked(2)
        #expect(results.count == 0)
        #expect(bunch.finishedCount == 0)
        evt.set()
        bunch.join()
        #expect(results.values == [true, true, true, true])
    }

    /// A wait that times out does not disturb another thread still waiting: set() wakes it.
    @Test func test_own_timed_out_waiter_leaves_others_waiting() throws {
        let evt = Event()
        let short = SharedList<(Bool, Double)>()
        let long = SharedList<Bool>()
        let shortBunch = Bunch(2) {
            let t = monotonicSeconds()
            let r = try evt.wait(timeout: 0.1)
            short.append((r, monotonicSeconds() - t))
        }
        let longBunch = Bunch(2) { long.append(try evt.wait(timeout: 30)) }
        shortBunch.join()
        #expect(short.count == 2)
        for (r, dt) in short.values {
            #expect(!r)
            expectTimeout(dt, 0.1)
        }
        #expect(long.count == 0)
        let dt = measure {
            evt.set()
            longBunch.join()
        }
        #expect(long.values == [true, true])
        #expect(dt < 5, "set() took \(dt) s to wake the remaining waiters")

        // After every waiter has timed out, the event still works both ways.
        evt.clear()
        #expect(try !evt.wait(timeout: 0.05))
        evt.set()
        #expect(try evt.wait(timeout: 0.05))
    }

    /// After set(); clear(), a new wait blocks again (until its timeout).
    @Test func test_own_wait_after_clear_blocks() throws {
        let evt = Event()
        evt.set()
        evt.clear()
        var got = true
        let dt = try measure { got = try evt.wait(timeout: 0.2) }
        #expect(!got)
        expectTimeout(dt, 0.2)
    }

    /// set() followed at once by clear(), many rounds, many waiters: every waiter of every round
    /// returns true, and no waiter returns before its round's set().
    @Test func test_own_set_and_clear_rounds() {
        let evt = Event()
        let n = 8
        for round in 0..<5 {
            let released = Counter()
            let results = SharedList<Bool>()
            let early = Counter()
            let bunch = Bunch(n) {
                let r = try evt.wait(timeout: 30)
                if released.current == 0 { early.increment() }
                results.append(r)
            }
            bunch.waitForStarted()
            waitThreadsBlocked(n)
            #expect(results.count == 0, "round \(round)")
            released.increment()
            evt.set()
            evt.clear()
            bunch.join()
            #expect(results.values == [Bool](repeating: true, count: n), "round \(round)")
            #expect(early.current == 0, "round \(round)")
            #expect(!evt.isSet)
        }
    }
}
