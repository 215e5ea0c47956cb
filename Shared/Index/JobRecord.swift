import Foundation
import Model
import PostgresNIO

/// A row of the jobs registry.
public struct JobRecord: Sendable {
    public var id: String
    /// Orthanc's `Type` (`DicomModalityStore`, ...).
    public var type: String
    public var priority: Int
    public var state: JobState
    /// A job Orthanc would not list (an outbound call it makes without a job, e.g. C-ECHO).
    public var hidden: Bool
    /// What to do: set at submission, never changed.
    public var request: JSONValue
    /// Where the job got to (type-specific), written after each completed step.
    public var cursor: JSONValue
    /// Orthanc's public `Content`.
    public var content: JSONValue
    /// 0 to 100.
    public var progress: Int
    public var errorCode: Int
    public var errorDescription: String
    public var errorDetails: String?
    public var userData: JSONValue?
    /// `pause` or `cancel`, asked while the job runs.
    public var control: String?
    public var createdAt: Date
    public var completedAt: Date?
    public var updatedAt: Date
    /// Time spent running in earlier runs, in milliseconds.
    public var runtimeMilliseconds: Int64
    /// When the current run started (nil when not running).
    public var runStarted: Date?

    /// `EffectiveRuntime` in seconds, counting the current run up to `now`.
    public func effectiveRuntime(now: Date = Date()) -> Double {
        let current = runStarted.map { max(0, now.timeIntervalSince($0)) } ?? 0
        return Double(runtimeMilliseconds) / 1000 + current
    }

    static let columns = """
        id, job_type, priority, state, hidden, request::text, cursor::text, content::text, progress, error_code,
        error_description, error_details, user_data::text, control, created_at, completed_at, updated_at, runtime_ms,
        run_started
        """

    init(row: PostgresRow) throws {
        let (id, type, priority, state, hidden, request, cursor, content, progress, errorCode, errorDescription,
             errorDetails, userData, control, createdAt, completedAt, updatedAt, runtime, runStarted) = try row.decode(
            (String, String, Int32, String, Bool, String, String, String, Int32, Int32, String, String?, String?, String?,
             Date, Date?, Date, Int64, Date?).self)
        self.id = id
        self.type = type
        self.priority = Int(priority)
        self.state = JobState(rawValue: state) ?? .failure
        self.hidden = hidden
        self.request = (try? JSONValue.parse(text: request)) ?? .null
        self.cursor = (try? JSONValue.parse(text: cursor)) ?? .object([:])
        self.content = (try? JSONValue.parse(text: content)) ?? .object([:])
        self.progress = Int(progress)
        self.errorCode = Int(errorCode)
        self.errorDescription = errorDescription
        self.errorDetails = errorDetails
        self.userData = userData.flatMap { try? JSONValue.parse(text: $0) }
        self.control = control
        self.createdAt = createdAt
        self.completedAt = completedAt
        self.updatedAt = updatedAt
        self.runtimeMilliseconds = runtime
        self.runStarted = runStarted
    }
}
