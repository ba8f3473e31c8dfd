import Synchronization

/// The result of work that may not have finished yet, Python's `concurrent.futures.Future`.
///
/// A future is pending, then running, then finished with a value or an error; or, while still
/// pending, cancelled. `ThreadPoolExecutor.submit` returns one; code that completes work itself
/// creates one with `init()` and ends it with `setResult` or `setException`.
///
/// ```swift
/// let future = try pool.submit { try download(url) }
/// let page = try future.result(timeout: 10)   // rethrows download's error
/// ```
///
/// The state is one atomic word: `isDone` and the `result()` of a finished future are one load,
/// without a lock. `init()`, `setResult` on a future nobody waits for and `result()` or
/// `exception()` of a finished future are inlined into the caller, specialized for its `Value`. Threads waiting for the result park on the future in the package's parking
/// lot; completing it wakes them all, then tells the `wait` and `asCompleted` calls watching it,
/// then runs the done callbacks, in the order they were added, outside the future's lock.
///
/// Two futures are equal only if they are the same object.
public final class Future<Value: Sendable>: @unchecked Sendable, Hashable, CustomStringConvertible {
    // @unchecked Sendable: `storage` (the value or the error) is written once, under `word`,
    // before the state says finished (with release ordering) and read only after an acquiring
    // load has seen finished; `work` is stored by `init` and taken under `word`; `listeners` is
    // accessed only under `word`.

    @usableFromInline static var pending: UInt32 { 0 }
    @usableFromInline static var running: UInt32 { 1 }
    @usableFromInline static var cancelledState: UInt32 { 2 }
    @usableFromInline static var finished: UInt32 { 3 }
    @usableFromInline static var stateMask: UInt32 { 3 }
    /// Set while threads may be parked on the future, so that completing it wakes them.
    @usableFromInline static var parkedBit: UInt32 { 4 }
    /// Set (under `word`) once a done callback or a waiter is registered, so that completing the
    /// future takes the path that serves them.
    @usableFromInline static var listenersBit: UInt32 { 8 }
    /// Set while `work` holds the work of a future made by `ThreadPoolExecutor.submit`, until a
    /// worker takes it (or the future is cancelled or completed before).
    @usableFromInline static var workBit: UInt32 { 16 }
    /// Set with finished when `storage` holds an error (`setException`), not a value.
    @usableFromInline static var failedBit: UInt32 { 32 }
    /// Set with finished when `storage` holds something to destroy with the future: an error, a
    /// boxed value or a value of a type that is not trivial.
    @usableFromInline static var ownedBit: UInt32 { 64 }

    /// The value, once finished with one: in place when a `Value` fits in these three words (most
    /// do), else a retained `ValueBox`; or the error, once finished with one (the failed bit).
    /// Raw words, not a `Value?` or an existential: setting and reading a future stores and loads
    /// the value itself, and the unspecialized `deinit` destroys what the owned bit says it
    /// holds, with no generic metadata to look up. (Unchecked exclusivity: written under `word`
    /// before the state is published, read after.) The first stored property: its address is
    /// the object's stored properties' (`storageAddress`).
    @usableFromInline @exclusivity(unchecked)
    var storage: (UInt, UInt, UInt) = (0, 0, 0)
    /// The state (low two bits), whether threads are parked, whether callbacks or waiters are
    /// registered, whether `work` is set and what `storage` holds; changed under `word`, except
    /// for the parked bit, which waiters set and clear under the parking lot's bucket lock.
    @usableFromInline
    let state: Atomic<UInt32>
    /// The lock word guarding the writes of `storage` and the fields below.
    @usableFromInline
    let word = Atomic<UInt32>(RawLock.unlocked)
    /// The done callbacks and the waiters, in the order added, `nil` until one is added: a future
    /// nobody listens to releases nothing for them. One field for both: one word less to store
    /// and release per future.
    @usableFromInline @exclusivity(unchecked)
    var listeners: [Listener]? = nil
    /// The task of `ThreadPoolExecutor.run` awaiting this future, resumed once it is done: a
    /// slot of its own, so that awaiting a submitted future allocates no callback and no array.
    @usableFromInline @exclusivity(unchecked)
    var awaitingTask: UnsafeContinuation<Void, Never>? = nil
    /// The work of a future made by `ThreadPoolExecutor.submit`, until a worker takes it: the
    /// future is the pool's work item. A stored property, not a use of `storage`: unspecialized
    /// code moves it without looking up the metadata of its function type.
    @usableFromInline @exclusivity(unchecked)
    var work: Work? = nil

