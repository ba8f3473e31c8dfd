// The examples of the `///` comments in Sources/Threading.

import Threading

func apiDocExamples() throws {
    try lockDocExample()
    threadLocalDocExample()
    localDocExample()
    try threadDocExample()
    try timerDocExample()
    try conditionDocExample()
    try lockedValueDocExample()
    try lockedValueWhenDocExample()
    try queueDocExample()
    try simpleQueueDocExample()
    try futureDocExample()
}

func lockDocExample() throws {
    // snippet: doc-lock
    let lock = Lock()
    try lock.acquire()
    defer { try? lock.release() }
    // snippet: hide
    precondition(lock.isLocked)
    // snippet: end
}

func threadLocalDocExample() {
    // snippet: doc-thread-local
    let requestCount = ThreadLocal { 0 }
    requestCount.value += 1  // this thread's count only
    // snippet: end
}

func localDocExample() {
    // snippet: doc-local
    let mydata = Local()
    mydata.number = 42
    // In another thread, `mydata.number` is nil until that thread sets it.
    // snippet: end
}

func threadDocExample() throws {
    // snippet: doc-thread
    let worker = Thread(target: { print("working") }, name: "worker")
    try worker.start()
    try worker.join()
    // snippet: end
}

func timerDocExample() throws {
    // snippet: doc-timer
    let timer = Timer(interval: 30) { print("hello, world") }
    try timer.start()  // after 30 seconds, "hello, world" is printed
    timer.cancel()  // ... unless it is cancelled before
    // snippet: end
    try timer.join()
}

func conditionDocExample() throws {
    // snippet: doc-condition
    final class Mailbox: @unchecked Sendable {  // @unchecked: `items` is only touched holding `cv`
        let cv = Condition()
        var items: [Int] = []
    }
    let mailbox = Mailbox()

    let producer = Thread {
        try mailbox.cv.withLock {
            mailbox.items.append(42)
            try mailbox.cv.notify()  // wakes the consumer below
        }
    }
    try producer.start()
    let item = try mailbox.cv.withLock {
        try mailbox.cv.waitFor { !mailbox.items.isEmpty }
        return mailbox.items.removeFirst()
    }
    try producer.join()
    // snippet: hide
    precondition(item == 42)
    // snippet: end
}

func lockedValueDocExample() throws {
    // snippet: doc-locked-value
    let inbox = LockedValue<[String]>([])

    let consumer = Thread {
        // Waits until a message is there, then takes it.
        let message = try inbox.withLock(when: { !$0.isEmpty }) { $0.removeFirst() }
        print("got", message ?? "nothing")
    }
    try consumer.start()
    inbox.withLock { $0.append("hello") }  // wakes the consumer: no notify
    try consumer.join()
    // snippet: end
}

func lockedValueWhenDocExample() throws {
    // snippet: doc-locked-value-when
    let stock = LockedValue(0)
    let producer = Thread { stock.withLock { $0 += 1 } }
    try producer.start()
    // Takes one as soon as there is one, or gives up after a second.
    let inStock = { (count: borrowing Int) in count > 0 }
    let taken = try stock.withLock(when: inStock, timeout: 1) { count -> Bool in
        count -= 1
        return true
    }
    print(taken == nil ? "timed out" : "took one")
    try producer.join()
    // snippet: end
}

func queueDocExample() throws {
    // snippet: doc-queue
    let jobs = Queue<Int>(maxsize: 64)
    let worker = Thread {
        while let job = try? jobs.get() {
            print(job)
            try? jobs.taskDone()
        }
    }
    try worker.start()
    for n in 0..<10 { try jobs.put(n) }
    jobs.join()  // every job was done
    jobs.shutdown()  // the worker's next get() throws .shutDown
    // snippet: hide
    try worker.join()
    // snippet: end
}

func simpleQueueDocExample() throws {
    // snippet: doc-simple-queue
    let results = SimpleQueue<Int>()
    results.put(42)
    let answer = try results.get()  // 42
    // snippet: hide
    precondition(answer == 42)
    // snippet: end
}
