import Foundation
import Model

/// An indexed instance as the REST API shows it.
public struct InstanceRecord: Sendable, Hashable {
    /// The row key (index order).
    public var key: Int64
    public var publicID: PublicID
    public var parentSeries: PublicID
    public var mainTags: [String: String]
    public var fileUUID: BlobID
    public var fileSize: Int64
    /// The MD5 of the file stored at ingest (nil for instances indexed before Tessera stored it).
    public var fileMD5: String?
    public var indexInSeries: Int?
    public var sopClassUID: String?
    public var transferSyntaxUID: String?
    public var origin: String
    public var remoteAET: String?
    public var calledAET: String?
    public var remoteIP: String?
    public var receptionDate: Date
    public var httpUsername: String?
    /// Labels, sorted.
    public var labels: [String] = []
}
