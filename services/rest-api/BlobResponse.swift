import Hummingbird
import Model
import Storage

/// A stored file as an HTTP answer, streamed from the blob store in chunks: a multi-gigabyte file never sits in memory.
enum BlobResponse {
    static func stream(_ uuid: BlobID, from blobs: BlobStore, headers: HTTPFields) throws(TesseraError) -> Response {
        guard let size = blobs.size(of: uuid) else {
            throw TesseraError(.inexistentFile, details: "The stored file \(uuid) is missing")
        }
        return Response(status: .ok, headers: headers, body: ResponseBody(contentLength: Int(size)) { writer in
            try await blobs.stream(uuid) { chunk in try await writer.write(chunk) }
            try await writer.finish(nil)
        })
    }
}
