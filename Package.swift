// swift-tools-version: 6.0
import PackageDescription

// Layers, bottom up: the C shims; RunnelProtocol (messages and codecs, no I/O); RunnelStage (the
// Stage protocol and the runner); one module per stage; the `runnel` executable on top.
let package = Package(
    name: "Runnel",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "runnel", targets: ["runnel"]),
        .library(name: "RunnelProtocol", targets: ["RunnelProtocol"]),
        .library(name: "RunnelStage", targets: ["RunnelStage"]),
        .library(name: "RunnelTesting", targets: ["RunnelTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CZstd",
            pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]
        ),
        .target(name: "RunnelProtocol", dependencies: ["CZstd"]),
        .target(
            name: "RunnelTransport",
            dependencies: [
                "RunnelProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(name: "RunnelStage", dependencies: ["RunnelProtocol", "RunnelTransport"]),
        .target(
            name: "StoreStage",
            dependencies: ["RunnelProtocol", "RunnelStage", .product(name: "GRDB", package: "GRDB.swift")],
            path: "Sources/Stages/Store"
        ),
        .target(name: "RunnelTesting", dependencies: ["RunnelProtocol", "RunnelTransport", "RunnelStage"]),
        .executableTarget(
            name: "runnel",
            dependencies: [
                "RunnelProtocol",
                "RunnelTransport",
                "RunnelStage",
                "StoreStage",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "RunnelProtocolTests", dependencies: ["RunnelProtocol"]),
        .testTarget(name: "RunnelTransportTests", dependencies: ["RunnelTransport"]),
        .testTarget(name: "RunnelCLITests", dependencies: ["RunnelProtocol", "RunnelTesting"]),
        .testTarget(
            name: "StoreStageTests",
            dependencies: ["StoreStage", "RunnelProtocol", "RunnelStage", .product(name: "GRDB", package: "GRDB.swift")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
