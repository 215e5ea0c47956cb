import Foundation
import Logging
import Model
import PostgresNIO

/// The jobs registry in PostgreSQL, shared by every API replica (which submit, list and control jobs) and every worker
/// replica (which claim and run them). A worker holds a running job under a lease it renews with each completed step;
/// when the lease runs out (the worker died) any worker claims the job again and resumes it from its cursor.
public struct JobStore: Sendable {
    let database: IndexDatabase
    let logger: Logger

    /// Channel notified when a job is submitted or becomes runnable again, so idle workers claim it at once.
    public static let channel = "tessera_jobs"

    public init(database: IndexDatabase) {
        self.database = database
        self.logger = database.logger
    }

    /// A job to submit.
    public struct Submission: Sendable {
        public var type: String
        public var priority: Int
        public var hidden: Bool
        public var request: JSONValue
        public var content: JSONValue
        public var userData: JSONValue?

        public init(type: String, priority: Int = 0, hidden: Bool = false, request: JSONValue, content: JSONValue,
                    userData: JSONValue? = nil) {
            self.type = type
            self.priority = priority
            self.hidden = hidden
            self.request = request
            self.content = content
            self.userData = userData
        }
    }

    /// What a worker is told when it records a step or renews its lease.
    public enum StepAnswer: Sendable, Equatable {
        /// Carry on.
        case proceed
        /// Stop here: the job was paused (it resumes from the recorded cursor).
        case pause
        /// Stop here: the job was canceled.
        case cancel
        /// The lease is gone (another worker took the job, or it was deleted): stop without writing anything.
        case lost
    }

    /// What a control request did.
    public enum ControlOutcome: Sendable, Equatable {
        case done
        case unknownJob
        /// Not possible in the job's state (Orthanc's 400).
        case refused(String)
    }

    /// Adds a Pending job; returns its ID (a random UUID, as Orthanc's).
    public func submit(_ submission: Submission) async throws -> String {
        let id = UUID().uuidString.lowercased()
        try await database.withTransaction { connection in
            try await connection.query("""
                INSERT INTO jobs (id, job_type, priority, state, hidden, request, content, user_data)
                VALUES (\(id), \(submission.type), \(Int32(clamping: submission.priority)), 'Pending', \(submission.hidden),
                        \(submission.request.compactText)::jsonb, \(submission.content.compactText)::jsonb,
                        \(submission.userData.map(\.compactText))::jsonb)
                """, logger: logger)
            try await connection.query("SELECT pg_notify(\(Self.channel), \(id))", logger: logger)
        }
        return id
    }

    /// Says that worker `owner` is alive (every few seconds), and forgets workers silent for a minute.
    public func heartbeat(owner: String, concurrency: Int) async throws {
        try await database.query("""
            INSERT INTO job_workers (owner, concurrency) VALUES (\(owner), \(Int32(clamping: concurrency)))
            ON CONFLICT (owner) DO UPDATE SET seen_at = clock_timestamp()
            """, logger: logger)
        try await database.query("DELETE FROM job_workers WHERE seen_at < clock_timestamp() - interval '1 minute'", logger: logger)
    }

    /// A worker that stops says so.
    public func retire(owner: String) async throws {
        try await database.query("DELETE FROM job_workers WHERE owner = \(owner)", logger: logger)
    }

    /// Whether any worker said it was alive within `window`.
    public func hasLiveWorker(within window: Duration) async throws -> Bool {
        let seconds = Double(window.components.seconds)
        for try await count in try await database.query("""
            SELECT COUNT(*) FROM job_workers WHERE seen_at > clock_timestamp() - \(seconds) * interval '1 second'
            """, logger: logger).decode(Int64.self) {
            return count > 0
        }
        return false
    }

    /// One job, hidden ones included.
    public func job(_ id: String) async throws -> JobRecord? {
        for row in try await database.query("SELECT \(unescaped: JobRecord.columns) FROM jobs WHERE id = \(id)", logger: logger) {
            return try JobRecord(row: row)
        }
        return nil
    }

