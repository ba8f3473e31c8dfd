// Blocked threads use no CPU: a wait sleeps in the kernel, it does not spin or poll.
//
// 200 raw threads block (40 on a held Lock, 40 in Condition.wait, 40 in Semaphore.acquire, 40 in
// Event.wait, 40 in Barrier.wait), then their CPU time is read over a two-second window in which
// all of them are blocked; together they may use 20 ms. The CPU clock of each waiter is read from this thread (`pthread_getcpuclockid`), so
// the tests that run in parallel in the same process do not count; each waiter also measures its
// own whole wait with `getrusage(RUSAGE_THREAD)`.

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

@Suite(.serialized) struct BlockedCPUTests {
    /// Together, the 200 blocked threads may use this much CPU in the 2 s window.
    static let budget = 0.020
    static let window = 2.0
    /// Their whole waits, being woken and re-acquiring included (handoff chains of 40), may use
    /// this much; ten times as much under a sanitizer, which slows every call down.
    static let wholeWaitBudget = 0.050 * (runningUnderSanitizer ? 10 : 1)

    @Test(arguments: [true, false])
    func blockedThreadsUseNoCPU(timed: Bool) throws {
        let perKind = 40
        let lock = Lock()
        let cond = Condition(Lock())
        let sem = try Threading.Semaphore(0)
        let event = Event()
        let barrier = try Barrier(perKind + 1)  // this thread is the last party
        try lock.acquire()

        let timeout: Double? = timed ? 30 : nil
        let waiters = BlockedWaiters()
        // Each waiter: publish its thread, note its own CPU time, block, note it again.
        func start(_ n: Int, _ wait: @escaping @Sendable () throws -> Bool) -> [RawThread] {
            spawn(n) { _ in
                waiters.publish(pthread_self())
                let before = threadCPUSecondsByRusage()
                let woken: Bool
                do { woken = try wait() } catch { woken = false }
                let after = threadCPUSecondsByRusage()
                waiters.finish(woken: woken, cpu: after - before)
            }
        }
        var threads: [RawThread] = []
        threads += start(perKind) {
            let got = try timed ? lock.acquire(timeout: 30) : lock.acquire()
            if got { try lock.release() }  // hand it on to the next waiter
            return got
        }
        threads += start(perKind) { try cond.withLock { try cond.wait(timeout: timeout) } }
        threads += start(perKind) { try sem.acquire(timeout: timeout) }
        threads += start(perKind) { try event.wait(timeout: timeout) }
        threads += start(perKind) { try barrier.wait(timeout: timeout) >= 0 }
        let total = 5 * perKind

        while waiters.publishedCount < total { usleep(1000) }
        sleep(seconds: 0.1)  // let every waiter reach its sleep
        let clocks = waiters.threads.map(cpuClock(of:))
        #expect(clocks.count == total)
        let before = clocks.map(cpuSeconds(of:))
        sleep(seconds: Self.window)
        let after = clocks.map(cpuSeconds(of:))
        let stillBlocked = waiters.finishedCount == 0
        let windowCPU = zip(before, after).map { $1 - $0 }.reduce(0, +)

        // Wake everyone.
        try lock.release()
        try cond.withLock { try cond.notifyAll() }
        try sem.release(perKind)
        event.set()
        _ = try barrier.wait(timeout: 10)
        threads.joinAll()

        #expect(stillBlocked, "a waiter returned during the window: the window did not measure blocked threads")
        #expect(windowCPU >= 0)
        #expect(
            windowCPU < Self.budget,
            "\(total) blocked threads used \(windowCPU * 1000) ms of CPU in \(Self.window) s"
        )
        #expect(waiters.wokenCount == total, "every waiter was woken, none timed out")
        #expect(
            waiters.totalWaitCPU < Self.wholeWaitBudget,
            "\(total) waiters used \(waiters.totalWaitCPU * 1000) ms of CPU over their whole waits"
        )
    }
}

// MARK: - Helpers

/// The waiters' threads and results.
private final class BlockedWaiters: @unchecked Sendable {
    // @unchecked Sendable: the fields are read and written only while holding `mutex`, a pthread
    // mutex, which ThreadSanitizer understands (it does not see `Synchronization.Mutex`).
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var published: [pthread_t] = []
    private var finished = 0
    private var woken = 0
    private var cpu = 0.0

    init() { pthread_mutex_init(mutex, nil) }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    private func locked<R>(_ body: () -> R) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
    }

    func publish(_ thread: pthread_t) { locked { published.append(thread) } }
    func finish(woken wasWoken: Bool, cpu seconds: Double) {
        locked {
            finished += 1
            if wasWoken { woken += 1 }
            cpu += seconds
        }
    }
    var threads: [pthread_t] { locked { published } }
    var publishedCount: Int { locked { published.count } }
    var finishedCount: Int { locked { finished } }
    var wokenCount: Int { locked { woken } }
    var totalWaitCPU: Double { locked { cpu } }
}

/// The CPU-time clock of `thread` (which must be alive).
private func cpuClock(of thread: pthread_t) -> clockid_t {
    var clock = clockid_t()
    let rc = pthread_getcpuclockid(thread, &clock)
    precondition(rc == 0, "pthread_getcpuclockid failed: \(rc)")
    return clock
}

/// Seconds of CPU time on `clock`.
private func cpuSeconds(of clock: clockid_t) -> Double {
    var ts = timespec()
    let rc = clock_gettime(clock, &ts)
    precondition(rc == 0, "clock_gettime failed: \(errno)")
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// The calling thread's user + system CPU time, from `getrusage(RUSAGE_THREAD)`.
private func threadCPUSecondsByRusage() -> Double {
    let rusageThread: Int32 = 1  // RUSAGE_THREAD (a GNU extension Glibc does not import)
    var usage = rusage()
    let rc = getrusage(rusageThread, &usage)
    precondition(rc == 0, "getrusage(RUSAGE_THREAD) failed: \(errno)")
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}
