/// Counts and sizes below a resource, or in the whole index (`/statistics`).
public struct ResourceStatistics: Sendable, Hashable {
    public var patients: Int
    public var studies: Int
    public var series: Int
    public var instances: Int
    /// Bytes of the stored DICOM files (Tessera stores them uncompressed, so disk and uncompressed sizes are equal).
    public var diskSize: Int64
    /// Bytes of the user attachments as stored and uncompressed (counted in `/statistics`, as Orthanc counts every
    /// attachment there).
    public var attachmentsSize: Int64 = 0
    public var attachmentsUncompressedSize: Int64 = 0
}
