// The floor of the task rows, shared by threading-benchmarks and threading-instructions.

import Synchronization

/// The floor: the least a FIFO semaphore for tasks can be, a `Mutex` around a count and a list of
/// continuations (no cancellation, no timeout, no threads). Inlinable, so that it is compiled
/// into each caller as if it were written there.
public final class FloorSemaphore: Sendable {
    @usableFromInline
    struct State {
        @usableFromInline var value: Int
        @usableFromInline var waiters: [UnsafeContinuation<Void, Never>] = []

        @usableFromInline init(value: Int) { self.value = value }
    }
    @usableFromInline let state: Mutex<State>

    @inlinable
    public init(_ value: Int) {
        state = Mutex(State(value: value))
        state.withLock { $0.waiters.reserveCapacity(4) }
    }

    @inlinable
    public func acquire() async {
        let took = state.withLock { state -> Bool in
            guard state.value > 0 else { return false }
            state.value -= 1
            return true
        }
        if took { return }
        await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
            let ready = state.withLock { state -> Bool in
                if state.value > 0 {
                    state.value -= 1
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }

    @inlinable
    public func release() {
        let waiter = state.withLock { state -> UnsafeContinuation<Void, Never>? in
            if !state.waiters.isEmpty { return state.waiters.removeFirst() }
            state.value += 1
            return nil
        }
        waiter?.resume()
    }
}
