import Threading

/// The documentation's producer/consumer, twice: over a `LockedValue`, whose consumers wait with
/// `withLock(when:)` and whose producers notify nobody; and on a `Condition`, as Python writes it,
/// where consumers `waitFor` an item and producers `notify()` a single consumer.
enum ProducerConsumer {
    /// The items and whether the producers are done: the state both versions share.
    struct Stock {
        var items: [Int] = []
        var done = false
    }

    static func run() throws {
        try runOnLockedValue()
        try runOnCondition()
    }

    static func runOnLockedValue() throws {
        say("-- producer/consumer on a LockedValue")
        let stock = LockedValue(Stock())
        let totals = LockedValue([Int](repeating: 0, count: 3))

        let consumers = (0..<3).map { id in
            spawn {
                while true {
                    // Waits until there is an item or the producers are done: no notify needed.
                    let item = try stock.withLock(when: { !$0.items.isEmpty || $0.done }) { stock in
                        stock.items.isEmpty ? nil : stock.items.removeFirst()
                    }
                    guard let item = item ?? nil else { return }
                    totals.withLock { $0[id] += item }
                }
            }
        }
        let producers = (0..<2).map { id in
            spawn {
                for n in 1...50 {
                    stock.withLock { $0.items.append(id * 1000 + n) }
                }
            }
        }
        for thread in producers { try thread.join() }
        stock.withLock { $0.done = true }
        for thread in consumers { try thread.join() }
        report(totals.withLock { $0 })
    }

    /// The stock guarded by a condition's lock: the compiler must take that on trust.
    final class Buffer: @unchecked Sendable {
        // @unchecked Sendable: `stock` is only touched while holding `condition`.
        let condition = Condition()
        var stock = Stock()
    }

    static func runOnCondition() throws {
        say("-- producer/consumer on a Condition")
        let buffer = Buffer()
        let totals = LockedValue([Int](repeating: 0, count: 3))

        let consumers = (0..<3).map { id in
            spawn {
                while true {
                    // with cv: cv.wait_for(an_item_is_available); get_an_available_item()
                    let item: Int? = try buffer.condition.withLock {
                        try buffer.condition.waitFor { !buffer.stock.items.isEmpty || buffer.stock.done }
                        return buffer.stock.items.isEmpty ? nil : buffer.stock.items.removeFirst()
                    }
                    guard let item else { return }
                    totals.withLock { $0[id] += item }
                }
            }
        }
        let producers = (0..<2).map { id in
            spawn {
                for n in 1...50 {
                    // with cv: make_an_item_available(); cv.notify()
                    try buffer.condition.withLock {
                        buffer.stock.items.append(id * 1000 + n)
                        try buffer.condition.notify()
                    }
                }
            }
        }
        for thread in producers { try thread.join() }
        try buffer.condition.withLock {
            buffer.stock.done = true
            try buffer.condition.notifyAll()
        }
        for thread in consumers { try thread.join() }
        report(totals.withLock { $0 })
    }

    static func report(_ totals: [Int]) {
        let sum = totals.reduce(0, +)
        let expected = (1...50).reduce(0, +) * 2 + 1000 * 50
        say("2 producers made 100 items; 3 consumers took them all: sum \(sum) (expected \(expected))")
    }
}
