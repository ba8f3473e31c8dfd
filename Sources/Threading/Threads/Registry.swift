import CThreading
import Synchronization

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif

/// The module's table of threads (Python's `_active` and `_limbo`), the name counter, the main
/// thread, and the shutdown that waits for non-daemon threads when the process exits.
final class Registry: Sendable {
    static let shared = Registry()

    private struct Table {
        /// Threads that are running, in the order they became so; the main thread first.
        var active: [Thread] = []
        /// Threads being started: created, not yet running.
        var limbo: [Thread] = []
    }

    private let table = Protected(Table())
    /// Steps run at exit before the threads are joined (Python's `threading._register_atexit`).
    private let atExitCalls = Protected<[@Sendable () -> Void]>([])
    private let counter = Atomic<Int>(0)
    let main: Thread

    private init() {
        main = Thread(
            kind: .main,
            name: "MainThread",
            daemon: false,
            ident: UInt(cthreading_thread_ident(cthreading_main_thread())),
            nativeID: UInt(cthreading_main_native_id())
        )
        table.withLock { $0.active.append(main) }
        let rc = cthreading_atexit(threadingAtExit)
        precondition(rc == 0, "atexit failed")
    }

    /// `PREFIX-N`, N one more than the last name handed out (shared by threads and dummies).
    func newName(_ prefix: String) -> String {
        "\(prefix)-\(counter.add(1, ordering: .relaxed).newValue)"
    }

    func enterLimbo(_ thread: Thread) {
        table.withLock { $0.limbo.append(thread) }
    }

    func leaveLimbo(_ thread: Thread) {
        table.withLock { $0.limbo.removeAll { $0 === thread } }
    }

    /// Moves a starting thread from limbo to the active table, unless it has moved already: both
    /// `start()`, once the OS thread exists, and the new thread, as it begins, call this, and the
    /// first one moves it. So the active table keeps the order in which `start()` calls returned.
    func activate(_ thread: Thread) {
        table.withLock { table in
            guard let index = table.limbo.firstIndex(where: { $0 === thread }) else { return }
            table.limbo.remove(at: index)
            table.active.append(thread)
        }
    }

    /// Registers a thread that is already running (a dummy).
    func add(_ thread: Thread) {
        table.withLock { $0.active.append(thread) }
    }

    func remove(_ thread: Thread) {
        table.withLock { $0.active.removeAll { $0 === thread } }
    }

    /// Python's `enumerate()`: the active threads, then those being started.
    var all: [Thread] {
        table.withLock { $0.active + $0.limbo }
    }

    var count: Int {
        table.withLock { $0.active.count + $0.limbo.count }
    }

    /// Registers `call` to run at exit, before the non-daemon threads are joined; the last
    /// registered runs first (Python's `threading._register_atexit`).
    func registerAtExit(_ call: @escaping @Sendable () -> Void) {
        atExitCalls.withLock { $0.append(call) }
    }

    /// Python's `_shutdown`: the main thread is marked finished (so joining it returns), the
    /// registered exit steps run, then every non-daemon thread started here is joined, including
    /// ones started while waiting.
    func shutdown() {
        main.markStopped()
        for call in atExitCalls.withLock({ $0 }).reversed() { call() }
        let me = Platform.currentIdent()
        while true {
            let pending = all.filter { thread in
                thread.kind == .regular && !thread.daemon && thread.ident != me
            }
            if pending.isEmpty { return }
            for thread in pending {
                // The exit-time wait for non-daemon threads: never reported as a blocking call
                // inside a task (an async `main` ends in one).
                if !thread.stoppedEvent.isSet { _ = try? thread.stoppedEvent.waitSlow(timeout: nil, operation: nil) }
            }
        }
    }
}

// Runs at process exit (when `main` returns or `exit` is called): Python's threading shutdown.
private func threadingAtExit() {
    Registry.shared.shutdown()
}

/// The `Thread` object of the calling thread, kept in thread-local storage.
///
/// Threads started here store their own object (not retained: `bootstrap` holds it) and clear it
/// before they end. A foreign thread gets a dummy thread on first use, stored retained; the key's
/// destructor removes it from the registry when that OS thread ends.
enum CurrentThread {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        // A closure: the destructor takes an optional pointer on Linux, a non-optional one on Darwin.
        let rc = pthread_key_create(&key) { dummyThreadEnded($0) }
        precondition(rc == 0, "pthread_key_create failed with error \(rc)")
        return key
    }()

    /// The slot's value: the thread object, and whether the slot holds a reference to it.
    static func get() -> Thread? {
        guard let raw = pthread_getspecific(key) else { return nil }
        return Unmanaged<Thread>.fromOpaque(raw).takeUnretainedValue()
    }

    /// Stores a thread started here (unretained), or clears the slot.
    static func set(_ thread: Thread?) {
        let raw = thread.map { UnsafeRawPointer(Unmanaged.passUnretained($0).toOpaque()) }
        let rc = pthread_setspecific(key, raw)
        precondition(rc == 0, "pthread_setspecific failed with error \(rc)")
    }

    /// Stores a thread this module did not start, retained until its OS thread ends. The main
    /// thread's object is never released, so its slot keeps no reference.
    static func adopt(_ thread: Thread) {
        let raw: UnsafeMutableRawPointer
        if thread.kind == .dummy {
            raw = Unmanaged.passRetained(thread).toOpaque()
        } else {
            raw = Unmanaged.passUnretained(thread).toOpaque()
        }
        let rc = pthread_setspecific(key, raw)
        precondition(rc == 0, "pthread_setspecific failed with error \(rc)")
    }
}

// The thread-local slot's destructor: runs when a thread whose slot is still set ends. Dummy
// threads leave it set (threads started here clear it), and so does the main thread when its OS
// thread ends before the process does: an `async` main's `dispatch_main` ends it with
// `pthread_exit` at the first `await`. The main thread's slot holds no reference, and its `Thread`
// stays alive and in `enumerate()` until `main` returns (the exit-time shutdown marks it stopped).
private func dummyThreadEnded(_ raw: UnsafeMutableRawPointer?) {
    guard let raw else { return }
    let unmanaged = Unmanaged<Thread>.fromOpaque(raw)
    guard unmanaged.takeUnretainedValue().kind == .dummy else { return }
    let thread = unmanaged.takeRetainedValue()
    Registry.shared.remove(thread)
    thread.markStopped()
}
