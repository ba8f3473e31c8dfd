import Synchronization

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif

/// The calling thread's `Thread` object (Python's `current_thread()`).
///
/// On a thread this module did not start — a raw pthread, a Dispatch or Swift-concurrency worker,
/// a Foundation thread — it is a dummy thread named `Dummy-N`: alive, daemonic, in `enumerate()`
/// until its OS thread ends; `join` on it throws.
///
/// Code on the main actor gets `mainThread()` wherever it runs: an `async` main ends the initial
/// OS thread at its first `await` and runs the main actor on Dispatch's threads from then on, yet
/// it is still the program's main thread of control, as in a synchronous `main`.
public func currentThread() -> Thread {
    let adopted = CurrentThread.get()
    if let adopted, adopted.kind != .dummy { return adopted }
    let registry = Registry.shared
    let ident = Platform.currentIdent()
    if adopted == nil && ident == registry.main.ident {
        CurrentThread.adopt(registry.main)
        return registry.main
    }
    if Platform.isOnMainQueue() { return registry.main }
    if let adopted { return adopted }
    let dummy = Thread(
        kind: .dummy,
        name: registry.newName("Dummy"),
        daemon: true,
        ident: ident,
        nativeID: Platform.currentNativeID()
    )
    registry.add(dummy)
    CurrentThread.adopt(dummy)
    return dummy
}

/// The process's initial thread, named `MainThread` (Python's `main_thread()`).
public func mainThread() -> Thread {
    Registry.shared.main
}

/// Every thread alive or being started, the main thread first, then in the order they started
/// (Python's `enumerate()`). Dummy threads are included; threads not yet started are not.
public func enumerate() -> [Thread] {
    Registry.shared.all
}

/// The number of threads `enumerate()` would return (Python's `active_count()`).
public func activeCount() -> Int {
    Registry.shared.count
}

/// The calling thread's identifier (Python's `get_ident()`): its `pthread_t`, never zero. It may
/// be reused by a thread started after this one ends.
public func getIdent() -> UInt {
    Platform.currentIdent()
}

/// The kernel's id of the calling thread (Python's `get_native_id()`), as `top -H` shows it.
public func getNativeID() -> UInt {
    Platform.currentNativeID()
}

private let stackSizeSetting = Atomic<Int>(0)

/// The stack size used for threads started from now on; 0 means the platform's default
/// (Python's `stack_size()`).
public func stackSize() -> Int {
    stackSizeSetting.load(ordering: .relaxed)
}

/// Sets the stack size for threads started from now on and returns the previous setting
/// (Python's `stack_size(size)`).
///
/// - Parameters:
///   - size: Bytes of stack: 0 for the platform's default, else at least 32768 (32 KiB).
/// - Returns: The previous setting.
/// - Throws: `ThreadingError.Kind.valueError`: "size must be 0 or a positive value" when
///   negative, "size not valid: N bytes" when below 32 KiB.
@discardableResult
public func stackSize(_ size: Int) throws -> Int {
    if size < 0 { throw ThreadingError(.valueError, "size must be 0 or a positive value") }
    if size != 0 && size < 32_768 { throw ThreadingError(.valueError, "size not valid: \(size) bytes") }
    return stackSizeSetting.exchange(size, ordering: .relaxed)
}
