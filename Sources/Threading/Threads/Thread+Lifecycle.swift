import CThreading
import Synchronization

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif

extension Thread {
    /// Starts the thread: `run()` begins on a new OS thread, which exists when this call returns.
    ///
    /// When `start()` returns, `ident` and `nativeID` are set, `isAlive` is `true` until the
    /// thread ends, and the thread is in `enumerate()`.
    ///
    /// - Throws: `ThreadingError.Kind.runtimeError`: "threads can only be started once" on a
    ///   second call (or on a main or dummy thread); "can't start new thread" when the OS refuses
    ///   (then the thread leaves no trace in `enumerate()` and may be started again).
    /// - Complexity: One `pthread_create`. The caller does not wait for the new thread to be
    ///   scheduled: `ident` is `pthread_create`'s handle, and `nativeID`, which only the new thread
    ///   can read, is waited for by a reader that asks before the thread has published it.
    public func start() throws {
        try state.withLock { (state) throws(ThreadingError) in
            guard kind == .regular, state.phase == .initial else {
                throw ThreadingError(.runtimeError, "threads can only be started once")
            }
            state.phase = .starting
        }
        Registry.shared.enterLimbo(self)
        let context = Unmanaged.passRetained(self).toOpaque()
        var ident: UInt = 0
        let rc = cthreading_start(threadEntry, context, size_t(stackSize()), 1, &ident)
        guard rc == 0 else {
            Unmanaged<Thread>.fromOpaque(context).release()
            Registry.shared.leaveLimbo(self)
            state.withLock { $0.phase = .initial }
            throw ThreadingError(.runtimeError, "can't start new thread")
        }
        // The new thread may have run, even to its end, already: it sets the same ident, and a
        // later phase stays.
        state.withLock { state in
            state.ident = ident
            if state.phase == .starting { state.phase = .started }
        }
        Registry.shared.activate(self)
    }

    /// Waits until the thread finishes, or until `timeout` passes.
    ///
    /// Any number of threads may join one thread at once. Check `isAlive` afterwards to tell a
    /// timeout from an end. After a `join` that saw the end, the thread is out of `enumerate()`.
    ///
    /// - Parameters:
    ///   - timeout: The longest wait, in seconds; `nil` waits without limit, negative is zero.
    /// - Throws: `ThreadingError.Kind.runtimeError` when the thread was not started ("cannot join
    ///   thread before it is started"), is the current thread ("cannot join current thread"), or
    ///   is a dummy thread ("cannot join a dummy thread"); `.valueError` for NaN;
    ///   `.overflowError` above `timeoutMax`, when the call would wait.
    @available(*, noasync, message: "use `try await thread.join()`, which suspends the task instead")
    public func join(timeout: Double? = nil) throws {
        if kind == .dummy { throw ThreadingError(.runtimeError, "cannot join a dummy thread") }
        guard let ident = startedIdent else {
            throw ThreadingError(.runtimeError, "cannot join thread before it is started")
        }
        if self === currentThread() { throw ThreadingError(.runtimeError, "cannot join current thread") }
        if stoppedEvent.isSet { return }
        // An untimed join that claims the OS thread waits in `pthread_join`: the kernel wakes it
        // once the thread has exited, where a wake-up from the thread's last steps would let the
        // joiner preempt it before it could exit (a context switch more, on one CPU). Every other
        // joiner (timed, a second one, the async twin, the exit-time shutdown) waits for
        // `stoppedEvent`, which the thread sets before it exits.
        if timeout == nil,
            osThread.compareExchange(
                expected: Thread.unclaimed,
                desired: Thread.joining,
                ordering: .acquiringAndReleasing
            ).exchanged
        {
            BlockingInTask.check("Thread.join")
            let rc = cthreading_join(ident)
            precondition(rc == 0, "pthread_join failed with error \(rc)")
            return
        }
        if let timeout, timeout < 0 {
            _ = try stoppedEvent.waitSlow(timeout: 0, operation: "Thread.join")
        } else {
            _ = try stoppedEvent.waitSlow(timeout: timeout, operation: "Thread.join")
        }
    }

    /// Whether `start()` has succeeded (Python's `_started.is_set()`), or the thread was never
    /// started here (the main and dummy threads).
    var hasStarted: Bool {
        state.withLock { $0.phase == .started || $0.phase == .stopped }
    }

    /// `ident` once the thread has started (as `hasStarted`), else `nil`.
    private var startedIdent: UInt? {
        state.withLock { $0.phase == .started || $0.phase == .stopped ? $0.ident : nil }
    }

    /// The thread's very last step, after `bootstrap()`: unless an untimed `join()` has claimed
    /// the OS thread (and will `pthread_join` it), the thread detaches itself, so that it leaves
    /// nothing behind when it exits.
    func releaseOSThread() {
        if osThread.compareExchange(
            expected: Thread.unclaimed,
            desired: Thread.detached,
            ordering: .acquiringAndReleasing
        ).exchanged {
            let rc = cthreading_detach_self()
            precondition(rc == 0, "pthread_detach failed with error \(rc)")
        }
    }

