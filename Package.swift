// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "swift-threading",
    products: [
        .library(name: "Threading", targets: ["Threading"]),
        .executable(name: "threading-demo", targets: ["threading-demo"]),
        .executable(name: "threading-stress", targets: ["threading-stress"]),
    ],
    targets: [
        // The few platform calls that `Glibc` does not expose: futex, gettid, thread names, CPU affinity.
        .target(
            name: "CThreading",
            cSettings: [.define("_GNU_SOURCE")]
        ),
        .target(
            name: "Threading",
            dependencies: ["CThreading"],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        ),
        .executableTarget(
            name: "threading-demo",
            dependencies: ["Threading"]
        ),
        // The randomized stress checker: mixed workloads over every primitive, invariants checked
        // continuously, a watchdog that reports a deadlock instead of hanging.
        .executableTarget(
            name: "threading-stress",
            dependencies: ["Threading", "CThreading"]
        ),
        // Every Swift example of the README, the DocC catalog and the `///` comments, compiled as a
        // user would write it; `Scripts/check-doc-examples` checks that the docs quote these files.
        .executableTarget(
            name: "docs-examples",
            dependencies: ["Threading"]
        ),
        // A child process for the tests of what happens at process exit (shutdown, excepthook output).
        .executableTarget(
            name: "threading-test-child",
            dependencies: ["Threading"],
            path: "Sources/threading-test-child"
        ),
        // The same for an `async` main (a server's shape): the main actor on Dispatch's threads.
        .executableTarget(
            name: "threading-async-child",
            dependencies: ["Threading"],
            path: "Sources/threading-async-child"
        ),
        .testTarget(
            name: "ThreadingTests",
            dependencies: ["Threading", "CThreading", "threading-test-child", "threading-async-child"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
