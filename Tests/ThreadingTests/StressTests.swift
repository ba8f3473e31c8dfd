// Stress tests: many threads hammering each primitive for a long time, checking the invariants
// that a lost wake-up, a broken mutual exclusion or a miscounted unit would violate. Every wait
// has a generous timeout, so such a bug fails the test instead of hanging it.

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

@Suite(.serialized) struct StressTests {
    /// How long any single wait in these tests may take before it counts as a lost wake-up.
    static let patience = 20.0

    /// Whether ThreadSanitizer is in the process: it makes every hand-off between threads far
    /// slower, so the tests made only of hand-offs run a tenth of their rounds under it (the
    /// counts that the checks are about, 8 × 100k increments and 4 × 10k barrier generations,
    /// stay as they are).
    static let underThreadSanitizer = dlsym(nil, "__tsan_init") != nil

    /// `n`, or a tenth of it under ThreadSanitizer.
    static func scaled(_ n: Int) -> Int { underThreadSanitizer ? n / 10 : n }

    // MARK: Mutual exclusion

    @Test func lockProtectsPlainCounter() throws {
        let lock = Lock()
        let box = UnguardedBox()
        let threads = spawn(8) { _ in
            for _ in 0..<100_000 {
                try! lock.acquire()
                box.value += 1
                try! lock.release()
            }
        }
        threads.joinAll()
        #expect(box.value == 800_000)
        #expect(!lock.isLocked)
    }

    @Test func rlockTwoDeepProtectsPlainCounter() throws {
        let lock = RLock()
        let box = UnguardedBox()
        let depthErrors = Counter()
        let threads = spawn(8) { _ in
            for _ in 0..<100_000 {
                try! lock.acquire()
                try! lock.acquire()
                box.value += 1
                try! lock.release()
                // Still held one level deep: the owner is still this thread.
                if !lock.isOwnedByCurrentThread || lock.recursionCount != 1 { depthErrors.increment() }
                box.value += 1
                try! lock.release()
            }
        }
        threads.joinAll()
        #expect(box.value == 1_600_000)
        #expect(depthErrors.current == 0)
        #expect(!lock.isLocked)
    }

    @Test func lockTimedAcquireChurnKeepsMutualExclusion() throws {
        let lock = Lock()
        let owner = Atomic<Int>(0)  // 0: free; otherwise the holder's number
        let box = UnguardedBox()
        let acquisitions = Counter()
        let violations = Counter()
        let failedBlocking = Counter()
        let threadCount = 6
        let rounds = Self.scaled(50_000)
        let threads = spawn(threadCount) { i in
            let me = i + 1
            for round in 0..<rounds {
                let got: Bool
                switch (round + i) % 3 {
                case 0: got = try! lock.acquire(timeout: 0.0005)
                case 1: got = try! lock.acquire(blocking: false)
                default:
                    got = try! lock.acquire()
                    if !got { failedBlocking.increment() }
                }
                guard got else { continue }
                if owner.exchange(me, ordering: .sequentiallyConsistent) != 0 { violations.increment() }
                box.value += 1
                if round % 64 == 0 { sched_yield() }  // hold it a while now and then
                if owner.exchange(0, ordering: .sequentiallyConsistent) != me { violations.increment() }
                acquisitions.increment()
                try! lock.release()
            }
        }
        threads.joinAll()
        #expect(violations.current == 0)
        #expect(failedBlocking.current == 0)
        #expect(box.value == acquisitions.current)
        // Every plain acquire succeeds, so at least a third of the attempts got the lock.
        #expect(acquisitions.current >= threadCount * rounds / 3)
        #expect(!lock.isLocked)
    }

    // MARK: Condition

