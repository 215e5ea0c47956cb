import Foundation
import Index
import Logging
import Metrics
import Model
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// The worker's jobs engine: claims runnable jobs from PostgreSQL (`FOR UPDATE SKIP LOCKED`), at most
/// `concurrency` at once, runs each with its handler under a lease renewed at every step and every third of the
/// lease, and writes how it ended. Woken by the submission channel (LISTEN), and polls every second for jobs whose
/// lease expired. On shutdown it stops claiming, asks running jobs to stop at their next step and hands them back as
/// Pending, so another replica resumes them.
public final class JobRunner: Service, Sendable {
    public struct Settings: Sendable {
        /// Jobs run at once by this worker (`ConcurrentJobs`).
        public var concurrency: Int
        public var lease: Duration
        /// `JobsHistorySize`.
        public var historySize: Int
        /// `SaveJobs`.
        public var resumeLostJobs: Bool

        public init(concurrency: Int, lease: Duration, historySize: Int, resumeLostJobs: Bool) {
            self.concurrency = concurrency
            self.lease = lease
            self.historySize = historySize
            self.resumeLostJobs = resumeLostJobs
        }
    }

    let store: JobStore
    let database: IndexDatabase
    let handlers: [String: any JobHandler]
    let settings: Settings
    let owner: String
    let logger: Logger
    private let running = Mutex<[String: JobContext]>([:])
    private let wake: AsyncStream<Void>
    private let wakeSignal: AsyncStream<Void>.Continuation

