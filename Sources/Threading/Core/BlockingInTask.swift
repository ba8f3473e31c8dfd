import CThreading

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#endif

/// In debug builds, the report of a blocking wait made from inside a Swift `Task`: it blocks a
/// thread of the cooperative pool, which may be the one the waker needs. Reported once per call
/// site on stderr, with the calling frames; the `async` twin (`try await`) is the fix. A release
/// build does nothing here.
///
/// The check is `withUnsafeCurrentTask`: non-nil in synchronous code running in a task, `nil` on
/// a plain thread. It cannot tell a cooperative thread from a task executor of one's own.
enum BlockingInTask {
    #if DEBUG
    /// The call sites already reported.
    static let reported = Protected<Set<[UInt]>>([])
    #endif

    /// Reports `operation` (such as `"Semaphore.acquire"`) if it is about to block inside a task;
    /// `hasTwin` says whether it has an `async` twin to suggest.
    @inline(__always)
    static func check(_ operation: StaticString, hasTwin: Bool = true) {
        #if DEBUG
        if withUnsafeCurrentTask(body: { $0 != nil }) { report(operation, hasTwin: hasTwin) }
        #endif
    }

    #if DEBUG
    @inline(never)
    private static func report(_ operation: StaticString, hasTwin: Bool) {
        // Frames: 0 this function, 1 `check`'s caller inside the library (when not inlined),
        // then the callers; a few of them identify the call site.
        let depth: Int32 = 8
        var frames = [UnsafeMutableRawPointer?](repeating: nil, count: Int(depth))
        let count = Int(cthreading_backtrace(&frames, depth))
        let site = frames[min(1, count)..<count].map { UInt(bitPattern: $0) }
        guard reported.withLock({ $0.insert(site).inserted }) else { return }
        let advice = hasTwin ? "use its async twin, `try await`" : "call it from a Thread instead"
        let message = """
            swift-threading: \(operation) blocks a thread inside a Swift Task (a thread of the \
            cooperative pool, which the waker may need); \(advice). Reported once per call site \
            (debug builds only); the calling frames:

            """
        _ = message.withCString { fputs($0, stderr) }
        frames.withUnsafeBufferPointer { buffer in
            cthreading_backtrace_symbols_fd(buffer.baseAddress, Int32(count), STDERR_FILENO)
        }
    }
    #endif
}
