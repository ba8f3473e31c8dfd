// The platform layer: every call into the C library or the kernel that the rest of the module makes
// goes through `Platform`. The waiting backend behind `futexWait`/`futexWake` is chosen in the C
// shim (Sources/CThreading/wait.c): the futex on Linux, `os_sync_wait_on_address` on Darwin 14.4+,
// a pthread mutex and condition variable per waiter elsewhere, or everywhere when built with
// `THREADING_PORTABLE_WAIT` (`-Xcc -DTHREADING_PORTABLE_WAIT -Xswiftc -DTHREADING_PORTABLE_WAIT`).
// The parking lot and the lock never know which one runs.

import CThreading
import Synchronization

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#elseif canImport(Darwin)
@preconcurrency import Darwin
#else
#error("swift-threading supports Linux (Glibc, Musl) and Darwin.")
#endif

/// Thin, checked wrappers over the OS: a monotonic clock, futex wait and wake, thread identity.
@usableFromInline
enum Platform {
    /// The result of one futex wait.
    @usableFromInline
    enum WaitResult {
        /// Woken, or the word no longer held the expected value, or a signal arrived: look again.
        case retry
        /// The absolute deadline has passed.
        case timedOut
    }

    /// Nanoseconds on the monotonic clock (`CLOCK_MONOTONIC`), which wall-clock changes never move.
    @usableFromInline
    static func monotonicNow() -> Int64 {
        var ts = timespec()
        let rc = clock_gettime(CLOCK_MONOTONIC, &ts)
        precondition(rc == 0, "clock_gettime(CLOCK_MONOTONIC) failed with error \(errno)")
        return Int64(ts.tv_sec) &* 1_000_000_000 &+ Int64(ts.tv_nsec)
    }

    /// Sleeps while the 32-bit word at `word` holds `expected`, until woken or until `deadline`.
    ///
    /// Returns `.retry` after a wake-up, a value mismatch or a signal (`EINTR`): the caller
    /// re-examines its state and calls again with the same absolute deadline, so an interrupted
    /// wait never ends early. Any other error is a bug in the caller and traps.
    @usableFromInline
    static func futexWait(_ word: UnsafePointer<Atomic<UInt32>>, expected: UInt32, deadline: Deadline) -> WaitResult {
        let address = UnsafeMutableRawPointer(mutating: word).assumingMemoryBound(to: UInt32.self)
        let rc: Int32
        if let ns = deadline.nanoseconds {
            var ts = timespec(tv_sec: Int(ns / 1_000_000_000), tv_nsec: Int(ns % 1_000_000_000))
            rc = cthreading_futex_wait(address, expected, &ts)
        } else {
            rc = cthreading_futex_wait(address, expected, nil)
        }
        switch rc {
        case 0, EAGAIN, EINTR:
            return .retry
        case ETIMEDOUT:
            return .timedOut
        default:
            preconditionFailure("wait on address (\(waitBackend)) failed with error \(rc)")
        }
    }

    /// Wakes at most `count` threads sleeping on `word`; returns how many were woken.
    @usableFromInline
    @discardableResult
    static func futexWake(_ word: UnsafePointer<Atomic<UInt32>>, count: Int32) -> Int {
        let address = UnsafeMutableRawPointer(mutating: word).assumingMemoryBound(to: UInt32.self)
        let rc = cthreading_futex_wake(address, count)
        precondition(rc >= 0, "wake by address (\(waitBackend)) failed with error \(-rc)")
        return Int(rc)
    }

    /// Moves at most one thread sleeping on `word` to sleep on `target` instead, without waking
    /// it, provided `word` still holds `expected`; returns whether a thread was moved.
    @usableFromInline
    static func futexRequeue(
        _ word: UnsafePointer<Atomic<UInt32>>,
        expected: UInt32,
        to target: UnsafePointer<Atomic<UInt32>>
    ) -> Bool {
        let from = UnsafeMutableRawPointer(mutating: word).assumingMemoryBound(to: UInt32.self)
        let to = UnsafeMutableRawPointer(mutating: target).assumingMemoryBound(to: UInt32.self)
        let rc = cthreading_futex_requeue(from, expected, to, 1)
        precondition(rc >= 0 || rc == -EAGAIN, "requeue (\(waitBackend)) failed with error \(-rc)")
        return rc > 0
    }

    /// The calling thread's identity, as Python's `get_ident()`: its `pthread_t` (an integer on
    /// Linux, a pointer on Darwin) as an integer, never zero.
    @inlinable
    static func currentIdent() -> UInt {
        UInt(cthreading_current_ident())
    }

    /// The waiting backend compiled in: `"futex"`, `"os_sync_wait_on_address"` or `"posix"`.
    static var waitBackend: String {
        String(cString: cthreading_wait_backend())
    }

    /// The kernel's id of the calling thread (on Linux read from the C library's thread descriptor
    /// instead of a `gettid` system call; `pthread_threadid_np` on Darwin).
    @usableFromInline
    static func currentNativeID() -> UInt {
        UInt(cthreading_gettid())
    }

    /// Whether the calling thread runs work of the main queue, which is the main actor's executor
    /// (on Dispatch's threads once an `async` main has ended the initial thread).
    static func isOnMainQueue() -> Bool {
        cthreading_on_main_queue() != 0
    }

    /// The number of CPUs this process may run on.
    static let cpuCount = Int(cthreading_cpu_count())

    /// A hint to the CPU inside a short spin loop.
    @inlinable
    static func spinHint() {
        cthreading_spin_hint()
    }

    /// Gives the CPU to another runnable thread, if any (`sched_yield`).
    static func yieldProcessor() {
        _ = sched_yield()
    }
}