    /// Creates a pending future, as Python's `Future()`.
    @inlinable
    public init() {
        state = Atomic(Future.pending)
    }

    /// A pending future that holds `work`, which a worker takes with `takeWorkToRun()`: what
    /// `ThreadPoolExecutor.submit` queues, one allocation for the future and its work item.
    @inlinable
    init(work: @escaping @Sendable () throws -> Value) {
        state = Atomic(Future.workBit)
        self.work = work
    }

    deinit {
        let current = state.load(ordering: .acquiring)
        if current & Future.ownedBit != 0 {
            if current & Future.failedBit != 0 {
                storageAddress.assumingMemoryBound(to: (any Error).self).deinitialize(count: 1)
            } else {
                destroyValue()
            }
        }
    }

    // MARK: Storage

    /// The type of `work`.
    @usableFromInline
    typealias Work = @Sendable () throws -> Value

    /// Whether a `Value` is stored in place (else boxed): it fits in `storage` and its alignment.
    @inlinable @inline(__always)
    static var storedInPlace: Bool {
        MemoryLayout<Value>.size <= MemoryLayout<(UInt, UInt, UInt)>.size
            && MemoryLayout<Value>.alignment <= MemoryLayout<UInt>.alignment
    }

    /// The address of `storage`, the first stored property. Computed from the object's address,
    /// not with `withUnsafeMutablePointer(to: &storage)`: that is a modifying access, which
    /// concurrent readers of a finished future would make (a race for ThreadSanitizer's access
    /// checks), and a generic closure whose result type's metadata unspecialized code looks up.
    @inlinable @inline(__always)
    var storageAddress: UnsafeMutableRawPointer {
        _getUnsafePointerToStoredProperties(self)
    }

    /// The state that says finished with a value: with the owned bit unless `Value` is stored in
    /// place and trivial (a constant once specialized).
    @inlinable @inline(__always)
    static var finishedWithValue: UInt32 {
        storedInPlace && _isPOD(Value.self) ? Future.finished : Future.finished | Future.ownedBit
    }

    /// The error of a future finished with one, else `nil`.
    @inlinable
    var storedFailure: (any Error)? {
        guard _slowPath(state.load(ordering: .acquiring) & Future.failedBit != 0) else { return nil }
        return storageAddress.assumingMemoryBound(to: (any Error).self).pointee
    }

    /// Puts `value` in `storage`, which holds nothing.
    @inlinable @inline(__always)
    func storeValue(_ value: Value) {
        let raw = storageAddress
        if Future.storedInPlace {
            raw.initializeMemory(as: Value.self, to: value)
        } else {
            raw.storeBytes(of: Unmanaged.passRetained(ValueBox(value)).toOpaque(), as: UnsafeMutableRawPointer.self)
        }
    }

    /// The value of a future finished with one.
    @inlinable @inline(__always)
    var finishedValue: Value {
        let raw = storageAddress
        if Future.storedInPlace { return raw.assumingMemoryBound(to: Value.self).pointee }
        let box = raw.load(as: UnsafeMutableRawPointer.self)
        return Unmanaged<ValueBox<Value>>.fromOpaque(box).takeUnretainedValue().value
    }

    /// Destroys the value in `storage` (the future is finished with one that is owned, and being
    /// deinitialized).
    private func destroyValue() {
        let raw = storageAddress
        if Future.storedInPlace {
            raw.assumingMemoryBound(to: Value.self).deinitialize(count: 1)
        } else {
            Unmanaged<ValueBox<Value>>.fromOpaque(raw.load(as: UnsafeMutableRawPointer.self)).release()
        }
    }

    /// With the lock held: takes `work` and clears the work bit, if the future holds work. The
    /// caller releases the work after the lock (its captures' `deinit`s may use the future).
    private func takeWorkLocked() -> Work? {
        guard state.load(ordering: .relaxed) & Future.workBit != 0 else { return nil }
        state.bitwiseAnd(~Future.workBit, ordering: .relaxed)
        let taken = work
        work = nil
        return taken
    }

    /// What a worker calls before running a submitted future's work: marks the future running and
    /// returns the work, or returns `nil` (and releases the work) if the future is no longer
    /// pending (cancelled, or completed by `setResult`) and the work must not run.
    func takeWorkToRun() -> Work? {
        lock()
        let work = takeWorkLocked()
        let run = work != nil && state.load(ordering: .relaxed) & Future.stateMask == Future.pending
        // The parked bit may change meanwhile (without the lock): an atomic operation.
        if run { state.bitwiseOr(Future.running, ordering: .acquiringAndReleasing) }
        unlock()
        return run ? work : nil  // work not to run is released here, after the lock
    }

