import Foundation
import Index
import Logging
import Model
import PostgresNIO

/// An indexer and an API replica of their own, on a fresh database, topic and storage folder of the test cluster's
/// PostgreSQL and broker: for tests that compare whole answers (lists, finds, deletions) with stock Orthanc's and
/// so need an index holding exactly their files.
struct IsolatedStack {
    let environment: TestEnvironment
    let name: String
    let api: RESTClient
    let apiPort: Int
    let storage: String
    private let processes: [ProcessRunner.Running]

    /// Creates database `name`, starts the indexer and the API (on `apiPort`), waits until the API answers.
    static func start(_ environment: TestEnvironment, name: String, apiPort: Int, indexerMetricsPort: Int,
                      json: String = "{}", extra: [String: String] = [:]) async throws -> IsolatedStack {
        try await admin(environment) { client, logger in
            try await client.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: logger)
            try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        }
        let storage = try environment.temporaryFolder(name + "-storage")
        let shared = [
            "TESSERA_PG_DATABASE": name, "TESSERA_KAFKA_TOPIC": name, "TESSERA_KAFKA_GROUP": name + "-indexer",
            "TESSERA_STORAGE_DIR": storage,
        ].merging(extra) { $1 }
        let indexer = try ProcessRunner.start(environment.binaries + "/tessera-indexer", [], environment: [
            "TESSERA_PG_HOST": "127.0.0.1", "TESSERA_PG_PORT": String(environment.postgresPort),
            "TESSERA_KAFKA_BROKERS": environment.kafkaBrokers, "TESSERA_METRICS_PORT": String(indexerMetricsPort),
            "ORTHANC_JSON": json,
        ].merging(shared) { $1 })
        let api = try await environment.startReplica(port: apiPort, json: json, extra: shared)
        return IsolatedStack(environment: environment, name: name, api: RESTClient(baseURL: "http://127.0.0.1:\(apiPort)"),
                             apiPort: apiPort, storage: storage, processes: [indexer, api])
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
        for process in processes { kill(process.pid, SIGKILL) }
        for process in processes { _ = await process.wait(timeout: .seconds(10)) }
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
