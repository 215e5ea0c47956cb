import Index
import Model
import PostgresNIO
import Synchronization

/// What a running job sees of the runner: it records steps (cursor, content, progress) and learns whether to stop.
public final class JobContext: Sendable {
    let store: JobStore
    let jobID: String
    let owner: String
    let lease: Duration
    private let state: Mutex<State>

    struct State {
        var content: JSONValue
        var progress: Int
        /// Why to stop, once known (`.proceed` here: the worker is shutting down).
        var stop: JobStore.StepAnswer?
        /// The connection the job holds while it runs, for its steps.
        var connection: PostgresConnection?
    }

    init(store: JobStore, job: JobRecord, owner: String, lease: Duration) {
        self.store = store
        self.jobID = job.id
        self.owner = owner
        self.lease = lease
        self.state = Mutex(State(content: job.content, progress: job.progress, stop: nil, connection: nil))
    }

    /// Runs `body` holding one connection of the pool for the job's steps.
    func holdingConnection<Result: Sendable>(of database: IndexDatabase, _ body: () async throws -> Result) async throws -> Result {
        try await database.withConnection { connection in
            state.withLock { $0.connection = connection }
            defer { state.withLock { $0.connection = nil } }
            return try await body()
        }
    }

    /// Records a completed step and renews the lease; returns why to stop, nil to go on.
    public func record(cursor: JSONValue, content: JSONValue, progress: Int) async throws -> JobStore.StepAnswer? {
        // The public content is written only when it changed (most steps change the cursor and progress alone).
        let changed = state.withLock { current -> Bool in
            defer {
                current.content = content
                current.progress = progress
            }
            return current.content != content
        }
        let answer = try await store.record(jobID, owner: owner, cursor: cursor, content: changed ? content : nil,
                                            progress: progress, lease: lease, on: state.withLock { $0.connection })
        if answer != .proceed { requestStop(answer) }
        return stopReason
    }

    /// Why the job should stop now (a pause or cancel seen by the lease renewal, a lost lease, a shutdown), or nil.
    public var stopReason: JobStore.StepAnswer? {
        state.withLock { $0.stop }
    }

    /// The last recorded public content and progress.
    public var latest: (content: JSONValue, progress: Int) {
        state.withLock { ($0.content, $0.progress) }
    }

    func requestStop(_ reason: JobStore.StepAnswer) {
        state.withLock { current in
            // A lost lease or a cancel outranks a pause, which outranks a shutdown.
            let rank: (JobStore.StepAnswer?) -> Int = { answer in
                switch answer {
                case .lost: return 4
                case .cancel: return 3
                case .pause: return 2
                case .proceed: return 1
                case nil: return 0
                }
            }
            if rank(reason) > rank(current.stop) { current.stop = reason }
        }
    }
}
