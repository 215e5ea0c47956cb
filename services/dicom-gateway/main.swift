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
    let blobs = try BlobStore(root: configuration.storageDirectory)
    // The broker may not be up yet: the producer waits for it (and /ready says so); C-STOREs are refused meanwhile.
    let producer = try KafkaProducer(bootstrapServers: configuration.broker.bootstrapServers, topic: configuration.broker.topic,
                                     partitions: configuration.broker.partitions,
                                     deliveryTimeoutMilliseconds: configuration.broker.deliveryTimeoutMilliseconds,
                                     logger: logger)
    let scp = try StoreSCP(options: StoreSCPOptions(
        port: configuration.dicomPort, aeTitle: configuration.dicomAet,
        maximumAssociations: configuration.dicomThreadsCount, incomingFolder: blobs.incomingFolder,
        transferSyntaxes: configuration.transferSyntaxes.accepted,
        checkCalledAET: configuration.dicomCheckCalledAet, timeoutSeconds: configuration.dicomScpTimeout,
        operationTimeoutSeconds: configuration.dicomOperationTimeout, maximumPDULength: configuration.maximumPduLength,
        // Past the broker's own delivery timeout (plus a parse that waited for memory): the answer is not coming.
        answerTimeoutSeconds: max(120, configuration.broker.deliveryTimeoutMilliseconds / 1000 + 60)))
    let ingest = InstanceIngest(blobs: blobs, producer: producer, overwrite: configuration.overwriteInstances, logger: logger)
    let operations = OperationsServer.make(
        host: bootstrap.operationsHost, port: configuration.metricsPort ?? 9101, metrics: bootstrap.metrics, logger: logger,
        readiness: { producer.canPublish })
    let group = ServiceGroup(configuration: .init(
        services: [
            .init(service: producer),
            .init(service: DicomGatewayService(
                scp: scp, ingest: ingest,
                commitments: StorageCommitmentStore(storageRoot: blobs.root, limit: configuration.storageCommitmentReportsSize),
                logger: logger)),
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
