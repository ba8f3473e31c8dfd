import Synchronization

/// What `wait` and `asCompleted` register with each future they watch (CPython's `_Waiter`): the
/// futures tell it when they are done, and it wakes its thread once its condition holds.
///
/// A future tells its waiters after it has become done, outside its own lock; a waiter that has
/// already been served ignores the news. The waiting thread parks on the waiter's address.
///
/// Not generic: the futures it collects are kept as `AnyObject`s, so that the completing thread,
/// running unspecialized code, looks up no generic metadata to tell it.
@usableFromInline
final class FutureWaiter: @unchecked Sendable {
    // @unchecked Sendable: every mutable field is in `state`, a Protected.

    /// When the waiting thread is to wake.
    enum Mode {
        /// At the first future done (`wait(returnWhen: .firstCompleted)`).
        case firstCompleted
        /// At the first future finished with an error, or when all are done.
        case firstException
        /// When all are done.
        case allCompleted
        /// At every future done; they are collected in completion order (`asCompleted`).
        case asCompleted
    }

    private struct State {
        /// Futures not yet done, for `.firstException` and `.allCompleted`.
        var remaining: Int
        /// Whether the condition holds (for `.asCompleted`: whether `completed` is not empty).
        var triggered = false
        /// Whether the waiting thread is parked (or about to).
        var parked = false
        /// For `.asCompleted`: futures done and not yet taken, in completion order.
        var completed: [any AnyObject & Sendable] = []
    }

    let mode: Mode
    private let state: Protected<State>

    /// A waiter for `remaining` futures not done yet.
    init(mode: Mode, remaining: Int) {
        self.mode = mode
        self.state = Protected(State(remaining: remaining))
    }

    /// Called by `future` once it is done (by `wait` itself for a future done before it could be
    /// registered): counts it and wakes the waiting thread when the condition now holds.
    func futureDone(_ future: any AnyObject & Sendable, failed: Bool) {
        let wake = state.withLock { state -> Bool in
            switch mode {
            case .firstCompleted:
                state.triggered = true
            case .firstException:
                state.remaining -= 1
                if failed || state.remaining <= 0 { state.triggered = true }
            case .allCompleted:
                state.remaining -= 1
                if state.remaining <= 0 { state.triggered = true }
            case .asCompleted:
                state.completed.append(future)
                state.triggered = true
            }
            guard state.triggered && state.parked else { return false }
            state.parked = false
            return true
        }
        if wake { ParkingLot.unparkAll(key: key) }
    }

    /// Whether the condition holds.
    var isTriggered: Bool {
        state.withLock { $0.triggered }
    }

    /// Takes the futures collected so far (`.asCompleted`), in completion order, and resets the
    /// trigger.
    func takeCompleted<Value>(of _: Value.Type) -> [Future<Value>] {
        let taken = state.withLock { state in
            state.triggered = false
            var taken: [any AnyObject & Sendable] = []
            swap(&taken, &state.completed)
            return taken
        }
        return taken.map { unsafeDowncast($0, to: Future<Value>.self) }
    }

    /// Parks the calling thread until the condition holds or `deadline` passes; returns whether
    /// it holds.
    @discardableResult
    func wait(until deadline: Deadline) -> Bool {
        let result = ParkingLot.park(
            key: key,
            deadline: deadline,
            validate: { markParked() },
            timedOut: { _ in unmarkParked() }
        )
        switch result {
        case .invalid, .unparked: return true
        case .timedOut: return isTriggered
        }
    }

    /// A waiter's `validate`: notes that the waiting thread or task parks, unless the condition
    /// already holds.
    func markParked() -> Bool {
        state.withLock { state in
            if state.triggered { return false }
            state.parked = true
            return true
        }
    }

    /// Takes back `markParked` after a timeout or a cancellation.
    func unmarkParked() {
        state.withLock { $0.parked = false }
    }

    private var key: UnsafeRawPointer {
        UnsafeRawPointer(Unmanaged.passUnretained(self).toOpaque())
    }
}

/// The futures of `futures` without repeats, in order of first appearance; `futures` itself (no
/// copy) when there are none.
///
/// - Complexity: O(n), with an open-addressing table of addresses on the stack for small inputs.
@inlinable
func uniqueFutures<Value>(_ futures: [Future<Value>]) -> [Future<Value>] {
    let count = futures.count
    if count < 2 { return futures }
    if count <= 8 {
        for i in 1..<count {
            for j in 0..<i where futures[i] === futures[j] {
                return removingRepeats(futures)
            }
        }
        return futures
    }
    var capacity = 16
    while capacity < 2 * count { capacity <<= 1 }
    let mask = capacity - 1
    let repeated = withUnsafeTemporaryAllocation(of: UInt.self, capacity: capacity) { table -> Bool in
        table.initialize(repeating: 0)
        for future in futures {
            let address = UInt(bitPattern: ObjectIdentifier(future))
            var slot = Int(truncatingIfNeeded: ((address >> 4) &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
            while true {
                let seen = table[slot]
                if seen == 0 {
                    table[slot] = address
                    break
                }
                if seen == address { return true }
                slot = (slot + 1) & mask
            }
        }
        return false
    }
    return repeated ? removingRepeats(futures) : futures
}

@usableFromInline
func removingRepeats<Value>(_ futures: [Future<Value>]) -> [Future<Value>] {
    var seen = Set<ObjectIdentifier>()
    seen.reserveCapacity(futures.count)
    return futures.filter { seen.insert(ObjectIdentifier($0)).inserted }
}

extension FutureWaiter {
    /// The `async` form of `wait(until:)`: suspends the calling task until the condition holds or
    /// `deadline` passes; returns whether it holds.
    ///
    /// - Throws: `CancellationError` when the task is cancelled while it waits.
    func wait(until deadline: Deadline) async throws -> Bool {
        let result = await ParkingLot.parkTask(
            key: UnsafeRawPointer(Unmanaged.passUnretained(self).toOpaque()),
            deadline: deadline,
            validate: { markParked() },
            undo: { _ in unmarkParked() }
        )
        switch result {
        case .invalid, .unparked: return true
        case .timedOut: return isTriggered
        case .cancelled: throw CancellationError()
        }
    }
}
