#if canImport(Glibc)
import Glibc
#endif
import DICOM
import Foundation
import Index
import Logging
import Metrics
import Model
import ServiceLifecycle
import Storage

/// The blob store is the source of truth for what was acknowledged: a blob whose event never reached the index (a
/// broker that lost it, a send whose answer was lost, an event dead-lettered for its version) is indexed from the file
/// itself once it is older than a grace period. Each pass also removes incoming files left by writers that died,
/// expires old tombstones and fills in the MD5 of instances indexed before MD5s were stored.
///
/// Safe with several replicas: a pass runs under an advisory lock, and indexing a blob twice is harmless. A pass opens
/// only the folders changed since the previous one (a folder's modification time moves when a file arrives), with a
/// full scan now and then.
public struct BlobReconciler: Service {
    let database: IndexDatabase
    let catalog: BlobCatalog
    let writer: InstanceWriter
    let deadLetters: DeadLetterStore
    let blobs: BlobStore
    let settings: ReconcilerSettings
    let logger: Logger
    private let indexed = Counter(label: "tessera_reconciler_blobs_total", dimensions: [("result", "indexed")])
    private let removed = Counter(label: "tessera_reconciler_blobs_total", dimensions: [("result", "removed")])
    private let refused = Counter(label: "tessera_reconciler_blobs_total", dimensions: [("result", "not_dicom")])
    private let staleIncoming = Counter(label: "tessera_reconciler_incoming_files_removed_total")
    private let deadLetterGauge = Gauge(label: "tessera_dead_letters")

    public init(database: IndexDatabase, blobs: BlobStore, settings: ReconcilerSettings, logger: Logger) {
        self.database = database
        self.catalog = BlobCatalog(database: database)
        self.writer = InstanceWriter(database: database)
        self.deadLetters = DeadLetterStore(database: database)
        self.blobs = blobs
        self.settings = settings
        self.logger = logger
    }

    /// What one pass did.
    public struct Report: Sendable, Hashable {
        public var scannedFolders = 0
        public var indexed = 0
        public var removedBlobs = 0
        public var notDicom = 0
        public var removedIncoming = 0
        public var expiredTombstones = 0
        public var filledMD5 = 0
        /// Blobs left for the next pass: not readable now, or their handling failed.
        public var postponed = 0
        public var failed = 0
    }

