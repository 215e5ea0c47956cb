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
                try DicomFile(path: path, maxReadLength: 4096).frameCount
            }
            // Streamed: a whole-slide image may have hundreds of thousands of frames.
            return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                            body: ResponseBody { writer in
                var text = "["
                for frame in 0..<count {
                    text += frame == 0 ? "\n  \(frame)" : ",\n  \(frame)"
                    if text.utf8.count >= 1 << 16 {
                        try await writer.write(ByteBuffer(string: text))
                        text = ""
                    }
                }
                text += count == 0 ? "]\n" : "\n]\n"
                try await writer.write(ByteBuffer(string: text))
                try await writer.finish(nil)
            })
        }
    }

    private func fileUUID(_ context: APIRequestContext) async throws -> BlobID {
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
