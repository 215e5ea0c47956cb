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
    /// 0 when attached, +1 on each replacement (Orthanc's revision; the `dicom` attachment is always 0).
    public var revision: Int64

    public init(contentType: Int, uuid: BlobID, uncompressedSize: Int64, uncompressedMD5: String, compressedSize: Int64,
                compressedMD5: String, isCompressed: Bool, revision: Int64 = 0) {
        self.contentType = contentType
        self.uuid = uuid
        self.uncompressedSize = uncompressedSize
        self.uncompressedMD5 = uncompressedMD5
        self.compressedSize = compressedSize
        self.compressedMD5 = compressedMD5
        self.isCompressed = isCompressed
        self.revision = revision
    }

    /// Orthanc's ETag of the attachment: its revision and the MD5 of its uncompressed content.
    public var entityTag: EntityTag { EntityTag(revision: revision, md5: uncompressedMD5) }
}
