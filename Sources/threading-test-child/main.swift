// threading-test-child: a child process for ThreadingTests. It runs one scenario, named by its only
// argument, and then returns from `main` (or calls `exit`), so that the tests can check what
// happens at process exit: non-daemon threads waited for, daemon threads not, the default
// `excepthook`'s output on standard error.
//
//     threading-test-child nondaemon-after-main

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif

// Top-level code is main-actor isolated: every scenario lives in a nonisolated function
// (Scenarios.swift), and this file only picks one.
let arguments = CommandLine.arguments
guard arguments.count == 2, runScenario(named: arguments[1]) else {
    let known = scenarioNames.joined(separator: ", ")
    fputs("usage: threading-test-child SCENARIO (one of: \(known))\n", stderr)
    exit(2)
}
