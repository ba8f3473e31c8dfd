import CThreading
import Synchronization

/// The one timer of tasks' timed waits: a thread that sleeps until the earliest deadline in a
/// binary min-heap of wait nodes and takes expired tasks out of line.
///
/// A timed `await` costs one heap insertion and one removal, and no spawned task. The thread is
/// started at the first timed task wait, is not a `Thread` (it is not in `enumerate()`), and
/// sleeps on a futex word with an absolute deadline on the monotonic clock, as parked threads do,
/// with a timer slack of 1 ns instead of the kernel's 50 µs, which pays for the second wake-up
/// (the task's, on its executor): a task's 2 ms timeout overshoots less than `nanosleep`'s
/// (`Benchmarks/README.md`, task-timed-wait-overshoot). Lock order: a bucket lock, then the timer's
/// lock; the timer thread never holds its lock while it takes a bucket lock.
enum TaskTimer {
    /// The heap's lock.
    nonisolated(unsafe) private static let lockWord: UnsafeMutablePointer<Atomic<UInt32>> = {
        let word = UnsafeMutablePointer<Atomic<UInt32>>.allocate(capacity: 1)
        word.initialize(to: Atomic(RawLock.unlocked))
        return word
    }()
    /// Bumped whenever the earliest deadline moves earlier: the timer thread sleeps on it.
    nonisolated(unsafe) private static let wakeWord: UnsafeMutablePointer<Atomic<UInt32>> = {
        let word = UnsafeMutablePointer<Atomic<UInt32>>.allocate(capacity: 1)
        word.initialize(to: Atomic(0))
        return word
    }()
    /// The nodes of timed task waits, ordered by deadline. Changed only under `lockWord`.
    nonisolated(unsafe) private static var heap: [UnsafeMutablePointer<WaitNode>] = []

    /// Starts the timer thread once.
    private static let started: Bool = {
        var ident: UInt = 0
        let rc = cthreading_start_detached(timerThreadEntry, nil, 0, &ident)
        precondition(rc == 0, "swift-threading: cannot start the task timer thread (error \(rc))")
        OSThreadName.set("task-timer", on: ident)
        return true
    }()

    /// Adds a queued task's node (with its deadline set) to the heap; takes a reference to it.
    /// Called under the node's bucket lock.
    static func insert(_ node: UnsafeMutablePointer<WaitNode>) {
        _ = started
        node.pointee.references.wrappingAdd(1, ordering: .relaxed)
        RawLock.lock(UnsafePointer(lockWord))
        heap.append(node)
        node.pointee.heapIndex = heap.count - 1
        siftUp(heap.count - 1)
        let earliest = node.pointee.heapIndex == 0
        if earliest { wakeWord.pointee.wrappingAdd(1, ordering: .releasing) }
        RawLock.unlock(UnsafePointer(lockWord))
        if earliest { Platform.futexWake(UnsafePointer(wakeWord), count: 1) }
    }

    /// Takes a node out of the heap if it is still there (its task is done waiting), dropping the
    /// heap's reference to it.
    static func remove(_ node: UnsafeMutablePointer<WaitNode>) {
        RawLock.lock(UnsafePointer(lockWord))
        let index = node.pointee.heapIndex
        if index >= 0 { removeAt(index) }
        RawLock.unlock(UnsafePointer(lockWord))
        if index >= 0 { ParkingLot.release(node) }
    }

    /// The timer thread's loop: expire what is due, then sleep until the next deadline or until
    /// an earlier one is inserted.
    fileprivate static func run() -> Never {
        // A task's timed wait ends one wake-up later than a thread's: this thread's, then the
        // task's on its executor. The kernel's default slack of 50 µs on this thread's sleeps
        // would add to that; 1 ns asks for the deadline itself (Linux; ignored elsewhere).
        _ = cthreading_set_timer_slack(1)
        // One expired node at a time, so that the loop allocates nothing (it once collected them
        // in an array, whose buffer LeakSanitizer's scan at exit could meet in mid-growth).
        while true {
            RawLock.lock(UnsafePointer(lockWord))
            if let first = heap.first, first.pointee.deadline <= Platform.monotonicNow() {
                removeAt(0)
                RawLock.unlock(UnsafePointer(lockWord))
                _ = ParkingLot.dequeueTask(first, with: .timedOut)
                ParkingLot.release(first)
                continue
            }
            let next = heap.first.map { Deadline(nanoseconds: $0.pointee.deadline) } ?? .never
            let seen = wakeWord.pointee.load(ordering: .acquiring)
            RawLock.unlock(UnsafePointer(lockWord))
            _ = Platform.futexWait(UnsafePointer(wakeWord), expected: seen, deadline: next)
        }
    }

    // MARK: The heap, under `lockWord`

    private static func removeAt(_ index: Int) {
        let last = heap.count - 1
        heap[index].pointee.heapIndex = -1
        if index != last {
            heap[index] = heap[last]
            heap[index].pointee.heapIndex = index
        }
        heap.removeLast()
        if index < heap.count {
            siftDown(index)
            siftUp(index)
        }
    }

    private static func siftUp(_ start: Int) {
        var index = start
        while index > 0 {
            let parent = (index - 1) / 2
            guard heap[index].pointee.deadline < heap[parent].pointee.deadline else { return }
            swapAt(index, parent)
            index = parent
        }
    }

    private static func siftDown(_ start: Int) {
        var index = start
        while true {
            let left = 2 * index + 1
            guard left < heap.count else { return }
            var smallest = left
            let right = left + 1
            if right < heap.count && heap[right].pointee.deadline < heap[left].pointee.deadline { smallest = right }
            guard heap[smallest].pointee.deadline < heap[index].pointee.deadline else { return }
            swapAt(index, smallest)
            index = smallest
        }
    }

    private static func swapAt(_ i: Int, _ j: Int) {
        heap.swapAt(i, j)
        heap[i].pointee.heapIndex = i
        heap[j].pointee.heapIndex = j
    }
}

private func timerThreadEntry(_ context: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    TaskTimer.run()
}
