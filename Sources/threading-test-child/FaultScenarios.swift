// Scenarios that need a process of their own: a thread limit imposed with RLIMIT_NPROC (it would
// stop every other test's threads too), and the resident size measured across 100k objects and
// 10k threads (other tests would move it).

import Synchronization
import Threading

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif

/// `pthread_create` refused because the user may not have more threads (`RLIMIT_NPROC`): `start()`
/// throws, the failed thread stays startable and out of the registry, the running threads carry
/// on, and once they end the same thread object starts. Root is exempt from the limit, so a root
/// process first becomes `nobody`. Expected:
/// "refused: true\nerror: runtimeError: can't start new thread\nin enumerate: false\nalive: false\n
/// ident: nil\ndescription: <Thread(refused, initial)>\ncounts consistent: true\nothers ran: true\n
/// retry started: true\nretry ran: true\nactive after: 1\n".
func nprocLimit() throws {
    if geteuid() == 0 {
        guard setgid(65534) == 0, setuid(65534) == 0 else {
            say("setup failed: cannot become nobody (errno \(errno))")
            exit(4)
        }
    }
    var limit = rlimit()
    let resource = __rlimit_resource_t(__RLIMIT_NPROC.rawValue)
    guard getrlimit(resource, &limit) == 0 else {
        say("setup failed: getrlimit (errno \(errno))")
        exit(4)
    }
    // Room for this process's threads and a few more: the user may own other processes, so the
    // number of threads that start is not fixed, only that starting stops somewhere below 64.
    limit.rlim_cur = rlim_t(threadCount() + 4)
    guard setrlimit(resource, &limit) == 0 else {
        say("setup failed: setrlimit (errno \(errno))")
        exit(4)
    }

    let release = Event()
    let ran = Counter()
    var started: [Threading.Thread] = []
    var refused: Threading.Thread? = nil
    var error: ThreadingError? = nil
    for i in 0..<64 {
        let thread = Threading.Thread(
            target: {
                try release.wait()
                ran.increment()
            },
            name: "refused"
        )
        do {
            try thread.start()
            thread.name = "w\(i)"
            started.append(thread)
        } catch let thrown as ThreadingError {
            refused = thread
            error = thrown
            break
        }
    }
    say("refused: \(refused != nil)")
    guard let refused, let error else { exit(5) }
    say("error: \(error.kind): \(error.message)")
    say("in enumerate: \(enumerate().contains { $0 === refused })")
    say("alive: \(refused.isAlive)")
    say("ident: \(refused.ident.map { "\($0)" } ?? "nil")")
    say("description: \(refused.description)")
    let listed = enumerate()
    say("counts consistent: \(activeCount() == started.count + 1 && listed.count == started.count + 1)")

    release.set()
    for thread in started { try thread.join() }
    say("others ran: \(ran.value == started.count && started.allSatisfy { !$0.isAlive })")

    // The joined threads leave the kernel's count a moment after `join` returns.
    var retried = false
    let giveUp = monotonic() + 5
    while !retried && monotonic() < giveUp {
        do {
            try refused.start()
            retried = true
        } catch {
            sleep(seconds: 0.01)
        }
    }
    say("retry started: \(retried)")
    if retried { try refused.join() }
    say("retry ran: \(ran.value == started.count + 1)")
    say("active after: \(activeCount())")
}

/// The resident size stays flat: after a warm-up, 100k Lock, RLock, Event, Condition, Semaphore
/// and Barrier objects made, used and released, and 10k threads (with thread-local values)
/// started and joined leave the resident size within 5% of where it started. Prints the sizes
/// and, last, "within 5%: true".
func memoryFlat() throws {
    let local = ThreadLocal<[Int]> { [] }
    func objects(_ count: Int) throws {
        for _ in 0..<(count / 1000) {
            var batch: [AnyObject] = []
            batch.reserveCapacity(6000)
            for _ in 0..<1000 {
                let lock = Lock()
                try lock.acquire()
                try lock.release()
                let rlock = RLock()
                try rlock.acquire()
                try rlock.acquire()
                try rlock.release()
                try rlock.release()
                let event = Event()
                event.set()
                _ = try event.wait()
                let condition = Condition(Lock())
                try condition.withLock { try condition.notifyAll() }
                let semaphore = try Threading.BoundedSemaphore(1)
                _ = try semaphore.acquire()
                try semaphore.release()
                let barrier = try Barrier(1)
                _ = try barrier.wait()
                batch += [lock, rlock, event, condition, semaphore, barrier]
            }
        }
    }
    func threads(_ count: Int) throws {
        // Four at a time, each leaving a thread-local value behind.
        for _ in 0..<(count / 4) {
            let group = (0..<4).map { i in
                Threading.Thread(target: { local.value = Array(repeating: i, count: 64) })
            }
            for thread in group { try thread.start() }
            for thread in group { try thread.join() }
        }
    }

    try objects(10_000)
    try threads(1_000)
    let before = residentBytes()
    try objects(100_000)
    let middle = residentBytes()
    try threads(10_000)
    let after = residentBytes()
    say("resident before: \(before / 1024) KiB")
    say("after 100k objects: \(middle / 1024) KiB")
    say("after 10k threads: \(after / 1024) KiB")
    let worst = max(middle, after)
    if ["__asan_init", "__tsan_init"].contains(where: { (name: String) in dlsym(nil, name) != nil }) {
        // AddressSanitizer keeps freed memory in quarantine, ThreadSanitizer keeps the history of
        // every thread: the resident size is theirs, and their own checks cover leaks.
        say("within 5%: not measured under a sanitizer")
    } else {
        say("within 5%: \(Double(worst) <= Double(before) * 1.05)")
    }
}

