// The executor workload: rounds over a fresh ThreadPoolExecutor each, with work submitted from
// the worker thread and from tasks (`submit`, `await pool.run`), random cancels, `wait` with every
// return condition and `asCompleted`, timed or not, shutdowns with and without `cancelFutures`,
// and now and then an initializer that fails (a broken pool). At the end of each round every
// future is in exactly one final state and every item ran and was delivered the exact number of
// times that state implies.

import Synchronization
import Threading

/// The error an item throws on purpose, with its number.
struct ExecutorItemError: Error, Equatable {
    let id: Int
}

/// The error a failing initializer throws.
struct ExecutorInitializerError: Error {}

/// One round's books: how many times each item ran and was delivered.
final class ExecutorRound: Sendable {
    let items: Int
    /// Runs per item (its work increments it).
    let runs: [Counter]
    /// Results delivered per item by `asCompleted` (each future at most once).
    let yielded: [Counter]
    /// Results delivered per item by `await pool.run`.
    let returned: [Counter]

    init(items: Int) {
        self.items = items
        runs = (0..<items).map { _ in Counter("") }
        yielded = (0..<items).map { _ in Counter("") }
        returned = (0..<items).map { _ in Counter("") }
    }
}

/// Invariants, per round: `wait` splits its futures into done and not done, each done one is
/// done, and the condition holds unless the timeout (honoured) passed; `asCompleted` yields each
/// future once, all of them unless its timeout (honoured) passed; `submit` after `shutdown` throws
/// CPython's message; after the round every future is cancelled (and its work never ran), or
/// finished with its item's value or its item's error (and its work ran exactly once), or failed
/// with `.brokenThreadPool` (a broken pool: nothing ran); a `cancel()` that returned `true` left
/// the future cancelled, one that returned `false` left it finished; `await pool.run` returned
/// the value or rethrew the error of work that ran once, or threw `CancellationError` or a pool
/// error for work that never ran.
final class ExecutorWorkload: Workload {
    let stats: [PrimitiveStats]
    private let executorStats: PrimitiveStats
    private let rounds = Counter("rounds")
    private let futures = Counter("futures")
    private let cancelled = Counter("cancelled")
    private let failed = Counter("failed")
    private let broken = Counter("broken-pools")
    private let threads: Int
    private let label: Label

    init(threads: Int, board: StatusBoard, log: ViolationLog) {
        self.threads = threads
        executorStats = PrimitiveStats(
            "ThreadPoolExecutor",
            log: log,
            notes: [rounds, futures, cancelled, failed, broken]
        )
        stats = [executorStats]
        label = board.label("executor round")
    }

    func makeWorkers() -> [WorkerSpec] {
        (0..<max(1, threads / 2)).map { index in
            WorkerSpec(name: "executor-\(index)", stats: executorStats) { [self] context in
                while context.running {
                    context.doing(label)
                    round(&context)
                    context.step()
                }
            }
        }
    }

    /// What `submit` may throw after `shutdown` on a pool whose initializer failed.
    static let refusals = [
        ThreadingError(.brokenThreadPool, "A thread initializer failed, the thread pool is not usable anymore"),
        ThreadingError(.runtimeError, "cannot schedule new futures after shutdown"),
    ]

    /// The work of item `id`: counts the run, sometimes sleeps a little, returns `id` or throws.
    private static func work(_ round: ExecutorRound, _ id: Int, sleep: Double, fails: Bool) throws -> Int {
        round.runs[id].add()
        Monotonic.sleep(sleep)
        if fails { throw ExecutorItemError(id: id) }
        return id
    }

