import DICOM
import Index
import Ingest
import Logging
import Model
import Modification
import Storage

/// Runs `ResourceModification` jobs (`POST /patients|studies|series/{id}/modify`): each instance modified and stored
/// through the ingest path as a new instance (`ModifiedFrom` metadata on every new resource), the position of the next
/// one recorded after each. New UIDs come from the job's `UIDMapping`, so an instance modified again after its worker
/// died is the same instance and is stored once. Unless `KeepSource`, each original is deleted once its copy is
/// stored. The answer waits until the new instances are indexed, as Orthanc's answer comes once they are stored.
public struct ResourceModificationJob: JobHandler {
    let loop: InstanceSendLoop
    let instances: InstanceQueries
    let deleter: ResourceDeleter
    let blobs: BlobStore
    let ingest: InstanceIngest
    let modifier: InstanceModifier
    let labels: LabelCopier

    /// - Parameters:
    ///   - transcodingQuality: DicomLossyTranscodingQuality, for lossy `Transcode` targets.
    public init(instances: InstanceQueries, resources: ResourceQueries, labels: LabelStore, deleter: ResourceDeleter, blobs: BlobStore,
                ingest: InstanceIngest, transcodingQuality: Int = 90, logger: Logger) {
        self.labels = LabelCopier(labels: labels, resources: resources, instances: instances)
        self.loop = InstanceSendLoop(instances: instances, logger: logger)
        self.instances = instances
        self.deleter = deleter
        self.blobs = blobs
        self.ingest = ingest
        // Text goes into files without a character set in the DefaultEncoding of the moment.
        self.modifier = InstanceModifier(transcodingQuality: transcodingQuality)
    }

    public var type: String { ResourceModificationRequest.type }

    public func run(_ job: JobRecord, context: JobContext) async throws -> JobResult {
        let request = try ResourceModificationRequest(json: job.request)
        var modification: ModifyRequest
        if request.anonymization {
            modification = try ModifyRequest.parseAnonymization(request.body)
        } else if request.isBulk {
            modification = try ModifyRequest.parse(request.body)
        } else {
            modification = try ModifyRequest.parse(request.body, resourceLevel: request.level)
        }
        if let name = request.patientName { modification.setGeneratedPatientName(name) }
        if request.isBulk { return try await runBulk(job, request: request, modification: modification, context: context) }
        let (blobs, plan) = (self.blobs, modification)
        let copier = Copier(modifier: modifier, plan: modification, level: request.level, mapping: UIDMapping(seed: request.seed),
                            anonymized: request.anonymization, bulk: false)
        var made: InstanceIdentifiers?
        var stored: [PublicID] = []
        var labelCopier = labels
        let outcome = try await loop.run(job, context: context, ids: request.instances, permissive: false,
                                         content: { request.content(failed: $0.failed.count) }) { id, record, _ in
            guard let record else {
                // With KeepSource false, an original is deleted once its copy is stored: a job resumed after that
                // finds it gone and goes on.
                if !request.keepSource { return 0 }
                throw TesseraError(.unknownResource, details: "Instance \(id.value) was deleted before it could be modified")
            }
            let (path, summary, origin, size) = try await blobs.performBlocking {
                () throws(TesseraError) -> (String, InstanceSummary, ModificationOrigin, Int) in
                let copy = try copier.copy(of: try DicomFile(path: blobs.path(of: record.fileUUID), maxReadLength: .max))
                return (try blobs.writeIncomingBlocking(copy.bytes), copy.summary, copy.origin, copy.bytes.count)
            }
            let identifiers = try await store(path, summary: summary, origin: origin, plan: plan)
            if plan.keepLabels { try await labelCopier.copy(from: record, to: identifiers) }
            made = identifiers
            stored.append(identifiers.instancePublicID)
            // KeepSource false: each original goes once its copy is stored, and only when the copy is another instance
            // (a kept SOP Instance UID and PatientID make the same one); instances added since submission stay.
            if !request.keepSource, identifiers.instancePublicID != id {
                _ = try await deleter.delete(.instance, id)
            }
            return Int64(size)
        }
        guard case .success = outcome else { return outcome }
        // A job resumed after its last instance has no instance of its own run: the stored result tells.
        let result: (id: PublicID, patient: PublicID)
        if let made {
            result = (Self.publicID(made, at: request.level), made.patientPublicID)
        } else if let id = job.content["ID"]?.stringValue.flatMap({ PublicID(validating: $0) }),
                  let patient = job.content["PatientID"]?.stringValue.flatMap({ PublicID(validating: $0) }) {
            result = (id, patient)
        } else {
            throw TesseraError(.internalError, details: "The modified resource is unknown")
        }
        let done = request.content(failed: 0, result: result)
        if let reason = try await context.record(cursor: .object(["Position": .number(Double(request.instances.count))]),
                                                 content: done, progress: 100) {
            return .stopped(reason)
        }
        try await CopyCompletion.waitUntilIndexed(stored, instances: instances)
        return .success(done)
    }

