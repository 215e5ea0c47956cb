import Foundation
import Hummingbird
import Index
import Jobs
import Logging
import Model
import ResourceArchive
import Storage

/// ZIP archives of resources, streamed as they are read (never built in memory or on disk):
/// `GET|POST /{patients,studies,series}/{id}/archive` and `POST /tools/create-archive`. Folders and file names
/// follow Orthanc 1.10 (``ArchiveNaming``); entries are the stored files, byte for byte.
/// `"Asynchronous": true` (or `"Synchronous": false`) submits an `Archive` or `Media` job instead; its ZIP is then
/// `GET /jobs/{id}/archive`.
struct ArchiveRoutes {
    let instances: InstanceQueries
    let resources: ResourceQueries
    let blobs: BlobStore
    let submitter: JobSubmitter
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
                    var options = JSONValue.object([:])
                    if body.readableBytes > 0 {
                        guard let parsed = try? JSONValue.parse(Data(buffer: body)), case .object = parsed else {
                            throw TesseraError(.badRequest, details: "The body must contain a JSON object")
                        }
                        try Self.refuseUnsupported(parsed)
                        options = parsed
                    }
                    let extended = options["Extended"]?.boolValue ?? false
                    return try await answer(level, context, kind: kind == .media && extended ? .extendedMedia : kind,
                                            options: options)
                }
            }
        }
        for (path, kind) in [("/tools/create-archive", Kind.archive), ("/tools/create-media", .media),
                             ("/tools/create-media-extended", .extendedMedia)] {
            router.post(RouterPath(path)) { request, context in
                var request = request
                let body = try await request.collectBody(upTo: maximumBodySize)
                let (ids, options) = try Self.resources(in: body)
                var resolved: [(ResourceLevel, PublicID)] = []
                for id in ids {
                    guard let level = try await resources.level(of: id) else { throw TesseraError(.unknownResource, details: id.value) }
                    resolved.append((level, id))
                }
                if let submitted = try await submitIfAsynchronous(resolved, kind: kind, options: options) { return submitted }
                return try await stream(resolved, filename: "Archive.zip", kind: kind, logger: context.logger)
            }
        }
    }

    typealias Kind = ArchivePlan.Kind

    private func answer(_ level: ResourceLevel, _ context: APIRequestContext, kind: Kind,
                        options: JSONValue = .object([:])) async throws -> Response {
        guard let id = context.publicID, try await resources.key(of: id, at: level) != nil else {
            throw TesseraError(.unknownResource)
        }
        if let submitted = try await submitIfAsynchronous([(level, id)], kind: kind, options: options) { return submitted }
        return try await stream([(level, id)], filename: "\(id.value).zip", kind: kind, logger: context.logger)
    }

    /// Submits an `Archive`/`Media` job when the options ask for an asynchronous answer (`{ID, Path}`); nil otherwise.
    private func submitIfAsynchronous(_ requested: [(ResourceLevel, PublicID)], kind: Kind,
                                      options: JSONValue) async throws -> Response? {
        let job = try JobOptions(options, synchronousByDefault: true)
        guard !job.synchronous else { return nil }
        let request = ArchiveJob.Request(kind: kind, resources: requested)
        let id = try await submitter.submit(.init(type: request.type, priority: job.priority, request: request.json,
                                                  content: ArchiveJob.content(request), userData: job.userData))
        return OrthancJSON.response(job.asynchronousAnswer(id))
    }

    /// `{"Resources": [...]}` (with the job options) or a plain list of IDs, as Orthanc accepts; `Transcode` refused.
    static func resources(in body: ByteBuffer) throws(TesseraError) -> ([PublicID], JSONValue) {
        guard let json = try? JSONValue.parse(Data(buffer: body)) else {
            throw TesseraError(.badRequest, details: "The body must contain a JSON object")
        }
        let list: [JSONValue]
        var options = JSONValue.object([:])
        switch json {
        case .array(let items): list = items
        case .object:
            options = json
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
        return (ids, options)
    }

    static func refuseUnsupported(_ options: JSONValue) throws(TesseraError) {
        if let transcode = options["Transcode"], transcode != .null {
            throw TesseraError(.notImplemented, message: "Transcoding archives is not available yet")
        }
    }

    /// Streams the archive as it is read (``ArchivePlan/write(blobs:to:)``). A file that cannot be read mid-way ends
    /// the response early (as Orthanc's would).
    private func stream(_ requested: [(ResourceLevel, PublicID)], filename: String, kind: Kind,
                        logger: Logger) async throws -> Response {
        let plan = try await ArchivePlan.make(try await instances.archiveEntries(requested), kind: kind, blobs: blobs)
        let blobs = self.blobs
        return Response(
            status: .ok,
            headers: [.contentType: "application/zip", .contentDisposition: "filename=\"\(filename)\""],
            body: ResponseBody { writer in
                defer { plan.cleanUp() }
                do {
                    try await plan.write(blobs: blobs) { try await writer.write($0) }
                    try await writer.finish(nil)
                } catch {
                    logger.error("Archive stopped before its end", metadata: ["error": "\(error)", "archive": "\(filename)"])
                    throw error
                }
            })
    }
}
