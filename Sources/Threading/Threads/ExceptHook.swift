import Synchronization

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif

/// What `excepthook` receives when a thread's `run()` throws (Python's `ExceptHookArgs`).
public struct ExceptHookArgs: Sendable {
    /// The error's type: `type(of: error)`.
    public let excType: Any.Type
    /// The error thrown.
    public let excValue: (any Error)?
    /// The call stack's lines where known, else `nil` (Swift errors carry no traceback).
    public let excTraceback: [String]?
    /// The thread whose `run()` threw; `nil` makes the hook name it by `getIdent()`.
    public let thread: Thread?

    /// Creates the arguments of one call of `excepthook`.
    public init(excType: Any.Type, excValue: (any Error)?, excTraceback: [String]?, thread: Thread?) {
        self.excType = excType
        self.excValue = excValue
        self.excTraceback = excTraceback
        self.thread = thread
    }
}

/// Python's `SystemExit`: thrown from a thread's `run()`, it ends the thread silently (the default
/// `excepthook` prints nothing for it).
public struct SystemExit: Error, Sendable, CustomStringConvertible {
    /// The exit status it carries.
    public let code: Int32

    /// Creates a `SystemExit` carrying `code`.
    public init(code: Int32 = 0) {
        self.code = code
    }

    /// The code, as Python prints a `SystemExit`.
    public var description: String { "\(code)" }
}

/// The default `excepthook` (Python's `threading.__excepthook__`): writes
/// `Exception in thread NAME:` and the error to standard error, and nothing for `SystemExit`.
public let defaultExcepthook: @Sendable (ExceptHookArgs) -> Void = { args in
    if args.excType == SystemExit.self { return }
    let name = args.thread?.name ?? "\(getIdent())"
    var text = "Exception in thread \(name):\n"
    if let traceback = args.excTraceback {
        text += "Traceback (most recent call last):\n"
        for line in traceback { text += line + "\n" }
    }
    text += describeError(type: args.excType, value: args.excValue) + "\n"
    writeToStandardError(text)
}

private let hookStorage = Protected<@Sendable (ExceptHookArgs) -> Void>(defaultExcepthook)

/// What handles an error thrown by a thread's `run()` (Python's `threading.excepthook`).
///
/// It runs on the thread that threw, after the error; replace it to log errors your own way,
/// and restore it from `defaultExcepthook`. A thread whose `run()` throws never takes the process
/// down.
public var excepthook: @Sendable (ExceptHookArgs) -> Void {
    get { hookStorage.withLock { $0 } }
    // The old hook is released after the lock: its captures may replace the hook as they go.
    set { _ = hookStorage.exchange(\.self, with: newValue) }
}

/// `TypeName: description`, the last line of a Python traceback.
func describeError(type: Any.Type, value: (any Error)?) -> String {
    guard let value else { return String(describing: type) }
    if let error = value as? ThreadingError { return error.description }
    let typeName = String(describing: type)
    let text = String(describing: value)
    return text.isEmpty || text == typeName ? typeName : "\(typeName): \(text)"
}

/// Writes `text` to standard error in one call, unbuffered.
func writeToStandardError(_ text: String) {
    var remaining = Array(text.utf8)[...]
    while !remaining.isEmpty {
        let written = remaining.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        if written < 0 {
            if errno == EINTR { continue }
            return
        }
        remaining = remaining.dropFirst(written)
    }
}
