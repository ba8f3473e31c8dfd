// `ThreadLocal<Value>`: the default factory, per-thread values, release at thread exit and with the
// object, and stress of the per-thread storage shared with `Local`.

import Dispatch
import Synchronization
import Testing

@testable import Threading

/// A value whose `deinit`, run as its thread ends, stores a value in another local of the same
/// thread: the storage must release that one too.
final class ReentrantValue: Sendable {
    private let other: ThreadLocal<TrackedValue?>
    private let deinits: Counter

    init(other: ThreadLocal<TrackedValue?>, deinits: Counter) {
        self.other = other
        self.deinits = deinits
    }

    deinit {
        deinits.increment()
        other.value = TrackedValue(deinits: deinits)
    }
}

@Suite struct ThreadLocalTests {
    /// The factory runs once per thread, on the thread's first read, in every thread.
    @Test func defaultFactoryRunsOncePerThread() {
        let calls = Counter()
        let local = ThreadLocal<Int> { calls.increment() }
        let wrong = Counter()
        let threads = spawn(8) { i in
            let first = local.value
            for _ in 0..<100 where local.value != first { wrong.increment() }
            local.value = 1_000 + i
            for _ in 0..<100 where local.value != 1_000 + i { wrong.increment() }
        }
        for thread in threads { thread.join() }
        #expect(calls.current == 8)
        #expect(wrong.current == 0)
        // Distinct calls gave each thread its own first value.
        _ = local.value
        #expect(calls.current == 9)
    }

    /// A thread whose first access assigns never runs the factory.
    @Test func assignmentBeforeReadSkipsFactory() {
        let calls = Counter()
        let local = ThreadLocal<String> {
            calls.increment()
            return "default"
        }
        let t = RawThread {
            local.value = "mine"
            #expect(local.value == "mine")
        }
        t.join()
        #expect(calls.current == 0)
        #expect(local.value == "default")
        #expect(calls.current == 1)
    }

    /// In-place mutation changes this thread's value only.
    @Test func inPlaceMutation() {
        let counter = ThreadLocal<Int> { 0 }
        let list = ThreadLocal<[Int]> { [] }
        let results = SharedList<[Int]>()
        let threads = spawn(4) { i in
            for j in 0..<100 {
                counter.value += 1
                list.value.append(i * 100 + j)
            }
            results.append([counter.value] + list.value)
        }
        for thread in threads { thread.join() }
        let sorted = results.values.sorted { $0[1] < $1[1] }
        for (i, result) in sorted.enumerated() {
            #expect(result == [100] + (0..<100).map { i * 100 + $0 })
        }
        #expect(counter.value == 0)
        #expect(list.value.isEmpty)
    }

    /// A factory may use other thread-local data, and may even assign its own local.
    @Test func factoryUsesThreadLocals() {
        let base = ThreadLocal<Int> { 7 }
        let derived = ThreadLocal<Int> { base.value * 6 }
        #expect(derived.value == 42)
        final class SelfAssigning: Sendable {
            let local = Mutex<ThreadLocal<Int>?>(nil)
        }
        let holder = SelfAssigning()
        let local = ThreadLocal<Int> {
            holder.local.withLock { $0 }!.value = 5
            return 1
        }
        holder.local.withLock { $0 = local }
        #expect(local.value == 5)
        holder.local.withLock { $0 = nil }
    }

    /// A thread's value is released when the thread ends, not before.
    @Test func valueReleasedAtThreadExit() {
        let deinits = Counter()
        let local = ThreadLocal<TrackedValue?> { nil }
        let stored = PollingSignal()
        let finish = PollingSignal()
        let t = RawThread {
            local.value = TrackedValue(deinits: deinits)
            stored.set()
            finish.wait()
        }
        stored.wait()
        #expect(deinits.current == 0)
        finish.set()
        t.join()
        #expect(deinits.current == 1)
        #expect(local.value == nil)
    }

    /// Every thread's value is released when the `ThreadLocal` is, while the threads still run.
    @Test func valuesReleasedWithThreadLocal() {
        let deinits = Counter()
        let holder = Holder<ThreadLocal<TrackedValue>>(ThreadLocal { TrackedValue(deinits: deinits) })
        let stored = Counter()
        let bunch = Bunch(4, waitBeforeExit: true) {
            do { _ = holder.object!.value }  // makes this thread's value; the reference ends here
            stored.increment()
        }
        while stored.current < 4 { sleep(seconds: 0.001) }
        #expect(deinits.current == 0)
        holder.clear()
        #expect(deinits.current == 4)
        bunch.join()
        #expect(deinits.current == 4)
    }

    /// A value whose `deinit` (run at thread exit) stores thread-local data again: the new value
    /// is released too (in the C library's next round of key destructors).
    @Test func reentrantReleaseAtThreadExit() {
        let deinits = Counter()
        let other = ThreadLocal<TrackedValue?> { nil }
        let local = ThreadLocal<ReentrantValue?> { nil }
        let threads = spawn(20) { _ in
            local.value = ReentrantValue(other: other, deinits: deinits)
        }
        for thread in threads { thread.join() }
        #expect(deinits.current == 40)
    }

    /// 10,000 short-lived raw threads, each with a value: all are released.
    @Test func tenThousandThreadsLeaveNoValue() async {
        // Off the cooperative pool: see `offThePool`.
        await offThePool {
            let deinits = Counter()
            let local = ThreadLocal<TrackedValue?> { nil }
            for _ in 0..<200 {
                let threads = spawn(50) { i in
                    local.value = TrackedValue(i, deinits: deinits)
                    #expect(local.value?.id == i)
                }
                for thread in threads { thread.join() }
            }
            #expect(deinits.current == 10_000)
            // The ended threads' tables are gone too (the bound leaves room for other suites' threads).
            #expect(LocalRegistry.shared.liveTableCount < 1_000)
        }
    }

