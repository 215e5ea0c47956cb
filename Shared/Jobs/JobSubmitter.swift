import Index
import Model

/// Submits jobs for the REST API, and waits for those a client asked to run synchronously (Orthanc's SubmitAndWait):
/// the work itself always happens in a worker.
public struct JobSubmitter: Sendable {
    let store: JobStore

    public init(store: JobStore) {
        self.store = store
    }

    /// How often a waiting call checks that a worker is alive, and how long a worker may be silent.
    static let workerCheckInterval = Duration.seconds(3)
    static let workerSilence = Duration.seconds(20)

    /// Adds a Pending job and wakes the workers; returns its ID.
    public func submit(_ submission: JobStore.Submission) async throws -> String {
        try await store.submit(submission)
    }

    /// Waits until the job ends; returns its public content when it succeeded, throws its error otherwise (HTTP 500
    /// with the job's ErrorCode and ErrorDetails, as Orthanc answers a synchronous call whose job failed). A hidden job
    /// is removed once read.
    public func wait(_ id: String) async throws -> JSONValue {
        let job = try await watch(id) { _ in true }
        if job.hidden { try? await store.remove(id) }
        if job.state == .success { return job.content }
        throw TesseraError(OrthancErrorCode(code: job.errorCode, description: job.errorDescription, httpStatus: 500),
                           details: job.errorDetails)
    }

    /// Follows a job until it ends and returns its last record; `progress` sees the record at each check (at most every
    /// `interval`) and returns false to cancel the job (the watch goes on until the job has stopped). Throws when the job
    /// was removed, or when no worker can take it (it is canceled then).
    public func watch(_ id: String, interval: Duration = .milliseconds(200),
                      progress: (JobRecord) async -> Bool) async throws -> JobRecord {
        var pause = Duration.milliseconds(5)
        var checked = ContinuousClock.now
        var canceled = false
        while true {
            guard let job = try await store.job(id) else {
                throw TesseraError(.inexistentItem, details: "Job \(id) was removed before it finished (see JobsHistorySize)")
            }
            if job.state.isFinished { return job }
            if !canceled, await !progress(job) {
                canceled = true
                _ = try await store.cancel(id)
            }
            // A job no worker can take: cancel it and say so, rather than wait for ever.
            if job.state == .pending, ContinuousClock.now - checked > Self.workerCheckInterval {
                checked = ContinuousClock.now
                if try await !store.hasLiveWorker(within: Self.workerSilence) {
                    _ = try await store.cancel(id)
                    if job.hidden { try? await store.remove(id) }
                    throw TesseraError(.noJobWorker, details: "Job \(id) was canceled: no tessera-worker has been alive for \(Self.workerSilence)")
                }
            }
            try await Task.sleep(for: pause)
            pause = min(pause * 2, interval)
        }
    }
}

extension JobSubmitter {
    /// Removes a finished job (a hidden one its caller has read).
    public func remove(_ id: String) async throws {
        try await store.remove(id)
    }
}
