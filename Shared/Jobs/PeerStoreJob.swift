import Archive
import DICOM
import Index
import Logging
import Model
import Storage

/// Runs `OrthancPeerStore` jobs: `POST /instances` of each file to the peer, in order, through ``InstanceSendLoop``.
public struct PeerStoreJob: JobHandler {
    let loop: InstanceSendLoop
    let blobs: BlobStore
    let client: PeerClient
    /// DicomLossyTranscodingQuality, for lossy `Transcode` targets.
    let transcodingQuality: Int

    public init(instances: InstanceQueries, blobs: BlobStore, client: PeerClient, transcodingQuality: Int = 90, logger: Logger) {
        self.loop = InstanceSendLoop(instances: instances, logger: logger)
        self.blobs = blobs
        self.client = client
        self.transcodingQuality = transcodingQuality
    }

    public var type: String { PeerStoreRequest.type }

    public func run(_ job: JobRecord, context: JobContext) async throws -> JobResult {
        let request = try PeerStoreRequest(json: job.request)
        return try await loop.run(job, context: context, ids: request.instances, permissive: request.permissive,
                                  content: { request.content(failed: $0.failed.count, bytes: $0.bytes) }) { id, record, _ in
            guard let record else {
                throw TesseraError(.unknownResource, details: "Instance \(id.value) was deleted before it could be sent")
            }
            var file = try await blobs.read(record.fileUUID)
            if let syntax = request.transcode {
                // As Orthanc: re-encoded (a lossy syntax makes a new SOP Instance UID), or sent as stored when the file
                // cannot be.
                let (plain, quality) = (file, transcodingQuality)
                file = try await blobs.performBlocking { () throws(TesseraError) -> [UInt8] in
                    do throws(TesseraError) {
                        return try DicomFile(bytes: plain).transcoded(to: syntax, quality: quality, uids: .allowNew) ?? plain
                    } catch {
                        guard error.code == .internalError else { throw error }
                        return plain
                    }
                }
            }
            if request.compress {
                // Orthanc's level 9, off Swift's cooperative threads.
                let plain = file
                file = try await blobs.performBlocking { () throws(TesseraError) -> [UInt8] in
                    guard let compressed = ZlibCompression.gzip(plain) else {
                        throw TesseraError(.internalError, details: "Cannot gzip instance \(id.value)")
                    }
                    return compressed
                }
            }
            try await client.store(request.peer, file: file, gzip: request.compress)
            return Int64(file.count)
        }
    }
}
