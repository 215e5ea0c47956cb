import Model

/// How the C-STORE / C-ECHO SCP listens and negotiates.
public struct StoreSCPOptions: Sendable {
    public var port: Int
    public var aeTitle: String
    /// Concurrent associations; more are rejected (one DCMTK thread each).
    public var maximumAssociations: Int
    /// Transfer syntax UIDs accepted for every storage SOP class, in order of preference (Orthanc's list by default).
    public var transferSyntaxes: [String]
    /// Refuse associations whose called AE title is not `aeTitle` (Orthanc's `DicomCheckCalledAet`).
    public var checkCalledAET: Bool
    /// Seconds to wait for association messages and DIMSE messages before giving up on a silent peer.
    public var timeoutSeconds: Int
    public var maximumPDULength: Int

    public init(port: Int, aeTitle: String, maximumAssociations: Int,
                transferSyntaxes: [String] = TransferSyntaxPolicy().accepted, checkCalledAET: Bool = false,
                timeoutSeconds: Int = 30, maximumPDULength: Int = 16_384) {
        self.port = port
        self.aeTitle = aeTitle
        self.maximumAssociations = maximumAssociations
        self.transferSyntaxes = transferSyntaxes
        self.checkCalledAET = checkCalledAET
        self.timeoutSeconds = timeoutSeconds
        self.maximumPDULength = maximumPDULength
    }
}
