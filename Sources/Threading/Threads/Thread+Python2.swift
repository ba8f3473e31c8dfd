/// Python 2's spellings of `Thread`'s attributes, which CPython 3.13 still accepts with a
/// `DeprecationWarning`: the compiler flags them here too, and its fix-it names the Swift spelling.
///
/// CPython's other deprecated names need no alias: `currentThread()` and `activeCount()` are this
/// module's own spelling of `current_thread()` and `active_count()`, `Condition.notifyAll()` of
/// `notify_all()`, and `setDaemon(_:)` is kept as API; `Event.isSet()` cannot exist beside the
/// `isSet` property (drop the parentheses).
extension Thread {
    /// The thread's name (Python 2's `getName()`).
    @available(*, deprecated, renamed: "name", message: "'name' is a property: thread.name")
    public func getName() -> String {
        name
    }

    /// Sets the thread's name (Python 2's `setName(name)`).
    ///
    /// - Parameters:
    ///   - name: The new name.
    @available(*, deprecated, renamed: "name", message: "'name' is a property: thread.name = newName")
    public func setName(_ name: String) {
        self.name = name
    }

    /// Whether the thread is a daemon thread (Python 2's `isDaemon()`).
    @available(*, deprecated, renamed: "daemon", message: "'daemon' is a property: thread.daemon")
    public func isDaemon() -> Bool {
        daemon
    }
}
