// Module functions: currentThread, mainThread, enumerate, activeCount, getIdent, getNativeID,
// stackSize, timeoutMax, and the trace/profile hooks (CPython's test_gettrace,
// test_gettrace_all_threads, test_getprofile, test_getprofile_all_threads, at thread granularity:
// a hook sees each thread's `.start`, `.exception` and `.end`).
//
// The hooks and the stack size are process-wide: the suite is serialized, the stack-size tests
// hold `stackSizeGate` (shared with ThreadTests' stack variants), each test restores what it set,
// and hooks ignore the threads of other suites. `activeCount()` totals are checked in a child
// process (ShutdownTests.test_active_count_and_enumerate_order), since other suites start threads.
//
// Not ported: test_frame_tstate_tracing (frames, `_testcapi`); the `sys.gettrace()` half of the
// *_all_threads tests (Swift has no per-frame tracer: the hook reaching a running thread is shown
// by its `.end` event instead).

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

/// The kernel's id of the calling thread, from `/proc/thread-self` (a link to `PID/task/TID`).
func tidFromProc() -> UInt? {
    var buffer = [CChar](repeating: 0, count: 256)
    let n = readlink("/proc/thread-self", &buffer, buffer.count - 1)
    guard n > 0 else { return nil }
    let link = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return link.split(separator: "/").last.flatMap { UInt($0) }
}

/// One event a hook saw: its kind, the thread it ran on, and the error's text.
struct SeenEvent: Sendable, Equatable {
    var kind: TraceEvent.Kind
    var ident: UInt
    var error: String?
}

/// A hook recording the events of `thread()` only (other suites start threads meanwhile).
func recordingHook(
    _ events: SharedList<SeenEvent>,
    for thread: @escaping @Sendable () -> Threading.Thread?
) -> TraceFunction {
    { event in
        guard let mine = thread(), event.thread === mine else { return }
        events.append(SeenEvent(kind: event.kind, ident: getIdent(), error: event.error.map { "\($0)" }))
    }
}

/// A thread that sets `running` once in `run()` (its `.start` event is then reported), then
/// blocks until `release` is set; it may throw `error` then.
func blockedThread(
    _ release: Event,
    running: Event = Event(),
    throwing error: (any Error & Sendable)? = nil
) -> Threading.Thread {
    Threading.Thread(target: {
        running.set()
        try release.wait()
        if let error { throw error }
    })
}

@Suite(.serialized) struct ModuleFunctionTests {
    // MARK: Identity

    @Test func test_get_ident() throws {
        #expect(getIdent() != 0)
        #expect(getIdent() == pthreadSelf())
        let release = Event()
        let seen = SharedList<UInt>()
        let threads = (0..<5).map { _ in
            Threading.Thread(target: {
                seen.append(getIdent())
                try release.wait()
            })
        }
        for t in threads { try t.start() }
        #expect(Set(threads.compactMap(\.ident)).count == 5)
        #expect(!threads.contains { $0.ident == getIdent() })
        release.set()
        for t in threads { try t.join() }
        #expect(Set(seen.values) == Set(threads.compactMap(\.ident)))
    }

    @Test func test_get_native_id() throws {
        let tid = try #require(tidFromProc())
        #expect(getNativeID() == tid)
        #expect(getNativeID() != UInt(getpid()))  // a worker thread, not the main thread
        let seen = Mutex<(UInt, UInt?)>((0, nil))
        let t = Threading.Thread(target: { seen.withLock { $0 = (getNativeID(), tidFromProc()) } })
        try t.start()
        try t.join()
        let (native, proc) = seen.withLock { $0 }
        #expect(native == t.nativeID)
        #expect(proc == native)
        #expect(native != getNativeID())
    }

