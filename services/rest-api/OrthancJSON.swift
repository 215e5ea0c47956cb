import Foundation
import Hummingbird
import Model

/// JSON answers as Orthanc prints them: keys sorted, indented.
enum OrthancJSON {
    static func response(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        guard let data = try? encoder.encode(value) else {
            // Never a silently different answer: a value the encoder refuses is an internal error.
            let body = #"{"HttpError": "Internal Server Error", "HttpStatus": 500, "Message": "Cannot encode the answer as JSON", "OrthancError": "Internal error", "OrthancStatus": -1}"#
            return Response(status: .internalServerError, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return encoder
    }()
}
