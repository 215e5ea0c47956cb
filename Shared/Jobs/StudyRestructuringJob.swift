import DICOM
import Index
import Ingest
import Logging
import Model
import Modification
import Storage

/// Runs `MergeStudy` and `SplitStudy` jobs: each instance copied into the target study through the ingest path, with
/// the patient and study tags the request sets, a new SeriesInstanceUID per original series and a new SOPInstanceUID
/// (from the job's `UIDMapping`, so a job resumed after its worker died stores the same instances once). As Orthanc's
/// trailing step, the originals are deleted once every copy is stored, unless `KeepSource`; the answer waits until
/// the copies are indexed.
public struct StudyRestructuringJob: JobHandler {
    let kind: StudyRestructuringRequest.Kind
    let loop: InstanceSendLoop
    let instances: InstanceQueries
    let deleter: ResourceDeleter
    let blobs: BlobStore
    let ingest: InstanceIngest
    let modifier: InstanceModifier

    public init(kind: StudyRestructuringRequest.Kind, instances: InstanceQueries, deleter: ResourceDeleter, blobs: BlobStore,
                ingest: InstanceIngest, logger: Logger) {
        self.kind = kind
        self.loop = InstanceSendLoop(instances: instances, logger: logger)
        self.instances = instances
        self.deleter = deleter
        self.blobs = blobs
        self.ingest = ingest
        self.modifier = InstanceModifier()  // text in the DefaultEncoding of the moment
    }

    public var type: String { kind.rawValue }

    public func run(_ job: JobRecord, context: JobContext) async throws -> JobResult {
        let request = try StudyRestructuringRequest(json: job.request)
        var done: JSONValue
        if CopyCompletion.isDeleting(job) {
            // Killed while deleting the originals: every copy was stored before.
            done = job.content
        } else {
            let (blobs, modifier, plan) = (self.blobs, self.modifier, request.restructuring.modification)
            let mapping = UIDMapping(seed: request.seed)
            var target = job.content["TargetStudy"]?.stringValue.flatMap { PublicID(validating: $0) }
            var stored: [PublicID] = []
            let outcome = try await loop.run(job, context: context, ids: request.instances, permissive: false,
                                             content: { request.content(failed: $0.failed.count, targetStudy: target) }) { id, record, _ in
                // An instance deleted since submission is skipped, as Orthanc does.
                guard let record else { return 0 }
                let (path, summary, size) = try await blobs.performBlocking { () throws(TesseraError) -> (String, InstanceSummary, Int) in
                    let file = try DicomFile(path: blobs.path(of: record.fileUUID), maxReadLength: .max)
                    let bytes = try modifier.modify(file, with: plan, level: .series) { mapping.uid(for: $0, original: $1) }
                    let summary = try InstanceSummary(file: try DicomFile(bytes: bytes))
                    return (try blobs.writeIncomingBlocking(bytes), summary, bytes.count)
                }
                let identifiers = try await ingest.store(incoming: path, summary: summary, source: IngestSource(origin: "RestApi"))
                    .summary.identifiers
                target = target ?? identifiers.studyPublicID
                stored.append(identifiers.instancePublicID)
                return Int64(size)
            }
            guard case .success = outcome else { return outcome }
            done = request.content(failed: 0, targetStudy: target)
            if let reason = try await CopyCompletion.finish(done, count: request.instances.count, stored: stored, context: context,
                                                            instances: instances) {
                return .stopped(reason)
            }
        }
        if !request.keepSource {
            for id in request.instances {
                _ = try await deleter.delete(.instance, id)
            }
        }
        return .success(done)
    }
}
