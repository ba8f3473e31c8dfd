// What happens when the process ends, checked in a child process (the `threading-test-child`
// executable, built beside this test bundle): CPython's ThreadJoinOnShutdown,
// test_join_nondaemon_on_shutdown, the shutdown probe of the reference, and module state that a
// test process shared with parallel suites cannot change safely (the stack size, the name counter,
// `activeCount()` totals).
//
// Also here: test_finalization_shutdown, test_locals_at_exit, test_main_thread_during_shutdown,
// test_import_from_another_thread and test_print_exception_stderr_is_none_2, Python's finalizers
// becoming thread-local values' `deinit`s and `atexit` callbacks. Programs with an `async` main
// are in AsyncMainTests.swift.
//
// Not ported: test_2_join_in_forked_process, test_3_join_in_forked_from_thread (fork);
// test_start_new_thread_at_finalization (starting a thread from a finalizer while the interpreter
// is torn down: Swift has no interpreter finalization); AtexitTests (`threading._register_atexit`
// is private to Python, with no counterpart in the API).

import Testing

@testable import Threading

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif

/// What a child process left behind.
struct ChildResult {
    var status: Int32 = -1
    var signal: Int32 = 0
    var stdout = ""
    var stderr = ""
    var seconds = 0.0
    var timedOut = false
}

/// A child executable (`threading-test-child` unless named): in the folder that
/// `THREADING_CHILD_DIR` names (children built another way: release, a sanitizer), else in the
/// build products directory, beside the test runner.
func childExecutablePath(_ name: String = "threading-test-child") -> String? {
    if let directory = getenv("THREADING_CHILD_DIR") {
        let candidate = String(cString: directory) + "/" + name
        return access(candidate, X_OK) == 0 ? candidate : nil
    }
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard n > 0 else { return nil }
    let exe = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    guard let slash = exe.lastIndex(of: "/") else { return nil }
    var directory = String(exe[..<slash])
    // A bundle layout (`X.xctest/Contents/MacOS/X`) keeps the executables further up.
    for _ in 0..<4 {
        let candidate = directory + "/" + name
        if access(candidate, X_OK) == 0 { return candidate }
        guard let up = directory.lastIndex(of: "/") else { break }
        directory = String(directory[..<up])
    }
    return nil
}

/// An unlinked temporary file, open for reading and writing.
private func anonymousFile() -> Int32 {
    let directory = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
    var template = Array((directory + "/threading-child-XXXXXX").utf8CString)
    let fd = mkstemp(&template)
    precondition(fd >= 0, "mkstemp failed: \(errno)")
    unlink(template)
    return fd
}

private func readAll(_ fd: Int32) -> String {
    lseek(fd, 0, SEEK_SET)
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = read(fd, &chunk, chunk.count)
        if n > 0 {
            bytes += chunk[0..<n]
        } else if n < 0 && errno == EINTR {
            continue
        } else {
            break
        }
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// Runs `threading-test-child SCENARIO` (or the child `executable`) and returns its exit status and
/// output; after `timeout` seconds the child is killed and `timedOut` is set.
func runChild(
    _ scenario: String,
    executable: String = "threading-test-child",
    timeout: Double = 60,
    sourceLocation: SourceLocation = #_sourceLocation
) -> ChildResult? {
    guard let path = childExecutablePath(executable) else {
        Issue.record("\(executable) not found beside the test runner", sourceLocation: sourceLocation)
        return nil
    }
    let out = anonymousFile()
    let err = anonymousFile()
    defer {
        close(out)
        close(err)
    }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, out, 1)
    posix_spawn_file_actions_adddup2(&actions, err, 2)
    let argv: [UnsafeMutablePointer<CChar>?] = [strdup(path), strdup(scenario), nil]
    defer { for arg in argv { free(arg) } }
    var pid = pid_t()
    var result = ChildResult()
    let start = monotonicSeconds()
    let rc = posix_spawn(&pid, path, &actions, nil, argv, environ)
    guard rc == 0 else {
        Issue.record("posix_spawn failed: \(rc)", sourceLocation: sourceLocation)
        return nil
    }
    var status: Int32 = 0
    while true {
        let waited = waitpid(pid, &status, WNOHANG)
        if waited == pid { break }
        if waited < 0 && errno != EINTR {
            Issue.record("waitpid failed: \(errno)", sourceLocation: sourceLocation)
            return nil
        }
        if monotonicSeconds() - start > timeout {
            result.timedOut = true
            kill(pid, SIGKILL)
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            break
        }
        usleep(5_000)
    }
    result.seconds = monotonicSeconds() - start
    if status & 0x7f == 0 {
        result.status = (status >> 8) & 0xff
    } else {
        result.signal = status & 0x7f
    }
    result.stdout = readAll(out)
    result.stderr = readAll(err)
    #expect(!result.timedOut, "the child \(scenario) did not end within \(timeout) s", sourceLocation: sourceLocation)
    #expect(
        result.signal == 0,
        "the child \(scenario) died of signal \(result.signal): \(result.stderr)",
        sourceLocation: sourceLocation
    )
    return result
}

@Suite struct ShutdownTests {
    @Test func test_nondaemon_thread_outlives_main() throws {
        let child = try #require(runChild("nondaemon-after-main"))
        #expect(child.stdout == "end of main\nlate\n")
        #expect(child.stderr == "")
        #expect(child.status == 0)
        #expect(child.seconds >= 0.3, "the process ended before its non-daemon thread")
    }

    @Test func test_daemon_thread_not_waited_for() throws {
        let child = try #require(runChild("daemon-not-waited"))
        #expect(child.stdout == "end of main\n")
        #expect(child.stderr == "")
        #expect(child.status == 0)
        #expect(child.seconds < 4.5, "the process waited for a daemon thread (\(child.seconds) s)")
    }

