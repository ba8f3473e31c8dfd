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
func pingPong(rounds: Int, pinned: Bool, setup: () -> Void = {}, _ body: @escaping @Sendable (_ partner: Bool) -> Void) -> Double {
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
    init() { pthread_mutex_init(mutex, nil); pthread_cond_init(cond, nil) }
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

/// A flag + condition variable event, as most hand-written events are.
final class CondvarEvent: @unchecked Sendable {
    // @unchecked Sendable: `flag` is touched only while holding `mutex`.
    let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    var flag = false
    init() { pthread_mutex_init(mutex, nil); pthread_cond_init(cond, nil) }
    func set() { pthread_mutex_lock(mutex); flag = true; pthread_cond_broadcast(cond); pthread_mutex_unlock(mutex) }
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
    deinit { sem_destroy(sem); sem.deallocate() }
}

/// A mutex + condition barrier (generation counting), the usual hand-written barrier.
final class CondvarBarrier: @unchecked Sendable {
    // @unchecked Sendable: `count` and `generation` are touched only while holding `mutex`.
    let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    let parties: Int
    var count = 0
    var generation = 0
    init(_ parties: Int) { self.parties = parties; pthread_mutex_init(mutex, nil); pthread_cond_init(cond, nil) }
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
    static func run(_ options: Options) -> [Row] {
        var rows: [Row] = []
        let s = options.samples
        let rounds = 5_000
        for pinned in [true, false] {
            let tag = pinned ? "pinned" : "unpinned"
            if options.wants("condition-pingpong-\(tag)") {
                let ours = medianOf(s) {
                    let t = OursTurn()
                    return pingPong(rounds: rounds, pinned: pinned) { t.play($0 ? 1 : 0, rounds: rounds) }
                }
                let pthread = medianOf(s) {
                    let t = PthreadTurn()
                    return pingPong(rounds: rounds, pinned: pinned) { t.play($0 ? 1 : 0, rounds: rounds) }
                }
                let ns = medianOf(s) {
                    let t = NSConditionTurn()
                    return pingPong(rounds: rounds, pinned: pinned) { t.play($0 ? 1 : 0, rounds: rounds) }
                }
                rows.append(Row("condition-pingpong-\(tag) (round trip)", unit: "µs", ours: ours,
                    peers: [("pthread-cond", pthread), ("NSCondition", ns)], target: pinned ? 1.0 : nil))
            }
            if options.wants("event-pingpong-\(tag)") {
                let ours = medianOf(s) {
                    let ping = Event(), pong = Event()
                    return pingPong(rounds: rounds, pinned: pinned) { partner in
                        for _ in 0..<rounds {
                            if partner {
                                _ = try! ping.wait(); ping.clear(); pong.set()
                            } else {
                                ping.set(); _ = try! pong.wait(); pong.clear()
                            }
                        }
                    }
                }
                let dispatch = medianOf(s) {
                    let ping = DispatchSemaphore(value: 0), pong = DispatchSemaphore(value: 0)
                    return pingPong(rounds: rounds, pinned: pinned) { partner in
                        for _ in 0..<rounds {
                            if partner { ping.wait(); pong.signal() } else { ping.signal(); pong.wait() }
                        }
                    }
                }
                let condvar = medianOf(s) {
                    let ping = CondvarEvent(), pong = CondvarEvent()
                    return pingPong(rounds: rounds, pinned: pinned) { partner in
                        for _ in 0..<rounds {
                            if partner { ping.waitAndClear(); pong.set() } else { ping.set(); pong.waitAndClear() }
                        }
                    }
                }
                rows.append(Row("event-pingpong-\(tag) (round trip)", unit: "µs", ours: ours,
                    peers: [("DispatchSemaphore", dispatch), ("flag+condvar", condvar)],
                    against: "DispatchSemaphore", target: pinned ? 1.0 : nil))
            }
        }
        if options.wants("semaphore-uncontended") {
            let n = 2_000_000
            let ours = medianOf(s) {
                let sem = try! Threading.Semaphore(1)
                let start = now()
                for _ in 0..<n { try! sem.acquire(); try! sem.release() }
                return (now() - start) / Double(n) * 1e9
            }
            let posix = medianOf(s) {
                let sem = PosixSemaphore(1)
                let start = now()
                for _ in 0..<n { sem_wait(sem.sem); sem_post(sem.sem) }
                return (now() - start) / Double(n) * 1e9
            }
            let dispatch = medianOf(s) {
                let sem = DispatchSemaphore(value: 1)
                let start = now()
                for _ in 0..<n { sem.wait(); sem.signal() }
                return (now() - start) / Double(n) * 1e9
            }
            rows.append(Row("semaphore-uncontended (acquire+release)", unit: "ns", ours: ours,
                peers: [("sem_t", posix), ("DispatchSemaphore", dispatch)], against: "sem_t", target: 0.7))
        }
        if options.wants("semaphore-handoff") {
            let n = 1_000_000
            func handoff(_ produce: @escaping @Sendable () -> Void, _ consume: @escaping @Sendable () -> Void) -> Double {
                let consumer = RawThread { for _ in 0..<n { consume() } }
                let start = now()
                for _ in 0..<n { produce() }
                consumer.join()
                return (now() - start) / Double(n) * 1e9
            }
            let ours = medianOf(s) {
                let sem = try! Threading.Semaphore(0)
                return handoff({ try! sem.release() }, { _ = try! sem.acquire() })
            }
            let posix = medianOf(s) {
                let sem = PosixSemaphore(0)
                return handoff({ sem_post(sem.sem) }, { sem_wait(sem.sem) })
            }
            let dispatch = medianOf(s) {
                let sem = DispatchSemaphore(value: 0)
                return handoff({ sem.signal() }, { sem.wait() })
            }
            rows.append(Row("semaphore-handoff (producer→consumer, per item)", unit: "ns", ours: ours,
                peers: [("sem_t", posix), ("DispatchSemaphore", dispatch)], against: "DispatchSemaphore"))
        }
        for parties in [2, 4] where options.wants("barrier-\(parties)") {
            let generations = 2_000
            let ours = medianOf(s) {
                let barrier = try! Barrier(parties)
                return barrierRun(parties: parties, generations: generations, pinned: true) { _ = try! barrier.wait() }
            }
            let posix = medianOf(s) {
                let barrier = UnsafeMutablePointer<pthread_barrier_t>.allocate(capacity: 1)
                pthread_barrier_init(barrier, nil, UInt32(parties))
                let box = UnsafeSendable(barrier)
                return barrierRun(parties: parties, generations: generations, pinned: true) { pthread_barrier_wait(box.value) }
            }
            let condvar = medianOf(s) {
                let barrier = CondvarBarrier(parties)
                return barrierRun(parties: parties, generations: generations, pinned: true) { barrier.wait() }
            }
            rows.append(Row("barrier-\(parties)-pinned (per generation)", unit: "µs", ours: ours,
                peers: [("pthread_barrier", posix), ("mutex+cond", condvar)], against: "pthread_barrier"))
        }
        return rows
    }
}

/// A pointer to memory made for sharing between threads (a pthread barrier).
struct UnsafeSendable<T>: @unchecked Sendable {
    // @unchecked Sendable: wraps pointers to thread-safe C objects only.
    let value: T
    init(_ value: T) { self.value = value }
}
