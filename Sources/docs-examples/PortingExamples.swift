// The examples of the DocC article "Porting from Python".

import Threading

func portingExamples() throws {
    let queue = LockedValue([7, 8])
    precondition(take(from: queue) == 7)

    let results = LockedValue<[Int]>([])
    for thread in try startSquares(into: results) { try thread.join() }
    precondition(results.withLock { $0.sorted() } == [1, 4, 9])

    record("tea")
    precondition(wordCounts.withLock { $0["tea"] } == 1)

    let thread = try startThread({ (name: String, n: Int) in print(name, n) }, "ada", 3)
    try thread.join()

    try subclassExample()
}

// snippet: porting-return
func take(from queue: LockedValue<[Int]>) -> Int? {
    // Python:  with lock:
    //              if queue: return queue.pop(0)
    //          return None
    queue.withLock { items in
        if !items.isEmpty { return items.removeFirst() }  // leaves the closure, not take(from:)
        return nil
    }
}
// snippet: end

// snippet: porting-nested-target
func startSquares(into results: LockedValue<[Int]>) throws -> [Thread] {
    @Sendable func work(_ n: Int) {  // a thread's target: @Sendable
        results.withLock { $0.append(n * n) }
    }
    let threads = (1...3).map { n in Thread(target: work, args: (n)) }
    for thread in threads { try thread.start() }
    return threads
}
// snippet: end

// snippet: porting-module-state
// Python: counts = {} and lock = threading.Lock() at module level
let wordCounts = LockedValue<[String: Int]>([:])

func record(_ word: String) {
    wordCounts.withLock { $0[word, default: 0] += 1 }
}
// snippet: end

// snippet: porting-forward-args
func startThread<each A: Sendable>(
    _ target: @escaping @Sendable (repeat each A) throws -> Void,
    _ args: repeat each A
) throws -> Thread {
    let thread = Thread(target: target, args: (repeat each args))
    try thread.start()
    return thread
}
// snippet: end

func subclassExample() throws {
    let pool = try ConnectionLimit(dsn: "db", maxConnections: 2)
    pool.withLock { precondition(pool.dsn == "db") }
}

// snippet: porting-subclass
// Python: class ConnectionLimit(threading.BoundedSemaphore): ...
final class ConnectionLimit: BoundedSemaphore, @unchecked Sendable {  // @unchecked: `dsn` is a `let`
    let dsn: String

    init(dsn: String, maxConnections: Int) throws {
        self.dsn = dsn
        try super.init(maxConnections)
    }
}
// snippet: end
