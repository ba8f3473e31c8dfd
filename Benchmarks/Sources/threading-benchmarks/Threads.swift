// Thread workloads: start+join latency, thread-local reads.

import CBench
import Foundation
import Glibc
import Threading

/// µs per start+join of a thread doing nothing (one sample: the mean of 200).
func startJoin(_ once: () -> Void) -> Double {
    let n = 200
    let start = now()
    for _ in 0..<n { once() }
    return (now() - start) / Double(n) * 1e6
}

private func emptyEntry(_: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? { nil }

/// CPython 3.13's start+join, in µs, measured by a child `python3` (nil when it cannot run).
func cpythonStartJoin() -> Double? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [
        "python3", "-c",
        """
        import threading, time, statistics
        def once(n=500):
            t0 = time.perf_counter()
            for _ in range(n):
                t = threading.Thread(target=lambda: None); t.start(); t.join()
            return (time.perf_counter() - t0) / n * 1e6
        once(50)
        print(statistics.median(once() for _ in range(7)))
        """,
    ]
    var environment = ProcessInfo.processInfo.environment
    environment["PYENV_VERSION"] = environment["PYENV_VERSION"] ?? "3.13.0"
    process.environment = environment
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return nil }
    process.waitUntilExit()
    let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    return process.terminationStatus == 0 ? Double(text.trimmingCharacters(in: .whitespacesAndNewlines)) : nil
}

private let rawKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
}()

@inline(never) func readThreadLocal(_ local: ThreadLocal<Int>) -> Int { local.value }
@inline(never) func readPthreadSpecific() -> Int { Int(bitPattern: pthread_getspecific(rawKey)) }

enum ThreadWorkloads {
    static func run(_ options: Options, _ report: Report) {
        let s = options.samples
        if options.wants("thread-start-join") {
            let m = compare(
                max(s, 7),
                [
                    {
                        startJoin {
                            let thread = Threading.Thread(target: {}, daemon: true)
                            try! thread.start()
                            try! thread.join()
                        }
                    },
                    {
                        startJoin {
                            var handle = pthread_t()
                            pthread_create(&handle, nil, emptyEntry, nil)
                            pthread_join(handle, nil)
                        }
                    },
                    {
                        startJoin {
                            let done = DispatchSemaphore(value: 0)
                            let thread = Foundation.Thread { done.signal() }
                            thread.start()
                            done.wait()
                        }
                    },
                ]
            )
            var peers = [("pthread_create+join", m[1]), ("Foundation.Thread+semaphore", m[2])]
            if let python = cpythonStartJoin() { peers.append(("CPython 3.13", python)) }
            report.add(
                Row(
                    "thread-start-join (extra): start+join an empty thread",
                    unit: "µs",
                    ours: m[0],
                    peers: peers,
                    against: "pthread_create+join",
                    target: .ratioAtMost(1.2)
                )
            )
        }
        if options.wants("thread-local-read") {
            let n = 20_000_000
            let local = ThreadLocal<Int> { 1 }
            _ = local.value
            pthread_setspecific(rawKey, UnsafeRawPointer(bitPattern: 1))
            let m = compare(
                s,
                [
                    {
                        var sum = 0
                        let start = now()
                        for _ in 0..<n { sum &+= readThreadLocal(local) }
                        cbench_blackhole(UInt64(bitPattern: Int64(sum)))
                        return (now() - start) / Double(n) * 1e9
                    },
                    {
                        var sum = 0
                        let start = now()
                        for _ in 0..<n { sum &+= readPthreadSpecific() }
                        cbench_blackhole(UInt64(bitPattern: Int64(sum)))
                        return (now() - start) / Double(n) * 1e9
                    },
                ]
            )
            report.add(
                Row(
                    "thread-local-read (extra): ThreadLocal<Int>.value",
                    unit: "ns",
                    ours: m[0],
                    peers: [("pthread_getspecific", m[1])],
                    target: .ratioAtMost(2.0)
                )
            )
        }
    }
}
