import Synchronization
import Testing

@testable import Threading

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The queues' lock (`FencelessLock`), in both of its modes: releases that rely on the sleeper's
/// heavy barrier, and releases that make their own fence.
@Suite struct FencelessLockTests {
    /// A `FencelessLock` and the counter it guards.
    final class Guarded: @unchecked Sendable {
        // @unchecked Sendable: `count` is read and written only with `word` locked.
        let word = Atomic<UInt32>(FencelessLock.unlocked)
        let sleepers = Atomic<UInt32>(0)
        let fenced: Bool
        var count = 0

        init(fenced: Bool) {
            self.fenced = fenced
        }

        func lock() {
            if !FencelessLock.tryLock(word) {
                FencelessLock.lockContended(address(of: word), sleepers: address(of: sleepers), fenced: fenced)
            }
        }

        func unlock() {
            if FencelessLock.unlock(word, sleepers: sleepers, fenced: fenced) { FencelessLock.wake(address(of: word)) }
        }
    }

    /// The modes this machine can run: the fenced one always, the other where the heavy barrier
    /// is available.
    static let modes: [Bool] = FencelessLock.fenced ? [true] : [false, true]

    #if os(Linux)
    @Test func theHeavyBarrierIsAvailableOnLinuxWithTheFutexBackend() {
        // A sandbox may refuse membarrier; the lock then runs fenced, which the other tests cover.
        guard Platform.waitBackend == "futex" else { return }
        #expect(FencelessLock.fenced == false)
    }
    #endif

    @Test(arguments: modes)
    func aSleeperIsWokenByTheRelease(fenced: Bool) {
        let guarded = Guarded(fenced: fenced)
        guarded.lock()
        let acquired = Atomic<Bool>(false)
        let sleeper = RawThread {
            guarded.lock()
            acquired.store(true, ordering: .sequentiallyConsistent)
            guarded.unlock()
        }
        // It spins, then registers to sleep.
        let end = monotonicSeconds() + safetyTimeout
        while guarded.sleepers.load(ordering: .sequentiallyConsistent) == 0 && monotonicSeconds() < end {
            usleep(1000)
        }
        let registered = guarded.sleepers.load(ordering: .sequentiallyConsistent)
        #expect(registered == 1)
        usleep(20_000)  // most likely asleep in the kernel by now
        let early = acquired.load(ordering: .sequentiallyConsistent)
        #expect(!early)
        guarded.unlock()
        sleeper.join()
        let late = acquired.load(ordering: .sequentiallyConsistent)
        let left = guarded.sleepers.load(ordering: .sequentiallyConsistent)
        let free = FencelessLock.tryLock(guarded.word)
        #expect(late)
        #expect(left == 0)
        #expect(free)
    }

    @Test(arguments: modes)
    func manyThreadsCountExactlyAndNoSleeperIsLeft(fenced: Bool) {
        let guarded = Guarded(fenced: fenced)
        let threads = 8
        let rounds = 20_000
        spawn(threads) { i in
            for round in 0..<rounds {
                guarded.lock()
                guarded.count += 1
                // Now and then hold the lock across a system call, so that others sleep on it.
                if round % 1000 == i { usleep(50) }
                guarded.unlock()
            }
        }.joinAll()
        guarded.lock()
        #expect(guarded.count == threads * rounds)
        guarded.unlock()
        let left = guarded.sleepers.load(ordering: .sequentiallyConsistent)
        let state = guarded.word.load(ordering: .sequentiallyConsistent)
        #expect(left == 0)
        #expect(state == FencelessLock.unlocked)
    }

    @Test(arguments: modes)
    func releasesFromAnotherThreadWakeEverySleeperInTurn(fenced: Bool) {
        // Held by the test while four threads pile up asleep, then released once: each sleeper
        // that takes the lock must wake the next with its own release.
        let guarded = Guarded(fenced: fenced)
        guarded.lock()
        let sleepers = spawn(4) { _ in
            guarded.lock()
            guarded.count += 1
            guarded.unlock()
        }
        let end = monotonicSeconds() + safetyTimeout
        while guarded.sleepers.load(ordering: .sequentiallyConsistent) < 4 && monotonicSeconds() < end {
            usleep(1000)
        }
        guarded.unlock()
        sleepers.joinAll()
        let left = guarded.sleepers.load(ordering: .sequentiallyConsistent)
        #expect(guarded.count == 4)
        #expect(left == 0)
    }
}
