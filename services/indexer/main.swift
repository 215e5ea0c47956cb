import Events
import Foundation
import Index
import Model
import ServiceKit
import ServiceLifecycle
import Storage

// tessera-indexer: the only writer of resource rows. Wires modules together; the logic lives in Shared/.
let bootstrap = ServiceBootstrap.start(service: "indexer")
let configuration = bootstrap.configuration
let logger = bootstrap.logger

do {
    let database = IndexDatabase(settings: configuration.database, logger: logger)
    let blobs = try BlobStore(root: configuration.storageDirectory)
    let consumer = try KafkaConsumer(bootstrapServers: configuration.broker.bootstrapServers,
                                     groupID: configuration.broker.consumerGroup,
                                     logger: logger)
    let indexing = IndexingService(consumer: consumer, database: database, writer: InstanceWriter(database: database),
                                   blobs: blobs, broker: configuration.broker, logger: logger)
    let operations = OperationsServer.make(
        host: bootstrap.httpHost, port: configuration.metricsPort ?? 9102, metrics: bootstrap.metrics, logger: logger,
        readiness: { await database.isReachable() })
    let group = ServiceGroup(configuration: .init(
        services: [
            .init(service: database.client),
            .init(service: indexing),
            .init(service: StabilityService(database: database, sweep: StabilitySweep(database: database),
                                            stableAgeSeconds: configuration.stableAge, logger: logger)),
            .init(service: operations),
        ],
        gracefulShutdownSignals: [.sigterm, .sigint],
        logger: logger))
    try await group.run()
} catch {
    logger.critical("tessera-indexer stopped", metadata: ["error": "\(error)"])
    exit(1)
}
