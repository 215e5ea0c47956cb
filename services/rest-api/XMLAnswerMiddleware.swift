import Foundation
import Hummingbird
import Model

/// Orthanc's XML answers: when a token of the `Accept` header (split at `;`, as Orthanc splits it) is exactly
/// `application/xml`, a successful JSON answer is sent as XML instead (Orthanc's `Toolbox::JsonToXml`: a `root`
/// element, members in name order, array items as `item`, null as `null`, two-space indentation). Errors stay JSON.
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
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: Self.xml(json))))
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

    /// The XML document of a JSON value.
    static func xml(_ value: JSONValue) -> String {
        var text = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
        element("root", value, depth: 0, into: &text)
        return text
    }

    private static func element(_ name: String, _ value: JSONValue, depth: Int, into text: inout String) {
        let indent = String(repeating: "  ", count: depth)
        let children: [(String, JSONValue)]
        switch value {
        case .object(let members): children = members.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        case .array(let items): children = items.map { ("item", $0) }
        default:
            text += "\(indent)<\(name)>\(escaped(scalar(value)))</\(name)>\n"
            return
        }
        if children.isEmpty {
            text += "\(indent)<\(name) />\n"
            return
        }
        text += "\(indent)<\(name)>\n"
        for (childName, child) in children { element(childName, child, depth: depth + 1, into: &text) }
        text += "\(indent)</\(name)>\n"
    }

    private static func scalar(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .string(let text): return text
        case .number(let number):
            if number.rounded() == number, abs(number) < 1e18 { return String(Int64(number)) }
            return String(format: "%.9g", Float(number))
        default: return ""
        }
    }

    /// pugixml's escaping of text: `&`, `<`, `>`, and control characters as numeric references.
    private static func escaped(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            default:
                if scalar.value < 32, scalar != "\t", scalar != "\n", scalar != "\r" {
                    result += "&#\(scalar.value);"
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result
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
