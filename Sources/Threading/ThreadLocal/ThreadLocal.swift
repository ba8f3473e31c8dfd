import CThreading

/// A typed value with one instance per thread: each thread sees and changes only its own.
///
/// The Swift-typed counterpart of `Local`. A thread's first read calls `makeDefault` on that
/// thread (once; a thread whose first access is an assignment never calls it). A thread's value
/// is released when the thread ends, and every thread's value is released when the `ThreadLocal`
/// itself is. The main thread's values live until the process exits, and a pool thread's (Dispatch,
/// Swift concurrency) until the pool retires that thread.
///
/// ```swift
/// let requestCount = ThreadLocal { 0 }
/// requestCount.value += 1          // this thread's count only
/// ```
///
/// Reading the current thread's value takes no lock: two loads through a C `__thread` pointer,
/// a bounds check and one load from the box, about the cost of `pthread_getspecific`.
public final class ThreadLocal<Value>: @unchecked Sendable {
    // @unchecked Sendable: each thread reaches only its own box, through its own slot table;
    // another thread touches a box only to release it, in `deinit` or when its thread ends.

    /// This object's slot number in every thread's table.
    @usableFromInline
    let slot: Int

    /// Makes a thread's first value.
    @usableFromInline
    let makeDefault: @Sendable () -> Value

    /// Creates a thread-local value whose per-thread default comes from `makeDefault`.
    ///
    /// - Parameters:
    ///   - makeDefault: Called on a thread, at most once per thread, at its first read; it may
    ///     itself use other thread-local data.
    /// - Complexity: O(1) amortized (takes the registry lock once).
    public init(_ makeDefault: @escaping @Sendable () -> Value) {
        self.makeDefault = makeDefault
        slot = LocalRegistry.shared.takeSlot()
    }

    deinit {
        LocalRegistry.shared.returnSlot(slot)
    }

    /// The calling thread's value.
    ///
    /// Mutating it in place (`value += 1`, `value.append(x)`) changes the stored value without a
    /// copy. As with any variable, do not reach the same `ThreadLocal`'s `value` again from inside
    /// such a mutation on the same thread: the box is not guarded by exclusivity checks.
    ///
    /// - Complexity: O(1) and lock-free once this thread has a value; the first access on a
    ///   thread takes the registry lock once.
    @inlinable
    public var value: Value {
        get {
            if let raw = cthreading_local_slot(slot) {
                return Unmanaged<ThreadLocalBox<Value>>.fromOpaque(raw)._withUnsafeGuaranteedRef { $0.value }
            }
            return makeBox().value
        }
        set {
            if let raw = cthreading_local_slot(slot) {
                var old = newValue
                Unmanaged<ThreadLocalBox<Value>>.fromOpaque(raw)._withUnsafeGuaranteedRef { swap(&$0.value, &old) }
                // `old` (the previous value) is released here, after the box is no longer accessed.
            } else {
                storeFirst(ThreadLocalBox(newValue))
            }
        }
        _modify {
            let box: ThreadLocalBox<Value>
            if let raw = cthreading_local_slot(slot) {
                box = Unmanaged<ThreadLocalBox<Value>>.fromOpaque(raw).takeUnretainedValue()
            } else {
                box = makeBox()
            }
            yield &box.value
        }
    }

    /// The first read on this thread: makes the default value and stores its box.
    @usableFromInline
    func makeBox() -> ThreadLocalBox<Value> {
        let initial = makeDefault()
        if let raw = cthreading_local_slot(slot) {
            // `makeDefault` assigned this thread's value itself: that value wins.
            return Unmanaged<ThreadLocalBox<Value>>.fromOpaque(raw).takeUnretainedValue()
        }
        let box = ThreadLocalBox(initial)
        storeFirst(box)
        return box
    }

    /// Stores this thread's first box.
    @usableFromInline
    func storeFirst(_ box: ThreadLocalBox<Value>) {
        LocalRegistry.shared.storeFirst(Unmanaged.passRetained(box).toOpaque(), in: slot)
    }
}

/// One thread's value of a `ThreadLocal`, retained by the thread's slot table.
@usableFromInline
final class ThreadLocalBox<Value> {
    // Only the owning thread reads or writes `value` (another thread only releases the box), so
    // dynamic exclusivity checks would only slow the lock-free read.
    @usableFromInline
    @exclusivity(unchecked)
    var value: Value

    @usableFromInline
    init(_ value: Value) {
        self.value = value
    }
}