    @Test func test_current_thread() throws {
        // On this foreign thread: one dummy, the same each time.
        let dummy = currentThread()
        #expect(currentThread() === dummy)
        #expect(dummy.ident == getIdent())
        #expect(dummy.nativeID == getNativeID())
        #expect(isEnumerated(dummy))
        // On a thread started here: its own object.
        let seen = Mutex<[Threading.Thread]>([])
        let t = Threading.Thread(target: { seen.withLock { $0 += [currentThread(), currentThread()] } })
        try t.start()
        try t.join()
        #expect(seen.withLock { $0.count == 2 && $0.allSatisfy { $0 === t } })
    }

    @Test func test_enumerate() throws {
        let release = Event()
        let unstarted = Threading.Thread()
        let running = blockedThread(release)
        try running.start()
        let threads = enumerate()
        #expect(threads.first === mainThread())
        #expect(threads.contains { $0 === running })
        #expect(!threads.contains { $0 === unstarted })
        #expect(threads.contains { $0 === currentThread() })
        // Each thread appears once.
        #expect(Set(threads.map(ObjectIdentifier.init)).count == threads.count)
        // A lower bound only: other suites' threads come and go.
        #expect(activeCount() >= 3)
        release.set()
        try running.join()
        #expect(!isEnumerated(running))
    }

    @Test func test_timeout_max() {
        #expect(timeoutMax == 9_223_372_036.0)
    }

    // MARK: stackSize

    @Test func test_stack_size_errors() {
        stackSizeGate.run {
            let before = stackSize()
            expectThreadingError(.valueError, "size not valid: 1000 bytes") { try stackSize(1000) }
            expectThreadingError(.valueError, "size not valid: 32767 bytes") { try stackSize(32767) }
            expectThreadingError(.valueError, "size not valid: 1 bytes") { try stackSize(1) }
            expectThreadingError(.valueError, "size must be 0 or a positive value") { try stackSize(-1) }
            expectThreadingError(.valueError, "size must be 0 or a positive value") { try stackSize(Int.min) }
            // A refused size leaves the setting alone.
            #expect(stackSize() == before)
        }
    }

    @Test func test_stack_size_returns_old_value() throws {
        try stackSizeGate.run { () throws in
            #expect(stackSize() == 0)
            #expect(try stackSize(262_144) == 0)
            #expect(stackSize() == 262_144)
            #expect(try stackSize(32_768) == 262_144)
            #expect(stackSize() == 32_768)
            #expect(try stackSize(0) == 32_768)
            #expect(stackSize() == 0)
        }
    }