    /// The states of those of `ids` that exist.
    public func states(of ids: [String]) async throws -> [String: JobState] {
        guard !ids.isEmpty else { return [:] }
        var states: [String: JobState] = [:]
        for try await (id, state) in try await database.query(
            "SELECT id, state FROM jobs WHERE id = ANY(\(ids))", logger: logger).decode((String, String).self) {
            states[id] = JobState(rawValue: state)
        }
        return states
    }

    /// Every listed job, in submission order.
    public func list() async throws -> [JobRecord] {
        try await database.query("SELECT \(unescaped: JobRecord.columns) FROM jobs WHERE NOT hidden ORDER BY seq", logger: logger)
            .map { try JobRecord(row: $0) }
    }

    /// Claims the most urgent runnable job (Pending or Retry, or Running with an expired lease) for `owner`, with
    /// `FOR UPDATE SKIP LOCKED` so that concurrent workers never claim the same one. With `resumeLost` false
    /// (`SaveJobs: false`), jobs whose worker died are failed instead of resumed.
    public func claim(owner: String, lease: Duration, resumeLost: Bool) async throws -> JobRecord? {
        if !resumeLost {
            try await database.query("""
                UPDATE jobs SET state = 'Failure', error_code = \(Int32(OrthancErrorCode.internalError.code)),
                       error_description = \(OrthancErrorCode.internalError.description),
                       error_details = 'The worker running this job stopped, and SaveJobs is false',
                       completed_at = clock_timestamp(), updated_at = clock_timestamp(), lease_owner = NULL,
                       lease_expires = NULL, run_started = NULL
                WHERE state = 'Running' AND lease_expires < clock_timestamp()
                """, logger: logger)
        }
        let seconds = Double(lease.components.seconds)
        for row in try await database.query("""
            UPDATE jobs SET state = 'Running', lease_owner = \(owner),
                   lease_expires = clock_timestamp() + \(seconds) * interval '1 second',
                   run_started = clock_timestamp(), attempts = attempts + 1, updated_at = clock_timestamp()
            WHERE id = (SELECT id FROM jobs
                        WHERE state IN ('Pending', 'Retry') OR (state = 'Running' AND lease_expires < clock_timestamp())
                        ORDER BY priority DESC, seq LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING \(unescaped: JobRecord.columns)
            """, logger: logger) {
            return try JobRecord(row: row)
        }
        return nil
    }

    /// Records a completed step (cursor, public content when it changed, progress) and extends the lease, in one
    /// statement; says whether to go on. On `connection` when given (a running job holds one, sparing a pool lease
    /// per step), else on a pooled one.
    public func record(_ id: String, owner: String, cursor: JSONValue, content: JSONValue?, progress: Int,
                       lease: Duration, on connection: PostgresConnection? = nil) async throws -> StepAnswer {
        let seconds = Double(lease.components.seconds)
        // Committed without waiting for the WAL flush (synchronous_commit off for this statement only): a step is
        // recorded in a fraction of a millisecond instead of an fsync. What a PostgreSQL crash could lose is the last
        // fraction of a second of cursors, so a resumed job would send those instances again, which peers accept;
        // a worker crash loses nothing.
        let query: PostgresQuery = """
            WITH relaxed AS (SELECT set_config('synchronous_commit', 'off', true))
            UPDATE jobs SET cursor = \(cursor.compactText)::jsonb,
                   content = COALESCE(\(content?.compactText)::jsonb, content),
                   progress = \(Int32(clamping: progress)), updated_at = clock_timestamp(),
                   lease_expires = clock_timestamp() + \(seconds) * interval '1 second'
            FROM relaxed
            WHERE id = \(id) AND lease_owner = \(owner) AND state = 'Running'
            RETURNING control
            """
        if let connection {
            for try await control in try await connection.query(query, logger: logger).decode(String?.self) {
                return Self.answer(control)
            }
            return .lost
        }
        for try await control in try await database.query(query, logger: logger).decode(String?.self) {
            return Self.answer(control)
        }
        return .lost
    }

