// Lock workloads: uncontended, contended (throughput and fairness), reentrant.

import CBench
import Foundation
import Glibc
import Synchronization
import Threading

/// A lock under test: runs a critical section that increments a shared counter.
protocol BenchLock: AnyObject, Sendable {
    static var name: String { get }
    init()
    func increment()
    var count: Int { get }
}

final class OursLock: BenchLock, @unchecked Sendable {
    // @unchecked Sendable: `value` is touched only while holding `lock`.
    static let name = "ours"
    let lock = Threading.Lock()
    var value = 0
    init() {}
    @inline(__always) func increment() {
        try! lock.acquire()
        value &+= 1
        try! lock.release()
    }
    var count: Int { lock.withLock { value } }
}

final class MutexLock: BenchLock {
    static let name = "Mutex"
    let mutex = Mutex(0)
    init() {}
    @inline(__always) func increment() { mutex.withLock { $0 &+= 1 } }
    var count: Int { mutex.withLock { $0 } }
}

final class PthreadLock: BenchLock, @unchecked Sendable {
    // @unchecked Sendable: `value` is touched only while holding `mutex`.
    static let name = "pthread"
    let mutex: UnsafeMutablePointer<pthread_mutex_t>
    var value = 0
    init() {
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }
    deinit { pthread_mutex_destroy(mutex); mutex.deallocate() }
    @inline(__always) func increment() {
        pthread_mutex_lock(mutex)
        value &+= 1
        pthread_mutex_unlock(mutex)
    }
    var count: Int { pthread_mutex_lock(mutex); defer { pthread_mutex_unlock(mutex) }; return value }
}

final class NSLockLock: BenchLock, @unchecked Sendable {
    // @unchecked Sendable: `value` is touched only while holding `lock`.
    static let name = "NSLock"
    let lock = NSLock()
    var value = 0
    init() {}
    @inline(__always) func increment() {
        lock.lock()
        value &+= 1
        lock.unlock()
    }
    var count: Int { lock.lock(); defer { lock.unlock() }; return value }
}

/// ns per acquire+release on one thread.
func uncontended<L: BenchLock>(_: L.Type, samples: Int) -> Double {
    let lock = L()
    let n = 2_000_000
    return medianOf(samples) {
        let start = now()
        for _ in 0..<n { lock.increment() }
        let elapsed = now() - start
        cbench_blackhole(UInt64(lock.count))
        return elapsed / Double(n) * 1e9
    }
}

/// Per-thread progress counters, each on its own cache line.
final class Progress: @unchecked Sendable {
    // @unchecked Sendable: the slots are atomics, allocated once and freed in deinit.
    let slots: UnsafeMutablePointer<Atomic<Int>>
    let threads: Int
    static let stride = 8

    init(threads: Int) {
        self.threads = threads
        slots = .allocate(capacity: threads * Progress.stride)
        for i in 0..<(threads * Progress.stride) { (slots + i).initialize(to: Atomic(0)) }
    }
    deinit { slots.deallocate() }

    func slot(_ i: Int) -> UnsafeMutablePointer<Atomic<Int>> { slots + i * Progress.stride }
    func snapshot() -> [Int] { (0..<threads).map { slot($0).pointee.load(ordering: .relaxed) } }
}

/// `threads` threads hammer one lock for `seconds`: ns per critical section, and the fairness of
/// each 100 ms window (the least-served thread's count over the best-served's): minimum, median.
func contended<L: BenchLock>(_: L.Type, threads: Int, seconds: Double = 1.0) -> (nsPerSection: Double, fairnessMin: Double, fairnessMedian: Double) {
    let lock = L()
    let progress = Progress(threads: threads)
    let stop = Stop()
    let workers = (0..<threads).map { i in
        RawThread {
            let slot = progress.slot(i)
            var local = 0
            while !stop.flag.load(ordering: .relaxed) {
                lock.increment()
                local &+= 1
                slot.pointee.store(local, ordering: .relaxed)
            }
        }
    }
    usleep(50_000)  // let every thread get going
    var previous = progress.snapshot()
    var fairness: [Double] = []
    let start = now()
    let startCount = lock.count
    while now() - start < seconds {
        usleep(100_000)
        let current = progress.snapshot()
        let deltas = zip(current, previous).map { Double($0 - $1) }
        previous = current
        if let best = deltas.max(), best > 0 { fairness.append(deltas.min()! / best) }
    }
    let elapsed = now() - start
    let sections = lock.count - startCount
    stop.flag.store(true, ordering: .relaxed)
    for worker in workers { worker.join() }
    return (elapsed / Double(max(sections, 1)) * 1e9, fairness.min() ?? .nan, fairness.isEmpty ? .nan : median(fairness))
}