    public init(store: JobStore, database: IndexDatabase, handlers: [any JobHandler], settings: Settings, logger: Logger) {
        self.store = store
        self.database = database
        self.handlers = Dictionary(handlers.map { ($0.type, $0) }, uniquingKeysWith: { first, _ in first })
        self.settings = settings
        self.owner = "\(ProcessInfo.processInfo.hostName)-\(getpid())-\(UUID().uuidString.prefix(8))"
        self.logger = logger
        (wake, wakeSignal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await self.database.migrateWhenAvailable() }
        } catch is CancellationError {
            return
        }
        logger.info("Job worker started", metadata: ["owner": "\(owner)", "concurrency": "\(settings.concurrency)"])
        await withDiscardingTaskGroup { group in
            group.addTask { await self.listen() }
            group.addTask { await self.tick() }
            for await _ in wake.cancelOnGracefulShutdown() {
                while running.withLock({ $0.count }) < settings.concurrency {
                    let job: JobRecord?
                    do {
                        job = try await store.claim(owner: owner, lease: settings.lease, resumeLost: settings.resumeLostJobs)
                    } catch {
                        logger.warning("Cannot claim jobs", metadata: ["error": "\(String(reflecting: error))"])
                        break
                    }
                    guard let job else { break }
                    let context = JobContext(store: store, job: job, owner: owner, lease: settings.lease)
                    running.withLock { $0[job.id] = context }
                    group.addTask {
                        await self.execute(job, context: context)
                        self.running.withLock { _ = $0.removeValue(forKey: job.id) }
                        self.wakeSignal.yield()
                    }
                }
            }
            // Shutting down: running jobs stop at their next step and are handed back.
            for context in running.withLock({ Array($0.values) }) { context.requestStop(.proceed) }
        }
        logger.info("Job worker stopped")
    }

    /// Wakes the claim loop every second (expired leases, missed notifications), and says every few seconds that this
    /// worker is alive; forgets it at shutdown.
    private func tick() async {
        var beats = 0
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            wakeSignal.yield()
            if beats % 5 == 0 {
                do {
                    try await store.heartbeat(owner: owner, concurrency: settings.concurrency)
                } catch {
                    logger.debug("Cannot record the worker's heartbeat", metadata: ["error": "\(String(reflecting: error))"])
                }
            }
            beats += 1
            try? await Task.sleep(for: .seconds(1))
        }
        try? await store.retire(owner: owner)
    }

    /// Wakes the claim loop when a job is submitted or made runnable.
    private func listen() async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await database.client.withConnection { connection in
                    try await connection.listen(on: JobStore.channel) { notifications in
                        for try await _ in notifications.cancelOnGracefulShutdown() { self.wakeSignal.yield() }
                    }
                }
            } catch {
                if Task.isCancelled || Task.isShuttingDownGracefully { return }
                logger.debug("Lost the jobs channel; reconnecting", metadata: ["error": "\(String(reflecting: error))"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Runs one claimed job to its end (or until it must stop) and records the outcome.
    private func execute(_ job: JobRecord, context: JobContext) async {
        var metadata: Logger.Metadata = ["job": "\(job.id)", "type": "\(job.type)", "owner": "\(owner)"]
        logger.info("Job started", metadata: metadata)
        let started = ContinuousClock.now
        let result: Result<JobResult, TesseraError> = await withTaskGroup(of: Result<JobResult, TesseraError>?.self) { group in
            group.addTask { await self.renewLease(of: job.id, context: context); return nil }
            group.addTask {
                do {
                    return .success(try await self.handle(job, context: context))
                } catch let error as TesseraError {
                    return .failure(error)
                } catch {
                    return .failure(TesseraError(.internalError, details: String(describing: error)))
                }
            }
            var outcome: Result<JobResult, TesseraError> = .failure(TesseraError(.internalError))
            while let next = await group.next() {
                if let next {
                    outcome = next
                    group.cancelAll()
                }
            }
            return outcome
        }
        Timer(label: "tessera_job_duration_seconds", dimensions: [("type", job.type)], preferredDisplayUnit: .seconds)
            .recordNanoseconds((ContinuousClock.now - started).totalNanoseconds)
        do {
            switch result {
            case .success(.success(let content)):
                try await store.finish(job.id, owner: owner, error: nil, content: content, progress: 100,
                                       historySize: settings.historySize)
                Counter(label: "tessera_jobs_total", dimensions: [("type", job.type), ("state", "Success")]).increment()
                logger.info("Job succeeded", metadata: metadata)
            case .success(.stopped(.cancel)):
                let latest = context.latest
                try await store.finish(job.id, owner: owner, error: TesseraError(.canceledJob), content: latest.content,
                                       progress: latest.progress, historySize: settings.historySize)
                logger.info("Job canceled", metadata: metadata)
            case .success(.stopped(.pause)):
                try await store.release(job.id, owner: owner, as: .paused, historySize: settings.historySize)
                logger.info("Job paused", metadata: metadata)
            case .success(.stopped(.proceed)):
                try await store.release(job.id, owner: owner, as: .pending, historySize: settings.historySize)
                logger.info("Job handed back (worker shutting down)", metadata: metadata)
            case .success(.stopped(.lost)):
                logger.warning("Lost the lease of a running job; another worker has it", metadata: metadata)
            case .failure(let error):
                let latest = context.latest
                try await store.finish(job.id, owner: owner, error: error, content: latest.content, progress: latest.progress,
                                       historySize: settings.historySize)
                Counter(label: "tessera_jobs_total", dimensions: [("type", job.type), ("state", "Failure")]).increment()
                metadata["error"] = "\(error.code.code)"
                logger.info("Job failed", metadata: metadata)
            }
        } catch {
            // The database is gone: the lease expires and another worker (or this one) takes the job again.
            logger.error("Cannot record the end of a job", metadata: metadata.merging(["error": "\(String(reflecting: error))"]) { $1 })
        }
    }

    private func handle(_ job: JobRecord, context: JobContext) async throws(TesseraError) -> JobResult {
        guard let handler = handlers[job.type] else {
            throw TesseraError(.notImplemented, details: "This worker cannot run jobs of type \(job.type)")
        }
        do {
            return try await context.holdingConnection(of: database) { try await handler.run(job, context: context) }
        } catch let error as TesseraError {
            throw error
        } catch {
            throw TesseraError(.internalError, details: String(describing: error))
        }
    }

    /// Renews the lease every third of its length while the job runs, and passes on a pause, cancel or lost lease.
    private func renewLease(of id: String, context: JobContext) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: settings.lease / 3)
            if Task.isCancelled { return }
            do {
                let answer = try await store.renew(id, owner: owner, lease: settings.lease)
                if answer != .proceed { context.requestStop(answer) }
            } catch {
                logger.warning("Cannot renew a job's lease", metadata: ["job": "\(id)", "error": "\(String(reflecting: error))"])
            }
        }
    }
}
