// swift-tools-version: 6.2
import PackageDescription

/// Settings every Nimbus target shares: Swift 6 language mode, warnings are errors.
let strict: [SwiftSetting] = [
    .treatAllWarnings(as: .error)
]

let package = Package(
    name: "Nimbus",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "nimbus", targets: ["nimbus"]),
        .executable(name: "nimbus-server", targets: ["nimbus-server"]),
        .executable(name: "nimbus-agent", targets: ["nimbus-agent"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // Layer 1: C system libraries.
        .systemLibrary(name: "CLibSSH2", pkgConfig: "libssh2", providers: [.apt(["libssh2-1-dev"])]),
        .systemLibrary(name: "CGlibcMalloc"),
        .systemLibrary(name: "CLibvirt", pkgConfig: "libvirt", providers: [.apt(["libvirt-dev"])]),
        // Layer 2: thin Swift owners of those libraries, knowing nothing of clouds.
        .target(
            name: "SSH",
            dependencies: ["CLibSSH2", .product(name: "Crypto", package: "swift-crypto")],
            exclude: ["README.md"],
            swiftSettings: strict
        ),
        .target(name: "Libvirt", dependencies: ["CLibvirt"], exclude: ["README.md"], swiftSettings: strict),
        // Layer 3: orchestrator libraries.
        .target(
            name: "NimbusModel",
            swiftSettings: strict
        ),
        // Running programs, reading system files, probing HTTP and TCP: for the deploy
        // side, the services and the agents alike.
        .target(
            name: "NimbusSystem",
            dependencies: [
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strict
        ),
        // The service manifest (roles/services.yaml) and templates: read by the deploy
        // side and by nimbus-server, so it knows nothing of answer files or hosts.
        .target(
            name: "NimbusManifest",
            dependencies: [
                .product(name: "Yams", package: "Yams"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "NimbusConfig",
            dependencies: ["NimbusModel", "NimbusSystem"],
            swiftSettings: strict
        ),
        .target(
            name: "NimbusPlan",
            dependencies: [
                "NimbusModel", "NimbusConfig", "NimbusManifest",
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "NimbusSandbox",
            dependencies: ["NimbusModel", "NimbusConfig", "NimbusSystem"],
            swiftSettings: strict
        ),
        .target(
            name: "NimbusRollout",
            dependencies: ["NimbusModel", "NimbusConfig", "NimbusPlan", "NimbusManifest", "NimbusSystem", "SSH"],
            swiftSettings: strict
        ),
        .target(
            name: "NimbusCLI",
            dependencies: [
                "NimbusModel", "NimbusConfig", "NimbusPlan", "NimbusManifest", "NimbusSystem", "NimbusSandbox",
                "NimbusRollout",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // Layer 4: service libraries: shared OpenStack HTTP plumbing, then one per service.
        .target(
            name: "NimbusServiceKit",
            dependencies: [
                "CGlibcMalloc", "NimbusModel", "NimbusSystem",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "NimbusIdentity",
            dependencies: [
                "NimbusServiceKit",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "NimbusImage",
            dependencies: [
                "NimbusServiceKit",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "NimbusObject",
            dependencies: [
                "NimbusServiceKit",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // The network service (Neutron v2.0): IPAM, the API, and what its agents apply.
        .target(
            name: "NimbusNetwork",
            dependencies: [
                "NimbusModel", "NimbusServiceKit",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: strict
        ),
        // The network agents' dataplane: what the L2, DHCP and L3 agents make of the network
        // service's desired state on a host (bridges, VXLAN, dnsmasq, namespaces, nftables).
        .target(
            name: "NimbusNetworkAgent",
            dependencies: [
                "NimbusAgentKit", "NimbusGuestData", "NimbusServiceKit", "NimbusSystem",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // What a guest is told about itself (the config drive's and the metadata service's
        // documents) and how the metadata proxy vouches for the instance asking.
        .target(
            name: "NimbusGuestData",
            dependencies: ["NimbusServiceKit", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        // The compute service (Nova v2.1): flavors, key pairs, servers, and the scheduler.
        .target(
            name: "NimbusCompute",
            dependencies: [
                "NimbusGuestData", "NimbusServiceKit", "NimbusSystem",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // The block-storage service (Cinder v3): volumes, snapshots, types, quotas.
        .target(
            name: "NimbusBlockStorage",
            dependencies: [
                "NimbusServiceKit", "NimbusSystem", .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: strict
        ),
        // The volume agent's pieces: the pool's volume files and their snapshots.
        .target(
            name: "NimbusVolumeAgent",
            dependencies: [
                "NimbusAgentKit", "NimbusServiceKit", "NimbusSystem", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The compute agent's pieces: domain XML, config drives, instance disks, libvirt.
        .target(
            name: "NimbusComputeAgent",
            dependencies: [
                "Libvirt", "NimbusAgentKit", "NimbusGuestData", "NimbusServiceKit", "NimbusSystem",
                .product(name: "Logging", package: "swift-log"), .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // What every host agent stands on: the channel to its API (list + watch,
        // heartbeats), reconcilers, back-off.
        .target(
            name: "NimbusAgentKit",
            dependencies: [
                "NimbusServiceKit", "NimbusSystem",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "NimbusServer",
            dependencies: [
                "NimbusServiceKit", "NimbusIdentity", "NimbusImage", "NimbusObject", "NimbusNetwork", "NimbusCompute",
                "NimbusBlockStorage", "NimbusModel",
                "NimbusManifest",
                "NimbusSystem",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // The host agents' commands: configuration, login, follower, heartbeats.
        .target(
            name: "NimbusAgentCLI",
            dependencies: [
                "NimbusAgentKit", "NimbusNetworkAgent", "NimbusComputeAgent", "NimbusVolumeAgent", "Libvirt",
                "NimbusServiceKit", "NimbusSystem",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // Layer 5: executables only parse arguments and call libraries.
        .executableTarget(
            name: "nimbus",
            dependencies: ["NimbusCLI"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "nimbus-agent",
            dependencies: ["NimbusAgentCLI", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "nimbus-server",
            dependencies: ["NimbusServer", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        // The smallest API with agents, run as real processes by the integration suite.
        .executableTarget(
            name: "nimbus-channel-test",
            dependencies: [
                "NimbusAgentKit", "NimbusServiceKit",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/ChannelTestService",
            swiftSettings: strict
        ),
        // Shared by the service tests: the identity service in-process.
        .target(
            name: "NimbusTestSupport",
            dependencies: [
                "NimbusIdentity", "NimbusServiceKit",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/Support",
            swiftSettings: strict
        ),
        .testTarget(
            name: "NimbusImageTests",
            dependencies: [
                "NimbusImage", "NimbusObject", "NimbusIdentity", "NimbusServiceKit", "NimbusTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "NimbusObjectTests",
            dependencies: [
                "NimbusObject", "NimbusIdentity", "NimbusServiceKit", "NimbusTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "NimbusNetworkTests",
            dependencies: [
                "NimbusNetwork", "NimbusIdentity", "NimbusServiceKit", "NimbusTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "NimbusComputeTests",
            dependencies: [
                "NimbusCompute", "NimbusGuestData", "NimbusIdentity", "NimbusServiceKit", "NimbusTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "NimbusBlockStorageTests",
            dependencies: [
                "NimbusBlockStorage", "NimbusIdentity", "NimbusServiceKit", "NimbusTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "NimbusVolumeAgentTests",
            dependencies: [
                "NimbusVolumeAgent", "NimbusAgentKit", "NimbusServiceKit", "NimbusSystem",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "NimbusComputeAgentTests",
            dependencies: [
                "NimbusComputeAgent", "NimbusAgentKit", "NimbusGuestData", "Libvirt", "NimbusServiceKit",
                "NimbusSystem", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "NimbusNetworkAgentTests",
            dependencies: ["NimbusNetworkAgent", "NimbusAgentKit", "NimbusServiceKit", "NimbusSystem"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "NimbusAgentKitTests",
            dependencies: [
                "NimbusAgentKit", "NimbusServiceKit", "NimbusTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "NimbusModelTests",
            dependencies: ["NimbusModel", "NimbusSystem"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "NimbusConfigTests",
            dependencies: ["NimbusConfig", "NimbusModel"],
            resources: [.copy("Fixtures")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "NimbusPlanTests",
            dependencies: ["NimbusPlan", "NimbusConfig", "NimbusModel", "NimbusCLI"],
            resources: [.copy("Fixtures")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "NimbusSandboxTests",
            dependencies: ["NimbusSandbox", "NimbusConfig", "NimbusModel"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "NimbusIdentityTests",
            dependencies: [
                "NimbusIdentity", "NimbusServiceKit", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "NimbusServiceKitTests",
            dependencies: ["NimbusServiceKit", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "NimbusRolloutTests",
            dependencies: ["NimbusRollout", "NimbusPlan", "NimbusConfig"],
            exclude: ["Fixtures"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SSHTests",
            dependencies: ["SSH"],
            swiftSettings: strict
        ),
        .testTarget(name: "LibvirtTests", dependencies: ["Libvirt"], swiftSettings: strict),
        .testTarget(
            name: "NimbusIntegrationTests",
            dependencies: ["nimbus", "nimbus-channel-test", "SSH"],
            swiftSettings: strict
        ),
    ],
    swiftLanguageModes: [.v6]
)
