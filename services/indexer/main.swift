import Events
import Foundation
import Index
import Indexing
import Model
import ServiceKit
import ServiceLifecycle
import Storage

// tessera-indexer: the only writer of resource rows. Wires modules together; the logic lives in Shared/.
//   tessera-indexer          consume events, reconcile the blob store, sweep stability and removed blobs
//   tessera-indexer scrub    check every stored file against the MD5 stored at ingest; exit 1 when one differs
//   tessera-indexer migrate  apply the index schema migrations, then exit (compose runs it once before the services)
let bootstrap = ServiceBootstrap.start(service: "indexer", usage: .init(
    executable: "tessera-indexer",
    summary: "Tessera's indexer: consumes the ingest events and writes the PostgreSQL index; reconciles the storage.",
    commands: [("migrate", "apply the index schema migrations (waiting for PostgreSQL), then exit"),
               ("scrub", "check every stored file against its MD5 recorded at ingest; exit 1 when one differs")]))
let configuration = bootstrap.configuration
let logger = bootstrap.logger
let command = bootstrap.command

do {
    let database = IndexDatabase(settings: configuration.database, logger: logger)
    let blobs = try BlobStore(root: configuration.storageDirectory)
    if command == "migrate" {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await database.client.run() }
            try await database.migrateWhenAvailable()
            let version = try await database.migrate()
            logger.info("Index schema current", metadata: ["version": "\(version)"])
            group.cancelAll()
        }
        exit(0)
    }
    if command == "scrub" {
        let failed = try await Scrub.run(database: database, blobs: blobs)
        exit(failed ? 1 : 0)
    }
    let consumers = KafkaConsumer.Factory(bootstrapServers: configuration.broker.bootstrapServers,
                                          groupID: configuration.broker.consumerGroup, properties: configuration.broker.properties, logger: logger)
    let indexer = EventIndexer(consumers: consumers, database: database, blobs: blobs, broker: configuration.broker,
                               recycler: PatientRecycler(database: database, limits: configuration.storageLimits), logger: logger)
    let operations = OperationsServer.make(
        host: bootstrap.operationsHost, port: configuration.metricsPort ?? 9102, metrics: bootstrap.metrics, logger: logger,
        readiness: { await database.isReachable() && consumers.isHealthy })
    let group = ServiceGroup(configuration: .init(
        services: [
            .init(service: database.client),
            .init(service: LogVerbosityWatcher(logger: logger) { try await LogLevelStore(database: database).current() }),
            // DefaultEncoding, as the cluster keeps it (PUT /tools/default-encoding).
            .init(service: SettingWatcher("DefaultEncoding", logger: logger, fetch: {
                try await ScpSettingsStore(database: database).current().defaultEncoding ?? configuration.defaultEncoding
            }, apply: { DefaultEncoding.shared.set($0) })),
            .init(service: indexer),
            .init(service: StabilityService(database: database, stableAgeSeconds: configuration.stableAge, logger: logger)),
            .init(service: BlobReconciler(database: database, blobs: blobs, settings: ReconcilerSettings(configuration),
                                          logger: logger)),
            .init(service: BlobReaper(database: database, blobs: blobs, logger: logger)),
            .init(service: operations),
        ],
        gracefulShutdownSignals: [.sigterm, .sigint],
        logger: logger))
    try await group.run()
} catch {
    logger.critical("tessera-indexer stopped", metadata: ["error": "\(error)"])
    exit(1)
}
