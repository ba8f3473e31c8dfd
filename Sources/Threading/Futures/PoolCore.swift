import Synchronization

/// One queued unit of a pool's work.
@usableFromInline
enum PoolItem: Sendable {
    /// Work submitted with `submit` or `map`: its future, which holds it.
    case work(any PoolWork)
    /// A job of a task that prefers the pool as its executor.
    case job(UnownedJob)
    /// Tells a worker to end (it puts the marker back for the next worker).
    case stop
}

/// A submitted future with its work (CPython's `_WorkItem`, which is the future itself here: a
/// `submit` allocates the future and nothing else).
@usableFromInline
protocol PoolWork: AnyObject, Sendable {
    /// Runs the work unless the future was cancelled; calls `beforeCompleting` between the work
    /// and the completion of the future (or at once, when the work does not run).
    func run(beforeCompleting: () -> Void)

    /// Cancels the future (a shutdown with `cancelFutures`).
    func cancel() -> Bool

    /// Fails the future with `error` (a broken pool).
    func fail(_ error: ThreadingError)
}

extension Future: PoolWork {
    @usableFromInline
    func run(beforeCompleting: () -> Void) {
        guard let work = takeWorkToRun() else {
            beforeCompleting()
            return
        }
        // setResult and setException, not a Result: their paths need no metadata of a type made
        // from Value, which this unspecialized code would look up for every item.
        let value: Value
        do {
            value = try work()
        } catch {
            beforeCompleting()
            try? setException(error)
            return
        }
        beforeCompleting()
        try? setResult(value)
    }

    @usableFromInline
    func fail(_ error: ThreadingError) {
        try? setException(error)
    }
}

/// A pool's shared state: its queue, its workers and its flags. The workers hold the core, not
/// the `ThreadPoolExecutor`, so that dropping the executor shuts the pool down.
@usableFromInline
final class PoolCore: @unchecked Sendable {
    // @unchecked Sendable: mutable state is in `state` (Protected) and `spare` (atomic); the
    // rest are `let`s of Sendable types.

    private struct State {
        var shutdown = false
        var broken = false
        var threads: [Thread] = []
    }

    let maxWorkers: Int
    let prefix: String
    let initializer: (@Sendable () throws -> Void)?
    let queue = SimpleQueue<PoolItem>()
    /// The executor, for the task jobs run on the workers; weak, so that dropping it ends the pool.
    weak var owner: ThreadPoolExecutor?
    /// Idle workers less queued items: each worker adds 1 when it is ready for another item and
    /// each queued item takes 1 away, so a negative value means items wait for a worker. Exact,
    /// unlike CPython's idle semaphore.
    private let spare = Atomic<Int>(0)
    private let state = Protected(State())

    init(maxWorkers: Int, prefix: String, initializer: (@Sendable () throws -> Void)?) {
        self.maxWorkers = maxWorkers
        self.prefix = prefix
        self.initializer = initializer
    }

    var threadCount: Int {
        state.withLock { $0.threads.count }
    }

    var threads: [Thread] {
        state.withLock { $0.threads }
    }

    var isBroken: Bool {
        state.withLock { $0.broken }
    }

    /// Workers ready for an item and not yet promised one (for tests and diagnostics).
    var idleWorkers: Int {
        spare.load(ordering: .acquiring)
    }

    /// Queues `item`, starting a worker if none is idle and the pool has room for one.
    @usableFromInline
    func enqueue(_ item: PoolItem) throws(ThreadingError) {
        try state.withLock { (state) throws(ThreadingError) in
            if state.broken { throw .brokenThreadPool }
            if state.shutdown { throw .scheduleAfterShutdown }
            if PoolCore.exiting.load(ordering: .acquiring) { throw .scheduleAfterInterpreterShutdown }
            queue.put(item)
            if spare.subtract(1, ordering: .acquiringAndReleasing).newValue >= 0 { return }
            guard state.threads.count < maxWorkers else { return }
            let name = "\(prefix)_\(state.threads.count)"
            let worker = Thread(target: { [self] in work() }, name: name, daemon: false)
            do {
                try worker.start()
            } catch {
                // With no worker at all, nothing would ever run the item: take it back.
                if state.threads.isEmpty && (try? queue.getNowait()) != nil { spare.add(1, ordering: .relaxed) }
                throw error as? ThreadingError ?? ThreadingError(.runtimeError, "can't start new thread")
            }
            state.threads.append(worker)
        }
    }

