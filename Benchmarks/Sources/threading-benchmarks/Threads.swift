// Thread workloads: start+join latency, thread-local reads.

import CBench
import Foundation
import Glibc
import Threading

/// µs per start+join of `n` threads doing nothing.
func startJoin(samples: Int, _ once: () -> Void) -> Double {
    let n = 500
    return medianOf(samples) {
        let start = now()
        for _ in 0..<n { once() }
        return (now() - start) / Double(n) * 1e6
    }
}

private func emptyEntry(_: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? { nil }

/// CPython 3.13's start+join, in µs, measured by a child `python3` (nil when it cannot run).
func cpythonStartJoin() -> Double? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", """
        import threading, time, statistics
        def once(n=500):
            t0 = time.perf_counter()
            for _ in range(n):
                t = threading.Thread(target=lambda: None); t.start(); t.join()
            return (time.perf_counter() - t0) / n * 1e6
        once(50)
        print(statistics.median(once() for _ in range(7)))
        """]
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
    static func run(_ options: Options) -> [Row] {
        var rows: [Row] = []
        let s = options.samples
        if options.wants("thread-start-join") {
            // Interleaved samples: thread creation cost drifts with the machine's state, so each
            // round measures all three one after the other.
            let kinds: [() -> Void] = [
                {
                    let thread = Threading.Thread(target: {}, daemon: true)
                    try! thread.start()
                    try! thread.join()
                },
                {
                    var handle = pthread_t()
                    pthread_create(&handle, nil, emptyEntry, nil)
                    pthread_join(handle, nil)
                },
                {
                    let done = DispatchSemaphore(value: 0)
                    let thread = Foundation.Thread { done.signal() }
                    thread.start()
                    done.wait()
                },
            ]
            var samplesByKind: [[Double]] = [[], [], []]
            for round in 0...(max(s, 7)) {
                for (i, kind) in kinds.enumerated() {
                    let value = startJoin(samples: 1, kind)
                    if round > 0 { samplesByKind[i].append(value) }
                }
            }
            let ours = median(samplesByKind[0])
            let raw = median(samplesByKind[1])
            let foundation = median(samplesByKind[2])
            var peers = [("pthread", raw), ("Foundation.Thread+semaphore", foundation)]
            if let python = cpythonStartJoin() { peers.append(("CPython-3.13", python)) }
            rows.append(Row("thread-start-join", unit: "µs", ours: ours, peers: peers, against: "pthread", target: 1.2))
        }
        if options.wants("thread-local-read") {
            let n = 50_000_000
            let local = ThreadLocal<Int> { 1 }
            _ = local.value
            pthread_setspecific(rawKey, UnsafeRawPointer(bitPattern: 1))
            let ours = medianOf(s) {
                var sum = 0
                let start = now()
                for _ in 0..<n { sum &+= readThreadLocal(local) }
                cbench_blackhole(UInt64(bitPattern: Int64(sum)))
                return (now() - start) / Double(n) * 1e9
            }
            let raw = medianOf(s) {
                var sum = 0
                let start = now()
                for _ in 0..<n { sum &+= readPthreadSpecific() }
                cbench_blackhole(UInt64(bitPattern: Int64(sum)))
                return (now() - start) / Double(n) * 1e9
            }
            rows.append(Row("thread-local-read (ThreadLocal.value vs pthread_getspecific)", unit: "ns", ours: ours,
                peers: [("pthread_getspecific", raw)], target: 2.0))
        }
        return rows
    }
}
