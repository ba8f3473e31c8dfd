// excepthook: CPython 3.13's ExceptHookTests and test_print_exception. The default hook writes
// to file descriptor 2, which tests running in parallel share, so its output is checked in a child
// process (`threading-test-child`); the custom-hook tests run here. The hook is process-wide: the
// suite is serialized, every test restores `defaultExcepthook`, and the custom hooks pass other
// suites' threads on to the default hook.
//
// Not ported: test_custom_excepthook_fail (a Swift hook cannot throw: it is a non-throwing
// closure); the traceback lines of test_excepthook (Swift errors carry no traceback: the hook gets
// `excTraceback: nil`, and the default hook prints a given traceback, see test_excepthook_thread_None).

import Synchronization
import Testing

@testable import Threading

/// CPython's `ThreadRunFail`.
final class ThreadRunFail: Threading.Thread, @unchecked Sendable {
    override func run() throws { throw RunFailed() }
}

/// Whether two metatypes are the same type.
func isType(_ a: Any.Type, _ b: Any.Type) -> Bool {
    a == b
}

/// What a custom hook saw for one thread.
struct HookCall: Sendable {
    var args: ExceptHookArgs
    var ident: UInt
    var currentIsThread: Bool
    var alive: Bool
    var enumerated: Bool
}

/// Installs a hook that records the calls for `threads` (others go to the default hook), runs
/// `body`, and restores the default hook.
func withRecordingHook(
    for threads: @autoclosure @escaping @Sendable () -> [Threading.Thread],
    _ body: (SharedList<HookCall>) throws -> Void
) rethrows {
    let calls = SharedList<HookCall>()
    excepthook = { args in
        guard let thread = args.thread, threads().contains(where: { $0 === thread }) else {
            defaultExcepthook(args)
            return
        }
        calls.append(
            HookCall(
                args: args,
                ident: getIdent(),
                currentIsThread: currentThread() === thread,
                alive: thread.isAlive,
                enumerated: enumerate().contains { $0 === thread }
            )
        )
    }
    defer { excepthook = defaultExcepthook }
    try body(calls)
}

@Suite(.serialized) struct ExceptHookTests {
    // MARK: Default output (child process)

    @Test func test_excepthook() throws {
        let child = try #require(runChild("excepthook-default"))
        #expect(child.stderr.hasPrefix("Exception in thread excepthook thread:\n"), "\(child.stderr)")
        #expect(child.stderr.contains("RunFailed: run failed\n"), "\(child.stderr)")
        // The process carries on after a thread's error.
        #expect(child.stdout == "after\n")
        #expect(child.status == 0)
    }

    /// A ThreadingError reads like the Python exception it stands for.
    @Test func test_print_exception() throws {
        let child = try #require(runChild("excepthook-threading-error"))
        #expect(child.stderr == "Exception in thread Thread-1:\nRuntimeError: boom\n")
        #expect(child.stdout == "after\n")
        #expect(child.status == 0)
    }

