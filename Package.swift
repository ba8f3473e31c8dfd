// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "swift-threading",
    products: [
        .library(name: "Threading", targets: ["Threading"]),
        .executable(name: "threading-demo", targets: ["threading-demo"]),
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
        .testTarget(
            name: "ThreadingTests",
            dependencies: ["Threading", "CThreading"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
