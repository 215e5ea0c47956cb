import Archive
import DICOM
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
            for kind in [Kind.archive, .media] {
                let path = "/\(level.collection)/{id}/\(kind == .archive ? "archive" : "media")"
                router.get(RouterPath(path)) { request, context in
                    let extended = request.uri.queryParameters["extended"] != nil
                    return try await answer(level, context, kind: kind == .media && extended ? .extendedMedia : kind)
                }
                router.post(RouterPath(path)) { request, context in
                    var request = request
                    let body = try await request.collectBody(upTo: maximumBodySize)
                    var extended = false
                    if body.readableBytes > 0 {
                        guard let options = try? JSONValue.parse(Data(buffer: body)), case .object = options else {
                            throw TesseraError(.badRequest, details: "The body must contain a JSON object")
                        }
                        try Self.refuseUnsupported(options)
                        extended = options["Extended"]?.boolValue ?? false
                    }
                    return try await answer(level, context, kind: kind == .media && extended ? .extendedMedia : kind)
                }
            }
        }
        for (path, kind) in [("/tools/create-archive", Kind.archive), ("/tools/create-media", .media),
                             ("/tools/create-media-extended", .extendedMedia)] {
            router.post(RouterPath(path)) { request, context in
                var request = request
                let body = try await request.collectBody(upTo: maximumBodySize)
                let ids = try Self.resources(in: body)
                var resolved: [(ResourceLevel, PublicID)] = []
                for id in ids {
                    guard let level = try await resources.level(of: id) else { throw TesseraError(.unknownResource, details: id.value) }
                    resolved.append((level, id))
                }
                return try await stream(resolved, filename: "Archive.zip", kind: kind, logger: context.logger)
            }
        }
    }

    /// A plain archive, or a medium (files under IMAGES/ and a DICOMDIR), possibly extended.
    enum Kind { case archive, media, extendedMedia }

    private func answer(_ level: ResourceLevel, _ context: APIRequestContext, kind: Kind) async throws -> Response {
        guard let id = context.publicID, try await resources.key(of: id, at: level) != nil else {
            throw TesseraError(.unknownResource)
        }
        return try await stream([(level, id)], filename: "\(id.value).zip", kind: kind, logger: context.logger)
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
    private func stream(_ requested: [(ResourceLevel, PublicID)], filename: String, kind: Kind,
                        logger: Logger) async throws -> Response {
        let entries = try await instances.archiveEntries(requested)
        let blobs = self.blobs
        var names = kind == .archive ? ArchiveLayout.paths(entries) : entries.indices.map { "IMAGES/IM\($0)" }
        var sources: [EntrySource] = entries.map { .blob($0.fileUUID) }
        var sizes = entries.map { blobs.size(of: $0.fileUUID).map(UInt64.init) ?? UInt64($0.fileSize) }
        var directory: String?
        if kind != .archive {
            // The DICOMDIR is written before the answer starts, so a file that cannot go on a medium is a clear
            // error rather than a truncated download. It is streamed last and removed afterwards.
            let built = try await Self.dicomdir(entries.map(\.fileUUID), blobs: blobs, extended: kind == .extendedMedia)
            directory = built.folder
            names.append("DICOMDIR")
            sources.append(.file(built.path))
            sizes.append(UInt64(built.size))
        }
        let folder = directory
        let (entryNames, entrySources, entrySizes) = (names, sources, sizes)
        return Response(
            status: .ok,
            headers: [.contentType: "application/zip", .contentDisposition: "filename=\"\(filename)\""],
            body: ResponseBody { writer in
                var zip = ZipStreamWriter()
                do {
                    for index in entryNames.indices {
                        try await writer.write(zip.beginEntry(entryNames[index], size: entrySizes[index]))
                        switch entrySources[index] {
                        case .blob(let blob):
                            try await blobs.stream(blob) { chunk in
                                zip.entryData(chunk)
                                try await writer.write(chunk)
                            }
                        case .file(let path):
                            let chunk = ByteBuffer(bytes: try Data(contentsOf: URL(fileURLWithPath: path)))
                            zip.entryData(chunk)
                            try await writer.write(chunk)
                        }
                        try await writer.write(try zip.endEntry())
                    }
                    try await writer.write(zip.finish())
                    try await writer.finish(nil)
                    if let folder { try? FileManager.default.removeItem(atPath: folder) }
                } catch {
                    if let folder { try? FileManager.default.removeItem(atPath: folder) }
                    logger.error("Archive stopped before its end", metadata: ["error": "\(error)", "archive": "\(filename)"])
                    throw error
                }
            })
    }

    /// Writes the DICOMDIR of `files` (referenced as IMAGES\\IM<n>) in a fresh temporary folder.
    /// What an archive entry is read from.
    enum EntrySource: Sendable {
        case blob(BlobID)
        case file(String)
    }

    static func dicomdir(_ files: [BlobID], blobs: BlobStore, extended: Bool) async throws -> (folder: String, path: String, size: Int) {
        let folder = NSTemporaryDirectory() + "tessera-media-" + UUID().uuidString
        let paths = files.map { blobs.path(of: $0) }
        return try await blobs.performBlocking { () throws(TesseraError) -> (folder: String, path: String, size: Int) in
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw TesseraError(.cannotWriteFile, details: "\(folder): \(error)")
            }
            let path = folder + "/DICOMDIR"
            do throws(TesseraError) {
                let writer = try DicomDirWriter(path: path, extended: extended)
                for (index, file) in paths.enumerated() {
                    try writer.add(path: file, fileID: "IMAGES\\IM\(index)")
                }
                try writer.write()
            } catch {
                try? FileManager.default.removeItem(atPath: folder)
                throw error
            }
            let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
            return (folder, path, size)
        }
    }
}