    // MARK: State

    /// Whether the future was cancelled (Python's `cancelled()`).
    public var isCancelled: Bool {
        state.load(ordering: .acquiring) & Future.stateMask == Future.cancelledState
    }

    /// Whether the work is running and can no longer be cancelled (Python's `running()`).
    public var isRunning: Bool {
        state.load(ordering: .acquiring) & Future.stateMask == Future.running
    }

    /// Whether the future is finished or cancelled (Python's `done()`).
    @inlinable
    public var isDone: Bool {
        state.load(ordering: .acquiring) & Future.stateMask >= Future.cancelledState
    }

    /// Whether the future finished with an error (not cancelled).
    var hasFailed: Bool {
        state.load(ordering: .acquiring) & (Future.stateMask | Future.failedBit) == Future.finished | Future.failedBit
    }

    /// The outcome of a finished future (`nil` before).
    var outcome: Result<Value, any Error>? {
        if let storedFailure { return .failure(storedFailure) }
        guard state.load(ordering: .acquiring) & Future.stateMask == Future.finished else { return nil }
        return .success(finishedValue)
    }

    // MARK: Results

    /// The value the work returned, waiting for it if need be.
    ///
    /// - Parameters:
    ///   - timeout: The longest wait, in seconds; `nil` waits without limit, zero or negative
    ///     does not wait.
    /// - Returns: The value passed to `setResult` (the work's return value).
    /// - Throws: The very error the work threw (passed to `setException`);
    ///   `ThreadingError.Kind.cancelled` when the future was cancelled; `.timeout` when `timeout`
    ///   passed first; `.valueError` for a NaN timeout and `.overflowError` above `timeoutMax`,
    ///   when the call would wait.
    /// - Complexity: One atomic load when the future is finished.
    @inlinable
    public func result(timeout: Double? = nil) throws -> Value {
        let current = state.load(ordering: .acquiring)
        if _fastPath(current & (Future.stateMask | Future.failedBit) == Future.finished) {
            return finishedValue
        }
        return try resultSlow(timeout: timeout)
    }

    @usableFromInline
    func resultSlow(timeout: Double?) throws -> Value {
        try waitUntilDone(timeout: timeout)
        return try outcome.unsafelyUnwrapped.get()
    }

    /// The error the work threw, or `nil` if it returned a value, waiting for it if need be.
    ///
    /// - Parameters:
    ///   - timeout: The longest wait, in seconds; `nil` waits without limit, zero or negative
    ///     does not wait.
    /// - Returns: The error passed to `setException`, or `nil` after `setResult`.
    /// - Throws: `ThreadingError.Kind.cancelled` when the future was cancelled; `.timeout` when
    ///   `timeout` passed first; `.valueError` for a NaN timeout and `.overflowError` above
    ///   `timeoutMax`, when the call would wait.
    /// - Complexity: One atomic load when the future is finished.
    @inlinable
    public func exception(timeout: Double? = nil) throws -> (any Error)? {
        if _fastPath(state.load(ordering: .acquiring) & Future.stateMask == Future.finished) {
            return storedFailure
        }
        return try exceptionSlow(timeout: timeout)
    }

    @usableFromInline
    func exceptionSlow(timeout: Double?) throws -> (any Error)? {
        try waitUntilDone(timeout: timeout)
        return storedFailure
    }

    /// Returns once the future is finished; throws `.cancelled`, `.timeout` or a timeout argument
    /// error otherwise.
    func waitUntilDone(timeout: Double?) throws(ThreadingError) {
        if state.load(ordering: .acquiring) & Future.stateMask < Future.cancelledState {
            try waitUntilDone(limit: WaitLimit.forWait(timeout))
        } else {
            try waitUntilDone(limit: .dontWait)
        }
    }

    /// `waitUntilDone(timeout:)` with the timeout already checked.
    func waitUntilDone(limit: WaitLimit) throws(ThreadingError) {
        if state.load(ordering: .acquiring) & Future.stateMask < Future.cancelledState {
            if case .until(let deadline) = limit {
                park(until: deadline)
            }
        }
        try checkDone()
    }

    /// Returns if the future is finished; throws `.cancelled` if it was cancelled, `.timeout` if
    /// it is not done.
    func checkDone() throws(ThreadingError) {
        switch state.load(ordering: .acquiring) & Future.stateMask {
        case Future.finished: return
        case Future.cancelledState: throw .cancelled
        default: throw .timedOut
        }
    }

