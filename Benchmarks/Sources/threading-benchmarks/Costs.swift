// Timed-wait overshoot, memory per lock, CPU while blocked.

import CBench
import Dispatch
import Foundation
import Glibc
import Synchronization
import Threading

/// µs by which one 2 ms timed wait that expires overshoots its 2 ms.
func overshootSample(_ wait: () -> Void) -> Double {
    let start = now()
    wait()
    return (now() - start - 0.002) * 1e6
}

/// A CLOCK_REALTIME deadline `nanoseconds` from now, as pthread_cond_timedwait and sem_timedwait
/// take it.
func realtimeDeadline(in nanoseconds: Int) -> timespec {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    ts.tv_nsec += nanoseconds
    while ts.tv_nsec >= 1_000_000_000 {
        ts.tv_sec += 1
        ts.tv_nsec -= 1_000_000_000
    }
    return ts
}

/// The usable size of the heap block of `object` (what one instance costs in memory).
func heapBytes(_ object: AnyObject) -> Double {
    withExtendedLifetime(object) {
        Double(cbench_malloc_usable_size(Unmanaged.passUnretained(object).toOpaque()))
    }
}

final class MutexHolder { let mutex = Mutex(()) }
final class PthreadHolder {
    var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
}

/// A pthread mutex and condition variable on the heap, for a timed wait that expires.
final class PthreadCondPair: @unchecked Sendable {
    // @unchecked Sendable: pthread objects are made for sharing between threads.
    let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
    }
    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        cond.deallocate()
        mutex.deallocate()
    }
}

enum CostWorkloads {
    static func run(_ options: Options, _ report: Report) {
        if options.wants("timed-wait-overshoot") { timedWaits(options, report) }
        if options.wants("bytes") {
            let peers = [
                ("Mutex<Void> in a class", heapBytes(MutexHolder())),
                ("pthread_mutex_t in a class", heapBytes(PthreadHolder())),
                ("NSLock", heapBytes(NSLock())),
            ]
            report.add(
                Row(
                    "bytes: Lock (malloc_usable_size)",
                    unit: "B",
                    ours: heapBytes(Threading.Lock()),
                    peers: peers,
                    against: "Mutex<Void> in a class",
                    target: .atMost(32)
                )
            )
            report.add(
                Row(
                    "bytes: RLock (malloc_usable_size)",
                    unit: "B",
                    ours: heapBytes(RLock()),
                    peers: peers + [("NSRecursiveLock", heapBytes(NSRecursiveLock()))],
                    against: "pthread_mutex_t in a class",
                    target: .atMost(48)
                )
            )
        }
        if options.wants("cpu-blocked") {
            let ours = cpuWhileBlocked(ours: true)
            let peers = cpuWhileBlocked(ours: false)
            report.add(
                Row(
                    "cpu-blocked: CPU of 8 threads blocked 1 s (their CPU-time clocks)",
                    unit: "µs",
                    ours: ours.threadClocks,
                    peers: [("pthread/sem_t/Dispatch", peers.threadClocks)],
                    target: .atMost(0)
                )
            )
            report.add(
                Row(
                    "cpu-blocked: same, getrusage(SELF) − getrusage(THREAD) of the measuring thread",
                    unit: "µs",
                    ours: ours.rusage,
                    peers: [("pthread/sem_t/Dispatch", peers.rusage)],
                    target: .none
                )
            )
        }
    }

    /// Overshoot of 2 ms timed waits that expire: ours beside nanosleep and the POSIX timed waits.
    static func timedWaits(_ options: Options, _ report: Report) {
        let held = Threading.Lock()
        try! held.acquire()
        let event = Event()
        let condition = Condition(Threading.Lock())
        let pair = PthreadCondPair()
        let sem = PosixSemaphore(0)
        let m = compare(
            max(options.samples * 4, 41),
            [
                { overshootSample { _ = try! held.acquire(timeout: 0.002) } },
                { overshootSample { _ = try! event.wait(timeout: 0.002) } },
                { overshootSample { try! condition.withLock { _ = try condition.wait(timeout: 0.002) } } },
                {
                    overshootSample {
                        var request = timespec(tv_sec: 0, tv_nsec: 2_000_000)
                        nanosleep(&request, nil)
                    }
                },
                {
                    overshootSample {
                        var deadline = realtimeDeadline(in: 2_000_000)
                        pthread_mutex_lock(pair.mutex)
                        pthread_cond_timedwait(pair.cond, pair.mutex, &deadline)
                        pthread_mutex_unlock(pair.mutex)
                    }
                },
                {
                    overshootSample {
                        var deadline = realtimeDeadline(in: 2_000_000)
                        sem_timedwait(sem.sem, &deadline)
                    }
                },
            ]
        )
        try! held.release()
        let peers = [("nanosleep", m[3]), ("pthread_cond_timedwait", m[4]), ("sem_timedwait", m[5])]
        for (i, name) in ["Lock.acquire(timeout:) on a held lock", "Event.wait(timeout:)", "Condition.wait(timeout:)"]
            .enumerated()
        {
            report.add(
                Row(
                    "timed-wait-overshoot: \(name), 2 ms, actual − 2 ms",
                    unit: "µs",
                    ours: m[i],
                    peers: peers,
                    against: "nanosleep",
                    target: .ratioAtMost(1.1)
                )
            )
        }
    }

