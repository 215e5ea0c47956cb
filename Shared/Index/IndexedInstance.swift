import Model

/// The outcome of indexing one stored instance.
public struct IndexedInstance: Sendable, Hashable {
    public var publicID: PublicID
    public var outcome: Outcome

    /// What the index did with one copy of an instance.
    public enum Outcome: String, Sendable, Hashable {
        /// A new instance.
        case indexed
        /// `OverwriteInstances`: this copy, ingested later, replaced the indexed one (whose blob is queued for removal).
        case replaced
        /// A replay: this very blob is the one indexed.
        case unchanged
        /// Another copy is indexed and stays (`OverwriteInstances: false`, or this copy was ingested earlier); this
        /// copy's blob is queued for removal.
        case alreadyStored
        /// The instance was deleted after this copy was ingested (a replay after a DELETE): nothing is indexed and the
        /// blob is queued for removal.
        case deleted
        /// The blob the event names is not on the storage: nothing is indexed.
        case missingBlob
    }

    public init(publicID: PublicID, outcome: Outcome) {
        self.publicID = publicID
        self.outcome = outcome
    }

    /// Whether the index now holds an instance with this ID pointing at this copy or another.
    public var isIndexed: Bool {
        switch outcome {
        case .indexed, .replaced, .unchanged, .alreadyStored: true
        case .deleted, .missingBlob: false
        }
    }
}
