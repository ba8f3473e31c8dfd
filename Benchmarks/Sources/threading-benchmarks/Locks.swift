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
    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }
    @inline(__always) func increment() {
        pthread_mutex_lock(mutex)
        value &+= 1
        pthread_mutex_unlock(mutex)
    }
    var count: Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return value
    }
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
    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return value
    }
}

/// ns per acquire+release on one thread: one sample.
func uncontendedSample<L: BenchLock>(_ lock: L) -> Double {
    let n = 3_000_000
    let start = now()
    for _ in 0..<n { lock.increment() }
    let elapsed = now() - start
    cbench_blackhole(UInt64(lock.count))
    return elapsed / Double(n) * 1e9
}

/// Per-thread progress counters, each on its own pair of cache lines.
final class Progress: @unchecked Sendable {
    // @unchecked Sendable: the slots are atomics, allocated once and freed in deinit.
    let slots: UnsafeMutablePointer<Atomic<Int>>
    let threads: Int
    static let stride = 16

    init(threads: Int) {
        self.threads = threads
        slots = .allocate(capacity: threads * Progress.stride)
        for i in 0..<(threads * Progress.stride) { (slots + i).initialize(to: Atomic(0)) }
    }
    deinit { slots.deallocate() }

    func slot(_ i: Int) -> UnsafeMutablePointer<Atomic<Int>> { slots + i * Progress.stride }
    func snapshot() -> [Int] { (0..<threads).map { slot($0).pointee.load(ordering: .relaxed) } }
}

final class Stop: Sendable {
    let flag = Atomic(false)
}

/// What the 100 ms windows of contended runs saw: ns per critical section, and fairness (the
/// least-served thread's count over the best-served's).
struct Windows {
    var nsPerSection: [Double] = []
    var fairness: [Double] = []
}

/// `threads` threads hammer one fresh lock for `windows` windows of 100 ms (after 50 ms to get
/// going); each thread counts its critical sections in its own slot.
func contendedRun<L: BenchLock>(_: L.Type, threads: Int, windows: Int, into result: inout Windows) {
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
    usleep(50_000)
    var previous = progress.snapshot()
    var last = now()
    for _ in 0..<windows {
        usleep(100_000)
        let current = progress.snapshot()
        let time = now()
        let deltas = zip(current, previous).map { Double($0 - $1) }
        let total = deltas.reduce(0, +)
        if total > 0 { result.nsPerSection.append((time - last) / total * 1e9) }
        if let best = deltas.max(), best > 0 { result.fairness.append(deltas.min()! / best) }
        previous = current
        last = time
    }
    stop.flag.store(true, ordering: .relaxed)
    for worker in workers { worker.join() }
    cbench_blackhole(UInt64(lock.count))
}

/// ns per acquire×3 + release×3 of a reentrant lock on one thread: one sample.
func reentrantSample(_ body: () -> Void) -> Double {
    let n = 1_000_000
    let start = now()
    for _ in 0..<n { body() }
    return (now() - start) / Double(n) * 1e9
}

/// A recursive pthread mutex on the heap.
final class RecursivePthreadMutex: @unchecked Sendable {
    // @unchecked Sendable: a pthread mutex is made for sharing between threads.
    let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    init() {
        var attr = pthread_mutexattr_t()
        pthread_mutexattr_init(&attr)
        pthread_mutexattr_settype(&attr, Int32(PTHREAD_MUTEX_RECURSIVE))
        pthread_mutex_init(mutex, &attr)
        pthread_mutexattr_destroy(&attr)
    }
    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }
}

