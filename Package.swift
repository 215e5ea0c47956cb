// swift-tools-version:6.0
import PackageDescription

/// DCMTK 3.6.7 libraries (Debian `libdcmtk-dev`; dcmtls is its OpenSSL transport, for DICOM TLS). Listed explicitly: `pkg-config dcmtk` is broken on Debian (see TOOLCHAIN.md).
/// libjpeg (Debian `libjpeg-dev`, libjpeg-turbo) writes the JPEG answers of the image routes; DCMTK's own IJG copies
/// have prefixed names (jpeg8_...) and do not clash with it. OpenJPEG (Debian `libopenjp2-7-dev`) decodes JPEG 2000;
/// libpng (Debian `libpng-dev`) reads the PNG images of /tools/create-dicom, as Orthanc's PngReader. OpenSSL's libcrypto
/// (Debian `libssl-dev`, which DCMTK's TLS needs anyway) computes the MD5 of a C-STORE's dataset as it is received.
let dcmtkLibraries: [LinkerSetting] = [
    "dcmtls", "dcmnet", "dcmdata", "dcmimage", "dcmimgle", "dcmjpeg", "ijg8", "ijg12", "ijg16",
    "dcmjpls", "dcmtkcharls", "oflog", "ofstd", "z", "jpeg", "png16", "openjp2", "crypto",
].map { .linkedLibrary($0) }

/// librdkafka 2.16, installed by scripts/bootstrap (Debian's 2.0.2 cannot talk to the tansu broker). The file is given
/// to the linker by path, so no -L order (pkg-config of other packages adds /usr/lib/x86_64-linux-gnu first) can make
/// it pick Debian's; at run time it is found by its soname through ldconfig.
let rdkafkaLinkerSettings: [LinkerSetting] = [.unsafeFlags(["-Xlinker", "/usr/local/lib/x86_64-linux-gnu/librdkafka.so"])]

let package = Package(
    name: "Tessera",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "tessera-gateway", targets: ["tessera-gateway"]),
        .executable(name: "tessera-indexer", targets: ["tessera-indexer"]),
        .executable(name: "tessera-api", targets: ["tessera-api"]),
        .executable(name: "tessera-worker", targets: ["tessera-worker"]),
    ],
    // Exact versions: Package.resolved is not kept in git (the build machines' package mirror has its own commit ids),
    // so the image (Dockerfile) and every machine build with these; scripts/check-deployment checks the Swift they need.
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", exact: "2.28.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", exact: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio.git", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-log.git", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", exact: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", exact: "4.5.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", exact: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", exact: "2.37.6"),
        .package(url: "https://github.com/weichsel/ZIPFoundation.git", exact: "0.9.20"),
    ],
    targets: [
        // MARK: Shared libraries
        .target(
            name: "CDICOM",
            path: "Shared/CDICOM",
            linkerSettings: dcmtkLibraries
        ),
        .target(
            name: "DICOM",
            dependencies: ["CDICOM", "Model", .product(name: "Logging", package: "swift-log")],
            path: "Shared/DICOM"
        ),
        .target(
            name: "Model",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            path: "Shared/Model"
        ),
        .target(
            name: "Storage",
            dependencies: [
                "Model",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Shared/Storage"
        ),
        .systemLibrary(name: "CRdKafka", path: "Shared/CRdKafka"),
        .systemLibrary(name: "CTesseraZlib", path: "Shared/CTesseraZlib"),
        .target(
            name: "Archive",
            dependencies: ["CTesseraZlib", .product(name: "NIOCore", package: "swift-nio")],
            path: "Shared/Archive"
        ),
        .target(
            name: "Events",
            dependencies: [
                "CRdKafka", "Model",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/Events",
            linkerSettings: rdkafkaLinkerSettings
        ),
        .target(
            name: "Ingest",
            dependencies: [
                "DICOM", "Model", "Storage", "Events",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            path: "Shared/Ingest"
        ),
        .target(
            name: "Index",
            dependencies: [
                "Model",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Shared/Index"
        ),
        .target(
            name: "Indexing",
            dependencies: [
                "DICOM", "Events", "Index", "Model", "Storage",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/Indexing"
        ),
        .target(
            name: "ResourceArchive",
            dependencies: ["Archive", "DICOM", "Index", "Model", "Storage", .product(name: "NIOCore", package: "swift-nio")],
            path: "Shared/ResourceArchive"
        ),
        .target(
            name: "Jobs",
            dependencies: [
                "Archive", "DICOM", "Index", "Ingest", "Model", "Modification", "ResourceArchive", "Storage",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/Jobs"
        ),
        .target(
            name: "EdgeReceiver",
            dependencies: [
                "DICOM", "Index", "Ingest", "Jobs", "Model", "ServiceKit",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/EdgeReceiver"
        ),
        .target(
            name: "Imaging",
            dependencies: ["Archive", "CDICOM", "CTesseraZlib", "DICOM", "Model"],
            path: "Shared/Imaging"
        ),
        .target(
            name: "Modification",
            dependencies: ["DICOM", "Model", .product(name: "Crypto", package: "swift-crypto")],
            path: "Shared/Modification"
        ),
        .target(
            name: "QueryRetrieve",
            dependencies: [
                "DICOM", "Index", "Jobs", "Model", "ServiceKit", "Storage",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/QueryRetrieve"
        ),
        .target(
            name: "ServiceKit",
            dependencies: [
                "Model",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/ServiceKit"
        ),

        // MARK: Services
        .executableTarget(
            name: "tessera-gateway",
            dependencies: ["DICOM", "EdgeReceiver", "Model", "Storage", "Events", "Index", "Ingest", "Jobs", "QueryRetrieve", "ServiceKit",
                           .product(name: "Metrics", package: "swift-metrics"),
                           .product(name: "NIOPosix", package: "swift-nio")],
            path: "services/dicom-gateway"
        ),
        .executableTarget(
            name: "tessera-indexer",
            dependencies: ["Model", "Events", "Index", "Indexing", "Storage", "ServiceKit"],
            path: "services/indexer"
        ),
        .executableTarget(
            name: "tessera-worker",
            dependencies: ["DICOM", "Events", "Model", "Index", "Ingest", "Jobs", "Storage", "ServiceKit",
                           .product(name: "AsyncHTTPClient", package: "async-http-client"),
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOPosix", package: "swift-nio")],
            path: "services/job-worker"
        ),
        .executableTarget(
            name: "tessera-api",
            dependencies: [
                "DICOM", "Model", "Index", "Jobs", "Indexing", "Storage", "ServiceKit", "Ingest", "Events", "Archive",
                "Imaging", "Modification", "QueryRetrieve", "ResourceArchive",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            path: "services/rest-api"
        ),

        // MARK: Tests
        .testTarget(
            name: "UnitTests",
            dependencies: ["Model", "DICOM", "EdgeReceiver", "Events", "Storage", "Archive", "ServiceKit", "Imaging", "Ingest", "Index", "Jobs", "Modification", "QueryRetrieve",
                           "ResourceArchive",
                           .product(name: "ZIPFoundation", package: "ZIPFoundation")],
            path: "Tests/UnitTests",
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "Model", "DICOM", "Events", "Index",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            path: "Tests/IntegrationTests"
        ),
    ],
    swiftLanguageModes: [.v6],
    cxxLanguageStandard: .cxx17
)
