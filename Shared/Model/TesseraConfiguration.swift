/// The configuration every Tessera service reads: Orthanc's keys where Orthanc has one, Tessera's own otherwise.
/// Build it with ``ConfigurationLoader``.
public struct TesseraConfiguration: Sendable {
    /// `Name`, shown by `/system`.
    public var name = "Tessera"
    /// `DicomAet` (default `TESSERA`; env `TESSERA_DICOM_AET`).
    public var dicomAet = "TESSERA"
    /// `DicomPort` (default 4242; env `TESSERA_DICOM_PORT`).
    public var dicomPort = 4242
    /// `HttpPort` of the REST API (default 8042; env `TESSERA_HTTP_PORT`).
    public var httpPort = 8042
    /// `StorageDirectory`: the blob store shared by all processes (env `TESSERA_STORAGE_DIR`).
    public var storageDirectory = "TesseraStorage"
    /// `DicomCheckCalledAet`: refuse associations addressed to another AE title.
    public var dicomCheckCalledAet = false
    /// `DicomThreadsCount`: concurrent associations the gateway accepts (Tessera's default is higher than Orthanc's 4).
    public var dicomThreadsCount = 32
    /// `DicomScpTimeout` in seconds: how long the gateway waits on a silent peer.
    public var dicomScpTimeout = 30
    /// Seconds one C-STORE's dataset may take to arrive in all (Tessera's `DicomOperationTimeout`; 0: no limit), so a
    /// peer that trickles bytes cannot hold an association slot for ever. Silence longer than `DicomScpTimeout` ends
    /// an association at any time.
    public var dicomOperationTimeout = 600
    /// `MaximumUploadSize` in MB (Tessera's own; 0: no limit): larger REST uploads, and larger files inside a ZIP,
    /// answer 413.
    public var maximumUploadSizeMB = 4096
    /// `HttpRequestTimeout` in seconds (Orthanc's key): a connection that sends nothing for this long (a request head
    /// never completed, a body that stalls, an idle keep-alive) is closed.
    public var httpRequestTimeout = 30
    /// `MaximumPduLength`.
    public var maximumPduLength = 16_384
    /// `StableAge` in seconds: a patient, study or series with no new instance for this long becomes stable.
    public var stableAge = 60
    /// `OverwriteInstances`.
    public var overwriteInstances = false
    /// DICOM TLS towards modalities declared with `UseDicomTls` (nil: no certificate configured).
    public var dicomTls: DicomTlsSettings?
    /// `MaximumPatientCount`, `MaximumStorageSize`, `MaximumStorageMode`.
    public var storageLimits = StorageLimits()
    /// `CheckRevisions`: writing over or deleting a metadata entry or an attachment needs the `If-Match` of what is
    /// stored.
    public var checkRevisions = false
    /// `CaseSensitivePN`: whether person-name searches distinguish case (default false, as Orthanc).
    public var caseSensitivePN = false
    /// `UserMetadata`: names of user metadata (codes 1024-65535).
    public var userMetadata: [String: Int] = [:]
    /// `UserContentType`: names of user attachments (codes 1024-65535) with their MIME type.
    public var userContentTypes: [String: (code: Int, mime: String)] = [:]
    /// `AcceptedTransferSyntaxes` and the `...TransferSyntaxAccepted` group switches.
    public var transferSyntaxes = TransferSyntaxPolicy()
    /// `RemoteAccessAllowed`: serve REST clients that are not on the loopback interface.
    public var remoteAccessAllowed = false
    /// `AuthenticationEnabled` (nil: as Orthanc, enabled when remote access is allowed).
    public var authenticationEnabled: Bool? = nil
    /// `RegisteredUsers`: user → password for HTTP Basic authentication.
    public var registeredUsers: [String: String] = [:]
    /// Address the HTTP servers bind to (env `TESSERA_HTTP_HOST`; default loopback unless remote access is allowed).
    public var httpHost: String? = nil
    /// Port of the operations endpoint (`/metrics`, `/health`, `/ready`) of services that have no REST API
    /// (env `TESSERA_METRICS_PORT`).
    public var metricsPort: Int? = nil
    /// Address the operations endpoint binds to (env `TESSERA_METRICS_HOST`; default loopback whatever
    /// `RemoteAccessAllowed` says: `/metrics` and `/ready` need no credentials, so they are not exposed unless asked).
    public var metricsHost: String? = nil
    /// `SslEnabled`: the REST API answers HTTPS only, with `SslCertificate` (one PEM file holding the certificate
    /// chain and its private key, as Orthanc's).
    public var sslEnabled = false
    /// `SslCertificate` (default `certificate.pem`, as Orthanc).
    public var sslCertificate = "certificate.pem"
    public var database = DatabaseSettings()
    public var broker = BrokerSettings()
    /// The `Reconciler` section.
    public var reconciler = ReconcilerConfiguration()
    /// `DicomModalities`: symbolic name → remote modality.
    public var modalities: [String: ModalityConfiguration] = [:]
    /// `DicomModalitiesInDatabase`: modalities come only from the database (REST `PUT`), the file's are ignored.
    public var dicomModalitiesInDatabase = false
    /// `OrthancPeers`: symbolic name → remote Orthanc.
    public var peers: [String: PeerConfiguration] = [:]
    /// `OrthancPeersInDatabase`: peers come only from the database (REST `PUT`), the file's are ignored.
    public var orthancPeersInDatabase = false
    /// `HttpTimeout` in seconds: default timeout of requests to peers (0: none).
    public var httpTimeout = 60
    /// `HttpsVerifyPeers`: check the certificates of HTTPS peers.
    public var httpsVerifyPeers = true
    /// `HttpsCACertificates`: PEM file of the certificate authorities trusted for HTTPS peers (nil: the system's).
    public var httpsCACertificates: String? = nil
    /// `DicomScuTimeout` in seconds: default timeout of outbound DICOM commands (0: none).
    public var dicomScuTimeout = 10
    /// `DicomAssociationCloseDelay` in seconds: how long an outbound association stays open for the next store.
    public var dicomAssociationCloseDelay = 5
    /// `DicomDefaultRetrieveMethod` (Orthanc 1.12.6): `C-MOVE` or `C-GET`, for modalities whose `RetrieveMethod` is
    /// `SystemDefault`.
    public var dicomDefaultRetrieveMethod = "C-MOVE"
    /// `StorageCommitmentReportsSize`: storage commitment transactions kept (0: no limit).
    public var storageCommitmentReportsSize = 100
    /// `DicomEchoChecksFind`: `/modalities/{id}/echo` also checks C-FIND unless its body says `CheckFind`.
    public var dicomEchoChecksFind = false
    /// `ConcurrentJobs`: jobs one worker runs at once (Orthanc's default 2; 0: one per core).
    public var concurrentJobs = 2
    /// `JobsHistorySize`: finished jobs kept (cluster-wide).
    public var jobsHistorySize = 10
    /// `SaveJobs`: when false, a job whose worker died is failed instead of resumed (Orthanc forgets unfinished jobs
    /// at restart when it does not save them).
    public var saveJobs = true
    /// `QueryRetrieveSize`: C-FIND queries (`/queries`) kept, cluster-wide.
    public var queryRetrieveSize = 100
    /// `LogExportedResources`: record resources sent to modalities and peers in `/exports`.
    public var logExportedResources = false
    /// Seconds a worker's claim on a running job lasts without renewal (Tessera's `JobLease`; env `TESSERA_JOB_LEASE`):
    /// a worker killed mid-job loses its jobs to another replica after this long.
    public var jobLeaseSeconds = 30
    /// `DicomAlwaysAllow...`, `DicomCheckModalityHost`, `StrictAetComparison`: who may do what on the DICOM server.
    public var dicomAccess = DicomAccessRules()
    /// `SynchronousCMove`: a C-MOVE's sub-operations run while its association waits (else a job is queued).
    public var synchronousCMove = true
    /// `LimitFindResults` (patients, studies, series) and `LimitFindInstances` of a C-FIND; 0: unlimited.
    public var limitFindResults = 0
    public var limitFindInstances = 0
    /// `DefaultEncoding`: the character set of C-FIND answers (Orthanc's encoding names).
    public var defaultEncoding = "Latin1"
    /// DefaultEncoding as a Specific Character Set defined term (`ISO_IR 100` for Latin1).
    public var defaultCharset: String { DicomEncoding.specificCharacterSet(of: defaultEncoding) ?? "ISO_IR 100" }
    /// `UnknownSopClassAccepted`: C-STORE of SOP classes DCMTK does not know.
    public var unknownSopClassAccepted = false
    /// `DatashareMode`, `Datashares`, `DatashareDiskBudget`: the edge receiver.
    public var datashares = DatashareSettings()
    /// `IngestTranscoding`, `IngestTranscodingOfUncompressed`, `IngestTranscodingOfCompressed`,
    /// `DicomLossyTranscodingQuality`.
    public var transcoding = TranscodingSettings()
    /// The whole merged document, for keys that have no typed field yet.
    public var document: JSONValue = .object([:])

