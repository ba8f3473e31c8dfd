// Timed-wait overshoot, memory per lock, CPU while blocked.

import CBench
import Foundation
import Glibc
import Synchronization
import Threading

/// µs by which a 2 ms timed wait that expires overshoots its 2 ms (median of many).
func overshoot(samples: Int, _ wait: () -> Void) -> Double {
    wait()
    let values = (0..<max(samples * 4, 41)).map { _ -> Double in
        let start = now()
        wait()
        return (now() - start - 0.002) * 1e6
    }
    return median(values)
}

/// The heap block size of a fresh instance (what it costs in memory).
func heapBytes(_ object: AnyObject) -> Double {
    Double(cbench_malloc_usable_size(Unmanaged.passUnretained(object).toOpaque()))
}

final class MutexHolder { let mutex = Mutex(()) }
final class PthreadHolder {
    var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
}

enum CostWorkloads {
    static func run(_ options: Options) -> [Row] {
        var rows: [Row] = []
        let s = options.samples
        if options.wants("timed-wait-overshoot") {
            let sleepOvershoot = overshoot(samples: s) {
                var request = timespec(tv_sec: 0, tv_nsec: 2_000_000)
                nanosleep(&request, nil)
            }
            let held = Threading.Lock()
            try! held.acquire()
            let lockOvershoot = overshoot(samples: s) { _ = try! held.acquire(timeout: 0.002) }
            let event = Event()
            let eventOvershoot = overshoot(samples: s) { _ = try! event.wait(timeout: 0.002) }
            let condition = Condition(Threading.Lock())
            let conditionOvershoot = overshoot(samples: s) {
                try! condition.withLock { _ = try condition.wait(timeout: 0.002) }
            }
            let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
            let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
            pthread_mutex_init(mutex, nil)
            pthread_cond_init(cond, nil)
            let condOvershoot = overshoot(samples: s) {
                var ts = timespec()
                clock_gettime(CLOCK_REALTIME, &ts)
                ts.tv_nsec += 2_000_000
                if ts.tv_nsec >= 1_000_000_000 { ts.tv_sec += 1; ts.tv_nsec -= 1_000_000_000 }
                pthread_mutex_lock(mutex)
                pthread_cond_timedwait(cond, mutex, &ts)
                pthread_mutex_unlock(mutex)
            }
            let sem = PosixSemaphore(0)
            let semOvershoot = overshoot(samples: s) {
                var ts = timespec()
                clock_gettime(CLOCK_REALTIME, &ts)
                ts.tv_nsec += 2_000_000
                if ts.tv_nsec >= 1_000_000_000 { ts.tv_sec += 1; ts.tv_nsec -= 1_000_000_000 }
                sem_timedwait(sem.sem, &ts)
            }
            let peers = [("nanosleep", sleepOvershoot), ("pthread_cond_timedwait", condOvershoot), ("sem_timedwait", semOvershoot)]
            rows.append(Row("timed-wait-overshoot Lock.acquire(timeout: 0.002)", unit: "µs", ours: lockOvershoot, peers: peers, against: "nanosleep", target: 1.1))
            rows.append(Row("timed-wait-overshoot Event.wait(timeout: 0.002)", unit: "µs", ours: eventOvershoot, peers: peers, against: "nanosleep", target: 1.1))
            rows.append(Row("timed-wait-overshoot Condition.wait(timeout: 0.002)", unit: "µs", ours: conditionOvershoot, peers: peers, against: "nanosleep", target: 1.1))
        }
        if options.wants("bytes") {
            let peers = [("Mutex-in-class", heapBytes(MutexHolder())), ("pthread_mutex-in-class", heapBytes(PthreadHolder())), ("NSLock", heapBytes(NSLock()))]
            rows.append(Row("bytes per Lock", unit: "B", ours: heapBytes(Threading.Lock()), peers: peers, against: "Mutex-in-class"))
            rows.append(Row("bytes per RLock", unit: "B", ours: heapBytes(RLock()), peers: [("NSRecursiveLock", heapBytes(NSRecursiveLock()))], target: nil))
            print("  bytes targets: Lock ≤ 32: \(heapBytes(Threading.Lock()) <= 32 ? "met" : "NOT met"); RLock ≤ 48: \(heapBytes(RLock()) <= 48 ? "met" : "NOT met")")
        }
        if options.wants("cpu-blocked") {
            rows.append(Row("cpu-blocked (8 threads blocked 1 s on Lock/Condition/Semaphore/Event)", unit: "ms", ours: cpuWhileBlocked(), peers: [], target: nil))
        }
        return rows
    }

    /// Milliseconds of CPU the process uses while 8 threads are blocked for 1 s.
    static func cpuWhileBlocked() -> Double {
        let lock = Threading.Lock()
        try! lock.acquire()
        let condition = Condition()
        let semaphore = try! Threading.Semaphore(0)
        let event = Event()
        let blockers: [@Sendable () -> Void] = [
            { try! lock.acquire(); try! lock.release() },
            { try! condition.withLock { _ = try condition.wait() } },
            { _ = try! semaphore.acquire() },
            { _ = try! event.wait() },
        ]
        let threads = (0..<8).map { i in RawThread(blockers[i % 4]) }
        usleep(100_000)
        let before = cbench_process_cpu_seconds()
        usleep(1_000_000)
        let used = (cbench_process_cpu_seconds() - before) * 1000
        try! lock.release()
        try! condition.withLock { try condition.notifyAll() }
        try! semaphore.release(2)
        event.set()
        for thread in threads { thread.join() }
        return used
    }
}
