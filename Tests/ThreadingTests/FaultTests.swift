// Faults and resource use: the OS refusing new threads, a misbehaving excepthook replaced from
// many threads while threads fail, objects released while threads are still blocked on them, and
// memory that stays flat across 100k objects and 10k threads. The process-wide ones (a thread
// limit, the hook, the resident size) run in a child process, `threading-test-child`; the huge
// stack size case is ShutdownTests.test_start_fails_with_huge_stack_size, signal storms are in
// SignalTests and blocked threads' CPU in BlockedCPUTests.

import Synchronization
import Testing

@testable import Threading

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif

@Suite struct FaultTests {
    // MARK: The OS refuses a thread

    /// `pthread_create` fails with EAGAIN under `RLIMIT_NPROC`: `start()` throws, the registry
    /// stays consistent, the running threads carry on, and the refused thread starts later.
    @Test func startRefusedByThreadLimit() throws {
        let child = try #require(runChild("nproc-limit"))
        #expect(
            child.stdout == """
                refused: true
                error: runtimeError: can't start new thread
                in enumerate: false
                alive: false
                ident: nil
                description: <Thread(refused, initial)>
                counts consistent: true
                others ran: true
                retry started: true
                retry ran: true
                active after: 1

                """,
            "\(child.stderr)"
        )
        #expect(child.status == 0)
    }

    // MARK: A misbehaving excepthook

    /// Hooks that replace the hook from inside a call (and from a deinitializer run by the
    /// setter), start failing threads, join their own thread, sleep, or call the default hook,
    /// are swapped by 8 threads while 8 others start 2000 failing threads: no crash, no
    /// deadlock, every failure handled by exactly one hook.
    @Test func excepthookReplacedConcurrentlyWhileThreadsFail() throws {
        let child = try #require(runChild("excepthook-storm"))
        let lines = child.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 3, "\(child.stdout)")
        guard lines.count == 3 else { return }
        let failures = Int(lines[0].dropFirst("failures: ".count)) ?? 0
        #expect(failures >= 2000, "\(lines[0])")
        #expect(lines[1] == "delivered once each: true")
        let defaultCalls = Int(lines[2].dropFirst("default output lines: ".count)) ?? -1
        let printed = child.stderr.components(separatedBy: "Exception in thread ").count - 1
        #expect(printed == defaultCalls, "the default hook printed \(printed) reports for \(defaultCalls) calls")
        #expect(child.stderr.components(separatedBy: "StormError: storm\n").count - 1 == defaultCalls)
        #expect(child.status == 0)
    }

    // MARK: Memory stays flat

    /// After a warm-up, 100k each of Lock, RLock, Event, Condition, BoundedSemaphore and Barrier
    /// made, used and released, then 10k threads started and joined (each leaving a thread-local
    /// value): the resident size stays within 5% of where it started.
    @Test func residentSizeStaysFlat() throws {
        let child = try #require(runChild("memory-flat", timeout: 120))
        // The child is built with the same sanitizer as this process, and then does not measure.
        let verdict = runningUnderSanitizer ? "within 5%: not measured under a sanitizer\n" : "within 5%: true\n"
        #expect(child.stdout.hasSuffix(verdict), "\(child.stdout)")
        #expect(child.status == 0)
    }

    // MARK: Objects released while threads are blocked on them

    /// The test's own reference goes away while waiters are blocked: the waiters keep each object
    /// alive, time out normally, and the object is freed once the last of them returns.
    @Test func waitersKeepTheObjectAlive() throws {
        weak var lock: Lock?
        weak var rlock: RLock?
        weak var condition: Condition?
        weak var semaphore: Threading.Semaphore?
        weak var event: Event?
        weak var barrier: Barrier?
        let results = SharedList<String>()
        let blocked = Counter()
        var threads: [RawThread] = []
        do {
            let l = Lock()
            let r = RLock()
            let c = Condition(Lock())
            let s = try Threading.Semaphore(0)
            let e = Event()
            let b = try Barrier(4)
            (lock, rlock, condition, semaphore, event, barrier) = (l, r, c, s, e, b)
            try l.acquire()
            // The RLock is held by a thread that exits holding it: nobody can release it.
            RawThread { _ = try? r.acquire() }.join()
            let waits: [@Sendable () throws -> String] = [
                { "lock \(try l.acquire(timeout: 0.3))" },
                { "rlock \(try r.acquire(timeout: 0.3))" },
                { "condition \(try c.withLock { try c.wait(timeout: 0.3) })" },
                { "semaphore \(try s.acquire(timeout: 0.3))" },
                { "event \(try e.wait(timeout: 0.3))" },
                {
                    do { return "barrier \(try b.wait(timeout: 0.3))" } catch let error as ThreadingError {
                        return "barrier \(error.kind)"
                    }
                },
            ]
            for wait in waits {
                for _ in 0..<2 {
                    threads.append(
                        RawThread {
                            blocked.increment()
                            let result: String
                            do { result = try wait() } catch { result = "threw \(error)" }
                            results.append(result)
                        }
                    )
                }
            }
        }
        // Every test reference is gone; the waiters are still blocked.
        while blocked.current < 12 { usleep(1000) }
        usleep(50_000)
        #expect(results.count == 0, "a wait returned early: \(results.values)")
        #expect(lock != nil && rlock != nil && condition != nil)
        #expect(semaphore != nil && event != nil && barrier != nil)
        for thread in threads { thread.join() }
        threads.removeAll()  // a RawThread keeps its closure, and so the object it captured
        #expect(
            results.values.sorted() == [
                "barrier brokenBarrier", "barrier brokenBarrier", "condition false", "condition false",
                "event false", "event false", "lock false", "lock false", "rlock false", "rlock false",
                "semaphore false", "semaphore false",
            ]
        )
        #expect(lock == nil && rlock == nil && condition == nil, "an object outlived its last user")
        #expect(semaphore == nil && event == nil && barrier == nil, "an object outlived its last user")
    }

    /// The waker holds the last reference but the waiters' and lets it go right after waking them,
    /// many times over: the wake is not lost and nothing touches freed memory (run under ASan and
    /// TSan by CI and Scripts/sanitize).
    @Test func lastReferenceDroppedRightAfterWake() throws {
        for round in 0..<200 {
            weak var event: Event?
            weak var semaphore: Threading.Semaphore?
            weak var condition: Condition?
            let woken = Counter()
            var threads: [RawThread] = []
            do {
                let e = Event()
                let s = try Threading.Semaphore(0)
                let c = Condition(Lock())
                let ready = Counter()
                (event, semaphore, condition) = (e, s, c)
                threads.append(RawThread { if (try? e.wait(timeout: 10)) == true { woken.increment() } })
                threads.append(RawThread { if (try? s.acquire(timeout: 10)) == true { woken.increment() } })
                threads.append(
                    RawThread {
                        let got = try? c.withLock { () -> Bool in
                            ready.increment()
                            return try c.wait(timeout: 10)
                        }
                        if got == true { woken.increment() }
                    }
                )
                while ready.current < 1 { usleep(100) }
                if round % 2 == 0 { usleep(200) }  // half the rounds wake them asleep, half maybe not yet
                // The waker: wakes, then its reference ends with the closure.
                RawThread {
                    e.set()
                    try? s.release()
                    try? c.withLock { try c.notify() }
                }.join()
            }
            for thread in threads { thread.join() }
            threads.removeAll()  // a RawThread keeps its closure, and so the objects it captured
            #expect(woken.current == 3, "round \(round): a wake was lost")
            #expect(event == nil && semaphore == nil && condition == nil, "round \(round): an object leaked")
            if woken.current != 3 { break }
        }
    }

    /// A started thread nobody references is kept by the module until it ends, and freed after;
    /// a Timer released before it fires still fires.
    @Test func unreferencedThreadAndTimerRunToTheEnd() throws {
        weak var thread: Threading.Thread?
        weak var timer: Threading.Timer?
        let gate = Event()
        let ran = Counter()
        do {
            let t = Threading.Thread(target: {
                try gate.wait()
                ran.increment()
            })
            try t.start()
            thread = t
            let timed = Threading.Timer(interval: 0.1) { ran.increment() }
            try timed.start()
            timer = timed
        }
        usleep(20_000)
        #expect(thread != nil, "a running thread was freed")
        #expect(thread?.isAlive == true)
        gate.set()
        let giveUp = monotonicSeconds() + 10
        while (thread != nil || timer != nil) && monotonicSeconds() < giveUp { usleep(1000) }
        #expect(ran.current == 2)
        #expect(thread == nil, "a finished thread was never freed")
        #expect(timer == nil, "a fired timer was never freed")
    }

    /// A `ThreadLocal` released while a thread holding a value in it is blocked: the value is
    /// released with the object, and the thread later wakes and exits without touching it.
    @Test func threadLocalReleasedWhileHolderBlocked() throws {
        let released = Counter()
        let gate = Event()
        let stored = Event()
        var holder: RawThread? = nil
        weak var weakLocal: ThreadLocal<TrackedValue?>?
        do {
            let local = ThreadLocal<TrackedValue?> { nil }
            weakLocal = local
            // The holder reaches the object through a slot it empties: then it blocks without a
            // reference, and this scope holds the last one.
            let slot = Protected<ThreadLocal<TrackedValue?>?>(local)
            holder = RawThread {
                slot.withLock {
                    $0?.value = TrackedValue(deinits: released)
                    $0 = nil
                }
                stored.set()
                _ = try? gate.wait(timeout: 10)
            }
            _ = try stored.wait(timeout: 10)
            #expect(released.current == 0)
        }
        #expect(weakLocal == nil, "the ThreadLocal was not freed")
        #expect(released.current == 1, "the value outlived its ThreadLocal")
        gate.set()
        holder?.join()
        holder = nil
        #expect(released.current == 1, "the value was released twice")
    }
}
