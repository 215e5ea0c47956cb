import Hummingbird
import Index
import Model
import Storage

/// `/instances` routes over the index and the blob store.
struct InstanceRoutes {
    let queries: InstanceQueries
    let blobs: BlobStore

    func add(to router: Router<APIRequestContext>) {
        router.get("/instances") { request, _ in
            try await list(request)
        }
        router.get("/instances/{id}") { _, context in
            guard let record = try await lookup(context) else { return Response(status: .notFound) }
            return OrthancJSON.response(ResourceJSON.instance(record))
        }
        router.get("/instances/{id}/file") { _, context in
            guard let record = try await lookup(context) else { return Response(status: .notFound) }
            let bytes = try await blobs.read(record.fileUUID)
            return Response(
                status: .ok,
                headers: [.contentType: "application/dicom", .contentDisposition: "filename=\"\(record.fileUUID).dcm\""],
                body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }

    private func list(_ request: Request) async throws -> Response {
        let parameters = try ListParameters(request)
        if parameters.expand {
            let records = try await queries.list(since: parameters.since, limit: parameters.limit)
            return OrthancJSON.response(.array(records.map(ResourceJSON.instance)))
        }
        let ids = try await queries.listIDs(since: parameters.since, limit: parameters.limit)
        return OrthancJSON.response(.array(ids.map { .string($0.value) }))
    }

    /// The indexed instance named by the `{id}` parameter; nil (Orthanc answers 404 with no body) when unknown.
    private func lookup(_ context: APIRequestContext) async throws -> InstanceRecord? {
        guard let text = context.parameters.get("id"), let id = PublicID(validating: text) else { return nil }
        return try await queries.instance(id)
    }
}
