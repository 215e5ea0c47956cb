import Foundation
import DICOM
import Hummingbird
import Index
import Model
import Storage

/// `POST /tools/find` and `POST /tools/lookup`. Main-tag constraints run in PostgreSQL (``ResourceFinder``);
/// constraints on other tags are checked against the first instance file of each candidate, within a bound.
struct FindRoutes {
    let finder: ResourceFinder
    let instances: InstanceQueries
    let renderer: ResourceRenderer
    let blobs: BlobStore
    let caseSensitivePN: Bool
    /// Most candidates whose files are read for constraints on tags outside the index.
    var maximumFileScan = 10_000
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

    /// The page of matching keys. Without file constraints PostgreSQL pages; with them, candidates are read in
    /// index order until the page is full, and a query needing more than `maximumFileScan` files is refused.
    private func matching(_ find: FindRequest) async throws -> [(key: Int64, id: PublicID)] {
        guard !find.fileConstraints.isEmpty else { return try await finder.matches(find.query) }
        var candidates = find.query
        candidates.since = 0
        candidates.limit = maximumFileScan + 1
        let found = try await finder.matches(candidates)
        let keys = found.map(\.key)
        let ids = Dictionary(found.map { ($0.key, $0.id) }, uniquingKeysWith: { first, _ in first })
        let wanted = find.query.limit.map { find.query.since.addingReportingOverflow($0).overflow ? Int.max : find.query.since + $0 }
        if keys.count > maximumFileScan, wanted.map({ $0 > maximumFileScan }) ?? true {
            throw TesseraError(.parameterOutOfRange, message: "Query too broad",
                               details: "More than \(maximumFileScan) resources match the indexed tags, and tags outside the index need their files read: add constraints on main DICOM tags, or a Limit")
        }
        var matches: [Int64] = []
        var position = 0
        let constraints = find.fileConstraints
        while position < keys.count, wanted.map({ matches.count < $0 }) ?? true {
            let batch = Array(keys[position..<min(keys.count, position + 100)])
            position += batch.count
            let files = try await instances.firstFiles(of: find.query.level, keys: batch)
            for key in batch {
                guard let file = files[key] else { continue }
                let matched = try await blobs.withBlob(file) { path throws(TesseraError) in
                    let dicom = try DicomFile(path: path, maxReadLength: 4096)
                    let charset = DicomCharset(datasetOf: dicom)
                    return constraints.allSatisfy { $0.matches(dicom.dataset.text($0.tag, charset: charset)) }
                }
                if matched { matches.append(key) }
                if let wanted, matches.count >= wanted { break }
            }
        }
        return matches.dropFirst(find.query.since).prefix(find.query.limit ?? Int.max).compactMap { key in ids[key].map { (key, $0) } }
    }
}
