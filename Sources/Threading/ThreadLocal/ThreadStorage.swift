// The core under `Local` and `ThreadLocal`: one slot table per thread, one slot number per object.
//
// Every thread that stores a thread-local value gets a `cthreading_local_storage`: a growable C
// array of slots, each NULL or a retained Swift box. Its address sits in a C `__thread` variable,
// so the owning thread reads a slot with two loads and no lock (`cthreading_local_slot`). Each
// `Local`/`ThreadLocal` takes a slot number at `init` and gives it back at `deinit`.
//
// One registry lock guards everything that is not the owner's lock-free read: handing out slot
// numbers, linking and unlinking tables, growing a table (done only by its own thread), storing a
// thread's first box in a slot, and an object's `deinit` clearing its slot in every table. A
// reader never races with that clearing: it holds a strong reference to the object, so the object
// is not being deinitialized. Boxes are always released after the lock is dropped, because a
// value's `deinit` may run any code, including code that uses thread-local data.
//
// A thread started here releases its own table as the last step of its life, before it counts as
// ended. For every other thread, a process-wide pthread key, whose value is the thread's table,
// gets the table freed when its thread ends: the key's destructor unlinks the table and releases
// every box in it. The C library runs no such destructor for the main thread when the process
// exits, so its values live until then; an `async` main's `dispatch_main` ends the initial thread
// early, with `pthread_exit`, and its values are released then.

import CThreading
import Synchronization

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#elseif canImport(Darwin)
@preconcurrency import Darwin
#else
#error("swift-threading supports Linux (Glibc, Musl) and Darwin.")
#endif

/// The process-wide bookkeeping of thread-local data: slot numbers, the live per-thread tables,
/// and the pthread key whose destructor frees a table when its thread ends.
@usableFromInline
final class LocalRegistry: @unchecked Sendable {
    // @unchecked Sendable: every `var` is read and written only while `word` is held.

    /// The one registry of the process, created (with its pthread key) on first use.
    @usableFromInline
    static let shared = LocalRegistry()

    /// The key whose per-thread value is the thread's table; only its destructor matters.
    private let key: pthread_key_t

    /// The registry lock, a `RawLock` futex word.
    private let word = Atomic<UInt32>(RawLock.unlocked)

    /// Slot numbers given back by released objects, reused last-in first-out.
    private var freeSlots: [Int] = []

    /// Slot numbers handed out so far: every slot in use or free is below it.
    private var slotLimit = 0

    /// The first of the live tables, linked through `next`/`previous`.
    private var head: UnsafeMutablePointer<cthreading_local_storage>?

    /// How many tables are linked.
    private var tableCount = 0

    /// How many threads have a live table (for tests).
    var liveTableCount: Int {
        withLock { tableCount }
    }

    private init() {
        var key = pthread_key_t()
        // A closure: the destructor takes an optional pointer on Linux, a non-optional one on Darwin.
        let rc = pthread_key_create(&key) { releaseThreadStorage($0) }
        precondition(rc == 0, "pthread_key_create failed with error \(rc)")
        self.key = key
    }

    private func lock() {
        RawLock.lock(address(of: word))
    }

    private func unlock() {
        RawLock.unlock(address(of: word))
    }

    private func withLock<R>(_ body: () -> R) -> R {
        lock()
        defer { unlock() }
        return body()
    }

    /// Hands out a slot number no live object uses; every table holds NULL there.
    ///
    /// - Complexity: O(1) amortized.
    @usableFromInline
    func takeSlot() -> Int {
        withLock {
            if let slot = freeSlots.popLast() { return slot }
            slotLimit += 1
            return slotLimit - 1
        }
    }

    /// Clears `slot` in every thread's table, releases the values found there, and makes the
    /// slot number free again. Called by an object's `deinit`.
    ///
    /// - Complexity: O(t) for t threads with a table, plus the values' own `deinit`s.
    @usableFromInline
    func returnSlot(_ slot: Int) {
        let boxes: [UnsafeMutableRawPointer] = withLock {
            var found: [UnsafeMutableRawPointer] = []
            var table = head
            while let storage = table {
                if slot < storage.pointee.capacity, let box = storage.pointee.slots[slot] {
                    found.append(box)
                    storage.pointee.slots[slot] = nil
                }
                table = storage.pointee.next
            }
            freeSlots.append(slot)
            return found
        }
        // Outside the lock: a value's `deinit` may use thread-local data itself.
        for box in boxes {
            Unmanaged<AnyObject>.fromOpaque(box).release()
        }
    }