    /// A new thread gets the stack size set, read back from its own pthread attributes; existing
    /// settings do not leak into threads started after `stackSize(0)`.
    @Test func test_stack_size_applied_to_new_threads() throws {
        func stackOfNewThread() throws -> Int {
            let size = Mutex(0)
            let t = Threading.Thread(target: { size.withLock { $0 = cthreading_current_stack_size() } })
            try t.start()
            try t.join()
            return size.withLock { $0 }
        }
        try stackSizeGate.run {
            let defaultSize = try stackOfNewThread()
            #expect(defaultSize > 0)
            defer { _ = try? stackSize(0) }
            // glibc may hand a thread a cached stack up to 4 times the size asked for.
            for size in [65_536, 262_144, 1 << 20] where 4 * size < defaultSize {
                try stackSize(size)
                let actual = try stackOfNewThread()
                #expect(
                    actual >= size && actual <= 4 * size,
                    "stackSize(\(size)) gave a thread \(actual) bytes of stack"
                )
            }
            try stackSize(0)
            let actual = try stackOfNewThread()
            #expect(actual >= defaultSize, "stackSize(0) gave \(actual) bytes, the default is \(defaultSize)")
        }
    }

    // MARK: Trace and profile hooks

    @Test func test_gettrace() throws {
        let old = getTrace()
        defer { setTrace(old) }
        let calls = Counter()
        setTrace { _ in calls.increment() }
        let fn = try #require(getTrace())
        fn(TraceEvent(kind: .start, thread: currentThread(), error: nil))
        #expect(calls.current == 1)
        setTrace(nil)
        #expect(getTrace() == nil)
    }

    @Test func test_getprofile() throws {
        let old = getProfile()
        defer { setProfile(old) }
        let calls = Counter()
        setProfile { _ in calls.increment() }
        let fn = try #require(getProfile())
        fn(TraceEvent(kind: .end, thread: currentThread(), error: nil))
        #expect(calls.current == 1)
        setProfile(nil)
        #expect(getProfile() == nil)
    }

    /// A thread that returns: `.start` then `.end`; a thread that throws: `.start`, `.exception`
    /// with the error, `.end`. The hook runs on the thread itself.
    @Test(arguments: ["trace", "profile"])
    func test_hook_events(which: String) throws {
        let set = which == "trace" ? setTrace : setProfile
        let holder = Mutex<Threading.Thread?>(nil)
        let events = SharedList<SeenEvent>()
        set(recordingHook(events, for: { holder.withLock { $0 } }))
        defer { set(nil) }

        let normal = Threading.Thread(target: {})
        holder.withLock { $0 = normal }
        try normal.start()
        try normal.join()
        let normalIdent = try #require(normal.ident)
        #expect(
            events.values == [
                SeenEvent(kind: .start, ident: normalIdent, error: nil),
                SeenEvent(kind: .end, ident: normalIdent, error: nil),
            ]
        )

        // SystemExit: the default excepthook prints nothing for it.
        let throwing = Threading.Thread(target: { throw SystemExit(code: 7) })
        holder.withLock { $0 = throwing }
        try throwing.start()
        try throwing.join()
        let ident = try #require(throwing.ident)
        #expect(
            Array(events.values.dropFirst(2)) == [
                SeenEvent(kind: .start, ident: ident, error: nil),
                SeenEvent(kind: .exception, ident: ident, error: "7"),
                SeenEvent(kind: .end, ident: ident, error: nil),
            ]
        )
    }

    /// `setTrace` reaches only threads started afterwards; `setTraceAllThreads` also reaches a
    /// running thread (which then reports its `.end`, not its `.start`), and resetting it with nil
    /// reaches running threads too.
    @Test(arguments: ["trace", "profile"])
    func test_gettrace_all_threads(which: String) throws {
        let set = which == "trace" ? setTrace : setProfile
        let setAll = which == "trace" ? setTraceAllThreads : setProfileAllThreads
        let get = which == "trace" ? getTrace : getProfile
        let old = get()
        defer { setAll(old) }

        // setTrace: a running thread is not reached.
        let release1 = Event()
        let inRun1 = Event()
        let running1 = blockedThread(release1, running: inRun1)
        try running1.start()
        try inRun1.wait()
        let events1 = SharedList<SeenEvent>()
        set(recordingHook(events1, for: { running1 }))
        release1.set()
        try running1.join()
        #expect(events1.values == [])
        set(nil)

        // setTraceAllThreads: it is.
        let release2 = Event()
        let inRun2 = Event()
        let running2 = blockedThread(release2, running: inRun2, throwing: SystemExit())
        try running2.start()
        try inRun2.wait()
        let events2 = SharedList<SeenEvent>()
        setAll(recordingHook(events2, for: { running2 }))
        #expect(get() != nil)
        release2.set()
        try running2.join()
        let ident = try #require(running2.ident)
        #expect(
            events2.values == [
                SeenEvent(kind: .exception, ident: ident, error: "0"), SeenEvent(kind: .end, ident: ident, error: nil),
            ]
        )

        // Reset on every thread: a thread running when the hook is removed reports nothing.
        let release3 = Event()
        let inRun = Event()
        let running3 = blockedThread(release3, running: inRun)
        let events3 = SharedList<SeenEvent>()
        setAll(recordingHook(events3, for: { running3 }))
        try running3.start()
        try inRun.wait()  // `.start` is reported before `run()`
        setAll(nil)
        #expect(get() == nil)
        release3.set()
        try running3.join()
        #expect(events3.values.map(\.kind) == [.start])
    }
}
