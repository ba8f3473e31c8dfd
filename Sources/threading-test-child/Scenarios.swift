// The scenarios of threading-test-child. Each writes what it observes to standard output, one
// fact a line, so that a test can compare the whole output with what Python 3.13 prints for the
// same program. They run on the main thread and then return: the process then exits the way a
// Swift program does, running the library's shutdown (an `atexit` hook).

import Synchronization
import Threading

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif

/// Every scenario by name.
let scenarios: [String: @Sendable () throws -> Void] = [
    "nondaemon-after-main": nondaemonAfterMain,
    "daemon-not-waited": daemonNotWaited,
    "join-main": joinMain,
    "thread-from-thread": threadFromThread,
    "exit-call": exitCall,
    "daemon-threads": daemonThreads,
    "excepthook-default": excepthookDefault,
    "excepthook-threading-error": excepthookThreadingError,
    "excepthook-args": excepthookArgs,
    "system-exit": systemExit,
    "original-excepthook": originalExcepthook,
    "stack-too-big": stackTooBig,
    "minimum-stack": minimumStack,
    "main-thread": mainThreadFacts,
    "names": names,
    "counts": counts,
    "nproc-limit": nprocLimit,
    "memory-flat": memoryFlat,
    "excepthook-storm": excepthookStorm,
    "finalization-shutdown-local": finalizationShutdownLocal,
    "finalization-shutdown-threadlocal": finalizationShutdownThreadLocal,
    "locals-at-exit": localsAtExit,
    "main-thread-during-shutdown": mainThreadDuringShutdown,
    "import-from-another-thread": importFromAnotherThread,
    "stderr-closed": stderrClosed,
]

var scenarioNames: [String] { (Array(scenarios.keys) + Array(futureScenarios.keys)).sorted() }

/// Runs the scenario called `name`; false if there is none. An unexpected error exits with 3.
func runScenario(named name: String) -> Bool {
    guard let scenario = scenarios[name] ?? futureScenarios[name] else { return false }
    do {
        try scenario()
    } catch {
        fputs("scenario \(name) threw: \(error)\n", stderr)
        exit(3)
    }
    return true
}

/// Prints a line and flushes it at once (standard output is a file, so fully buffered).
func say(_ line: String) {
    print(line)
    fflush(stdout)
}

func sleep(seconds: Double) {
    var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
}

/// An error with Python's `ValueError("run failed")` role.
struct RunFailed: Error, CustomStringConvertible {
    var description: String
    init(_ description: String = "run failed") { self.description = description }
}

/// CPython's `ThreadRunFail`: a thread whose `run()` throws.
final class ThreadRunFail: Threading.Thread, @unchecked Sendable {
    override func run() throws { throw RunFailed() }
}

/// A raw pthread (not started by the library), joined by `join()`.
final class RawThread: @unchecked Sendable {
    // @unchecked Sendable: `handle` is written once by `init`, before the object is shared.
    private var handle = pthread_t()

    init(_ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(BodyBox(body)).toOpaque()
        let rc = pthread_create(&handle, nil, rawThreadEntry, box)
        precondition(rc == 0, "pthread_create failed: \(rc)")
    }

    func join() {
        let rc = pthread_join(handle, nil)
        precondition(rc == 0, "pthread_join failed: \(rc)")
    }
}

final class BodyBox {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}

private func rawThreadEntry(_ context: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    Unmanaged<BodyBox>.fromOpaque(context!).takeRetainedValue().body()
    return nil
}

// MARK: - Shutdown (CPython's ThreadJoinOnShutdown and the shutdown probes)

/// A non-daemon thread outlives `main`: the process waits for it.
/// Expected: "end of main\nlate\n", exit 0.
func nondaemonAfterMain() throws {
    let late = Threading.Thread(target: {
        sleep(seconds: 0.3)
        say("late")
    })
    try late.start()
    say("end of main")
}

/// A daemon thread is not waited for. Expected: "end of main\n" only, exit 0, well before 5 s.
func daemonNotWaited() throws {
    let daemon = Threading.Thread(
        target: {
            sleep(seconds: 5)
            say("daemon woke up")
        },
        daemon: true
    )
    try daemon.start()
    say("end of main")
}

/// test_1_join_on_shutdown and the shutdown probe: a thread joining the main thread returns once
/// `main` has returned; the main thread is then not alive but still in `enumerate()`.
/// Expected: "end of main\nend of thread\nmain alive: false\nmain in enumerate: true\n
/// main first: true\nmain description: stopped\n".
func joinMain() throws {
    let main = currentThread()
    let joiner = Threading.Thread(
        target: { (mainThread: Threading.Thread) in
            try mainThread.join()
            say("end of thread")
            say("main alive: \(mainThread.isAlive)")
            say("main in enumerate: \(enumerate().contains { $0 === mainThread })")
            say("main first: \(enumerate().first === mainThread)")
            let stopped = mainThread.description == "<_MainThread(MainThread, stopped \(mainThread.ident!))>"
            say("main description: \(stopped ? "stopped" : mainThread.description)")
        },
        args: (main)
    )
    try joiner.start()
    sleep(seconds: 0.1)
    say("end of main")
}

