import DICOM
import Hummingbird
import Index
import Model
import Storage

/// `/instances/{id}/tags`, `/simplified-tags` and `/header`: the stored file as Orthanc prints it
/// (see ``DicomJSONRenderer``). The file is parsed from the blob store without loading large values.
struct TagRoutes {
    let instances: InstanceQueries
    let blobs: BlobStore

    /// Values above this size stay on disk while parsing (pixel data, large binary values): never rendered.
    private static let maxReadLength: UInt32 = 4096

    func add(to router: Router<APIRequestContext>) {
        router.get("/instances/{id}/tags") { request, context in
            var renderer = DicomJSONRenderer(format: try Self.format(request, default: .full))
            renderer.ignoringLength = try Self.ignoredLengths(request)
            renderer.whole = request.uri.queryParameters["whole"] != nil
            return try await answer(context, metaHeader: false, renderer: renderer)
        }
        router.get("/instances/{id}/simplified-tags") { request, context in
            var renderer = DicomJSONRenderer(format: .human)
            renderer.ignoringLength = try Self.ignoredLengths(request)
            return try await answer(context, metaHeader: false, renderer: renderer)
        }
        router.get("/instances/{id}/header") { request, context in
            try await answer(context, metaHeader: true, renderer: DicomJSONRenderer(format: Self.format(request, default: .full)))
        }
        MethodNotAllowed.register(["/instances/{id}/tags", "/instances/{id}/simplified-tags", "/instances/{id}/header"],
                                  on: router, allowed: [.get])
    }

    /// Orthanc's `?ignore-length=`: tags (comma-separated, `gggg-eeee` or names) shown whatever their length.
    static func ignoredLengths(_ request: Request) throws(TesseraError) -> Set<DicomTag> {
        guard let list = request.uri.queryParameters["ignore-length"] else { return [] }
        var tags: Set<DicomTag> = []
        for text in list.split(separator: ",") where !text.isEmpty {
            tags.insert(try DicomContent.parseTag(String(text)))
        }
        return tags
    }

    /// Orthanc's choice of output: `?simplify`, `?short`, or `?format=Full|Short|Simplify`.
    static func format(_ request: Request, default fallback: DicomJSONFormat) throws(TesseraError) -> DicomJSONFormat {
        let query = request.uri.queryParameters
        if query["simplify"] != nil { return .human }
        if query["short"] != nil { return .short }
        guard let requested = query["format"].map({ String($0).lowercased() }) else { return fallback }
        switch requested {
        case "full": return .full
        case "short": return .short
        case "simplify", "human": return .human
        default:
            throw TesseraError(.parameterOutOfRange, details: "format must be Full, Short or Simplify, not \(requested)")
        }
    }

    private func answer(_ context: APIRequestContext, metaHeader: Bool, renderer: DicomJSONRenderer) async throws -> Response {
        guard let id = context.parameters.get("id").flatMap(PublicID.init(validating:)),
              let record = try await instances.instance(id) else { return Response(status: .notFound) }
        let json = try await blobs.withBlob(record.fileUUID) { path throws(TesseraError) in
            let file = try DicomFile(path: path, maxReadLength: Self.maxReadLength)
            return metaHeader ? renderer.render(metaHeaderOf: file) : renderer.render(datasetOf: file)
        }
        return OrthancJSON.response(json)
    }
}
