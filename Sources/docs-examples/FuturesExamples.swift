// The examples of concurrent.futures: the README's download pool and TaskExecutor examples, and
// those of the `///` comments of ThreadPoolExecutor, wait and asCompleted.

import Threading

/// Stands in for a blocking download in the examples.
@Sendable func fetch(_ url: String) throws -> String {
    "<html>\(url)</html>"
}

func futuresExamples() throws {
    try downloadPoolExample()
    try threadPoolDocExample()
    try waitDocExample()
    try asCompletedDocExample()
}

func downloadPoolExample() throws {
    // snippet: readme-download-pool
    let urls = ["https://example.com/a", "https://example.com/b", "https://example.com/c"]
    try withThreadPoolExecutor(maxWorkers: 4, threadNamePrefix: "download") { pool in
        let futures = try urls.map { url in try pool.submit { try fetch(url) } }  // a blocking call
        var completed = asCompleted(futures, timeout: 30)
        while let future = try completed.next() {
            do { print(try future.result().count, "bytes") } catch { print("failed:", error) }
        }
    }  // shut down here, waiting for the workers
    // snippet: end
}

func threadPoolDocExample() throws {
    // snippet: doc-thread-pool-executor
    let pool = try ThreadPoolExecutor(maxWorkers: 4)
    let page = try pool.submit { try fetch("https://example.com") }
    print(try page.result())
    pool.shutdown()
    // snippet: end
}

func waitDocExample() throws {
    let pool = try ThreadPoolExecutor(maxWorkers: 2)
    let futures = try (1...3).map { n in try pool.submit { n * n } }
    // snippet: doc-wait
    let (done, notDone) = try wait(futures, timeout: 5, returnWhen: .firstException)
    // snippet: hide
    precondition(done.count + notDone.count == 3)
    pool.shutdown()
    // snippet: end
}

func asCompletedDocExample() throws {
    let pool = try ThreadPoolExecutor(maxWorkers: 2)
    let futures = try (1...3).map { n in try pool.submit { n * n } }
    // snippet: doc-as-completed
    var completed = asCompleted(futures, timeout: 30)
    while let future = try completed.next() {
        print(try future.result())
    }
    // snippet: hide
    pool.shutdown()
    // snippet: end
}

/// Stands in for a database client in the TaskExecutor example.
struct Database: Sendable {
    func query(_ sql: String) throws -> [String] { [sql] }
}

let database = Database()

@Sendable func readLargeFile() -> String { "contents" }

@Sendable func render(_ text: String) -> String { text.uppercased() }

func taskExecutorExample() async throws {
    // snippet: readme-task-executor
    let pool = try ThreadPoolExecutor(maxWorkers: 8, threadNamePrefix: "blocking")
    let rows = try await pool.run { try database.query("SELECT …") }  // cancelling before it starts cancels it
    let report = await Task(executorPreference: pool) {
        render(readLargeFile())  // synchronous stretches run on the pool's threads
    }.value
    // snippet: hide
    precondition(rows.count == 1 && report == "CONTENTS")
    pool.shutdown()
    // snippet: end
}
