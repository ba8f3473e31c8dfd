// Hand-off workloads: condition and event ping-pong, semaphores, barriers. Pinned runs put both
// threads on CPU 0 (a wake-up then costs a context switch on one CPU); unpinned runs let the
// kernel place them, which on 2 vCPUs flips between the two costs.

import CBench
import Dispatch
import Foundation
import Glibc
import Synchronization
import Threading

/// Runs `rounds` of `body(isPartner)` on this thread and a partner thread; µs per round.
func pingPong(
    rounds: Int,
    pinned: Bool,
    setup: () -> Void = {},
    _ body: @escaping @Sendable (_ partner: Bool) -> Void
) -> Double {
    onCPU0(pinned) {
        setup()
        let partner = RawThread(pin: pinned ? 0 : nil) { body(true) }
        let start = now()
        body(false)
        let elapsed = now() - start
        partner.join()
        return elapsed / Double(rounds) * 1e6
    }
}

/// A turn flag guarded by a condition: each side waits for its turn, then hands it over.
final class OursTurn: @unchecked Sendable {
    // @unchecked Sendable: `turn` is touched only while holding `condition`'s lock.
    let condition = Condition(Lock())
    var turn = 0
    func play(_ me: Int, rounds: Int) {
        for _ in 0..<rounds {
            try! condition.withLock {
                while turn != me { try condition.wait() }
                turn = 1 - me
                try condition.notify()
            }
        }
    }
}

final class PthreadTurn: @unchecked Sendable {
    // @unchecked Sendable: `turn` is touched only while holding `mutex`.
    let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    var turn = 0
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
    func play(_ me: Int, rounds: Int) {
        for _ in 0..<rounds {
            pthread_mutex_lock(mutex)
            while turn != me { pthread_cond_wait(cond, mutex) }
            turn = 1 - me
            pthread_cond_signal(cond)
            pthread_mutex_unlock(mutex)
        }
    }
}

final class NSConditionTurn: @unchecked Sendable {
    // @unchecked Sendable: `turn` is touched only while holding `condition`.
    let condition = NSCondition()
    var turn = 0
    func play(_ me: Int, rounds: Int) {
        for _ in 0..<rounds {
            condition.lock()
            while turn != me { condition.wait() }
            turn = 1 - me
            condition.signal()
            condition.unlock()
        }
    }
}

/// A bounded buffer of `capacity` items (counted, not stored) under a `LockedValue`: each side
/// waits with `withLock(when:)`, no notify.
final class LockedValueBuffer: Sendable {
    let count = LockedValue(0)
    let capacity: Int
    init(capacity: Int) { self.capacity = capacity }
    func put() { _ = try! count.withLock(when: { [capacity] in $0 < capacity }, { $0 += 1 }) }
    func take() { _ = try! count.withLock(when: { $0 > 0 }, { $0 -= 1 }) }
}

/// The same buffer as Python's `queue.Queue` builds it: one `Lock`, a `Condition` for "not full"
/// and one for "not empty", and a notify after each change.
final class ConditionBuffer: @unchecked Sendable {
    // @unchecked Sendable: `count` is touched only while holding `lock`.
    let lock = Threading.Lock()
    let notFull: Condition
    let notEmpty: Condition
    var count = 0
    let capacity: Int
    init(capacity: Int) {
        self.capacity = capacity
        notFull = Condition(lock)
        notEmpty = Condition(lock)
    }
    func put() {
        try! lock.withLock {
            while count >= capacity { try notFull.wait() }
            count += 1
            try notEmpty.notify()
        }
    }
    func take() {
        try! lock.withLock {
            while count == 0 { try notEmpty.wait() }
            count -= 1
            try notFull.notify()
        }
    }
}

/// A flag + condition variable event, as most hand-written events are.
final class CondvarEvent: @unchecked Sendable {
    // @unchecked Sendable: `flag` is touched only while holding `mutex`.
    let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    var flag = false
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
    func set() {
        pthread_mutex_lock(mutex)
        flag = true
        pthread_cond_broadcast(cond)
        pthread_mutex_unlock(mutex)
    }
    func waitAndClear() {
        pthread_mutex_lock(mutex)
        while !flag { pthread_cond_wait(cond, mutex) }
        flag = false
        pthread_mutex_unlock(mutex)
    }
}

/// A POSIX semaphore on the heap.
final class PosixSemaphore: @unchecked Sendable {
    // @unchecked Sendable: sem_t is made for sharing between threads.
    let sem = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
    init(_ value: UInt32) { sem_init(sem, 0, value) }
    deinit {
        sem_destroy(sem)
        sem.deallocate()
    }
}

