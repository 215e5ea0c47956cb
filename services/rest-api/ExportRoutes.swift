import Hummingbird
import Index
import Model

/// `GET /exports` (`since`, `limit`, `last`) with Orthanc's `{Exports, Done, Last}`. `DELETE /exports` is in
/// ``DeletionRoutes``.
struct ExportRoutes {
    let exports: ExportLog

    func add(to router: Router<APIRequestContext>) {
        router.get("/exports") { request, _ in
            let query = request.uri.queryParameters
            if query["last"] != nil {
                let last = try await exports.list(since: 0, limit: 1, last: true)
                return OrthancJSON.response(.object([
                    "Exports": .array(last.map(Self.entry)), "Done": .bool(true), "Last": .number(Double(last.first?.seq ?? 0)),
                ]))
            }
            let parameters = try ListParameters(request)
            let limit = min(parameters.limit ?? 100, 10_000)
            let fetched = try await exports.list(since: Int64(parameters.since), limit: limit + 1)
            let page = Array(fetched.prefix(limit))
            return OrthancJSON.response(.object([
                "Exports": .array(page.map(Self.entry)),
                "Done": .bool(limit > 0 && fetched.count <= limit),
                "Last": .number(Double(page.last?.seq ?? 0)),
            ]))
        }
    }

    static func entry(_ entry: ExportLog.Entry) -> JSONValue {
        var members: [String: JSONValue] = [
            "Date": .string(OrthancDate.format(entry.date)), "ID": .string(entry.publicID.value),
            "Path": .string("/\(entry.level.collection)/\(entry.publicID.value)"), "PatientID": .string(entry.patientID),
            "RemoteModality": .string(entry.remoteModality), "ResourceType": .string(entry.level.rawValue),
            "Seq": .number(Double(entry.seq)),
        ]
        if let uid = entry.studyInstanceUID { members["StudyInstanceUID"] = .string(uid) }
        if let uid = entry.seriesInstanceUID { members["SeriesInstanceUID"] = .string(uid) }
        if let uid = entry.sopInstanceUID { members["SOPInstanceUID"] = .string(uid) }
        return .object(members)
    }
}
