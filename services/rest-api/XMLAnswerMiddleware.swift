import Foundation
import Hummingbird
import Model

/// Orthanc's XML answers: when a token of the `Accept` header (split at `;`, as Orthanc splits it) is exactly
/// `application/xml`, a successful JSON answer is sent as XML instead (`JSONValue.orthancXML`). Errors stay JSON.
struct XMLAnswerMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard Self.wantsXML(request.headers[.accept]) else { return try await next(request, context) }
        let response = try await next(request, context)
        guard response.status == .ok, response.headers[.contentType]?.hasPrefix("application/json") == true else { return response }
        // JSON answers are made in memory already: gathering one again costs a copy.
        let collector = Collector()
        try await response.body.write(CollectingWriter(collector: collector))
        let collected = collector.buffer
        guard let json = try? JSONValue.parse(Data(buffer: collected)) else {
            var copy = response
            copy.body = ResponseBody(byteBuffer: collected)
            return copy
        }
        var headers = response.headers
        headers[.contentType] = "application/xml; charset=utf-8"
        headers[.contentLength] = nil
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: json.orthancXML)))
    }

    /// Orthanc's test: the last of `application/xml` and `application/json` among the `;`-separated tokens wins.
    static func wantsXML(_ accept: String?) -> Bool {
        guard let accept else { return false }
        var xml = false
        for token in accept.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if token == "application/xml" { xml = true }
            if token == "application/json" { xml = false }
        }
        return xml
    }
}

/// A response body gathered in memory.
private final class Collector: @unchecked Sendable {
    var buffer = ByteBuffer()
}

private struct CollectingWriter: ResponseBodyWriter {
    let collector: Collector

    mutating func write(_ chunk: ByteBuffer) async throws {
        var chunk = chunk
        collector.buffer.writeBuffer(&chunk)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
