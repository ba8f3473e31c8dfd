// swift-tools-version:6.0
import PackageDescription

// The benchmarks: swift-threading's primitives beside the peers Swift programs use today
// (Synchronization, pthreads, POSIX semaphores, Foundation, Dispatch), in one run, with ratios.
//
//     swift run -c release --package-path Benchmarks threading-benchmarks
let package = Package(
    name: "swift-threading-benchmarks",
    dependencies: [.package(name: "swift-threading", path: "..")],
    targets: [
        .target(name: "CBench", cSettings: [.define("_GNU_SOURCE")]),
        .executableTarget(
            name: "threading-benchmarks",
            dependencies: [.product(name: "Threading", package: "swift-threading"), "CBench"]
        ),
        .executableTarget(
            name: "threading-instructions",
            dependencies: [.product(name: "Threading", package: "swift-threading")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
