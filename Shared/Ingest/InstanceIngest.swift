import DICOM
import Events
import Foundation
import Logging
import Metrics
import Model
import Storage

/// The ingest path every entry point shares (C-STORE now, `POST /instances` next): read the DICOM file,
/// write its blob durably, publish an ``InstanceStoredEvent`` and wait for the broker's acknowledgement.
/// When ``store(_:source:)`` returns, the instance cannot be lost; when it throws, the sender must be told so.
public struct InstanceIngest: Sendable {
    let blobs: BlobStore
    let producer: KafkaProducer
    let topic: String
    let overwrite: Bool
    let logger: Logger
    private let stored = Counter(label: "tessera_ingest_instances_total", dimensions: [("result", "stored")])
    private let rejected = Counter(label: "tessera_ingest_instances_total", dimensions: [("result", "rejected")])
    private let failed = Counter(label: "tessera_ingest_instances_total", dimensions: [("result", "failed")])
    private let duration = Metrics.Timer(label: "tessera_ingest_duration_seconds", preferredDisplayUnit: .seconds)

    /// - Parameter overwrite: Orthanc's `OverwriteInstances`: a new copy of an indexed instance replaces it.
    public init(blobs: BlobStore, producer: KafkaProducer, topic: String, overwrite: Bool = false, logger: Logger) {
        self.blobs = blobs
        self.producer = producer
        self.topic = topic
        self.overwrite = overwrite
        self.logger = logger
    }

    /// Reads what the index needs from a Part-10 file; throws `badFileFormat` (with Orthanc's wording) when the
    /// bytes are not a usable DICOM instance.
    public func summarize(_ bytes: [UInt8]) throws(TesseraError) -> InstanceSummary {
        let file: DicomFile
        do {
            file = try DicomFile(bytes: bytes)
        } catch {
            rejected.increment()
            throw TesseraError(.badFileFormat, details: "Cannot parse an invalid DICOM file (size: \(bytes.count) bytes)")
        }
        do {
            return try InstanceSummary(file: file)
        } catch {
            rejected.increment()
            throw error
        }
    }

    /// Stores one Part-10 file. Throws `badFileFormat` for input that is not a usable DICOM instance
    /// (nothing is written then), or a storage/broker error when durability could not be reached.
    public func store(_ bytes: [UInt8], source: IngestSource) async throws(TesseraError) -> StoredInstance {
        let summary: InstanceSummary
        do {
            summary = try summarize(bytes)
        } catch {
            logger.warning("Rejected a file that is not a usable DICOM instance",
                           metadata: ["origin": "\(source.origin)", "remoteAET": "\(source.remoteAET ?? "")", "reason": "\(error.details ?? error.message)"])
            throw error
        }
        return try await store(bytes, summary: summary, source: source)
    }

    /// Stores a file whose summary was read already (by the C-STORE SCP from the decoded dataset), or rejects it
    /// as ``store(_:source:)`` does when that reading failed.
    public func store(_ bytes: [UInt8], summarized: Result<InstanceSummary, TesseraError>,
                      source: IngestSource) async throws(TesseraError) -> StoredInstance {
        switch summarized {
        case .success(let summary):
            return try await store(bytes, summary: summary, source: source)
        case .failure(let error):
            rejected.increment()
            logger.warning("Rejected a file that is not a usable DICOM instance",
                           metadata: ["origin": "\(source.origin)", "remoteAET": "\(source.remoteAET ?? "")", "reason": "\(error.details ?? error.message)"])
            throw error
        }
    }

    /// Stores a file already read by ``summarize(_:)``.
    public func store(_ bytes: [UInt8], summary: InstanceSummary, source: IngestSource) async throws(TesseraError) -> StoredInstance {
        let start = ContinuousClock.now
        do {
            let blob = try await blobs.write(bytes)
            let instance = StoredInstance(
                summary: summary, fileUUID: blob.uuid, fileSize: blob.size, origin: source.origin,
                remoteAET: source.remoteAET, calledAET: source.calledAET, remoteIP: source.remoteIP, receptionDate: Date(),
                httpUsername: source.httpUsername, overwrite: overwrite)
            let event = InstanceStoredEvent(instance)
            // A blob whose event was not acknowledged stays as an orphan: deleting it could race an event the
            // broker did take after all. Orphans are harmless and can be reclaimed by a sweep.
            try await producer.send(topic: topic, key: event.key, payload: try event.encoded())
            stored.increment()
            duration.recordInterval(since: start)
            logger.debug("Stored instance", metadata: ["instance": "\(summary.identifiers.instancePublicID)", "blob": "\(blob.uuid)"])
            return instance
        } catch {
            failed.increment()
            logger.error("Could not store an instance durably",
                         metadata: ["origin": "\(source.origin)", "error": "\(error)"])
            throw error
        }
    }
}

extension Metrics.Timer {
    func recordInterval(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        let nanoseconds = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
        recordNanoseconds(nanoseconds)
    }
}
