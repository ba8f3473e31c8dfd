// Timer: CPython 3.13's TimerTests (test_init_immutable_default_args, the only one), plus the
// semantics of `threading.Timer.run()` (wait `interval` on `finished`, call unless cancelled, set
// `finished`) and the reference's Timer probe. A Timer that throws: ExceptHookTests.

import Synchronization
import Testing

@testable import Threading

@Suite struct TimerTests {
    /// Two timers each fire once with no arguments of their own; one timer's call does not leak
    /// into the other's (Python: their default `args`/`kwargs` are not shared).
    @Test func test_init_immutable_default_args() throws {
        let callbackArgs = SharedList<String>()
        let callbackEvent = Event()
        let spy: @Sendable () -> Void = {
            callbackArgs.append("()")
            callbackEvent.set()
        }
        let timer1 = Threading.Timer(interval: 0.01, function: spy)
        try timer1.start()
        #expect(try callbackEvent.wait(timeout: 30))
        callbackEvent.clear()
        let timer2 = Threading.Timer(interval: 0.01, function: spy, args: ())
        try timer2.start()
        #expect(try callbackEvent.wait(timeout: 30))
        #expect(callbackArgs.values == ["()", "()"])
        try timer1.join()
        try timer2.join()
        #expect(timer1.finished.isSet)
        #expect(timer2.finished.isSet)
    }

    /// The function runs no earlier than `interval` after `start()`, on the timer's thread.
    @Test func test_fires_after_interval() throws {
        let firedAt = Mutex<(Double, UInt)?>(nil)
        let timer = Threading.Timer(interval: 0.2) { firedAt.withLock { $0 = (monotonicSeconds(), getIdent()) } }
        let started = monotonicSeconds()
        try timer.start()
        #expect(!timer.finished.isSet)
        try timer.join()
        let (time, ident) = try #require(firedAt.withLock { $0 })
        #expect(time - started >= 0.2, "fired after \(time - started) s")
        #expect(time - started < 5)
        #expect(ident == timer.ident)
        #expect(ident != getIdent())
        #expect(timer.finished.isSet)
    }

    @Test func test_cancel_before_firing() throws {
        let calls = Counter()
        let timer = Threading.Timer(interval: 2) { calls.increment() }
        try timer.start()
        sleep(seconds: 0.05)
        timer.cancel()
        #expect(timer.finished.isSet)
        let joined = try measure { try timer.join() }
        #expect(joined < 1.5, "cancel() did not wake the timer (\(joined) s)")
        #expect(!timer.isAlive)
        sleep(seconds: 0.1)
        #expect(calls.current == 0)
    }

    /// Cancelled before `start()`: the timer's thread ends at once without calling.
    @Test func test_cancel_before_start() throws {
        let calls = Counter()
        let timer = Threading.Timer(interval: 2) { calls.increment() }
        timer.cancel()
        let elapsed = try measure {
            try timer.start()
            try timer.join()
        }
        #expect(calls.current == 0)
        #expect(elapsed < 1.5)
    }

    /// Cancelling after the call changes nothing.
    @Test func test_cancel_after_firing() throws {
        let calls = Counter()
        let timer = Threading.Timer(interval: 0.01) { calls.increment() }
        try timer.start()
        try timer.join()
        timer.cancel()
        #expect(calls.current == 1)
        #expect(timer.finished.isSet)
    }

    /// The reference's probe: `Timer(0.01, f, args=(1,), kwargs={'k': 2})` calls `f(1, k=2)`.
    @Test func test_args_parameter_pack() throws {
        let got = SharedList<String>()
        let timer = Threading.Timer(
            interval: 0.01,
            function: { (a: Int, k: String, x: Double) in got.append("\(a) \(k) \(x)") },
            args: (1, "k=2", 0.5)
        )
        try timer.start()
        try timer.join()
        #expect(got.values == ["1 k=2 0.5"])
        let single = Threading.Timer(interval: 0, function: { (a: [Int]) in got.append("\(a)") }, args: ([1, 2]))
        try single.start()
        try single.join()
        #expect(got.values == ["1 k=2 0.5", "[1, 2]"])
    }

    /// A zero or negative interval fires at once.
    @Test func test_zero_and_negative_interval() throws {
        let calls = Counter()
        let timers = [
            Threading.Timer(interval: 0) { calls.increment() }, Threading.Timer(interval: -1) { calls.increment() },
        ]
        let elapsed = try measure {
            for timer in timers { try timer.start() }
            for timer in timers { try timer.join() }
        }
        #expect(calls.current == 2)
        #expect(elapsed < 2)
    }

    /// A Timer is a plain `Thread-N` (no target name), daemon by inheritance, with Python's repr.
    @Test func test_name_daemon_and_repr() throws {
        let timer = Threading.Timer(interval: 0.5) {}
        #expect(timer.interval == 0.5)
        #expect(counterNumber(timer.name, prefix: "Thread") != nil, "\(timer.name)")
        // Created on this test's (foreign) thread: a daemon, as in Python.
        #expect(timer.daemon)
        #expect(timer.description == "<Timer(\(timer.name), initial daemon)>")
        try timer.setDaemon(false)
        #expect(timer.description == "<Timer(\(timer.name), initial)>")
        try timer.start()
        let ident = try #require(timer.ident)
        #expect(timer.description == "<Timer(\(timer.name), started \(ident))>")
        timer.cancel()
        try timer.join()
        #expect(timer.description == "<Timer(\(timer.name), stopped \(ident))>")
        #expect(!isEnumerated(timer))
    }

    /// A Timer is a Thread: started once only, joined like one.
    @Test func test_start_twice_and_join_before_start() throws {
        let timer = Threading.Timer(interval: 0) {}
        expectThreadingError(.runtimeError, "cannot join thread before it is started") { try timer.join() }
        try timer.start()
        expectThreadingError(.runtimeError, "threads can only be started once") { try timer.start() }
        try timer.join()
    }

    /// A subclass may override `run()` and still use `finished` and `interval`.
    @Test func test_subclass_overrides_run() throws {
        final class Repeating: Threading.Timer, @unchecked Sendable {
            // @unchecked Sendable: adds only a Sendable constant.
            let ticks = Counter()
            override func run() throws {
                while !(try finished.wait(timeout: interval)) {
                    if ticks.increment() == 3 { finished.set() }
                }
            }
        }
        let timer = Repeating(interval: 0.01) {}
        try timer.start()
        try timer.join()
        #expect(timer.ticks.current == 3)
    }
}
