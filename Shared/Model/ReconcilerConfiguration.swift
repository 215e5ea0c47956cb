/// The `Reconciler` section of the configuration (Tessera's own keys) and `TESSERA_RECONCILE_INTERVAL`,
/// `TESSERA_RECONCILE_GRACE`: how the indexer reconciles the blob store with the index.
public struct ReconcilerConfiguration: Sendable, Hashable {
    /// `Interval`: seconds between passes.
    public var intervalSeconds = 60
    /// `GracePeriod`: seconds a blob must be old before an unindexed one is indexed from its file.
    public var gracePeriodSeconds = 600
    /// `FullScanInterval`: seconds between passes that open every folder.
    public var fullScanIntervalSeconds = 86_400
    /// `TombstoneRetention`: seconds the tombstones of deleted instances are kept (at least the broker's retention).
    public var tombstoneRetentionSeconds = 7 * 86_400

    public init() {}
}
