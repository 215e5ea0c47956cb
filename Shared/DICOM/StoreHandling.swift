/// What the C-STORE SCP's handler makes of a received instance, on the DCMTK thread that received it.
public enum StoreHandling: Sendable {
    /// The answer is known at once (a file that is not a usable instance, a full disk, ...).
    case answer(DimseStatus)
    /// The rest runs on Swift's concurrency (publishing the event); its status is the answer.
    case then(@Sendable () async -> DimseStatus)
}
