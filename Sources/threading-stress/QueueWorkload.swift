// The queue workload: rounds over every queue kind (Queue, LifoQueue, PriorityQueue bounded or
// not, SimpleQueue), producers and consumers with random timeouts, taskDone/join, and a shutdown
// mid-flight; every item produced is consumed exactly once or dropped by an immediate shutdown.

import Synchronization
import Threading

/// One item: its number, and whether a consumer got it. Its `deinit` counts it as released, and as
/// dropped if nobody got it.
final class QueueItem: Sendable, Comparable {
    let id: Int
    let consumed = Atomic<Bool>(false)
    let round: QueueRound

    init(id: Int, round: QueueRound) {
        self.id = id
        self.round = round
    }

    deinit {
        round.released.wrappingAdd(1, ordering: .relaxed)
        if !consumed.load(ordering: .relaxed) { round.dropped.wrappingAdd(1, ordering: .relaxed) }
    }

    static func == (a: QueueItem, b: QueueItem) -> Bool { a.id == b.id }
    static func < (a: QueueItem, b: QueueItem) -> Bool { a.id < b.id }
}

/// One round: a queue of one kind, its counts, and how it ends.
final class QueueRound: Sendable {
    enum Kind: Sendable, CaseIterable {
        case fifo, lifo, priority, simple
    }

    let number: Int
    let kind: Kind
    let maxsize: Int
    let queue: Threading.Queue<QueueItem>?
    let simple: SimpleQueue<QueueItem?>?
    /// Set when producers are to stop (before a join) or everyone is to leave (SimpleQueue).
    let stopProducing = Atomic<Bool>(false)
    let nextID = Atomic<Int>(0)
    let produced = Atomic<Int>(0)
    let consumedCount = Atomic<Int>(0)
    let released = Atomic<Int>(0)
    let dropped = Atomic<Int>(0)
    /// Set when the round ends: no worker enters it any more.
    let closed = Atomic<Bool>(false)
    /// Set when the end of the run shut the queue down at once (to release a driver in `join()`).
    let forcedImmediate = Atomic<Bool>(false)
    /// Workers inside the round.
    let inside = Atomic<Int>(0)
    /// Every id got, for the exactly-once check.
    let seen = PthreadMutex<Set<Int>>([])

    init(number: Int, kind: Kind, maxsize: Int) {
        self.number = number
        self.kind = kind
        self.maxsize = maxsize
        switch kind {
        case .fifo: queue = Threading.Queue(maxsize: maxsize)
        case .lifo: queue = LifoQueue(maxsize: maxsize)
        case .priority: queue = PriorityQueue(maxsize: maxsize)
        case .simple: queue = nil
        }
        simple = kind == .simple ? SimpleQueue() : nil
    }

    var name: String {
        switch kind {
        case .fifo: return "Queue(maxsize: \(maxsize))"
        case .lifo: return "LifoQueue(maxsize: \(maxsize))"
        case .priority: return "PriorityQueue(maxsize: \(maxsize))"
        case .simple: return "SimpleQueue"
        }
    }
}

/// Worker 0 drives rounds: it creates a queue of a random kind and bound, lets the other workers
/// put and get on it for a few milliseconds, then ends the round in one of three ways: stop the
/// producers, `join()` and shut down; `shutdown()` mid-flight; or `shutdown(immediate: true)`
/// mid-flight (for a SimpleQueue, one `nil` per worker ends it). The other workers put (blocking,
/// timed or not waiting) and get (the same), calling `taskDone()` after each get; worker 1 only
/// gets, so that the round's putters can never all be blocked on a full queue with nobody left
/// to get (the driver's `join()` would then wait forever: a 60 s CI stress run hit it).
///
/// Invariants: no id is got twice; at the end of a round every item made was released exactly
/// once, and items made = items got + items dropped (dropped only by an immediate shutdown);
/// `unfinishedTasks` is 0 after an ended round; a failed timed call waited its timeout; nothing
/// but ShutDown, Empty or Full is thrown.
final class QueueWorkload: Workload {
    let stats: [PrimitiveStats]
    private let queueStats: PrimitiveStats
    private let rounds = Counter("rounds")
    private let items = Counter("items")
    private let droppedItems = Counter("dropped")
    private let joins = Counter("joins")
    private let threads: Int
    private let current = PthreadMutex<QueueRound?>(nil)
    private let putLabel: Label
    private let getLabel: Label
    private let joinLabel: Label
    private let driveLabel: Label