    @Test(arguments: StressConditionFlavour.allCases)
    func conditionProducersConsumers(_ flavour: StressConditionFlavour) throws {
        let producers = 4
        let itemsPerProducer = Self.scaled(20_000)
        let consumers = 4
        let capacity = 64
        let (notEmpty, notFull) = flavour.makeConditions()
        let queue = GuardedQueue()  // guarded by the conditions' lock
        let consumed = SharedList<[Int]>()
        let failures = SharedList<String>()

        // Holds `cond`'s lock, two levels deep when it is an RLock, around `body`.
        @Sendable func locked(_ cond: Condition, _ body: () throws -> Void) throws {
            try cond.acquire()
            if flavour.isReentrant { try cond.acquire() }
            defer {
                if flavour.isReentrant { try! cond.release() }
                try! cond.release()
            }
            try body()
        }

        let consumerThreads = spawn(consumers) { _ in
            var mine: [Int] = []
            do {
                loop: while true {
                    var item: Int? = nil
                    try locked(notEmpty) {
                        let start = monotonicSeconds()
                        let ready = try notEmpty.waitFor(timeout: Self.patience) { !queue.items.isEmpty || queue.done }
                        if ready && monotonicSeconds() - start >= Self.patience {
                            // Notified, but found so only when its deadline woke it.
                            failures.append("a consumer's wake-up came only at its timeout: lost wake-up")
                        }
                        if !ready {
                            failures.append("a consumer waited \(Self.patience) s: lost wake-up")
                            return
                        }
                        if queue.items.isEmpty { return }  // done and drained
                        item = queue.items.removeFirst()
                        if flavour.sharesOneCondition { try notFull.notifyAll() } else { try notFull.notify() }
                    }
                    guard let item else { break loop }
                    mine.append(item)
                }
            } catch {
                failures.append("a consumer threw \(error)")
            }
            consumed.append(mine)
        }
        let producerThreads = spawn(producers) { p in
            do {
                for k in 0..<itemsPerProducer {
                    let item = p * itemsPerProducer + k
                    var stuck = false
                    try locked(notFull) {
                        let start = monotonicSeconds()
                        let ready = try notFull.waitFor(timeout: Self.patience) { queue.items.count < capacity }
                        if ready && monotonicSeconds() - start >= Self.patience {
                            failures.append("a producer's wake-up came only at its timeout: lost wake-up")
                        }
                        if !ready {
                            failures.append("a producer waited \(Self.patience) s: lost wake-up")
                            stuck = true
                            return
                        }
                        queue.items.append(item)
                        if flavour.sharesOneCondition { try notEmpty.notifyAll() } else { try notEmpty.notify() }
                    }
                    if stuck { return }
                }
            } catch {
                failures.append("a producer threw \(error)")
            }
        }
        producerThreads.joinAll()
        try locked(notEmpty) {
            queue.done = true
            try notEmpty.notifyAll()
        }
        consumerThreads.joinAll()

        #expect(failures.values == [])
        let all = consumed.values.flatMap { $0 }.sorted()
        #expect(all.count == producers * itemsPerProducer)
        #expect(all == Array(0..<(producers * itemsPerProducer)), "some item was lost or consumed twice")
        // Each consumer sees each producer's items in the order they were produced (a FIFO queue).
        for list in consumed.values {
            for p in 0..<producers {
                let fromP = list.filter { $0 / itemsPerProducer == p }
                #expect(fromP == fromP.sorted())
            }
        }
        #expect(queue.items.isEmpty)
    }

    // MARK: Semaphores

    @Test func boundedSemaphorePoolNeverOverbooks() throws {
        let pool = try BoundedSemaphore(3)
        let inUse = Atomic<Int>(0)
        let highWater = Atomic<Int>(0)
        let overbooked = Counter()
        let timeouts = Counter()
        let threads = spawn(16) { _ in
            for round in 0..<Self.scaled(5_000) {
                guard try! pool.acquire(timeout: Self.patience) else {
                    timeouts.increment()
                    return
                }
                let now = inUse.add(1, ordering: .sequentiallyConsistent).newValue
                if now > 3 { overbooked.increment() }
                highWater.max(now, ordering: .relaxed)
                if round % 32 == 0 { sched_yield() }
                inUse.subtract(1, ordering: .sequentiallyConsistent)
                try! pool.release()
            }
        }
        threads.joinAll()
        #expect(timeouts.current == 0)
        #expect(overbooked.current == 0)
        #expect(highWater.load(ordering: .relaxed) >= 1)
        #expect(highWater.load(ordering: .relaxed) <= 3)
        #expect(inUse.load(ordering: .relaxed) == 0)
        #expect(pool.currentValue == 3)
        // Still bounded after all that traffic.
        expectThreadingError(.valueError, "Semaphore released too many times") { try pool.release() }
        #expect(pool.currentValue == 3)
    }

    @Test func semaphoreReleaseBurstsReachEveryWaiter() throws {
        let sem = try Threading.Semaphore(0)
        let waiterCount = 8
        let bursts = Self.scaled(3_000)
        let consumed = Counter()
        let perWaiter = SharedList<Int>()
        let stop = Atomic<Bool>(false)
        let failures = SharedList<String>()
        let waiters = spawn(waiterCount) { _ in
            var mine = 0
            while true {
                guard try! sem.acquire(timeout: Self.patience) else {
                    failures.append("a waiter waited \(Self.patience) s: lost wake-up")
                    break
                }
                // Stop units are released only once every counted unit has been consumed.
                if stop.load(ordering: .sequentiallyConsistent) { break }
                mine += 1
                consumed.increment()
            }
            perWaiter.append(mine)
        }
        var released = 0
        var rng = SplitMix(seed: 0x5eed)
        for burst in 0..<bursts {
            if burst % 100 == 0 { waitThreadsBlocked(1) }  // now and then, let everyone park first
            let n = 1 + Int(rng.next() % 8)
            try sem.release(n)
            released += n
            // Every unit of the burst is taken: none is lost while threads wait.
            let deadline = monotonicSeconds() + Self.patience
            while consumed.current < released && monotonicSeconds() < deadline { sched_yield() }
            if consumed.current != released {
                Issue.record("burst \(burst): \(consumed.current) units taken of \(released) released")
                break
            }
        }
        #expect(sem.currentValue == 0)
        stop.store(true, ordering: .sequentiallyConsistent)
        try sem.release(waiterCount)  // one stop unit per waiter
        waiters.joinAll()
        #expect(failures.values == [])
        #expect(consumed.current == released)
        #expect(perWaiter.values.reduce(0, +) == released)
        #expect(sem.currentValue == 0, "each waiter takes exactly one stop unit")
    }

