// Thread: CPython 3.13's test_threading.ThreadTests and ThreadingExceptionTests, ported test by
// test (named after the CPython test), plus the lifecycle, OS-name and foreign-thread guarantees
// of API.md. The tests that need the process's real main thread or a process exit run in a child
// process (ShutdownTests.swift); foreign threads from Dispatch, Swift concurrency and Foundation
// are in ThreadForeignTests.swift.
//
// Test functions run on Swift-concurrency worker threads, which are foreign: `currentThread()`
// there is a dummy thread and a `Thread` created there is a daemon unless `daemon: false`. Other
// suites start threads in parallel, so nothing here counts `enumerate()`'s total.
//
// Not ported (and why):
// - test_lock_no_args, test_lock_no_subclass, test_lock_or_none: Python typing (arguments to
//   `Lock()`, subclassing `_thread.lock`, `Lock | None`); Swift's type checker decides these.
// - test_PyThreadState_SetAsyncExc: asynchronous exceptions through ctypes.
// - test_finalize_running_thread, test_finalize_with_trace: interpreter finalization, ctypes.
// - test_old_threading_api: deprecation warnings of Python's camelCase aliases.
// - test_dummy_thread_after_fork, test_is_alive_after_fork, test_main_thread_after_fork*,
//   test_reinit_tls_after_fork, test_clear_threads_states_after_fork: fork.
// - test_frame_tstate_tracing: frames and `_testcapi`.
// - test_boolean_target: Python truthiness; a Swift target is either nil or called (see
//   test_target_nil_and_given).
// - test_start_new_thread_at_finalization: starting a thread from a finalizer during interpreter
//   finalization, which Swift does not have.
// - test_releasing_unacquired_lock: a Lock test (LockTests' domain).
// - test_recursion_limit: Python's recursion limit.
// - test_print_exception_stderr_is_none_1: `sys.stderr = None` set inside the thread, which only
//   Python's `sys` module has; _2 is ported with file descriptor 2 closed (ShutdownTests).
// - test_print_exception_gh_102056: `_thread.interrupt_main` and signals.
// - test_bare_raise_in_brand_new_thread: Python's bare `raise`.
// - test_multithread_modify_file_noerror: `traceback.format_stack`.
// - SubinterpThreadingTests: subinterpreters.
// - InterruptMainTests: `_thread.interrupt_main()` raises KeyboardInterrupt through the
//   interpreter's eval loop (test_can_interrupt_tight_loops checks that a tight Python loop
//   notices it); compiled Swift has no eval loop to interrupt. Waits interrupted by real signals
//   are tested in SignalTests.swift.
// - MiscTestCase.test__all__: Python's `__all__`.
//
// Ported elsewhere: test_limbo_cleanup as ShutdownTests.test_start_fails_with_huge_stack_size (a
// stack the OS refuses fails the start for real, where CPython patches `_start_joinable_thread`);
// test_main_thread_during_shutdown, test_finalization_shutdown, test_locals_at_exit,
// test_import_from_another_thread and test_print_exception_stderr_is_none_2 in ShutdownTests.swift
// (child processes).

import CThreading
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

// MARK: - Helpers

/// Polls `condition` every 10 ms until it holds or `seconds` pass; returns whether it held.
func pollUntil(seconds: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = monotonicSeconds() + seconds
    while true {
        if condition() { return true }
        if monotonicSeconds() > deadline { return false }
        sleep(seconds: 0.010)
    }
}

/// The number of memory mappings of this process (lines of `/proc/self/maps`).
func mappingCount() -> Int {
    readSmallFile("/proc/self/maps")!.split(separator: "\n").count
}

/// Whether `thread` (this very object) is in `enumerate()`.
func isEnumerated(_ thread: Threading.Thread) -> Bool {
    enumerate().contains { $0 === thread }
}

