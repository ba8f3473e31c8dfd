// Programs whose `main` is `async` (`@main struct App { static func main() async throws }`), the
// usual shape of a server, checked in a child process (`threading-async-child`). An async `main`
// runs `dispatch_main`, which ends the initial OS thread with `pthread_exit` at the first `await`
// and runs the main actor on Dispatch's threads from then on: the module must neither release the
// main `Thread` then (it crashed at exit: a use after free found by AddressSanitizer) nor stop
// treating the main actor's code as the program's main thread.

import Testing

@Suite struct AsyncMainTests {
    private func run(_ scenario: String, sourceLocation: SourceLocation = #_sourceLocation) -> ChildResult? {
        runChild(scenario, executable: "threading-async-child", sourceLocation: sourceLocation)
    }

    /// The crash: the module used before and after the first `await`, then the process exits.
    @Test func moduleUsedBeforeAndAfterTheFirstAwait() throws {
        for _ in 0..<3 {
            let child = try #require(run("touch-before-await"))
            #expect(
                child.stdout
                    == "before: true\nsame main: true\nmain alive: true\nmain in enumerate: true\nenumerate first: true\ncurrent is main: true\njoined after await: true\n"
            )
            #expect(child.stderr == "")
            #expect(child.status == 0)
        }
    }

    @Test func mainActorThreadsAreNonDaemonAndWaitedFor() throws {
        let child = try #require(run("main-actor-threads"))
        #expect(child.stdout == "daemon: false\ncurrent is main: true\nend of main\nlate\n")
        #expect(child.stderr == "")
        #expect(child.status == 0)
        #expect(child.seconds >= 0.3, "the process ended before its non-daemon thread")
    }

    @Test func threadStartedBeforeTheFirstAwaitIsWaitedFor() throws {
        let child = try #require(run("thread-before-await"))
        #expect(child.stdout == "end of main\nlate\n")
        #expect(child.stderr == "")
        #expect(child.status == 0)
        #expect(child.seconds >= 0.3, "the process ended before its non-daemon thread")
    }

    /// test_1_join_on_shutdown in an async main.
    @Test func joinOfTheMainThreadReturnsWhenMainReturns() throws {
        let child = try #require(run("main-join-released"))
        #expect(child.stdout == "end of main\nmain joined: alive false\n")
        #expect(child.stderr == "")
        #expect(child.status == 0)
    }

    /// Raw pthread, Dispatch, a detached task and a Foundation thread each get a dummy thread.
    @Test func foreignThreadsOfEveryKind() throws {
        let child = try #require(run("foreign-threads"))
        #expect(
            child.stdout
                == "raw pthread: true\nraw dummy gone: true\ndispatch: true\ndetached task: true\nfoundation thread: true\nmain actor: true\n"
        )
        #expect(child.stderr == "")
        #expect(child.status == 0)
    }

    /// test_finalization_shutdown in an async main.
    @Test func test_finalization_shutdown() throws {
        let child = try #require(run("finalization-shutdown"))
        #expect(child.stdout == "end of main\ndeinit done\n")
        #expect(child.stderr == "")
        #expect(child.status == 0)
    }
}
