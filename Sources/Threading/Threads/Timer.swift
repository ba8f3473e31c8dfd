/// A thread that calls a function after a delay unless cancelled first (Python's
/// `threading.Timer`).
///
/// ```swift
/// let timer = Timer(interval: 30) { print("hello, world") }
/// try timer.start()   // after 30 seconds, "hello, world" is printed
/// timer.cancel()      // ... unless it is cancelled before
/// ```
///
/// `Threading.Timer` is the full name where Foundation's `Timer` is also imported.
open class Timer: Thread, @unchecked Sendable {
    // @unchecked Sendable: adds only immutable, Sendable properties to `Thread`.

    /// Seconds between `start()` and the call.
    public let interval: Double
    /// Set by `cancel()`, or once the function has run.
    public let finished = Event()
    private let function: @Sendable () throws -> Void

    /// Creates a timer that calls `function` `interval` seconds after `start()`.
    ///
    /// - Parameters:
    ///   - interval: The delay, in seconds.
    ///   - function: What to call, on the timer's thread.
    public init(interval: Double, function: @escaping @Sendable () throws -> Void) {
        self.interval = interval
        self.function = function
        super.init(target: nil, name: nil, daemon: nil)
    }

    /// Creates a timer that calls `function` with `args` `interval` seconds after `start()`.
    public convenience init<each A: Sendable>(
        interval: Double,
        function: @escaping @Sendable (repeat each A) throws -> Void,
        args: (repeat each A)
    ) {
        let arguments = PackedArguments(repeat each args)
        self.init(interval: interval, function: { try arguments.apply(function) })
    }

    /// Stops the timer if it has not fired yet; the function is then never called.
    public func cancel() {
        finished.set()
    }

    /// Waits `interval` seconds on `finished`, then calls the function unless cancelled.
    open override func run() throws {
        try finished.wait(timeout: interval)
        if !finished.isSet {
            try function()
        }
        finished.set()
    }
}