    public init() {}

    /// Reads the typed fields from a merged document, then applies the `TESSERA_...` environment overrides.
    public init(document: JSONValue, environment: [String: String]) throws(TesseraError) {
        self.document = document
        func string(_ key: String) throws(TesseraError) -> String? {
            guard let value = document[key] else { return nil }
            guard let text = value.stringValue else { throw Self.badType(key, "a string") }
            return text
        }
        /// A text setting of a section. A whole number is taken as its digits: an `ORTHANC__POSTGRESQL__PASSWORD=123456`
        /// variable (or secret) reads as JSON, a number, where the user meant the text. Other types are refused.
        func text(_ key: String, in section: JSONValue, named sectionName: String) throws(TesseraError) -> String? {
            guard let value = section[key] else { return nil }
            if let text = value.stringValue { return text }
            if let number = value.intValue { return String(number) }
            throw Self.badType("\(sectionName).\(key)", "a string")
        }
        func int(_ key: String, in section: JSONValue? = nil) throws(TesseraError) -> Int? {
            guard let value = (section ?? document)[key] else { return nil }
            guard let number = value.intValue else { throw Self.badType(key, "an integer") }
            return number
        }
        func bool(_ key: String) throws(TesseraError) -> Bool? {
            guard let value = document[key] else { return nil }
            guard let flag = value.boolValue else { throw Self.badType(key, "a boolean") }
            return flag
        }

        name = try string("Name") ?? name
        dicomAet = try string("DicomAet") ?? dicomAet
        dicomPort = try int("DicomPort") ?? dicomPort
        httpPort = try int("HttpPort") ?? httpPort
        storageDirectory = try string("StorageDirectory") ?? storageDirectory
        dicomCheckCalledAet = try bool("DicomCheckCalledAet") ?? dicomCheckCalledAet
        dicomThreadsCount = try int("DicomThreadsCount") ?? dicomThreadsCount
        dicomScpTimeout = try int("DicomScpTimeout") ?? dicomScpTimeout
        maximumPduLength = try int("MaximumPduLength") ?? maximumPduLength
        dicomOperationTimeout = try int("DicomOperationTimeout") ?? dicomOperationTimeout
        maximumUploadSizeMB = try int("MaximumUploadSize") ?? maximumUploadSizeMB
        httpRequestTimeout = try int("HttpRequestTimeout") ?? httpRequestTimeout
        overwriteInstances = try bool("OverwriteInstances") ?? overwriteInstances
        checkRevisions = try bool("CheckRevisions") ?? checkRevisions
        let tlsCertificate = try string("DicomTlsCertificate"), tlsKey = try string("DicomTlsPrivateKey")
        let tlsTrusted = try string("DicomTlsTrustedCertificates")
        let tlsRemoteRequired = try bool("DicomTlsRemoteCertificateRequired") ?? true
        switch (tlsCertificate, tlsKey) {
        case let (certificate?, key?):
            guard tlsTrusted != nil || !tlsRemoteRequired else {
                throw TesseraError(.badConfiguration, details: "DicomTlsTrustedCertificates is needed while DicomTlsRemoteCertificateRequired is true")
            }
            dicomTls = DicomTlsSettings(certificate: certificate, privateKey: key, trustedCertificates: tlsTrusted,
                                        remoteCertificateRequired: tlsRemoteRequired)
        case (nil, nil): break
        default:
            throw TesseraError(.badConfiguration, details: "DicomTlsCertificate and DicomTlsPrivateKey go together")
        }
        // Orthanc's DicomTlsEnabled makes its own DICOM port TLS-only; Tessera's gateway serves plain TCP (put a TLS
        // terminator in front of it), so the option is refused rather than ignored.
        if try bool("DicomTlsEnabled") == true {
            throw TesseraError(.badConfiguration, details: "DicomTlsEnabled is not supported: Tessera's gateway accepts plain DICOM; "
                               + "terminate TLS in front of it (stunnel, HAProxy). UseDicomTls towards modalities is supported")
        }
        if let count = try int("MaximumPatientCount") {
            guard count >= 0 else { throw Self.badType("MaximumPatientCount", "a positive integer or 0") }
            storageLimits.maximumPatientCount = count
        }
        if let megabytes = try int("MaximumStorageSize") {
            guard megabytes >= 0, megabytes < Int(Int64.max >> 20) else { throw Self.badType("MaximumStorageSize", "a number of MB or 0") }
            storageLimits.maximumStorageSize = Int64(megabytes) << 20
        }
        if let mode = try string("MaximumStorageMode") {
            guard let parsed = StorageLimits.Mode(rawValue: mode) else {
                throw TesseraError(.badConfiguration, details: "MaximumStorageMode must be \"Recycle\" or \"Reject\", not \"\(mode)\"")
            }
            storageLimits.mode = parsed
        }
        // Orthanc's StorageCompression zlib-compresses every stored file; Tessera stores DICOM files as received (its
        // readers map them), so it refuses the option rather than silently storing uncompressed files.
        if try bool("StorageCompression") == true {
            throw TesseraError(.badConfiguration, details: "StorageCompression is not supported: Tessera stores DICOM files uncompressed "
                               + "(use IngestTranscoding to store them in a compressed transfer syntax)")
        }
        // Orthanc's StoreMD5ForAttachments false stores files without their MD5; Tessera always keeps it (verify-md5,
        // scrub), so it refuses the option rather than silently storing the MD5s all the same.
        if try bool("StoreMD5ForAttachments") == false {
            throw TesseraError(.badConfiguration, details: "StoreMD5ForAttachments false is not supported: Tessera stores the MD5 of "
                               + "every file (verify-md5, tessera-indexer scrub)")
        }
        caseSensitivePN = try bool("CaseSensitivePN") ?? caseSensitivePN
        if let declared = document["UserMetadata"] {
            guard case .object(let members) = declared else { throw Self.badType("UserMetadata", "an object") }
            for (name, value) in members {
                guard let code = value.intValue, MetadataName.userRange.contains(code) else {
                    throw Self.badType("UserMetadata", "an object of numbers between 1024 and 65535")
                }
                userMetadata[name] = code
            }
        }
        if let declared = document["UserContentType"] {
            guard case .object(let members) = declared else { throw Self.badType("UserContentType", "an object") }
            for (name, value) in members {
                // Orthanc accepts a number, or [number, MIME type].
                if let code = value.intValue, MetadataName.userRange.contains(code) {
                    userContentTypes[name] = (code, "application/octet-stream")
                } else if case .array(let pair) = value, let code = pair.first?.intValue, MetadataName.userRange.contains(code) {
                    userContentTypes[name] = (code, pair.dropFirst().first?.stringValue ?? "application/octet-stream")
                } else {
                    throw Self.badType("UserContentType", "an object of numbers (or [number, MIME type]) between 1024 and 65535")
                }
            }
        }
        if let patterns = document["AcceptedTransferSyntaxes"] {
            switch patterns {
            case .string(let one): transferSyntaxes.patterns = [one]
            case .array(let many):
                transferSyntaxes.patterns = try many.map { value throws(TesseraError) in
                    guard let text = value.stringValue else { throw Self.badType("AcceptedTransferSyntaxes", "a list of strings") }
                    return text
                }
            default: throw Self.badType("AcceptedTransferSyntaxes", "a string or a list of strings")
            }
        }
        for group in TransferSyntaxPolicy.groups where try bool("\(group)TransferSyntaxAccepted") == false {
            transferSyntaxes.disabledGroups.insert(group)
        }
        if let syntax = try string("IngestTranscoding"), !syntax.isEmpty {
            do {
                transcoding.ingestSyntax = try TranscodingSettings.validate(syntax)
            } catch {
                throw TesseraError(.badConfiguration, details: "IngestTranscoding: unknown transfer syntax \(syntax)")
            }
        }
        transcoding.transcodeDicomProtocol = try bool("TranscodeDicomProtocol") ?? transcoding.transcodeDicomProtocol
        // C-STORE to a modality sends a file in its own syntax or decompressed, as Orthanc with its default preferred
        // syntax (Explicit VR Little Endian); another preferred syntax is not supported: said at start-up.
        if let preferred = try string("DicomScuPreferredTransferSyntax"), preferred != "1.2.840.10008.1.2.1" {
            throw TesseraError(.badConfiguration, details: "DicomScuPreferredTransferSyntax \(preferred) is not supported "
                               + "(only 1.2.840.10008.1.2.1, the default)")
        }
        transcoding.ingestUncompressed = try bool("IngestTranscodingOfUncompressed") ?? transcoding.ingestUncompressed
        transcoding.ingestCompressed = try bool("IngestTranscodingOfCompressed") ?? transcoding.ingestCompressed
        if let quality = try int("DicomLossyTranscodingQuality") {
            guard (1...100).contains(quality) else {
                throw TesseraError(.badConfiguration, details: "DicomLossyTranscodingQuality must be an integer between 1 and 100")
            }
            transcoding.lossyQuality = quality
        }
        stableAge = try int("StableAge") ?? stableAge
        remoteAccessAllowed = try bool("RemoteAccessAllowed") ?? remoteAccessAllowed
        authenticationEnabled = try bool("AuthenticationEnabled")
        if let users = document["RegisteredUsers"] {
            guard case .object(let members) = users else { throw Self.badType("RegisteredUsers", "an object") }
            for (user, password) in members {
                guard let text = password.stringValue else { throw Self.badType("RegisteredUsers", "an object of strings") }
                registeredUsers[user] = text
            }
        }
        if let postgres = document["PostgreSQL"] {
            database.host = try text("Host", in: postgres, named: "PostgreSQL") ?? database.host
            database.port = try int("Port", in: postgres) ?? database.port
            database.username = try text("Username", in: postgres, named: "PostgreSQL") ?? database.username
            database.password = try text("Password", in: postgres, named: "PostgreSQL") ?? database.password
            database.database = try text("Database", in: postgres, named: "PostgreSQL") ?? database.database
            database.maximumConnections = try int("IndexConnectionsCount", in: postgres) ?? database.maximumConnections
            database.statementTimeoutSeconds = try int("StatementTimeout", in: postgres) ?? database.statementTimeoutSeconds
            database.acquireTimeoutSeconds = try int("AcquireTimeout", in: postgres) ?? database.acquireTimeoutSeconds
            if let enable = postgres["EnableSsl"] {
                guard let enabled = enable.boolValue else { throw Self.badType("PostgreSQL.EnableSsl", "a Boolean") }
                database.sslMode = enabled ? .require : .disable
            }
            // As Orthanc's plugin: the URI, when given, says everything (EnableSsl is then not read).
            if let uri = postgres["ConnectionUri"] {
                guard let text = uri.stringValue else { throw Self.badType("PostgreSQL.ConnectionUri", "a string") }
                database.sslMode = .disable
                try database.apply(connectionURI: text)
            }
        }
        sslEnabled = try bool("SslEnabled") ?? sslEnabled
        sslCertificate = try string("SslCertificate") ?? sslCertificate
        if let kafka = document["Kafka"] {
            broker.bootstrapServers = try text("BootstrapServers", in: kafka, named: "Kafka") ?? broker.bootstrapServers
            broker.topic = try text("Topic", in: kafka, named: "Kafka") ?? broker.topic
            broker.partitions = try int("Partitions", in: kafka) ?? broker.partitions
            broker.consumerGroup = try text("ConsumerGroup", in: kafka, named: "Kafka") ?? broker.consumerGroup
            broker.deliveryTimeoutMilliseconds = try int("DeliveryTimeout", in: kafka) ?? broker.deliveryTimeoutMilliseconds
            if let properties = kafka["Properties"] {
                guard case .object(let members) = properties else { throw Self.badType("Kafka.Properties", "an object") }
                for (key, value) in members {
                    guard let text = value.stringValue ?? value.intValue.map(String.init) ?? value.boolValue.map(String.init) else {
                        throw Self.badType("Kafka.Properties", "an object of strings")
                    }
                    broker.properties[key] = text
                }
            }
        }
        if let section = document["Reconciler"] {
            reconciler.intervalSeconds = try int("Interval", in: section) ?? reconciler.intervalSeconds
            reconciler.gracePeriodSeconds = try int("GracePeriod", in: section) ?? reconciler.gracePeriodSeconds
            reconciler.fullScanIntervalSeconds = try int("FullScanInterval", in: section) ?? reconciler.fullScanIntervalSeconds
            reconciler.tombstoneRetentionSeconds = try int("TombstoneRetention", in: section) ?? reconciler.tombstoneRetentionSeconds
        }
        modalities = try Self.endpoints("DicomModalities", in: document)
        dicomModalitiesInDatabase = try bool("DicomModalitiesInDatabase") ?? dicomModalitiesInDatabase
        peers = try Self.endpoints("OrthancPeers", in: document)
        orthancPeersInDatabase = try bool("OrthancPeersInDatabase") ?? orthancPeersInDatabase
        httpTimeout = try int("HttpTimeout") ?? httpTimeout
        httpsVerifyPeers = try bool("HttpsVerifyPeers") ?? httpsVerifyPeers
        httpsCACertificates = try string("HttpsCACertificates") ?? httpsCACertificates
        dicomScuTimeout = try int("DicomScuTimeout") ?? dicomScuTimeout
        dicomAssociationCloseDelay = try int("DicomAssociationCloseDelay") ?? dicomAssociationCloseDelay
        dicomEchoChecksFind = try bool("DicomEchoChecksFind") ?? dicomEchoChecksFind
        storageCommitmentReportsSize = try int("StorageCommitmentReportsSize") ?? storageCommitmentReportsSize
        if let method = try string("DicomDefaultRetrieveMethod") {
            guard method == "C-MOVE" || method == "C-GET" else {
                throw TesseraError(.badConfiguration, message: "Bad configuration",
                                   details: "DicomDefaultRetrieveMethod must be C-MOVE or C-GET, got \(method)")
            }
            dicomDefaultRetrieveMethod = method
        }
        concurrentJobs = try int("ConcurrentJobs") ?? concurrentJobs
        jobsHistorySize = try int("JobsHistorySize") ?? jobsHistorySize
        saveJobs = try bool("SaveJobs") ?? saveJobs
        // LimitJobs: read and checked, but Orthanc has ignored it since 1.4.0 (the pending list is unlimited).
        _ = try int("LimitJobs")
        logExportedResources = try bool("LogExportedResources") ?? logExportedResources
        queryRetrieveSize = try int("QueryRetrieveSize") ?? queryRetrieveSize
        jobLeaseSeconds = try int("JobLease") ?? jobLeaseSeconds
        for request in DicomAccessRules.Request.allCases where request != .nAction && request != .eventReport {
            guard let allowed = try bool("DicomAlwaysAllow\(request.rawValue)") else { continue }
            if allowed { dicomAccess.alwaysAllowed.insert(request) } else { dicomAccess.alwaysAllowed.remove(request) }
        }
        dicomAccess.checkModalityHost = try bool("DicomCheckModalityHost") ?? dicomAccess.checkModalityHost
        dicomAccess.strictAetComparison = try bool("StrictAetComparison") ?? dicomAccess.strictAetComparison
        synchronousCMove = try bool("SynchronousCMove") ?? synchronousCMove
        limitFindResults = try int("LimitFindResults") ?? limitFindResults
        limitFindInstances = try int("LimitFindInstances") ?? limitFindInstances
        defaultEncoding = try string("DefaultEncoding") ?? defaultEncoding
        unknownSopClassAccepted = try bool("UnknownSopClassAccepted") ?? unknownSopClassAccepted
        datashares.enabled = try bool("DatashareMode") ?? datashares.enabled
        datashares.shares = try Self.endpoints("Datashares", in: document)
        for name in datashares.shares.keys {
            do {
                try DatashareConfiguration.validate(name: name)
            } catch {
                throw TesseraError(.badConfiguration, message: "Bad configuration", details: "Datashares.\(name): \(error.details ?? error.message)")
            }
        }
        datashares.defaultDiskBudgetMB = try int("DatashareDiskBudget") ?? datashares.defaultDiskBudgetMB
        try applyEnvironment(environment)
        try validate()
    }

