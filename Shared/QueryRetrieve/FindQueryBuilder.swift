import Index
import Model

/// Turns constraints on DICOM tags into a ``FindQuery`` as Orthanc's `DatabaseLookup` does, for `/tools/find` and
/// C-FIND alike: a main tag of the query level or an ancestor is matched in the index; `ModalitiesInStudy` at study
/// level matches the series' modalities; a sequence, a child level's main tag or a computed tag at another level
/// match nothing; any other tag is checked against the files (``fileConstraints``).
public struct FindQueryBuilder: Sendable {
    public private(set) var query: FindQuery
    /// Constraints on tags the index does not hold, checked against one instance file of each candidate.
    public private(set) var fileConstraints: [TagConstraint] = []

    public init(level: ResourceLevel) {
        query = FindQuery(level: level)
    }

    /// `ModalitiesInStudy` (0008,0061).
    public static let modalitiesInStudy = DicomTag(0x0008, 0x0061)

    /// Adds the constraint on a tag of value representation `vr`.
    public mutating func add(_ constraint: TagConstraint, vr: String) {
        let level = query.level
        if vr == "SQ" {
            query.matchesNothing = true  // Orthanc answers nothing
        } else if constraint.tag == Self.modalitiesInStudy {
            // Computed at Study level from the series' modalities; nothing has it at other levels.
            if level == .study {
                query.constraints.append(.init(level: .series, name: "Modality", constraint: constraint))
            } else {
                query.matchesNothing = true
            }
        } else if let (owner, mainName) = Self.mainTag(constraint.tag, upTo: level) {
            query.constraints.append(.init(level: owner, name: mainName, constraint: constraint))
        } else if Self.isMainTagBelow(constraint.tag, level) {
            query.matchesNothing = true  // a child level's main tag never matches at this level (Orthanc 1.10)
        } else {
            fileConstraints.append(constraint)
        }
    }

    /// Sets the page (`since` rows skipped, at most `limit`).
    public mutating func page(since: Int, limit: Int?) {
        query.since = since
        query.limit = limit
    }

    /// Restricts the answer to labels.
    public mutating func labels(_ labels: [String], _ constraint: FindQuery.LabelsConstraint) {
        query.labels = labels
        query.labelsConstraint = constraint
    }

    /// The deepest level at or above `level` whose main tags hold `tag`, with Orthanc's name for it.
    public static func mainTag(_ tag: DicomTag, upTo level: ResourceLevel) -> (ResourceLevel, String)? {
        for candidate in ResourceLevel.allCases.reversed() where candidate.depth <= level.depth {
            if let main = MainDicomTag.forLevel(candidate).first(where: { $0.tag == tag }) {
                return (candidate, main.name)
            }
        }
        return nil
    }

    static func isMainTagBelow(_ tag: DicomTag, _ level: ResourceLevel) -> Bool {
        ResourceLevel.allCases.contains { $0.depth > level.depth && MainDicomTag.forLevel($0).contains { $0.tag == tag } }
    }
}
