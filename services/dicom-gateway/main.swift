import DICOM
import EdgeReceiver
import Events
import Foundation
import Index
import Ingest
import Jobs
import Model
import NIOPosix
import QueryRetrieve
import ServiceKit
import ServiceLifecycle
import Storage

// tessera-gateway: the DICOM SCP. Wires modules together; the logic lives in Shared/.
signal(SIGPIPE, SIG_IGN)
// DCMTK 3.6.7 leaves Nagle's algorithm on unless TCP_NODELAY is set: ~40 ms stall per C-STORE response.
setenv("TCP_NODELAY", "1", 0)
let bootstrap = ServiceBootstrap.start(service: "gateway", usage: .init(
    executable: "tessera-gateway",
    summary: "Tessera's DICOM gateway: C-ECHO, C-STORE (durable before Success), C-FIND, C-MOVE and C-GET SCP."))
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
                                     properties: configuration.broker.properties, logger: logger)
    let scp = try StoreSCP(options: StoreSCPOptions(
        port: configuration.dicomPort, aeTitle: configuration.dicomAet,
        maximumAssociations: configuration.dicomThreadsCount, incomingFolder: blobs.incomingFolder,
        transferSyntaxes: configuration.transferSyntaxes.accepted,
        // In datashare mode the called AE title names a datashare, never us.
        checkCalledAET: configuration.dicomCheckCalledAet && !configuration.datashares.enabled,
        timeoutSeconds: configuration.dicomScpTimeout,
        operationTimeoutSeconds: configuration.dicomOperationTimeout, maximumPDULength: configuration.maximumPduLength,
        // Past the broker's own delivery timeout (plus a parse that waited for memory): the answer is not coming.
        answerTimeoutSeconds: max(120, configuration.broker.deliveryTimeoutMilliseconds / 1000 + 60)))
    scp.setUnknownSOPClassesAccepted(configuration.unknownSopClassAccepted)
    var ingest = InstanceIngest(blobs: blobs, producer: producer, overwrite: configuration.overwriteInstances,
                                transcoding: configuration.transcoding, logger: logger)
    // C-FIND, C-MOVE and C-GET read the index; the sub-operations of C-MOVE run as jobs in the workers. C-STORE waits
    // for PostgreSQL only when storage limits are set (access checks read a snapshot of the modalities).
    let database = IndexDatabase(settings: configuration.database, logger: logger)
    ingest.admission = StorageAdmission.check(database, configuration.storageLimits)
    let instances = InstanceQueries(database: database)
    let finder = ResourceFinder(database: database)
    let search = ResourceSearch(finder: finder, instances: instances, blobs: blobs)
    let directory = ModalityDirectory(registry: ModalityRegistry(configuration: configuration, database: database),
                                      configured: configuration.modalities,
                                      inDatabase: configuration.dicomModalitiesInDatabase, logger: logger)
    let settings = QueryRetrieveSettings(configuration: configuration)
    let targets = RetrieveTargets(
        search: search,
        selection: ResourceSelection(resources: ResourceQueries(database: database), instances: instances,
                                     exports: ExportLog(database: database), logExportedResources: false),
        instances: instances)
    let queries = QueryRetrieveService(
        find: DicomFindHandler(search: search, answers: FindAnswerQueries(database: database), instances: instances,
                               blobs: blobs, settings: settings, logger: logger),
        move: DicomMoveHandler(targets: targets, directory: directory, submitter: JobSubmitter(store: JobStore(database: database)),
                               settings: settings, logger: logger),
        get: DicomGetHandler(targets: targets, blobs: blobs, logger: logger),
        directory: directory, rules: configuration.dicomAccess, logger: logger)
    let operations = OperationsServer.make(
        host: bootstrap.operationsHost, port: configuration.metricsPort ?? 9101, metrics: bootstrap.metrics, logger: logger,
        // Ready: the DICOM port is bound, the storage takes files, the broker acknowledges events.
        readiness: { producer.canPublish && ListeningPorts.isListening(configuration.dicomPort) && blobs.isWritable })
    let datashareDirectory = DatashareDirectory(
        registry: DatashareRegistry(configuration: configuration, database: database), usage: DatashareUsage(database: database),
        configured: configuration.datashares.shares, defaultBudgetMB: configuration.datashares.defaultDiskBudgetMB, logger: logger)
    let datashares = configuration.datashares.enabled
        ? DatashareReceiver(directory: datashareDirectory, ingest: ingest, logger: logger) : nil
    var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
        .init(service: database.client), .init(service: directory),
        .init(service: ScpSettingsWatcher(store: ScpSettingsStore(database: database), scp: scp, logger: logger)),
        .init(service: LogVerbosityWatcher(logger: logger) { try await LogLevelStore(database: database).current() }),
        // DefaultEncoding, as the cluster keeps it (PUT /tools/default-encoding).
        .init(service: SettingWatcher("DefaultEncoding", logger: logger, fetch: {
            try await ScpSettingsStore(database: database).current().defaultEncoding ?? configuration.defaultEncoding
        }, apply: { DefaultEncoding.shared.set($0) })),
    ]
    if datashares != nil { services.append(.init(service: datashareDirectory)) }
    let group = ServiceGroup(configuration: .init(
        services: services + [
            .init(service: producer),
            .init(service: DicomGatewayService(
                scp: scp, ingest: ingest, queries: queries, datashares: datashares,
                commitments: StorageCommitmentStore(storageRoot: blobs.root, limit: configuration.storageCommitmentReportsSize),
                logger: logger)),
            .init(service: operations),
        ],
        gracefulShutdownSignals: [.sigterm, .sigint],
        logger: logger))
    logger.info("DICOM gateway listening", metadata: [
        "aet": "\(configuration.dicomAet)", "port": "\(configuration.dicomPort)", "storage": "\(blobs.root)",
        "broker": "\(configuration.broker.bootstrapServers)", "topic": "\(configuration.broker.topic)",
        "datashareMode": "\(configuration.datashares.enabled)"])
    try await group.run()
} catch {
    logger.critical("tessera-gateway stopped", metadata: ["error": "\(error)"])
    exit(1)
}
