import Logging
import Model

/// Where an instance came from, recorded as Orthanc's metadata (`Origin`, `RemoteAET`, `CalledAET`, `RemoteIP`).
public struct IngestSource: Sendable, Hashable {
    /// `DicomProtocol`, `RestApi`, ...
    public var origin: String
    public var remoteAET: String?
    public var calledAET: String?
    public var remoteIP: String?
    /// The authenticated REST user, for uploads.
    public var httpUsername: String?
    /// The edge receiver's datashare the instance came through.
    public var datashare: String?
    /// The original resources of an instance made by a modification.
    public var modifiedFrom: ModificationOrigin?
    /// Whether `IngestTranscoding` leaves the instance as it is (a modification that re-encoded it itself, as Orthanc
    /// 1.11.3 gives a job's `Transcode` precedence).
    public var skipsIngestTranscoding = false
    /// The DICOM association it came on (its number in the receiving process), for log lines.
    public var association: UInt64?

    /// What log lines about this instance's reception carry (never patient data).
    public var logMetadata: Logger.Metadata {
        var metadata: Logger.Metadata = ["origin": "\(origin)"]
        if let remoteAET { metadata["remoteAET"] = "\(remoteAET)" }
        if let association { metadata["association"] = "\(association)" }
        return metadata
    }

    public init(origin: String, remoteAET: String? = nil, calledAET: String? = nil, remoteIP: String? = nil,
                httpUsername: String? = nil, datashare: String? = nil, modifiedFrom: ModificationOrigin? = nil) {
        self.origin = origin
        self.remoteAET = remoteAET
        self.calledAET = calledAET
        self.remoteIP = remoteIP
        self.httpUsername = httpUsername
        self.datashare = datashare
        self.modifiedFrom = modifiedFrom
    }
}
