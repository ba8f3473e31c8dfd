// The tasks workload: threads and tasks waiting on the same Semaphore, Lock, Event, LockedValue,
// Queue and SimpleQueue, with random cancellations and timeouts racing the releases. Each worker thread
// runs rounds; every round starts a batch of tasks, releases units from the thread (and from a
// task), cancels a random subset, and checks at rest that no unit, turn or wake-up was lost.

import Synchronization
import Threading

/// Invariants, per round: for a semaphore, units taken by tasks + units left = units released,
/// and every task either took a unit, timed out (after its timeout) or was cancelled; for a lock,
/// the count of critical sections equals the tasks that acquired, and the lock ends free; for an
/// event, every task not cancelled or timed out returned `true` after the set; for a LockedValue,
/// items taken + items left = items produced; for a queue, every item put is got exactly once or
/// left in the queue, whoever (thread or task) put or got it, and a cancelled getter's item goes
/// to the next getter.
final class TaskWorkload: Workload {
    let stats: [PrimitiveStats]
    private let taskStats: PrimitiveStats
    private let cancellations = Counter("cancellations")
    private let timeouts = Counter("timeouts")
    private let threads: Int
    private let label: Label

    init(threads: Int, board: StatusBoard, log: ViolationLog) {
        self.threads = threads
        taskStats = PrimitiveStats(
            "tasks (Semaphore, Lock, Event, LockedValue, Queue, SimpleQueue)",
            log: log,
            notes: [cancellations, timeouts]
        )
        stats = [taskStats]
        label = board.label("tasks round")
    }

    func makeWorkers() -> [WorkerSpec] {
        (0..<max(1, threads / 2)).map { index in
            WorkerSpec(name: "tasks-\(index)", stats: taskStats) { [self] context in
                while context.running {
                    context.doing(label)
                    round(&context)
                    context.step()
                }
            }
        }
    }

    /// Blocks the worker thread until `body`, run in a task, ends.
    private func runInTask(_ body: @escaping @Sendable () async -> Void) {
        let done = Event()
        Task {
            await body()
            done.set()
        }
        _ = try? done.wait()
    }

    /// Starts `count` tasks, the `i`th running `body(i)`.
    private func startTasks(_ count: Int, _ body: @escaping @Sendable (Int) async -> Void) -> [Task<Void, Never>] {
        (0..<count).map { i in Task { await body(i) } }
    }

    /// Cancels the tasks whose bit is set in `mask`.
    private func cancel(_ handles: [Task<Void, Never>], picked mask: UInt64) {
        for (i, handle) in handles.enumerated() where mask & (1 << UInt64(i)) != 0 { handle.cancel() }
    }

    /// Blocks the worker thread until every task has ended.
    private func awaitAll(_ handles: [Task<Void, Never>]) {
        runInTask { for handle in handles { await handle.value } }
    }

