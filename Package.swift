// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Kopa",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Ledger", targets: ["Ledger"]),
        .executable(name: "kopa", targets: ["kopa"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CLZ4",
            pkgConfig: "liblz4",
            providers: [.apt(["liblz4-dev"])]
        ),
        // Calls sqlite3_config, a variadic C function Swift cannot call (see SQLiteSetup.swift).
        .target(name: "CSQLiteSetup", linkerSettings: [.linkedLibrary("sqlite3")]),
        // Removes an export's or a restore's temporary file when a signal stops the process
        // (a signal handler must be async-signal-safe C; see TemporaryFiles.swift).
        .target(name: "CCleanup"),
        .target(
            name: "Ledger",
            dependencies: [
                "CLZ4",
                "CSQLiteSetup",
                "CCleanup",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "kopa",
            dependencies: [
                "Ledger",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "KopaTestSupport", dependencies: ["Ledger"], path: "Tests/KopaTestSupport"),
        .testTarget(
            name: "LedgerTests",
            dependencies: [
                "Ledger",
                "KopaTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(name: "KopaTests", dependencies: ["kopa", "Ledger", "KopaTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)

for target in package.targets where target.type != .system && target.name != "CSQLiteSetup" && target.name != "CCleanup" {
    var settings = target.swiftSettings ?? []
    // https://github.com/swiftlang/swift-evolution/blob/main/proposals/0335-existential-any.md
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    // https://github.com/swiftlang/swift-evolution/blob/main/proposals/0444-member-import-visibility.md
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    target.swiftSettings = settings
}