    @Test func test_1_join_on_shutdown() throws {
        let child = try #require(runChild("join-main"))
        #expect(
            child.stdout
                == "end of main\nend of thread\nmain alive: false\nmain in enumerate: true\nmain first: true\nmain description: stopped\n"
        )
        #expect(child.stderr == "")
        #expect(child.status == 0)
    }

    @Test func test_thread_from_thread() throws {
        let child = try #require(runChild("thread-from-thread"))
        #expect(child.stdout == "OK\n")
        #expect(child.stderr == "")
        #expect(child.status == 0)
    }

    /// Python raises SystemExit in main; the Swift counterpart is `exit(0)`.
    @Test func test_join_nondaemon_on_shutdown() throws {
        let child = try #require(runChild("exit-call"))
        #expect(child.stdout == "Woke up\n")
        #expect(child.stderr == "")
        #expect(child.status == 0)
        #expect(child.seconds >= 0.5, "exit() did not wait for the non-daemon thread")
    }

    @Test func test_4_daemon_threads() throws {
        let child = try #require(runChild("daemon-threads"))
        #expect(child.stdout == "all ran\n")
        #expect(child.stderr == "")
        #expect(child.status == 0)
    }

    /// test_main_thread, test_daemon_param and test_joining_current_thread need the real main
    /// thread, which the test runner keeps to itself.
    @Test func test_main_thread_in_main() throws {
        let child = try #require(runChild("main-thread"))
        let lines = child.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.count == 13, "\(child.stdout)")
        for line in lines.dropLast(2) {
            #expect(line.hasSuffix(": true"), "\(line)")
        }
        #expect(lines.suffix(2) == ["join self: cannot join current thread", ""])
        #expect(child.stderr == "")
        #expect(child.status == 0)
    }

    /// test_name with the counter known: `Thread-N` and `Dummy-N` share one counter, a name given
    /// takes no number, a Timer is a plain `Thread-N`.
    @Test func test_name_counter() throws {
        let child = try #require(runChild("names"))
        #expect(
            child.stdout
                == "Thread-1\nThread-2\nmyname1\nThread-3\nDummy-4\nThread-5\nThread-6\nDummy-7\ndaemon: true\nThread-8\nTimer: <Timer(Thread-8, initial)>\n"
        )
        #expect(child.stderr == "")
        #expect(child.status == 0)
    }

    @Test func test_active_count_and_enumerate_order() throws {
        let child = try #require(runChild("counts"))
        #expect(child.stdout == "1\n[MainThread]\n4\n[MainThread, w0, w1, w2]\n1\n[MainThread]\n")
        #expect(child.stderr == "")
        #expect(child.status == 0)
    }

    /// `pthread_create` failing (a 64 TiB stack): "can't start new thread", no trace left, and the
    /// same Thread can be started once the stack size is restored.
    @Test func test_minimum_stack_size_runs_a_thread() throws {
        let child = try #require(runChild("minimum-stack"))
        #expect(child.stdout == "ran 32768\njoined\n")
        #expect(child.stderr == "")
        #expect(child.status == 0)
    }

    /// A non-daemon thread stores a value with a slow `deinit` in a global `Local`; `main` returns
    /// first. The shutdown waits until the value is released (before, the process exited while
    /// the `deinit` ran, or before it started).
    @Test(arguments: ["finalization-shutdown-local", "finalization-shutdown-threadlocal"])
    func test_finalization_shutdown(scenario: String) throws {
        let child = try #require(runChild(scenario))
        #expect(child.stdout == "end of main\ndeinit done\n")
        #expect(child.stderr == "")
        #expect(child.status == 0)
        #expect(child.seconds >= 0.4, "the process did not wait for the value's deinit")
    }

    @Test func test_locals_at_exit() throws {
        let child = try #require(runChild("locals-at-exit"))
        #expect(child.stdout == "thread_dict.atexit = value\n")
        #expect(child.stderr == "")
        #expect(child.status == 0)
    }

    /// Seen from `atexit` callbacks before and after the module's shutdown.
    @Test func test_main_thread_during_shutdown() throws {
        let child = try #require(runChild("main-thread-during-shutdown"))
        #expect(
            child.stdout == "before shutdown: true true alive: true\nafter shutdown: true true true alive: false\n"
        )
        #expect(child.stderr == "")
        #expect(child.status == 0)
    }

    /// The module's first use is on a raw pthread that `main` does not wait for.
    @Test func test_import_from_another_thread() throws {
        let child = try #require(runChild("import-from-another-thread"))
        #expect(child.stdout == "first use: Dummy-1 daemon: true main: MainThread\ncurrent is main: true\n")
        #expect(child.stderr == "")
        #expect(child.status == 0)
        #expect(child.seconds < 5, "the shutdown waited for a foreign thread")
    }

    /// File descriptor 2 closed (Python's `sys.stderr = None`): the default hook cannot write, and
    /// the process goes on.
    @Test func test_print_exception_stderr_is_none_2() throws {
        let child = try #require(runChild("stderr-closed"))
        #expect(child.stdout == "joined\n")
        #expect(child.stderr == "")
        #expect(child.status == 0)
    }

    @Test func test_start_fails_with_huge_stack_size() throws {
        let child = try #require(runChild("stack-too-big"))
        #expect(
            child.stdout
                == "old: 0\nerror: runtimeError: can't start new thread\nin enumerate: false\nalive: false\nident: nil\ndescription: <Thread(big, initial)>\nran\njoined: stopped\n"
        )
        #expect(child.stderr == "")
        #expect(child.status == 0)
    }
}