    private func round(_ context: inout WorkerContext) {
        let stats = executorStats
        let items = context.rng.int(in: 1...32)
        let book = ExecutorRound(items: items)
        // Rarely: each failed initializer writes its error to standard error, as CPython logs it.
        let breaks = context.rng.below(200) == 0
        var initializer: (@Sendable () throws -> Void)? = nil
        if breaks { initializer = { throw ExecutorInitializerError() } }
        let maxWorkers = context.rng.int(in: 1...4)
        let pool: ThreadPoolExecutor
        do {
            pool = try ThreadPoolExecutor(
                maxWorkers: maxWorkers,
                threadNamePrefix: "stress-pool",
                initializer: initializer
            )
        } catch {
            stats.violation("ThreadPoolExecutor(maxWorkers: 1...4) threw \(error)")
            return
        }
        if breaks { broken.add() }

        // Submissions: from this thread (`submit`), and from a task (`await pool.run`, some of
        // those tasks cancelled).
        var submitted: [(id: Int, future: Future<Int>)] = []
        var runIDs: [Int] = []
        var plans: [(sleep: Double, fails: Bool)] = []
        for _ in 0..<items {
            plans.append((context.rng.chance(30) ? context.rng.seconds(0, 0.0003) : 0, context.rng.chance(15)))
        }
        for id in 0..<items {
            if context.rng.chance(25) {
                runIDs.append(id)
                continue
            }
            let plan = plans[id]
            do {
                submitted.append(
                    (id, try pool.submit { try ExecutorWorkload.work(book, id, sleep: plan.sleep, fails: plan.fails) })
                )
            } catch let error as ThreadingError where breaks && error.kind == .brokenThreadPool {
                // The initializer has already failed: nothing was queued.
            } catch {
                stats.violation("submit on an open pool threw \(error)")
            }
            stats.op()
        }
        let cancelMask = context.rng.next()
        let runResults = PthreadMutex<[Int: String]>([:])
        let runTasks: [Task<Void, Never>] = runIDs.map { id in
            let plan = plans[id]
            return Task {
                do {
                    let value = try await pool.run {
                        try ExecutorWorkload.work(book, id, sleep: plan.sleep, fails: plan.fails)
                    }
                    if value != id { stats.violation("pool.run returned \(value) for item \(id)") }
                    book.returned[id].add()
                    runResults.withLock { $0[id] = "value" }
                } catch let error as ExecutorItemError {
                    if error.id != id { stats.violation("pool.run rethrew item \(error.id)'s error for item \(id)") }
                    runResults.withLock { $0[id] = "error" }
                } catch is CancellationError {
                    runResults.withLock { $0[id] = "cancelled" }
                } catch let error as ThreadingError
                    where error.kind == .brokenThreadPool
                    || error.message == "cannot schedule new futures after shutdown"
                {
                    runResults.withLock { $0[id] = "pool" }
                } catch {
                    stats.violation("pool.run threw \(error) for item \(id)")
                    runResults.withLock { $0[id] = "other" }
                }
            }
        }
        for (i, task) in runTasks.enumerated() where cancelMask & (1 << UInt64(i % 64)) != 0 && context.rng.chance(50) {
            task.cancel()
        }

        // Random cancels.
        var cancelAnswers: [Int: Bool] = [:]
        for (id, future) in submitted where context.rng.chance(20) {
            cancelAnswers[id] = future.cancel()
        }

        // A wait with a random condition and timeout, or an asCompleted iteration.
        let all = submitted.map(\.future)
        let timeout: Double? = context.rng.chance(50) ? context.rng.seconds(0, 0.002) : nil
        if context.rng.chance(50) {
            checkWait(
                all,
                timeout: timeout,
                returnWhen: [.firstCompleted, .firstException, .allCompleted][context.rng.below(3)]
            )
        } else {
            checkAsCompleted(all, ids: submitted.map(\.id), book: book, timeout: timeout)
        }

        // Shut down, in one of four ways; then submit must refuse.
        let waits = context.rng.chance(50)
        let cancelFutures = context.rng.chance(40)
        pool.shutdown(wait: waits, cancelFutures: cancelFutures)
        if breaks {
            // A broken pool says so first, as CPython's does; one not broken yet, that it is shut down.
            do {
                _ = try pool.submit { 0 }
                stats.violation("submit after shutdown did not throw")
            } catch let error as ThreadingError where ExecutorWorkload.refusals.contains(error) {
                // As expected.
            } catch {
                stats.violation("submit after shutdown of a broken pool threw \(error)")
            }
        } else {
            stats.expectError(.runtimeError, "cannot schedule new futures after shutdown", "submit after shutdown") {
                _ = try pool.submit { 0 }
            }
        }
        if waits && !breaks {
            for future in all where !future.isDone {
                stats.violation("a future is not done after shutdown(wait: true)")
            }
        }

        // At rest: every future done; every task ended.
        do {
            let (_, notDone) = try wait(all)
            if !notDone.isEmpty { stats.violation("wait(all) without a timeout returned \(notDone.count) not done") }
        } catch {
            stats.violation("wait(all) threw \(error)")
        }
        let ended = Event()
        Task {
            for task in runTasks { await task.value }
            ended.set()
        }
        _ = try? ended.wait()

        checkFinal(
            submitted,
            cancelAnswers: cancelAnswers,
            book: book,
            runResults: runResults.withLock { $0 },
            breaks: breaks
        )
        rounds.add()
    }

