// swift-tools-version:6.0
import PackageDescription

// Threading beside Foundation and SwiftNIO in one program: the scoped imports of the README's
// "Living beside Foundation, NIO and Vapor", compiled (and run) by .ci/run with warnings as errors.
// A separate package, so that the library itself stays free of dependencies.
//
//     swift run --package-path Examples/Interop interop
// snippet: readme-package
let package = Package(
    name: "interop",
    dependencies: [
        .package(name: "swift-threading", path: "../.."),  // or .package(url: …, from: …)
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
    ],
    targets: [
        .executableTarget(
            name: "interop",
            dependencies: [
                .product(name: "Threading", package: "swift-threading"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        )
    ],
    swiftLanguageModes: [.v6]
)
// snippet: end
