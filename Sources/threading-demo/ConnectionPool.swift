import Synchronization
import Threading

/// The documentation's `BoundedSemaphore` guarding a pool of at most 5 connections.
enum ConnectionPool {
    static func run() throws {
        say("-- a BoundedSemaphore connection pool")
        let maxConnections = 5
        let poolSema = try BoundedSemaphore(maxConnections)
        let open = Atomic<Int>(0)
        let mostOpen = Atomic<Int>(0)

        let workers = (0..<12).map { _ in
            spawn {
                for _ in 0..<20 {
                    // with pool_sema: conn = connectdb(); ...; conn.close()
                    poolSema.withLock {
                        let now = open.add(1, ordering: .relaxed).newValue
                        mostOpen.max(now, ordering: .relaxed)
                        pause(0.0005)
                        open.subtract(1, ordering: .relaxed)
                    }
                }
            }
        }
        for thread in workers { try thread.join() }
        say("12 workers made 240 connections; at most \(mostOpen.load(ordering: .relaxed)) were open at once")
        do {
            try poolSema.release()
        } catch {
            say("one release too many is caught: \(error)")
        }
        say("the pool is intact: \(poolSema)")
    }
}
