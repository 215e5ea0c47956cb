import Model

/// What `/tools/find` asks the index: constraints on main DICOM tags of the query level and its ancestors,
/// labels, and the page. Constraints on other tags are the caller's to check (they need the files).
public struct FindQuery: Sendable {
    /// A constraint on a main tag recorded at `level` under Orthanc's `name`. A `level` one below the query's
    /// (series `Modality` for a study's `ModalitiesInStudy`) holds when any child matches.
    public struct Constraint: Sendable, Hashable {
        public let level: ResourceLevel
        public let name: String
        public let constraint: TagConstraint
        /// The JSONB column of `level`'s table holding the tag.
        let column: String

        public init(level: ResourceLevel, name: String, constraint: TagConstraint) {
            self.init(level: level, name: name, constraint: constraint, column: "main_tags")
        }

        init(level: ResourceLevel, name: String, constraint: TagConstraint, column: String) {
            self.level = level
            self.name = name
            self.constraint = constraint
            self.column = column
        }
    }

    /// How `labels` restrict the answer (Orthanc's `LabelsConstraint`).
    public enum LabelsConstraint: String, Sendable {
        case all = "All", any = "Any", none = "None"
    }

    public var level: ResourceLevel
    public var constraints: [Constraint]
    public var labels: [String]
    public var labelsConstraint: LabelsConstraint
    /// Rows skipped and the maximum returned, in index order (`nil`: all).
    public var since: Int
    public var limit: Int?
    /// Set when a constraint can never hold at this level (a sequence, a child level's tag): the answer is empty.
    public var matchesNothing = false

    public init(level: ResourceLevel, constraints: [Constraint] = [], labels: [String] = [],
                labelsConstraint: LabelsConstraint = .all, since: Int = 0, limit: Int? = nil) {
        self.level = level
        self.constraints = constraints
        self.labels = labels
        self.labelsConstraint = labelsConstraint
        self.since = since
        self.limit = limit
    }
}
