import Synchronization

/// A trace or profile hook: called on each thread started here with its `start`, `exception`
/// and `end` events (Python's `settrace`/`setprofile` functions, at thread granularity).
public typealias TraceFunction = @Sendable (TraceEvent) -> Void

/// One event of a thread's life, as a trace or profile hook sees it.
public struct TraceEvent: Sendable {
    /// What happened.
    public enum Kind: Sendable {
        /// The thread is about to call `run()`.
        case start
        /// The thread's `run()` has returned or thrown.
        case end
        /// The thread's `run()` threw `error`; `end` follows.
        case exception
    }

    /// What happened.
    public let kind: Kind
    /// The thread it happened on (hooks run on that thread).
    public let thread: Thread
    /// The error, for `exception`.
    public let error: (any Error)?
}

/// The hooks that threads copy when they start.
enum TraceHooks {
    /// A trace hook and a profile hook.
    struct Pair: Sendable {
        var trace: TraceFunction? = nil
        var profile: TraceFunction? = nil
    }

    private static let storage = Protected(Pair())

    /// The hooks a thread starting now installs.
    static var current: Pair { storage.withLock { $0 } }

    /// Sets one hook for threads started from now on and, with `allThreads`, for every thread
    /// started here that is already running.
    static func set(_ which: WritableKeyPath<Pair, TraceFunction?>, to hook: TraceFunction?, allThreads: Bool) {
        // Replaced hooks are released after the locks (`exchange`): their captures may set
        // hooks again as they go.
        _ = storage.exchange(which, with: hook)
        guard allThreads else { return }
        let hooks: WritableKeyPath<Thread.State, Pair> = \.hooks
        let slot = hooks.appending(path: which)
        for thread in enumerate() where thread.kind == .regular {
            _ = thread.state.exchange(slot, with: hook)
        }
    }
}

/// Sets the trace hook of every thread started from now on (Python's `threading.settrace`).
public func setTrace(_ hook: TraceFunction?) {
    TraceHooks.set(\.trace, to: hook, allThreads: false)
}

/// Sets the trace hook of threads started from now on and of every thread already running
/// (Python's `threading.settrace_all_threads`).
public func setTraceAllThreads(_ hook: TraceFunction?) {
    TraceHooks.set(\.trace, to: hook, allThreads: true)
}

/// The trace hook set by `setTrace`, or `nil` (Python's `threading.gettrace`).
public func getTrace() -> TraceFunction? {
    TraceHooks.current.trace
}

/// Sets the profile hook of every thread started from now on (Python's `threading.setprofile`).
public func setProfile(_ hook: TraceFunction?) {
    TraceHooks.set(\.profile, to: hook, allThreads: false)
}

/// Sets the profile hook of threads started from now on and of every thread already running
/// (Python's `threading.setprofile_all_threads`).
public func setProfileAllThreads(_ hook: TraceFunction?) {
    TraceHooks.set(\.profile, to: hook, allThreads: true)
}

/// The profile hook set by `setProfile`, or `nil` (Python's `threading.getprofile`).
public func getProfile() -> TraceFunction? {
    TraceHooks.current.profile
}
