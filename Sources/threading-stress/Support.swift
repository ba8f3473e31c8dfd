// Small helpers of the checker: the monotonic clock, sleeping, busy work and line output.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

#if canImport(Glibc)
private let systemWrite = Glibc.write
#elseif canImport(Musl)
private let systemWrite = Musl.write
#elseif canImport(Darwin)
private let systemWrite = Darwin.write
#endif

/// The monotonic clock (`CLOCK_MONOTONIC`), the one every timed call of the library waits on.
enum Monotonic {
    /// Now, in nanoseconds.
    static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// Seconds elapsed since `start` (a value of `now()`).
    static func seconds(since start: Int64) -> Double {
        Double(now() - start) / 1e9
    }

    /// Sleeps for `seconds` (at least), resuming after signals.
    static func sleep(_ seconds: Double) {
        guard seconds > 0 else { return }
        let whole = seconds.rounded(.down)
        var request = timespec(tv_sec: Int(whole), tv_nsec: Int((seconds - whole) * 1e9))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}

/// Burns a little CPU (`iterations` rounds of arithmetic) so that critical sections have a length.
@inline(never)
func busyWork(_ iterations: Int) -> UInt64 {
    var x: UInt64 = 0x2545_F491_4F6C_DD1D
    var i = 0
    while i < iterations {
        x = (x ^ UInt64(i)) &* 0x9E37_79B9_7F4A_7C15
        i += 1
    }
    return x
}

/// Gives the CPU to another thread.
func yieldCPU() {
    sched_yield()
}

/// Whole lines to standard output or standard error, never interleaved, written with `write(2)`
/// so that a report made just before `_exit` is not lost in a buffer.
enum Output {
    private static let lock = PthreadMutex<Void>(())

    /// Writes `line` and a newline to standard output.
    static func out(_ line: String) {
        write(line + "\n", to: 1)
    }

    /// Writes `line` and a newline to standard error.
    static func err(_ line: String) {
        write(line + "\n", to: 2)
    }

    /// Writes all of `text`, retrying after signals and partial writes.
    private static func write(_ text: String, to descriptor: Int32) {
        lock.withLock { _ in
            var bytes = Array(text.utf8)
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeMutableBytes { buffer in
                    systemWrite(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                }
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
            bytes.removeAll()
        }
    }
}

/// A fixed-width column: `text` padded with spaces on the left (numbers) or right (names).
func column(_ text: String, _ width: Int, left: Bool = false) -> String {
    let padding = String(repeating: " ", count: max(0, width - text.count))
    return left ? text + padding : padding + text
}

/// `value` with `digits` decimals.
func decimal(_ value: Double, _ digits: Int) -> String {
    guard value.isFinite else { return "\(value)" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = (value * scale).rounded()
    let negative = scaled < 0
    let magnitude = Int(abs(scaled))
    let integral = magnitude / Int(scale)
    var text = (negative ? "-" : "") + String(integral)
    if digits > 0 {
        let fraction = String(magnitude % Int(scale))
        text += "." + String(repeating: "0", count: digits - fraction.count) + fraction
    }
    return text
}

/// Mutable state that the checker protects with a primitive under test (or publishes through one).
///
/// Whatever guards it is the library's job, so a data race here is a finding: ThreadSanitizer
/// reports it, and the invariants built on it fail.
final class GuardedBox<Value>: @unchecked Sendable {
    // @unchecked Sendable: every access holds the lock under test named where the box is declared.
    var value: Value

    /// Creates a box holding `value`.
    init(_ value: Value) {
        self.value = value
    }
}

/// State behind a pthread mutex: the checker's own lock, independent of the library under test.
///
/// Not `Synchronization.Mutex`: its lock operations live in an uninstrumented library, so
/// ThreadSanitizer cannot see the ordering it provides and reports races that are not there.
/// ThreadSanitizer intercepts `pthread_mutex_lock`.
final class PthreadMutex<State: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: `state` is read and written only inside `withLock`, holding `mutex`.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var state: State

    /// Creates a mutex guarding `state`.
    init(_ state: State) {
        self.state = state
        mutex = .allocate(capacity: 1)
        let rc = pthread_mutex_init(mutex, nil)
        precondition(rc == 0, "pthread_mutex_init failed with error \(rc)")
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` on the state, holding the mutex.
    func withLock<Result>(_ body: (inout State) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&state)
    }
}
