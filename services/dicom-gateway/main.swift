import DICOM
import Events
import Foundation
import Ingest
import Model
import NIOPosix
import ServiceKit
import ServiceLifecycle
import Storage

// tessera-gateway: the DICOM SCP. Wires modules together; the logic lives in Shared/.
signal(SIGPIPE, SIG_IGN)
// DCMTK 3.6.7 leaves Nagle's algorithm on unless TCP_NODELAY is set: ~40 ms stall per C-STORE response.
setenv("TCP_NODELAY", "1", 0)
let bootstrap = ServiceBootstrap.start(service: "gateway")
let configuration = bootstrap.configuration
let logger = bootstrap.logger
DicomToolkit.initialize()

do {
    guard DicomToolkit.isDictionaryLoaded else {
        throw TesseraError(.badConfiguration, message: "The DICOM dictionary is not loaded (install libdcmtk17 or set DCMDICTPATH)")
    }
    // Each association blocks in fsync while its blob becomes durable: give the writes threads of their own, enough
    // for every association to sync at once (the file system merges concurrent syncs into one journal commit).
    let storageThreads = NIOThreadPool(numberOfThreads: max(8, 2 * configuration.dicomThreadsCount))
    storageThreads.start()
    let blobs = try BlobStore(root: configuration.storageDirectory, threadPool: storageThreads)
    let producer = try KafkaProducer(bootstrapServers: configuration.broker.bootstrapServers,
                                     deliveryTimeoutMilliseconds: configuration.broker.deliveryTimeoutMilliseconds,
                                     logger: logger)
    try await producer.ensureTopic(configuration.broker.topic, partitions: configuration.broker.partitions)
    let scp = try StoreSCP(options: StoreSCPOptions(
        port: configuration.dicomPort, aeTitle: configuration.dicomAet,
        maximumAssociations: configuration.dicomThreadsCount,
        transferSyntaxes: configuration.transferSyntaxes.accepted,
        checkCalledAET: configuration.dicomCheckCalledAet, timeoutSeconds: configuration.dicomScpTimeout,
        maximumPDULength: configuration.maximumPduLength))
    let ingest = InstanceIngest(blobs: blobs, producer: producer, topic: configuration.broker.topic,
                                overwrite: configuration.overwriteInstances, logger: logger)
    let operations = OperationsServer.make(
        host: bootstrap.httpHost, port: configuration.metricsPort ?? 9101, metrics: bootstrap.metrics, logger: logger,
        readiness: { await producer.isBrokerReachable() })
    let group = ServiceGroup(configuration: .init(
        services: [
            .init(service: producer),
            .init(service: DicomGatewayService(scp: scp, ingest: ingest, logger: logger)),
            .init(service: operations),
        ],
        gracefulShutdownSignals: [.sigterm, .sigint],
        logger: logger))
    logger.info("DICOM gateway listening", metadata: [
        "aet": "\(configuration.dicomAet)", "port": "\(configuration.dicomPort)", "storage": "\(blobs.root)",
        "broker": "\(configuration.broker.bootstrapServers)", "topic": "\(configuration.broker.topic)"])
    try await group.run()
} catch {
    logger.critical("tessera-gateway stopped", metadata: ["error": "\(error)"])
    exit(1)
}