    // MARK: Barrier

    @Test func barrierGenerationsArePermutations() throws {
        let parties = 4
        let generations = 10_000
        let barrier = try Barrier(parties)
        let results = SharedList<[Int]>()
        let failures = SharedList<String>()
        let threads = spawn(parties) { _ in
            var indices: [Int] = []
            indices.reserveCapacity(generations)
            do {
                for _ in 0..<generations { indices.append(try barrier.wait(timeout: Self.patience)) }
            } catch {
                failures.append("\(error)")
            }
            results.append(indices)
        }
        threads.joinAll()
        #expect(failures.values == [])
        #expect(!barrier.isBroken)
        let perThread = results.values
        #expect(perThread.count == parties)
        guard perThread.allSatisfy({ $0.count == generations }) else {
            Issue.record("a thread did not pass every generation")
            return
        }
        // A thread's k-th return belongs to generation k: no thread can enter generation k + 1
        // before every thread has left generation k.
        var badGenerations: [Int] = []
        for g in 0..<generations {
            let indices = perThread.map { $0[g] }.sorted()
            if indices != Array(0..<parties) { badGenerations.append(g) }
        }
        #expect(badGenerations.isEmpty, "generations whose indices are not a permutation: \(badGenerations.prefix(10))")
    }

    // MARK: Event

    @Test func eventPingPong() throws {
        let ping = Event()
        let pong = Event()
        let roundTrips = Self.scaled(20_000)
        let pinged = Counter()
        let ponged = Counter()
        let failures = SharedList<String>()
        let server = RawThread {
            for _ in 0..<roundTrips {
                guard try! ping.wait(timeout: Self.patience) else {
                    failures.append("ping lost")
                    return
                }
                ping.clear()
                pinged.increment()
                pong.set()
            }
        }
        let client = RawThread {
            for _ in 0..<roundTrips {
                ping.set()
                guard try! pong.wait(timeout: Self.patience) else {
                    failures.append("pong lost")
                    return
                }
                pong.clear()
                ponged.increment()
            }
        }
        client.join()
        server.join()
        #expect(failures.values == [])
        #expect(pinged.current == roundTrips)
        #expect(ponged.current == roundTrips)
        #expect(!ping.isSet)
        #expect(!pong.isSet)
    }
}

/// The ways a producer/consumer queue can be built on conditions.
enum StressConditionFlavour: String, CaseIterable, Sendable, CustomTestStringConvertible {
    /// `notEmpty` and `notFull` over one shared `Lock`.
    case twoConditionsOneLock
    /// `notEmpty` and `notFull` over one shared `RLock`, held two levels deep.
    case twoConditionsOneRLock
    /// A single `Condition()` (its own `RLock`, held two levels deep) for both, with `notifyAll`.
    case oneDefaultCondition

    var testDescription: String { rawValue }

    var isReentrant: Bool { self != .twoConditionsOneLock }
    var sharesOneCondition: Bool { self == .oneDefaultCondition }

    func makeConditions() -> (notEmpty: Condition, notFull: Condition) {
        switch self {
        case .twoConditionsOneLock:
            let lock = Lock()
            return (Condition(lock), Condition(lock))
        case .twoConditionsOneRLock:
            let lock = RLock()
            return (Condition(lock), Condition(lock))
        case .oneDefaultCondition:
            let cond = Condition()
            return (cond, cond)
        }
    }
}

/// A plain, non-atomic counter.
private final class UnguardedBox: @unchecked Sendable {
    // @unchecked Sendable: `value` is read and written only while holding the test's Lock or RLock
    // (or after every thread has been joined); a data race here is exactly what the tests detect.
    var value = 0
}

/// A queue and a flag for the producer/consumer test.
private final class GuardedQueue: @unchecked Sendable {
    // @unchecked Sendable: both fields are accessed only while holding the conditions' lock (or
    // after every thread has been joined).
    var items: [Int] = []
    var done = false
}

/// A small deterministic random number generator (SplitMix64).
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