    /// Extends the lease of a running job (while one step takes long); says whether to go on.
    public func renew(_ id: String, owner: String, lease: Duration) async throws -> StepAnswer {
        let seconds = Double(lease.components.seconds)
        for try await control in try await database.query("""
            UPDATE jobs SET lease_expires = clock_timestamp() + \(seconds) * interval '1 second'
            WHERE id = \(id) AND lease_owner = \(owner) AND state = 'Running'
            RETURNING control
            """, logger: logger).decode(String?.self) {
            return Self.answer(control)
        }
        return .lost
    }

    /// Ends a job the worker holds: Success, or Failure with an error; trims the history to `historySize` finished
    /// jobs. False when the lease was lost meanwhile (nothing written).
    @discardableResult
    public func finish(_ id: String, owner: String, error: TesseraError?, content: JSONValue, progress: Int,
                       historySize: Int) async throws -> Bool {
        let code = error?.code ?? OrthancErrorCode(code: 0, description: "Success", httpStatus: 200)
        var finished = false
        try await database.withTransaction { connection in
            for try await _ in try await connection.query("""
                UPDATE jobs SET state = \(error == nil ? JobState.success.rawValue : JobState.failure.rawValue),
                       content = \(content.compactText)::jsonb, progress = \(Int32(clamping: progress)),
                       error_code = \(Int32(code.code)), error_description = \(code.description),
                       error_details = \(error?.details ?? (error.map { $0.message })), control = NULL,
                       completed_at = clock_timestamp(), updated_at = clock_timestamp(),
                       runtime_ms = runtime_ms + \(unescaped: Self.currentRunMilliseconds), run_started = NULL,
                       lease_owner = NULL, lease_expires = NULL
                WHERE id = \(id) AND lease_owner = \(owner) AND state = 'Running'
                RETURNING id
                """, logger: logger) {
                finished = true
            }
            if finished { try await trimHistory(connection, keep: historySize) }
        }
        return finished
    }

    /// Hands a running job back: Paused (a pause was asked), or Pending (the worker is shutting down), keeping its
    /// cursor; a cancel asked meanwhile fails it instead.
    public func release(_ id: String, owner: String, as state: JobState, historySize: Int) async throws {
        try await database.withTransaction { connection in
            try await connection.query("""
                UPDATE jobs SET state = CASE WHEN control = 'cancel' THEN 'Failure' ELSE \(state.rawValue) END,
                       error_code = CASE WHEN control = 'cancel' THEN \(Int32(OrthancErrorCode.canceledJob.code)) ELSE 0 END,
                       error_description = CASE WHEN control = 'cancel' THEN \(OrthancErrorCode.canceledJob.description) ELSE 'Success' END,
                       completed_at = CASE WHEN control = 'cancel' THEN clock_timestamp() END,
                       control = NULL, updated_at = clock_timestamp(),
                       runtime_ms = runtime_ms + \(unescaped: Self.currentRunMilliseconds), run_started = NULL,
                       lease_owner = NULL, lease_expires = NULL
                WHERE id = \(id) AND lease_owner = \(owner) AND state = 'Running'
                """, logger: logger)
            if state == .pending {
                try await connection.query("SELECT pg_notify(\(Self.channel), \(id))", logger: logger)
            }
            try await trimHistory(connection, keep: historySize)
        }
    }

    /// `POST /jobs/{id}/pause`: a Pending job becomes Paused at once, a running one at its next step; finished ones
    /// are left as they are (Orthanc answers 200 for them too).
    public func pause(_ id: String) async throws -> ControlOutcome {
        try await control(id) { state in
            switch state {
            case .pending, .retry: return "state = 'Paused'"
            case .running: return "control = 'pause'"
            case .paused, .success, .failure: return nil
            }
        }
    }

    /// `POST /jobs/{id}/resume`: only a Paused job (or a running one whose pause has not taken effect yet).
    public func resume(_ id: String) async throws -> ControlOutcome {
        let outcome = try await control(id) { state in
            switch state {
            case .paused: return "state = 'Pending'"
            case .running: return "control = NULL"
            default: throw TesseraError(.badSequenceOfCalls, details: "Only a paused job can be resumed (job \(id) is \(state.rawValue))")
            }
        }
        try await database.query("SELECT pg_notify(\(Self.channel), \(id))", logger: logger)
        return outcome
    }

