import Foundation

/// An instance whose file is durable in the blob store, with what the index records of it.
public struct StoredInstance: Sendable, Hashable, Codable {
    public var summary: InstanceSummary
    /// The blob in the shared store (Orthanc's `FileUuid`), its size in bytes, and the MD5 of its bytes (nil in
    /// events of version 1, which did not carry it).
    public var fileUUID: BlobID
    public var fileSize: Int
    public var fileMD5: String?
    /// Orthanc's `Origin` metadata: `DicomProtocol`, `RestApi`, ... (``reconciledOrigin`` when read from the file by
    /// the reconciler, whose event never arrived).
    public var origin: String

    /// The origin of an instance indexed from its file alone (Orthanc's `Unknown`): its event, if it ever arrives,
    /// fills in where it came from.
    public static let reconciledOrigin = "Unknown"
    public var remoteAET: String?
    public var calledAET: String?
    public var remoteIP: String?
    /// When the instance was received.
    public var receptionDate: Date
    /// The REST user who uploaded it (Orthanc's `HttpUsername`).
    public var httpUsername: String?
    /// Replace an instance already indexed under the same ID (Orthanc's `OverwriteInstances`).
    public var overwrite: Bool
    /// The datashare of the edge receiver it came through: its label (on the instance and its ancestors) and its
    /// `Datashare` metadata.
    public var datashare: String?
    /// The original resources, for an instance made by a modification (`ModifiedFrom` metadata on each new resource).
    public var modifiedFrom: ModificationOrigin?

    public init(summary: InstanceSummary, fileUUID: BlobID, fileSize: Int, fileMD5: String?, origin: String, remoteAET: String?,
                calledAET: String?, remoteIP: String?, receptionDate: Date, httpUsername: String? = nil, overwrite: Bool = false,
                datashare: String? = nil, modifiedFrom: ModificationOrigin? = nil) {
        self.summary = summary
        self.fileUUID = fileUUID
        self.fileSize = fileSize
        self.fileMD5 = fileMD5
        self.origin = origin
        self.remoteAET = remoteAET
        self.calledAET = calledAET
        self.remoteIP = remoteIP
        self.receptionDate = receptionDate
        self.httpUsername = httpUsername
        self.overwrite = overwrite
        self.datashare = datashare
        self.modifiedFrom = modifiedFrom
    }

    private enum CodingKeys: String, CodingKey {
        case summary, fileUUID, fileSize, fileMD5, origin, remoteAET, calledAET, remoteIP, receptionDate, httpUsername, overwrite
        case datashare, modifiedFrom
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        summary = try container.decode(InstanceSummary.self, forKey: .summary)
        fileUUID = try container.decode(BlobID.self, forKey: .fileUUID)
        fileSize = try container.decode(Int.self, forKey: .fileSize)
        fileMD5 = try container.decodeIfPresent(String.self, forKey: .fileMD5)
        origin = try container.decode(String.self, forKey: .origin)
        remoteAET = try container.decodeIfPresent(String.self, forKey: .remoteAET)
        calledAET = try container.decodeIfPresent(String.self, forKey: .calledAET)
        remoteIP = try container.decodeIfPresent(String.self, forKey: .remoteIP)
        receptionDate = try container.decode(Date.self, forKey: .receptionDate)
        httpUsername = try container.decodeIfPresent(String.self, forKey: .httpUsername)
        overwrite = try container.decodeIfPresent(Bool.self, forKey: .overwrite) ?? false
        datashare = try container.decodeIfPresent(String.self, forKey: .datashare)
        modifiedFrom = try container.decodeIfPresent(ModificationOrigin.self, forKey: .modifiedFrom)
    }
}
