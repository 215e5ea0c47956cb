import DICOM
import Events
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Index
import Imaging
import Indexing
import Ingest
import Jobs
import Model
import Modification
import NIOCore
import QueryRetrieve
import NIOPosix
import ServiceKit
import ServiceLifecycle
import Storage

// tessera-api: Orthanc's REST API over the index and the blob store. Wires modules together.
let bootstrap = ServiceBootstrap.start(service: "api", usage: .init(
    executable: "tessera-api",
    summary: "Tessera's REST API: Orthanc's REST API over the index (PostgreSQL) and the shared storage."))
let configuration = bootstrap.configuration
let logger = bootstrap.logger

do {
    DicomToolkit.initialize()
    try AccessControlMiddleware.validate(configuration)
    let database = IndexDatabase(settings: configuration.database, logger: logger)
    let blobs = try BlobStore(root: configuration.storageDirectory)
    // The broker may not be up yet: the producer waits for it (and /ready says so); uploads answer 503 meanwhile.
    let producer = try KafkaProducer(bootstrapServers: configuration.broker.bootstrapServers, topic: configuration.broker.topic,
                                     partitions: configuration.broker.partitions,
                                     deliveryTimeoutMilliseconds: configuration.broker.deliveryTimeoutMilliseconds,
                                     properties: configuration.broker.properties, logger: logger)
    // Parsing uploads and making their blobs durable run on threads of their own, off Swift's cooperative pool.
    let ingestThreads = NIOThreadPool(numberOfThreads: max(2, System.coreCount))
    ingestThreads.start()
    // Decoding images: a pool of its own, one thread per core, so that renders queue there instead of starving
    // uploads and tag routes.
    let imageThreads = NIOThreadPool(numberOfThreads: max(2, System.coreCount))
    imageThreads.start()
    let imageBlobs = try BlobStore(root: configuration.storageDirectory, threadPool: imageThreads)
    let notifications = IndexNotifications(database: database)
    let instances = InstanceQueries(database: database)
    let router = Router(context: APIRequestContext.self)
    router.middlewares.add(MetricsMiddleware())
    router.middlewares.add(OrthancRequestMetricsMiddleware())
    router.middlewares.add(RequestIDMiddleware())
    router.middlewares.add(AccessControlMiddleware(configuration: configuration))
    router.middlewares.add(OrthancErrorMiddleware())
    router.middlewares.add(XMLAnswerMiddleware())
    router.middlewares.add(SchemaGateMiddleware(schema: database.schema))
    let readiness: @Sendable () async -> Bool = { await database.isReachable() && producer.canPublish }
    // Scrape-time series: Orthanc's /tools/metrics-prometheus gauges (cluster-wide and this replica's), tessera_jobs.
    let clusterMetrics: @Sendable () async -> String = {
        var samples = OrthancMetricsExposition.process(includeREST: true)
        guard let statistics = try? await ClusterStatistics.read(from: database) else {
            return OrthancMetricsExposition.prometheusText(samples)
        }
        samples += OrthancMetricsExposition.cluster(statistics)
        return OrthancMetricsExposition.prometheusText(samples, jobs: statistics.jobs, deadLetters: statistics.deadLetters)
    }
    OperationsRoutes.add(to: router, metrics: bootstrap.metrics, readiness: readiness, extraMetrics: clusterMetrics)
    router.get("/system") { _, _ in OrthancJSON.response(SystemJSON.render(configuration)) }
    SystemToolRoutes(configuration: configuration, logLevels: LogLevelStore(database: database), database: database)
        .add(to: router)
    let resources = ResourceQueries(database: database)
    let renderer = ResourceRenderer(resources: resources, instances: instances, blobs: blobs)
    let changes = ChangeLog(database: database)
    let finder = ResourceFinder(database: database)
    let reaper = BlobReaper(database: database, blobs: blobs, logger: logger)
    ResourceRoutes(resources: resources, instances: instances, changes: changes, blobs: blobs, renderer: renderer,
                   transcodingQuality: configuration.transcoding.lossyQuality).add(to: router)
    FindRoutes(finder: finder, search: ResourceSearch(finder: finder, instances: instances, blobs: blobs), renderer: renderer,
               caseSensitivePN: configuration.caseSensitivePN).add(to: router)
    LabelRoutes(labels: LabelStore(database: database), resources: resources).add(to: router)
    let exports = ExportLog(database: database)
    let deleter = ResourceDeleter(database: database)
    DeletionRoutes(deleter: deleter, resources: resources, changes: changes, exports: exports, reaper: reaper).add(to: router)
    ExportRoutes(exports: exports).add(to: router)
    let jobs = JobStore(database: database)
    JobRoutes(store: jobs, outputs: JobOutputs(storageRoot: blobs.root), blobs: blobs).add(to: router)
    let submitter = JobSubmitter(store: jobs)
    let resourceSelection = ResourceSelection(resources: resources, instances: instances, exports: exports,
                                              logExportedResources: configuration.logExportedResources)
    let selection = ExportSelection(selection: resourceSelection)
    ModifyRoutes(instances: instances, resources: resources, selection: resourceSelection, submitter: submitter, blobs: blobs,
                 modifier: InstanceModifier(transcodingQuality: configuration.transcoding.lossyQuality),
                 sequence: AnonymizationSequence(database: database)).add(to: router)
    StudyRestructuringRoutes(instances: instances, resources: resources, selection: resourceSelection, submitter: submitter,
                             blobs: blobs).add(to: router)
    let straight = StraightUpload(folder: blobs.root + "/outbound", maximumSize: configuration.maximumUploadSize)
    ModalityRoutes(registry: ModalityRegistry(configuration: configuration, database: database), submitter: submitter,
                   selection: selection, straight: straight, configuration: configuration).add(to: router)
    QueryRoutes(registry: ModalityRegistry(configuration: configuration, database: database), submitter: submitter,
                queries: QueryStore(database: database), configuration: configuration).add(to: router)
    PeerRoutes(registry: PeerRegistry(configuration: configuration, database: database), submitter: submitter,
               selection: selection, straight: straight).add(to: router)
    StorageCommitmentRoutes(
        registry: ModalityRegistry(configuration: configuration, database: database), submitter: submitter,
        selection: resourceSelection, instances: instances,
        commitments: StorageCommitmentStore(storageRoot: blobs.root, limit: configuration.storageCommitmentReportsSize),
        finder: finder, deleter: deleter, reaper: reaper, configuration: configuration).add(to: router)
    DeadLetterRoutes(store: DeadLetterStore(database: database)).add(to: router)
    DatashareRoutes(registry: DatashareRegistry(configuration: configuration, database: database),
                    usage: DatashareUsage(database: database),
                    defaultBudgetMB: configuration.datashares.defaultDiskBudgetMB).add(to: router)
    ScpSettingsRoutes(store: ScpSettingsStore(database: database), configuration: configuration).add(to: router)
    MethodNotAllowed.registerAll(on: router)
    TagRoutes(instances: instances, blobs: blobs).add(to: router)
    TagAggregateRoutes(resources: resources, instances: instances, blobs: blobs).add(to: router)
    ContentRoutes(instances: instances, blobs: blobs).add(to: router)
    ImageRoutes(instances: instances, resources: resources, imageBlobs: imageBlobs).add(to: router)
    AttachmentRoutes(store: AttachmentStore(database: database), deletions: BlobDeletionQueue(database: database),
                     instances: instances, resources: resources, blobs: blobs,
                     userTypes: configuration.userContentTypes,
                     revisions: RevisionHeaders(checkRevisions: configuration.checkRevisions)).add(to: router)
    ProtectionRoutes(protection: PatientProtection(database: database)).add(to: router)
    ReconstructRoutes(instances: instances, resources: resources, blobs: blobs, rebuild: MainTagsRebuild(database: database),
                      transcodesAtIngest: configuration.transcoding.ingestSyntax != nil).add(to: router)
    MetadataRoutes(resources: resources, instances: instances, store: MetadataStore(database: database), blobs: blobs,
                   userNames: configuration.userMetadata,
                   revisions: RevisionHeaders(checkRevisions: configuration.checkRevisions)).add(to: router)
    ArchiveRoutes(instances: instances, resources: resources, blobs: blobs, submitter: submitter,
                  transcodingQuality: configuration.transcoding.lossyQuality).add(to: router)
    var ingest = InstanceIngest(blobs: blobs, producer: producer, overwrite: configuration.overwriteInstances,
                                workers: ingestThreads, transcoding: configuration.transcoding, logger: logger)
    ingest.admission = StorageAdmission.check(database, configuration.storageLimits)
    let upload = UploadRoutes(ingest: ingest, blobs: blobs, resources: resources, instances: instances, notifications: notifications,
                              overwrite: configuration.overwriteInstances, maximumBodySize: configuration.maximumUploadSize)
    upload.add(to: router)
    CreateDicomRoutes(upload: upload, resources: resources, instances: instances, blobs: blobs,
                      deleter: deleter).add(to: router)
    // A connection silent for HttpRequestTimeout (a request head never completed, a stalled body, an idle keep-alive)
    // is closed: half-sent requests cannot pile up.
    // SslEnabled: HTTPS only, with SslCertificate (Orthanc's single PEM file: certificate chain and private key).
    let http1 = HTTPServerBuilder.http1(configuration: .init(idleTimeout: .seconds(Int64(configuration.httpRequestTimeout))))
    let server = configuration.sslEnabled
        ? try HTTPServerBuilder.tls(http1, tlsConfiguration: ServerTLS.configuration(certificateFile: configuration.sslCertificate))
        : http1
    let application = Application(
        responder: MethodOverrideResponder(inner: router.buildResponder()),
        server: server,
        configuration: .init(address: .hostname(bootstrap.httpHost, port: configuration.httpPort), serverName: "Tessera"),
        logger: logger)
    // The operations endpoint (/health, /ready, /metrics without credentials) when TESSERA_METRICS_PORT is set:
    // several API replicas may share a machine, so it has no default port.
    var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
    if let port = configuration.metricsPort {
        services.append(.init(service: OperationsServer.make(host: bootstrap.operationsHost, port: port, metrics: bootstrap.metrics,
                                                             logger: logger, readiness: readiness, extraMetrics: clusterMetrics)))
    }
    let group = ServiceGroup(configuration: .init(
        services: services + [
            .init(service: database.client),
            .init(service: SchemaService(database: database)),
            .init(service: LogVerbosityWatcher(logger: logger) { try await LogLevelStore(database: database).current() }),
            // DefaultEncoding, as the cluster keeps it (PUT /tools/default-encoding).
            .init(service: SettingWatcher("DefaultEncoding", logger: logger, fetch: {
                try await ScpSettingsStore(database: database).current().defaultEncoding ?? configuration.defaultEncoding
            }, apply: { DefaultEncoding.shared.set($0) })),
            .init(service: producer),
            .init(service: notifications),
            .init(service: reaper),
            .init(service: application),
        ],
        gracefulShutdownSignals: [.sigterm, .sigint],
        logger: logger))
    logger.info("REST API listening", metadata: ["host": "\(bootstrap.httpHost)", "port": "\(configuration.httpPort)",
                                                 "scheme": "\(configuration.sslEnabled ? "https" : "http")"])
    try await group.run()
} catch {
    logger.critical("tessera-api stopped", metadata: ["error": "\(error)"])
    exit(1)
}