    /// Parks the calling thread until the future is done or `deadline` passes.
    func park(until deadline: Deadline) {
        _ = ParkingLot.park(
            key: key,
            deadline: deadline,
            validate: { markParked() },
            timedOut: { othersWaiting in if !othersWaiting { clearParked() } }
        )
    }

    /// A waiter's `validate`, under the bucket lock: sets the parked bit unless the future is
    /// done; returns whether to wait.
    func markParked() -> Bool {
        var current = state.load(ordering: .acquiring)
        while current & Future.stateMask < Future.cancelledState {
            if current & Future.parkedBit != 0 { return true }
            let (exchanged, seen) = state.compareExchange(
                expected: current,
                desired: current | Future.parkedBit,
                ordering: .acquiringAndReleasing
            )
            if exchanged { return true }
            current = seen
        }
        return false
    }

    /// Clears the parked bit after the last waiter left without being woken.
    func clearParked() {
        var current = state.load(ordering: .relaxed)
        while current & Future.parkedBit != 0 {
            let (exchanged, seen) = state.compareExchange(
                expected: current,
                desired: current & ~Future.parkedBit,
                ordering: .relaxed
            )
            if exchanged { return }
            current = seen
        }
    }

    // MARK: Completion

    /// Cancels the work if it has not started.
    ///
    /// A cancelled future is done: threads waiting for its result are woken (and throw
    /// `.cancelled`), the `wait` and `asCompleted` calls watching it count it as done, and its
    /// done callbacks run, on this thread, before `cancel` returns.
    ///
    /// - Returns: `false` if the work is running or finished; `true` if the future is now
    ///   cancelled (or already was).
    @discardableResult
    public func cancel() -> Bool {
        lock()
        let current = state.load(ordering: .relaxed)
        switch current & Future.stateMask {
        case Future.running, Future.finished:
            unlock()
            return false
        case Future.cancelledState:
            unlock()
            return true
        default:
            let work = takeWorkLocked()
            // An exchange, not a store: a waiter may set the parked bit meanwhile, without the lock.
            let old = state.exchange(Future.cancelledState, ordering: .acquiringAndReleasing)
            finishLocked(wasParked: old & Future.parkedBit != 0, failed: false)
            withExtendedLifetime(work) {}  // the work is released after the lock
            return true
        }
    }

    /// Marks the future running, unless it was cancelled: what an executor calls before it runs
    /// the work (Python's `set_running_or_notify_cancel()`).
    ///
    /// - Returns: `true` if the future was pending and is now running (run the work); `false` if
    ///   it was cancelled (do not).
    /// - Throws: `ThreadingError.Kind.runtimeError` ("Future in unexpected state") when the
    ///   future is already running or finished.
    public func setRunningOrNotifyCancel() throws -> Bool {
        lock()
        defer { unlock() }
        var current = state.load(ordering: .relaxed)
        while true {
            switch current & Future.stateMask {
            case Future.pending:
                let (exchanged, seen) = state.compareExchange(
                    expected: current,
                    desired: (current & ~Future.stateMask) | Future.running,
                    ordering: .acquiringAndReleasing
                )
                if exchanged { return true }
                current = seen
            case Future.cancelledState:
                return false
            default:
                throw ThreadingError.futureUnexpectedState
            }
        }
    }

    /// Finishes the future with `value`: waiters wake and get it, done callbacks run.
    ///
    /// - Throws: `ThreadingError.Kind.invalidState` ("FINISHED: <description>" or
    ///   "CANCELLED: <description>") when the future is already finished or cancelled; it is
    ///   left as it was.
    /// - Complexity: Two atomic operations and one exchange when no callback or waiter is
    ///   registered and the lock is free.
    @inlinable
    public func setResult(_ value: Value) throws {
        if _fastPath(RawLock.tryLock(word)) {
            let current = state.load(ordering: .relaxed)
            // Pending or running, with no parked thread, callback or waiter: store and publish.
            if _fastPath(current == Future.pending || current == Future.running) {
                storeValue(value)
                // An exchange, not a store: a waiter may set the parked bit meanwhile.
                let old = state.exchange(Future.finishedWithValue, ordering: .acquiringAndReleasing)
                let unlocked = RawLock.unlock(word)
                let wasParked = old & Future.parkedBit != 0
                if _fastPath(unlocked && !wasParked) { return }
                finishedQuickly(unlocked: unlocked, wasParked: wasParked)
                return
            }
            unlockAfterTryLock()
        }
        try completeSlowly(value: value)
    }

