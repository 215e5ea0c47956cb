import DICOM
import Foundation
import Hummingbird
import Index
import Model
import Storage

/// `/{level}/{id}/metadata` (list, `?expand`), `/metadata/{name}` (GET, PUT, DELETE) as Orthanc 1.10 answers them:
/// system entries recorded at ingest are read-only (403), user entries (1024-65535, by number or by a name declared
/// in `UserMetadata`) can be written; an unknown name is 404 "Accessing an inexistent item". Values come with
/// Orthanc's ETag (`"<revision>-<md5>"`).
struct MetadataRoutes {
    let resources: ResourceQueries
    let instances: InstanceQueries
    let store: MetadataStore
    /// Where the stored files are: PixelDataOffset is read from the file itself.
    let blobs: BlobStore
    let userNames: [String: Int]
    var maximumValueSize = 16 << 20

    func add(to router: Router<APIRequestContext>) {
        for level in ResourceLevel.allCases {
            let base = "/\(level.collection)/{id}/metadata"
            router.get(RouterPath(base)) { request, context in
                guard let id = context.publicID, let entries = try await entries(level, id) else { throw TesseraError(.unknownResource) }
                if try ListParameters(request).expand {
                    // As Orthanc: bytes that are not UTF-8 show as U+FFFD, a NUL as \u0000.
                    return OrthancJSON.response(.object(Dictionary(
                        entries.map { ($0.0, JSONValue.string(String(decoding: $0.1, as: UTF8.self))) },
                        uniquingKeysWith: { first, _ in first })))
                }
                return OrthancJSON.response(.array(entries.map { .string($0.0) }))
            }
            router.get(RouterPath(base + "/{name}")) { _, context in
                let name = try parse(context)
                guard let id = context.publicID, let entries = try await entries(level, id) else { throw TesseraError(.unknownResource) }
                guard let value = entries.first(where: { $0.0 == name.name(user: userNames) })?.1 else {
                    return Response(status: .notFound)
                }
                return Self.bytes(value, etag: "0-" + MD5Digest.hex(value))
            }
            router.put(RouterPath(base + "/{name}")) { request, context in
                let name = try writable(context)
                var request = request
                let body = try await request.collectBody(upTo: maximumValueSize)
                let value = Array(body.readableBytesView)  // kept byte for byte, as Orthanc does
                guard let id = context.publicID, let replaced = try await store.set(level, id, code: name.code, value: value) else {
                    throw TesseraError(.unknownResource)
                }
                return Self.text("", etag: "\(replaced ? 1 : 0)-" + MD5Digest.hex(value))
            }
            router.delete(RouterPath(base + "/{name}")) { _, context in
                let name = try writable(context)
                guard let id = context.publicID, let removed = try await store.remove(level, id, code: name.code), removed else {
                    throw TesseraError(.unknownResource)
                }
                return Self.text("", etag: nil)
            }
        }
    }

    private func parse(_ context: APIRequestContext) throws(TesseraError) -> MetadataName {
        guard let text = context.parameters.get("name"), let name = MetadataName.parse(text, user: userNames) else {
            throw TesseraError(.inexistentItem)
        }
        return name
    }

    /// A user entry; system entries answer 403 with no body, as Orthanc's.
    private func writable(_ context: APIRequestContext) throws -> MetadataName {
        let name = try parse(context)
        guard name.isUser else { throw Forbidden() }
        return name
    }

    /// System entries of the level (in Orthanc's order), then user entries in the order they were first set.
    private func entries(_ level: ResourceLevel, _ id: PublicID) async throws -> [(String, [UInt8])]? {
        guard let user = try await store.values(level, id) else { return nil }
        var entries: [(String, [UInt8])] = []
        switch level {
        case .instance:
            guard let record = try await instances.instance(id) else { return nil }
            let values = ResourceJSON.metadata(record)
            for name in ["IndexInSeries", "ReceptionDate", "RemoteAET", "Origin", "TransferSyntax", "SopClassUid", "RemoteIP",
                         "CalledAET", "HttpUsername"] {
                if let value = values[name] { entries.append((name, Array(value.utf8))) }
            }
            // Orthanc records it at ingest; the stored file never changes, so Tessera reads it from the file (a structural
            // scan that skips the values) when it is asked for.
            let blobs = self.blobs
            if let offset = (try? await blobs.withBlob(record.fileUUID, { path throws(TesseraError) in
                DicomFile.pixelDataOffset(path: path)
            })) ?? nil {
                entries.append(("PixelDataOffset", Array(String(offset).utf8)))
            }
        default:
            guard let record = try await resources.resource(level, id) else { return nil }
            entries.append(("LastUpdate", Array(OrthancDate.format(record.lastUpdate).utf8)))
            if level == .series {
                entries.append(("RemoteAET", Array((try await resources.firstRemoteAET(ofSeries: id) ?? "").utf8)))
            }
        }
        return entries + user.map { (MetadataName(code: $0.code).name(user: userNames), $0.value) }
    }

    static func text(_ value: String, etag: String?) -> Response {
        bytes(Array(value.utf8), etag: etag)
    }

    static func bytes(_ value: [UInt8], etag: String?) -> Response {
        var headers: HTTPFields = [.contentType: "text/plain"]
        if let etag { headers[.eTag] = "\"\(etag)\"" }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: value)))
    }
}
