// snippet: docc-overview
import Threading

// snippet: hide
func overviewExample() throws {
    // snippet: show
    let total = LockedValue(0)  // the lock owns the value it guards

    let workers = (1...4).map { n in
        Thread(target: { total.withLock { $0 += n } }, name: "worker-\(n)")
    }
    for worker in workers { try worker.start() }
    for worker in workers { try worker.join() }
    print(total.withLock { $0 })  // 10
    // snippet: hide
}
// snippet: end