    init(threads: Int, board: StatusBoard, log: ViolationLog) {
        self.threads = max(threads, 3)
        queueStats = PrimitiveStats("Queue", log: log, notes: [rounds, items, droppedItems, joins])
        stats = [queueStats]
        putLabel = board.label("Queue.put")
        getLabel = board.label("Queue.get")
        joinLabel = board.label("Queue.join")
        driveLabel = board.label("Queue round driver")
    }

    func makeWorkers() -> [WorkerSpec] {
        var workers = [WorkerSpec(name: "queue-driver", stats: queueStats) { [self] context in drive(&context) }]
        for index in 1..<threads {
            workers.append(
                WorkerSpec(name: "queue-\(index)", stats: queueStats) { [self] context in work(&context, index) }
            )
        }
        return workers
    }

    // MARK: - Driver

    private func drive(_ context: inout WorkerContext) {
        var number = 0
        while context.running {
            number += 1
            let kind = QueueRound.Kind.allCases[context.rng.below(4)]
            let maxsize = context.rng.chance(50) ? 0 : context.rng.int(in: 1...8)
            let round = QueueRound(number: number, kind: kind, maxsize: maxsize)
            current.withLock { $0 = round }
            context.doing(driveLabel)
            Monotonic.sleep(context.rng.seconds(0.002, 0.02))
            let ending = context.rng.below(3)
            round.closed.store(true, ordering: .sequentiallyConsistent)
            if let q = round.queue {
                switch ending {
                case 0:
                    round.stopProducing.store(true, ordering: .sequentiallyConsistent)
                    // Producers may still be inside a put: wait for them to see the flag, then
                    // every item put will be got and done.
                    context.blocking(joinLabel, timeout: nil)
                    q.join()
                    joins.add()
                    q.shutdown()
                case 1: q.shutdown()
                default: q.shutdown(immediate: true)
                }
            } else {
                round.stopProducing.store(true, ordering: .sequentiallyConsistent)
                for _ in 0..<threads { round.simple!.put(nil) }
            }
            context.doing(driveLabel)
            current.withLock { $0 = nil }
            while round.inside.load(ordering: .sequentiallyConsistent) > 0 { yieldCPU() }
            check(round, immediate: ending == 2 || round.forcedImmediate.load(ordering: .sequentiallyConsistent))
            rounds.add()
            context.step()
        }
    }

    /// The checks of an ended round, once every worker left it.
    private func check(_ round: QueueRound, immediate: Bool) {
        // Items still queued (a plain shutdown leaves them for getters that may have left): get
        // them now, so that only an immediate shutdown drops any.
        if let q = round.queue {
            while let item = try? q.getNowait() {
                consume(item, round)
                try? q.taskDone()
            }
            if q.unfinishedTasks != 0 {
                // Every get is followed by its taskDone, and an immediate shutdown counts off the
                // items it drops.
                queueStats.violation("\(round.name): unfinishedTasks \(q.unfinishedTasks) after the round")
            }
            if q.qsize() != 0 { queueStats.violation("\(round.name): \(q.qsize()) items left after draining") }
        } else {
            while case .success(let got) = Result(catching: { try round.simple!.getNowait() }) {
                if let item = got { consume(item, round) }  // nil: a leftover end-of-round marker
            }
        }
        let produced = round.produced.load(ordering: .sequentiallyConsistent)
        let consumed = round.consumedCount.load(ordering: .sequentiallyConsistent)
        let made = round.nextID.load(ordering: .sequentiallyConsistent)
        let released = round.released.load(ordering: .sequentiallyConsistent)
        let dropped = round.dropped.load(ordering: .sequentiallyConsistent)
        // Items that failed to go in (Full, ShutDown) were released unconsumed too.
        let refused = made - produced
        if released != made {
            queueStats.violation("\(round.name): \(made) items made, \(released) released")
        }
        if produced != consumed + dropped - refused {
            queueStats.violation(
                "\(round.name): \(produced) put, \(consumed) got, \(dropped - refused) dropped by a shutdown"
            )
        }
        if !immediate && dropped != refused {
            queueStats.violation("\(round.name): \(dropped - refused) items lost without an immediate shutdown")
        }
        items.add(consumed)
        droppedItems.add(dropped - refused)
    }

