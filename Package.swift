// swift-tools-version: 6.0
import PackageDescription

// Layers, bottom up: the C shims; RunnelProtocol (messages and codecs, no I/O); RunnelTransport
// (endpoints, socket links, handshake, credit/ack windows); RunnelStage (the Stage protocol and
// its runners); one module per stage; the `runnel` executable on top. Heavy dependencies stay in
// the modules that need them: AsyncHTTPClient only in FetchStage.
//
// Supported platform: Linux, built and tested on Debian 12 with Swift 6.x (Scripts/test.sh is what
// CI runs). macOS is not supported, so no `platforms:` is declared: the C shims expect the Debian
// packages that Scripts/lib/setup.sh installs with apt-get (libzstd-dev, libcld2-dev,
// libxml2-dev, libnats-dev), and the code calls Glibc directly (`import Glibc` with no Darwin
// branch in most files, SOCK_CLOEXEC, /proc/self/exe). Nobody has built it on macOS.
let package = Package(
    name: "Runnel",
    products: [
        .executable(name: "runnel", targets: ["runnel"]),
        .library(name: "RunnelProtocol", targets: ["RunnelProtocol"]),
        .library(name: "RunnelStage", targets: ["RunnelStage"]),
        .library(name: "RunnelTesting", targets: ["RunnelTesting"]),
        .library(name: "FetchStage", targets: ["FetchStage"]),
        .library(name: "ParseStage", targets: ["ParseStage"]),
        .library(name: "StoreStage", targets: ["StoreStage"]),
        .library(name: "EnrichStage", targets: ["EnrichStage"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        // The fetch stage's HTTP client: it adds ~5 minutes to a clean build.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // The store stage's PostgreSQL client (`--db postgres://...`).
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        // The control side: logs, metrics, services with graceful shutdown, the pipeline file.
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
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
        .systemLibrary(
            name: "CLibXML2",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"])]
        ),
        // Google's gumbo (Debian libgumbo-dev): the parse stage's HTML5 tree construction.
        .systemLibrary(name: "CGumbo", pkgConfig: "gumbo", providers: [.apt(["libgumbo-dev"])]),
        // The NATS C client (Debian libnats-dev) behind a plain C header: JetStream endpoints.
        .target(
            name: "CNats",
            linkerSettings: [.linkedLibrary("nats")]
        ),
        // libdeflate (Debian libdeflate-dev): fetch's gzip and deflate bodies, decoded whole.
        .systemLibrary(name: "CDeflate", pkgConfig: "libdeflate", providers: [.apt(["libdeflate-dev"])]),
        // SIGTERM and friends through a self-pipe: none lost while a stage starts (SignalWatch).
        .target(name: "CSignals"),
        // The Swift runtime's global-executor hook, linked rather than looked up: NIO's event
        // loops as the threads tasks run on (`RUNNEL_EXECUTOR=loops`) in static builds too.
        .target(name: "CExecutorHook"),
        // JSON strings sixteen bytes at a time (SSE2): the line check's and parse's hottest loops.
        .target(name: "CJSONScan"),
        .target(name: "RunnelProtocol", dependencies: ["CZstd", "CJSONScan"]),
        .target(
            name: "RunnelTransport",
            dependencies: [
                "RunnelProtocol",
                "CNats",
                "CSignals",
                "CExecutorHook",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ]
        ),
        .target(
            name: "RunnelStage",
            dependencies: [
                "RunnelProtocol",
                "RunnelTransport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),  // the tap
            ]
        ),
        .target(name: "RunnelTesting", dependencies: ["RunnelProtocol", "RunnelTransport", "RunnelStage"]),
        .target(
            name: "RunnelSupervisor",
            dependencies: [
                "RunnelProtocol",
                "RunnelTransport",
                "RunnelStage",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            exclude: ["README.md"]
        ),
        // Replay of logs into stages, and the comparison of a stage's outputs with captured ones.
        .target(name: "RunnelReplay", dependencies: ["RunnelProtocol", "RunnelTransport", "RunnelStage"]),

        // The stages.
        .target(
            name: "FetchStage",
            dependencies: [
                "RunnelProtocol",
                "RunnelStage",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                "CDeflate",
                "CJSONScan",
            ],
            path: "Sources/Stages/Fetch"
        ),
        .target(
            name: "ParseStage",
            dependencies: ["RunnelProtocol", "RunnelStage", "CJSONScan", "CLibXML2", "CGumbo"],
            path: "Sources/Stages/Parse"
        ),
        .target(
            name: "StoreStage",
            dependencies: [
                "RunnelProtocol",
                "RunnelStage",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Sources/Stages/Store"
        ),
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

        .executableTarget(
            name: "runnel",
            dependencies: [
                "RunnelProtocol",
                "RunnelTransport",
                "RunnelStage",
                "RunnelSupervisor",
                "RunnelReplay",
                "ParseStage",
                "EnrichStage",
                "FetchStage",
                "StoreStage",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // A benchmark program, not a test: Enricher alone beside the JSON around it.
        .executableTarget(
            name: "EnrichBenchmark",
            dependencies: ["EnrichStage", "RunnelProtocol"],
            path: "Sources/Benchmarks/EnrichBenchmark"
        ),
        .testTarget(name: "RunnelProtocolTests", dependencies: ["RunnelProtocol", "CJSONScan"]),
        .testTarget(name: "RunnelTransportTests", dependencies: ["RunnelTransport", "RunnelTesting"]),
        .testTarget(
            name: "RunnelSupervisorTests",
            dependencies: [
                "RunnelSupervisor",
                "RunnelProtocol",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "RunnelStageTests",
            dependencies: ["RunnelStage", "RunnelProtocol", "RunnelTransport", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(name: "RunnelReplayTests", dependencies: ["RunnelReplay", "RunnelProtocol"]),
        .testTarget(name: "RunnelCLITests", dependencies: ["RunnelProtocol", "RunnelTesting"], exclude: ["Fixtures"]),
        .testTarget(
            name: "EnrichStageTests",
            dependencies: ["EnrichStage", "RunnelProtocol", "RunnelStage", "RunnelTesting"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "FetchStageTests",
            dependencies: [
                "FetchStage",
                "RunnelProtocol",
                "RunnelStage",
                "RunnelTransport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Tests/Stages/FetchTests"
        ),
        .testTarget(
            name: "ParseStageTests",
            dependencies: ["ParseStage", "RunnelProtocol", "RunnelStage"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "StoreStageTests",
            dependencies: ["StoreStage", "RunnelProtocol", "RunnelStage", .product(name: "GRDB", package: "GRDB.swift")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