    private mutating func applyEnvironment(_ environment: [String: String]) throws(TesseraError) {
        func int(_ name: String) throws(TesseraError) -> Int? {
            guard let text = environment[name], !text.isEmpty else { return nil }
            guard let value = Int(text) else {
                throw TesseraError(.badConfiguration, message: "Bad configuration", details: "\(name) must be an integer, got \(text)")
            }
            return value
        }
        func string(_ name: String) -> String? {
            guard let text = environment[name], !text.isEmpty else { return nil }
            return text
        }
        dicomAet = string("TESSERA_DICOM_AET") ?? dicomAet
        dicomPort = try int("TESSERA_DICOM_PORT") ?? dicomPort
        httpPort = try int("TESSERA_HTTP_PORT") ?? httpPort
        httpHost = string("TESSERA_HTTP_HOST") ?? httpHost
        metricsPort = try int("TESSERA_METRICS_PORT") ?? metricsPort
        metricsHost = string("TESSERA_METRICS_HOST") ?? metricsHost
        storageDirectory = string("TESSERA_STORAGE_DIR") ?? storageDirectory
        database.host = string("TESSERA_PG_HOST") ?? database.host
        database.port = try int("TESSERA_PG_PORT") ?? database.port
        database.username = string("TESSERA_PG_USER") ?? database.username
        database.password = string("TESSERA_PG_PASSWORD") ?? database.password
        database.database = string("TESSERA_PG_DATABASE") ?? database.database
        if let mode = string("TESSERA_PG_SSLMODE") {
            guard let parsed = DatabaseSettings.SSLMode(rawValue: mode) else {
                throw TesseraError(.badConfiguration, message: "Bad configuration",
                                   details: "TESSERA_PG_SSLMODE must be disable, require or verify-full, got \(mode)")
            }
            database.sslMode = parsed
        }
        database.sslRootCertificate = string("TESSERA_PG_SSLROOTCERT") ?? database.sslRootCertificate
        broker.bootstrapServers = string("TESSERA_KAFKA_BROKERS") ?? broker.bootstrapServers
        broker.topic = string("TESSERA_KAFKA_TOPIC") ?? broker.topic
        broker.partitions = try int("TESSERA_KAFKA_PARTITIONS") ?? broker.partitions
        broker.consumerGroup = string("TESSERA_KAFKA_GROUP") ?? broker.consumerGroup
        reconciler.intervalSeconds = try int("TESSERA_RECONCILE_INTERVAL") ?? reconciler.intervalSeconds
        reconciler.gracePeriodSeconds = try int("TESSERA_RECONCILE_GRACE") ?? reconciler.gracePeriodSeconds
        jobLeaseSeconds = try int("TESSERA_JOB_LEASE") ?? jobLeaseSeconds
    }

