// swift-tools-version:6.0
import PackageDescription

/// Settings every Herald target shares: strict, explicit imports and existential `any`.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "Herald",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "herald", targets: ["herald"])
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", exact: "0.6.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", exact: "2.1.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        // ncursesw, wrapped with static inline shims for what Swift cannot import.
        .systemLibrary(
            name: "CNCursesW",
            pkgConfig: "ncursesw",
            providers: [.apt(["libncurses-dev"])]
        ),
        // sqlite3_config, wrapped for Swift (it is variadic): process-wide SQLite settings.
        .systemLibrary(name: "CSQLiteSetup", providers: [.apt(["libsqlite3-dev"])]),
        // libcurl, wrapped for Swift (its option setters are variadic): SMTP and HTTP for the
        // network providers.
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // Pure values: catalog, rules, campaign graph, validation, message templates. No I/O.
        .target(
            name: "HeraldCore", dependencies: [.product(name: "Mustache", package: "swift-mustache")], swiftSettings: strictSettings),
        // SQLite through GRDB: migrations, catalog discovery, repositories, import.
        .target(
            name: "HeraldStore",
            dependencies: [
                "HeraldCore", "CSQLiteSetup",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Delivery configuration (TOML), the providers that need no network (outbox, direct-mail
        // extracts, discard), e-mail MIME and signed unsubscribe tokens.
        .target(
            name: "HeraldDelivery",
            dependencies: [
                "HeraldCore", "CCurl",
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Rule to SQL compiler (dialect seam), the run executor and the delivery worker.
        .target(
            name: "HeraldEngine",
            dependencies: [
                "HeraldCore", "HeraldStore", "HeraldDelivery",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // The deterministic travel-company data generator behind `herald demo`; its campaigns
        // are the files in Examples/, embedded at build time.
        .target(
            name: "HeraldDemo",
            dependencies: [
                "HeraldCore", "HeraldStore",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strictSettings,
            plugins: ["EmbedExamples"]
        ),
        .executableTarget(name: "herald-embed-examples", swiftSettings: strictSettings),
        .plugin(name: "EmbedExamples", capability: .buildTool(), dependencies: ["herald-embed-examples"]),
        // The one-click unsubscribe and inbound SMS opt-out server behind `herald serve`.
        .target(
            name: "HeraldServe",
            dependencies: [
                "HeraldCore", "HeraldStore", "HeraldDelivery",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Terminal UI: driver, cell grid, layout, views, themes. The only curses caller.
        .target(
            name: "HeraldTUI",
            dependencies: [
                "HeraldCore", "HeraldStore", "HeraldEngine", "HeraldDelivery", "HeraldDemo", "CNCursesW",
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "herald",
            dependencies: [
                "HeraldCore", "HeraldStore", "HeraldEngine", "HeraldDemo", "HeraldTUI", "HeraldDelivery", "HeraldServe",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Audience-count benchmark against the sqlite3 shell: swift run -c release herald-bench STORE
        .executableTarget(
            name: "herald-bench",
            dependencies: ["HeraldCore", "HeraldStore", "HeraldEngine"],
            path: "Benchmarks/AudienceBench",
            swiftSettings: strictSettings
        ),
        // Layout time of 10-, 50- and 200-node graphs: swift run -c release herald-layout-bench
        .executableTarget(
            name: "herald-layout-bench", dependencies: ["HeraldCore", "HeraldTUI"], path: "Benchmarks/Designer/LayoutBench",
            swiftSettings: strictSettings),
        // The real servers tests talk to (SMTP, an HTTP gateway), started from Tests/Servers.
        .target(name: "HeraldTestServers", path: "Tests/Support", swiftSettings: strictSettings),
        .testTarget(name: "HeraldCoreTests", dependencies: ["HeraldCore"], swiftSettings: strictSettings),
        .testTarget(
            name: "HeraldStoreTests",
            dependencies: [
                "HeraldCore", "HeraldStore", "HeraldEngine", "HeraldDemo", "HeraldDelivery", "HeraldTestServers",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "HeraldTUITests",
            dependencies: ["HeraldCore", "HeraldStore", "HeraldEngine", "HeraldTUI"],
            exclude: ["__Snapshots__"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "HeraldEndToEndTests",
            dependencies: ["HeraldCore", "HeraldTestServers"],
            exclude: ["Fixtures"],
            swiftSettings: strictSettings
        ),
    ]
)
