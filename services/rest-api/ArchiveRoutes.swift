import Archive
import Foundation
import Hummingbird
import Index
import Logging
import Model
import Storage

/// ZIP archives of resources, streamed as they are read (never built in memory or on disk):
/// `GET|POST /{patients,studies,series}/{id}/archive` and `POST /tools/create-archive`. Folders and file names
/// follow Orthanc 1.10 (``ArchiveNaming``); entries are the stored files, byte for byte.
/// `"Asynchronous": true` needs the jobs engine, which does not exist yet: such requests are refused.
struct ArchiveRoutes {
    let instances: InstanceQueries
    let resources: ResourceQueries
    let blobs: BlobStore
    var maximumBodySize = 16 << 20

    func add(to router: Router<APIRequestContext>) {
        for level in [ResourceLevel.patient, .study, .series] {
            let path = "/\(level.collection)/{id}/archive"
            router.get(RouterPath(path)) { _, context in
                try await archive(level, context)
            }
            router.post(RouterPath(path)) { request, context in
                var request = request
                let body = try await request.collectBody(upTo: maximumBodySize)
                if body.readableBytes > 0 {
                    guard let options = try? JSONValue.parse(Data(buffer: body)), case .object = options else {
                        throw TesseraError(.badRequest, details: "The body must contain a JSON object")
                    }
                    try Self.refuseUnsupported(options)
                }
                return try await archive(level, context)
            }
        }
        router.post("/tools/create-archive") { request, context in
            var request = request
            let body = try await request.collectBody(upTo: maximumBodySize)
            let ids = try Self.resources(in: body)
            var resolved: [(ResourceLevel, PublicID)] = []
            for id in ids {
                guard let level = try await resources.level(of: id) else { throw TesseraError(.unknownResource, details: id.value) }
                resolved.append((level, id))
            }
            return try await stream(resolved, filename: "Archive.zip", logger: context.logger)
        }
    }

    private func archive(_ level: ResourceLevel, _ context: APIRequestContext) async throws -> Response {
        guard let id = context.publicID, try await resources.key(of: id, at: level) != nil else {
            throw TesseraError(.unknownResource)
        }
        return try await stream([(level, id)], filename: "\(id.value).zip", logger: context.logger)
    }

    /// `{"Resources": [...]}` or a plain list of IDs, as Orthanc accepts; `Asynchronous` and `Transcode` refused.
    static func resources(in body: ByteBuffer) throws(TesseraError) -> [PublicID] {
        guard let json = try? JSONValue.parse(Data(buffer: body)) else {
            throw TesseraError(.badRequest, details: "The body must contain a JSON object")
        }
        let list: [JSONValue]
        switch json {
        case .array(let items): list = items
        case .object:
            try refuseUnsupported(json)
            guard case .array(let items)? = json["Resources"] else {
                throw TesseraError(.badFileFormat, details: "Missing field Resources in the JSON body")
            }
            list = items
        default:
            throw TesseraError(.badRequest, details: "The body must contain a JSON object")
        }
        var ids: [PublicID] = []
        for item in list {
            guard let text = item.stringValue else {
                throw TesseraError(.badFileFormat, details: "List of strings expected in field: Resources")
            }
            guard let id = PublicID(validating: text) else { throw TesseraError(.unknownResource, details: text) }
            ids.append(id)
        }
        return ids
    }

    static func refuseUnsupported(_ options: JSONValue) throws(TesseraError) {
        if options["Asynchronous"]?.boolValue == true {
            throw TesseraError(.notImplemented, message: "Asynchronous archives are not available yet",
                               details: "They need the jobs engine (job-worker); ask without \"Asynchronous\" for a streamed answer")
        }
        if let transcode = options["Transcode"], transcode != .null {
            throw TesseraError(.notImplemented, message: "Transcoding archives is not available yet")
        }
    }

    /// Streams the archive: each entry's local header, the file read in chunks, its data descriptor, then the
    /// central directory. A file that cannot be read mid-way ends the response early (as Orthanc's would).
    private func stream(_ requested: [(ResourceLevel, PublicID)], filename: String, logger: Logger) async throws -> Response {
        let entries = try await instances.archiveEntries(requested)
        let names = ArchiveLayout.paths(entries)
        let blobs = self.blobs
        let sizes = entries.map { blobs.size(of: $0.fileUUID).map(UInt64.init) ?? UInt64($0.fileSize) }
        return Response(
            status: .ok,
            headers: [.contentType: "application/zip", .contentDisposition: "filename=\"\(filename)\""],
            body: ResponseBody { writer in
                var zip = ZipStreamWriter()
                do {
                    for index in entries.indices {
                        try await writer.write(zip.beginEntry(names[index], size: sizes[index]))
                        try await blobs.stream(entries[index].fileUUID) { chunk in
                            zip.entryData(chunk)
                            try await writer.write(chunk)
                        }
                        try await writer.write(try zip.endEntry())
                    }
                    try await writer.write(zip.finish())
                    try await writer.finish(nil)
                } catch {
                    logger.error("Archive stopped before its end", metadata: ["error": "\(error)", "archive": "\(filename)"])
                    throw error
                }
            })
    }
}