    private func validate() throws(TesseraError) {
        for (key, port) in [("DicomPort", dicomPort), ("HttpPort", httpPort), ("PostgreSQL.Port", database.port)] {
            guard (1...65_535).contains(port) else {
                throw TesseraError(.badConfiguration, message: "Bad configuration", details: "\(key) must be a TCP port, got \(port)")
            }
        }
        guard !dicomAet.isEmpty, dicomAet.utf8.count <= 16 else {
            throw TesseraError(.badConfiguration, message: "Bad configuration", details: "DicomAet must have 1 to 16 characters")
        }
        guard dicomScpTimeout >= 1, dicomOperationTimeout >= 0, maximumUploadSizeMB >= 0, httpRequestTimeout >= 1 else {
            throw TesseraError(.badConfiguration, message: "Bad configuration",
                               details: "DicomScpTimeout and HttpRequestTimeout must be positive, DicomOperationTimeout and MaximumUploadSize not negative")
        }
        guard stableAge >= 1 else {
            throw TesseraError(.badConfiguration, message: "Bad configuration", details: "StableAge must be at least 1 second")
        }
        guard reconciler.intervalSeconds >= 1, reconciler.gracePeriodSeconds >= 1, reconciler.fullScanIntervalSeconds >= 1,
              reconciler.tombstoneRetentionSeconds >= 1 else {
            throw TesseraError(.badConfiguration, message: "Bad configuration", details: "The Reconciler durations must be positive")
        }
        guard broker.deliveryTimeoutMilliseconds >= 1_000 else {
            throw TesseraError(.badConfiguration, message: "Bad configuration", details: "Kafka.DeliveryTimeout must be at least 1000 ms")
        }
        guard dicomScuTimeout >= 0, httpTimeout >= 0, storageCommitmentReportsSize >= 0, dicomAssociationCloseDelay >= 0, concurrentJobs >= 0, jobsHistorySize >= 0,
              jobLeaseSeconds >= 2 else {
            throw TesseraError(.badConfiguration, message: "Bad configuration",
                               details: "DicomScuTimeout, DicomAssociationCloseDelay, ConcurrentJobs and JobsHistorySize must not be negative, JobLease at least 2 seconds")
        }
        guard datashares.defaultDiskBudgetMB > 0 else {
            throw TesseraError(.badConfiguration, message: "Bad configuration", details: "DatashareDiskBudget must be a positive number of MB")
        }
        guard limitFindResults >= 0, limitFindInstances >= 0 else {
            throw TesseraError(.badConfiguration, message: "Bad configuration", details: "LimitFindResults and LimitFindInstances must not be negative")
        }
        guard DicomEncoding.specificCharacterSet(of: defaultEncoding) != nil else {
            throw TesseraError(.badConfiguration, message: "Bad configuration", details: "Unknown DefaultEncoding: \(defaultEncoding)")
        }
        guard dicomThreadsCount >= 1, broker.partitions >= 1 else {
            throw TesseraError(.badConfiguration, message: "Bad configuration", details: "DicomThreadsCount and Kafka.Partitions must be positive")
        }
    }

