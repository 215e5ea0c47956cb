/// A stored blob: its identifier in the store (Orthanc's `FileUuid`) and its size in bytes.
public struct BlobReference: Sendable, Hashable, Codable {
    public var uuid: String
    public var size: Int

    public init(uuid: String, size: Int) {
        self.uuid = uuid
        self.size = size
    }
}
