import DICOM
import Events
import Foundation
import Logging
import Metrics
import Model
import NIOPosix
import Storage

/// The ingest path every entry point shares (C-STORE, `POST /instances`): an incoming file on the shared storage
/// is read (what the index needs), made a durable blob, and announced by an ``InstanceStoredEvent`` that the broker
/// acknowledged. When ``store(incoming:summary:source:as:)`` returns, the instance cannot be lost; when it throws, the sender
/// must be told so, and the blob is removed unless the broker may have taken the event after all (the reconciler
/// then indexes it from the file).
public struct InstanceIngest: Sendable {
    let blobs: BlobStore
    let producer: KafkaProducer
    let overwrite: Bool
    /// `IngestTranscoding` and its companions: received instances re-encoded before they are stored.
    let transcoding: TranscodingSettings
    let logger: Logger
    /// Where blocking work (parsing, fsync) runs for callers that are on Swift's cooperative pool.
    let workers: NIOThreadPool
    /// Checks the storage limits (`MaximumPatientCount`, `MaximumStorageSize`) before an instance is announced; a
    /// refusal removes its blob and is the sender's answer. Nil: no limits.
    public var admission: (@Sendable (StoredInstance) async throws(TesseraError) -> Void)?
    private let stored = Counter(label: "tessera_ingest_instances_total", dimensions: [("result", "stored")])
    private let rejected = Counter(label: "tessera_ingest_instances_total", dimensions: [("result", "rejected")])
    private let failed = Counter(label: "tessera_ingest_instances_total", dimensions: [("result", "failed")])
    private let duration = Metrics.Timer(label: "tessera_ingest_duration_seconds", preferredDisplayUnit: .seconds)

    /// - Parameters:
    ///   - overwrite: Orthanc's `OverwriteInstances`: a new copy of an indexed instance replaces it.
    ///   - workers: threads for the blocking part of ``store(incoming:summary:source:as:)``.
    ///   - transcoding: `IngestTranscoding`: the syntax received instances are re-encoded in, if any.
    public init(blobs: BlobStore, producer: KafkaProducer, overwrite: Bool = false, workers: NIOThreadPool = .singleton,
                transcoding: TranscodingSettings = TranscodingSettings(), logger: Logger) {
        self.blobs = blobs
        self.producer = producer
        self.overwrite = overwrite
        self.transcoding = transcoding
        self.workers = workers
        self.logger = logger
    }

    /// Reads what the index needs from the DICOM file at `path`. Blocking. Throws `badFileFormat` (Orthanc's
    /// wording) for a file that is not a usable DICOM instance, `badParameterType` for an identifier too long.
    public func summarize(path: String) throws(TesseraError) -> InstanceSummary {
        try InstanceSummary.read(path: path)
    }

    /// The blocking half of a store, for callers on a thread of their own (the C-STORE SCP's): reads the incoming file
    /// (unless its `summary` is known already) and makes it a durable blob. The incoming file is gone afterwards
    /// (adopted, or removed when refused). `md5`: the file's MD5 when it was computed as the file was written (it is
    /// read back otherwise).
    public func prepare(incoming path: String, summary known: InstanceSummary? = nil, md5: String? = nil, source: IngestSource,
                        as id: BlobID = .generate()) throws(TesseraError) -> StoredInstance {
        var summary: InstanceSummary
        if let known {
            summary = known
        } else {
            do {
                summary = try summarize(path: path)
            } catch {
                blobs.discard(path)
                let metadata = source.logMetadata.merging(["reason": "\(error.details ?? error.message)"]) { $1 }
                if error.refusesInstance {
                    rejected.increment()
                    logger.warning("Rejected a file that is not a usable DICOM instance", metadata: metadata)
                } else {
                    failed.increment()
                    logger.error("Could not read a received instance now; the sender is told to try again", metadata: metadata)
                }
                throw error
            }
        }
        var path = path, md5 = md5
        if !source.skipsIngestTranscoding, let target = transcoding.ingestTarget(for: summary.transferSyntaxUID ?? "") {
            let received = path
            (path, summary) = try transcode(incoming: path, summary: summary, to: target, source: source)
            if path != received { md5 = nil }
        }
        let blob: BlobReference
        do {
            blob = try blobs.adoptBlocking(path, md5: md5, as: id)
        } catch {
            failed.increment()
            logger.error("Could not store an instance durably", metadata: source.logMetadata.merging(["error": "\(error)"]) { $1 })
            throw error
        }
        return StoredInstance(
            summary: summary, fileUUID: blob.id, fileSize: blob.size, fileMD5: blob.md5, origin: source.origin,
            remoteAET: source.remoteAET, calledAET: source.calledAET, remoteIP: source.remoteIP, receptionDate: Date(),
            httpUsername: source.httpUsername, overwrite: overwrite, datashare: source.datashare,
            modifiedFrom: source.modifiedFrom)
    }

    /// Whether IngestTranscoding will give an instance read as `summary` a new SOP Instance UID (a lossy target).
    public func renewsIdentifiers(_ summary: InstanceSummary) -> Bool {
        transcoding.ingestTarget(for: summary.transferSyntaxUID ?? "").map(TranscodingSettings.isLossy) ?? false
    }

