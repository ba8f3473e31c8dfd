import Threading

/// Python's classic `queue` worker pool: workers get jobs and call `taskDone()`, the main thread
/// `join()`s until every job is done, then `shutdown()` ends the workers (Python 3.13).
enum QueueWorkerPool {
    static func run() throws {
        say("-- a queue worker pool with taskDone/join and a shutdown")
        let jobs = Queue<Int>(maxsize: 8)  // put() waits while 8 jobs are queued
        let results = SimpleQueue<String>()
        let workers = (0..<3).map { id in
            spawn(name: "worker-\(id)") {
                while true {
                    let job: Int
                    do { job = try jobs.get() } catch { return }  // ShutDown: no job will come
                    results.put("worker \(id) squared \(job): \(job * job)")
                    try! jobs.taskDone()
                }
            }
        }
        for job in 1...10 { try jobs.put(job) }
        jobs.join()  // returns once all 10 jobs had their taskDone()
        say("all \(results.qsize()) jobs done; unfinishedTasks = \(jobs.unfinishedTasks)")
        jobs.shutdown()  // the workers' next get() throws .shutDown
        for worker in workers { try worker.join() }
        var lines: [String] = []
        while let line = try? results.getNowait() { lines.append(line) }
        for line in lines.sorted() { say(line) }
        do { try jobs.put(11) } catch { say("put after shutdown: \(error)") }
    }
}
