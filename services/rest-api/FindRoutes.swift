import Foundation
import DICOM
import Hummingbird
import Index
import Model
import QueryRetrieve

/// `POST /tools/find` and `POST /tools/lookup`. Main-tag constraints run in PostgreSQL (``ResourceFinder``);
/// constraints on other tags are checked against the first instance file of each candidate (``ResourceSearch``).
struct FindRoutes {
    let finder: ResourceFinder
    let search: ResourceSearch
    let renderer: ResourceRenderer
    let caseSensitivePN: Bool
    /// Largest request body.
    var maximumBodySize = 1 << 20

    func add(to router: Router<APIRequestContext>) {
        router.post("/tools/find") { request, _ in
            var request = request
            let body = try await request.collectBody(upTo: maximumBodySize)
            guard let json = try? JSONValue.parse(Data(buffer: body)) else {
                throw TesseraError(.badRequest, details: "The body must contain a JSON object")
            }
            let find = try FindRequest(json, caseSensitivePN: caseSensitivePN)
            let matches = try await matching(find)
            guard find.expand else {
                return OrthancJSON.response(.array(matches.map { .string($0.id.value) }))
            }
            return OrthancJSON.response(.array(try await renderer.render(
                find.query.level, keys: matches.map(\.key), format: find.format, requestedTags: find.requestedTags)))
        }
        router.post("/tools/lookup") { request, _ in
            var request = request
            let body = try await request.collectBody(upTo: maximumBodySize)
            // As Orthanc: bytes up to 0x20 trimmed at both ends; a value that still holds a NUL byte or is not UTF-8
            // matches nothing (no identifier can hold it).
            let bytes = Array(body.readableBytesView.drop { $0 <= 0x20 }.reversed().drop { $0 <= 0x20 }.reversed())
            guard !bytes.contains(0), let value = String(validating: bytes, as: UTF8.self) else {
                return OrthancJSON.response(.array([]))
            }
            let found = try await finder.lookup(value)
            return OrthancJSON.response(.array(found.map { level, id in
                .object(["ID": .string(id.value), "Path": .string("/\(level.collection)/\(id.value)"), "Type": .string(level.rawValue)])
            }))
        }
    }

    private func matching(_ find: FindRequest) async throws -> [(key: Int64, id: PublicID)] {
        try await search.matches(find.query, fileConstraints: find.fileConstraints)
    }
}
