import Threading

/// Python's `concurrent.futures` download pool: `submit` to a `ThreadPoolExecutor`, take the
/// results as they complete with `asCompleted`, one failure among them; then `map` in input order,
/// a cancel, `wait`, and the `async` `run` from a task.
enum ThreadPoolDownloads {
    struct NotFound: Error, CustomStringConvertible {
        let page: String
        var description: String { "404 for \(page)" }
    }

    /// A stand-in for a blocking download: sleeps, then returns the page's size or throws.
    static func download(_ page: String) throws -> Int {
        pause(0.01 * Double(page.count % 4))
        if page.hasSuffix("missing") { throw NotFound(page: page) }
        return page.count * 100
    }

    static func run() throws {
        say("-- a ThreadPoolExecutor: submit, asCompleted, map, cancel, wait, await run")
        let pages = ["index", "about", "blog/first", "blog/missing", "contact"]
        try withThreadPoolExecutor(maxWorkers: 3, threadNamePrefix: "download") { pool in
            var pageOf: [Future<Int>: String] = [:]
            for page in pages { pageOf[try pool.submit { try download(page) }] = page }
            var lines: [String] = []
            var iterator = asCompleted(Array(pageOf.keys), timeout: 10)
            while let future = try iterator.next() {
                let page = pageOf[future]!
                do {
                    lines.append("\(page): \(try future.result()) bytes")
                } catch {
                    lines.append("\(page) failed: \(error)")  // the work's own error, rethrown
                }
            }
            for line in lines.sorted() { say(line) }

            var sizes: [Int] = []
            var results = try pool.map(["a", "bb", "ccc"], timeout: 10) { $0.count }
            while let size = try results.next() { sizes.append(size) }
            say("map keeps the input order: \(sizes)")

            let blocker = Event()
            let slow = (0..<3).map { _ in try! pool.submit { try blocker.wait(timeout: 10) ? 1 : 0 } }
            let queued = try pool.submit { 42 }  // 3 workers busy: it waits in the queue
            say("cancel() before it ran: \(queued.cancel()), isCancelled: \(queued.isCancelled)")
            blocker.set()
            let (done, notDone) = try wait(slow + [queued], timeout: 10)
            say("wait: \(done.count) done, \(notDone.count) not done")
        }

        let pool = try ThreadPoolExecutor(maxWorkers: 1)
        let answer = SimpleQueue<Int>()
        Task {
            // Blocking work off the cooperative pool: the task waits without blocking a thread.
            answer.put((try? await pool.run { 6 * 7 }) ?? -1)
        }
        say("await pool.run from a task: \(try answer.get(timeout: 10))")
        pool.shutdown()
    }
}