    /// A worker's life (CPython's `_worker`).
    private func work() {
        if let initializer {
            do {
                try initializer()
            } catch {
                writeToStandardError(
                    "Exception in initializer:\n\(describeError(type: type(of: error), value: error))\n"
                )
                initializerFailed()
                return
            }
        }
        var ready = false
        while true {
            if !ready { spare.add(1, ordering: .acquiringAndReleasing) }
            ready = false
            switch nextItem() {
            case .work(let work):
                // Ready for the next item before the future completes: a caller that submits
                // right after `result()` returns finds this worker idle, not a new thread.
                work.run {
                    spare.add(1, ordering: .acquiringAndReleasing)
                    ready = true
                }
            case .job(let job):
                runJob(job)
            case .stop:
                queue.put(.stop)
                return
            }
        }
    }

    /// The next queued item, waiting for one as long as it takes.
    private func nextItem() -> PoolItem {
        while true {
            // A `get` without a timeout only returns: no error is possible.
            if let item = try? queue.get() { return item }
        }
    }

    /// Marks the pool broken and fails every queued future (CPython's `_initializer_failed`).
    private func initializerFailed() {
        var drained: [PoolItem] = []
        state.withLock { state in
            state.broken = true
            while let item = try? queue.getNowait() { drained.append(item) }
        }
        for item in drained {
            switch item {
            case .work(let work): work.fail(.brokenThreadPool)
            case .job(let job): runElsewhere(job)
            case .stop: queue.put(.stop)
            }
        }
    }

    /// Stops taking work; see `ThreadPoolExecutor.shutdown(wait:cancelFutures:)`.
    func shutdown(wait: Bool, cancelFutures: Bool) {
        var drained: [PoolItem] = []
        let threads = state.withLock { state in
            if !state.shutdown {
                state.shutdown = true
                if cancelFutures {
                    while let item = try? queue.getNowait() {
                        spare.add(1, ordering: .relaxed)
                        drained.append(item)
                    }
                }
                queue.put(.stop)
            }
            return state.threads
        }
        for item in drained {
            switch item {
            case .work(let work): _ = work.cancel()
            case .job(let job): runElsewhere(job)
            case .stop: queue.put(.stop)
            }
        }
        guard wait else { return }
        let me = getIdent()
        for thread in threads where thread.ident != me {
            _ = try? thread.join()
        }
    }

    // MARK: Process exit

    /// Set when the process's exit-time shutdown begins: `submit` throws from then on.
    static let exiting = Atomic<Bool>(false)

    private struct WeakCore {
        weak var core: PoolCore?
    }

    private static let live = Protected<[WeakCore]>([])

    /// Adds `core` to the pools told to stop at exit, and installs that exit step once.
    static func register(_ core: PoolCore) {
        _ = installExitHook
        live.withLock { cores in
            cores.removeAll { $0.core == nil }
            cores.append(WeakCore(core: core))
        }
    }

    private static let installExitHook: Void = {
        Registry.shared.registerAtExit { PoolCore.processExiting() }
    }()

    /// CPython's `_python_exit`: no more submissions; every pool's workers end once the queued
    /// work has run (the exit-time shutdown then joins them, as non-daemon threads).
    static func processExiting() {
        exiting.store(true, ordering: .releasing)
        let cores = live.withLock { $0.compactMap(\.core) }
        for core in cores {
            // Under the pool's lock, so that a submission that passed the check is queued first.
            core.state.withLock { _ in core.queue.put(.stop) }
        }
        let me = getIdent()
        for core in cores {
            for thread in core.state.withLock({ $0.threads }) where thread.ident != me {
                _ = try? thread.join()
            }
        }
    }
}
