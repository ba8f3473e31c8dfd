// A deliberate deadlock (hidden option --inject-deadlock), to show that the watchdog reports one.

import Synchronization
import Threading

/// Two workers take two Locks in opposite order, without timeouts, after making sure each holds
/// its first: a textbook deadlock. The watchdog must report both workers blocked in
/// `Lock.acquire()` and end the run with the hang status.
final class DeadlockInjection: Workload {
    let stats: [PrimitiveStats]
    private let deadlockStats: PrimitiveStats
    private let locks = [Lock(), Lock()]
    private let holding = Atomic<Int>(0)
    private let labels: [Label]
    private let rendezvousLabel: Label

    /// Creates the two locks and the labels of the deadlock.
    init(board: StatusBoard, log: ViolationLog) {
        deadlockStats = PrimitiveStats("InjectedDeadlock", log: log)
        stats = [deadlockStats]
        labels = [board.label("Lock#deadlock-A.acquire"), board.label("Lock#deadlock-B.acquire")]
        rendezvousLabel = board.label("waiting for the other deadlock thread to hold its first lock")
    }

    /// The workers `deadlock-A` and `deadlock-B`.
    func makeWorkers() -> [WorkerSpec] {
        (0..<2).map { side in
            WorkerSpec(name: "deadlock-\(side == 0 ? "A" : "B")", stats: deadlockStats) { [self] context in
                deadlock(side: side, &context)
            }
        }
    }

    /// Takes lock `side`, waits until the other worker holds the other lock, then takes it too.
    private func deadlock(side: Int, _ context: inout WorkerContext) {
        let first = side
        let second = 1 - side
        do {
            context.blocking(labels[first], timeout: nil)
            try locks[first].acquire()
            deadlockStats.op()
            context.step()
            holding.wrappingAdd(1, ordering: .sequentiallyConsistent)
            context.doing(rendezvousLabel)
            while holding.load(ordering: .sequentiallyConsistent) < 2 { Monotonic.sleep(0.001) }
            context.blocking(labels[second], timeout: nil)
            try locks[second].acquire()  // never returns: the other thread holds it and waits for ours
            deadlockStats.violation("acquired both locks of the injected deadlock")
        } catch {
            deadlockStats.violation("unexpected error \(error)")
        }
    }
}
