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
            try await answer(context, metaHeader: false, format: Self.format(request, default: .full))
        }
        router.get("/instances/{id}/simplified-tags") { _, context in
            try await answer(context, metaHeader: false, format: .human)
        }
        router.get("/instances/{id}/header") { request, context in
            try await answer(context, metaHeader: true, format: Self.format(request, default: .full))
        }
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

    private func answer(_ context: APIRequestContext, metaHeader: Bool, format: DicomJSONFormat) async throws -> Response {
        guard let id = context.parameters.get("id").flatMap(PublicID.init(validating:)),
              let record = try await instances.instance(id) else { return Response(status: .notFound) }
        let renderer = DicomJSONRenderer(format: format)
        let json = try await blobs.withBlob(record.fileUUID) { path throws(TesseraError) in
            let file = try DicomFile(path: path, maxReadLength: Self.maxReadLength)
            return metaHeader ? renderer.render(metaHeaderOf: file) : renderer.render(datasetOf: file)
        }
        return OrthancJSON.response(json)
    }
}
