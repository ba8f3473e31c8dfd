import Testing

@testable import Threading

@Suite struct SmokeTests {
    @Test func lockContended() throws {
        let lock = Lock()
        let counter = Counter()
        let threads = spawn(4) { _ in
            for _ in 0..<10_000 {
                try! lock.acquire()
                counter.increment()
                try! lock.release()
            }
        }
        threads.joinAll()
        #expect(counter.current == 40_000)
    }

    @Test func eventWakes() throws {
        let e = Event()
        let results = SharedList<Bool>()
        let b = Bunch(5) { results.append(try e.wait()) }
        b.waitForStarted()
        waitThreadsBlocked(5)
        e.set()
        e.clear()
        b.join()
        #expect(results.values == [true, true, true, true, true])
    }

    @Test func conditionNotify() throws {
        let c = Condition()
        let woken = Counter()
        let b = Bunch(5) { try c.withLock { if try c.wait(timeout: 5) { woken.increment() } } }
        b.waitForStarted()
        waitThreadsBlocked(5)
        try c.withLock { try c.notify(3) }
        sleep(seconds: 0.1)
        #expect(woken.current == 3)
        try c.withLock { try c.notifyAll() }
        b.join()
        #expect(woken.current == 5)
    }

    @Test func semaphoreTimeout() throws {
        let s = try Threading.Semaphore(0)
        let t = try measure {
            let got = try s.acquire(timeout: 0.2)
            #expect(got == false)
        }
        expectTimeout(t, 0.2)
        let b = Bunch(3) {
            let got = try s.acquire(timeout: 5)
            #expect(got)
        }
        b.waitForStarted()
        waitThreadsBlocked(3)
        try s.release(3)
        b.join()
        #expect(s.currentValue == 0)
    }

    @Test func barrierGenerations() throws {
        let barrier = try Barrier(3)
        let sums = SharedList<Int>()
        let b = Bunch(3) { for _ in 0..<200 { sums.append(try barrier.wait()) } }
        b.join()
        #expect(sums.values.reduce(0, +) == 200 * 3)
        #expect(!barrier.isBroken)
    }
}