    /// Incoming files younger than this are never removed, whatever the grace period.
    static let incomingMinimumAge: Int64 = 900

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await database.migrateWhenAvailable() }
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                do {
                    if let report = try await pass(), report.indexed + report.removedBlobs + report.removedIncoming > 0 {
                        logger.info("Reconciled the blob store with the index", metadata: [
                            "indexed": "\(report.indexed)", "removedBlobs": "\(report.removedBlobs)",
                            "notDicom": "\(report.notDicom)", "removedIncoming": "\(report.removedIncoming)"])
                    }
                } catch is CancellationError {
                    return
                } catch {
                    logger.warning("Reconciler pass failed; will retry", metadata: ["error": "\(String(reflecting: error))"])
                }
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: settings.interval) }
            }
        } catch is CancellationError {}
    }

    /// One pass, unless another replica is running one (nil then).
    public func pass() async throws -> Report? {
        try await catalog.withScanLock { try await scan() }
    }

    private func scan() async throws -> Report {
        var report = Report()
        let started = try await catalog.now()
        let state = try await catalog.scanState()
        let graceSeconds = settings.grace.components.seconds
        let cutoff = Int64(started.timeIntervalSince1970) - graceSeconds
        let full = state.lastScanStarted == nil || state.lastFullScan.map { started.timeIntervalSince($0) >= Double(settings.fullScanInterval.components.seconds) } ?? true
        // Folders changed since the previous scan began, less the grace period (their files became eligible since).
        let changedAfter = full ? nil : state.lastScanStarted.map { Int64($0.timeIntervalSince1970) - graceSeconds - 60 }

        // An incoming file is being written (its modification time moves with every write) or parsed and renamed
        // right after; one untouched for long belongs to a writer that died. Never sooner than a quarter of an hour.
        let incomingCutoff = Int64(started.timeIntervalSince1970) - max(graceSeconds, Self.incomingMinimumAge)
        for file in try await blobs.files(in: blobs.incomingFolder) where file.modified <= incomingCutoff {
            blobs.discard(file.path)
            report.removedIncoming += 1
        }
        let folders = try await blobs.leafFolders(changedAfter: changedAfter)
        report.scannedFolders = folders.count
        for folder in folders {
            try Task.checkCancellation()
            var candidates: [BlobID] = []
            for file in try await blobs.files(in: folder) where file.modified <= cutoff {
                switch file.kind {
                case .blob(let id): candidates.append(id)
                case .incoming:
                    blobs.discard(file.path)  // a temporary file of an older Tessera, beside the blobs
                    report.removedIncoming += 1
                case .other: break
                }
            }
            guard !candidates.isEmpty else { continue }
            for unreferenced in try await catalog.unreferenced(candidates) {
                do {
                    if unreferenced.tombstoned {
                        try await blobs.remove(unreferenced.blob)
                        report.removedBlobs += 1
                        removed.increment()
                    } else {
                        switch try await index(unreferenced.blob) {
                        case .indexed: report.indexed += 1
                        case .notDicom: report.notDicom += 1
                        case .later: report.postponed += 1
                        }
                    }
                } catch let error where !(error is CancellationError) && DatabaseFailure(error) != .unavailable {
                    // One blob that cannot be handled (a file the process may not remove, a row the index refuses)
                    // must not stop the pass for every other one, nor the tombstone expiry after it.
                    report.failed += 1
                    logger.warning("Could not reconcile a blob; will try again next pass", metadata: [
                        "blob": "\(unreferenced.blob)", "error": "\(String(reflecting: error))"])
                }
            }
        }
        staleIncoming.increment(by: report.removedIncoming)
        try await catalog.recordScan(started: started, full: full)
        report.expiredTombstones = try await catalog.expireTombstones(olderThan: settings.tombstoneRetention)
        report.filledMD5 = try await fillMD5s()
        deadLetterGauge.record(try await deadLetters.count())
        return report
    }

    /// What became of an unreferenced blob.
    enum Indexing {
        case indexed
        /// Not a usable DICOM instance: recorded as a dead letter and left on storage for an operator.
        case notDicom
        /// Not readable now (no parse memory to spare, the file vanished): the next pass tries again.
        case later
    }

    /// Indexes one blob from its file.
    private func index(_ blob: BlobID) async throws -> Indexing {
        let path = blobs.path(of: blob)
        let overwrite = settings.overwriteInstances
        let read: Result<StoredInstance, TesseraError> = try await blobs.performBlocking { () throws(TesseraError) in
            do throws(TesseraError) {
                return .success(try Self.storedInstance(path: path, blob: blob, overwrite: overwrite))
            } catch {
                return .failure(error)
            }
        }
        switch read {
        case .success(let instance):
            let result = try await writer.write([instance], blobExists: { _ in true }).first
            logger.info("Indexed a blob whose event never reached the index", metadata: [
                "blob": "\(blob)", "outcome": "\(result?.outcome.rawValue ?? "none")"])
            indexed.increment()
            return .indexed
        case .failure(let error) where !error.refusesInstance:
            logger.info("A blob could not be read now; will try again", metadata: ["blob": "\(blob)", "error": "\(error)"])
            return .later
        case .failure(let error):
            try await deadLetters.add([DeadLetterStore.Entry(source: .reconciler, reason: "not-dicom",
                                                             details: error.description, blob: blob.value)])
            refused.increment()
            logger.error("A blob on storage is not a usable DICOM instance; left in place",
                         metadata: ["blob": "\(blob)", "error": "\(error)"])
            return .notDicom
        }
    }

    /// What an event would have said of a blob, read from the file: its origin is unknown, the modality's AE title is
    /// the meta header's SourceApplicationEntityTitle (the gateway writes the calling AE title there), and the
    /// reception date is the time the blob ID carries (else the file's modification time).
    static func storedInstance(path: String, blob: BlobID, overwrite: Bool) throws(TesseraError) -> StoredInstance {
        let file: DicomFile
        do {
            file = try DicomFile(path: path)
        } catch where error.code == .badFileFormat {
            throw TesseraError(.badFileFormat, details: "Cannot parse an invalid DICOM file: \(error.details ?? error.message)")
        }
        let summary = try InstanceSummary(file: file)
        let source = file.metaHeader.string(DicomTag(0x0002, 0x0016)).flatMap { $0.isEmpty ? nil : $0 }
        var status = stat()
        let size = stat(path, &status) == 0 ? Int(status.st_size) : 0
        let received = blob.timestampMilliseconds > 0
            ? Date(timeIntervalSince1970: Double(blob.timestampMilliseconds) / 1000)
            : Date(timeIntervalSince1970: Double(status.st_mtim.tv_sec))
        let md5 = try BlobStore.md5(ofFile: path)
        return StoredInstance(summary: summary, fileUUID: blob, fileSize: size, fileMD5: md5, origin: StoredInstance.reconciledOrigin,
                              remoteAET: source, calledAET: nil, remoteIP: nil, receptionDate: received, overwrite: overwrite)
    }

    private func fillMD5s() async throws -> Int {
        var filled = 0
        for (id, blob) in try await catalog.instancesWithoutMD5(limit: 200) {
            guard let md5 = try? await blobs.md5(of: blob) else { continue }
            try await catalog.setMD5(md5, of: id, blob: blob)
            filled += 1
        }
        return filled
    }
}