/// test_thread_from_thread: a non-daemon thread started by another one, after `main` returned,
/// is waited for too. Expected: "OK\n", exit 0.
func threadFromThread() throws {
    let thread1 = Threading.Thread(target: {
        sleep(seconds: 0.05)
        let thread2 = Threading.Thread(target: {
            sleep(seconds: 0.05)
            say("OK")
        })
        try thread2.start()
    })
    try thread1.start()
}

/// test_join_nondaemon_on_shutdown: `exit(0)` from main (Python's `raise SystemExit`) still waits
/// for a non-daemon thread. Expected: "Woke up\n", empty stderr, exit 0.
func exitCall() throws {
    let child = Threading.Thread(target: {
        sleep(seconds: 0.5)
        say("Woke up")
    })
    try child.start()
    exit(0)
}

/// test_4_daemon_threads: 40 daemon threads doing I/O when the process exits do not crash it.
/// Expected: "all ran\n", empty stderr, exit 0.
func daemonThreads() throws {
    let ran = Counter()
    for _ in 0..<40 {
        let worker = Threading.Thread(
            target: {
                var counted = false
                while true {
                    let input = open("/proc/self/stat", O_RDONLY)
                    var buffer = [UInt8](repeating: 0, count: 200)
                    let n = read(input, &buffer, buffer.count)
                    close(input)
                    let output = open("/dev/null", O_WRONLY)
                    _ = write(output, buffer, max(n, 0))
                    close(output)
                    sleep(seconds: Double.random(in: 0..<(1.0 / 1995)))
                    if !counted {
                        counted = true
                        ran.increment()
                    }
                }
            },
            daemon: true
        )
        try worker.start()
    }
    while ran.value < 40 { sleep(seconds: 0.001) }
    say("all ran")
    exit(0)
}

// MARK: - The default excepthook (CPython's ExceptHookTests, test_print_exception)

/// test_excepthook: the default hook's output, and the process carries on.
/// Expected stderr: "Exception in thread excepthook thread:\n" then the error ("run failed");
/// stdout "after\n"; exit 0.
func excepthookDefault() throws {
    let thread = ThreadRunFail(name: "excepthook thread")
    try thread.start()
    try thread.join()
    say("after")
}

/// A `ThreadingError` thrown by a thread is shown the way Python shows the exception.
/// Expected stderr: "Exception in thread Thread-1:\nRuntimeError: boom\n".
func excepthookThreadingError() throws {
    let thread = Threading.Thread(target: { throw ThreadingError(.runtimeError, "boom") })
    try thread.start()
    try thread.join()
    say("after")
}

/// test_excepthook_thread_None, and a traceback given: the default hook called directly.
/// Stdout: the main thread's `getIdent()`. Expected stderr: "Exception in thread IDENT:\n" and
/// "bug"; then "Exception in thread named:\nTraceback (most recent call last):\n  frame 1\n
///   frame 2\n" and "traced".
func excepthookArgs() throws {
    defaultExcepthook(
        ExceptHookArgs(excType: RunFailed.self, excValue: RunFailed("bug"), excTraceback: nil, thread: nil)
    )
    let named = Threading.Thread(name: "named")
    defaultExcepthook(
        ExceptHookArgs(
            excType: RunFailed.self,
            excValue: RunFailed("traced"),
            excTraceback: ["  frame 1", "  frame 2"],
            thread: named
        )
    )
    say("\(getIdent())")
}

/// test_system_exit: `SystemExit` thrown by a thread prints nothing and does not end the process.
/// Expected: stdout "after\n", empty stderr, exit 0.
func systemExit() throws {
    final class ThreadExit: Threading.Thread, @unchecked Sendable {
        override func run() throws { throw SystemExit(code: 1) }
    }
    let thread = ThreadExit()
    try thread.start()
    try thread.join()
    say("after")
}

/// test_original_excepthook: default output, then a custom hook's, then the default's again
/// after restoring `defaultExcepthook`. Expected stderr: D + "Running a thread failed\n" + D.
func originalExcepthook() throws {
    func runThread() throws {
        let thread = ThreadRunFail(name: "excepthook thread")
        try thread.start()
        try thread.join()
    }
    try runThread()
    excepthook = { _ in fputs("Running a thread failed\n", stderr) }
    try runThread()
    excepthook = defaultExcepthook
    try runThread()
}

// MARK: - Module state that a test process cannot change safely (other tests run in parallel)

