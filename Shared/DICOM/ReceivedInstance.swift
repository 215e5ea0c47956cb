import Model

/// One instance received by the C-STORE SCP, as a Part-10 file, with where it came from.
public struct ReceivedInstance: Sendable {
    /// The instance as a Part-10 file (meta header built for the transfer syntax it was received in).
    public var bytes: [UInt8]
    public var callingAET: String
    public var calledAET: String
    public var peerIP: String
    /// Affected SOP Class / Instance UID of the C-STORE request.
    public var sopClassUID: String
    public var sopInstanceUID: String
    /// What the index needs, read from the dataset DCMTK decoded while receiving (no second parse), or why the
    /// dataset is not a usable instance.
    public var summary: Result<InstanceSummary, TesseraError>
}