    private func consume(_ item: QueueItem, _ round: QueueRound) {
        if item.consumed.exchange(true, ordering: .relaxed) {
            queueStats.violation("\(round.name): item \(item.id) got twice")
        }
        let fresh = round.seen.withLock { $0.insert(item.id).inserted }
        if !fresh { queueStats.violation("\(round.name): id \(item.id) got twice") }
        round.consumedCount.wrappingAdd(1, ordering: .relaxed)
    }

    // MARK: - Workers

    private func work(_ context: inout WorkerContext, _ index: Int) {
        while context.running {
            guard let round = enter() else {
                Monotonic.sleep(0.0002)
                continue
            }
            while context.running && step(round, &context, mayPut: index != 1) { context.step() }
            round.inside.wrappingSubtract(1, ordering: .sequentiallyConsistent)
        }
    }

    private func enter() -> QueueRound? {
        current.withLock { round in
            guard let round, !round.closed.load(ordering: .sequentiallyConsistent) else { return nil }
            round.inside.wrappingAdd(1, ordering: .sequentiallyConsistent)
            return round
        }
    }

    /// One put or get; returns whether to stay in the round.
    private func step(_ round: QueueRound, _ context: inout WorkerContext, mayPut: Bool) -> Bool {
        let putting =
            mayPut && context.rng.chance(50) && !round.stopProducing.load(ordering: .sequentiallyConsistent)
        let mode = context.rng.below(4)  // 0 untimed, 1 timed, 2 non-blocking, 3 zero timeout
        let timeout = context.rng.seconds(0.0002, 0.005)
        let start = Monotonic.now()
        do {
            if putting {
                let item = QueueItem(id: round.nextID.wrappingAdd(1, ordering: .relaxed).oldValue, round: round)
                context.blocking(putLabel, timeout: mode == 1 ? timeout : nil)
                if let q = round.queue {
                    switch mode {
                    case 0: try q.put(item)
                    case 1: try q.put(item, timeout: timeout)
                    case 2: try q.putNowait(item)
                    default: try q.put(item, timeout: 0)
                    }
                } else {
                    round.simple!.put(item)
                }
                round.produced.wrappingAdd(1, ordering: .relaxed)
            } else {
                context.blocking(getLabel, timeout: mode == 1 ? timeout : nil)
                if let q = round.queue {
                    let item: QueueItem
                    switch mode {
                    case 0: item = try q.get()
                    case 1: item = try q.get(timeout: timeout)
                    case 2: item = try q.getNowait()
                    default: item = try q.get(timeout: 0)
                    }
                    consume(item, round)
                    try q.taskDone()
                } else {
                    let s = round.simple!
                    let got: QueueItem??
                    switch mode {
                    case 0: got = try s.get()
                    case 1: got = try s.get(timeout: timeout)
                    default: got = try s.getNowait()
                    }
                    guard let item = got! else { return false }  // the round's end
                    consume(item, round)
                }
            }
            queueStats.op()
            return true
        } catch let error as ThreadingError {
            switch error.kind {
            case .shutDown:
                return false
            case .empty, .full:
                if mode == 1 { queueStats.checkExpired(since: start, timeout: timeout, "\(round.name) timed call") }
                return true
            default:
                queueStats.violation("\(round.name): unexpected \(error)")
                return false
            }
        } catch {
            queueStats.violation("\(round.name): unexpected \(error)")
            return false
        }
    }

    /// Ends the current round at once: the driver may be in `join()` while the workers that were
    /// to get the last items have left at the stop flag.
    func wakeForShutdown() {
        current.withLock { round in
            guard let round else { return }
            if let q = round.queue {
                round.forcedImmediate.store(true, ordering: .sequentiallyConsistent)
                q.shutdown(immediate: true)
            } else {
                for _ in 0..<threads { round.simple!.put(nil) }
            }
        }
    }
}
