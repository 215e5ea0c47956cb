/// The edge receiver's configuration: `DatashareMode` (the called or calling AE title selects a datashare, and an
/// association that selects none is aborted), the `Datashares` declared in the file, and `DatashareDiskBudget`, the
/// default most MB one datashare may hold.
public struct DatashareSettings: Sendable, Hashable {
    public var enabled = false
    public var shares: [String: DatashareConfiguration] = [:]
    public var defaultDiskBudgetMB = 10_240

    public init() {}
}
