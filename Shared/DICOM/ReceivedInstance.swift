import CDICOM
import Model

/// One instance received by the C-STORE SCP: a Part-10 file written to an incoming file on the blob store exactly as
/// it arrived on the wire (DCMTK's meta header, then the dataset's bytes, bit for bit), with where it came from.
public struct ReceivedInstance: Sendable {
    /// The incoming file. The handler owns it: it must adopt it as a blob or remove it.
    public var path: String
    public var callingAET: String
    public var calledAET: String
    public var peerIP: String
    /// Affected SOP Class / Instance UID of the C-STORE request.
    public var sopClassUID: String
    public var sopInstanceUID: String
    /// The association's number in this process (log lines carry it); 0 on an association we opened (C-GET).
    public var associationID: UInt64 = 0
    /// The MD5 of the incoming file (lower-case hexadecimal), computed as it was written; nil when unknown.
    public var md5: String?
}

extension ReceivedInstance {
    /// The shim's description of a received instance; nil when it names no file.
    init?(_ raw: UnsafePointer<cdicom_received_instance>?) {
        guard let raw, let path = raw.pointee.path else { return nil }
        func string(_ pointer: UnsafePointer<CChar>?) -> String { pointer.map { String(cString: $0) } ?? "" }
        self.init(path: String(cString: path), callingAET: string(raw.pointee.calling_aet),
                  calledAET: string(raw.pointee.called_aet), peerIP: string(raw.pointee.peer_ip),
                  sopClassUID: string(raw.pointee.sop_class_uid), sopInstanceUID: string(raw.pointee.sop_instance_uid),
                  associationID: raw.pointee.association_id, md5: raw.pointee.md5.map { String(cString: $0) })
    }
}