    /// 10,000 `ThreadLocal`s created and released with values in four running threads.
    @Test func tenThousandThreadLocalsLeaveNoValue() async {
        // Off the cooperative pool: see `offThePool`.
        await offThePool {
            let deinits = Counter()
            let round = Holder<SharedList<ThreadLocal<TrackedValue>>>()
            let barrier = PollingBarrier(5)
            let rounds = 10
            let perRound = 1_000
            let bunch = Bunch(4, waitBeforeExit: true) {  // alive until after the last check
                for _ in 0..<rounds {
                    barrier.wait()
                    for local in round.object!.values { _ = local.value }
                    barrier.wait()
                }
            }
            for r in 0..<rounds {
                do {
                    let locals = SharedList<ThreadLocal<TrackedValue>>()
                    for i in 0..<perRound { locals.append(ThreadLocal { TrackedValue(i, deinits: deinits) }) }
                    round.set(locals)
                }
                barrier.wait()
                barrier.wait()
                round.clear()
                #expect(deinits.current == (r + 1) * perRound * 4)
            }
            bunch.join()
            #expect(deinits.current == rounds * perRound * 4)
        }
    }

    /// Values set on Dispatch worker threads are released with the `ThreadLocal`.
    @Test func dispatchWorkersReleasedWithThreadLocal() {
        let deinits = Counter()
        let made = Counter()
        var local: ThreadLocal<TrackedValue>? = ThreadLocal {
            made.increment()
            return TrackedValue(deinits: deinits)
        }
        let shared = local!
        DispatchQueue.concurrentPerform(iterations: 64) { _ in
            _ = shared.value
        }
        #expect(made.current >= 1)
        #expect(deinits.current == 0)
        _ = consume shared
        local = nil
        _ = local
        // Released by the `ThreadLocal`'s deinit, or (if a worker was just retiring) by the
        // worker's own exit, which may still be finishing: allow it a moment.
        let deadline = monotonicSeconds() + 5
        while deinits.current < made.current && monotonicSeconds() < deadline { sleep(seconds: 0.001) }
        #expect(deinits.current == made.current)
    }

    /// Many threads × many locals (of both kinds), each thread reading back exactly its own values,
    /// while another thread keeps creating and releasing locals (so their `deinit`s walk every
    /// thread's storage during the reads).
    @Test func manyThreadsManyLocalsStress() {
        let locals = (0..<64).map { _ in ThreadLocal<Int> { -1 } }
        let attributeLocals = (0..<16).map { _ in Local() }
        let stop = Atomic<Bool>(false)
        let wrong = Counter()
        let churnDeinits = Counter()
        let churn = RawThread {
            var n = 0
            while !stop.load(ordering: .relaxed) {
                let temporary = ThreadLocal<TrackedValue?> { nil }
                temporary.value = TrackedValue(deinits: churnDeinits)
                let attributes = Local()
                attributes.x = n
                n += 1
            }
        }
        let threads = spawn(16) { t in
            for round in 0..<200 {
                for (j, local) in locals.enumerated() {
                    if round > 0 && local.value != t * 1_000_000 + j * 1_000 + round - 1 { wrong.increment() }
                    local.value = t * 1_000_000 + j * 1_000 + round
                }
                for (j, local) in attributeLocals.enumerated() {
                    if round > 0 && local.x as? Int != t * 1_000 + j { wrong.increment() }
                    local.x = t * 1_000 + j
                }
                // Short-lived locals on this thread too: slots are freed and reused meanwhile.
                let temporary = ThreadLocal<Int> { t }
                if temporary.value != t { wrong.increment() }
            }
        }
        for thread in threads { thread.join() }
        stop.store(true, ordering: .relaxed)
        churn.join()
        #expect(wrong.current == 0)
        for local in locals { #expect(local.value == -1) }
        for local in attributeLocals { #expect(local.x == nil) }
    }

    /// Threads ending while their local is released on another thread: every stored value is
    /// released exactly once, by whichever comes first.
    @Test func threadExitRacesRelease() {
        let deinits = Counter()
        let stores = Counter()
        for round in 0..<50 {
            let holder = Holder<ThreadLocal<TrackedValue?>>(ThreadLocal { nil })
            let before = stores.current
            let threads = spawn(8) { i in
                if let local = holder.object {
                    local.value = TrackedValue(i, deinits: deinits)
                    stores.increment()
                }
            }
            // Every tenth round lets a thread store first, so that some values are stored even
            // when the machine is too loaded for the threads to win the race.
            if round.isMultiple(of: 10) { _ = eventuallyBlocking { stores.current > before } }
            holder.clear()
            for thread in threads { thread.join() }
        }
        #expect(stores.current > 0)
        #expect(deinits.current == stores.current)
    }

    /// A value's `deinit` has run when `join()` returns, and when `isAlive` turns false, in every
    /// round (this returned first in about half the rounds).
    @Test func valueReleasedBeforeJoinReturns() throws {
        let local = ThreadLocal<TrackedValue?> { nil }
        let deinits = Counter()
        for round in 1...1000 {
            let thread = Threading.Thread(target: { local.value = TrackedValue(round, deinits: deinits) })
            try thread.start()
            if round.isMultiple(of: 2) {
                try thread.join()
            } else {
                while thread.isAlive { sleep(seconds: 0.000_05) }
            }
            if deinits.current != round {
                Issue.record("round \(round): \(deinits.current) values released when the thread ended")
                break
            }
        }
    }

}