    /// `IngestTranscoding`: the incoming file re-encoded in `target` (a lossy syntax gives it a new SOP Instance UID,
    /// hence new identifiers), as a new incoming file that replaces it. A file that cannot be re-encoded is stored as
    /// received, as Orthanc does; only a lack of memory (busy) fails the store.
    func transcode(incoming path: String, summary: InstanceSummary, to target: String,
                   source: IngestSource) throws(TesseraError) -> (String, InstanceSummary) {
        do throws(TesseraError) {
            guard let bytes = try DicomFile(path: path, maxReadLength: 4096)
                .transcoded(to: target, quality: transcoding.lossyQuality, uids: .allowNew) else { return (path, summary) }
            let transcoded = try blobs.writeIncomingBlocking(bytes)
            do throws(TesseraError) {
                let newSummary = try summarize(path: transcoded)
                blobs.discard(path)
                return (transcoded, newSummary)
            } catch {
                blobs.discard(transcoded)
                throw error
            }
        } catch {
            if error.code == .serverBusy {
                blobs.discard(path)
                failed.increment()
                throw error
            }
            logger.info("Cannot transcode a received instance; stored as received", metadata: [
                "origin": "\(source.origin)", "target": "\(target)", "reason": "\(error.details ?? error.message)"])
            return (path, summary)
        }
    }

    /// The asynchronous half: publishes the event and waits for the broker's acknowledgement. On failure the blob is
    /// removed unless the broker may hold the event (then the reconciler indexes it later; nothing is lost).
    public func publish(_ instance: StoredInstance, since start: ContinuousClock.Instant = .now) async throws(TesseraError) {
        if let admission {
            do {
                try await admission(instance)
            } catch {
                rejected.increment()
                try? await blobs.remove(instance.fileUUID)
                throw error
            }
        }
        let event = InstanceStoredEvent(instance)
        if let failure = settle(await producer.send(key: event.key, payload: try event.encoded()), of: instance, since: start) {
            if failure.removesBlob { try? await blobs.remove(instance.fileUUID) }
            throw failure.error
        }
    }

    /// ``publish(_:since:)`` blocking the calling thread (the C-STORE SCP's), for an ingest without storage limits
    /// (``admission`` is asynchronous): the broker's acknowledgement wakes this thread directly.
    public func publishBlocking(_ instance: StoredInstance, since start: ContinuousClock.Instant = .now) throws(TesseraError) {
        guard admission == nil else {
            throw TesseraError(.internalError, details: "An ingest with storage limits publishes through publish(_:since:)")
        }
        let event = InstanceStoredEvent(instance)
        if let failure = settle(producer.sendBlocking(key: event.key, payload: try event.encoded()), of: instance, since: start) {
            if failure.removesBlob { try? blobs.removeBlocking(instance.fileUUID) }
            throw failure.error
        }
    }

    /// Counts and logs what the broker said of an instance's event; on failure, the error to answer and whether its
    /// blob must be removed (not when the broker may hold the event).
    private func settle(_ delivery: KafkaProducer.Delivery, of instance: StoredInstance,
                        since start: ContinuousClock.Instant) -> (error: TesseraError, removesBlob: Bool)? {
        switch delivery {
        case .delivered:
            stored.increment()
            let elapsed = ContinuousClock.now - start
            duration.recordNanoseconds(elapsed.totalNanoseconds)
            OrthancMetrics.storeDicomDuration.record(OrthancMetrics.milliseconds(elapsed))
            logger.debug("Stored instance", metadata: ["instance": "\(instance.summary.identifiers.instancePublicID)",
                                                       "blob": "\(instance.fileUUID)"])
            return nil
        case .failed(let error, let possiblyPersisted):
            failed.increment()
            logger.error("Could not store an instance durably", metadata: [
                "blob": "\(instance.fileUUID)", "eventMayExist": "\(possiblyPersisted)", "error": "\(error)"])
            return (error, !possiblyPersisted)
        }
    }

    /// Stores the incoming file at `path` as the blob `id`: ``prepare(incoming:summary:md5:source:as:)`` on the ingest threads, then
    /// ``publish(_:since:)``.
    public func store(incoming path: String, summary: InstanceSummary? = nil, source: IngestSource,
                      as id: BlobID = .generate()) async throws(TesseraError) -> StoredInstance {
        let start = ContinuousClock.now
        let ingest = self
        let instance: StoredInstance
        do {
            instance = try await workers.runIfActive { try ingest.prepare(incoming: path, summary: summary, source: source, as: id) }
        } catch let error as TesseraError {
            throw error
        } catch {
            blobs.discard(path)
            throw TesseraError(.internalError, details: String(describing: error))
        }
        try await publish(instance, since: start)
        return instance
    }

    /// Reads the summary of the incoming file at `path` on the ingest threads (without storing it).
    public func summarize(incoming path: String) async throws(TesseraError) -> InstanceSummary {
        let ingest = self
        do {
            return try await workers.runIfActive { try ingest.summarize(path: path) }
        } catch let error as TesseraError {
            throw error
        } catch {
            throw TesseraError(.internalError, details: String(describing: error))
        }
    }
}
