// The example of `Future`'s `///` comment.

import Threading

/// Stands in for `ThreadPoolExecutor` in the example: `submit` runs the work on a thread of its
/// own and completes the future as a pool's worker does.
struct StandInPool {
    func submit<T: Sendable>(_ fn: @escaping @Sendable () throws -> T) throws -> Future<T> {
        let future = Future<T>()
        let worker = Thread {
            guard try future.setRunningOrNotifyCancel() else { return }
            do {
                try future.setResult(try fn())
            } catch {
                try future.setException(error)
            }
        }
        try worker.start()
        return future
    }
}

@Sendable func download(_ url: String) throws -> String {
    "<html>\(url)</html>"
}

func futureDocExample() throws {
    let pool = StandInPool()
    let url = "https://example.com"
    // snippet: doc-future
    let future = try pool.submit { try download(url) }
    let page = try future.result(timeout: 10)  // rethrows download's error
    // snippet: hide
    precondition(page == "<html>https://example.com</html>")
    // snippet: end
}
