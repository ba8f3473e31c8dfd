import Synchronization
import Threading

/// The documentation's `Thread` and `Timer` examples, and a pool of worker threads.
enum ThreadExamples {
    /// A subclass that overrides `run()`, as Python code often does.
    final class Countdown: Threading.Thread, @unchecked Sendable {
        // @unchecked Sendable: `from` is immutable.
        let from: Int

        init(from: Int) {
            self.from = from
            super.init(name: "countdown", daemon: false)
        }

        override func run() throws {
            let steps = stride(from: from, through: 1, by: -1).map(String.init).joined(separator: " ")
            say("\(name): \(steps), liftoff")
        }
    }

    struct Oops: Error, CustomStringConvertible {
        var description: String { "something went wrong" }
    }

    static func run() throws {
        say("-- threads")
        say("running on \(currentThread()), main thread is \(mainThread().name)")

        // Thread(target=..., args=...) with a name.
        let greeter = Threading.Thread(
            target: { (greeting: String, times: Int) in
                for _ in 0..<times { say("\(currentThread().name): \(greeting)") }
            },
            args: ("hello", 2),
            name: "greeter",
            daemon: false
        )
        say("before start: \(greeter)")
        try greeter.start()
        say("after start: ident set: \(greeter.ident != nil), native id set: \(greeter.nativeID != nil)")
        try greeter.join()
        say("after join: alive \(greeter.isAlive), in enumerate() \(enumerate().contains { $0 === greeter })")

        // A subclass overriding run().
        let countdown = Countdown(from: 3)
        try countdown.start()
        try countdown.join()

        // An error thrown by run() goes to excepthook, and the process carries on.
        let caught = Mutex<[String]>([])
        excepthook = { args in
            caught.withLock { $0.append("\(args.thread?.name ?? "?"): \(args.excValue.map { "\($0)" } ?? "")") }
        }
        let failing = Threading.Thread(target: { throw Oops() }, name: "failing")
        try failing.start()
        try failing.join()
        excepthook = defaultExcepthook
        say("excepthook saw: \(caught.withLock { $0 })")

        // Timer: call a function after a delay, unless cancelled.
        say("-- timers")
        let timer = Threading.Timer(interval: 0.1) { say("timer: hello, world (0.1 s later)") }
        try timer.start()
        let cancelled = Threading.Timer(interval: 0.1) { say("never printed") }
        try cancelled.start()
        cancelled.cancel()
        try timer.join()
        try cancelled.join()
        say("the cancelled timer did not fire")

        try threadLocalData()
        try workerPool()
    }

    /// Python's `threading.local`: every thread sees its own attributes.
    static func threadLocalData() throws {
        say("-- thread-local data")
        let mydata = Local()
        mydata.number = 42
        let perThread = ThreadLocal<Int> { 0 }
        let other = spawn(name: "other") {
            say("other thread: number is \(mydata.number.map { "\($0)" } ?? "nil") before it sets its own")
            mydata.number = 7
            for _ in 0..<3 { perThread.value += 1 }
            say("other thread: number \(mydata.number!), counter \(perThread.value)")
        }
        try other.join()
        say("main thread: number \(mydata.number!), counter \(perThread.value)")
    }

    /// Four workers take jobs from a shared queue until it is empty.
    static func workerPool() throws {
        say("-- a worker pool")
        /// The jobs left and who did how many, in one value behind one lock.
        struct Jobs {
            var queue = Array(1...20)
            var done: [String: Int] = [:]
        }
        let jobs = LockedValue(Jobs())
        let workers = (1...4).map { n in
            spawn(name: "pool-\(n)") {
                while let job = jobs.withLock({ $0.queue.popLast() }) {
                    pause(0.001 * Double(job % 3))
                    let name = currentThread().name
                    jobs.withLock { $0.done[name, default: 0] += 1 }
                }
            }
        }
        for worker in workers { try worker.join() }
        let total = jobs.withLock { $0.done.values.reduce(0, +) }
        say("4 workers did \(total) jobs; every worker took part: \(jobs.withLock { $0.done.count == 4 })")
    }
}
