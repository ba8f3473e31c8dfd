/// The module's internal name for a value guarded by the waiting core's own futex lock: the public
/// `LockedValue`, one implementation for the library's bookkeeping (thread states, the registry,
/// hooks) and for users.
///
/// The library uses it instead of `Synchronization.Mutex` because ThreadSanitizer sees its atomics
/// and so its happens-before edges, while `Mutex`'s lock lives in the uninstrumented runtime and
/// makes TSan report races that are not there.
typealias Protected<Value> = LockedValue<Value>
