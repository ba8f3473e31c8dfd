import Synchronization

/// A thread of control, Python's `threading.Thread`: give it a target or subclass it and override
/// `run()`, then `start()` it and `join()` it.
///
/// Each `Thread` is a real OS thread with Python's lifecycle: `start()` returns once the thread
/// exists, with `ident` and `nativeID` set; the thread's `name` is also its OS name (what `top -H`,
/// `gdb` and crash logs show); an error thrown by `run()` goes to `excepthook`; and when the
/// program's `main` returns, the process waits for every non-daemon thread first.
///
/// ```swift
/// let worker = Thread(target: { print("working") }, name: "worker")
/// try worker.start()
/// try worker.join()
/// ```
///
/// `Threading.Thread` is the full name where Foundation's `Thread` is also imported.
open class Thread: @unchecked Sendable, CustomStringConvertible {
    // @unchecked Sendable: every mutable field lives in `state`, a Mutex; the events are Sendable.

    /// Where a thread is in its life.
    enum Phase: Sendable {
        case initial, starting, started, stopped
    }

    /// What kind of `Thread` object this is: started here, the process's main thread, or a
    /// stand-in for a thread this module did not start.
    enum Kind: Sendable {
        case regular, main, dummy
    }

    struct State: @unchecked Sendable {
        // @unchecked Sendable: `target` is a @Sendable closure; the hooks are @Sendable too.
        var name: String
        var daemon: Bool
        var phase: Phase = .initial
        var ident: UInt? = nil
        var nativeID: UInt? = nil
        var target: (@Sendable () throws -> Void)?
        var hooks = TraceHooks.Pair()
    }

    let kind: Kind
    let state: Protected<State>
    /// Set by the new thread once it has published `nativeID` (and `ident`), which a reader that
    /// comes earlier waits for.
    let startedEvent = Event()
    /// Set once the thread has finished and left `enumerate()`; `join` waits for it, but for the
    /// one untimed `join()` that claims the OS thread (`osThread`) and waits in `pthread_join`.
    let stoppedEvent = Event()
    /// Who releases the OS thread of a thread started here, which is created joinable:
    /// `unclaimed` while nobody has; `joining` once an untimed `join()` has claimed it, which then
    /// calls `pthread_join` (woken by the kernel as the thread exits); `detached` once the thread,
    /// ending unclaimed, has claimed it itself and called `pthread_detach`. Exactly one of the two
    /// claims succeeds, so every thread is joined or detached once. The main and dummy threads
    /// start `detached`: they were not created here.
    let osThread: Atomic<UInt8>
    static let unclaimed: UInt8 = 0
    static let joining: UInt8 = 1
    static let detached: UInt8 = 2

    /// Creates a thread that will call `target` when started.
    ///
    /// - Parameters:
    ///   - target: What `run()` calls; `nil` makes `run()` do nothing (subclasses override it).
    ///   - name: The thread's name; `nil` or empty gives `Thread-N`, N counting up from 1 and
    ///     shared with dummy threads' `Dummy-N`.
    ///   - daemon: Whether the process may exit while this thread runs; `nil` inherits
    ///     `currentThread().daemon` (so a thread created on a foreign thread is a daemon).
    public init(target: (@Sendable () throws -> Void)? = nil, name: String? = nil, daemon: Bool? = nil) {
        let resolvedName = (name?.isEmpty == false) ? name! : Registry.shared.newName("Thread")
        let resolvedDaemon = daemon ?? currentThread().daemon
        kind = .regular
        state = Protected(State(name: resolvedName, daemon: resolvedDaemon, target: target))
        osThread = Atomic(Thread.unclaimed)
    }

    /// Creates a thread that will call `target` with `args` when started.
    ///
    /// - Parameters:
    ///   - target: The function to run.
    ///   - args: Its arguments, as a tuple (`()` for none, `(1, "a")` for two).
    ///   - name: The thread's name; `nil` gives `Thread-N`.
    ///   - daemon: Whether it is a daemon thread; `nil` inherits the current thread's.
    public convenience init<each A: Sendable>(
        target: @escaping @Sendable (repeat each A) throws -> Void,
        args: (repeat each A),
        name: String? = nil,
        daemon: Bool? = nil
    ) {
        let arguments = PackedArguments(repeat each args)
        self.init(target: { try arguments.apply(target) }, name: name, daemon: daemon)
    }

