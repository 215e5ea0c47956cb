import Foundation

/// An instance whose file is durable in the blob store, with what the index records of it.
public struct StoredInstance: Sendable, Hashable, Codable {
    public var summary: InstanceSummary
    /// The blob in the shared store (Orthanc's `FileUuid`) and its size in bytes.
    public var fileUUID: String
    public var fileSize: Int
    /// Orthanc's `Origin` metadata: `DicomProtocol`, `RestApi`, ...
    public var origin: String
    public var remoteAET: String?
    public var calledAET: String?
    public var remoteIP: String?
    /// When the instance was received.
    public var receptionDate: Date

    public init(summary: InstanceSummary, fileUUID: String, fileSize: Int, origin: String, remoteAET: String?,
                calledAET: String?, remoteIP: String?, receptionDate: Date) {
        self.summary = summary
        self.fileUUID = fileUUID
        self.fileSize = fileSize
        self.origin = origin
        self.remoteAET = remoteAET
        self.calledAET = calledAET
        self.remoteIP = remoteIP
        self.receptionDate = receptionDate
    }
}
