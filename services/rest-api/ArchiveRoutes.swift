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
/// follow Orthanc 1.10 (``ArchiveNaming``); entries are the stored files, byte for byte, or re-encoded in the syntax of
/// `?transcode=` / `"Transcode"` (a file that cannot be re-encoded goes as stored, as Orthanc).
/// `"Asynchronous": true` (or `"Synchronous": false`) submits an `Archive` or `Media` job instead; its ZIP is then
/// `GET /jobs/{id}/archive`.
struct ArchiveRoutes {
    let instances: InstanceQueries
    let resources: ResourceQueries
    let blobs: BlobStore
    let submitter: JobSubmitter
    /// DicomLossyTranscodingQuality.
    var transcodingQuality = 90
    var maximumBodySize = 16 << 20

    func add(to router: Router<APIRequestContext>) {
        for level in [ResourceLevel.patient, .study, .series] {
            for kind in [Kind.archive, .media] {
                let path = "/\(level.collection)/{id}/\(kind == .archive ? "archive" : "media")"
                router.get(RouterPath(path)) { request, context in
                    let query = request.uri.queryParameters
                    let extended = query["extended"] != nil
                    var options = JSONValue.object([:])
                    if let syntax = query["transcode"] { options = ["Transcode": .string(String(syntax))] }
                    return try await answer(level, context, kind: kind == .media && extended ? .extendedMedia : kind,
                                            options: options)
                }
                router.post(RouterPath(path)) { request, context in
                    var request = request
                    let body = try await request.collectBody(upTo: maximumBodySize)
                    var options = JSONValue.object([:])
                    if body.readableBytes > 0 {
                        guard let parsed = try? JSONValue.parse(Data(buffer: body)), case .object = parsed else {
                            throw TesseraError(.badRequest, details: "The body must contain a JSON object")
                        }
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
                return try await stream(resolved, filename: "Archive.zip", kind: kind, transcoding: try transcoding(options),
                                        logger: context.logger)
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
        return try await stream([(level, id)], filename: "\(id.value).zip", kind: kind, transcoding: try transcoding(options),
                                logger: context.logger)
    }

    /// Submits an `Archive`/`Media` job when the options ask for an asynchronous answer (`{ID, Path}`); nil otherwise.
    private func submitIfAsynchronous(_ requested: [(ResourceLevel, PublicID)], kind: Kind,
                                      options: JSONValue) async throws -> Response? {
        let job = try JobOptions(options, synchronousByDefault: true)
        let transcoding = try transcoding(options)
        guard !job.synchronous else { return nil }
        let request = ArchiveJob.Request(kind: kind, resources: requested, transcode: transcoding?.syntax)
        let id = try await submitter.submit(.init(type: request.type, priority: job.priority, request: request.json,
                                                  content: ArchiveJob.content(request), userData: job.userData))
        return OrthancJSON.response(job.asynchronousAnswer(id))
    }

    /// `{"Resources": [...]}` (with the job options and `Transcode`) or a plain list of IDs, as Orthanc accepts.
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

    /// `Transcode` of the options (a transfer syntax UID Orthanc knows; 400 otherwise), nil when absent.
    private func transcoding(_ options: JSONValue) throws(TesseraError) -> ArchiveTranscoding? {
        guard let value = options["Transcode"], value != .null else { return nil }
        guard let syntax = value.stringValue else {
            throw TesseraError(.badFileFormat, details: "The field \"Transcode\" in a JSON object should be a string")
        }
        return try ArchiveTranscoding(syntax: syntax, quality: transcodingQuality)
    }

    /// Streams the archive as it is read (``ArchivePlan/write(blobs:to:)``). A file that cannot be read mid-way ends
    /// the response early (as Orthanc's would).
    private func stream(_ requested: [(ResourceLevel, PublicID)], filename: String, kind: Kind,
                        transcoding: ArchiveTranscoding?, logger: Logger) async throws -> Response {
        let plan = try await ArchivePlan.make(try await instances.archiveEntries(requested), kind: kind, blobs: blobs,
                                              transcoding: transcoding)
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