    /// Puts the retained `box` into `slot` of the calling thread's table, creating or growing the
    /// table as needed. The slot must be empty.
    ///
    /// - Complexity: O(1) amortized; O(capacity) when the table grows.
    @usableFromInline
    func storeFirst(_ box: UnsafeMutableRawPointer, in slot: Int) {
        if let storage = cthreading_local_get_current() {
            withLock {
                if slot >= storage.pointee.capacity { grow(storage, toHold: slot) }
                precondition(storage.pointee.slots[slot] == nil, "thread-local slot \(slot) is already in use")
                storage.pointee.slots[slot] = box
            }
            return
        }
        let storage = UnsafeMutablePointer<cthreading_local_storage>.allocate(capacity: 1)
        let capacity = Self.capacity(toHold: slot, atLeast: 16)
        let slots = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: capacity)
        slots.initialize(repeating: nil, count: capacity)
        slots[slot] = box
        storage.initialize(to: cthreading_local_storage(slots: slots, capacity: capacity, previous: nil, next: nil))
        withLock {
            storage.pointee.next = head
            head?.pointee.previous = storage
            head = storage
            tableCount += 1
        }
        cthreading_local_set_current(storage)
        let rc = pthread_setspecific(key, storage)
        precondition(rc == 0, "pthread_setspecific failed with error \(rc)")
    }

    /// Replaces the slot array of `storage` with a larger one. The registry lock is held and the
    /// caller is the table's own thread.
    private func grow(_ storage: UnsafeMutablePointer<cthreading_local_storage>, toHold slot: Int) {
        let oldSlots = storage.pointee.slots!
        let oldCapacity = storage.pointee.capacity
        let capacity = Self.capacity(toHold: slot, atLeast: 2 * oldCapacity)
        let slots = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: capacity)
        slots.moveInitialize(from: oldSlots, count: oldCapacity)
        (slots + oldCapacity).initialize(repeating: nil, count: capacity - oldCapacity)
        storage.pointee.slots = slots
        storage.pointee.capacity = capacity
        oldSlots.deallocate()
    }

    /// The smallest power of two that is at least `minimum` and above `slot`.
    private static func capacity(toHold slot: Int, atLeast minimum: Int) -> Int {
        var capacity = 1
        while capacity < minimum || capacity <= slot { capacity *= 2 }
        return capacity
    }

    /// Releases the calling thread's values now, before it counts as ended: a thread started here
    /// calls it at the end of its life, so that every value's `deinit` has run before `join()`
    /// returns, `isAlive` turns false, or the exit-time shutdown moves on (as in CPython).
    ///
    /// A value's `deinit` may store thread-local data again on this thread; that table is freed in
    /// the next round, up to the C library's number of destructor rounds, and anything stored
    /// after the last round is freed by the key's destructor when the OS thread ends.
    func releaseCurrentThreadValues() {
        for _ in 0..<Self.destructorRounds {
            guard let storage = cthreading_local_get_current() else { return }
            let rc = pthread_setspecific(key, nil)
            precondition(rc == 0, "pthread_setspecific failed with error \(rc)")
            threadDidExit(storage)
        }
    }

    /// How many times a thread's values are released again when releasing stores new ones
    /// (POSIX's `PTHREAD_DESTRUCTOR_ITERATIONS`, 4 in glibc).
    private static let destructorRounds = 4

    /// Frees the table of a thread that is ending: unlinks it, then releases its boxes.
    ///
    /// A value's `deinit` may store thread-local data again on this thread; that makes a new
    /// table, which the C library's next round of key destructors frees in turn.
    fileprivate func threadDidExit(_ storage: UnsafeMutablePointer<cthreading_local_storage>) {
        withLock {
            let previous = storage.pointee.previous
            let next = storage.pointee.next
            if let previous { previous.pointee.next = next } else { head = next }
            next?.pointee.previous = previous
            tableCount -= 1
        }
        if cthreading_local_get_current() == storage { cthreading_local_set_current(nil) }
        // Unlinked, so no `deinit` elsewhere can reach this table any more: read it without the lock.
        let slots = storage.pointee.slots!
        for index in 0..<storage.pointee.capacity {
            if let box = slots[index] {
                slots[index] = nil
                Unmanaged<AnyObject>.fromOpaque(box).release()
            }
        }
        slots.deallocate()
        storage.deallocate()
    }
}

// The pthread key's destructor: a nonisolated global function, so it may run on any thread as it
// ends. The C library has already set the key's value to NULL.
private func releaseThreadStorage(_ pointer: UnsafeMutableRawPointer?) {
    guard let pointer else { return }
    LocalRegistry.shared.threadDidExit(pointer.assumingMemoryBound(to: cthreading_local_storage.self))
}
