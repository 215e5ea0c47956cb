import Foundation
import Index
import Logging
import Model
import PostgresNIO
import Synchronization

/// An indexer and an API replica of their own (and a gateway when asked), on a fresh database, topic and storage
/// folder of the test cluster's PostgreSQL and broker: for tests that compare whole answers (lists, finds, deletions)
/// with stock Orthanc's, or that kill, reconfigure and restart services without disturbing the shared cluster.
final class IsolatedStack: Sendable {
    let environment: TestEnvironment
    let name: String
    let api: RESTClient
    let apiPort: Int
    let indexerMetricsPort: Int
    let storage: String
    /// The settings every process of the stack shares (database, topic, group, storage) merged with the test's.
    let shared: [String: String]
    let json: String
    private let processes: Mutex<[String: ProcessRunner.Running]>

    private init(environment: TestEnvironment, name: String, apiPort: Int, indexerMetricsPort: Int, storage: String,
                 shared: [String: String], json: String) {
        self.environment = environment
        self.name = name
        self.api = RESTClient(baseURL: "http://127.0.0.1:\(apiPort)")
        self.apiPort = apiPort
        self.indexerMetricsPort = indexerMetricsPort
        self.storage = storage
        self.shared = shared
        self.json = json
        self.processes = Mutex([:])
    }

