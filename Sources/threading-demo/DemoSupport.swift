// A minimal joinable thread for the examples, on raw pthreads.

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#endif

import Threading

/// A joinable OS thread running a closure.
final class Worker: @unchecked Sendable {
    // @unchecked Sendable: `handle` is written once, by `init`, before the object is shared.
    private var handle = pthread_t()

    /// Starts a thread running `body`.
    init(_ body: @escaping @Sendable () -> Void) {
        let context = Unmanaged.passRetained(WorkerBody(body)).toOpaque()
        let rc = pthread_create(&handle, nil, workerEntry, context)
        precondition(rc == 0, "pthread_create failed with error \(rc)")
    }

    /// Waits for the thread to finish.
    func join() {
        let rc = pthread_join(handle, nil)
        precondition(rc == 0, "pthread_join failed with error \(rc)")
    }
}

private final class WorkerBody {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
}

// A nonisolated global function as the start routine: no actor-isolation check can trip on it.
private func workerEntry(_ context: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    Unmanaged<WorkerBody>.fromOpaque(context!).takeRetainedValue().run()
    return nil
}

/// Prints a line whole: lines from different threads never interleave.
func say(_ line: String) {
    printLock.withLock { print(line) }
}

private let printLock = Lock()

/// Sleeps for `seconds`.
func pause(_ seconds: Double) {
    var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
}
