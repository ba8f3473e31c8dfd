// The scenarios of threading-async-child. Each runs in the async `main`, on the main actor, and
// writes what it observes to standard output, one fact a line.

import Dispatch
import Foundation
import Threading

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif

/// Every scenario by name.
let asyncScenarios: [String: @MainActor () async throws -> Void] = [
    "touch-before-await": touchBeforeAwait,
    "main-actor-threads": mainActorThreads,
    "thread-before-await": threadBeforeAwait,
    "main-join-released": mainJoinReleased,
    "foreign-threads": foreignThreads,
    "finalization-shutdown": finalizationShutdown,
]

/// Prints a line and flushes it at once (standard output is a file, so fully buffered).
func say(_ line: String) {
    print(line)
    fflush(nil)  // every output stream: `stdout` itself is not concurrency-safe beside Foundation
}

/// Sleeps the calling OS thread.
func sleep(seconds: Double) {
    usleep(UInt32(seconds * 1_000_000))
}

/// Lets the cooperative pool run: the first one ends the initial OS thread.
func yieldToPool() async throws {
    try await Task.sleep(nanoseconds: 20_000_000)
}

/// The crash of the issue: the module used before the first `await`, then again after it.
/// Expected: every line ends in "true".
@MainActor
func touchBeforeAwait() async throws {
    let main = mainThread()
    let worker = Threading.Thread(target: {}, name: "worker")
    try worker.start()
    try await worker.join()
    say("before: \(currentThread() === main)")
    try await yieldToPool()
    say("same main: \(mainThread() === main)")
    say("main alive: \(main.isAlive)")
    say("main in enumerate: \(enumerate().contains { $0 === main })")
    say("enumerate first: \(enumerate().first === main)")
    say("current is main: \(currentThread() === main)")
    let other = Threading.Thread(target: {}, name: "after")
    try other.start()
    try await other.join()
    say("joined after await: \(!other.isAlive)")
}

/// Threads created by the main actor after an `await` (now on a Dispatch thread) are non-daemon
/// by default, and the process waits for them. Expected:
/// "daemon: false\ncurrent is main: true\nend of main\nlate\n", at least 0.3 s.
@MainActor
func mainActorThreads() async throws {
    try await yieldToPool()
    let late = Threading.Thread(target: {
        sleep(seconds: 0.3)
        say("late")
    })
    say("daemon: \(late.daemon)")
    say("current is main: \(currentThread() === mainThread())")
    try late.start()
    say("end of main")
}

/// A non-daemon thread started before the first `await` is waited for at exit. Expected:
/// "end of main\nlate\n", at least 0.3 s.
@MainActor
func threadBeforeAwait() async throws {
    let late = Threading.Thread(target: {
        sleep(seconds: 0.3)
        say("late")
    })
    try late.start()
    try await yieldToPool()
    say("end of main")
}

/// A thread blocked in `mainThread().join()` is released when `main` returns. Expected:
/// "end of main\nmain joined: alive false\n".
@MainActor
func mainJoinReleased() async throws {
    let joiner = Threading.Thread(target: {
        try mainThread().join()
        say("main joined: alive \(mainThread().isAlive)")
    })
    try joiner.start()
    try await yieldToPool()
    say("end of main")
}

/// What a foreign thread of each kind sees: a dummy thread, daemonic, not the main thread, with
/// its own thread-local values; a thread it creates is a daemon; a raw pthread's dummy leaves
/// `enumerate()` when it ends. Expected: every line ends in "true".
@MainActor
func foreignThreads() async throws {
    try await yieldToPool()
    @Sendable func facts() -> String {
        let me = currentThread()
        // A new one each time: Dispatch may run two of these on the same OS thread.
        let local = ThreadLocal<Int> { 0 }
        local.value += 1
        let fresh = Threading.Thread(target: {})
        return "\(me.name.hasPrefix("Dummy-") && me.daemon && me !== mainThread() && local.value == 1 && fresh.daemon)"
    }
    let rawFacts = LockedBox("")
    let rawName = LockedBox("")
    var handle = pthread_t()
    let box = Unmanaged.passRetained(
        RawBody {
            rawFacts.set(facts())
            rawName.set(currentThread().name)
        }
    ).toOpaque()
    precondition(pthread_create(&handle, nil, rawEntry, box) == 0)
    precondition(pthread_join(handle, nil) == 0)
    say("raw pthread: \(rawFacts.get())")
    say("raw dummy gone: \(!rawName.get().isEmpty && !enumerate().contains { $0.name == rawName.get() })")

    let dispatched = LockedBox("")
    let group = DispatchGroup()
    DispatchQueue.global().async(group: group) { dispatched.set(facts()) }
    group.wait()
    say("dispatch: \(dispatched.get())")

    say("detached task: \(await Task.detached { facts() }.value)")

    let foundation = LockedBox("")
    let done = DispatchSemaphore(value: 0)
    let thread = Foundation.Thread {
        foundation.set(facts())
        done.signal()
    }
    thread.start()
    done.wait()
    say("foundation thread: \(foundation.get())")
    say("main actor: \(currentThread() === mainThread() && !Threading.Thread(target: {}).daemon)")
}

/// test_finalization_shutdown in an async main: the exit-time shutdown waits until the thread's
/// thread-local values are released. Expected: "end of main\ndeinit done\n".
@MainActor
func finalizationShutdown() async throws {
    try await yieldToPool()
    try Threading.Thread(target: {
        sleep(seconds: 0.1)
        asyncFinalizationLocal.x = Sleeper()
    }).start()
    say("end of main")
}

/// A value whose `deinit` takes a while and then says so.
final class Sleeper: Sendable {
    deinit {
        sleep(seconds: 0.3)
        say("deinit done")
    }
}

/// The global `Local` of the finalization scenario.
let asyncFinalizationLocal = Local()

/// A string shared between threads, for the scenarios' reports.
final class LockedBox: Sendable {
    private let value: LockedValueStandIn

    init(_ initial: String) { value = LockedValueStandIn(initial) }
    func set(_ new: String) { value.set(new) }
    func get() -> String { value.get() }
}

/// A `Mutex`-like box on the module's `Lock`.
final class LockedValueStandIn: @unchecked Sendable {
    // @unchecked Sendable: `value` is read and written only while `lock` is held.
    private let lock = Threading.Lock()
    private var value: String

    init(_ value: String) { self.value = value }
    func set(_ new: String) { lock.withLock { value = new } }
    func get() -> String { lock.withLock { value } }
}

final class RawBody {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}

private func rawEntry(_ context: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    Unmanaged<RawBody>.fromOpaque(context!).takeRetainedValue().body()
    return nil
}
