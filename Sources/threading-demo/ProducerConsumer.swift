import Threading

/// The documentation's producer/consumer on a `Condition`: consumers `waitFor` an item, producers
/// add one and `notify()` a single consumer.
enum ProducerConsumer {
    /// A queue guarded by the condition's lock.
    final class Buffer: @unchecked Sendable {
        // @unchecked Sendable: `items` and `done` are only touched while holding `condition`.
        let condition = Condition()
        var items: [Int] = []
        var done = false
    }

    static func run() throws {
        say("-- producer/consumer on a Condition")
        let buffer = Buffer()
        let consumed = Lock()
        nonisolated(unsafe) var totals = [Int](repeating: 0, count: 3)  // guarded by `consumed`

        let consumers = (0..<3).map { id in
            spawn {
                while true {
                    // with cv: cv.wait_for(an_item_is_available); get_an_available_item()
                    let item: Int? = try! buffer.condition.withLock {
                        try buffer.condition.waitFor { !buffer.items.isEmpty || buffer.done }
                        return buffer.items.isEmpty ? nil : buffer.items.removeFirst()
                    }
                    guard let item else { return }
                    consumed.withLock { totals[id] += item }
                }
            }
        }
        let producers = (0..<2).map { id in
            spawn {
                for n in 1...50 {
                    // with cv: make_an_item_available(); cv.notify()
                    try! buffer.condition.withLock {
                        buffer.items.append(id * 1000 + n)
                        try buffer.condition.notify()
                    }
                }
            }
        }
        for thread in producers { try thread.join() }
        try buffer.condition.withLock {
            buffer.done = true
            try buffer.condition.notifyAll()
        }
        for thread in consumers { try thread.join() }
        let sum = consumed.withLock { totals.reduce(0, +) }
        let expected = (1...50).reduce(0, +) * 2 + 1000 * 50
        say("2 producers made 100 items; 3 consumers took them all: sum \(sum) (expected \(expected))")
    }
}