    /// Creates database `name`, starts the indexer and the API (on `apiPort`), waits until the API is ready.
    static func start(_ environment: TestEnvironment, name: String, apiPort: Int, indexerMetricsPort: Int,
                      json: String = "{}", extra: [String: String] = [:]) async throws -> IsolatedStack {
        try await admin(environment) { client, logger in
            try await client.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: logger)
            try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        }
        let storage = try environment.temporaryFolder(name + "-storage")
        let shared = [
            "TESSERA_PG_HOST": "127.0.0.1", "TESSERA_PG_PORT": String(environment.postgresPort),
            "TESSERA_PG_DATABASE": name, "TESSERA_KAFKA_BROKERS": environment.kafkaBrokers, "TESSERA_KAFKA_TOPIC": name,
            "TESSERA_KAFKA_GROUP": name + "-indexer", "TESSERA_STORAGE_DIR": storage, "ORTHANC_JSON": json,
        ].merging(extra) { $1 }
        let stack = IsolatedStack(environment: environment, name: name, apiPort: apiPort, indexerMetricsPort: indexerMetricsPort,
                                  storage: storage, shared: shared, json: json)
        try stack.startIndexer()
        let api = try await environment.startReplica(port: apiPort, json: json, extra: shared)
        stack.processes.withLock { $0["api"] = api }
        return stack
    }

    /// Uploads every `.dcm` of the tag fixtures (Tests/UnitTests/Fixtures/tags) except `rtplan.dcm`, in file-name order,
    /// as the stock-Orthanc recorders did; returns the files that were not answered 200.
    @discardableResult
    func uploadTagFixtures() async throws -> [String] {
        let folder = environment.repository + "/Tests/UnitTests/Fixtures/tags"
        let files = try FileManager.default.contentsOfDirectory(atPath: folder)
            .filter { $0.hasSuffix(".dcm") && $0 != "rtplan.dcm" }.sorted()
        var refused: [String] = []
        for file in files {
            let answer = try await api.post("/instances", body: [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(file)"))))
            if answer.status != 200 { refused.append(file) }
        }
        return refused
    }

    /// The indexer's operations endpoint.
    var indexerMetrics: RESTClient { RESTClient(baseURL: "http://127.0.0.1:\(indexerMetricsPort)") }

    /// The PID of a process of the stack (`indexer`, `api`, `gateway`).
    func pid(of process: String) -> Int32? {
        processes.withLock { $0[process]?.pid }
    }

    /// Starts the indexer with the stack's settings plus `extra`.
    func startIndexer(extra: [String: String] = [:]) throws {
        let indexer = try ProcessRunner.start(environment.binaries + "/tessera-indexer", [], environment: shared.merging([
            "TESSERA_METRICS_PORT": String(indexerMetricsPort),
        ]) { $1 }.merging(extra) { $1 })
        processes.withLock { $0["indexer"] = indexer }
    }

    /// Starts a job worker of the stack (`name` tells several apart) with the stack's settings plus `extra`, and waits
    /// until it is ready.
    func startWorker(_ name: String = "worker", metricsPort: Int, extra: [String: String] = [:]) async throws {
        let worker = try ProcessRunner.start(environment.binaries + "/tessera-worker", [], environment: shared.merging([
            "TESSERA_METRICS_PORT": String(metricsPort),
        ]) { $1 }.merging(extra) { $1 })
        processes.withLock { $0[name] = worker }
        let metrics = RESTClient(baseURL: "http://127.0.0.1:\(metricsPort)")
        let deadline = ContinuousClock.now + .seconds(30)
        while (try? await metrics.get("/ready"))?.status != 200 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// Starts another process of the test's own (a peer, a second replica) that stops with the stack.
    func adopt(_ name: String, _ process: ProcessRunner.Running) {
        processes.withLock { $0[name] = process }
    }

    /// The output file of a running process of the stack.
    func log(of process: String) -> String? {
        processes.withLock { $0[process]?.log }
    }

    /// Kills a process of the stack (SIGKILL by default) and waits for it.
    func stop(_ process: String, signal: Int32 = SIGKILL, timeout: Duration = .seconds(30)) async -> ProcessRunner.Outcome? {
        guard let running = processes.withLock({ $0.removeValue(forKey: process) }) else { return nil }
        kill(running.pid, signal)
        return await running.wait(timeout: timeout)
    }

    /// Starts a gateway of the stack on `port` and waits until it is ready.
    func startGateway(port: Int, metricsPort: Int, aeTitle: String = "TESSERA", extra: [String: String] = [:]) async throws {
        let gateway = try await environment.startGateway(port: port, aeTitle: aeTitle, metricsPort: metricsPort,
                                                        extra: shared.merging(extra) { $1 })
        processes.withLock { $0["gateway"] = gateway }
    }

    /// Runs `body` against a started stack, then stops it whatever happens.
    static func with(_ environment: TestEnvironment, name: String, apiPort: Int, indexerMetricsPort: Int, json: String = "{}",
                     extra: [String: String] = [:], _ body: (IsolatedStack) async throws -> Void) async throws {
        let stack = try await start(environment, name: name, apiPort: apiPort, indexerMetricsPort: indexerMetricsPort,
                                    json: json, extra: extra)
        do {
            try await body(stack)
        } catch {
            await stack.stop()
            throw error
        }
        await stack.stop()
    }

    /// Stops the processes and drops the database.
    func stop() async {
        let running = processes.withLock { processes in
            defer { processes = [:] }
            return Array(processes.values)
        }
        for process in running { kill(process.pid, SIGKILL) }
        for process in running { _ = await process.wait(timeout: .seconds(10)) }
        try? await Self.admin(environment) { client, logger in
            try await client.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: logger)
        }
    }

    /// Runs `body` with a client of `database` on the test cluster's PostgreSQL (the pool runs while it does).
    static func withClient<Result: Sendable>(_ environment: TestEnvironment, database: String,
                                             _ body: (PostgresClient, Logger) async throws -> Result) async throws -> Result {
        var settings = DatabaseSettings()
        settings.host = "127.0.0.1"
        settings.port = environment.postgresPort
        settings.database = database
        let logger = Logger(label: "test.isolated")
        let index = IndexDatabase(settings: settings, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { await index.client.run() }
            defer { tasks.cancelAll() }
            return try await body(index.client, logger)
        }
    }

    /// Runs `body` with a client of this stack's database.
    func withClient<Result: Sendable>(_ body: (PostgresClient, Logger) async throws -> Result) async throws -> Result {
        try await Self.withClient(environment, database: name, body)
    }

    private static func admin(_ environment: TestEnvironment, _ body: (PostgresClient, Logger) async throws -> Void) async throws {
        try await withClient(environment, database: "postgres", body)
    }
}
