import Synchronization

/// The work queue of a `ThreadPoolExecutor`: an unbounded FIFO whose `get` waits without end.
///
/// A futex lock over a ring of slots; getters that find it empty park on the queue in the
/// parking lot, first come, first served, and each `put` wakes at most one of them.
final class WorkQueue<Element>: @unchecked Sendable {
    // @unchecked Sendable: every field but `word` is accessed only under `word`.

    private let word = Atomic<UInt32>(RawLock.unlocked)
    private var slots: [Element?] = []
    private var head = 0
    /// Getters parked (or about to park) and not yet promised a wake-up.
    private var sleepers = 0

    init() {}

    /// Appends `item` and wakes one parked getter, if any.
    func put(_ item: Element) {
        lock()
        slots.append(item)
        let wake = sleepers > 0
        if wake { sleepers -= 1 }
        unlock()
        if wake { ParkingLot.unpark(key: key) { _ in 1 } }
    }

    /// Removes and returns the oldest item, waiting for one as long as it takes.
    func get() -> Element {
        while true {
            if let item = getNowait() { return item }
            _ = ParkingLot.park(
                key: key,
                deadline: .never,
                validate: {
                    lock()
                    defer { unlock() }
                    if head < slots.count { return false }
                    sleepers += 1
                    return true
                }
            )
        }
    }

    /// Removes and returns the oldest item, or `nil` if there is none.
    func getNowait() -> Element? {
        lock()
        guard head < slots.count else {
            unlock()
            return nil
        }
        let item = slots[head].take()
        head += 1
        if head == slots.count {
            slots.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024 && head * 2 >= slots.count {
            slots.removeFirst(head)
            head = 0
        }
        unlock()
        return item
    }

    /// How many items are queued.
    var count: Int {
        lock()
        defer { unlock() }
        return slots.count - head
    }

    private var key: UnsafeRawPointer {
        UnsafeRawPointer(Unmanaged.passUnretained(self).toOpaque())
    }

    @inline(__always)
    private func lock() {
        RawLock.lock(address(of: word))
    }

    @inline(__always)
    private func unlock() {
        RawLock.unlock(address(of: word))
    }
}
