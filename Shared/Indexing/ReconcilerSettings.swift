import Model

/// How the ``BlobReconciler`` runs (the `Reconciler` section of the configuration, Tessera's own).
public struct ReconcilerSettings: Sendable, Hashable {
    /// Pause between passes.
    public var interval: Duration
    /// Age a blob (or an incoming file) must reach before a pass touches it: longer than any store takes between
    /// writing a blob and the index learning of it.
    public var grace: Duration
    /// How often a pass opens every folder rather than those changed since the previous pass.
    public var fullScanInterval: Duration
    /// How long tombstones of deleted instances are kept: at least as long as the broker retains events.
    public var tombstoneRetention: Duration
    /// Orthanc's `OverwriteInstances`, for the instances the reconciler indexes.
    public var overwriteInstances: Bool

    public init(interval: Duration = .seconds(60), grace: Duration = .seconds(600), fullScanInterval: Duration = .seconds(86_400),
                tombstoneRetention: Duration = .seconds(7 * 86_400), overwriteInstances: Bool = false) {
        self.interval = interval
        self.grace = grace
        self.fullScanInterval = fullScanInterval
        self.tombstoneRetention = tombstoneRetention
        self.overwriteInstances = overwriteInstances
    }

    /// The settings of a configuration.
    public init(_ configuration: TesseraConfiguration) {
        self.init(interval: .seconds(configuration.reconciler.intervalSeconds),
                  grace: .seconds(configuration.reconciler.gracePeriodSeconds),
                  fullScanInterval: .seconds(configuration.reconciler.fullScanIntervalSeconds),
                  tombstoneRetention: .seconds(configuration.reconciler.tombstoneRetentionSeconds),
                  overwriteInstances: configuration.overwriteInstances)
    }
}
