import Model

/// A C-FIND query made through `/modalities/{id}/query`, as `/queries/{id}` shows it.
public struct QueryRecord: Sendable {
    public var id: String
    /// The modality's symbolic name, and its configuration when the query was made (for retrieves).
    public var modality: String
    public var remote: JSONValue
    public var localAet: String
    public var timeoutSeconds: Int
    /// `Patient`, `Study`, `Series` or `Instance`.
    public var level: String
    /// The query as sent: `gggg,eeee` → value.
    public var query: [String: String]
    public var answerCount: Int

    public init(id: String, modality: String, remote: JSONValue, localAet: String, timeoutSeconds: Int, level: String,
                query: [String: String], answerCount: Int = 0) {
        self.id = id
        self.modality = modality
        self.remote = remote
        self.localAet = localAet
        self.timeoutSeconds = timeoutSeconds
        self.level = level
        self.query = query
        self.answerCount = answerCount
    }
}
