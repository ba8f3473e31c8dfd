// Tests of `LockedValue`, the lock that owns its value (no CPython counterpart): `withLock` on
// every path (return, throw, nested values that are not Sendable), `withLock(when:timeout:_:)`
// with every kind of timeout and its errors, waiters served only when their own condition holds
// (the conditions evaluated by the thread leaving the lock, not by woken waiters), first come
// first served among satisfied waiters, and exact-count stress with bounded buffers and timeouts.

import Synchronization
import Testing

@testable import Threading

@Suite(.serialized) struct LockedValueTests {
    struct Failure: Error, Equatable {}

    /// A class that is not `Sendable`: it can live in a `LockedValue` all the same.
    final class Box {
        var items: [Int] = []
    }

    // MARK: - withLock

    @Test func withLockReturnsTheBodysResultAndKeepsItsChanges() {
        let value = LockedValue(1)
        let doubled = value.withLock { v -> Int in
            v += 1
            return v * 2
        }
        #expect(doubled == 4)
        #expect(value.withLock { $0 } == 2)
    }

    @Test func withLockReleasesWhenTheBodyThrows() {
        let value = LockedValue(0)
        #expect(throws: Failure.self) {
            try value.withLock { (v: inout Int) throws(Failure) -> Void in
                v = 7
                throw Failure()
            }
        }
        // The change made before the throw stays, and the lock is free again.
        #expect(value.withLock { $0 } == 7)
        #expect(value.word.load(ordering: .relaxed) == RawLock.unlocked)
    }

    @Test func withLockKeepsTheThrownErrorsType() {
        let value = LockedValue(0)
        do {
            try value.withLock { (_: inout Int) throws(Failure) in throw Failure() }
        } catch {
            // `error` is statically a `Failure`: typed throws pass through.
            #expect(error == Failure())
        }
    }

    @Test func aValueThatIsNotSendableIsSharedThroughTheLock() {
        let shared = LockedValue(Box())
        let threads = spawn(4) { i in
            for k in 0..<1000 { shared.withLock { $0.items.append(i * 1000 + k) } }
        }
        for thread in threads { thread.join() }
        let items = shared.withLock { $0.items.sorted() }
        #expect(items == Array(0..<4000))
    }

    @Test func theLockExcludesOtherThreads() {
        let value = LockedValue(0)
        let inside = Atomic<Int>(0)
        let overlaps = Atomic<Int>(0)
        let threads = spawn(4) { _ in
            for _ in 0..<20_000 {
                value.withLock { v in
                    if inside.add(1, ordering: .sequentiallyConsistent).newValue != 1 {
                        overlaps.add(1, ordering: .relaxed)
                    }
                    v += 1
                    inside.subtract(1, ordering: .sequentiallyConsistent)
                }
            }
        }
        for thread in threads { thread.join() }
        #expect(value.withLock { $0 } == 80_000)
        #expect(overlaps.load(ordering: .relaxed) == 0)
    }

    // MARK: - withLock(when:) without waiting

    @Test func aConditionThatHoldsRunsTheBodyAtOnce() throws {
        let value = LockedValue(5)
        for timeout in [nil, 0, -1, 0.5, -Double.infinity] as [Double?] {
            let calls = Counter()
            let result = try value.withLock(
                when: {
                    calls.increment()
                    return $0 == 5
                },
                timeout: timeout,
                { $0 * 10 }
            )
            #expect(result == 50)
            #expect(calls.current == 1)
        }
    }

    @Test func aZeroOrNegativeTimeoutDoesNotWait() throws {
        let value = LockedValue(0)
        for timeout in [0, -1, -0.5, -Double.infinity] {
            var ran = false
            let elapsed = try measure {
                let result: Void? = try value.withLock(when: { $0 > 0 }, timeout: timeout) { _ in ran = true }
                #expect(result == nil)
            }
            #expect(!ran)
            #expect(elapsed < 1)
        }
        // Nothing was left queued, and the lock is free.
        #expect(value.waiters.isEmpty)
        #expect(value.word.load(ordering: .relaxed) == RawLock.unlocked)
    }

    @Test func aNaNTimeoutThrowsValueErrorBeforeAnythingElse() {
        let value = LockedValue(1)
        let calls = Counter()
        expectThreadingError(.valueError, "Invalid value NaN (not a number)") {
            try value.withLock(
                when: {
                    calls.increment()
                    return $0 == 1
                },
                timeout: .nan
            ) { $0 }
        }
        #expect(calls.current == 0)
        #expect(value.withLock { $0 } == 1)
    }

    @Test func aTooLargeTimeoutThrowsOverflowError() throws {
        let value = LockedValue(1)
        for timeout in [timeoutMax * 2, .infinity] {
            expectThreadingError(.overflowError, "timeout value is too large") {
                try value.withLock(when: { $0 == 1 }, timeout: timeout) { $0 }
            }
        }
        // timeoutMax itself is a valid timeout.
        #expect(try value.withLock(when: { $0 == 1 }, timeout: timeoutMax, { $0 }) == 1)
    }

    // MARK: - withLock(when:) waiting

    @Test func aTimedWaitReturnsNilOnlyAfterTheTimeout() throws {
        let value = LockedValue(0)
        for timeout in [0.01, 0.1] {
            var ran = false
            let elapsed = try measure {
                let result: Void? = try value.withLock(when: { $0 > 0 }, timeout: timeout) { _ in ran = true }
                #expect(result == nil)
            }
            #expect(!ran)
            #expect(elapsed >= timeout, "returned after \(elapsed) s, before the \(timeout) s timeout")
            #expect(elapsed < timeout + 5)
        }
        #expect(value.waiters.isEmpty)
        #expect(value.word.load(ordering: .relaxed) == RawLock.unlocked)
    }

    @Test func aWaiterWakesWhenAnotherBodyMakesItsConditionTrueWithoutANotify() throws {
        let value = LockedValue<[String]>([])
        let got = SharedList<String>()
        let consumer = spawn { _ in
            let message = try! value.withLock(when: { !$0.isEmpty }) { $0.removeFirst() }
            got.append(message ?? "timed out")
        }
        waitThreadsBlocked(1)
        #expect(got.count == 0)
        value.withLock { $0.append("hello") }
        consumer[0].join()
        #expect(got.values == ["hello"])
        #expect(value.withLock { $0 } == [])
    }

    @Test func aTimedWaiterIsServedBeforeItsTimeout() throws {
        let value = LockedValue(0)
        let result = SharedList<Int?>()
        let waiter = spawn { _ in
            result.append(
                try! value.withLock(when: { $0 == 3 }, timeout: 30) { v -> Int in
                    v = 100
                    return 3
                }
            )
        }
        for _ in 0..<3 {
            waitThreadsBlocked(1)
            value.withLock { $0 += 1 }
        }
        waiter[0].join()
        #expect(result.values == [3])
        #expect(value.withLock { $0 } == 100)
    }

    @Test func conditionsAreEvaluatedByTheThreadLeavingTheLock() throws {
        // Once queued, a waiter is not woken to look at the value: the thread whose body ends
        // evaluates its condition, and wakes it only when it holds.
        let value = LockedValue(0)
        let evaluators = SharedList<UInt>()
        let waiterIdent = Atomic<UInt>(0)
        let returnedAt = Atomic<Int>(-1)
        let waiter = spawn { _ in
            waiterIdent.store(getIdent(), ordering: .sequentiallyConsistent)
            try! value.withLock(when: { v in
                evaluators.append(getIdent())
                return v >= 5
            }) { v in
                returnedAt.store(v, ordering: .sequentiallyConsistent)
            }
        }
        // The waiter evaluates on arrival and queues before it lets go of the lock.
        #expect(pollUntil { evaluators.count == 1 })
        for step in 1...5 {
            #expect(returnedAt.load(ordering: .sequentiallyConsistent) == -1, "woken at \(step - 1)")
            value.withLock { $0 += 1 }
            waitThreadsBlocked(1)
        }
        waiter[0].join()
        #expect(returnedAt.load(ordering: .sequentiallyConsistent) == 5)
        // One evaluation by the waiter on arrival, then one per body that ended, by this thread,
        // then one by the woken waiter once it has the lock.
        let me = getIdent()
        let waiterID = waiterIdent.load(ordering: .sequentiallyConsistent)
        #expect(evaluators.values == [waiterID, me, me, me, me, me, waiterID])
    }

    @Test func manyWaitersWithDifferentConditionsAreEachServedWhenTheirsHolds() throws {
        // Waiter k waits for the value to be k, and adds one: so they run in order 1, 2, ... n,
        // each with the value it waited for, whatever order they queued in; and no waiter ever
        // runs before its turn.
        let n = 12
        let value = LockedValue(0)
        let order = SharedList<Int>()
        let threads = spawn(n) { i in
            let k = n - i  // queue in reverse order
            let seen = try! value.withLock(when: { $0 == k }) { v -> Int in
                defer { v += 1 }
                order.append(k)
                return v
            }
            #expect(seen == k)
        }
        // Let them all queue, then start the chain.
        waitThreadsBlocked(n)
        #expect(order.count == 0)
        value.withLock { $0 = 1 }
        for thread in threads { thread.join() }
        #expect(order.values == Array(1...n))
        #expect(value.withLock { $0 } == n + 1)
        #expect(value.waiters.isEmpty)
    }

    @Test func onlyWaitersWhoseConditionHoldsAreWoken() throws {
        // Even and odd waiters; setting an odd value serves only the odd ones, one at a time,
        // each handed the lock by the previous body's end.
        let value = LockedValue(0)
        let served = SharedList<String>()
        let arrived = Counter()
        let threads = spawn(6) { i in
            let wantsOdd = i % 2 == 1
            var first = true
            try! value.withLock(when: { v in
                if first { arrived.increment() }
                first = false
                return v % 2 == (wantsOdd ? 1 : 0) && v > 0
            }) { _ in
                served.append(wantsOdd ? "odd" : "even")
            }
        }
        #expect(pollUntil { arrived.current == 6 })
        value.withLock { $0 = 1 }
        #expect(pollUntil { served.count == 3 })
        waitThreadsBlocked(3)
        #expect(served.values == ["odd", "odd", "odd"])
        value.withLock { $0 = 2 }
        for thread in threads { thread.join() }
        #expect(served.values == ["odd", "odd", "odd", "even", "even", "even"])
    }

    @Test func satisfiedWaitersAreServedFirstComeFirstServed() throws {
        let value = LockedValue(0)
        let order = SharedList<Int>()
        let arrived = Counter()
        var threads: [RawThread] = []
        for i in 0..<5 {
            threads += spawn { _ in
                var first = true
                try! value.withLock(when: { v in
                    if first { arrived.increment() }
                    first = false
                    return v > 0
                }) { _ in order.append(i) }
            }
            // Queued before the next one arrives.
            #expect(pollUntil { arrived.current == i + 1 })
        }
        value.withLock { $0 = 1 }
        for thread in threads { thread.join() }
        #expect(order.values == Array(0..<5))
    }

    @Test func aWokenWaiterWhoseConditionWasMadeFalseAgainWaitsAgain() throws {
        // The leaving thread wakes a waiter whose condition holds, but another thread takes the
        // lock first and undoes it: the woken waiter looks once more, and waits again.
        let value = LockedValue(0)
        let evaluations = Counter()
        let result = SharedList<Int>()
        let waiter = spawn { _ in
            let r = try! value.withLock(when: {
                evaluations.increment()
                return $0 == 1
            }) { v -> Int in
                v = 10
                return 1
            }
            result.append(r ?? -1)
        }
        #expect(pollUntil { evaluations.current == 1 })
        // By hand, as a leaving thread would: make it true, wake the waiter, then undo it
        // before letting go of the lock.
        value.lock()
        value.value = 1
        value.wakeSatisfiedWaiter()
        #expect(value.waiters.isEmpty)
        value.value = 0
        value.unlock()
        // The waiter found its condition false (its third evaluation) and queued again.
        #expect(pollUntil { evaluations.current == 3 })
        waitThreadsBlocked(1)
        #expect(result.count == 0)
        value.withLock { $0 = 1 }
        waiter[0].join()
        #expect(result.values == [1])
        #expect(value.withLock { $0 } == 10)
    }

    @Test func aThrowingWhenBodyStillServesTheNextWaiter() throws {
        let value = LockedValue(0)
        let second = SharedList<Int>()
        let first = spawn { _ in
            #expect(throws: Failure.self) {
                try value.withLock(when: { $0 == 1 }) { v in
                    v = 2
                    throw Failure()
                }
            }
        }
        waitThreadsBlocked(1)
        let other = spawn { _ in
            _ = try! value.withLock(when: { $0 == 2 }) { v in second.append(v) }
        }
        waitThreadsBlocked(1)
        value.withLock { $0 = 1 }
        first[0].join()
        other[0].join()
        #expect(second.values == [2])
    }

    @Test func aTimedOutWaiterLeavesTheQueueAndOthersStillWait() throws {
        let value = LockedValue(0)
        let results = SharedList<String>()
        let short = spawn { _ in
            let r = try! value.withLock(when: { $0 == 1 }, timeout: 0.05) { _ in "short" }
            results.append(r ?? "short timed out")
        }
        let long = spawn { _ in
            let r = try! value.withLock(when: { $0 == 1 }) { _ in "long" }
            results.append(r ?? "long timed out")
        }
        short[0].join()
        #expect(results.values == ["short timed out"])
        value.withLock { $0 = 1 }
        long[0].join()
        #expect(results.values == ["short timed out", "long"])
        #expect(value.waiters.isEmpty)
    }

    @Test func aWaiterSeesItsConditionTrueIfItBecameTrueAsTheTimeoutPassed() throws {
        // After its timeout a waiter takes the lock back and looks once more: when the condition
        // holds then, the body runs and the call does not report a timeout.
        let value = LockedValue(0)
        let outcomes = SharedList<Bool>()
        for _ in 0..<20 {
            value.withLock { $0 = 0 }
            let waiter = spawn { _ in
                let r = try! value.withLock(when: { $0 == 1 }, timeout: 0.002) { v -> Bool in
                    #expect(v == 1)
                    return true
                }
                outcomes.append(r ?? false)
            }
            sleep(seconds: 0.002)
            value.withLock { $0 = 1 }
            waiter[0].join()
        }
        // Either outcome is allowed each round; the point is that a served body saw the value it
        // waited for, and that nothing hung.
        #expect(outcomes.count == 20)
    }

    // MARK: - Stress

    @Test func boundedBufferStressCountsExactly() throws {
        // Producers and consumers over one bounded buffer, waiting with `when:` only: every item
        // is consumed exactly once, and each body runs with its condition true.
        let capacity = 4
        let producers = 3
        let consumers = 3
        let perProducer = 3000
        let buffer = LockedValue<[Int]>([])
        let consumed = LockedValue<[Int]>([])
        let violations = Atomic<Int>(0)
        let done = Atomic<Int>(0)

        let producing = spawn(producers) { p in
            for k in 0..<perProducer {
                _ = try! buffer.withLock(when: { $0.count < capacity }) { items in
                    if items.count >= capacity { violations.add(1, ordering: .relaxed) }
                    items.append(p * perProducer + k)
                }
            }
        }
        let consuming = spawn(consumers) { _ in
            var mine: [Int] = []
            while true {
                // A short timeout now and then, so that the timed-out paths race the hand-offs.
                let item = try! buffer.withLock(when: { !$0.isEmpty }, timeout: 0.001) { items -> Int? in
                    if items.isEmpty { violations.add(1, ordering: .relaxed) }
                    return items.isEmpty ? nil : items.removeFirst()
                }
                if let item = item ?? nil {
                    mine.append(item)
                } else if done.load(ordering: .sequentiallyConsistent) == producers,
                    buffer.withLock({ $0.isEmpty })
                {
                    break
                }
            }
            let taken = mine
            consumed.withLock { $0 += taken }
        }
        for thread in producing { thread.join() }
        done.store(producers, ordering: .sequentiallyConsistent)
        for thread in consuming { thread.join() }

        #expect(violations.load(ordering: .relaxed) == 0)
        let all = consumed.withLock { $0.sorted() }
        #expect(all.count == producers * perProducer)
        #expect(all == Array(0..<(producers * perProducer)))
        #expect(buffer.waiters.isEmpty)
    }

    @Test func turnTakingStressCountsExactly() throws {
        // n threads take turns by the value modulo n: each body runs exactly in its turn, so the
        // final count is exact and no turn is ever skipped or doubled.
        let n = 4
        let rounds = 500
        let value = LockedValue(0)
        let wrongTurns = Atomic<Int>(0)
        let threads = spawn(n) { i in
            for _ in 0..<rounds {
                _ = try! value.withLock(when: { $0 % n == i }) { v in
                    if v % n != i { wrongTurns.add(1, ordering: .relaxed) }
                    v += 1
                }
            }
        }
        for thread in threads { thread.join() }
        #expect(value.withLock { $0 } == n * rounds)
        #expect(wrongTurns.load(ordering: .relaxed) == 0)
        #expect(value.waiters.isEmpty)
    }
}
