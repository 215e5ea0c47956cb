import Foundation
import Archive
import Hummingbird
import Index
import Ingest
import Logging
import Model
import Storage

/// `POST /instances`: a DICOM file, or a ZIP of them. The body is streamed to an incoming file on the blob store
/// (never held in memory; past `maximumBodySize` the answer is 413), then takes the gateway's path (blob, event) and
/// the answer comes once the instance is indexed, so an upload can be read back at once through any API replica.
struct UploadRoutes {
    let ingest: InstanceIngest
    let blobs: BlobStore
    let resources: ResourceQueries
    let instances: InstanceQueries
    let notifications: IndexNotifications
    let overwrite: Bool
    /// Largest body accepted, and largest file inside a ZIP.
    let maximumBodySize: Int64
    /// How long to wait for the indexer before answering with a timeout (the instance is durable regardless).
    var indexingTimeout: Duration = .seconds(60)

    func add(to router: Router<APIRequestContext>) {
        router.post("/instances") { request, context in
            let source = IngestSource(origin: "RestApi", remoteIP: context.remoteAddress?.ipAddress, httpUsername: context.user ?? "")
            if let boundary = MultipartSplitter.boundary(contentType: request.headers[.contentType]) {
                try await storeParts(request, boundary: boundary, source: source, context: context)
                // Orthanc 1.10 answers a multipart upload with an empty body.
                return Response(status: .ok)
            }
            let body = try await spool(request)
            return OrthancJSON.response(try await storeBody(body, source: source, context: context))
        }
    }

    /// One uploaded body (consumed): a DICOM file, or a ZIP of them (Orthanc's answer, an array, then).
    private func storeBody(_ body: String, source: IngestSource, context: APIRequestContext) async throws -> JSONValue {
        guard ZipUpload.isZip(path: body) else {
            return try await store(body, source: source)
        }
        let limits = ZipUpload.Limits(entrySize: maximumBodySize, totalSize: maximumBodySize.multipliedReportingOverflow(by: 4).overflow
                                      ? .max : maximumBodySize * 4)
        let blobs = self.blobs
        defer { blobs.discard(body) }
        let reader = try ZipUpload.open(archive: body, into: blobs, limits: limits)
        var answers: [JSONValue] = []
        // One entry on disk at a time: extracted, stored (the incoming file consumed), then the next.
        while let entry = try await blobs.performBlocking({ () throws(TesseraError) in try reader.next() }) {
            do throws(TesseraError) {
                answers.append(try await store(entry.path, source: source))
            } catch {
                // As Orthanc: entries that are not DICOM instances (nested ZIPs included) are skipped.
                guard error.refusesInstance else { throw error }
                context.logger.info("Skipped a ZIP entry that is not a DICOM instance", metadata: ["reason": "\(error.message)"])
            }
        }
        return .array(answers)
    }

    /// A `multipart/form-data` upload: each part, as it arrives, written to its own incoming file and stored as if it
    /// had been posted alone (a DICOM file or a ZIP); the first failure answers, parts stored before it stay (as
    /// Orthanc). The parts together may not exceed the upload limit.
    private func storeParts(_ request: Request, boundary: String, source: IngestSource, context: APIRequestContext) async throws {
        var splitter = MultipartSplitter(boundary: boundary)
        var writer: IncomingWriter?
        var total: Int64 = 0
        do {
            for try await bytes in try decodedBody(request) {
                let events: [MultipartSplitter.Event]
                do {
                    events = try splitter.feed(bytes.readableBytesView)
                } catch {
                    throw TesseraError(.badRequest, details: "Malformed multipart body: \(error)")
                }
                for event in events {
                    switch event {
                    case .begin:
                        writer = try blobs.incomingWriter()
                    case .data(let content):
                        total += Int64(content.count)
                        guard total <= maximumBodySize else {
                            throw TesseraError(.requestTooLarge, details: "The body is larger than the maximum upload size (\(maximumBodySize) bytes)")
                        }
                        try await writer?.append(ByteBuffer(bytes: content))
                    case .end:
                        guard let part = writer else { continue }
                        writer = nil
                        part.close()
                        guard part.size > 0 else {
                            blobs.discard(part.path)
                            throw TesseraError(.badFileFormat, details: "Cannot parse an invalid DICOM file (size: 0 bytes)")
                        }
                        _ = try await storeBody(part.path, source: source, context: context)
                    }
                }
            }
        } catch {
            writer?.discard()
            throw error
        }
        writer?.discard()
    }

