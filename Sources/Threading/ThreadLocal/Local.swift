import CThreading

/// Python's `threading.local`: an object whose attributes are different in every thread.
///
/// Each thread has its own set of attributes, read and written by name through dynamic member
/// lookup. An attribute that the calling thread never set reads as `nil` (where Python raises
/// `AttributeError`), and assigning `nil` removes it (Python's `del`).
///
/// ```swift
/// let mydata = Local()
/// mydata.number = 42
/// // In another thread, `mydata.number` is nil until that thread sets it.
/// ```
///
/// A subclass overrides `initializeThread()` to give each thread its starting attributes, as a
/// Python subclass's `__init__` does. Stored properties of a subclass are ordinary properties,
/// shared by all threads (Python's `__slots__`), and a stored property hides an attribute of the
/// same name. Swift asks a subclass to restate the conformance (`class MyLocal: Local,
/// @unchecked Sendable`); its own stored properties are then its responsibility.
///
/// A thread's attributes are released when the thread ends, and every thread's attributes are
/// released when the `Local` is. The main thread's attributes live until the process exits, and a
/// pool thread's (Dispatch, Swift concurrency) until the pool retires that thread.
/// Reading an attribute takes no lock.
@dynamicMemberLookup
open class Local: @unchecked Sendable {
    // @unchecked Sendable: each thread reaches only its own attribute box, through its own slot
    // table; another thread touches a box only to release it. Subclasses add shared state at
    // their own risk, as with Python's `__slots__`.

    /// This object's slot number in every thread's table.
    let slot: Int

    /// Creates a thread-local object with no attributes in any thread.
    ///
    /// - Complexity: O(1) amortized (takes the registry lock once).
    public init() {
        slot = LocalRegistry.shared.takeSlot()
    }

    deinit {
        LocalRegistry.shared.returnSlot(slot)
    }

    /// Sets up the calling thread's attributes; runs once per thread, just before the thread's
    /// first access to the object. The default does nothing.
    ///
    /// This is a Python subclass's `__init__`, which runs at construction in the creating thread
    /// and again in every other thread at its first access. Here the rule is the same in every
    /// thread, the creating one included: it runs before that thread's first access, so a thread
    /// that never touches the object never runs it. Attributes set inside it belong to the
    /// calling thread; reading them inside it does not run it again. Subclasses need not call
    /// `super`.
    open func initializeThread() {}

    /// The calling thread's attribute `name`, or `nil` if this thread has not set it.
    ///
    /// Assigning `nil` removes the attribute. The first access on a thread runs
    /// `initializeThread()` first.
    ///
    /// - Parameters:
    ///   - name: The attribute's name.
    /// - Complexity: O(1) average, without a lock once this thread has accessed the object.
    public subscript(dynamicMember name: String) -> Any? {
        get {
            currentAttributes().values[name]
        }
        set {
            let attributes = currentAttributes()
            let old: Any?
            if let newValue {
                old = attributes.values.updateValue(newValue, forKey: name)
            } else {
                old = attributes.values.removeValue(forKey: name)
            }
            // The previous value is released only now, after the dictionary is no longer accessed:
            // its `deinit` may read this object again.
            withExtendedLifetime(old) {}
        }
    }

    /// The calling thread's attributes (Python's `__dict__`), for tests.
    var currentThreadAttributes: [String: Any] {
        currentAttributes().values
    }

    /// The calling thread's attribute box, made (and `initializeThread()` run) on first access.
    final func currentAttributes() -> LocalAttributes {
        if let raw = cthreading_local_slot(slot) {
            return Unmanaged<LocalAttributes>.fromOpaque(raw).takeUnretainedValue()
        }
        let attributes = LocalAttributes()
        LocalRegistry.shared.storeFirst(Unmanaged.passRetained(attributes).toOpaque(), in: slot)
        initializeThread()
        return attributes
    }
}

/// One thread's attributes of a `Local`, retained by the thread's slot table.
final class LocalAttributes {
    /// The attributes set in this thread, by name.
    var values: [String: Any] = [:]
}
