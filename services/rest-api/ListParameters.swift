import Hummingbird
import Model

/// `?expand`, `?since`, `?limit` of Orthanc's list routes.
struct ListParameters {
    var expand: Bool
    var since: Int
    var limit: Int?

    init(_ request: Request) throws(TesseraError) {
        let query = request.uri.queryParameters
        if let flag = query["expand"] {
            expand = !(flag == "false" || flag == "0")
        } else {
            expand = false
        }
        since = try Self.integer(query["since"].map(String.init), name: "since") ?? 0
        limit = try Self.integer(query["limit"].map(String.init), name: "limit")
    }

    private static func integer(_ text: String?, name: String) throws(TesseraError) -> Int? {
        guard let text else { return nil }
        guard let value = Int(text), value >= 0 else {
            throw TesseraError(.parameterOutOfRange, details: "Argument \"\(name)\" must be a non-negative integer, got \"\(text)\"")
        }
        return value
    }
}