    private func checkWait(_ all: [Future<Int>], timeout: Double?, returnWhen: ReturnWhen) {
        let stats = executorStats
        let start = Monotonic.now()
        do {
            let (done, notDone) = try wait(all, timeout: timeout, returnWhen: returnWhen)
            stats.op()
            if done.count + notDone.count != all.count {
                stats.violation("wait split \(all.count) futures into \(done.count) done and \(notDone.count) not done")
            }
            let doneSet = Set(done)
            for future in notDone where doneSet.contains(future) { stats.violation("wait put a future in both sets") }
            for future in done where !future.isDone { stats.violation("wait counted a future not done as done") }
            let held: Bool
            switch returnWhen {
            case .firstCompleted: held = !done.isEmpty || all.isEmpty
            case .allCompleted: held = notDone.isEmpty
            case .firstException:
                held = notDone.isEmpty || done.contains { !$0.isCancelled && (try? $0.exception(timeout: 0)) != nil }
            }
            if !held {
                if let timeout {
                    stats.checkExpired(since: start, timeout: timeout, "wait(returnWhen: \(returnWhen))")
                } else {
                    stats.violation("wait(returnWhen: \(returnWhen)) without a timeout returned before its condition")
                }
            }
        } catch {
            stats.violation("wait threw \(error)")
        }
    }

    private func checkAsCompleted(_ all: [Future<Int>], ids: [Int], book: ExecutorRound, timeout: Double?) {
        let stats = executorStats
        var idOf: [ObjectIdentifier: Int] = [:]
        for (future, id) in zip(all, ids) { idOf[ObjectIdentifier(future)] = id }
        let start = Monotonic.now()
        var iterator = asCompleted(all, timeout: timeout)
        var count = 0
        do {
            while let future = try iterator.next() {
                count += 1
                stats.op()
                if !future.isDone { stats.violation("asCompleted yielded a future not done") }
                guard let id = idOf[ObjectIdentifier(future)] else {
                    stats.violation("asCompleted yielded a future it was not given")
                    continue
                }
                book.yielded[id].add()
                if book.yielded[id].current != 1 {
                    stats.violation("asCompleted yielded item \(id)'s future twice")
                }
            }
            if count != all.count { stats.violation("asCompleted ended after \(count) of \(all.count) futures") }
        } catch let error as ThreadingError where error.kind == .timeout && timeout != nil {
            stats.checkExpired(since: start, timeout: timeout!, "asCompleted")
            let expected = "\(all.count - count) (of \(all.count)) futures unfinished"
            if error.message != expected {
                stats.violation("asCompleted's timeout said \"\(error.message)\", not \"\(expected)\"")
            }
        } catch {
            stats.violation("asCompleted threw \(error)")
        }
    }

    private func checkFinal(
        _ submitted: [(id: Int, future: Future<Int>)],
        cancelAnswers: [Int: Bool],
        book: ExecutorRound,
        runResults: [Int: String],
        breaks: Bool
    ) {
        let stats = executorStats
        for (id, future) in submitted {
            futures.add()
            let runs = book.runs[id].current
            guard future.isDone else {
                stats.violation("item \(id)'s future is not done at the end of the round")
                continue
            }
            if future.isRunning { stats.violation("item \(id)'s future is done and running") }
            if future.isCancelled {
                cancelled.add()
                if runs != 0 { stats.violation("item \(id) was cancelled but ran \(runs) times") }
                if cancelAnswers[id] == false {
                    stats.violation("item \(id): cancel() said false, yet it is cancelled")
                }
                continue
            }
            if cancelAnswers[id] == true { stats.violation("item \(id): cancel() said true, yet it finished") }
            do {
                let value = try future.result(timeout: 0)
                if value != id { stats.violation("item \(id)'s future holds \(value)") }
                if runs != 1 { stats.violation("item \(id) finished with its value after \(runs) runs") }
                if breaks { stats.violation("item \(id) ran on a broken pool") }
            } catch let error as ExecutorItemError {
                failed.add()
                if error.id != id { stats.violation("item \(id)'s future holds item \(error.id)'s error") }
                if runs != 1 { stats.violation("item \(id) finished with its error after \(runs) runs") }
            } catch let error as ThreadingError where error.kind == .brokenThreadPool && breaks {
                if runs != 0 { stats.violation("item \(id) failed with BrokenThreadPool after \(runs) runs") }
            } catch {
                stats.violation("item \(id)'s future threw \(error)")
            }
        }
        for (id, outcome) in runResults {
            let runs = book.runs[id].current
            let returned = book.returned[id].current
            switch outcome {
            case "value":
                if runs != 1 || returned != 1 {
                    stats.violation("pool.run item \(id): \(runs) runs, \(returned) returns")
                }
            case "error":
                if runs != 1 || returned != 0 { stats.violation("pool.run item \(id) rethrew after \(runs) runs") }
            case "cancelled", "pool":
                if runs != 0 { stats.violation("pool.run item \(id) threw (\(outcome)) after \(runs) runs") }
            default:
                break
            }
        }
    }
}
