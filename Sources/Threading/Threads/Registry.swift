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
    ///
    /// Spelled out by hand: on every `Thread()` without a name, string interpolation cost more
    /// than the rest of the initializer.
    func newName(_ prefix: String) -> String {
        var number = counter.add(1, ordering: .relaxed).newValue
        var prefix = prefix
        return prefix.withUTF8 { prefix in
            // The prefix, "-", and an Int's at most 19 digits, written from the last.
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: prefix.count + 20) { buffer in
                var start = buffer.count
                repeat {
                    start -= 1
                    buffer[start] = UInt8(truncatingIfNeeded: 0x30 + number % 10)
                    number /= 10
                } while number > 0
                start -= 1
                buffer[start] = UInt8(ascii: "-")
                start -= prefix.count
                _ = UnsafeMutableBufferPointer(rebasing: buffer[start...]).initialize(from: prefix)
                return String(decoding: UnsafeBufferPointer(rebasing: buffer[start...]), as: UTF8.self)
            }
        }
    }

    func enterLimbo(_ thread: Thread) {
        table.withLock { $0.limbo.append(thread) }
    }

    func leaveLimbo(_ thread: Thread) {
        table.withLock { $0.limbo.removeAll { $0 === thread } }
    }

    /// Moves a starting thread from limbo to the active table, unless it has left limbo already
    /// (it ended first: `remove` took it out of limbo). `start()` calls it once the OS thread
    /// exists, so the active table keeps the order in which `start()` calls returned.
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

    /// Takes a thread out of the table: out of the active threads, or out of limbo if it ends
    /// before `start()` has moved it (then `activate` finds it gone and leaves it out).
    func remove(_ thread: Thread) {
        table.withLock { table in
            if let index = table.active.lastIndex(where: { $0 === thread }) {
                table.active.remove(at: index)
            } else if let index = table.limbo.firstIndex(where: { $0 === thread }) {
                table.limbo.remove(at: index)
            }
        }
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

/// The `Thread` object of the calling thread, kept in a C thread-local variable (a read is one
/// load).
///
/// Threads started here store their own object (not retained: `bootstrap` holds it) and clear it
/// before they end; that costs them no `pthread_setspecific`, so they end without the C library's
/// pass over their thread-specific data. A foreign thread gets a dummy thread on first use, stored
/// retained, and also under a pthread key whose destructor removes it from the registry when that
/// OS thread ends.
enum CurrentThread {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        // A closure: the destructor takes an optional pointer on Linux, a non-optional one on Darwin.
        let rc = pthread_key_create(&key) { dummyThreadEnded($0) }
        precondition(rc == 0, "pthread_key_create failed with error \(rc)")
        return key
    }()

    /// The calling thread's object, if it has one yet.
    static func get() -> Thread? {
        guard let raw = cthreading_thread_get_current() else { return nil }
        return Unmanaged<Thread>.fromOpaque(raw).takeUnretainedValue()
    }

    /// Stores a thread started here (unretained), or clears the slot.
    static func set(_ thread: Thread?) {
        cthreading_thread_set_current(thread.map { Unmanaged.passUnretained($0).toOpaque() })
    }

    /// Stores a thread this module did not start: a dummy retained until its OS thread ends (the
    /// key's destructor lets it go), the main thread unretained (its object is never released).
    static func adopt(_ thread: Thread) {
        guard thread.kind == .dummy else {
            set(thread)
            return
        }
        let raw = Unmanaged.passRetained(thread).toOpaque()
        cthreading_thread_set_current(raw)
        let rc = pthread_setspecific(key, raw)
        precondition(rc == 0, "pthread_setspecific failed with error \(rc)")
    }

    /// Clears the slot if it holds `raw` (a dummy whose OS thread is ending).
    fileprivate static func clear(ifHolding raw: UnsafeMutableRawPointer) {
        if cthreading_thread_get_current() == raw { cthreading_thread_set_current(nil) }
    }
}

// The pthread key's destructor: runs when a dummy thread's OS thread ends (only dummies are stored
// under the key). Its object leaves the registry and is released; the thread-local slot is cleared
// first, so that a later destructor on this thread that asks for `currentThread()` gets a new
// dummy rather than the released one.
private func dummyThreadEnded(_ raw: UnsafeMutableRawPointer?) {
    guard let raw else { return }
    CurrentThread.clear(ifHolding: raw)
    let unmanaged = Unmanaged<Thread>.fromOpaque(raw)
    guard unmanaged.takeUnretainedValue().kind == .dummy else { return }
    let thread = unmanaged.takeRetainedValue()
    Registry.shared.remove(thread)
    thread.markStopped()
}