    /// The end of `setResult`'s quick path when the lock is contended or threads are parked:
    /// releases the lock (unless `unlocked`) and wakes the parked threads.
    @usableFromInline
    func finishedQuickly(unlocked: Bool, wasParked: Bool) {
        if !unlocked { RawLock.unlockContended(address(of: word)) }
        if wasParked { ParkingLot.unparkAll(key: key) }
    }

    /// Releases the lock taken by `setResult`'s quick path before it falls back to `complete`.
    @usableFromInline
    func unlockAfterTryLock() {
        unlock()
    }

    /// Finishes the future with `error`: `result()` rethrows it, `exception()` returns it.
    ///
    /// - Throws: `ThreadingError.Kind.invalidState` ("FINISHED: <description>" or
    ///   "CANCELLED: <description>") when the future is already finished or cancelled; it is
    ///   left as it was.
    public func setException(_ error: any Error) throws {
        let work = try lockForCompletion()
        storageAddress.initializeMemory(as: (any Error).self, to: error)
        // An exchange, not a store: a waiter may set the parked bit meanwhile, without the lock.
        let old = state.exchange(
            Future.finished | Future.failedBit | Future.ownedBit,
            ordering: .acquiringAndReleasing
        )
        finishLocked(wasParked: old & Future.parkedBit != 0, failed: true)
        withExtendedLifetime(work) {}  // the work is released after the lock
    }

    /// `setResult`'s path when the lock is contended, the future is done or it has listeners,
    /// parked threads or work. Takes the value as a `Value`, not an optional, so that an
    /// unspecialized caller looks up no metadata of a type made from `Value`.
    @usableFromInline
    func completeSlowly(value: Value) throws(ThreadingError) {
        let work = try lockForCompletion()
        storeValue(value)
        // An exchange, not a store: a waiter may set the parked bit meanwhile, without the lock.
        let old = state.exchange(Future.finishedWithValue, ordering: .acquiringAndReleasing)
        finishLocked(wasParked: old & Future.parkedBit != 0, failed: false)
        withExtendedLifetime(work) {}  // the work is released after the lock
    }

    /// Takes the lock to complete the future and the work it still holds (which the caller
    /// releases after the lock), or throws `.invalidState`, lock released, if it is done.
    private func lockForCompletion() throws(ThreadingError) -> Work? {
        lock()
        let current = state.load(ordering: .relaxed)
        guard current & Future.stateMask < Future.cancelledState else {
            unlock()
            let prefix = current & Future.stateMask == Future.finished ? "FINISHED" : "CANCELLED"
            throw ThreadingError(.invalidState, "\(prefix): \(description)")
        }
        return takeWorkLocked()
    }

    /// With the lock held and the state just made final: releases the lock, wakes the parked
    /// threads, tells the waiters, runs the callbacks.
    private func finishLocked(wasParked: Bool, failed: Bool) {
        let listeners = self.listeners.take() ?? []
        let awaitingTask = self.awaitingTask.take()
        unlock()
        if wasParked { ParkingLot.unparkAll(key: key) }
        awaitingTask?.resume()
        for case .waiter(let waiter) in listeners { waiter.futureDone(self, failed: failed) }
        for case .callback(let callback) in listeners { callback(self) }
    }

    // MARK: Callbacks and waiters

    /// Calls `fn` with the future once it is done (finished or cancelled).
    ///
    /// Callbacks run once each, in the order added, on the thread that completes the future (the
    /// worker, or the thread that calls `cancel()`), outside the future's lock; on a future that
    /// is already done, `fn` runs at once, on this thread.
    ///
    /// - Parameters:
    ///   - fn: The callback; it may use the future (its `result()` returns at once).
    public func addDoneCallback(_ fn: @escaping @Sendable (Future<Value>) -> Void) {
        // Type-erased, so that running them needs no metadata of a `Value`-dependent type.
        addErasedDoneCallback { fn(unsafeDowncast($0, to: Future<Value>.self)) }
    }

    /// `addDoneCallback` with a callback that takes the future as an `AnyObject` (it is this
    /// future).
    @usableFromInline
    func addErasedDoneCallback(_ fn: @escaping @Sendable (AnyObject) -> Void) {
        lock()
        if state.load(ordering: .relaxed) & Future.stateMask < Future.cancelledState {
            if listeners == nil { listeners = [.callback(fn)] } else { listeners!.append(.callback(fn)) }
            state.bitwiseOr(Future.listenersBit, ordering: .relaxed)
            unlock()
            return
        }
        unlock()
        fn(self)
    }