/// A mutex + condition barrier (generation counting), the usual hand-written barrier.
final class CondvarBarrier: @unchecked Sendable {
    // @unchecked Sendable: `count` and `generation` are touched only while holding `mutex`.
    let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    let parties: Int
    var count = 0
    var generation = 0
    init(_ parties: Int) {
        self.parties = parties
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
    }
    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        cond.deallocate()
        mutex.deallocate()
    }
    func wait() {
        pthread_mutex_lock(mutex)
        let mine = generation
        count += 1
        if count == parties {
            count = 0
            generation += 1
            pthread_cond_broadcast(cond)
        } else {
            while generation == mine { pthread_cond_wait(cond, mutex) }
        }
        pthread_mutex_unlock(mutex)
    }
}

/// µs per barrier generation with `parties` threads (all on CPU 0 when pinned).
func barrierRun(parties: Int, generations: Int, pinned: Bool, _ wait: @escaping @Sendable () -> Void) -> Double {
    onCPU0(pinned) {
        let others = (1..<parties).map { _ in
            RawThread(pin: pinned ? 0 : nil) { for _ in 0..<generations { wait() } }
        }
        let start = now()
        for _ in 0..<generations { wait() }
        let elapsed = now() - start
        for other in others { other.join() }
        return elapsed / Double(generations) * 1e6
    }
}

