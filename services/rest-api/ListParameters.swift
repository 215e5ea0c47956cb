import DICOM
import Hummingbird
import Model

/// `?expand`, `?since`, `?limit`, `?full`, `?short` and `?requested-tags` (or the older `?requestedTags`) of
/// Orthanc's list and resource routes.
struct ListParameters {
    var expand: Bool
    /// `?expand=false` (or `0`) given explicitly: child lists then answer bare IDs (Orthanc 1.12.2+).
    var expandRefused = false
    var since: Int
    var limit: Int?
    var format: DicomJSONFormat
    var requestedTags: [FindRequest.RequestedTag]

    /// As Orthanc's resource lists (`/patients`, ...): paging takes both `since` and `limit`, or neither.
    static func requirePaging(_ request: Request) throws(TesseraError) {
        let query = request.uri.queryParameters
        if query["since"] != nil && query["limit"] == nil {
            throw TesseraError(.badRequest, details: "Missing \"limit\" argument for GET request against: \(request.uri.path)")
        }
        if query["limit"] != nil && query["since"] == nil {
            throw TesseraError(.badRequest, details: "Missing \"since\" argument for GET request against: \(request.uri.path)")
        }
    }

    init(_ request: Request) throws(TesseraError) {
        let query = request.uri.queryParameters
        if let flag = query["expand"] {
            expand = !(flag == "false" || flag == "0")
            expandRefused = !expand
        } else {
            expand = false
        }
        since = try Self.integer(query["since"].map(String.init), name: "since") ?? 0
        limit = try Self.integer(query["limit"].map(String.init), name: "limit")
        format = query["short"] != nil ? .short : query["full"] != nil ? .full : .human
        var requested: [FindRequest.RequestedTag] = []
        for name in (query["requested-tags"] ?? query["requestedTags"] ?? "").split(separator: ";") {
            let key = String(name)
            requested.append(FindRequest.RequestedTag(key: key, entry: try FindRequest.entry(key)))
        }
        requestedTags = requested
    }

    private static func integer(_ text: String?, name: String) throws(TesseraError) -> Int? {
        guard let text else { return nil }
        guard let value = Int(text), value >= 0 else {
            throw TesseraError(.parameterOutOfRange, details: "Argument \"\(name)\" must be a non-negative integer, got \"\(text)\"")
        }
        return value
    }
}
