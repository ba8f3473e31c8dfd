// swift-tools-version:6.0
import PackageDescription

// The benchmarks: swift-threading's primitives beside the peers Swift programs use today
// (Synchronization, pthreads, POSIX semaphores, Foundation, Dispatch), in one run, with ratios.
//
//     swift run -c release --package-path Benchmarks threading-benchmarks
let package = Package(
    name: "swift-threading-benchmarks",
    dependencies: [
        .package(name: "swift-threading", path: ".."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-async-algorithms", from: "1.1.4"),
    ],
    targets: [
        .target(name: "CBench", cSettings: [.define("_GNU_SOURCE")]),
        .target(name: "Floors"),
        .executableTarget(
            name: "threading-benchmarks",
            dependencies: [
                .product(name: "Threading", package: "swift-threading"), "CBench",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"), "Floors",
            ]
        ),
        .executableTarget(
            name: "threading-instructions",
            dependencies: [.product(name: "Threading", package: "swift-threading"), "Floors", "CBench"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