    /// CPU time, in µs, of 8 threads blocked for 1 s: by their own CPU-time clocks, and by
    /// getrusage of the process less the measuring thread.
    static func cpuWhileBlocked(ours: Bool) -> (threadClocks: Double, rusage: Double) {
        var threads: [RawThread] = []
        let release: () -> Void
        if ours {
            let lock = Threading.Lock()
            let rlock = RLock()
            let condition = Condition()
            let semaphore = try! Threading.Semaphore(0)
            let event = Event()
            let barrier = try! Barrier(2)
            try! lock.acquire()
            try! rlock.acquire()
            threads = [
                RawThread {
                    try! lock.acquire()
                    try! lock.release()
                },
                RawThread { if try! lock.acquire(timeout: 30) { try! lock.release() } },  // hand it on
                RawThread {
                    try! rlock.acquire()
                    try! rlock.release()
                },
                RawThread { try! condition.withLock { _ = try condition.wait() } },
                RawThread { _ = try! semaphore.acquire() },
                RawThread { _ = try! event.wait() },
                RawThread { _ = try! event.wait(timeout: 30) },
                RawThread { _ = try! barrier.wait() },
            ]
            release = {
                try! lock.release()
                try! rlock.release()
                usleep(10_000)
                try! condition.withLock { try condition.notifyAll() }
                try! semaphore.release()
                event.set()
                _ = try! barrier.wait()
            }
        } else {
            let mutex = PthreadHolderRef()
            let pair = PthreadCondPair()
            let sem = PosixSemaphore(0)
            let barrier = PosixBarrier(2)
            let dispatch = DispatchSemaphore(value: 0)
            let stop = Stop()
            pthread_mutex_lock(mutex.mutex)
            threads = [
                RawThread {
                    pthread_mutex_lock(mutex.mutex)
                    pthread_mutex_unlock(mutex.mutex)
                },
                RawThread {
                    pthread_mutex_lock(pair.mutex)
                    while !stop.flag.load(ordering: .relaxed) { pthread_cond_wait(pair.cond, pair.mutex) }
                    pthread_mutex_unlock(pair.mutex)
                },
                RawThread { sem_wait(sem.sem) },
                RawThread {
                    var deadline = realtimeDeadline(in: 30_000_000_000)
                    sem_timedwait(sem.sem, &deadline)
                },
                RawThread { pthread_barrier_wait(barrier.barrier) },
                RawThread { dispatch.wait() },
                RawThread { dispatch.wait() },
                RawThread { _ = dispatch.wait(timeout: .now() + 30) },
            ]
            release = {
                pthread_mutex_unlock(mutex.mutex)
                pthread_mutex_lock(pair.mutex)
                stop.flag.store(true, ordering: .relaxed)
                pthread_cond_broadcast(pair.cond)
                pthread_mutex_unlock(pair.mutex)
                sem_post(sem.sem)
                sem_post(sem.sem)
                pthread_barrier_wait(barrier.barrier)
                for _ in 0..<3 { dispatch.signal() }
            }
        }
        usleep(200_000)  // let every thread block
        let clocksBefore = threads.map(\.cpuSeconds).reduce(0, +)
        let processBefore = cbench_process_cpu_seconds()
        let selfBefore = cbench_thread_cpu_seconds()
        usleep(1_000_000)
        let selfAfter = cbench_thread_cpu_seconds()
        let processAfter = cbench_process_cpu_seconds()
        let clocksAfter = threads.map(\.cpuSeconds).reduce(0, +)
        release()
        for thread in threads { thread.join() }
        return ((clocksAfter - clocksBefore) * 1e6, ((processAfter - processBefore) - (selfAfter - selfBefore)) * 1e6)
    }
}

/// A pthread mutex on the heap, shared by the blocked threads.
final class PthreadHolderRef: @unchecked Sendable {
    // @unchecked Sendable: a pthread mutex is made for sharing between threads.
    let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    init() { pthread_mutex_init(mutex, nil) }
    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }
}
