import Model

/// How the C-STORE / C-ECHO SCP listens and negotiates.
public struct StoreSCPOptions: Sendable {
    public var port: Int
    public var aeTitle: String
    /// Concurrent associations (one DCMTK thread each); more are rejected at once (A-ASSOCIATE-RJ, local limit).
    public var maximumAssociations: Int
    /// Transfer syntax UIDs accepted for every storage SOP class, in order of preference (Orthanc's list by default).
    public var transferSyntaxes: [String]
    /// Refuse associations whose called AE title is not `aeTitle` (Orthanc's `DicomCheckCalledAet`).
    public var checkCalledAET: Bool
    /// Seconds to wait for the association request (ARTIM) and for each DIMSE message or PDU before giving up on a
    /// silent peer (Orthanc's `DicomScpTimeout`).
    public var timeoutSeconds: Int
    /// Seconds one C-STORE's dataset may take to arrive in all, so that a peer trickling bytes cannot hold an
    /// association slot forever (0: no limit).
    public var operationTimeoutSeconds: Int
    public var maximumPDULength: Int
    /// Seconds a received instance may wait for its answer (parsing, the blob, the broker's acknowledgement) before
    /// the modality is told "out of resources" (it may send again; nothing of a late success is lost).
    public var answerTimeoutSeconds: Int
    /// Where received datasets are written (the blob store's incoming folder, on the same file system as the blobs).
    public var incomingFolder: String

    public init(port: Int, aeTitle: String, maximumAssociations: Int, incomingFolder: String,
                transferSyntaxes: [String] = TransferSyntaxPolicy().accepted, checkCalledAET: Bool = false,
                timeoutSeconds: Int = 30, operationTimeoutSeconds: Int = 600, maximumPDULength: Int = 16_384,
                answerTimeoutSeconds: Int = 300) {
        self.port = port
        self.aeTitle = aeTitle
        self.maximumAssociations = maximumAssociations
        self.incomingFolder = incomingFolder
        self.transferSyntaxes = transferSyntaxes
        self.checkCalledAET = checkCalledAET
        self.timeoutSeconds = timeoutSeconds
        self.operationTimeoutSeconds = operationTimeoutSeconds
        self.maximumPDULength = maximumPDULength
        self.answerTimeoutSeconds = answerTimeoutSeconds
    }
}
