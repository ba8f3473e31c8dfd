// swift-tools-version:6.0
import PackageDescription

// The documentation build of swift-threading, kept out of the library's manifest so that
// building, testing or depending on the library resolves no package at all. It depends on the
// library by path and on swift-docc-plugin; its one target only anchors that dependency, so that
// the plugin sees the `Threading` target:
//
//     swift package --package-path Docs generate-documentation --target Threading
//     Scripts/check docs     # the same, with warnings treated as errors (CI)
let package = Package(
    name: "swift-threading-docs",
    dependencies: [
        .package(name: "swift-threading", path: ".."),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        .target(
            name: "ThreadingDocs",
            dependencies: [.product(name: "Threading", package: "swift-threading")]
        )
    ],
    swiftLanguageModes: [.v6]
)
