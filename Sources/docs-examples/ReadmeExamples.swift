// The README's examples after the first (which is in ThreadExample.swift).

import Threading

func threadLocalExample() throws {
    // snippet: readme-thread-local
    let counter = ThreadLocal<Int> { 0 }  // each thread starts at 0
    counter.value += 1  // this thread's value only; no lock taken

    let local = Local()  // Python's threading.local()
    local.user = "ada"  // visible to this thread only
    // snippet: end
    let other = Thread {
        precondition(counter.value == 0 && local.user == nil)
    }
    try other.start()
    try other.join()
}

func lockExample() throws {
    // snippet: readme-lock
    let lock = Lock()
    lock.withLock {
        // critical section
    }
    if try lock.acquire(timeout: 0.5) {  // a timed acquire, on the monotonic clock
        defer { try? lock.release() }
        print("got the lock")
    }
    // snippet: end
}

func sharedStateExample() throws {
    // snippet: readme-locked-value
    let inbox = LockedValue<[Int]>([])  // the lock owns the value: no other way to it

    let consumer = Thread {
        for _ in 1...3 {
            // Waits until the condition holds: no Condition, no notify.
            let item = try inbox.withLock(when: { !$0.isEmpty }) { $0.removeFirst() }
            print("consumed", item ?? -1)  // nil only when a timeout passes
        }
    }
    try consumer.start()
    for n in 1...3 {
        inbox.withLock { $0.append(n) }  // the waiting consumer's condition is checked as this ends
    }
    try consumer.join()
    // snippet: end
}

func sharedStateWithConditionExample() throws {
    // snippet: readme-condition
    final class Inbox: @unchecked Sendable {  // @unchecked: `items` is only touched holding `cv`
        let cv = Condition()
        var items: [Int] = []
    }
    let inbox = Inbox()

    let consumer = Thread {
        for _ in 1...3 {
            // with cv: cv.wait_for(lambda: items); item = items.pop(0)
            let item = try inbox.cv.withLock {
                try inbox.cv.waitFor { !inbox.items.isEmpty }
                return inbox.items.removeFirst()
            }
            print("consumed", item)
        }
    }
    try consumer.start()
    for n in 1...3 {
        // with cv: items.append(n); cv.notify()
        try inbox.cv.withLock {
            inbox.items.append(n)
            try inbox.cv.notify()
        }
    }
    try consumer.join()
    // snippet: end
}

func poolExample() throws {
    // snippet: readme-pool
    let pool = try BoundedSemaphore(5)  // at most five connections at a time
    let clients = (1...8).map { n in
        Thread {
            pool.withLock {
                print("client \(n) uses a connection")
            }
        }
    }
    for client in clients { try client.start() }
    for client in clients { try client.join() }
    do {
        try pool.release()  // one too many
    } catch let error as ThreadingError {
        print(error.message)  // Semaphore released too many times
    }
    // snippet: end
}

func rendezvousExample() throws {
    // snippet: readme-rendezvous
    let go = Event()
    let barrier = try Barrier(2, timeout: 5)
    let runner = Thread {
        try go.wait()  // until the start signal
        let index = try barrier.wait()  // 0 for the first to arrive, 1 for the last
        print("runner arrived", index)
    }
    try runner.start()
    go.set()
    try barrier.wait()
    try runner.join()
    // snippet: end
}

func queueWorkerPoolExample() throws {
    // snippet: readme-queue-pool
    let jobs = Queue<Int>(maxsize: 8)  // put() waits while 8 jobs are queued
    let workers = (0..<3).map { _ in
        Thread {
            while let job = try? jobs.get() {  // throws .shutDown once shut down and empty
                print(job * job)
                try? jobs.taskDone()
            }
        }
    }
    for worker in workers { try worker.start() }
    for job in 1...10 { try jobs.put(job) }
    jobs.join()  // every job had its taskDone()
    jobs.shutdown()  // the workers' get() throws: they end
    for worker in workers { try worker.join() }
    // snippet: hide
    precondition(jobs.unfinishedTasks == 0 && jobs.isShutdown)
    // snippet: end
}