/// The whole content of a small file, or nil.
func readSmallFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 256)
    while true {
        let n = read(fd, &chunk, chunk.count)
        guard n > 0 else { break }
        bytes += chunk[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// The kernel's name of the thread with native id `tid` in this process (`comm`), or nil.
func kernelThreadName(nativeID tid: UInt) -> String? {
    guard let comm = readSmallFile("/proc/self/task/\(tid)/comm") else { return nil }
    return comm.hasSuffix("\n") ? String(comm.dropLast()) : comm
}

/// Whether the thread with native id `tid` still exists in this process.
func kernelThreadExists(nativeID tid: UInt) -> Bool {
    access("/proc/self/task/\(tid)", F_OK) == 0
}

/// The OS name of the live thread whose `pthread_t` is `ident`, through `pthread_getname_np`.
func pthreadName(ident: UInt) -> String? {
    var buffer = [CChar](repeating: 0, count: 64)
    guard cthreading_getname(pthread_t(ident), &buffer, buffer.count) == 0 else { return nil }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// The calling thread's `pthread_self()` as Python's `get_ident()` spells it.
func pthreadSelf() -> UInt {
    UInt(pthread_self())
}

/// The N of a `PREFIX-N` name, or nil.
func counterNumber(_ name: String, prefix: String) -> Int? {
    guard name.hasPrefix(prefix + "-") else { return nil }
    return Int(name.dropFirst(prefix.count + 1))
}

/// An error for threads to throw.
struct RunFailed: Error, CustomStringConvertible {
    var description: String
    init(_ description: String = "run failed") { self.description = description }
}

/// CPython's `TestThread`: at most 3 of them run the guarded section at once.
final class TestThread: Threading.Thread, @unchecked Sendable {
    // @unchecked Sendable: adds only immutable, Sendable properties.
    let sema: BoundedSemaphore
    let mutex: RLock
    let nrunning: Counter
    let maxSeen: Counter
    let stackSizes: SharedList<Int>

    init(
        name: String,
        sema: BoundedSemaphore,
        mutex: RLock,
        nrunning: Counter,
        maxSeen: Counter,
        stackSizes: SharedList<Int>
    ) {
        self.sema = sema
        self.mutex = mutex
        self.nrunning = nrunning
        self.maxSeen = maxSeen
        self.stackSizes = stackSizes
        super.init(name: name, daemon: false)
    }

    override func run() throws {
        stackSizes.append(cthreading_current_stack_size())
        let delay = Double.random(in: 0..<1) / 10_000
        with(sema) {
            with(mutex) {
                let now = nrunning.increment()
                if now > maxSeen.current { maxSeen.increment(by: now - maxSeen.current) }
            }
            sleep(seconds: delay)
            with(mutex) {
                _ = nrunning.increment(by: -1)
            }
        }
    }
}

/// Runs CPython's test_various_ops; returns the stack sizes the threads saw.
func variousOps(sourceLocation: SourceLocation = #_sourceLocation) throws -> [Int] {
    let numTasks = 10
    let sema = try BoundedSemaphore(3)
    let mutex = RLock()
    let nrunning = Counter()
    let maxSeen = Counter()
    let stackSizes = SharedList<Int>()
    var threads: [TestThread] = []
    for i in 0..<numTasks {
        let t = TestThread(
            name: "<thread \(i)>",
            sema: sema,
            mutex: mutex,
            nrunning: nrunning,
            maxSeen: maxSeen,
            stackSizes: stackSizes
        )
        threads.append(t)
        #expect(t.ident == nil, sourceLocation: sourceLocation)
        #expect(t.description == "<TestThread(<thread \(i)>, initial)>", sourceLocation: sourceLocation)
        try t.start()
    }
    let nativeIDs = Set(threads.compactMap(\.nativeID) + [getNativeID()])
    #expect(threads.allSatisfy { $0.nativeID != nil }, sourceLocation: sourceLocation)
    #expect(nativeIDs.count == numTasks + 1, sourceLocation: sourceLocation)
    for t in threads {
        try t.join()
        #expect(!t.isAlive, sourceLocation: sourceLocation)
        let ident = try #require(t.ident, sourceLocation: sourceLocation)
        #expect(ident != 0, sourceLocation: sourceLocation)
        #expect(t.description == "<TestThread(\(t.name), stopped \(ident))>", sourceLocation: sourceLocation)
    }
    #expect(nrunning.current == 0, sourceLocation: sourceLocation)
    #expect(maxSeen.current >= 1 && maxSeen.current <= 3, sourceLocation: sourceLocation)
    return stackSizes.values
}

/// A plain pthread mutex around a closure, for serializing tests across suites.
final class TestGate: @unchecked Sendable {
    // @unchecked Sendable: the pthread mutex is the synchronization; it is never freed (a global).
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    func run<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}

/// Serializes the tests that set the module's stack size or depend on it.
let stackSizeGate = TestGate()

// MARK: - Tests

@Suite struct ThreadTests {
    // MARK: Names, arguments, daemon

    @Test func test_name() throws {
        #expect(Threading.Thread(name: "myname1").name == "myname1")
        // A target's name is ignored when a name is given.
        #expect(Threading.Thread(target: {}, name: "myname2").name == "myname2")
        let empty = Threading.Thread(name: "")
        let none = Threading.Thread()
        let targeted = Threading.Thread(target: {})
        let numbers = [empty, none, targeted].map { counterNumber($0.name, prefix: "Thread") }
        #expect(numbers.allSatisfy { $0 != nil }, "\([empty.name, none.name, targeted.name])")
        if let a = numbers[0], let b = numbers[1], let c = numbers[2] {
            #expect(a >= 1 && a < b && b < c)
        }
        let renamed = Threading.Thread(name: "before")
        renamed.name = "after"
        #expect(renamed.name == "after")
        #expect(renamed.description.hasPrefix("<Thread(after, initial"))
    }

    /// Python's probe: a Thread created on a fresh foreign thread takes its `Thread-N` before the
    /// `currentThread()` call for its daemon default makes `Dummy-M`, from the same counter.
    @Test func test_name_counter_shared_with_dummy_threads() {
        let names = SharedList<String>()
        spawn { _ in
            let created = Threading.Thread()
            names.append(created.name)
            names.append(currentThread().name)
        }.joinAll()
        let values = names.values
        let threadNumber = counterNumber(values[0], prefix: "Thread")
        let dummyNumber = counterNumber(values[1], prefix: "Dummy")
        #expect(threadNumber != nil && dummyNumber != nil, "\(values)")
        if let threadNumber, let dummyNumber {
            #expect(dummyNumber > threadNumber)
        }
    }

    @Test func test_args_argument() throws {
        let seen = SharedList<String>()
        let threads: [Threading.Thread] = [
            Threading.Thread(target: { (a: Int) in seen.append("int \(a)") }, args: (1)),
            Threading.Thread(target: { (s: String) in seen.append("str \(s)") }, args: ("str")),
            Threading.Thread(target: { (l: [Int]) in seen.append("list \(l)") }, args: ([1])),
            Threading.Thread(target: { () in seen.append("none") }, args: ()),
            Threading.Thread(
                target: { (a: Int, s: String, d: Double) in seen.append("three \(a) \(s) \(d)") },
                args: (1, "x", 2.5),
                name: "packed",
                daemon: false
            ),
        ]
        for t in threads {
            try t.start()
            try t.join()
        }
        #expect(seen.values == ["int 1", "str str", "list [1]", "none", "three 1 x 2.5"])
        #expect(threads[4].name == "packed")
        #expect(!threads[4].daemon)
    }

    @Test func test_daemon_param() {
        #expect(!Threading.Thread(daemon: false).daemon)
        #expect(Threading.Thread(daemon: true).daemon)
        #expect(!Threading.Thread(target: {}, args: (), daemon: false).daemon)
        #expect(Threading.Thread(target: {}, args: (), daemon: true).daemon)
    }

    /// `daemon: nil` inherits `currentThread().daemon`: a dummy thread (this test's) is daemonic,
    /// a non-daemon thread gives non-daemon threads, a daemon thread daemon ones.
    @Test func test_daemon_inherited_from_creator() throws {
        #expect(currentThread().daemon)
        #expect(Threading.Thread().daemon)
        let inherited = SharedList<Bool>()
        let nonDaemon = Threading.Thread(target: { inherited.append(Threading.Thread().daemon) }, daemon: false)
        let daemon = Threading.Thread(target: { inherited.append(Threading.Thread().daemon) }, daemon: true)
        try nonDaemon.start()
        try nonDaemon.join()
        try daemon.start()
        try daemon.join()
        #expect(inherited.values == [false, true])
    }

    @Test func test_repr_daemon() throws {
        let t = Threading.Thread(name: "R", daemon: false)
        #expect(!t.description.contains("daemon"))
        try t.setDaemon(true)
        #expect(t.daemon)
        #expect(t.description == "<Thread(R, initial daemon)>")
        try t.setDaemon(false)
        #expect(t.description == "<Thread(R, initial)>")
    }

    // MARK: Life cycle

    @Test func test_various_ops() throws {
        _ = try variousOps()
    }

    /// With `stackSize(262144)`; each thread's actual stack is read back from its attributes.
    @Test func test_various_ops_small_stack() throws {
        try stackSizeGate.run {
            let old = try stackSize(262_144)
            defer { _ = try? stackSize(old) }
            let sizes = try variousOps()
            #expect(sizes.count == 10)
            // glibc may reuse a cached stack up to 4 times the size asked for (never the 8 MiB default).
            #expect(sizes.allSatisfy { $0 >= 262_144 && $0 <= 4 * 262_144 }, "\(sizes)")
        }
    }

    /// With `stackSize(0x100000)`.
    @Test func test_various_ops_large_stack() throws {
        try stackSizeGate.run {
            let old = try stackSize(0x10_0000)
            defer { _ = try? stackSize(old) }
            let sizes = try variousOps()
            #expect(sizes.count == 10)
            #expect(sizes.allSatisfy { $0 >= 0x10_0000 && $0 <= 4 * 0x10_0000 }, "\(sizes)")
        }
    }

    /// Before `start()`: no ident, no native id, not alive, not enumerated. `start()` returns with
    /// the thread running and registered; inside, the thread is `currentThread()` with its own
    /// ident and native id. After `join()`: stopped, the ident kept.
    @Test func test_lifecycle() throws {
        let release = Event()
        let inside = Mutex<(Threading.Thread?, UInt, UInt, Bool)>((nil, 0, 0, false))
        let t = Threading.Thread(
            target: {
                inside.withLock { $0 = (currentThread(), getIdent(), getNativeID(), currentThread().isAlive) }
                try release.wait()
            },
            name: "life",
            daemon: false
        )
        #expect(t.ident == nil)
        #expect(t.nativeID == nil)
        #expect(!t.isAlive)
        #expect(!isEnumerated(t))
        #expect(t.description == "<Thread(life, initial)>")
        try t.start()
        let ident = try #require(t.ident)
        let nativeID = try #require(t.nativeID)
        #expect(t.isAlive)
        #expect(isEnumerated(t))
        #expect(t.description == "<Thread(life, started \(ident))>")
        #expect(kernelThreadExists(nativeID: nativeID))
        release.set()
        try t.join()
        let seen = inside.withLock { $0 }
        #expect(seen.0 === t)
        #expect(seen.1 == ident)
        #expect(seen.2 == nativeID)
        #expect(seen.3)
        #expect(ident != getIdent())
        #expect(!t.isAlive)
        #expect(!isEnumerated(t))
        #expect(t.ident == ident)
        #expect(t.nativeID == nativeID)
        #expect(t.description == "<Thread(life, stopped \(ident))>")
    }

    /// `start()` does not wait for the new thread to be scheduled: read at once, `ident` comes
    /// from `pthread_create` and `nativeID` (which only the new thread can read) is waited for;
    /// each matches what the thread itself sees. A thread that cannot have ended is alive.
    @Test func identNativeIDAndIsAliveAreRightTheMomentStartReturns() throws {
        for _ in 0..<50 {
            let inside = Mutex<(UInt, UInt)>((0, 0))
            let t = Threading.Thread(target: { inside.withLock { $0 = (getIdent(), getNativeID()) } })
            try t.start()
            let ident = t.ident
            let nativeID = t.nativeID
            try t.join()
            let seen = inside.withLock { $0 }
            #expect(ident == seen.0)
            #expect(nativeID == seen.1)
            #expect(!t.isAlive)
        }
        // A thread that cannot end before it is looked at is alive right after start().
        let release = Event()
        let t = Threading.Thread(target: { try release.wait() })
        try t.start()
        #expect(t.isAlive)
        #expect(t.description.contains("started"))
        release.set()
        try t.join()
        #expect(!t.isAlive)
    }

    @Test func test_repr_started_and_stopped_daemon() throws {
        let release = Event()
        let t = Threading.Thread(target: { try release.wait() }, name: "D", daemon: true)
        try t.start()
        let ident = try #require(t.ident)
        #expect(t.description == "<Thread(D, started daemon \(ident))>")
        release.set()
        try t.join()
        #expect(t.description == "<Thread(D, stopped daemon \(ident))>")
    }

    /// A nil target runs nothing; any target given is called exactly once.
    @Test func test_target_nil_and_given() throws {
        let empty = Threading.Thread()
        try empty.start()
        try empty.join()
        #expect(!empty.isAlive)
        let calls = Counter()
        let given = Threading.Thread(target: { calls.increment() })
        try given.start()
        try given.join()
        #expect(calls.current == 1)
    }

    /// `run()` called directly runs the target on the caller, and only once.
    @Test func test_run_called_directly() throws {
        let idents = SharedList<UInt>()
        let t = Threading.Thread(target: { idents.append(getIdent()) })
        try t.run()
        try t.run()
        #expect(idents.values == [getIdent()])
        #expect(!t.isAlive)
        #expect(t.ident == nil)
    }

    @Test func test_ident_of_no_threading_threads() {
        #expect(currentThread().ident != nil)
        #expect(mainThread().ident != nil)
        let seen = Mutex<(UInt?, UInt)>((nil, 0))
        spawn { _ in seen.withLock { $0 = (currentThread().ident, pthreadSelf()) } }.joinAll()
        let (ident, tid) = seen.withLock { $0 }
        #expect(ident == tid)
        #expect(tid != 0)
    }

    /// A raw pthread's `currentThread()` is a dummy: `_DummyThread` in its description, alive,
    /// daemonic, registered; `join()` throws; it leaves `enumerate()` when its thread ends.
    @Test func test_foreign_thread() throws {
        let facts = Mutex<(Threading.Thread?, UInt, Bool, Bool, Bool, String)>((nil, 0, false, false, false, ""))
        spawn { _ in
            let dummy = currentThread()
            facts.withLock {
                $0 = (
                    dummy, pthreadSelf(), isEnumerated(dummy), dummy.isAlive, currentThread() === dummy,
                    dummy.description
                )
            }
        }.joinAll()
        let (found, tid, enumerated, alive, stable, description) = facts.withLock { $0 }
        let dummy = try #require(found)
        #expect(dummy.ident == tid)
        #expect(enumerated)
        #expect(alive)
        #expect(stable)
        #expect(dummy.daemon)
        #expect(counterNumber(dummy.name, prefix: "Dummy") != nil, "\(dummy.name)")
        #expect(description == "<_DummyThread(\(dummy.name), started daemon \(tid))>")
        expectThreadingError(.runtimeError, "cannot join a dummy thread") { try dummy.join() }
        #expect(pollUntil { !isEnumerated(dummy) }, "the dummy thread outlived its thread by 5 s")
        #expect(!dummy.isAlive)
        expectThreadingError(.runtimeError, "cannot join a dummy thread") { try dummy.join() }
    }

    /// Many short-lived raw threads that each made a dummy thread leave none behind.
    @Test func test_short_lived_foreign_threads_leave_no_dummy() throws {
        let dummies = SharedList<Threading.Thread>()
        for _ in 0..<10 {
            spawn(20) { _ in dummies.append(currentThread()) }.joinAll()
        }
        let all = dummies.values
        #expect(all.count == 200)
        #expect(Set(all.map(ObjectIdentifier.init)).count == 200)
        let gone = pollUntil {
            let live = Set(enumerate().map(ObjectIdentifier.init))
            return all.allSatisfy { !live.contains(ObjectIdentifier($0)) }
        }
        #expect(gone, "dummy threads of ended raw threads are still enumerated")
        #expect(all.allSatisfy { !$0.isAlive })
    }

    @Test func test_enumerate_after_join() throws {
        for i in 1..<100 {
            let t = Threading.Thread(target: {})
            try t.start()
            try t.join()
            #expect(!isEnumerated(t), "still enumerated after join, trial \(i)")
        }
    }

    /// 10 000 start/join cycles (about 4 s in a debug build): none is left in `enumerate()`.
    @Test func test_many_start_join_cycles() throws {
        let cycles = 10_000
        let ran = Counter()
        var threads: [Threading.Thread] = []
        threads.reserveCapacity(cycles)
        for _ in 0..<cycles {
            let t = Threading.Thread(target: { ran.increment() }, daemon: false)
            try t.start()
            try t.join()
            threads.append(t)
        }
        #expect(ran.current == cycles)
        let live = Set(enumerate().map(ObjectIdentifier.init))
        #expect(threads.allSatisfy { !live.contains(ObjectIdentifier($0)) && !$0.isAlive })
    }

    /// Threads acquire a BoundedSemaphore up to its limit, other threads release it all: one more
    /// release is refused.
    @Test func test_BoundedSemaphore_limit() throws {
        for limit in 1..<10 {
            let bs = try BoundedSemaphore(limit)
            let acquirers = (0..<limit).map { _ in Threading.Thread(target: { try bs.acquire() }) }
            for t in acquirers { try t.start() }
            for t in acquirers { try t.join() }
            let releasers = (0..<limit).map { _ in Threading.Thread(target: { try bs.release() }) }
            for t in releasers { try t.start() }
            for t in releasers { try t.join() }
            expectThreadingError(.valueError, "Semaphore released too many times") { try bs.release() }
        }
    }

    @Test func test_join_from_multiple_threads() throws {
        let errors = SharedList<String>()
        for n in 2..<20 {
            let worker = Threading.Thread(target: { sleep(seconds: 0.005) })
            var threads = [worker]
            for _ in 0..<n {
                threads.append(
                    Threading.Thread(
                        target: { (thread: Threading.Thread) in
                            do { try thread.join() } catch { errors.append("\(error)") }
                            if thread.isAlive { errors.append("joined a live thread") }
                        },
                        args: (worker)
                    )
                )
            }
            for t in threads { try t.start() }
            sleep(seconds: 0.01)
            for t in threads { try t.join() }
            #expect(errors.values == [], "N = \(n)")
        }
    }

    @Test func test_join_with_timeout() throws {
        let lock = Lock()
        try lock.acquire()
        let t = Threading.Thread(target: { try lock.acquire() })
        try t.start()
        try t.join(timeout: 0.01)
        #expect(t.isAlive)
        try lock.release()
        try t.join()
        #expect(!t.isAlive)
    }

    /// A timed join waits the whole timeout (never less) on a thread that does not end; zero and
    /// negative timeouts do not wait; NaN and too large timeouts throw.
    @Test func test_join_timeout_values() throws {
        let release = Event()
        let t = Threading.Thread(target: { try release.wait() })
        try t.start()
        defer {
            release.set()
            try? t.join()
        }
        let waited = try measure { try t.join(timeout: 0.1) }
        #expect(waited >= 0.1)
        #expect(waited < 2)
        #expect(t.isAlive)
        let quick = try measure {
            try t.join(timeout: 0)
            try t.join(timeout: -1)
        }
        #expect(quick < 0.5)
        #expect(t.isAlive)
        expectThreadingError(.valueError, "Invalid value NaN (not a number)") { try t.join(timeout: .nan) }
        expectThreadingError(.overflowError, "timeout value is too large") { try t.join(timeout: 1e100) }
        expectThreadingError(.overflowError, "timeout value is too large") { try t.join(timeout: .infinity) }
        #expect(t.isAlive)
    }

    /// A join with a timeout on a thread that ends in time returns when it ends, not at the timeout.
    @Test func test_join_timeout_returns_at_end() throws {
        let t = Threading.Thread(target: { sleep(seconds: 0.05) })
        try t.start()
        let waited = try measure { try t.join(timeout: 30) }
        #expect(!t.isAlive)
        #expect(waited < 10)
    }

    /// test_no_refcycle_through_target: after `run()` the thread lets go of its target and what
    /// it captured, also when the target throws (SystemExit, which the default hook ignores).
    @Test func test_no_refcycle_through_target() throws {
        final class Payload: Sendable {}
        for shouldThrow in [false, true] {
            weak var weakPayload: Payload?
            let t: Threading.Thread
            do {
                let payload = Payload()
                weakPayload = payload
                t = Threading.Thread(target: {
                    withExtendedLifetime(payload) {}
                    if shouldThrow { throw SystemExit(code: 1) }
                })
            }
            #expect(weakPayload != nil)
            try t.start()
            try t.join()
            #expect(weakPayload == nil, "the target is still held after join (throws: \(shouldThrow))")
            withExtendedLifetime(t) {}
        }
    }

    /// A direct `run()` lets go of the target too.
    @Test func test_run_directly_releases_target() throws {
        final class Payload: Sendable {}
        weak var weakPayload: Payload?
        let t: Threading.Thread
        do {
            let payload = Payload()
            weakPayload = payload
            t = Threading.Thread(target: { withExtendedLifetime(payload) {} })
        }
        #expect(weakPayload != nil)
        try t.run()
        #expect(weakPayload == nil)
        withExtendedLifetime(t) {}
    }

    @Test func test_main_thread() throws {
        let main = mainThread()
        #expect(main.name == "MainThread")
        #expect(main === mainThread())
        #expect(main.nativeID == UInt(getpid()))
        let ident = try #require(main.ident)
        #expect(main.description == "<_MainThread(MainThread, started \(ident))>")
        #expect(main.isAlive)
        #expect(!main.daemon)
        #expect(enumerate().first === main)
        // This test runs on a worker thread, not on the main thread.
        #expect(ident != getIdent())
        #expect(currentThread() !== main)
        let seen = SharedList<Bool>()
        let t = Threading.Thread(target: {
            seen.append(mainThread() === main)
            seen.append(mainThread().ident != currentThread().ident)
        })
        try t.start()
        try t.join()
        #expect(seen.values == [true, true])
    }

    @Test func test_repr_stopped() throws {
        let started = Event()
        let finish = Event()
        let t = Threading.Thread(target: {
            started.set()
            try finish.wait()
        })
        try t.start()
        try started.wait()
        #expect(t.description.contains("started"))
        finish.set()
        // "stopped" must appear on its own, without join().
        let stopped = pollUntil { t.description.contains("stopped") }
        #expect(stopped, "\(t)")
        try t.join()
    }

    /// A thread that is never joined still ends: it leaves `enumerate()` and its OS thread exits.
    @Test func test_leak_without_join() throws {
        let t = Threading.Thread(target: {})
        try t.start()
        let nativeID = try #require(t.nativeID)
        #expect(pollUntil { !t.isAlive && !isEnumerated(t) })
        #expect(pollUntil { !kernelThreadExists(nativeID: nativeID) }, "the OS thread \(nativeID) did not exit")
    }

    // MARK: The OS thread: joined or detached exactly once

    /// Starts `count` threads with an empty target, calling `after` on each right after its
    /// `start()` and `afterAll` on all of them, then waits until every one has ended, released its
    /// OS thread (claimed by an untimed `join()` or detached by itself: never left unclaimed) and
    /// exited. Returns how many memory mappings the process gained meanwhile: an OS thread left
    /// neither joined nor detached keeps its stack mapped, so a leak grows this with `count`.
    func mappingGrowth(
        _ count: Int,
        after: (Threading.Thread) throws -> Void = { _ in },
        afterAll: ([Threading.Thread]) throws -> Void = { _ in },
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> Int {
        let before = mappingCount()
        var threads: [Threading.Thread] = []
        for _ in 0..<count {
            let t = Threading.Thread(target: {})
            try t.start()
            try after(t)
            threads.append(t)
        }
        try afterAll(threads)
        let nativeIDs = threads.map { $0.nativeID! }
        let released = pollUntil(seconds: 30) {
            threads.allSatisfy { !$0.isAlive && $0.osThread.load(ordering: .acquiring) != Threading.Thread.unclaimed }
        }
        #expect(released, "a thread ended with its OS thread unclaimed", sourceLocation: sourceLocation)
        let exited = pollUntil(seconds: 30) { nativeIDs.allSatisfy { !kernelThreadExists(nativeID: $0) } }
        #expect(exited, "an OS thread did not exit", sourceLocation: sourceLocation)
        return mappingCount() - before
    }

    /// Threads never joined, joined only with timeouts, joined twice, joined at once by two
    /// threads (untimed both, or one timed), joined the moment they start (racing their end), or
    /// joined by a timed join that gives up first: each OS thread is joined or detached once, and
    /// the process's mappings do not grow with the number of threads (a stack and its guard page
    /// each, were they left behind; the bound leaves room for threads of tests running alongside).
    @Test func test_no_os_thread_left_unjoined() throws {
        let n = 400
        _ = try mappingGrowth(50)  // warm-up: the C library's stack cache, the arenas
        var growth: [String: Int] = [:]
        growth["never joined"] = try mappingGrowth(n)
        growth["joined at once"] = try mappingGrowth(n, after: { try $0.join() })
        growth["timed joins only"] = try mappingGrowth(n, afterAll: { for t in $0 { try t.join(timeout: 30) } })
        growth["joined twice"] = try mappingGrowth(
            n,
            afterAll: { threads in
                for t in threads {
                    try t.join()
                    try t.join()
                }
            }
        )
        growth["zero timeout, then untimed"] = try mappingGrowth(
            n,
            after: { t in
                try t.join(timeout: 0)
                try t.join()
            }
        )
        for timed in [false, true] {
            growth["two joiners at once, one timed: \(timed)"] = try mappingGrowth(
                n,
                after: { t in
                    let other = RawThread {
                        do {
                            if timed { try t.join(timeout: 30) } else { try t.join() }
                        } catch { Issue.record("join threw \(error)") }
                        #expect(!t.isAlive)
                    }
                    try t.join()
                    #expect(!t.isAlive)
                    other.join()
                }
            )
        }
        for (scenario, grown) in growth {
            #expect(grown < n / 2, "\(scenario): \(grown) more memory mappings after \(n) threads")
        }
    }

    /// An untimed join racing the thread's end, from two threads at once (one of them may claim the
    /// OS thread, the thread may have detached itself first): both return only once the thread has
    /// ended, and it ends claimed exactly once.
    @Test func test_untimed_joins_race_the_end() throws {
        let lateJoins = Atomic<Int>(0)
        for _ in 0..<2_000 {
            let go = Atomic<Bool>(false)
            let t = Threading.Thread(target: { while !go.load(ordering: .acquiring) {} })
            try t.start()
            let other = RawThread {
                go.store(true, ordering: .releasing)
                do { try t.join() } catch { Issue.record("join threw \(error)") }
                if t.isAlive || !t.stoppedEvent.isSet { lateJoins.add(1, ordering: .relaxed) }
            }
            try t.join()
            if t.isAlive || !t.stoppedEvent.isSet { lateJoins.add(1, ordering: .relaxed) }
            other.join()
            #expect(pollUntil { t.osThread.load(ordering: .acquiring) != Threading.Thread.unclaimed })
        }
        #expect(lateJoins.load(ordering: .relaxed) == 0, "a join returned before the thread ended")
    }

    // MARK: ThreadingExceptionTests and the error table

    @Test func test_start_thread_again() throws {
        let t = Threading.Thread()
        try t.start()
        expectThreadingError(.runtimeError, "threads can only be started once") { try t.start() }
        try t.join()
        expectThreadingError(.runtimeError, "threads can only be started once") { try t.start() }
    }

    @Test func test_start_main_or_dummy_thread() {
        expectThreadingError(.runtimeError, "threads can only be started once") { try mainThread().start() }
        expectThreadingError(.runtimeError, "threads can only be started once") { try currentThread().start() }
        expectThreadingError(.runtimeError, "cannot set daemon status of active thread") {
            try mainThread().setDaemon(true)
        }
        expectThreadingError(.runtimeError, "cannot set daemon status of active thread") {
            try currentThread().setDaemon(false)
        }
    }

    /// The description starts with the dynamic class name, also for a local subclass.
    @Test func test_repr_subclass() throws {
        final class Worker: Threading.Thread, @unchecked Sendable {}
        let w = Worker(name: "w", daemon: true)
        #expect(w.description == "<Worker(w, initial daemon)>")
        try w.start()
        try w.join()
        #expect(w.description == "<Worker(w, stopped daemon \(w.ident!))>")
    }

    @Test func test_joining_current_thread() throws {
        let messages = SharedList<String>()
        let t = Threading.Thread(target: {
            do {
                try currentThread().join()
                messages.append("no error")
            } catch let error as ThreadingError {
                messages.append("\(error.kind) \(error.message)")
            }
        })
        try t.start()
        try t.join()
        #expect(messages.values == ["runtimeError cannot join current thread"])
    }

    /// This test's own thread is a dummy: joining it is refused as a dummy thread.
    @Test func test_joining_dummy_thread() {
        expectThreadingError(.runtimeError, "cannot join a dummy thread") { try currentThread().join() }
    }

    @Test func test_joining_inactive_thread() {
        let t = Threading.Thread()
        expectThreadingError(.runtimeError, "cannot join thread before it is started") { try t.join() }
        expectThreadingError(.runtimeError, "cannot join thread before it is started") { try t.join(timeout: 1) }
    }

    @Test func test_daemonize_active_thread() throws {
        let release = Event()
        let t = Threading.Thread(target: { try release.wait() }, daemon: false)
        try t.start()
        expectThreadingError(.runtimeError, "cannot set daemon status of active thread") { try t.setDaemon(true) }
        // The same value is refused too.
        expectThreadingError(.runtimeError, "cannot set daemon status of active thread") { try t.setDaemon(false) }
        release.set()
        try t.join()
        expectThreadingError(.runtimeError, "cannot set daemon status of active thread") { try t.setDaemon(true) }
        #expect(!t.daemon)
    }

    // MARK: OS thread names

    /// The OS thread carries the name, cut to the kernel's 15 bytes, read back from the kernel.
    @Test func test_os_thread_name() throws {
        let release = Event()
        let t = Threading.Thread(target: { try release.wait() }, name: "a-very-long-thread-name")
        try t.start()
        defer {
            release.set()
            try? t.join()
        }
        let ident = try #require(t.ident)
        let nativeID = try #require(t.nativeID)
        #expect(pthreadName(ident: ident) == "a-very-long-thr")
        #expect(kernelThreadName(nativeID: nativeID) == "a-very-long-thr")
        #expect(t.name == "a-very-long-thread-name")

        t.name = "renamed"
        #expect(pthreadName(ident: ident) == "renamed")
        #expect(kernelThreadName(nativeID: nativeID) == "renamed")
        #expect(t.name == "renamed")
    }

    /// Truncation keeps whole UTF-8 characters: nine 2-byte characters keep seven (14 bytes).
    @Test func test_os_thread_name_utf8_truncation() throws {
        let release = Event()
        let t = Threading.Thread(target: { try release.wait() }, name: String(repeating: "é", count: 9))
        try t.start()
        defer {
            release.set()
            try? t.join()
        }
        let nativeID = try #require(t.nativeID)
        #expect(kernelThreadName(nativeID: nativeID) == String(repeating: "é", count: 7))
        t.name = "short"
        #expect(kernelThreadName(nativeID: nativeID) == "short")
    }

    /// A rename that lands while `start()` is still running (the thread already has its ident)
    /// must win: once `start()` has returned and the renamer is done, the OS name is the new name.
    /// Up to 3 000 tries; the race window is small, so a broken ordering shows a few times.
    @Test func test_os_thread_name_rename_during_start() throws {
        var stale: [String] = []
        for _ in 0..<3_000 {
            let release = Event()
            let t = Threading.Thread(target: { try release.wait() }, name: "A")
            let renamer = RawThread {
                while t.ident == nil {}
                t.name = "B"
            }
            try t.start()
            renamer.join()
            let osName = pthreadName(ident: t.ident!) ?? "?"
            if osName != "B" { stale.append(osName) }
            release.set()
            try t.join()
            if stale.count >= 3 { break }
        }
        #expect(stale == [], "the OS thread kept its old name after a rename during start(): \(stale)")
    }

    /// A default name reaches the OS thread too; renaming a finished thread only renames the object.
    @Test func test_os_thread_default_name_and_rename_after_end() throws {
        let seen = SharedList<String>()
        let t = Threading.Thread(target: { seen.append(pthreadName(ident: getIdent()) ?? "?") })
        try t.start()
        try t.join()
        #expect(seen.values == [String(t.name.utf8.prefix(15))!])
        t.name = "after the end"
        #expect(t.name == "after the end")
        #expect(t.description.hasPrefix("<Thread(after the end, stopped"))
    }
}