    /// The largest upload in bytes (`MaximumUploadSize`; no limit is `Int64.max`).
    public var maximumUploadSize: Int64 {
        maximumUploadSizeMB == 0 ? .max : Int64(maximumUploadSizeMB) * 1_048_576
    }

    /// Whether REST clients must authenticate (Orthanc: `AuthenticationEnabled`, defaulting to `RemoteAccessAllowed`).
    public var isAuthenticationRequired: Bool { authenticationEnabled ?? remoteAccessAllowed }

    /// The named modalities or peers of `key`; a bad one names itself in the error.
    private static func endpoints<Endpoint: RemoteEndpoint>(_ key: String, in document: JSONValue) throws(TesseraError) -> [String: Endpoint] {
        guard let declared = document[key] else { return [:] }
        guard case .object(let members) = declared else { throw badType(key, "an object") }
        var endpoints: [String: Endpoint] = [:]
        for (name, value) in members {
            do {
                endpoints[name] = try Endpoint(json: value)
            } catch {
                throw TesseraError(.badConfiguration, message: "Bad configuration", details: "\(key).\(name): \(error.details ?? error.message)")
            }
        }
        return endpoints
    }

    private static func badType(_ key: String, _ expected: String) -> TesseraError {
        TesseraError(.badConfiguration, message: "Bad configuration", details: "\(key) must be \(expected)")
    }
}
