import Model

/// The options of the query/retrieve SCP, from the configuration.
public struct QueryRetrieveSettings: Sendable {
    /// Our AE title: RetrieveAETitle of C-FIND answers, the calling AE title of C-MOVE sub-operations by default.
    public var aeTitle: String
    /// `CaseSensitivePN`: person names compared case-sensitively (other values always are).
    public var caseSensitivePN: Bool
    /// `LimitFindResults` and `LimitFindInstances` (0: unlimited).
    public var limitFindResults: Int
    public var limitFindInstances: Int
    /// `SynchronousCMove`.
    public var synchronousMove: Bool
    /// `DicomScuTimeout`: sub-operation associations to a modality without a `Timeout` of its own.
    public var scuTimeoutSeconds: Int
    /// Who may do what.
    public var access: DicomAccessRules

    public init(aeTitle: String, caseSensitivePN: Bool = false, limitFindResults: Int = 0, limitFindInstances: Int = 0,
                synchronousMove: Bool = true, scuTimeoutSeconds: Int = 10,
                access: DicomAccessRules = DicomAccessRules()) {
        self.aeTitle = aeTitle
        self.caseSensitivePN = caseSensitivePN
        self.limitFindResults = limitFindResults
        self.limitFindInstances = limitFindInstances
        self.synchronousMove = synchronousMove
        self.scuTimeoutSeconds = scuTimeoutSeconds
        self.access = access
    }

    public init(configuration: TesseraConfiguration) {
        self.init(aeTitle: configuration.dicomAet, caseSensitivePN: configuration.caseSensitivePN,
                  limitFindResults: configuration.limitFindResults, limitFindInstances: configuration.limitFindInstances,
                  synchronousMove: configuration.synchronousCMove, scuTimeoutSeconds: configuration.dicomScuTimeout,
                  access: configuration.dicomAccess)
    }
}
