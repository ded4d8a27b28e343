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
    ],
    targets: [
        .systemLibrary(
            name: "CZstd",
            pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]
        ),
        // CLD2 (Debian libcld2-dev) behind a plain C header, so no Swift importer needs C++ interop.
        .target(
            name: "CCLD2",
            linkerSettings: [.linkedLibrary("cld2")]
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
            name: "EnrichStage",
            dependencies: [
                "RunnelProtocol",
                "RunnelStage",
                "CCLD2",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Sources/Stages/Enrich"
        ),
        .target(name: "RunnelTesting", dependencies: ["RunnelProtocol", "RunnelTransport", "RunnelStage"]),
        .executableTarget(
            name: "runnel",
            dependencies: [
                "RunnelProtocol",
                "RunnelTransport",
                "RunnelStage",
                "EnrichStage",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // A benchmark program, not a test: Enricher alone beside the JSON around it.
        .executableTarget(
            name: "EnrichBenchmark",
            dependencies: ["EnrichStage", "RunnelProtocol"],
            path: "Benchmarks/EnrichBenchmark"
        ),
        .testTarget(name: "RunnelProtocolTests", dependencies: ["RunnelProtocol"]),
        .testTarget(name: "RunnelTransportTests", dependencies: ["RunnelTransport"]),
        .testTarget(name: "RunnelCLITests", dependencies: ["RunnelProtocol", "RunnelTesting"]),
        .testTarget(
            name: "EnrichStageTests",
            dependencies: ["EnrichStage", "RunnelProtocol", "RunnelStage", "RunnelTesting"],
            resources: [.copy("Fixtures")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
