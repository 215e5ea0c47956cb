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

    /// - Parameters:
    ///   - defaultCharset: DefaultEncoding's character set, for text written into files that declare none.
    ///   - transcodingQuality: DicomLossyTranscodingQuality, for lossy `Transcode` targets.
    public init(instances: InstanceQueries, deleter: ResourceDeleter, blobs: BlobStore,
                ingest: InstanceIngest, defaultCharset: String, transcodingQuality: Int = 90, logger: Logger) {
        self.loop = InstanceSendLoop(instances: instances, logger: logger)
        self.instances = instances
        self.deleter = deleter
        self.blobs = blobs
        self.ingest = ingest
        self.modifier = InstanceModifier(defaultCharset: defaultCharset, transcodingQuality: transcodingQuality)
    }

    public var type: String { ResourceModificationRequest.type }

    /// How long the answer waits for the new resource to be indexed.
    static let indexingTimeout: Duration = .seconds(60)

    public func run(_ job: JobRecord, context: JobContext) async throws -> JobResult {
        let request = try ResourceModificationRequest(json: job.request)
        var modification = request.anonymization ? try ModifyRequest.parseAnonymization(request.body)
            : try ModifyRequest.parse(request.body, resourceLevel: request.level)
        if let name = request.patientName { modification.setGeneratedPatientName(name) }
        let anonymized = request.anonymization
        let mapping = UIDMapping(seed: request.seed)
        let (blobs, modifier, level, plan) = (self.blobs, self.modifier, request.level, modification)
        var made: InstanceIdentifiers?
        var stored: [PublicID] = []
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
                let file = try DicomFile(path: blobs.path(of: record.fileUUID), maxReadLength: .max)
                let original = try InstanceSummary(file: file).identifiers
                let bytes = try modifier.modify(file, with: plan, level: level, transcodingUIDs: .restore) {
                    mapping.uid(for: $0, original: $1)
                }
                let summary = try InstanceSummary(file: try DicomFile(bytes: bytes))
                // An anonymization makes every level new (a new PatientID, new UIDs).
                let origin = ModificationOrigin(
                    instance: original.instancePublicID.value,
                    series: anonymized || level.depth <= ResourceLevel.series.depth ? original.seriesPublicID.value : nil,
                    study: anonymized || level.depth <= ResourceLevel.study.depth ? original.studyPublicID.value : nil,
                    patient: anonymized || level == .patient ? original.patientPublicID.value : nil, anonymized: anonymized)
                return (try blobs.writeIncomingBlocking(bytes), summary, origin, bytes.count)
            }
            var source = IngestSource(origin: "RestApi", modifiedFrom: origin)
            // A job's own Transcode takes precedence over IngestTranscoding (Orthanc 1.11.3).
            source.skipsIngestTranscoding = plan.transcode != nil
            // What was stored (IngestTranscoding to a lossy syntax gives the copy yet another SOP Instance UID).
            let identifiers = try await ingest.store(incoming: path, summary: summary, source: source).summary.identifiers
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
            result = (Self.publicID(made, at: level), made.patientPublicID)
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
        try await waitUntilIndexed(stored)
        return .success(done)
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

    /// Waits until every instance this run stored is indexed (those of an earlier run of the job were, long since).
    private func waitUntilIndexed(_ ids: [PublicID]) async throws {
        let deadline = ContinuousClock.now + Self.indexingTimeout
        var waiting = ids[...]
        while !waiting.isEmpty {
            let batch = Array(waiting.prefix(InstanceSendLoop.batchSize))
            let found = try await instances.records(ids: batch)
            waiting = waiting.drop { found[$0] != nil }
            if waiting.isEmpty { return }
            guard ContinuousClock.now < deadline else {
                throw TesseraError(.timeout, details: "The modified instances were stored but are not indexed yet")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}
