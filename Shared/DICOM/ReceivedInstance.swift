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
}