    private func round(_ context: inout WorkerContext) {
        let tasks = context.rng.int(in: 1...24)
        let units = context.rng.int(in: 0...tasks)
        let cancelMask = context.rng.next()
        let kind = context.rng.int(in: 0...5)
        let stats = taskStats
        let cancellations = self.cancellations
        let timeouts = self.timeouts
        switch kind {
        case 0:
            // Semaphore: tasks acquire (some timed), the thread releases `units`, some are cancelled.
            let sem = try! Threading.Semaphore(0)
            let taken = Tally()
            let handles = startTasks(tasks) { i in
                let timed = i % 3 == 0
                do {
                    let start = Monotonic.now()
                    if try await sem.acquire(timeout: timed ? 0.002 : nil) {
                        taken.add()
                    } else {
                        stats.checkExpired(since: start, timeout: 0.002, "await Semaphore.acquire(timeout:)")
                        timeouts.add()
                    }
                } catch {
                    cancellations.add()
                }
            }
            for _ in 0..<units { try! sem.release() }
            cancel(handles, picked: cancelMask)
            // Then the rest, racing the tasks still being served: none may wait for a unit forever.
            for handle in handles { handle.cancel() }
            awaitAll(handles)
            let total = taken.value + sem.currentValue
            if total != units { stats.violation("Semaphore: \(total) units at rest after \(units) released") }
            stats.op(tasks)
        case 1:
            // Lock: tasks and this thread take turns; cancelled tasks never run their section.
            let lock = Threading.Lock()
            let sections = Tally()
            let acquired = Tally()
            _ = try! lock.acquire(blocking: true, timeout: nil)
            let handles = startTasks(tasks) { _ in
                do {
                    try await lock.withLock {
                        acquired.add()
                        sections.add()
                        await Task.yield()
                    }
                } catch {
                    cancellations.add()
                }
            }
            cancel(handles, picked: cancelMask)
            try! lock.release()
            lock.withLock { sections.add() }
            awaitAll(handles)
            if lock.isLocked { stats.violation("Lock: still locked at rest") }
            if sections.value != acquired.value + 1 {
                stats.violation("Lock: \(sections.value) sections for \(acquired.value + 1) holders")
            }
            stats.op(tasks)
        case 2:
            // Event: tasks wait, some are cancelled, the thread sets it: every other task sees it.
            let event = Event()
            let woken = Tally()
            let cancelled = Tally()
            let handles = startTasks(tasks) { _ in
                do {
                    if try await event.wait(timeout: 30) { woken.add() }
                } catch {
                    cancelled.add()
                    cancellations.add()
                }
            }
            cancel(handles, picked: cancelMask)
            event.set()
            awaitAll(handles)
            if woken.value + cancelled.value != tasks {
                stats.violation("Event: \(woken.value) woken + \(cancelled.value) cancelled of \(tasks)")
            }
            stats.op(tasks)
        case 4:
            // Queue or SimpleQueue: tasks get (some timed), the thread puts `units` items and gets
            // beside them; every item is got once or left in the queue.
            let simple = cancelMask & (1 << 63) != 0
            let queue = Threading.Queue<Int>()
            let simpleQueue = SimpleQueue<Int>()
            let got = Collected()
            let handles = startTasks(tasks) { i in
                let timed = i % 3 == 0
                do {
                    let item =
                        simple
                        ? try await simpleQueue.get(timeout: timed ? 0.002 : nil)
                        : try await queue.get(timeout: timed ? 0.002 : nil)
                    got.add(item)
                } catch let error as ThreadingError where error.kind == .empty {
                    timeouts.add()
                } catch {
                    cancellations.add()
                }
            }
            for item in 0..<units {
                if simple { simpleQueue.put(item) } else { try! queue.put(item) }
                if item % 4 == 3 {
                    // The thread takes one too, in line with the tasks.
                    if let taken = try? (simple ? simpleQueue.get(timeout: 0.001) : queue.get(timeout: 0.001)) {
                        got.add(taken)
                    }
                }
            }
            cancel(handles, picked: cancelMask)
            for handle in handles { handle.cancel() }
            awaitAll(handles)
            while let left = try? (simple ? simpleQueue.getNowait() : queue.getNowait()) { got.add(left) }
            let items = got.values.sorted()
            if items != Array(0..<units) {
                stats.violation("\(simple ? "SimpleQueue" : "Queue"): got \(items) of 0..<\(units)")
            }
            stats.op(tasks)
        case 5:
            // A bounded Queue: tasks put (some timed) into room for 1 to 3, the thread gets; every
            // item a task put is got once, and no other.
            let queue = Threading.Queue<Int>(maxsize: context.rng.int(in: 1...3))
            let put = Collected()
            let got = Collected()
            let handles = startTasks(tasks) { i in
                let timed = i % 3 == 0
                do {
                    try await queue.put(i, timeout: timed ? 0.002 : nil)
                    put.add(i)
                } catch let error as ThreadingError where error.kind == .full {
                    timeouts.add()
                } catch {
                    cancellations.add()
                }
            }
            for _ in 0..<units {
                if let item = try? queue.get(timeout: 0.005) { got.add(item) }
            }
            cancel(handles, picked: cancelMask)
            for handle in handles { handle.cancel() }
            awaitAll(handles)
            while let left = try? queue.getNowait() { got.add(left) }
            if got.values.sorted() != put.values.sorted() {
                stats.violation("bounded Queue: got \(got.values.sorted()) of the items put \(put.values.sorted())")
            }
            stats.op(tasks)
        default:
            // LockedValue: tasks take items when there are some; the thread produces `units`.
            let stock = LockedValue(0)
            let taken = Tally()
            let handles = startTasks(tasks) { _ in
                do {
                    let got = try await stock.withLock(when: { $0 > 0 }, timeout: 0.05) { count -> Bool in
                        count -= 1
                        return true
                    }
                    if got == true { taken.add() } else { timeouts.add() }
                } catch {
                    cancellations.add()
                }
            }
            for _ in 0..<units { stock.withLock { $0 += 1 } }
            cancel(handles, picked: cancelMask)
            awaitAll(handles)
            let total = taken.value + stock.withLock { $0 }
            if total != units { stats.violation("LockedValue: \(total) items at rest after \(units) produced") }
            stats.op(tasks)
        }
    }
}

/// A count shared by a round's tasks.
final class Tally: Sendable {
    private let count = Atomic<Int>(0)
    func add() { count.wrappingAdd(1, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}

/// The items a round's threads and tasks got or put.
final class Collected: Sendable {
    private let items = PthreadMutex<[Int]>([])  // a pthread mutex: ThreadSanitizer sees it
    func add(_ item: Int) { items.withLock { $0.append(item) } }
    var values: [Int] { items.withLock { $0 } }
}
