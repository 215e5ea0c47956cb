/// Counts and sizes below a resource, or in the whole index (`/statistics`).
public struct ResourceStatistics: Sendable, Hashable {
    public var patients: Int
    public var studies: Int
    public var series: Int
    public var instances: Int
    /// Bytes of the stored DICOM files (Tessera stores them uncompressed, so disk and uncompressed sizes are equal).
    public var diskSize: Int64
}
