// The floor of the task rows with cancellation, shared by threading-benchmarks and
// threading-instructions.

import Synchronization

/// The floor with cancellation: `FloorSemaphore` plus the least that lets a waiting task be
/// cancelled, a `withTaskCancellationHandler` around the wait and a waiter id to find it by (no
/// timeout, no threads). What it costs above `FloorSemaphore` is what any task primitive that
/// honours cancellation pays. Inlinable, so that it is compiled into each caller as if it were
/// written there.
public final class CancellableFloorSemaphore: Sendable {
    @usableFromInline
    struct Waiter {
        @usableFromInline var id: UInt64
        @usableFromInline var continuation: UnsafeContinuation<Bool, Never>

        @usableFromInline init(id: UInt64, continuation: UnsafeContinuation<Bool, Never>) {
            self.id = id
            self.continuation = continuation
        }
    }

    @usableFromInline
    struct State {
        @usableFromInline var value: Int
        @usableFromInline var lastID: UInt64 = 0
        @usableFromInline var waiters: [Waiter] = []

        @usableFromInline init(value: Int) { self.value = value }
    }
    @usableFromInline let state: Mutex<State>

    @inlinable
    public init(_ value: Int) {
        state = Mutex(State(value: value))
        state.withLock { $0.waiters.reserveCapacity(4) }
    }

    /// Takes a unit, suspending while there are none; throws `CancellationError` when the task is
    /// cancelled while it waits.
    @inlinable
    public func acquire() async throws {
        let id = state.withLock { state -> UInt64? in
            guard state.value > 0 else {
                state.lastID &+= 1
                return state.lastID
            }
            state.value -= 1
            return nil
        }
        guard let id else { return }
        let took = await _unsafeInheritExecutor_withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<Bool, Never>) in
                // The handler runs after the task is marked cancelled: checked under the lock,
                // a cancellation either stops the queueing or finds the waiter queued.
                let ready = state.withLock { state -> Bool? in
                    if state.value > 0 {
                        state.value -= 1
                        return true
                    }
                    if withUnsafeCurrentTask(body: { $0?.isCancelled ?? false }) { return false }
                    state.waiters.append(Waiter(id: id, continuation: continuation))
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> Waiter? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index)
            }
            waiter?.continuation.resume(returning: false)
        }
        if !took { throw CancellationError() }
    }

    @inlinable
    public func release() {
        let waiter = state.withLock { state -> Waiter? in
            if !state.waiters.isEmpty { return state.waiters.removeFirst() }
            state.value += 1
            return nil
        }
        waiter?.continuation.resume(returning: true)
    }
}
