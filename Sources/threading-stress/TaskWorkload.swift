// The tasks workload: threads and tasks waiting on the same Semaphore, Lock, Event and
// LockedValue, with random cancellations and timeouts racing the releases. Each worker thread
// runs rounds; every round starts a batch of tasks, releases units from the thread (and from a
// task), cancels a random subset, and checks at rest that no unit, turn or wake-up was lost.

import Synchronization
import Threading

/// Invariants, per round: for a semaphore, units taken by tasks + units left = units released,
/// and every task either took a unit, timed out (after its timeout) or was cancelled; for a lock,
/// the count of critical sections equals the tasks that acquired, and the lock ends free; for an
/// event, every task not cancelled or timed out returned `true` after the set; for a LockedValue,
/// items taken + items left = items produced.
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
            "tasks (Semaphore, Lock, Event, LockedValue)",
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

    private func round(_ context: inout WorkerContext) {
        let tasks = context.rng.int(in: 1...24)
        let units = context.rng.int(in: 0...tasks)
        let cancelMask = context.rng.next()
        let kind = context.rng.int(in: 0...3)
        let stats = taskStats
        let cancellations = self.cancellations
        let timeouts = self.timeouts
        switch kind {
        case 0:
            // Semaphore: tasks acquire (some timed), the thread releases `units`, some are cancelled.
            let sem = try! Threading.Semaphore(0)
            let taken = Tally()
            var handles: [Task<Void, Never>] = []
            for i in 0..<tasks {
                let timed = i % 3 == 0
                handles.append(
                    Task {
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
                )
            }
            for _ in 0..<units { try! sem.release() }
            for (i, handle) in handles.enumerated() where cancelMask & (1 << UInt64(i)) != 0 { handle.cancel() }
            // Then the rest, racing the tasks still being served: none may wait for a unit forever.
            for handle in handles { handle.cancel() }
            runInTask { [handles] in for handle in handles { await handle.value } }
            let total = taken.value + sem.currentValue
            if total != units { stats.violation("Semaphore: \(total) units at rest after \(units) released") }
            stats.op(tasks)
        case 1:
            // Lock: tasks and this thread take turns; cancelled tasks never run their section.
            let lock = Threading.Lock()
            let sections = Tally()
            let acquired = Tally()
            _ = try! lock.acquire(blocking: true, timeout: nil)
            var handles: [Task<Void, Never>] = []
            for _ in 0..<tasks {
                handles.append(
                    Task {
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
                )
            }
            for (i, handle) in handles.enumerated() where cancelMask & (1 << UInt64(i)) != 0 { handle.cancel() }
            try! lock.release()
            lock.withLock { sections.add() }
            runInTask { [handles] in for handle in handles { await handle.value } }
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
            var handles: [Task<Void, Never>] = []
            for _ in 0..<tasks {
                handles.append(
                    Task {
                        do {
                            if try await event.wait(timeout: 30) { woken.add() }
                        } catch {
                            cancelled.add()
                            cancellations.add()
                        }
                    }
                )
            }
            for (i, handle) in handles.enumerated() where cancelMask & (1 << UInt64(i)) != 0 { handle.cancel() }
            event.set()
            runInTask { [handles] in for handle in handles { await handle.value } }
            if woken.value + cancelled.value != tasks {
                stats.violation("Event: \(woken.value) woken + \(cancelled.value) cancelled of \(tasks)")
            }
            stats.op(tasks)
        default:
            // LockedValue: tasks take items when there are some; the thread produces `units`.
            let stock = LockedValue(0)
            let taken = Tally()
            var handles: [Task<Void, Never>] = []
            for _ in 0..<tasks {
                handles.append(
                    Task {
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
                )
            }
            for _ in 0..<units { stock.withLock { $0 += 1 } }
            for (i, handle) in handles.enumerated() where cancelMask & (1 << UInt64(i)) != 0 { handle.cancel() }
            runInTask { [handles] in for handle in handles { await handle.value } }
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