    /// The body's chunks, inflated when it comes with `Content-Encoding: gzip` or `deflate` (zlib) — Orthanc 1.10
    /// inflates gzip; other encodings are read as they are, as Orthanc reads them.
    private func decodedBody(_ request: Request) throws -> AsyncThrowingMapSequence<RequestBody, ByteBuffer> {
        let encoding = request.headers[.contentEncoding]?.trimmingCharacters(in: .whitespaces).lowercased()
        guard encoding == "gzip" || encoding == "deflate" || encoding == "x-gzip" else {
            return request.body.map { $0 }
        }
        let inflater: StreamInflater
        do {
            inflater = try StreamInflater()
        } catch {
            throw TesseraError(.internalError, details: "\(error)")
        }
        let box = InflaterBox(inflater)
        return request.body.map { chunk in
            do {
                return ByteBuffer(bytes: try box.inflater.inflate(Array(buffer: chunk)))
            } catch {
                throw TesseraError(.badFileFormat, details: "The \(encoding ?? "") body cannot be inflated: \(error)")
            }
        }
    }

    /// Writes the body to an incoming file and returns its path; 413 past the limit (announced or actual).
    private func spool(_ request: Request) async throws -> String {
        if request.headers[.contentEncoding] == nil, let declared = request.headers[.contentLength].flatMap(Int64.init),
           declared > maximumBodySize {
            throw TesseraError(.requestTooLarge, details: "The body (\(declared) bytes) is larger than the maximum upload size (\(maximumBodySize) bytes)")
        }
        let writer = try blobs.incomingWriter()
        do {
            for try await chunk in try decodedBody(request) {
                guard writer.size + Int64(chunk.readableBytes) <= maximumBodySize else {
                    throw TesseraError(.requestTooLarge, details: "The body is larger than the maximum upload size (\(maximumBodySize) bytes)")
                }
                try await writer.append(chunk)
            }
        } catch {
            writer.discard()
            throw error
        }
        writer.close()
        guard writer.size > 0 else {
            blobs.discard(writer.path)
            throw TesseraError(.badFileFormat, details: "Cannot parse an invalid DICOM file (size: 0 bytes)")
        }
        return writer.path
    }

    /// Stores one incoming file (consumed) and waits until it is indexed; answers Orthanc's `{ID, ParentPatient, ...,
    /// Status}`.
    func store(_ path: String, source: IngestSource) async throws(TesseraError) -> JSONValue {
        let summary: InstanceSummary
        do {
            summary = try await ingest.summarize(incoming: path)
        } catch {
            blobs.discard(path)
            throw error
        }
        var ids = summary.identifiers
        do {
            // (A lossy IngestTranscoding gives every upload a new SOP Instance UID: nothing is "already stored".)
            if !overwrite, !ingest.renewsIdentifiers(summary), try await resources.key(of: ids.instancePublicID, at: .instance) != nil {
                blobs.discard(path)
                return Self.answer(ids, status: "AlreadyStored")
            }
        } catch {
            blobs.discard(path)
            throw DatabaseFailure.tesseraError(for: error) ?? TesseraError(.database, details: "\(error)")
        }
        let blob = BlobID.generate()
        let ticket = await notifications.expect(blob)
        do {
            // What was stored: IngestTranscoding to a lossy syntax gives the instance a new SOP Instance UID.
            ids = try await ingest.store(incoming: path, summary: summary, source: source, as: blob).summary.identifiers
        } catch {
            await notifications.forget(ticket)
            throw error
        }
        var outcome = await notifications.wait(ticket, timeout: indexingTimeout)
        if outcome == nil {
            // The announcement may have been lost with a reconnect: the index itself has the last word.
            do {
                if let record = try await instances.instance(ids.instancePublicID) {
                    outcome = record.fileUUID == blob ? .indexed : .alreadyStored
                }
            } catch {
                throw DatabaseFailure.tesseraError(for: error) ?? TesseraError(.database, details: "\(error)")
            }
        }
        switch outcome {
        case .indexed, .replaced, .unchanged:
            return Self.answer(ids, status: "Success")
        case .alreadyStored:
            // Another copy was indexed first (a concurrent upload or C-STORE) and stays: this one was discarded.
            return Self.answer(ids, status: "AlreadyStored")
        case .deleted:
            throw TesseraError(.unknownResource, message: "The instance was deleted while it was being stored",
                               details: ids.instancePublicID.value)
        case .missingBlob:
            throw TesseraError(.internalError, details: "The stored file vanished before it was indexed")
        case nil:
            throw TesseraError(.timeout, message: "The instance is stored but not indexed yet",
                               details: "It is durable and will appear once the indexer catches up: \(ids.instancePublicID)")
        }
    }

    private static func answer(_ ids: InstanceIdentifiers, status: String) -> JSONValue {
        .object([
            "ID": .string(ids.instancePublicID.value),
            "ParentPatient": .string(ids.patientPublicID.value),
            "ParentStudy": .string(ids.studyPublicID.value),
            "ParentSeries": .string(ids.seriesPublicID.value),
            "Path": .string("/instances/\(ids.instancePublicID.value)"),
            "Status": .string(status),
        ])
    }
}

/// The inflater of one request body, shared with the body's map closure (chunks arrive one at a time).
private final class InflaterBox: @unchecked Sendable {
    let inflater: StreamInflater

    init(_ inflater: StreamInflater) {
        self.inflater = inflater
    }
}