enum LockWorkloads {
    static func run(_ options: Options, _ report: Report) {
        let s = options.samples
        if options.wants("lock-uncontended") {
            let ours = OursLock()
            let mutex = MutexLock()
            let pthread = PthreadLock()
            let nslock = NSLockLock()
            let m = compare(
                s,
                [
                    { uncontendedSample(ours) }, { uncontendedSample(mutex) },
                    { uncontendedSample(pthread) }, { uncontendedSample(nslock) },
                ]
            )
            report.add(
                Row(
                    "lock-uncontended: Lock acquire+release, 1 thread",
                    unit: "ns",
                    ours: m[0],
                    peers: [("Mutex", m[1]), ("pthread_mutex", m[2]), ("NSLock", m[3])],
                    against: "Mutex"
                )
            )
        }
        if options.wants("lockedvalue-uncontended") {
            // Loops written out, not through `BenchLock`, so that both bodies inline alike.
            let n = 3_000_000
            let ours = LockedValue(0)
            let mutex = Mutex(0)
            let m = compare(
                s,
                [
                    {
                        let start = now()
                        for _ in 0..<n { ours.withLock { $0 &+= 1 } }
                        let elapsed = now() - start
                        cbench_blackhole(UInt64(ours.withLock { $0 }))
                        return elapsed / Double(n) * 1e9
                    },
                    {
                        let start = now()
                        for _ in 0..<n { mutex.withLock { $0 &+= 1 } }
                        let elapsed = now() - start
                        cbench_blackhole(UInt64(mutex.withLock { $0 }))
                        return elapsed / Double(n) * 1e9
                    },
                ]
            )
            report.add(
                Row(
                    "lockedvalue-uncontended: LockedValue.withLock { $0 += 1 }, 1 thread",
                    unit: "ns",
                    ours: m[0],
                    peers: [("Mutex.withLock", m[1])],
                    target: .ratioAtMost(1.1)
                )
            )
        }
        for threads in [2, 8] where options.wants("lock-contended-\(threads)") {
            // Rounds of one run per lock, the order rotating, so that drift hits every lock alike.
            let rounds = options.quick ? 1 : 3
            let windows = options.quick ? 4 : 5
            var results = Array(repeating: Windows(), count: 4)
            for round in 0..<rounds {
                for k in 0..<4 {
                    let i = (k + round) % 4
                    switch i {
                    case 0: contendedRun(OursLock.self, threads: threads, windows: windows, into: &results[0])
                    case 1: contendedRun(PthreadLock.self, threads: threads, windows: windows, into: &results[1])
                    case 2: contendedRun(MutexLock.self, threads: threads, windows: windows, into: &results[2])
                    default: contendedRun(NSLockLock.self, threads: threads, windows: windows, into: &results[3])
                    }
                }
            }
            let names = ["ours", "pthread_mutex", "Mutex", "NSLock"]
            let ns = results.map { median($0.nsPerSection) }
            report.add(
                Row(
                    "lock-contended-\(threads): \(threads) threads hammering, per critical section",
                    unit: "ns",
                    ours: ns[0],
                    peers: Array(zip(names, ns).dropFirst()),
                    against: "pthread_mutex"
                )
            )
            let fairMin = results.map { $0.fairness.min() ?? .nan }
            let fairMedian = results.map { median($0.fairness) }
            let fairnessTarget: Target = threads == 8 ? .atLeast(0.25) : .none
            report.add(
                Row(
                    "lock-contended-\(threads) fairness: least/best-served per 100 ms, MINIMUM of \(results[0].fairness.count) windows",
                    unit: "",
                    ours: fairMin[0],
                    peers: Array(zip(names, fairMin).dropFirst()),
                    against: "pthread_mutex",
                    target: fairnessTarget
                )
            )
            report.add(
                Row(
                    "lock-contended-\(threads) fairness: least/best-served per 100 ms, MEDIAN of windows",
                    unit: "",
                    ours: fairMedian[0],
                    peers: Array(zip(names, fairMedian).dropFirst()),
                    against: "pthread_mutex",
                    target: .none
                )
            )
        }
        if options.wants("rlock") {
            let ours = RLock()
            let pthread = RecursivePthreadMutex()
            let ns = NSRecursiveLock()
            let m = compare(
                s,
                [
                    {
                        reentrantSample {
                            try! ours.acquire()
                            try! ours.acquire()
                            try! ours.acquire()
                            try! ours.release()
                            try! ours.release()
                            try! ours.release()
                        }
                    },
                    {
                        reentrantSample {
                            let p = pthread.mutex
                            pthread_mutex_lock(p)
                            pthread_mutex_lock(p)
                            pthread_mutex_lock(p)
                            pthread_mutex_unlock(p)
                            pthread_mutex_unlock(p)
                            pthread_mutex_unlock(p)
                        }
                    },
                    {
                        reentrantSample {
                            ns.lock()
                            ns.lock()
                            ns.lock()
                            ns.unlock()
                            ns.unlock()
                            ns.unlock()
                        }
                    },
                ]
            )
            report.add(
                Row(
                    "rlock: RLock acquire 3 deep + release 3, 1 thread",
                    unit: "ns",
                    ours: m[0],
                    peers: [("pthread recursive", m[1]), ("NSRecursiveLock", m[2])],
                    against: "pthread recursive",
                    target: .ratioAtMost(0.5)
                )
            )
        }
    }
}
