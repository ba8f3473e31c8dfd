// Shared helpers of the examples.

import Threading

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif

/// Starts a `Thread` running `body` and returns it, for the examples that need many.
func spawn(name: String? = nil, _ body: @escaping @Sendable () throws -> Void) -> Threading.Thread {
    let thread = Threading.Thread(target: body, name: name)
    try! thread.start()
    return thread
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
