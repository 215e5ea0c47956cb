import Model

/// A stored attachment of a resource (Orthanc's `FileInfo`).
public struct AttachmentRecord: Sendable, Hashable {
    public var contentType: Int
    public var uuid: BlobID
    public var uncompressedSize: Int64
    public var uncompressedMD5: String
    public var compressedSize: Int64
    public var compressedMD5: String
    public var isCompressed: Bool

    public init(contentType: Int, uuid: BlobID, uncompressedSize: Int64, uncompressedMD5: String, compressedSize: Int64,
                compressedMD5: String, isCompressed: Bool) {
        self.contentType = contentType
        self.uuid = uuid
        self.uncompressedSize = uncompressedSize
        self.uncompressedMD5 = uncompressedMD5
        self.compressedSize = compressedSize
        self.compressedMD5 = compressedMD5
        self.isCompressed = isCompressed
    }
}
