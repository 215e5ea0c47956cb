import Model

/// The outcome of indexing one stored instance.
public struct IndexedInstance: Sendable, Hashable {
    public var publicID: PublicID
    /// False when the instance was already indexed (a replayed event, or the same instance sent again).
    public var isNew: Bool
    /// A blob that no row points to after this write: the new copy of an instance already indexed (the first kept,
    /// as Orthanc does with `OverwriteInstances: false`), or the replaced copy when overwriting. Safe to remove.
    public var orphanedBlob: String?
}
