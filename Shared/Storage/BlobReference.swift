import Model

/// A stored blob: its ID in the store (Orthanc's `FileUuid`), its size in bytes and the MD5 of its bytes.
public struct BlobReference: Sendable, Hashable {
    public var id: BlobID
    public var size: Int
    /// Lower-case hex MD5 of the bytes, as Orthanc stores it for attachments.
    public var md5: String

    public init(id: BlobID, size: Int, md5: String) {
        self.id = id
        self.size = size
        self.md5 = md5
    }
}
