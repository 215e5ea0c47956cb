import DICOM
import Foundation
import Hummingbird
import Index
import Model
import Storage

/// `/{level}/{id}/metadata` (list, `?expand`), `/metadata/{name}` (GET, PUT, DELETE) as Orthanc 1.10 answers them:
/// system entries recorded at ingest are read-only (403), user entries (1024-65535, by number or by a name declared
/// in `UserMetadata`) can be written; an unknown name is 404 "Accessing an inexistent item". Values come with
/// Orthanc's ETag (`"<revision>-<md5>"`; system entries are revision 0), writes honour `If-Match` and
/// `CheckRevisions`, reads `If-None-Match`.
struct MetadataRoutes {
    let resources: ResourceQueries
    let instances: InstanceQueries
    let store: MetadataStore
    /// Where the stored files are: PixelDataOffset is read from the file itself.
    let blobs: BlobStore
    let userNames: [String: Int]
    let revisions: RevisionHeaders
    var maximumValueSize = 16 << 20

    func add(to router: Router<APIRequestContext>) {
        for level in ResourceLevel.allCases {
            let base = "/\(level.collection)/{id}/metadata"
            router.get(RouterPath(base)) { request, context in
                guard let id = context.publicID, let entries = try await entries(level, id) else { throw TesseraError(.unknownResource) }
                // ?numeric: entries by their number (Orthanc 1.12), as JSON numbers in a list, as keys when expanded.
                let numeric = request.uri.queryParameters["numeric"] != nil
                func code(_ entry: Entry) -> Int { MetadataName.parse(entry.name, user: userNames)?.code ?? 0 }
                if try ListParameters(request).expand {
                    // As Orthanc: bytes that are not UTF-8 show as U+FFFD, a NUL as \u0000.
                    return OrthancJSON.response(.object(Dictionary(
                        entries.map { (numeric ? String(code($0)) : $0.name, JSONValue.string(String(decoding: $0.value, as: UTF8.self))) },
                        uniquingKeysWith: { first, _ in first })))
                }
                return OrthancJSON.response(.array(entries.map { numeric ? .number(Double(code($0))) : .string($0.name) }))
            }
            router.get(RouterPath(base + "/{name}")) { request, context in
                let name = try parse(context)
                guard let id = context.publicID, let entries = try await entries(level, id) else { throw TesseraError(.unknownResource) }
                guard let entry = entries.first(where: { $0.name == name.name(user: userNames) }) else {
                    return Response(status: .notFound)
                }
                let tag = EntityTag(revision: entry.revision, md5: MD5Digest.hex(entry.value))
                if try RevisionHeaders.isCurrent(request, tag) { return RevisionHeaders.notModified(tag) }
                return Self.bytes(entry.value, etag: tag)
            }
            router.put(RouterPath(base + "/{name}")) { request, context in
                let name = try writable(context)
                let check = try revisions.forWrite(request)
                var request = request
                let body = try await request.collectBody(upTo: maximumValueSize)
                let value = Array(body.readableBytesView)  // kept byte for byte, as Orthanc does
                guard let id = context.publicID,
                      let revision = try await store.set(level, id, code: name.code, value: value, check: check) else {
                    throw TesseraError(.unknownResource)
                }
                return Self.bytes([], etag: EntityTag(revision: revision, md5: MD5Digest.hex(value)))
            }
            router.delete(RouterPath(base + "/{name}")) { request, context in
                let name = try writable(context)
                let check = try revisions.forDelete(request)
                guard let id = context.publicID, let removed = try await store.remove(level, id, code: name.code, check: check),
                      removed else {
                    throw TesseraError(.unknownResource)
                }
                return Self.bytes([], etag: nil)
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
    private func entries(_ level: ResourceLevel, _ id: PublicID) async throws -> [Entry]? {
        guard let user = try await store.values(level, id) else { return nil }
        var entries: [Entry] = []
        switch level {
        case .instance:
            guard let record = try await instances.instance(id) else { return nil }
            let values = ResourceJSON.metadata(record)
            for name in ["IndexInSeries", "ReceptionDate", "RemoteAET", "Origin", "TransferSyntax", "SopClassUid", "RemoteIP",
                         "CalledAET", "HttpUsername"] {
                if let value = values[name] { entries.append(Entry(name, value)) }
            }
            // Orthanc records it at ingest; the stored file never changes, so Tessera reads it from the file (a structural
            // scan that skips the values) when it is asked for.
            let blobs = self.blobs
            if let offset = (try? await blobs.withBlob(record.fileUUID, { path throws(TesseraError) in
                DicomFile.pixelDataOffset(path: path)
            })) ?? nil {
                entries.append(Entry("PixelDataOffset", String(offset)))
            }
        default:
            guard let record = try await resources.resource(level, id) else { return nil }
            entries.append(Entry("LastUpdate", OrthancDate.format(record.lastUpdate)))
            if level == .series {
                entries.append(Entry("RemoteAET", try await resources.firstRemoteAET(ofSeries: id) ?? ""))
            }
        }
        return entries + user.map { Entry(name: MetadataName(code: $0.code).name(user: userNames), value: $0.value, revision: $0.revision) }
    }

    /// One entry as the routes show it: system entries computed from the index are revision 0.
    private struct Entry {
        var name: String
        var value: [UInt8]
        var revision: Int64 = 0

        init(name: String, value: [UInt8], revision: Int64) {
            self.name = name
            self.value = value
            self.revision = revision
        }

        init(_ name: String, _ value: String) {
            self.init(name: name, value: Array(value.utf8), revision: 0)
        }
    }

    static func text(_ value: String, etag: EntityTag?) -> Response {
        bytes(Array(value.utf8), etag: etag)
    }

    static func bytes(_ value: [UInt8], etag: EntityTag?) -> Response {
        var headers: HTTPFields = [.contentType: "text/plain"]
        if let etag { headers[.eTag] = etag.description }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: value)))
    }
}
