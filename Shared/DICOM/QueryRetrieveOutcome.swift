/// The final response of a C-FIND, C-MOVE or C-GET.
public struct QueryRetrieveOutcome: Sendable, Equatable {
    public var status: DimseStatus
    /// Sub-operations (C-MOVE, C-GET); `remaining` is sent only with the Cancel status.
    public var remaining: Int
    public var completed: Int
    public var failed: Int
    public var warning: Int
    /// SOP Instance UIDs whose sub-operation failed (FailedSOPInstanceUIDList).
    public var failedUIDs: [String]
    /// Said in ErrorComment with a failure status.
    public var errorComment: String?

    public init(status: DimseStatus, remaining: Int = 0, completed: Int = 0, failed: Int = 0, warning: Int = 0,
                failedUIDs: [String] = [], errorComment: String? = nil) {
        self.status = status
        self.remaining = remaining
        self.completed = completed
        self.failed = failed
        self.warning = warning
        self.failedUIDs = failedUIDs
        self.errorComment = errorComment
    }

    /// A failure with its comment.
    public static func failure(_ status: DimseStatus, _ comment: String) -> QueryRetrieveOutcome {
        QueryRetrieveOutcome(status: status, errorComment: comment)
    }
}

extension DimseStatus {
    /// Pending (0xFF00).
    public static let pending = DimseStatus(rawValue: 0xFF00)
    /// Cancel (0xFE00): the requester sent C-CANCEL.
    public static let cancel = DimseStatus(rawValue: 0xFE00)
    /// C-FIND "Refused: Out of Resources" (0xA700).
    public static let findOutOfResources = DimseStatus(rawValue: 0xA700)
    /// C-MOVE, C-GET "Refused: Out of Resources – Unable to calculate number of matches" (0xA701).
    public static let retrieveCannotCount = DimseStatus(rawValue: 0xA701)
    /// C-MOVE, C-GET "Refused: Out of Resources – Unable to perform sub-operations" (0xA702).
    public static let retrieveCannotPerform = DimseStatus(rawValue: 0xA702)
    /// C-MOVE "Refused: Move Destination unknown" (0xA801).
    public static let moveDestinationUnknown = DimseStatus(rawValue: 0xA801)
    /// "Error: Identifier does not match SOP Class" (0xA900).
    public static let identifierDoesNotMatch = DimseStatus(rawValue: 0xA900)
    /// "Failed: Unable to process" (0xC000).
    public static let unableToProcess = DimseStatus(rawValue: 0xC000)
    /// "Refused: SOP class not supported" (0x0122).
    public static let sopClassNotSupported = DimseStatus(rawValue: 0x0122)
    /// "Refused: Not authorized" (0x0124).
    public static let notAuthorized = DimseStatus(rawValue: 0x0124)
    /// C-MOVE, C-GET "Warning: Sub-operations complete – one or more failures" (0xB000).
    public static let subOperationsFailed = DimseStatus(rawValue: 0xB000)
}
