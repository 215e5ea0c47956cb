import AsyncHTTPClient
import DICOM
import Events
import Foundation
import Ingest
import Index
import Jobs
import Model
import NIOCore
import NIOPosix
import ServiceKit
import ServiceLifecycle
import Storage

// tessera-worker: runs the jobs every replica of the REST API submits, and makes every outbound DICOM association and
// HTTP request.
// Wires modules together; the logic lives in Shared/Jobs.
let bootstrap = ServiceBootstrap.start(service: "worker", usage: .init(
    executable: "tessera-worker",
    summary: "Tessera's job worker: runs the cluster's jobs and every outbound DICOM association and HTTP request."))
let configuration = bootstrap.configuration
let logger = bootstrap.logger

do {
    DicomToolkit.initialize()
    let concurrency = configuration.concurrentJobs == 0 ? System.coreCount : configuration.concurrentJobs
    // Each running job holds one pooled connection for its steps: leave room for claims, renewals and lookups.
    var databaseSettings = configuration.database
    databaseSettings.maximumConnections = max(databaseSettings.maximumConnections, concurrency + 4)
    let database = IndexDatabase(settings: databaseSettings, logger: logger)
    let blobs = try BlobStore(root: configuration.storageDirectory)
    // Instances a C-GET brings in take the gateway's ingest path: a durable blob, then an acknowledged event.
    let producer = try KafkaProducer(bootstrapServers: configuration.broker.bootstrapServers, topic: configuration.broker.topic,
                                     partitions: configuration.broker.partitions,
                                     deliveryTimeoutMilliseconds: configuration.broker.deliveryTimeoutMilliseconds,
                                     properties: configuration.broker.properties, logger: logger)
    var ingest = InstanceIngest(blobs: blobs, producer: producer, overwrite: configuration.overwriteInstances,
                                transcoding: configuration.transcoding, logger: logger)
    ingest.admission = StorageAdmission.check(database, configuration.storageLimits)
    // Every blocking DCMTK call (connect, negotiate, C-STORE) runs on these threads: one per job slot, plus one for
    // closing idle associations.
    let threads = NIOThreadPool(numberOfThreads: concurrency + 1)
    threads.start()
    let associations = AssociationPool(threads: threads, closeDelay: .seconds(configuration.dicomAssociationCloseDelay),
                                       tls: configuration.dicomTls, logger: logger)
    // Requests to Orthanc peers; each also carries its own deadline (the peer's Timeout, else HttpTimeout).
    let connectTimeout = configuration.httpTimeout > 0 ? min(configuration.httpTimeout, 30) : 30
    var httpConfiguration = HTTPClient.Configuration(timeout: .init(connect: .seconds(Int64(connectTimeout))))
    // A refused connection fails the request at once, as in Orthanc (not retried until the connect timeout).
    httpConfiguration.connectionPool.retryConnectionEstablishment = false
    let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration)
    let peers = PeerClient(client: http, verifyPeers: configuration.httpsVerifyPeers,
                           caCertificates: configuration.httpsCACertificates, defaultTimeout: configuration.httpTimeout)
    let jobStore = JobStore(database: database)
    let commitments = StorageCommitmentStore(storageRoot: blobs.root, limit: configuration.storageCommitmentReportsSize)
    let outputs = JobOutputs(storageRoot: blobs.root)
    let runner = JobRunner(
        store: jobStore, database: database,
        handlers: [
            ModalityStoreJob(instances: InstanceQueries(database: database), blobs: blobs, associations: associations,
                             commitments: commitments, maximumPDU: configuration.maximumPduLength,
                             transcodeDicomProtocol: configuration.transcoding.transcodeDicomProtocol, logger: logger),
            StorageCommitmentJob(associations: associations, commitments: commitments, maximumPDU: configuration.maximumPduLength),
            ModalityEchoJob(associations: associations),
            PeerStoreJob(instances: InstanceQueries(database: database), blobs: blobs, client: peers,
                         transcodingQuality: configuration.transcoding.lossyQuality, logger: logger),
            PeerSystemJob(client: peers),
            ModalityFindJob(queries: QueryStore(database: database), associations: associations,
                            maximumPDU: configuration.maximumPduLength, keep: configuration.queryRetrieveSize),
            ModalityMoveJob(associations: associations, maximumPDU: configuration.maximumPduLength),
            ModalityGetJob(associations: associations, ingest: ingest, incomingFolder: blobs.incomingFolder,
                           transferSyntaxes: configuration.transferSyntaxes.accepted, maximumPDU: configuration.maximumPduLength),
            ArchiveJob(media: false, instances: InstanceQueries(database: database), blobs: blobs, outputs: outputs,
                       transcodingQuality: configuration.transcoding.lossyQuality),
            ArchiveJob(media: true, instances: InstanceQueries(database: database), blobs: blobs, outputs: outputs,
                       transcodingQuality: configuration.transcoding.lossyQuality),
            StraightStoreJob(modalityTypeWith: associations, peers: peers, maximumPDU: configuration.maximumPduLength),
            StraightStoreJob(peerTypeWith: associations, peers: peers, maximumPDU: configuration.maximumPduLength),
            ResourceModificationJob(instances: InstanceQueries(database: database), resources: ResourceQueries(database: database),
                                    labels: LabelStore(database: database), deleter: ResourceDeleter(database: database),
                                    blobs: blobs, ingest: ingest,
                                    transcodingQuality: configuration.transcoding.lossyQuality, logger: logger),
            StudyRestructuringJob(kind: .merge, instances: InstanceQueries(database: database), deleter: ResourceDeleter(database: database),
                                  blobs: blobs, ingest: ingest, logger: logger),
            StudyRestructuringJob(kind: .split, instances: InstanceQueries(database: database), deleter: ResourceDeleter(database: database),
                                  blobs: blobs, ingest: ingest, logger: logger),
        ],
        settings: .init(concurrency: concurrency, lease: .seconds(configuration.jobLeaseSeconds),
                        historySize: configuration.jobsHistorySize, resumeLostJobs: configuration.saveJobs),
        logger: logger)
    let operations = OperationsServer.make(
        host: bootstrap.operationsHost, port: configuration.metricsPort ?? 9103, metrics: bootstrap.metrics, logger: logger,
        readiness: { await database.isReachable() })
    let group = ServiceGroup(configuration: .init(
        services: [
            .init(service: database.client),
            .init(service: LogVerbosityWatcher(logger: logger) { try await LogLevelStore(database: database).current() }),
            // DefaultEncoding, as the cluster keeps it (PUT /tools/default-encoding).
            .init(service: SettingWatcher("DefaultEncoding", logger: logger, fetch: {
                try await ScpSettingsStore(database: database).current().defaultEncoding ?? configuration.defaultEncoding
            }, apply: { DefaultEncoding.shared.set($0) })),
            .init(service: producer),
            .init(service: runner),
            .init(service: associations),
            .init(service: JobOutputSweeper(outputs: outputs, store: jobStore, logger: logger)),
            .init(service: operations),
        ],
        gracefulShutdownSignals: [.sigterm, .sigint],
        logger: logger))
    try await group.run()
    try await http.shutdown()
    try await threads.shutdownGracefully()
} catch {
    logger.critical("tessera-worker stopped", metadata: ["error": "\(error)"])
    exit(1)
}