    /// A main or dummy thread: already running, never started here.
    init(kind: Kind, name: String, daemon: Bool, ident: UInt, nativeID: UInt) {
        self.kind = kind
        var initial = State(name: name, daemon: daemon, target: nil)
        initial.phase = .started
        initial.ident = ident
        initial.nativeID = nativeID
        state = Protected(initial)
        osThread = Atomic(Thread.detached)
        startedEvent.set()
    }

    /// The thread's activity: calls the target given to `init`. Subclasses override it.
    ///
    /// Called on the new thread by `start()`; a direct call runs it on the caller. The thread
    /// lets go of its target (and what it captured) once `run()` is done with it.
    open func run() throws {
        // Swapped out rather than returned: a closure returned through the generic `withLock`
        // would be wrapped in a reabstraction thunk, an allocation on the new thread.
        var target: (@Sendable () throws -> Void)? = nil
        state.withLock { swap(&target, &$0.target) }
        try target?()
    }

    /// The thread's name, for identification only; several threads may share one.
    ///
    /// Setting it on a running thread started here renames the OS thread too (the kernel keeps
    /// the first 15 bytes).
    public var name: String {
        get { state.withLock { $0.name } }
        set {
            state.withLock { state in
                state.name = newValue
                // The thread cannot finish while this lock is held, so its pthread_t is valid.
                if kind == .regular, state.phase == .started, let ident = state.ident {
                    OSThreadName.set(newValue, on: ident)
                }
            }
        }
    }

    /// Python's `get_ident()` of the thread once started (`nil` before), kept after it ends.
    public var ident: UInt? {
        state.withLock { $0.ident }
    }

    /// The kernel's id of the thread once started (`nil` before), kept after it ends.
    ///
    /// Only the thread itself can read its id: asked just after `start()`, before the new thread
    /// has run its first instructions, this waits for them.
    public var nativeID: UInt? {
        let (nativeID, phase) = state.withLock { ($0.nativeID, $0.phase) }
        if nativeID != nil || phase == .initial || phase == .starting { return nativeID }
        // A wait of a few instructions of the new thread: not reported inside a task.
        if !startedEvent.isSet { _ = try? startedEvent.waitSlow(timeout: nil, operation: nil) }
        return state.withLock { $0.nativeID }
    }

    /// Whether the thread has started and not yet finished.
    public var isAlive: Bool {
        state.withLock { $0.phase == .started }
    }

    /// Whether this is a daemon thread: the process does not wait for daemon threads at exit.
    public var daemon: Bool {
        state.withLock { $0.daemon }
    }

    /// Sets whether this is a daemon thread; only before `start()`.
    ///
    /// - Throws: `ThreadingError.Kind.runtimeError` ("cannot set daemon status of active thread")
    ///   once the thread has started.
    public func setDaemon(_ daemonic: Bool) throws {
        try state.withLock { (state) throws(ThreadingError) in
            guard state.phase == .initial else {
                throw ThreadingError(.runtimeError, "cannot set daemon status of active thread")
            }
            state.daemon = daemonic
        }
    }

    /// Python's repr: `<Thread(NAME, initial)>`, `<Thread(NAME, started daemon IDENT)>`,
    /// `<Thread(NAME, stopped IDENT)>`, with the dynamic class name first.
    public var description: String {
        let snapshot = state.withLock { $0 }
        var status: String
        switch snapshot.phase {
        case .initial, .starting: status = "initial"
        case .started: status = "started"
        case .stopped: status = "stopped"
        }
        if snapshot.daemon { status += " daemon" }
        if let ident = snapshot.ident { status += " \(ident)" }
        return "<\(typeName)(\(snapshot.name), \(status))>"
    }

    /// The dynamic class name, as Python's repr shows it (`_MainThread` and `_DummyThread`
    /// for the main and dummy threads).
    var typeName: String {
        switch kind {
        case .main: return "_MainThread"
        case .dummy: return "_DummyThread"
        case .regular: return String(describing: type(of: self))
        }
    }
}

/// A parameter pack's values, kept for a later call.
struct PackedArguments<each A: Sendable>: Sendable {
    let values: (repeat each A)

    init(_ values: repeat each A) {
        self.values = (repeat each values)
    }

    func apply(_ function: (repeat each A) throws -> Void) rethrows {
        try function(repeat each values)
    }
}
