/// What a transcoding may do to the SOP Instance UID: lossy targets make a new instance (DCMTK's encoders give it a new
/// UID and record the original in SourceImageSequence).
public enum TranscodingUIDPolicy: Sendable {
    /// Lossless targets only (a lossy one fails): the UID stays.
    case keep
    /// Lossy targets allowed, with the encoder's new UID (ingest, archives, peers, `/instances/{id}/modify`).
    case allowNew
    /// Lossy targets allowed, the original UID put back afterwards (modification jobs, whose UIDs are their own).
    case restore
}
