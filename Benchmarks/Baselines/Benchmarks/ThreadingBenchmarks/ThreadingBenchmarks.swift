// The hot, uncontended operations of every type, 1000 per measured iteration, with wall-clock
// time and malloc counts. Names have no spaces: package-benchmark 1.38.1 stores a threshold file
// under the name with `_` for each space but looks for it under the name as written, so a name
// with a space would go unchecked (Scripts/check bench fails on a benchmark without its file). Only the loop is measured: objects are made before it and released
// after it. Thresholds (Thresholds/) allow no malloc at all in any of them and
// some slack on time, since the CI machines are shared.

import Benchmark
import Threading

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal],
        timeUnits: .nanoseconds,
        warmupIterations: 10,
        scalingFactor: .kilo,
        maxDuration: .seconds(1),
        maxIterations: 10_000,
        thresholds: [
            // 0 mallocs per operation, whatever the percentile.
            .mallocCountTotal: .init(absolute: [.p0: 0, .p25: 0, .p50: 0, .p75: 0, .p90: 0, .p99: 0, .p100: 0]),
            // Time: a regression is more than 50 % over the stored median (the machine is noisy).
            .wallClock: .init(relative: [.p50: 50.0]),
        ]
    )

    Benchmark("Lock_acquire+release") { benchmark in
        let lock = Lock()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            _ = try lock.acquire()
            try lock.release()
        }
        benchmark.stopMeasurement()  // what follows (deinitializers) is not measured
    }

    Benchmark("Lock_withLock") { benchmark in
        let lock = Lock()
        var count = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            try lock.withLock { count &+= 1 }
        }
        benchmark.stopMeasurement()  // what follows (deinitializers) is not measured
        blackHole(count)
    }

    Benchmark("RLock_acquire_3_deep_+_release_3") { benchmark in
        let lock = RLock()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            _ = try lock.acquire()
            _ = try lock.acquire()
            _ = try lock.acquire()
            try lock.release()
            try lock.release()
            try lock.release()
        }
        benchmark.stopMeasurement()  // what follows (deinitializers) is not measured
    }

    Benchmark("Semaphore_acquire+release") { benchmark in
        let semaphore = try Threading.Semaphore(1)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            _ = try semaphore.acquire()
            try semaphore.release()
        }
        benchmark.stopMeasurement()  // what follows (deinitializers) is not measured
    }

    Benchmark("BoundedSemaphore_acquire+release") { benchmark in
        let semaphore = try BoundedSemaphore(1)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            _ = try semaphore.acquire()
            try semaphore.release()
        }
        benchmark.stopMeasurement()  // what follows (deinitializers) is not measured
    }

    Benchmark("Event_set+wait+clear") { benchmark in
        let event = Event()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            event.set()
            blackHole(try event.wait())
            event.clear()
        }
        benchmark.stopMeasurement()  // what follows (deinitializers) is not measured
    }

    Benchmark("Condition_notify_without_waiters") { benchmark in
        let condition = Condition()
        _ = try condition.acquire()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            try condition.notify()
        }
        benchmark.stopMeasurement()
        try condition.release()
    }

    Benchmark("ThreadLocal<Int>_read") { benchmark in
        let local = ThreadLocal<Int> { 7 }
        blackHole(local.value)  // the slot exists before the measurement
        var sum = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            sum &+= local.value
        }
        benchmark.stopMeasurement()  // what follows (deinitializers) is not measured
        blackHole(sum)
    }

    Benchmark("currentThread()") { benchmark in
        blackHole(currentThread())
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(currentThread())
        }
        benchmark.stopMeasurement()  // what follows (deinitializers) is not measured
    }

    Benchmark("SimpleQueue_put+get") { benchmark in
        let queue = SimpleQueue<Int>()
        queue.put(0)  // storage exists before the measurement
        _ = try queue.get()
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            queue.put(i)
            blackHole(try queue.get())
        }
        benchmark.stopMeasurement()  // what follows (deinitializers) is not measured
    }

    Benchmark("Queue_bounded_put+get") { benchmark in
        let queue = Threading.Queue<Int>(maxsize: 64)
        try queue.put(0)  // storage exists before the measurement
        _ = try queue.get()
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            try queue.put(i)
            blackHole(try queue.get())
        }
        benchmark.stopMeasurement()  // what follows (deinitializers) is not measured
    }

    Benchmark("Future_result_of_a_finished_future") { benchmark in
        let future = Future<Int>()
        try future.setResult(42)
        var sum = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            sum &+= try future.result()
        }
        benchmark.stopMeasurement()  // what follows (deinitializers) is not measured
        blackHole(sum)
    }
}
