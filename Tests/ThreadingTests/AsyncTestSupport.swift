// Helpers of the async twins' tests: waiting (without blocking a cooperative thread) until some
// number of threads and tasks wait on an object, and the parking-lot key of an object.

import Testing

@testable import Threading

/// The parking-lot key of `object`: its address.
func parkingKey(_ object: AnyObject) -> UnsafeRawPointer {
    UnsafeRawPointer(Unmanaged.passUnretained(object).toOpaque())
}

/// How many threads and tasks wait on `object` in the parking lot.
func waiterCount(_ object: AnyObject) -> Int {
    ParkingLot.waiterCount(on: parkingKey(object))
}

/// Polls `condition` every millisecond, suspending in between, for at most `timeout` seconds
/// (loose: in a parallel run, blocking tests may hold the cooperative pool's threads a while).
/// Returns whether it became true.
@discardableResult
func eventually(timeout: Double = safetyTimeout, _ condition: () -> Bool) async -> Bool {
    let end = monotonicSeconds() + timeout
    while !condition() {
        if monotonicSeconds() > end { return false }
        try? await Task.sleep(nanoseconds: 1_000_000)
    }
    return true
}

/// Polls `condition` every millisecond from a thread, for at most `timeout` seconds.
@discardableResult
func eventuallyBlocking(timeout: Double = safetyTimeout, _ condition: () -> Bool) -> Bool {
    let end = monotonicSeconds() + timeout
    while !condition() {
        if monotonicSeconds() > end { return false }
        sleep(seconds: 0.001)
    }
    return true
}

/// Whether `error` is Swift's `CancellationError`.
func isCancellation(_ error: any Error) -> Bool {
    error is CancellationError
}