    /// `POST /jobs/{id}/cancel`: a job not running fails at once with CanceledJob, a running one at its next step.
    public func cancel(_ id: String) async throws -> ControlOutcome {
        try await control(id) { state in
            switch state {
            case .pending, .retry, .paused:
                return """
                    state = 'Failure', error_code = \(OrthancErrorCode.canceledJob.code),
                    error_description = '\(OrthancErrorCode.canceledJob.description)', completed_at = clock_timestamp()
                    """
            case .running: return "control = 'cancel'"
            case .success, .failure: return nil
            }
        }
    }

    /// `POST /jobs/{id}/resubmit`: a failed job starts again from the beginning.
    public func resubmit(_ id: String) async throws -> ControlOutcome {
        let outcome = try await control(id) { state in
            guard state == .failure else {
                throw TesseraError(.badSequenceOfCalls, details: "Only a failed job can be resubmitted (job \(id) is \(state.rawValue))")
            }
            return """
                state = 'Pending', cursor = '{}', progress = 0, error_code = 0, error_description = 'Success',
                error_details = NULL, completed_at = NULL, control = NULL
                """
        }
        try await database.query("SELECT pg_notify(\(Self.channel), \(id))", logger: logger)
        return outcome
    }

    /// `DELETE /jobs/{id}`: removes a finished job from the history.
    public func delete(_ id: String) async throws -> ControlOutcome {
        guard let job = try await job(id), !job.hidden else { return .unknownJob }
        guard job.state.isFinished else {
            return .refused("Only a finished job can be deleted; cancel job \(id) first (it is \(job.state.rawValue))")
        }
        try await database.query("DELETE FROM jobs WHERE id = \(id) AND state IN ('Success', 'Failure')", logger: logger)
        return .done
    }

    /// Removes a hidden job once its result was read.
    public func remove(_ id: String) async throws {
        try await database.query("DELETE FROM jobs WHERE id = \(id) AND hidden", logger: logger)
    }

    /// Applies `change(state)` (a SET clause, nil for nothing to do) to a job under a row lock.
    private func control(_ id: String, _ change: @Sendable (JobState) throws -> String?) async throws -> ControlOutcome {
        try await database.withTransaction { connection in
            var current: JobState?
            for try await (state, hidden) in try await connection.query(
                "SELECT state, hidden FROM jobs WHERE id = \(id) FOR UPDATE", logger: logger).decode((String, Bool).self) where !hidden {
                current = JobState(rawValue: state)
            }
            guard let state = current else { return .unknownJob }
            do {
                guard let assignments = try change(state) else { return .done }
                try await connection.query(PostgresQuery(
                    unsafeSQL: "UPDATE jobs SET \(assignments), updated_at = clock_timestamp() WHERE id = $1",
                    binds: { var binds = PostgresBindings(); binds.append(id); return binds }()), logger: logger)
                return .done
            } catch let error as TesseraError {
                return .refused(error.details ?? error.message)
            }
        }
    }

    /// Keeps the `keep` most recently finished listed jobs; hidden ones go ten minutes after they finish.
    private func trimHistory(_ connection: PostgresConnection, keep: Int) async throws {
        try await connection.query("""
            DELETE FROM jobs WHERE state IN ('Success', 'Failure') AND NOT hidden AND id NOT IN (
                SELECT id FROM jobs WHERE state IN ('Success', 'Failure') AND NOT hidden
                ORDER BY completed_at DESC LIMIT \(Int64(max(0, keep))))
            """, logger: logger)
        try await connection.query("""
            DELETE FROM jobs WHERE hidden AND state IN ('Success', 'Failure')
                               AND completed_at < clock_timestamp() - interval '10 minutes'
            """, logger: logger)
    }

    private static let currentRunMilliseconds = "COALESCE((extract(epoch FROM clock_timestamp() - run_started) * 1000)::bigint, 0)"

    private static func answer(_ control: String?) -> StepAnswer {
        switch control {
        case "pause": return .pause
        case "cancel": return .cancel
        default: return .proceed
        }
    }
}
