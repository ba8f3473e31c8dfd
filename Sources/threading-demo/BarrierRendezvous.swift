import Threading

/// The documentation's client/server rendezvous on `Barrier(2, timeout: 5)`, then a barrier
/// whose action runs once per generation, and a barrier that breaks when a party never comes.
enum BarrierRendezvous {
    static func run() throws {
        say("-- a Barrier rendezvous")
        let b = try Barrier(2, timeout: 5)
        let server = spawn {
            say("server: started, waiting for the client")
            let index = try! b.wait()
            say("server: passed the barrier (arrival \(index))")
        }
        pause(0.05)
        let client = spawn {
            let index = try! b.wait()
            say("client: passed the barrier (arrival \(index))")
        }
        try server.join()
        try client.join()

        let rounds = try Barrier(3, action: { say("  action: every runner is at the line") })
        let runners = (0..<3).map { id in
            spawn {
                for round in 1...2 {
                    pause(0.01 * Double(id + 1))
                    if try! rounds.wait() == 0 { say("  round \(round): runner \(id) arrived first") }
                }
            }
        }
        for thread in runners { try thread.join() }

        let lonely = try Barrier(2)
        do {
            try lonely.wait(timeout: 0.1)
        } catch {
            say("a party that never comes: \(error) after the timeout; \(lonely)")
        }
        lonely.reset()
        say("after reset(): \(lonely)")
    }
}
