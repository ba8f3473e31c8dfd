/// A rendezvous for a fixed number of threads, Python's `threading.Barrier`.
///
/// Each of `parties` threads calls `wait`; all are released together when the last arrives. The
/// barrier is reusable: it drains and then fills again, generation after generation. It follows
/// CPython's state machine exactly (filling, draining, resetting, broken): a timeout, an `abort()`
/// or an error thrown by `action` breaks it for every waiter, and `reset()` makes it usable again.
public final class Barrier: CustomStringConvertible, @unchecked Sendable {
    // @unchecked Sendable: `state` and `count` are read and written only while holding `condition`'s
    // lock; everything else is immutable.

    private enum State: Equatable {
        case filling, draining, resetting, broken
    }

    private let condition = Condition(Lock())
    private let action: (@Sendable () throws -> Void)?
    private let defaultTimeout: Double?
    private var state = State.filling
    private var count = 0

    /// The number of threads required to pass the barrier.
    public let parties: Int

    /// Creates a barrier for `parties` threads.
    ///
    /// - Parameters:
    ///   - parties: How many threads must call `wait` before all are released.
    ///   - action: Run by the last thread to arrive, before any is released. If it throws, the
    ///     error reaches that thread and the barrier breaks for the others.
    ///   - timeout: The default timeout of `wait`, in seconds.
    /// - Throws: `ThreadingError.Kind.valueError` ("parties must be > 0") when `parties < 1`.
    public init(_ parties: Int, action: (@Sendable () throws -> Void)? = nil, timeout: Double? = nil) throws {
        guard parties >= 1 else { throw ThreadingError.noParties }
        self.parties = parties
        self.action = action
        self.defaultTimeout = timeout
    }

    /// Waits until `parties` threads have called `wait`, then returns this thread's arrival index.
    ///
    /// - Parameters:
    ///   - timeout: The longest wait, in seconds; `nil` uses the barrier's own timeout. Zero or
    ///     negative breaks the barrier unless this thread is the last to arrive.
    /// - Returns: The arrival index, from 0 for the first thread to `parties - 1` for the last.
    /// - Throws: `ThreadingError.Kind.brokenBarrier` when the barrier is or becomes broken or is
    ///   reset while waiting; the error thrown by `action`, in the thread that ran it;
    ///   `.valueError` for NaN and `.overflowError` above `timeoutMax`.
    @discardableResult
    public func wait(timeout: Double? = nil) throws -> Int {
        let timeout = timeout ?? defaultTimeout
        try condition.acquire()
        defer { try? condition.release() }
        try enter()
        let index = count
        count += 1
        defer {
            count -= 1
            exit()
        }
        if index + 1 == parties {
            try releaseAll()
        } else {
            try waitForRelease(timeout: timeout)
        }
        return index
    }

    /// Waits while the previous generation drains or a reset completes.
    private func enter() throws {
        while state == .draining || state == .resetting {
            try condition.wait()
        }
        if state == .broken { throw ThreadingError.brokenBarrier }
    }

    /// The last arrival: runs the action and releases everyone.
    private func releaseAll() throws {
        do {
            try action?()
            state = .draining
            try condition.notifyAll()
        } catch {
            breakBarrier()
            throw error
        }
    }

    private func waitForRelease(timeout: Double?) throws {
        // A timeout that cannot be waited on (NaN, too large) throws from here without breaking
        // the barrier: this thread withdraws its arrival, as in CPython.
        let released = try condition.waitFor(timeout: timeout) { state != .filling }
        if !released {
            breakBarrier()
            throw ThreadingError.brokenBarrier
        }
        if state == .broken || state == .resetting { throw ThreadingError.brokenBarrier }
    }

    /// The last thread out of a draining or resetting barrier makes it fill again.
    private func exit() {
        if count == 0 && (state == .resetting || state == .draining) {
            state = .filling
            try? condition.notifyAll()
        }
    }

    /// Returns the barrier to its initial state; threads waiting in it get `brokenBarrier`.
    public func reset() {
        condition.withLock {
            if count > 0 {
                if state == .filling || state == .broken { state = .resetting }
            } else {
                state = .filling
            }
            try? condition.notifyAll()
        }
    }

    /// Breaks the barrier: current and future `wait` calls throw `brokenBarrier` until `reset()`.
    public func abort() {
        condition.withLock { breakBarrier() }
    }

    private func breakBarrier() {
        state = .broken
        try? condition.notifyAll()
    }

    /// The number of threads waiting in the barrier while it fills (Python's `n_waiting`).
    public var nWaiting: Int {
        condition.withLock { state == .filling ? count : 0 }
    }

    /// Whether the barrier is broken (Python's `broken`).
    public var isBroken: Bool {
        condition.withLock { state == .broken }
    }

    /// `<Barrier: waiters=K/P>`, or `<Barrier: broken>`.
    public var description: String {
        condition.withLock {
            state == .broken ? "<Barrier: broken>" : "<Barrier: waiters=\(state == .filling ? count : 0)/\(parties)>"
        }
    }
}
