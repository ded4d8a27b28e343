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
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CZstd",
            pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]
        ),
        .systemLibrary(
            name: "CLibXML2",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"])]
        ),
        .target(name: "RunnelProtocol", dependencies: ["CZstd"]),
        .target(name: "RunnelTransport", dependencies: ["RunnelProtocol"]),
        .target(name: "RunnelStage", dependencies: ["RunnelProtocol", "RunnelTransport"]),
        .target(
            name: "ParseStage",
            dependencies: ["RunnelProtocol", "RunnelStage", "CLibXML2"],
            path: "Sources/Stages/Parse"
        ),
        .executableTarget(
            name: "runnel",
            dependencies: [
                "RunnelProtocol",
                "RunnelTransport",
                "RunnelStage",
                "ParseStage",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "RunnelProtocolTests", dependencies: ["RunnelProtocol"]),
        .testTarget(name: "RunnelCLITests", dependencies: ["RunnelProtocol"]),
        .testTarget(
            name: "ParseStageTests",
            dependencies: ["ParseStage", "RunnelProtocol", "RunnelStage"],
            exclude: ["Fixtures"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
