/// The state of a job, with Orthanc's names (`State` in `/jobs/{id}`).
public enum JobState: String, Sendable, CaseIterable {
    case pending = "Pending"
    case running = "Running"
    case success = "Success"
    case failure = "Failure"
    case paused = "Paused"
    case retry = "Retry"

    /// Whether the job has ended (it is then kept in the history, `JobsHistorySize`).
    public var isFinished: Bool { self == .success || self == .failure }
}