    /// `thread: nil` names the thread by `getIdent()`; a traceback given is printed.
    @Test func test_excepthook_thread_None() throws {
        let child = try #require(runChild("excepthook-args"))
        let ident = child.stdout.split(separator: "\n").first.map(String.init) ?? "?"
        #expect(UInt(ident) != nil, "\(child.stdout)")
        #expect(child.stderr.hasPrefix("Exception in thread \(ident):\n"), "\(child.stderr)")
        #expect(child.stderr.contains("RunFailed: bug\n"))
        #expect(
            child.stderr.contains(
                "Exception in thread named:\nTraceback (most recent call last):\n  frame 1\n  frame 2\nRunFailed: traced\n"
            ),
            "\(child.stderr)"
        )
        #expect(child.status == 0)
    }

    @Test func test_system_exit() throws {
        let child = try #require(runChild("system-exit"))
        #expect(child.stderr == "")
        #expect(child.stdout == "after\n")
        #expect(child.status == 0)
    }

    @Test func test_original_excepthook() throws {
        let child = try #require(runChild("original-excepthook"))
        let custom = "Running a thread failed\n"
        let parts = child.stderr.split(separator: custom, omittingEmptySubsequences: false).map(String.init)
        #expect(parts.count == 2, "\(child.stderr)")
        if parts.count == 2 {
            #expect(parts[0] == parts[1])
            #expect(parts[0].hasPrefix("Exception in thread excepthook thread:\n"))
        }
        #expect(child.status == 0)
    }

    // MARK: Custom hooks (in process)

    @Test func test_custom_excepthook() throws {
        let thread = ThreadRunFail()
        try withRecordingHook(for: [thread]) { calls in
            try thread.start()
            try thread.join()
            let recorded = calls.values
            #expect(recorded.count == 1)
            let call = try #require(recorded.first)
            #expect(isType(call.args.excType, RunFailed.self))
            #expect(call.args.excValue.map { "\($0)" } == "run failed")
            #expect(call.args.excValue is RunFailed)
            #expect(call.args.thread === thread)
        }
    }

    /// The hook runs on the thread that threw, while it is still alive and enumerated, and before
    /// `join()` returns.
    @Test func test_excepthook_runs_on_the_thread() throws {
        let thread = Threading.Thread(target: { throw ThreadingError(.valueError, "x") })
        try withRecordingHook(for: [thread]) { calls in
            try thread.start()
            try thread.join()
            let call = try #require(calls.values.first)
            #expect(call.ident == thread.ident)
            #expect(call.currentIsThread)
            #expect(call.alive)
            #expect(call.enumerated)
            #expect(isType(call.args.excType, ThreadingError.self))
            #expect((call.args.excValue as? ThreadingError) == ThreadingError(.valueError, "x"))
            #expect(!thread.isAlive)
        }
    }

    /// A SystemExit reaches a custom hook (only the default hook ignores it).
    @Test func test_system_exit_reaches_custom_hook() throws {
        let thread = Threading.Thread(target: { throw SystemExit(code: 3) })
        try withRecordingHook(for: [thread]) { calls in
            try thread.start()
            try thread.join()
            let call = try #require(calls.values.first)
            #expect(isType(call.args.excType, SystemExit.self))
            #expect((call.args.excValue as? SystemExit)?.code == 3)
        }
    }

    /// A thread that throws never takes the process down: many throwing threads, each reported
    /// once, and threads started afterwards run normally.
    @Test func test_throwing_threads_do_not_end_the_process() throws {
        let threads = (0..<20).map { i in Threading.Thread(target: { throw RunFailed("failure \(i)") }) }
        try withRecordingHook(for: threads) { calls in
            for t in threads { try t.start() }
            for t in threads { try t.join() }
            #expect(calls.count == 20)
            let messages = Set(calls.values.compactMap { $0.args.excValue.map { "\($0)" } })
            #expect(messages == Set((0..<20).map { "failure \($0)" }))
        }
        #expect(threads.allSatisfy { !$0.isAlive && !isEnumerated($0) })
        let ran = Counter()
        let after = Threading.Thread(target: { ran.increment() })
        try after.start()
        try after.join()
        #expect(ran.current == 1)
    }

    /// A Timer's function that throws goes to the hook, with the timer as the thread.
    @Test func test_timer_function_throws() throws {
        let timer = Threading.Timer(interval: 0.01) { throw RunFailed("timer") }
        try withRecordingHook(for: [timer]) { calls in
            try timer.start()
            try timer.join()
            let call = try #require(calls.values.first)
            #expect(call.args.thread === timer)
            #expect(call.args.excValue.map { "\($0)" } == "timer")
        }
    }

    /// Replacing the hook and restoring it from `defaultExcepthook`: the replaced hook is no longer
    /// called, and `excepthook` reads back what was set.
    @Test func test_excepthook_replaced_and_restored() throws {
        let calls = Counter()
        let marker = ThreadRunFail(name: "marker")
        let hook: @Sendable (ExceptHookArgs) -> Void = { args in
            if args.thread === marker { calls.increment() } else { defaultExcepthook(args) }
        }
        excepthook = hook
        defer { excepthook = defaultExcepthook }
        // Reading it back gives the hook set: calling it counts.
        excepthook(ExceptHookArgs(excType: RunFailed.self, excValue: RunFailed(), excTraceback: nil, thread: marker))
        #expect(calls.current == 1)
        excepthook = defaultExcepthook
        // The default hook ignores a SystemExit silently; the replaced hook would have counted it.
        excepthook(ExceptHookArgs(excType: SystemExit.self, excValue: SystemExit(), excTraceback: nil, thread: marker))
        #expect(calls.current == 1)
    }

    @Test func test_except_hook_args_fields() {
        let thread = Threading.Thread(name: "fields")
        let args = ExceptHookArgs(
            excType: RunFailed.self,
            excValue: RunFailed("v"),
            excTraceback: ["line"],
            thread: thread
        )
        #expect(isType(args.excType, RunFailed.self))
        #expect(args.excValue.map { "\($0)" } == "v")
        #expect(args.excTraceback == ["line"])
        #expect(args.thread === thread)
        let empty = ExceptHookArgs(excType: SystemExit.self, excValue: nil, excTraceback: nil, thread: nil)
        #expect(empty.excValue == nil && empty.excTraceback == nil && empty.thread == nil)
        #expect(SystemExit().code == 0)
        #expect(SystemExit(code: 4).code == 4)
    }
}
