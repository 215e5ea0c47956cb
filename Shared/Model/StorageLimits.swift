/// Orthanc's limits on what the storage holds: `MaximumPatientCount`, `MaximumStorageSize` (MB, every attachment's
/// stored size counted, as `/statistics`' `TotalDiskSize`) and `MaximumStorageMode`. 0 is no limit.
public struct StorageLimits: Sendable, Hashable {
    /// What happens when a new instance would pass a limit.
    public enum Mode: String, Sendable, Hashable {
        /// The least recently stored unprotected patients are deleted to make room (Orthanc's default).
        case recycle = "Recycle"
        /// The new instance is refused (HTTP 507, C-STORE 0xA700) and nothing is deleted.
        case reject = "Reject"
    }

    public var maximumPatientCount: Int
    /// In bytes (the configuration gives megabytes of 1,048,576 bytes).
    public var maximumStorageSize: Int64
    public var mode: Mode

    public init(maximumPatientCount: Int = 0, maximumStorageSize: Int64 = 0, mode: Mode = .recycle) {
        self.maximumPatientCount = maximumPatientCount
        self.maximumStorageSize = maximumStorageSize
        self.mode = mode
    }

    /// Whether any limit is set.
    public var isLimited: Bool { maximumPatientCount > 0 || maximumStorageSize > 0 }
}
