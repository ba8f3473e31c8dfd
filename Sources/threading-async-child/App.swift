// threading-async-child: a child process for ThreadingTests whose `main` is `async`, the usual
// shape of a server (`@main struct App { static func main() async throws }`). An async `main`
// runs `dispatch_main`, which ends the initial OS thread with `pthread_exit` at the first `await`
// and runs the main actor's code on Dispatch's threads from then on. Each scenario (its only
// argument names it) uses the module before and after an `await`, then returns from `main`, so
// that the tests can check what the process does while it runs and as it exits.
//
//     threading-async-child touch-before-await

import Threading

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif

@main
struct App {
    static func main() async throws {
        let arguments = CommandLine.arguments
        guard arguments.count == 2, let scenario = asyncScenarios[arguments[1]] else {
            let known = asyncScenarios.keys.sorted().joined(separator: ", ")
            fputs("usage: threading-async-child SCENARIO (one of: \(known))\n", stderr)
            exit(2)
        }
        do {
            try await scenario()
        } catch {
            fputs("scenario \(arguments[1]) threw: \(error)\n", stderr)
            exit(3)
        }
    }
}
