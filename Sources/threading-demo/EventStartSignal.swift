import Threading

/// An `Event` as a start signal: workers get ready, then all wait for one `set()`.
enum EventStartSignal {
    static func run() throws {
        say("-- an Event start signal")
        let go = Event()
        let ready = try Threading.Semaphore(0)
        let workers = (0..<4).map { id in
            spawn {
                try! ready.release()
                let started = try! go.wait(timeout: 5)
                say("worker \(id) started: \(started)")
            }
        }
        for _ in 0..<4 { try ready.acquire() }
        say("all 4 workers are ready; \(go); setting it")
        go.set()
        for thread in workers { try thread.join() }
        go.clear()
        let waited = try go.wait(timeout: 0.05)
        say("after clear(), wait(timeout: 0.05) -> \(waited)")
    }
}
