// Port of CPython 3.13's test_threading.ThreadTests.test_old_threading_api, for the deprecated
// Python 2 spellings this module keeps (`getName()`, `setName(_:)`, `isDaemon()`), plus the
// subclassing that Python allows and this module opens up (Event, Condition, Semaphore,
// BoundedSemaphore, Barrier are `open`).
//
// The deprecated methods are called through a protocol, as a port's generic code would: a direct
// call would warn, and the build treats warnings as errors. That the direct call is deprecated is
// checked by the compiler (see Thread+Python2.swift), not here.
//
// Not ported from test_old_threading_api: the DeprecationWarning checks themselves (a compile-time
// warning here), `Event.isSet()` (the `isSet` property is the only spelling), and
// `currentThread()`, `activeCount()`, `notifyAll()` and `setDaemon()`, which are this module's
// own, undeprecated names (tested in ModuleFunctionTests, ConditionTests and ThreadTests).

import Testing

@testable import Threading

/// The Python 2 spellings, as a port's generic code reaches them.
protocol Python2ThreadSpellings {
    func getName() -> String
    func setName(_ name: String)
    func isDaemon() -> Bool
}

extension Threading.Thread: Python2ThreadSpellings {}

@Suite struct ThreadPython2Tests {
    @Test func test_old_threading_api() throws {
        let t = Threading.Thread(target: {}, name: "spam", daemon: false)
        let old: any Python2ThreadSpellings = t
        #expect(old.getName() == "spam")
        old.setName("name")
        #expect(t.name == "name")
        #expect(old.getName() == "name")
        #expect(old.isDaemon() == false)
        try t.setDaemon(true)
        #expect(old.isDaemon() == true)
        #expect(t.daemon)
        try t.start()
        try t.join()
        // After the thread ended, both still read the attributes.
        #expect(old.getName() == "name")
        #expect(old.isDaemon())
    }

    @Test func setNameOnARunningThreadRenamesIt() throws {
        let release = Event()
        let t = Threading.Thread(target: { try release.wait(timeout: 30) })
        try t.start()
        (t as any Python2ThreadSpellings).setName("renamed")
        #expect(t.name == "renamed")
        #expect(t.description.contains("renamed"))
        release.set()
        try t.join()
    }
}

// MARK: - Subclassing, as Python programs do

/// DBUtils' pattern: a BoundedSemaphore subclass that counts what it handed out.
final class CountingPool: BoundedSemaphore, @unchecked Sendable {
    // @unchecked Sendable: `taken` is an atomic counter.
    let taken = Counter()

    init(size: Int) throws {
        try super.init(size)
    }

    func checkout() throws -> Bool {
        let got = try acquire(blocking: false)
        if got { taken.increment() }
        return got
    }

    override var description: String {
        "<CountingPool taken=\(taken.current) \(super.description)>"
    }
}

final class NamedEvent: Event, @unchecked Sendable {
    // @unchecked Sendable: `label` is immutable.
    let label: String
    init(label: String) {
        self.label = label
        super.init()
    }
}

final class LoggingCondition: Threading.Condition, @unchecked Sendable {
    // @unchecked Sendable: `notifications` is an atomic counter.
    let notifications = Counter()
    func notifyLogged() throws {
        notifications.increment()
        try notify()
    }
}

final class CountingSemaphore: Threading.Semaphore, @unchecked Sendable {
    // @unchecked Sendable: adds only immutable state.
    let name: String
    init(_ value: Int, name: String) throws {
        self.name = name
        try super.init(value)
    }
}

final class TeamBarrier: Barrier, @unchecked Sendable {
    // @unchecked Sendable: `team` is immutable.
    let team: String
    init(team: String, size: Int) throws {
        self.team = team
        try super.init(size)
    }
}

@Suite struct SubclassingTests {
    @Test func aBoundedSemaphoreSubclassKeepsItsBoundAndErrors() throws {
        let pool = try CountingPool(size: 2)
        #expect(try pool.checkout())
        #expect(try pool.checkout())
        #expect(try pool.checkout() == false)
        #expect(pool.taken.current == 2)
        #expect(pool.description == "<CountingPool taken=2 <BoundedSemaphore: value=0/2>>")
        try pool.release()
        try pool.release()
        expectThreadingError(.valueError, "Semaphore released too many times") { try pool.release() }
        expectThreadingError(.valueError, "semaphore initial value must be >= 0") { try CountingPool(size: -1) }
        // A subclass instance is a Lockable like any other.
        let total = pool.withLock { 1 }
        #expect(total == 1)
    }

    @Test func eventConditionSemaphoreAndBarrierSubclassesWorkAcrossThreads() throws {
        let event = NamedEvent(label: "go")
        let condition = LoggingCondition()
        let semaphore = try CountingSemaphore(0, name: "items")
        let barrier = try TeamBarrier(team: "pair", size: 2)
        let worker = Threading.Thread {
            try event.wait()
            try semaphore.release()
            try condition.withLock { try condition.notifyLogged() }
            try barrier.wait(timeout: 30)
        }
        try condition.withLock {
            try worker.start()
            event.set()
            #expect(try condition.wait(timeout: 30))
        }
        #expect(try semaphore.acquire(timeout: 30))
        try barrier.wait(timeout: 30)
        try worker.join()
        #expect(condition.notifications.current == 1)
        #expect(event.label == "go" && semaphore.name == "items" && barrier.team == "pair")
        #expect(event.description == "<Event: set>")
        expectThreadingError(.valueError, "parties must be > 0") { try TeamBarrier(team: "none", size: 0) }
    }
}
