import Index
import Model

/// Runs the jobs of one type. A handler resumes a job from `job.cursor`, records each completed step through the
/// context (which also tells it to stop), and returns when the job is done or stopped. A thrown error fails the job
/// with that error (Orthanc's ErrorCode, ErrorDescription and ErrorDetails).
public protocol JobHandler: Sendable {
    /// Orthanc's job `Type` this handler runs.
    var type: String { get }

    func run(_ job: JobRecord, context: JobContext) async throws -> JobResult
}

/// How a run ended.
public enum JobResult: Sendable {
    /// Done: the job succeeds with this public content.
    case success(JSONValue)
    /// Stopped before the end, for this reason (pause, cancel, lost lease, or `.proceed` for a worker shutting down).
    case stopped(JobStore.StepAnswer)
}