/// `pthread_create` refuses a 64 TiB stack: `start()` throws, the thread leaves no trace, and it
/// can be started once the stack size is restored.
/// Expected: "old: 0\nerror: runtimeError: can't start new thread\nin enumerate: false\n
/// alive: false\nident: nil\ndescription: <Thread(big, initial)>\nran\njoined: stopped\n".
func stackTooBig() throws {
    let thread = Threading.Thread(target: { say("ran") }, name: "big")
    let old = try stackSize(1 << 46)
    say("old: \(old)")
    do {
        try thread.start()
        say("started with a 64 TiB stack")
    } catch let error as ThreadingError {
        say("error: \(error.kind): \(error.message)")
    }
    _ = try stackSize(0)
    say("in enumerate: \(enumerate().contains { $0 === thread })")
    say("alive: \(thread.isAlive)")
    say("ident: \(thread.ident.map { "\($0)" } ?? "nil")")
    say("description: \(thread.description)")
    try thread.start()
    try thread.join()
    say("joined: \(thread.description.contains("stopped") ? "stopped" : thread.description)")
}

/// The smallest stack `stackSize` accepts (32 KiB) is enough for a thread started here: its
/// bootstrap, hooks and a small target. Expected: "ran 32768\njoined\n".
func minimumStack() throws {
    _ = try stackSize(32_768)
    let thread = Threading.Thread(target: { say("ran \(stackSize())") })
    try thread.start()
    try thread.join()
    _ = try stackSize(0)
    say("joined")
}

/// test_main_thread, test_daemon_param and test_joining_current_thread, seen from the real main
/// thread. Expected: every line ends in "true" but the last: "join self: cannot join current thread".
func mainThreadFacts() throws {
    let main = mainThread()
    say("current is main: \(currentThread() === main)")
    say("name: \(main.name == "MainThread")")
    say("ident: \(main.ident == getIdent())")
    say("native id: \(main.nativeID == getNativeID() && getNativeID() == UInt(getpid()))")
    say("description: \(main.description == "<_MainThread(MainThread, started \(getIdent()))>")")
    say("alive: \(main.isAlive)")
    say("not daemon: \(!main.daemon)")
    say("default daemon false: \(!Threading.Thread().daemon)")
    say("daemon false: \(!Threading.Thread(daemon: false).daemon)")
    say("daemon true: \(Threading.Thread(daemon: true).daemon)")
    let seenInThread = Mutex<[Bool]>([])
    let other = Threading.Thread(target: {
        let me = currentThread()
        seenInThread.withLock {
            $0.append(mainThread() === main)
            $0.append(main.ident != me.ident)
            $0.append(main.ident != getIdent())
        }
    })
    try other.start()
    try other.join()
    say("in another thread: \(seenInThread.withLock { $0 } == [true, true, true])")
    do {
        try currentThread().join()
        say("join self: no error")
    } catch let error as ThreadingError {
        say("join self: \(error.message)")
    }
}

/// test_name and the shared counter of `Thread-N` and `Dummy-N`, in a process where nothing else
/// creates threads. Expected:
/// "Thread-1\nThread-2\nmyname1\nThread-3\nDummy-4\nThread-5\nThread-6\nDummy-7\ndaemon: true\n
/// Thread-8\nTimer: <Timer(Thread-8, initial)>\n".
func names() throws {
    say(Threading.Thread().name)
    say(Threading.Thread(name: "").name)
    say(Threading.Thread(name: "myname1").name)
    say(Threading.Thread(target: {}).name)
    let lines = Mutex<[String]>([])
    RawThread { lines.withLock { $0.append(currentThread().name) } }.join()
    say(lines.withLock { $0.removeFirst() })
    say(Threading.Thread().name)
    // In a fresh foreign thread, `Thread()` takes its name before it asks `currentThread()` for
    // its daemon default, which creates the dummy thread (Python's order).
    RawThread {
        let created = Threading.Thread()
        let dummy = currentThread()
        lines.withLock { $0 += [created.name, dummy.name, "daemon: \(created.daemon)"] }
    }.join()
    for line in lines.withLock({ $0 }) { say(line) }
    let timer = Threading.Timer(interval: 0) {}
    say(timer.name)
    say("Timer: \(timer.description)")
}

/// `activeCount()` and `enumerate()` in a process where no other thread runs: the main thread
/// first, then threads in the order they started. Expected:
/// "1\n[MainThread]\n4\n[MainThread, w0, w1, w2]\n1\n[MainThread]\n".
func counts() throws {
    func show() {
        say("\(activeCount())")
        say("[\(enumerate().map(\.name).joined(separator: ", "))]")
    }
    show()
    let release = Event()
    let workers = (0..<3).map { i in Threading.Thread(target: { try release.wait() }, name: "w\(i)") }
    for worker in workers { try worker.start() }
    show()
    release.set()
    for worker in workers { try worker.join() }
    show()
}

/// A thread-safe counter.
final class Counter: Sendable {
    private let storage = Atomic<Int>(0)
    func increment() { storage.add(1, ordering: .sequentiallyConsistent) }
    func incrementAndGet() -> Int { storage.add(1, ordering: .sequentiallyConsistent).newValue }
    var value: Int { storage.load(ordering: .sequentiallyConsistent) }
}