    /// Calls `fn` with the future once it is done; an error `fn` throws is reported on standard
    /// error ("exception calling callback for <Future …>", as CPython logs it) and the callbacks
    /// after it still run.
    ///
    /// - Parameters:
    ///   - fn: The callback; it runs as the non-throwing form's does.
    public func addDoneCallback(_ fn: @escaping @Sendable (Future<Value>) throws -> Void) {
        addDoneCallback { (future: Future<Value>) -> Void in
            do {
                try fn(future)
            } catch {
                reportCallbackError(error, future: future.description)
            }
        }
    }

    /// Resumes `continuation` once the future is done, at once if it is: the wait of
    /// `ThreadPoolExecutor.run`, the one task that awaits the future it submitted.
    @usableFromInline
    func resumeWhenDone(_ continuation: UnsafeContinuation<Void, Never>) {
        lock()
        if state.load(ordering: .relaxed) & Future.stateMask < Future.cancelledState {
            awaitingTask = continuation
            state.bitwiseOr(Future.listenersBit, ordering: .relaxed)
            unlock()
            return
        }
        unlock()
        continuation.resume()
    }

    /// Registers `waiter` to be told when the future is done; returns `false` (and registers
    /// nothing) if it is done already.
    func addWaiter(_ waiter: FutureWaiter) -> Bool {
        lock()
        defer { unlock() }
        guard state.load(ordering: .relaxed) & Future.stateMask < Future.cancelledState else { return false }
        if listeners == nil { listeners = [.waiter(waiter)] } else { listeners!.append(.waiter(waiter)) }
        state.bitwiseOr(Future.listenersBit, ordering: .relaxed)
        return true
    }

    /// Unregisters `waiter` (nothing if it is not registered).
    func removeWaiter(_ waiter: FutureWaiter) {
        lock()
        let index = listeners?.firstIndex { listener in
            if case .waiter(let registered) = listener { return registered === waiter }
            return false
        }
        let removed = index.map { listeners!.remove(at: $0) }
        unlock()
        _ = removed  // released after the lock
    }

    // MARK: Identity and description

    private var key: UnsafeRawPointer {
        UnsafeRawPointer(Unmanaged.passUnretained(self).toOpaque())
    }

    @inline(__always)
    private func lock() {
        RawLock.lock(address(of: word))
    }

    @inline(__always)
    private func unlock() {
        RawLock.unlock(address(of: word))
    }

    /// Python's repr: `<Future at 0x… state=pending>` (or `running`, `cancelled`),
    /// `<Future at 0x… state=finished returned TYPE>` or `<Future at 0x… state=finished raised TYPE>`.
    public var description: String {
        let at = "<Future at 0x\(String(UInt(bitPattern: key), radix: 16))"
        switch state.load(ordering: .acquiring) & Future.stateMask {
        case Future.pending: return "\(at) state=pending>"
        case Future.running: return "\(at) state=running>"
        case Future.cancelledState: return "\(at) state=cancelled>"
        default:
            switch outcome.unsafelyUnwrapped {
            case .success(let value): return "\(at) state=finished returned \(type(of: value))>"
            case .failure(let error): return "\(at) state=finished raised \(type(of: error))>"
            }
        }
    }

    /// Whether `lhs` and `rhs` are the same future.
    public static func == (lhs: Future, rhs: Future) -> Bool {
        lhs === rhs
    }

    /// Hashes the future's identity.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(ObjectIdentifier(self))
    }
}

/// A done callback or a waiter registered with a future.
@usableFromInline
enum Listener: Sendable {
    /// A done callback, type-erased, so that running it needs no metadata of a `Value`-dependent
    /// type.
    case callback(@Sendable (AnyObject) -> Void)
    /// A `wait` or `asCompleted` call watching the future.
    case waiter(FutureWaiter)
}

/// Writes CPython's log line for a done callback that raised, with the error, to standard error.
func reportCallbackError(_ error: any Error, future: String) {
    writeToStandardError(
        "exception calling callback for \(future)\n\(describeError(type: type(of: error), value: error))\n"
    )
}

/// The value of a finished future whose `Value` does not fit in the future's three words.
@usableFromInline
final class ValueBox<Value> {
    @usableFromInline let value: Value

    @inlinable
    init(_ value: Value) { self.value = value }
}
