import DICOM
import Index
import Model
import Storage

/// The one query engine behind `/tools/find`, the C-FIND SCP and retrieves: constraints on main tags run in
/// PostgreSQL (``ResourceFinder``); constraints on other tags are checked against the first instance file of each
/// candidate, within a bound.
public struct ResourceSearch: Sendable {
    let finder: ResourceFinder
    let instances: InstanceQueries
    let blobs: BlobStore
    /// Most candidates whose files are read for constraints on tags outside the index.
    public var maximumFileScan: Int

    public init(finder: ResourceFinder, instances: InstanceQueries, blobs: BlobStore, maximumFileScan: Int = 10_000) {
        self.finder = finder
        self.instances = instances
        self.blobs = blobs
        self.maximumFileScan = maximumFileScan
    }

    /// The page of matching keys, in Orthanc's order. Without file constraints PostgreSQL pages; with them,
    /// candidates are read in index order until the page is full, and a query needing more than `maximumFileScan`
    /// files is refused (`parameterOutOfRange`, "Query too broad").
    public func matches(_ query: FindQuery, fileConstraints: [TagConstraint]) async throws -> [(key: Int64, id: PublicID)] {
        guard !fileConstraints.isEmpty else { return try await finder.matches(query) }
        var candidates = query
        candidates.since = 0
        candidates.limit = maximumFileScan + 1
        let found = try await finder.matches(candidates)
        let keys = found.map(\.key)
        let ids = Dictionary(found.map { ($0.key, $0.id) }, uniquingKeysWith: { first, _ in first })
        let wanted = query.limit.map { query.since.addingReportingOverflow($0).overflow ? Int.max : query.since + $0 }
        if keys.count > maximumFileScan, wanted.map({ $0 > maximumFileScan }) ?? true {
            throw TesseraError(.parameterOutOfRange, message: "Query too broad",
                               details: "More than \(maximumFileScan) resources match the indexed tags, and tags outside the index need their files read: add constraints on main DICOM tags, or a Limit")
        }
        var matches: [Int64] = []
        var position = 0
        while position < keys.count, wanted.map({ matches.count < $0 }) ?? true {
            let batch = Array(keys[position..<min(keys.count, position + 100)])
            position += batch.count
            let files = try await instances.firstFiles(of: query.level, keys: batch)
            for key in batch {
                guard let file = files[key] else { continue }
                let matched = try await blobs.withBlob(file) { path throws(TesseraError) in
                    let dicom = try DicomFile(path: path, maxReadLength: 4096)
                    let charset = DicomCharset(datasetOf: dicom)
                    return fileConstraints.allSatisfy { $0.matches(dicom.dataset.text($0.tag, charset: charset)) }
                }
                if matched { matches.append(key) }
                if let wanted, matches.count >= wanted { break }
            }
        }
        return matches.dropFirst(query.since).prefix(query.limit ?? Int.max).compactMap { key in ids[key].map { (key, $0) } }
    }
}
