import DICOM
import Hummingbird
import Index
import Model
import Storage

/// `/instances/{id}/content/...` (the raw dataset, navigated by tags and item indexes) and `/instances/{id}/frames`.
/// An unknown instance answers 404 with Orthanc's "Unknown resource" error, as Orthanc does on these routes.
struct ContentRoutes {
    let instances: InstanceQueries
    let blobs: BlobStore

    func add(to router: Router<APIRequestContext>) {
        router.get("/instances/{id}/content") { _, context in
            try await content(context, path: [])
        }
        router.get("/instances/{id}/content/**") { _, context in
            try await content(context, path: context.parameters.getCatchAll().map(String.init))
        }
        router.get("/instances/{id}/frames") { _, context in
            let file = try await fileUUID(context)
            let count = try await blobs.withBlob(file) { path throws(TesseraError) in
                let dicom = try DicomFile(path: path, maxReadLength: 4096)
                return max(1, Int(dicom.dataset.integer(DicomTag(0x0028, 0x0008)) ?? 1))
            }
            return OrthancJSON.response(.array((0..<count).map { .number(Double($0)) }))
        }
    }

    private func fileUUID(_ context: APIRequestContext) async throws -> String {
        guard let id = context.publicID, let record = try await instances.instance(id) else {
            throw TesseraError(.unknownResource)
        }
        return record.fileUUID
    }

    private func content(_ context: APIRequestContext, path: [String]) async throws -> Response {
        let file = try await fileUUID(context)
        let node = try await blobs.withBlob(file) { location throws(TesseraError) in
            try DicomContent.resolve(path, in: try DicomFile(path: location, maxReadLength: 4096))
        }
        switch node {
        case nil:
            return Response(status: .notFound)
        case .list(let names)?:
            return OrthancJSON.response(.array(names.map(JSONValue.string)))
        case .value(let bytes)?:
            return Response(status: .ok, headers: [.contentType: "application/octet-stream"],
                            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }
}
