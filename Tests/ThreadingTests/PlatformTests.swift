// The platform layer's wait and wake, on whichever backend this build uses: the futex on Linux,
// or the portable pthread backend when built with THREADING_PORTABLE_WAIT (CI runs the whole
// suite both ways: Scripts/check portable-tests).

import CThreading
import Synchronization
import Testing

@testable import Threading

@Suite struct PlatformTests {
    /// A word to wait on, at a stable address.
    final class Word: Sendable {
        let value = Atomic<UInt32>(0)

        func withPointer<R>(_ body: (UnsafePointer<Atomic<UInt32>>) -> R) -> R {
            body(address(of: value))
        }
    }

    @Test func backendMatchesTheBuild() {
        #if THREADING_PORTABLE_WAIT
        #expect(Platform.waitBackend == "posix")
        #elseif os(Linux)
        #expect(Platform.waitBackend == "futex")
        #else
        #expect(["os_sync_wait_on_address", "posix"].contains(Platform.waitBackend))
        #endif
    }

    @Test func wakeWithoutWaitersWakesNobody() {
        let word = Word()
        #expect(word.withPointer { Platform.futexWake($0, count: 1) } == 0)
        #expect(word.withPointer { Platform.futexWake($0, count: Int32.max) } == 0)
    }

    @Test func requeueWithoutSleepersMovesNobody() {
        let word = Word()
        let target = Word()
        #expect(!word.withPointer { from in target.withPointer { Platform.futexRequeue(from, expected: 0, to: $0) } })
        #expect(!word.withPointer { from in target.withPointer { Platform.futexRequeue(from, expected: 1, to: $0) } })
    }

    @Test func waitOnAChangedWordReturnsAtOnce() {
        let word = Word()
        word.value.store(7, ordering: .sequentiallyConsistent)
        let start = monotonicSeconds()
        let result = word.withPointer { Platform.futexWait($0, expected: 0, deadline: .after(seconds: 5)) }
        #expect(result == .retry)
        #expect(monotonicSeconds() - start < 2.5)
    }

    @Test func timedWaitEndsAtTheDeadline() {
        let word = Word()
        let start = monotonicSeconds()
        let deadline = Deadline.after(seconds: 0.05)
        var result = Platform.WaitResult.retry
        while result == .retry {
            result = word.withPointer { Platform.futexWait($0, expected: 0, deadline: deadline) }
        }
        #expect(monotonicSeconds() - start >= 0.05)
    }

    @Test func deadlineInThePastTimesOut() {
        let word = Word()
        let result = word.withPointer {
            Platform.futexWait($0, expected: 0, deadline: Deadline(nanoseconds: Platform.monotonicNow() - 1))
        }
        #expect(result == .timedOut)
    }

    /// Three sleepers; each wake of at most two reports how many it woke, never more than asked
    /// and never more than were asleep; a woken sleeper that sees the word unchanged sleeps again.
    @Test func wakeCountsAreExact() {
        let word = Word()
        let wakeUps = Atomic<Int>(0)
        let threads = spawn(3) { _ in
            while word.value.load(ordering: .sequentiallyConsistent) == 0 {
                _ = word.withPointer { Platform.futexWait($0, expected: 0, deadline: .never) }
                wakeUps.add(1, ordering: .sequentiallyConsistent)
            }
        }
        var woken = 0
        let giveUp = monotonicSeconds() + 30
        while woken < 3 && monotonicSeconds() < giveUp {
            let n = word.withPointer { Platform.futexWake($0, count: 2) }
            #expect((0...2).contains(n))
            woken += n
            if n == 0 { sleep(seconds: 0.001) }
        }
        #expect(woken >= 3)
        // Every reported wake-up ended one wait (spurious returns only add to wakeUps).
        while wakeUps.load(ordering: .sequentiallyConsistent) < woken && monotonicSeconds() < giveUp {
            sleep(seconds: 0.001)
        }
        #expect(wakeUps.load(ordering: .sequentiallyConsistent) >= woken)
        // A sleeper past its check of the word sees 1 when it waits; the others this wakes.
        word.value.store(1, ordering: .sequentiallyConsistent)
        _ = word.withPointer { Platform.futexWake($0, count: Int32.max) }
        threads.joinAll()
    }

    /// Many sleepers on many words that share buckets: every wake-up finds its own sleeper.
    @Test func manyWordsEachWokenByItsOwnWake() {
        let words = (0..<64).map { _ in Word() }
        let done = Atomic<Int>(0)
        let threads = spawn(16) { i in
            let word = words[i * 4]
            while word.value.load(ordering: .sequentiallyConsistent) == 0 {
                _ = word.withPointer { Platform.futexWait($0, expected: 0, deadline: .never) }
            }
            done.add(1, ordering: .sequentiallyConsistent)
        }
        for (i, word) in words.enumerated() where i % 4 == 0 {
            word.value.store(1, ordering: .sequentiallyConsistent)
            _ = word.withPointer { Platform.futexWake($0, count: 1) }
        }
        threads.joinAll()
        #expect(done.load(ordering: .sequentiallyConsistent) == 16)
    }
}
