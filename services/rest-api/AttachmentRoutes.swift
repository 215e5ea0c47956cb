import Archive
import Foundation
import Hummingbird
import Index
import Model
import Storage

/// `/{level}/{id}/attachments...` as Orthanc 1.10 answers them. Instances carry the `dicom` attachment (the stored
/// file, with the MD5 stored at ingest); user attachments (content types 1024-65535, by number or by a name
/// declared in `UserContentType`) can be put, compressed, uncompressed and deleted. `dicom` cannot be written (403).
/// Every read carries Orthanc's ETag (`"<revision>-<uncompressed md5>"`) and answers 304 to a current
/// `If-None-Match`; writes honour `If-Match` and `CheckRevisions`.
struct AttachmentRoutes {
    let store: AttachmentStore
    let deletions: BlobDeletionQueue
    let instances: InstanceQueries
    let resources: ResourceQueries
    let blobs: BlobStore
    let userTypes: [String: (code: Int, mime: String)]
    let revisions: RevisionHeaders
    var maximumSize = 256 << 20

    static let dicom = 1
    static let operations = ["compress", "compressed-data", "compressed-md5", "compressed-size", "data", "info",
                             "is-compressed", "md5", "size", "uncompress", "verify-md5", "uuid"]

    func add(to router: Router<APIRequestContext>) {
        for level in ResourceLevel.allCases {
            let base = "/\(level.collection)/{id}/attachments"
            router.get(RouterPath(base)) { request, context in
                guard let id = context.publicID, let attached = try await attachments(level, id) else {
                    throw TesseraError(.unknownResource)
                }
                if request.uri.queryParameters["full"] != nil {
                    return OrthancJSON.response(.object(Dictionary(attached.map { (name(of: $0.contentType), JSONValue.number(Double($0.contentType))) },
                                                                   uniquingKeysWith: { first, _ in first })))
                }
                return OrthancJSON.response(.array(attached.map { .string(name(of: $0.contentType)) }))
            }
            router.get(RouterPath(base + "/{name}")) { request, context in
                let record = try await attachment(level, context)
                if try RevisionHeaders.isCurrent(request, record.entityTag) { return RevisionHeaders.notModified(record.entityTag) }
                var response = OrthancJSON.response(.array(Self.operations.map(JSONValue.string)))
                response.headers[.eTag] = record.entityTag.description
                return response
            }
            for operation in ["size", "compressed-size", "md5", "compressed-md5", "is-compressed"] {
                router.get(RouterPath(base + "/{name}/\(operation)")) { request, context in
                    let record = try await attachment(level, context)
                    if try RevisionHeaders.isCurrent(request, record.entityTag) { return RevisionHeaders.notModified(record.entityTag) }
                    let text: String = switch operation {
                    case "size": String(record.uncompressedSize)
                    case "compressed-size": String(record.compressedSize)
                    case "md5": record.uncompressedMD5
                    case "compressed-md5": record.compressedMD5
                    default: record.isCompressed ? "1" : "0"
                    }
                    return MetadataRoutes.text(text, etag: record.entityTag)
                }
            }
            router.get(RouterPath(base + "/{name}/info")) { request, context in
                let record = try await attachment(level, context)
                if try RevisionHeaders.isCurrent(request, record.entityTag) { return RevisionHeaders.notModified(record.entityTag) }
                var response = OrthancJSON.response(.object([
                    "CompressedMD5": .string(record.compressedMD5), "CompressedSize": .number(Double(record.compressedSize)),
                    "ContentType": .number(Double(record.contentType)), "UncompressedMD5": .string(record.uncompressedMD5),
                    "UncompressedSize": .number(Double(record.uncompressedSize)), "Uuid": .string(record.uuid.value),
                ]))
                response.headers[.eTag] = record.entityTag.description
                return response
            }
            router.get(RouterPath(base + "/{name}/data")) { request, context in
                let record = try await attachment(level, context)
                if try RevisionHeaders.isCurrent(request, record.entityTag) { return RevisionHeaders.notModified(record.entityTag) }
                let isDicom = record.contentType == Self.dicom
                var headers: HTTPFields = [
                    .contentType: isDicom ? "application/dicom" : mime(of: record.contentType),
                    .contentDisposition: "filename=\"\(record.uuid)\(isDicom ? ".dcm" : "")\"",
                ]
                headers[.eTag] = record.entityTag.description
                guard record.isCompressed else { return try BlobResponse.stream(record.uuid, from: blobs, headers: headers) }
                let content = try Self.uncompressed(try await blobs.read(record.uuid))
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: content)))
            }
            router.get(RouterPath(base + "/{name}/compressed-data")) { request, context in
                let record = try await attachment(level, context)
                if try RevisionHeaders.isCurrent(request, record.entityTag) { return RevisionHeaders.notModified(record.entityTag) }
                var headers: HTTPFields = [.contentType: "application/octet-stream"]
                headers[.eTag] = record.entityTag.description
                return try BlobResponse.stream(record.uuid, from: blobs, headers: headers)
            }
            router.post(RouterPath(base + "/{name}/verify-md5")) { _, context in
                // The bytes on storage against the MD5 recorded when they were stored: as Orthanc, 200 `{}` when they
                // match, 400 with an empty body when they do not.
                let record = try await attachment(level, context, computingMissingMD5: false)
                guard !record.compressedMD5.isEmpty else {
                    throw TesseraError(.inexistentItem, message: "No MD5 was stored for this file yet",
                                       details: "It is computed in the background for instances stored before MD5s were kept")
                }
                guard try await blobs.md5(of: record.uuid) == record.compressedMD5 else {
                    context.logger.error("A stored file does not match its MD5", metadata: ["blob": "\(record.uuid)"])
                    return Response(status: .badRequest)
                }
                return OrthancJSON.response(.object([:]))
            }
            for compress in [true, false] {
                router.post(RouterPath(base + "/{name}/\(compress ? "compress" : "uncompress")")) { _, context in
                    let record = try await attachment(level, context)
                    guard record.contentType != Self.dicom else { throw Forbidden() }
                    if record.isCompressed != compress, let id = context.publicID {
                        let stored = try await blobs.read(record.uuid)
                        let content = record.isCompressed ? try Self.uncompressed(stored) : stored
                        // A new revision of the same content, written only over the revision read.
                        _ = try await save(level, id, contentType: record.contentType, content: content, compress: compress,
                                           check: .matching(record.entityTag))
                    }
                    return OrthancJSON.response(.object([:]))
                }
            }
            router.put(RouterPath(base + "/{name}")) { request, context in
                let type = try contentType(context)
                guard MetadataName.userRange.contains(type) else { throw Forbidden() }
                guard let id = context.publicID else { throw TesseraError(.unknownResource) }
                let check = try revisions.forWrite(request)
                var request = request
                let body = try await request.collectBody(upTo: maximumSize)
                let content = Array(body.readableBytesView)
                guard let record = try await save(level, id, contentType: type, content: content, compress: false, check: check) else {
                    throw TesseraError(.unknownResource)
                }
                var response = OrthancJSON.response(.object([:]))
                response.headers[.eTag] = record.entityTag.description
                return response
            }
            router.delete(RouterPath(base + "/{name}")) { request, context in
                let type = try contentType(context)
                guard MetadataName.userRange.contains(type) else { throw Forbidden() }
                let check = try revisions.forDelete(request)
                guard let id = context.publicID, let removed = try await store.remove(level, id, contentType: type, check: check),
                      removed else {
                    throw TesseraError(.unknownResource)
                }
                return MetadataRoutes.text("", etag: nil)
            }
        }
    }

    /// Reserves the blob's removal, writes the blob, then the row (the row's transaction claims the blob and queues any
    /// blob it replaces); returns the record stored with its revision, nil when the resource is unknown.
    private func save(_ level: ResourceLevel, _ id: PublicID, contentType: Int, content: [UInt8],
                      compress: Bool, check: RevisionCheck) async throws -> AttachmentRecord? {
        let md5 = MD5Digest.hex(content)
        let stored: [UInt8]
        if compress {
            guard let compressed = ZlibCompression.compress(content) else { throw TesseraError(.internalError, details: "zlib") }
            stored = compressed
        } else {
            stored = content
        }
        // Queued for removal before it exists, unless its row claims it: a failed PUT leaves no orphan blob.
        let reserved = BlobID.generate()
        try await deletions.reserve(reserved)
        let blob = try await blobs.write(stored, as: reserved)
        var record = AttachmentRecord(contentType: contentType, uuid: blob.id, uncompressedSize: Int64(content.count),
                                      uncompressedMD5: md5, compressedSize: Int64(stored.count),
                                      compressedMD5: compress ? MD5Digest.hex(stored) : md5, isCompressed: compress)
        guard let revision = try await store.put(level, id, record, check: check) else { return nil }
        record.revision = revision
        return record
    }

    /// The `dicom` attachment of an instance (when `level` is instance) followed by the user attachments.
    private func attachments(_ level: ResourceLevel, _ id: PublicID) async throws -> [AttachmentRecord]? {
        guard let user = try await store.list(level, id) else { return nil }
        guard level == .instance, let instance = try await instances.instance(id) else { return user }
        return [Self.dicomRecord(instance, md5: instance.fileMD5)] + user
    }

    /// An attachment by name. The `dicom` one carries the MD5 stored at ingest; for an instance stored before MD5s were
    /// kept it is computed from the file unless `computingMissingMD5` is false.
    private func attachment(_ level: ResourceLevel, _ context: APIRequestContext,
                            computingMissingMD5: Bool = true) async throws -> AttachmentRecord {
        let type = try contentType(context)
        guard let id = context.publicID else { throw TesseraError(.unknownResource) }
        if type == Self.dicom, level == .instance, let instance = try await instances.instance(id) {
            var md5 = instance.fileMD5
            if md5 == nil && computingMissingMD5 { md5 = try await blobs.md5(of: instance.fileUUID) }
            return Self.dicomRecord(instance, md5: md5)
        }
        guard let record = try await store.list(level, id)?.first(where: { $0.contentType == type }) else {
            throw TesseraError(.unknownResource)
        }
        return record
    }

    private static func dicomRecord(_ instance: InstanceRecord, md5: String?) -> AttachmentRecord {
        AttachmentRecord(contentType: dicom, uuid: instance.fileUUID, uncompressedSize: instance.fileSize,
                         uncompressedMD5: md5 ?? "", compressedSize: instance.fileSize, compressedMD5: md5 ?? "",
                         isCompressed: false)
    }

    /// `dicom`, a declared user name, or a number; an unknown name is 404 "Accessing an inexistent item".
    private func contentType(_ context: APIRequestContext) throws(TesseraError) -> Int {
        let text = context.parameters.get("name") ?? ""
        if text == "dicom" { return Self.dicom }
        if text == "dicom-until-pixel-data" { return 3 }
        if let code = Int(text), code >= 0 { return code }
        guard let declared = userTypes[text] else { throw TesseraError(.inexistentItem) }
        return declared.code
    }

    private func name(of type: Int) -> String {
        if type == Self.dicom { return "dicom" }
        return userTypes.filter { $0.value.code == type }.map(\.key).min() ?? String(type)
    }

    private func mime(of type: Int) -> String {
        userTypes.values.first { $0.code == type }?.mime ?? "application/octet-stream"
    }

    private static func uncompressed(_ bytes: [UInt8]) throws(TesseraError) -> [UInt8] {
        guard let content = ZlibCompression.uncompress(bytes) else {
            throw TesseraError(.corruptedFile, details: "A compressed attachment cannot be read")
        }
        return content
    }
}
