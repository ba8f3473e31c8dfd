// swift-tools-version:6.1
import PackageDescription

// Regression baselines of swift-threading's hot operations on ordo-one's package-benchmark:
// wall-clock and malloc counts per operation, checked against the thresholds stored in
// Thresholds/. The side-by-side harness in Benchmarks/ stays for the comparisons with peers.
//
//     Scripts/check bench           run and check against the stored thresholds
//     Scripts/check bench-update    store new thresholds (after a deliberate change)
let package = Package(
    name: "swift-threading-baselines",
    dependencies: [
        .package(name: "swift-threading", path: "../.."),
        // MallocInterposer counts allocations; the other default trait (a Swift runtime
        // interposer) is left out.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "ThreadingBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Threading", package: "swift-threading"),
            ],
            path: "Benchmarks/ThreadingBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ],
    swiftLanguageModes: [.v6]
)
