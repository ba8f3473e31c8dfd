import Threading

/// Runs the README's example of threads and tasks waiting on the same objects, from the
/// synchronous top level: the example runs in a task while this thread waits for it.
func threadsAndTasksExamples() throws {
    let finished = Event()
    let outcome = LockedValue<Result<Int, any Error>?>(nil)
    Task.detached {
        do {
            let served = try await threadsAndTasksExample()
            outcome.withLock { $0 = .success(served) }
        } catch {
            outcome.withLock { $0 = .failure(error) }
        }
        finished.set()
    }
    _ = try finished.wait()
    let served = try outcome.withLock { $0 }!.get()
    precondition(served == 13, "served \(served) requests")
}

func threadsAndTasksExample() async throws -> Int {
    // snippet: readme-threads-and-tasks
    let opened = Event()
    let connections = try BoundedSemaphore(2)  // two connections for threads and tasks alike
    let served = LockedValue(0)

    let legacyWorker = Thread(target: {
        try opened.wait()  // a thread blocks...
        for _ in 0..<3 {
            try connections.acquire()  // ...in the same first-come-first-served line as the tasks
            defer { try? connections.release() }
            served.withLock { $0 += 1 }  // … use a connection …
        }
    })
    try legacyWorker.start()

    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<10 {
            group.addTask {
                try await opened.wait()  // a task suspends: no thread of the pool is blocked
                try await connections.acquire()
                defer { try? connections.release() }
                served.withLock { $0 += 1 }  // … use a connection …
            }
        }
        opened.set()  // wakes the thread and the tasks
        try await group.waitForAll()
    }
    try await legacyWorker.join()  // the async twin of join()
    print(served.withLock { $0 })  // 13
    // snippet: end
    return served.withLock { $0 }
}