final class Stop: Sendable {
    let flag = Atomic(false)
}

/// ns per acquire×3 + release×3 of a reentrant lock on one thread.
func reentrantOurs(samples: Int) -> Double {
    let lock = RLock()
    let n = 1_000_000
    return medianOf(samples) {
        let start = now()
        for _ in 0..<n {
            try! lock.acquire(); try! lock.acquire(); try! lock.acquire()
            try! lock.release(); try! lock.release(); try! lock.release()
        }
        return (now() - start) / Double(n) * 1e9
    }
}

func reentrantPthread(samples: Int) -> Double {
    let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    var attr = pthread_mutexattr_t()
    pthread_mutexattr_init(&attr)
    pthread_mutexattr_settype(&attr, Int32(PTHREAD_MUTEX_RECURSIVE))
    pthread_mutex_init(mutex, &attr)
    defer { pthread_mutex_destroy(mutex); mutex.deallocate() }
    let n = 1_000_000
    return medianOf(samples) {
        let start = now()
        for _ in 0..<n {
            pthread_mutex_lock(mutex); pthread_mutex_lock(mutex); pthread_mutex_lock(mutex)
            pthread_mutex_unlock(mutex); pthread_mutex_unlock(mutex); pthread_mutex_unlock(mutex)
        }
        return (now() - start) / Double(n) * 1e9
    }
}

func reentrantNSRecursiveLock(samples: Int) -> Double {
    let lock = NSRecursiveLock()
    let n = 1_000_000
    return medianOf(samples) {
        let start = now()
        for _ in 0..<n {
            lock.lock(); lock.lock(); lock.lock()
            lock.unlock(); lock.unlock(); lock.unlock()
        }
        return (now() - start) / Double(n) * 1e9
    }
}

enum LockWorkloads {
    static func run(_ options: Options) -> [Row] {
        var rows: [Row] = []
        let s = options.samples
        if options.wants("lock-uncontended") {
            rows.append(Row("lock-uncontended (acquire+release, 1 thread)", unit: "ns",
                ours: uncontended(OursLock.self, samples: s),
                peers: [("Mutex", uncontended(MutexLock.self, samples: s)),
                        ("pthread", uncontended(PthreadLock.self, samples: s)),
                        ("NSLock", uncontended(NSLockLock.self, samples: s))],
                against: "Mutex"))
        }
        for threads in [2, 8] where options.wants("lock-contended-\(threads)") {
            let ours = contended(OursLock.self, threads: threads)
            let pthread = contended(PthreadLock.self, threads: threads)
            let mutex = contended(MutexLock.self, threads: threads)
            let nslock = contended(NSLockLock.self, threads: threads)
            rows.append(Row("lock-contended-\(threads) (ns per critical section)", unit: "ns",
                ours: ours.nsPerSection,
                peers: [("pthread", pthread.nsPerSection), ("Mutex", mutex.nsPerSection), ("NSLock", nslock.nsPerSection)],
                against: "pthread"))
            print("  fairness over 100 ms windows, \(threads) threads (min / median of least/best-served): "
                + "ours \(format(ours.fairnessMin)) / \(format(ours.fairnessMedian)), "
                + "pthread \(format(pthread.fairnessMin)) / \(format(pthread.fairnessMedian)), "
                + "Mutex \(format(mutex.fairnessMin)) / \(format(mutex.fairnessMedian)), "
                + "NSLock \(format(nslock.fairnessMin)) / \(format(nslock.fairnessMedian))"
                + (threads == 8 ? " — target ours ≥ 0.25: \(ours.fairnessMin >= 0.25 ? "met" : "NOT met")" : ""))
        }
        if options.wants("rlock") {
            rows.append(Row("rlock (3 deep and back, 1 thread)", unit: "ns",
                ours: reentrantOurs(samples: s),
                peers: [("pthread-recursive", reentrantPthread(samples: s)), ("NSRecursiveLock", reentrantNSRecursiveLock(samples: s))],
                against: "pthread-recursive", target: 0.5))
        }
        return rows
    }
}

extension Options {
    func wants(_ workload: String) -> Bool {
        guard let filter else { return true }
        return workload.contains(filter)
    }
}