enum HandoffWorkloads {
    static func run(_ options: Options, _ report: Report) {
        let s = options.samples
        for pinned in [true, false] {
            let tag = pinned ? "pinned" : "unpinned"
            let where_ = pinned ? "both threads on CPU 0" : "unpinned"
            let rounds = pinned ? 4_000 : 2_000
            if options.wants("condition-pingpong-\(tag)") {
                let m = compare(
                    s,
                    [
                        {
                            let t = OursTurn()
                            return pingPong(rounds: rounds, pinned: pinned) { t.play($0 ? 1 : 0, rounds: rounds) }
                        },
                        {
                            let t = PthreadTurn()
                            return pingPong(rounds: rounds, pinned: pinned) { t.play($0 ? 1 : 0, rounds: rounds) }
                        },
                        {
                            let t = NSConditionTurn()
                            return pingPong(rounds: rounds, pinned: pinned) { t.play($0 ? 1 : 0, rounds: rounds) }
                        },
                    ]
                )
                report.add(
                    Row(
                        "condition-pingpong-\(tag): Condition round trip, \(where_)",
                        unit: "µs",
                        ours: m[0],
                        peers: [("pthread_cond+mutex", m[1]), ("NSCondition", m[2])]
                    )
                )
            }
            if options.wants("event-pingpong-\(tag)") {
                let m = compare(
                    s,
                    [
                        {
                            let ping = Event()
                            let pong = Event()
                            return pingPong(rounds: rounds, pinned: pinned) { partner in
                                for _ in 0..<rounds {
                                    if partner {
                                        _ = try! ping.wait()
                                        ping.clear()
                                        pong.set()
                                    } else {
                                        ping.set()
                                        _ = try! pong.wait()
                                        pong.clear()
                                    }
                                }
                            }
                        },
                        {
                            let ping = DispatchSemaphore(value: 0)
                            let pong = DispatchSemaphore(value: 0)
                            return pingPong(rounds: rounds, pinned: pinned) { partner in
                                for _ in 0..<rounds {
                                    if partner {
                                        ping.wait()
                                        pong.signal()
                                    } else {
                                        ping.signal()
                                        pong.wait()
                                    }
                                }
                            }
                        },
                        {
                            let ping = CondvarEvent()
                            let pong = CondvarEvent()
                            return pingPong(rounds: rounds, pinned: pinned) { partner in
                                for _ in 0..<rounds {
                                    if partner {
                                        ping.waitAndClear()
                                        pong.set()
                                    } else {
                                        ping.set()
                                        pong.waitAndClear()
                                    }
                                }
                            }
                        },
                    ]
                )
                report.add(
                    Row(
                        "event-pingpong-\(tag): 2 Events round trip, \(where_)",
                        unit: "µs",
                        ours: m[0],
                        peers: [("DispatchSemaphore pair", m[1]), ("flag+pthread_cond", m[2])],
                        against: "DispatchSemaphore pair"
                    )
                )
            }
        }
        if options.wants("semaphore-uncontended") {
            let n = 2_000_000
            let ours = try! Threading.Semaphore(1)
            let posix = PosixSemaphore(1)
            let dispatch = DispatchSemaphore(value: 1)
            let m = compare(
                s,
                [
                    {
                        let start = now()
                        for _ in 0..<n {
                            _ = try! ours.acquire()
                            try! ours.release()
                        }
                        return (now() - start) / Double(n) * 1e9
                    },
                    {
                        let start = now()
                        for _ in 0..<n {
                            sem_wait(posix.sem)
                            sem_post(posix.sem)
                        }
                        return (now() - start) / Double(n) * 1e9
                    },
                    {
                        let start = now()
                        for _ in 0..<n {
                            dispatch.wait()
                            dispatch.signal()
                        }
                        return (now() - start) / Double(n) * 1e9
                    },
                ]
            )
            report.add(
                Row(
                    "semaphore-uncontended: Semaphore acquire+release, 1 thread",
                    unit: "ns",
                    ours: m[0],
                    peers: [("sem_t", m[1]), ("DispatchSemaphore", m[2])],
                    against: "sem_t",
                    target: .ratioAtMost(0.7)
                )
            )
        }
        if options.wants("semaphore-handoff") {
            let n = 500_000
            func handoff(_ produce: @escaping @Sendable () -> Void, _ consume: @escaping @Sendable () -> Void) -> Double
            {
                let consumer = RawThread { for _ in 0..<n { consume() } }
                let start = now()
                for _ in 0..<n { produce() }
                consumer.join()
                return (now() - start) / Double(n) * 1e9
            }
            let m = compare(
                s,
                [
                    {
                        let sem = try! Threading.Semaphore(0)
                        return handoff({ try! sem.release() }, { _ = try! sem.acquire() })
                    },
                    {
                        let sem = PosixSemaphore(0)
                        return handoff({ sem_post(sem.sem) }, { sem_wait(sem.sem) })
                    },
                    {
                        let sem = DispatchSemaphore(value: 0)
                        return handoff({ sem.signal() }, { sem.wait() })
                    },
                ]
            )
            report.add(
                Row(
                    "semaphore-handoff: producer→consumer, 2 threads, per item",
                    unit: "ns",
                    ours: m[0],
                    peers: [("sem_t", m[1]), ("DispatchSemaphore", m[2])],
                    against: "DispatchSemaphore"
                )
            )
        }
        for pinned in [true, false] where options.wants("lockedvalue-buffer-\(pinned ? "pinned" : "unpinned")") {
            let n = pinned ? 200_000 : 100_000
            let capacity = 8
            func run(_ put: @escaping @Sendable () -> Void, _ take: @escaping @Sendable () -> Void) -> Double {
                onCPU0(pinned) {
                    let consumer = RawThread(pin: pinned ? 0 : nil) { for _ in 0..<n { take() } }
                    let start = now()
                    for _ in 0..<n { put() }
                    consumer.join()
                    return (now() - start) / Double(n) * 1e9
                }
            }
            let m = compare(
                s,
                [
                    {
                        let buffer = LockedValueBuffer(capacity: capacity)
                        return run({ buffer.put() }, { buffer.take() })
                    },
                    {
                        let buffer = ConditionBuffer(capacity: capacity)
                        return run({ buffer.put() }, { buffer.take() })
                    },
                ]
            )
            let where_ = pinned ? "both threads on CPU 0" : "unpinned"
            report.add(
                Row(
                    "lockedvalue-buffer-\(pinned ? "pinned" : "unpinned"): producer→consumer, bounded buffer of \(capacity), withLock(when:), \(where_), per item",
                    unit: "ns",
                    ours: m[0],
                    peers: [("Lock+2 Conditions+notify", m[1])],
                    target: .ratioAtMost(1.1)
                )
            )
        }
        for parties in [2, 4] where options.wants("barrier-\(parties)-pinned") {
            let generations = 2_000
            let m = compare(
                s,
                [
                    {
                        let barrier = try! Barrier(parties)
                        return barrierRun(parties: parties, generations: generations, pinned: true) {
                            _ = try! barrier.wait()
                        }
                    },
                    {
                        let barrier = PosixBarrier(parties)
                        return barrierRun(parties: parties, generations: generations, pinned: true) {
                            pthread_barrier_wait(barrier.barrier)
                        }
                    },
                    {
                        let barrier = CondvarBarrier(parties)
                        return barrierRun(parties: parties, generations: generations, pinned: true) { barrier.wait() }
                    },
                ]
            )
            report.add(
                Row(
                    "barrier-\(parties)-pinned: Barrier, \(parties) parties on CPU 0, per generation",
                    unit: "µs",
                    ours: m[0],
                    peers: [("pthread_barrier_t", m[1]), ("mutex+cond barrier", m[2])],
                    against: "pthread_barrier_t"
                )
            )
        }
    }
}

/// A pthread barrier on the heap.
final class PosixBarrier: @unchecked Sendable {
    // @unchecked Sendable: a pthread barrier is made for sharing between threads.
    let barrier = UnsafeMutablePointer<pthread_barrier_t>.allocate(capacity: 1)
    init(_ parties: Int) { pthread_barrier_init(barrier, nil, UInt32(parties)) }
    deinit {
        pthread_barrier_destroy(barrier)
        barrier.deallocate()
    }
}