    /// A bulk job (`/tools/bulk-modify|bulk-anonymize`): every instance copied, then, as Orthanc's trailing step, the
    /// originals deleted unless `KeepSource`. The answer lists the resources made; a job resumed after its worker died
    /// finds those of its earlier run again by copying their originals once more in memory (the same UIDs come out),
    /// which is why the originals go only at the end, once the list is recorded.
    private func runBulk(_ job: JobRecord, request: ResourceModificationRequest, modification: ModifyRequest,
                         context: JobContext) async throws -> JobResult {
        let blobs = self.blobs
        let copier = Copier(modifier: modifier, plan: modification, level: request.level, mapping: UIDMapping(seed: request.seed),
                            anonymized: request.anonymization, bulk: true)
        var made: [ResourceLevel: Set<PublicID>] = [:]
        func add(_ identifiers: InstanceIdentifiers) {
            for level in [ResourceLevel.patient, .study, .series, .instance] {
                made[level, default: []].insert(Self.publicID(identifiers, at: level))
            }
        }
        var done: JSONValue
        if CopyCompletion.isDeleting(job) {
            // Killed while deleting the originals: the list was recorded before.
            done = job.content
        } else {
            // Resumed: the copies an earlier run stored are found again (their originals are all still there).
            let resumedAt = InstanceSendLoop.Progress(cursor: job.cursor).position
            if resumedAt > 0 {
                let earlier = Array(request.instances.prefix(resumedAt))
                let records = try await instances.records(ids: earlier)
                for id in earlier {
                    guard let record = records[id] else { continue }
                    let summary = try await blobs.performBlocking { () throws(TesseraError) -> InstanceSummary in
                        try copier.copy(of: try DicomFile(path: blobs.path(of: record.fileUUID), maxReadLength: .max)).summary
                    }
                    add(summary.identifiers)
                }
            }
            var stored: [PublicID] = []
            var labelCopier = labels
            let outcome = try await loop.run(job, context: context, ids: request.instances, permissive: false,
                                             content: { request.content(failed: $0.failed.count, made: made) }) { id, record, _ in
                guard let record else {
                    throw TesseraError(.unknownResource, details: "Instance \(id.value) was deleted before it could be modified")
                }
                let (path, summary, origin, size) = try await blobs.performBlocking {
                    () throws(TesseraError) -> (String, InstanceSummary, ModificationOrigin, Int) in
                    let copy = try copier.copy(of: try DicomFile(path: blobs.path(of: record.fileUUID), maxReadLength: .max))
                    return (try blobs.writeIncomingBlocking(copy.bytes), copy.summary, copy.origin, copy.bytes.count)
                }
                let identifiers = try await store(path, summary: summary, origin: origin, plan: modification)
                if modification.keepLabels { try await labelCopier.copy(from: record, to: identifiers) }
                stored.append(identifiers.instancePublicID)
                add(identifiers)
                return Int64(size)
            }
            guard case .success = outcome else { return outcome }
            done = request.content(failed: 0, made: made)
            if let reason = try await CopyCompletion.finish(done, count: request.instances.count, stored: stored, context: context,
                                                            instances: instances) {
                return .stopped(reason)
            }
        }
        if !request.keepSource {
            guard case .array(let resources)? = done["Resources"] else {
                throw TesseraError(.internalError, details: "The modified resources are unknown")
            }
            let copies = Set(resources.compactMap { $0["ID"]?.stringValue })
            for id in request.instances where !copies.contains(id.value) {
                _ = try await deleter.delete(.instance, id)
            }
        }
        return .success(done)
    }

    /// Stores one modified file through the ingest path; the identifiers of what was stored (IngestTranscoding to a
    /// lossy syntax gives the copy yet another SOP Instance UID).
    private func store(_ path: String, summary: InstanceSummary, origin: ModificationOrigin,
                       plan: ModifyRequest) async throws -> InstanceIdentifiers {
        var source = IngestSource(origin: "RestApi", modifiedFrom: origin)
        // A job's own Transcode takes precedence over IngestTranscoding (Orthanc 1.11.3).
        source.skipsIngestTranscoding = plan.transcode != nil
        return try await ingest.store(incoming: path, summary: summary, source: source).summary.identifiers
    }

    /// The public ID of the resource of `level` an instance belongs to.
    static func publicID(_ identifiers: InstanceIdentifiers, at level: ResourceLevel) -> PublicID {
        switch level {
        case .patient: identifiers.patientPublicID
        case .study: identifiers.studyPublicID
        case .series: identifiers.seriesPublicID
        case .instance: identifiers.instancePublicID
        }
    }

    /// The modification of one instance, the same whenever it runs (UIDs from the job's mapping).
    struct Copier: Sendable {
        let modifier: InstanceModifier
        let plan: ModifyRequest
        let level: ResourceLevel
        let mapping: UIDMapping
        let anonymized: Bool
        /// A bulk job records ModifiedFrom (AnonymizedFrom) where the copy's resource differs from the original's, as
        /// Orthanc 1.12; a resource job at the levels its modification makes new.
        let bulk: Bool

        func copy(of file: DicomFile) throws(TesseraError) -> (bytes: [UInt8], summary: InstanceSummary, origin: ModificationOrigin) {
            let original = try InstanceSummary(file: file).identifiers
            let bytes = try modifier.modify(file, with: plan, level: level, transcodingUIDs: .restore) {
                mapping.uid(for: $0, original: $1)
            }
            let summary = try InstanceSummary(file: try DicomFile(bytes: bytes))
            let new = summary.identifiers
            let origin: ModificationOrigin
            if bulk {
                origin = ModificationOrigin(
                    instance: original.instancePublicID.value,
                    series: original.seriesPublicID != new.seriesPublicID ? original.seriesPublicID.value : nil,
                    study: original.studyPublicID != new.studyPublicID ? original.studyPublicID.value : nil,
                    patient: original.patientPublicID != new.patientPublicID ? original.patientPublicID.value : nil,
                    anonymized: anonymized)
            } else {
                // An anonymization makes every level new (a new PatientID, new UIDs).
                origin = ModificationOrigin(
                    instance: original.instancePublicID.value,
                    series: anonymized || level.depth <= ResourceLevel.series.depth ? original.seriesPublicID.value : nil,
                    study: anonymized || level.depth <= ResourceLevel.study.depth ? original.studyPublicID.value : nil,
                    patient: anonymized || level == .patient ? original.patientPublicID.value : nil, anonymized: anonymized)
            }
            return (bytes, summary, origin)
        }
    }
}