/// Resident bytes of this process, from the second field of `/proc/self/statm` (in pages).
private func residentBytes() -> Int {
    let fields = firstLine(of: "/proc/self/statm").split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return -1 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// The first line of the file at `path` that starts with `prefix`, without the prefix ("" if none).
private func firstLine(of path: String, startingWith prefix: String = "") -> String {
    guard let file = fopen(path, "r") else { return "" }
    defer { fclose(file) }
    var line = [CChar](repeating: 0, count: 512)
    while fgets(&line, Int32(line.count), file) != nil {
        let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if text.hasPrefix(prefix) {
            return String(text.dropFirst(prefix.count).filter { $0 != "\n" })
        }
    }
    return ""
}

/// The number of threads of this process, from the `Threads:` line of `/proc/self/status`.
private func threadCount() -> Int {
    Int(firstLine(of: "/proc/self/status", startingWith: "Threads:").filter { !$0.isWhitespace }) ?? 1
}

/// Seconds on the monotonic clock.
private func monotonic() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// An `excepthook` that misbehaves, replaced concurrently from many threads while threads fail:
/// hooks that replace the hook from inside a call, start a thread that fails in turn, try to join
/// their own thread, sleep, capture an object whose deinitializer replaces the hook, or pass the
/// error to the default hook. The process must not crash, and every failure must reach exactly
/// one hook. Expected: "failures: N\ndelivered once each: true\ndefault output lines: M\n", with M
/// lines "Exception in thread" on standard error.
func excepthookStorm() throws {
    let failures = Counter()
    let delivered = Counter()
    let toDefault = Counter()
    let nestedBudget = Counter()

    /// A thread whose target throws.
    @Sendable func startFailing() throws {
        let thread = Threading.Thread(target: { throw StormError() })
        try thread.start()
        failures.increment()
    }
    /// The misbehaving hooks; each counts its delivery first.
    let hooks: [@Sendable (Int) -> @Sendable (ExceptHookArgs) -> Void] = [
        { _ in { _ in delivered.increment() } },
        { i in
            { _ in
                delivered.increment()
                excepthook = { _ in delivered.increment() }  // replaced from inside a call
                _ = i
            }
        },
        { _ in
            { _ in
                delivered.increment()
                // A failing thread started from the hook: bounded, so the storm ends.
                if nestedBudget.incrementAndGet() <= 200 { try? startFailing() }
            }
        },
        { _ in
            { args in
                delivered.increment()
                do { try args.thread?.join() } catch {}  // "cannot join current thread"
                _ = excepthook  // reads the hook from inside a call
            }
        },
        { _ in
            { _ in
                delivered.increment()
                sleep(seconds: 0.001)
            }
        },
        { _ in
            let replacer = Replacer(delivered)
            return { _ in
                withExtendedLifetime(replacer) { delivered.increment() }
            }
        },
        { _ in
            { args in
                delivered.increment()
                toDefault.increment()
                defaultExcepthook(args)
            }
        },
    ]

    let stop = Event()
    let replacers = (0..<8).map { r in
        Threading.Thread(target: {
            var i = r
            while !stop.isSet {
                excepthook = hooks[i % hooks.count](i)
                i += 1
            }
        })
    }
    let failers = (0..<8).map { _ in
        Threading.Thread(target: {
            for _ in 0..<250 { try startFailing() }
        })
    }
    // A counting hook from the start: a thread may fail before any replacer has run.
    excepthook = hooks[0](0)
    for thread in replacers + failers { try thread.start() }
    for thread in failers { try thread.join() }
    // Wait for the failing threads (and the ones their hooks start) to finish.
    let giveUp = monotonic() + 30
    while activeCount() > 1 + replacers.count && monotonic() < giveUp { sleep(seconds: 0.01) }
    stop.set()
    for thread in replacers { try thread.join() }
    excepthook = defaultExcepthook
    while activeCount() > 1 && monotonic() < giveUp { sleep(seconds: 0.01) }

    say("failures: \(failures.value)")
    say("delivered once each: \(delivered.value == failures.value)")
    fflush(stderr)
    say("default output lines: \(toDefault.value)")
}

/// The error of the storm's failing threads.
struct StormError: Error, CustomStringConvertible {
    var description: String { "storm" }
}

/// An object that replaces the hook when it is released: captured by a hook, it is released when
/// that hook is replaced, from inside the setter.
final class Replacer: Sendable {
    let delivered: Counter
    init(_ delivered: Counter) { self.delivered = delivered }
    deinit { excepthook = { [delivered] _ in delivered.increment() } }
}