    /// The new thread's life, from its first instruction to its last (Python's `_bootstrap_inner`).
    func bootstrap() {
        let ident = Platform.currentIdent()
        let nativeID = Platform.currentNativeID()
        CurrentThread.set(self)
        state.withLock { state in
            state.ident = ident
            state.nativeID = nativeID
            state.phase = .started
            // Read under the lock: `setTraceAllThreads` sets the global hook, then each thread's.
            state.hooks = TraceHooks.current
            // Under the lock, so that a rename racing with the start cannot be overwritten.
            OSThreadName.set(state.name, on: ident)
        }
        // `start()` moves the thread from limbo to the active table (and `remove` below takes it
        // out of either), so the thread itself has no registry work here.
        startedEvent.set()

        emit(.start, error: nil)
        do {
            try run()
        } catch {
            emit(.exception, error: error)
            invokeExcepthook(for: error)
        }
        emit(.end, error: nil)

        // The thread's `Local` and `ThreadLocal` values go before it counts as ended, so their
        // `deinit`s have run when `join()` returns or the exit-time shutdown moves on.
        LocalRegistry.shared.releaseCurrentThreadValues()
        Registry.shared.remove(self)
        // The hooks and the target (left by a `run()` override) are let go of now, as CPython
        // deletes `_target`: a hook or target that captures this thread makes no lasting cycle.
        // They are taken out under the lock and released after it, in case a capture's
        // deinitializer reads the thread.
        var hooks = TraceHooks.Pair()
        var target: (@Sendable () throws -> Void)? = nil
        state.withLock { state in
            state.phase = .stopped
            swap(&hooks, &state.hooks)
            swap(&target, &state.target)
        }
        _ = consume hooks
        _ = consume target
        CurrentThread.set(nil)
        stoppedEvent.set()
    }

    /// Marks a thread that this module did not start as finished (the main thread at exit, a
    /// dummy thread when its OS thread ends).
    func markStopped() {
        state.withLock { $0.phase = .stopped }
        stoppedEvent.set()
    }

    private func emit(_ kind: TraceEvent.Kind, error: (any Error)?) {
        let hooks = state.withLock { $0.hooks }
        guard hooks.trace != nil || hooks.profile != nil else { return }
        let event = TraceEvent(kind: kind, thread: self, error: error)
        hooks.trace?(event)
        hooks.profile?(event)
    }

    private func invokeExcepthook(for error: any Error) {
        let hook = excepthook
        hook(ExceptHookArgs(excType: type(of: error), excValue: error, excTraceback: nil, thread: self))
    }
}

// The start routine of every thread started here: a nonisolated global function, so no actor
// isolation check can trip on it, whatever context `start()` was called from.
private func threadEntry(_ context: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    let thread = Unmanaged<Thread>.fromOpaque(context!).takeRetainedValue()
    thread.bootstrap()
    thread.releaseOSThread()
    return nil
}

/// OS thread names: set from Python's thread names, truncated to the kernel's 15 bytes.
enum OSThreadName {
    /// Names the thread whose `pthread_t` is `ident`; the thread must be alive. Errors (a
    /// container may refuse with `EPERM`) are ignored, as CPython ignores them. Allocates nothing:
    /// a thread that never allocates ends without setting up and tearing down a malloc cache.
    static func set(_ name: String, on ident: UInt) {
        let capacity = Int(CTHREADING_NAME_MAX) + 1
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { buffer in
            let count = truncate(name, into: buffer)
            buffer[count] = 0
            buffer.withMemoryRebound(to: CChar.self) {
                _ = cthreading_setname(cthreading_thread_from_ident(ident), $0.baseAddress!)
            }
        }
    }

    /// The first 15 bytes of `name` in UTF-8, less a character cut in two.
    static func truncated(_ name: String) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: Int(CTHREADING_NAME_MAX)) { buffer, count in
            count = truncate(name, into: buffer)
        }
    }

    /// Writes the first 15 bytes of `name` in UTF-8, less a character cut in two, to the start of
    /// `buffer` (at least 15 bytes); returns how many.
    private static func truncate(_ name: String, into buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
        var name = name
        var count = name.withUTF8 { utf8 in
            let count = min(utf8.count, Int(CTHREADING_NAME_MAX))
            _ = buffer.initialize(from: utf8.prefix(count))
            return count
        }
        if let lead = buffer[..<count].lastIndex(where: { $0 & 0xC0 != 0x80 }) {
            let first = buffer[lead]
            let length = first < 0x80 ? 1 : first >= 0xF0 ? 4 : first >= 0xE0 ? 3 : 2
            if count - lead < length { count = lead }
        }
        return count
    }

    /// The OS name of the thread whose `pthread_t` is `ident`, or `nil` if it cannot be read.
    static func get(of ident: UInt) -> String? {
        var buffer = [CChar](repeating: 0, count: 64)
        guard cthreading_getname(cthreading_thread_from_ident(ident), &buffer, buffer.count) == 0 else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
