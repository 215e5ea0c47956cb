import DICOM
import Hummingbird
import Index
import Model
import Storage

/// Orthanc's read routes over the resource tree: lists, resources, children, parents, files, metadata,
/// statistics, and the change log. An unknown or malformed ID answers 404 with no body, as Orthanc does.
struct ResourceRoutes {
    let resources: ResourceQueries
    let instances: InstanceQueries
    let changes: ChangeLog
    let blobs: BlobStore
    let renderer: ResourceRenderer
    /// DicomLossyTranscodingQuality, for `?transcode=` with a lossy syntax.
    var transcodingQuality = 90

    func add(to router: Router<APIRequestContext>) {
        for level in ResourceLevel.allCases {
            let collection = "/\(level.collection)"
            router.get(RouterPath(collection)) { request, _ in
                try ListParameters.requirePaging(request)
                return try await list(level, ListParameters(request))
            }
            router.get(RouterPath("\(collection)/{id}")) { request, context in
                let parameters = try ListParameters(request)
                guard let id = Self.id(context), let json = try await renderer.render(
                    level, id: id, format: parameters.format, requestedTags: parameters.requestedTags) else { return Response(status: .notFound) }
                return OrthancJSON.response(json)
            }
            // Descendants (expanded unless `?expand=false`, as Orthanc 1.12.2+ answers them) and ancestors.
            for other in ResourceLevel.allCases where other != level {
                let isDescendant = other.depth > level.depth
                let name = isDescendant ? other.collection : other.rawValue.lowercased()
                router.get(RouterPath("\(collection)/{id}/\(name)")) { request, context in
                    let parameters = try ListParameters(request)
                    guard let id = Self.id(context), try await resources.key(of: id, at: level) != nil else {
                        return Response(status: .notFound)
                    }
                    let keys = try await resources.relatedKeys(of: id, at: level, target: other)
                    let rendered = try await render(other, keys: keys, parameters)
                    if isDescendant && parameters.expandRefused {
                        return OrthancJSON.response(.array(rendered.compactMap { $0["ID"] }))
                    }
                    if isDescendant { return OrthancJSON.response(.array(rendered)) }
                    guard let parent = rendered.first else { return Response(status: .notFound) }
                    return OrthancJSON.response(parent)
                }
            }
            router.get(RouterPath("\(collection)/{id}/statistics")) { _, context in
                guard let id = Self.id(context), let statistics = try await resources.statistics(level, id) else {
                    throw TesseraError(.unknownResource)
                }
                return OrthancJSON.response(ResourceJSON.statistics(statistics, of: level))
            }
        }
        router.get("/instances/{id}/file") { request, context in
            guard let id = Self.id(context), let record = try await instances.instance(id) else { return Response(status: .notFound) }
            let headers: HTTPFields = [.contentType: "application/dicom", .contentDisposition: "filename=\"\(record.fileUUID).dcm\""]
            // Orthanc 1.12.2's `?transcode=`: the file re-encoded (a lossy syntax makes a new SOP Instance UID); one
            // already in that syntax goes as stored; one that cannot be re-encoded is a 500 "Cannot transcode".
            if let requested = request.uri.queryParameters["transcode"] {
                let syntax = try TranscodingSettings.validate(String(requested))
                let quality = transcodingQuality
                let transcoded = try await blobs.withBlob(record.fileUUID) { path throws(TesseraError) in
                    try DicomFile(path: path, maxReadLength: 4096).transcoded(to: syntax, quality: quality, uids: .allowNew)
                }
                if let transcoded {
                    return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: transcoded)))
                }
            }
            return try BlobResponse.stream(record.fileUUID, from: blobs, headers: headers)
        }
        router.get("/statistics") { _, _ in
            OrthancJSON.response(ResourceJSON.statistics(try await resources.statistics(), of: nil))
        }
        router.get("/changes") { request, _ in
            try await changeLog(request)
        }
    }

    private static func id(_ context: APIRequestContext) -> PublicID? { context.publicID }

    private func list(_ level: ResourceLevel, _ parameters: ListParameters) async throws -> Response {
        let page = try await resources.page(level, since: parameters.since, limit: parameters.limit)
        if parameters.expand {
            return OrthancJSON.response(.array(try await render(level, keys: page.map(\.key), parameters)))
        }
        return OrthancJSON.response(.array(page.map { .string($0.id.value) }))
    }

    private func render(_ level: ResourceLevel, keys: [Int64], _ parameters: ListParameters) async throws -> [JSONValue] {
        try await renderer.render(level, keys: keys, format: parameters.format, requestedTags: parameters.requestedTags)
    }

    /// `GET /changes?since=&limit=` (default limit 100, at most 10,000) and `GET /changes?last`.
    private func changeLog(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        // Orthanc 1.12.5's filters (ApiVersion 26): refused rather than ignored, so a client never reads an unfiltered
        // page as a filtered one.
        for name in ["type", "to"] where query[name[...]] != nil {
            throw TesseraError(.parameterOutOfRange, details: "/changes?\(name) is Orthanc 1.12.5's (ApiVersion 26); "
                               + "Tessera implements ApiVersion \(SystemJSON.apiVersion): filter the entries on the client")
        }
        if query["last"] != nil {
            let last = try await changes.last()
            let lastSeq = if let last { last.seq } else { try await changes.lastAllocated() }
            return OrthancJSON.response(.object([
                "Changes": .array(last.map { [ResourceJSON.change($0)] } ?? []),
                "Done": .bool(true),
                "Last": .number(Double(lastSeq)),
            ]))
        }
        let parameters = try ListParameters(request)
        let limit = min(parameters.limit ?? 100, 10_000)
        let since = Int64(parameters.since)
        let fetched = try await changes.list(since: since, limit: limit + 1)
        let page = Array(fetched.prefix(limit))
        let lastSeq = if let last = page.last { last.seq } else { try await changes.lastAllocated() }
        return OrthancJSON.response(.object([
            "Changes": .array(page.map(ResourceJSON.change)),
            "Done": .bool(fetched.count <= limit),
            "Last": .number(Double(lastSeq)),
        ]))
    }
}
