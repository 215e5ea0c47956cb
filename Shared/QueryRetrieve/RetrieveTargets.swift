import DICOM
import Index
import Jobs
import Model

/// The instances a C-MOVE or C-GET identifier names, as Orthanc resolves it: one identifying attribute per level
/// (PatientID; AccessionNumber, else StudyInstanceUID; SeriesInstanceUID; SOPInstanceUID), each `\`-separated value
/// looked up exactly (regardless of case), every other attribute ignored.
public struct RetrieveTargets: Sendable {
    let search: ResourceSearch
    let selection: ResourceSelection
    let instances: InstanceQueries

    public init(search: ResourceSearch, selection: ResourceSelection, instances: InstanceQueries) {
        self.search = search
        self.selection = selection
        self.instances = instances
    }

    /// One instance to send.
    public struct Target: Sendable, Hashable {
        public var id: PublicID
        public var sopInstanceUID: String
        public var file: BlobID
    }

    /// What an identifier resolved to.
    public struct Resolved: Sendable {
        /// The matched resources (the job's `ParentResources`).
        public var resources: [PublicID]
        public var instances: [Target]
    }

    static let identifiers: [ResourceLevel: DicomTag] = [
        .patient: DicomTag(0x0010, 0x0020), .study: DicomTag(0x0020, 0x000D), .series: DicomTag(0x0020, 0x000E),
        .instance: DicomTag(0x0008, 0x0018),
    ]
    static let accessionNumber = DicomTag(0x0008, 0x0050)

    /// Resolves `query` for `command` (`.move` or `.get`). Throws `badRequest` with Orthanc's words for an identifier
    /// that names nothing usable.
    public func resolve(_ query: DicomQuery, for command: QueryRetrieveRequest.Command) async throws -> Resolved {
        let level: ResourceLevel
        if let text = query.levelText {
            guard let parsed = DicomQuery.level(text) else {
                throw TesseraError(.badRequest, details: "Unknown resource type: \(text)")
            }
            level = parsed
        } else if command == .move {
            // Orthanc's C-MOVE without a level: the deepest level whose identifying attribute is present.
            guard let found = ResourceLevel.allCases.reversed().first(where: { level in
                Self.identifiers[level].map { query.value($0) != nil } ?? false
            }) else {
                throw TesseraError(.badRequest, details: "Invalid fields in a C-MOVE request")
            }
            level = found
        } else {
            throw TesseraError(.badRequest, details: "C-GET request without the tag 0008,0052 (QueryRetrieveLevel)")
        }
        var tag = Self.identifiers[level] ?? DicomTag(0x0008, 0x0018)
        if level == .study, let accession = query.value(Self.accessionNumber), command == .get || !accession.isEmpty {
            tag = Self.accessionNumber
        }
        guard let value = query.value(tag), !value.isEmpty else {
            throw TesseraError(.badRequest, details: "No DICOM identifier provided in the request (\(tag))")
        }
        var resources: [PublicID] = []
        for token in value.split(separator: "\\").map(String.init) where !token.isEmpty {
            var builder = FindQueryBuilder(level: level)
            // UIDs hold no letters: compared as they are, their B-tree index serves; IDs regardless of case.
            let isUID = tag != Self.identifiers[.patient] && tag != Self.accessionNumber
            builder.add(TagConstraint(tag: tag, kind: .equal(token), caseSensitive: isUID), vr: "LO")
            let found = try await search.matches(builder.query, fileConstraints: builder.fileConstraints)
            if command == .get && found.isEmpty {
                throw TesseraError(.unknownResource, details: "C-GET request matching no resource: \(token)")
            }
            resources.append(contentsOf: found.map(\.id).filter { !resources.contains($0) })
        }
        guard !resources.isEmpty else {
            throw TesseraError(.unknownResource, details: "C-\(command == .move ? "MOVE" : "GET") request matching no resource stored in Orthanc")
        }
        let ids = level == .instance ? resources : try await selection.instances(below: resources)
        var targets: [Target] = []
        targets.reserveCapacity(ids.count)
        var start = 0
        while start < ids.count {
            let batch = Array(ids[start..<min(ids.count, start + 500)])
            start += batch.count
            let records = try await instances.records(ids: batch)
            for id in batch {
                guard let record = records[id] else { continue }  // deleted meanwhile
                targets.append(Target(id: id, sopInstanceUID: record.mainTags["SOPInstanceUID"] ?? "", file: record.fileUUID))
            }
        }
        return Resolved(resources: resources, instances: targets)
    }
}
