import Foundation

/// Where the real components under test are: set by `scripts/test`, which starts them with `scripts/cluster up`.
/// A missing variable fails the test with a clear message: these tests must not silently pass without the cluster.
struct TestEnvironment {
    let apiURL: String
    let dicomPort: Int
    let dicomAET: String
    let postgresPort: Int
    let kafkaBrokers: String
    let python: String
    let repository: String
    /// Folder of the built executables (to start extra, differently configured processes).
    let binaries: String
    /// The cluster's run folder (PID files), for tests that kill and restart services.
    let runFolder: String

    static func load() throws -> TestEnvironment {
        let environment = ProcessInfo.processInfo.environment
        func value(_ name: String) throws -> String {
            guard let text = environment[name], !text.isEmpty else {
                throw MissingEnvironment(name: name)
            }
            return text
        }
        return TestEnvironment(
            apiURL: try value("TESSERA_TEST_API"),
            dicomPort: Int(try value("TESSERA_TEST_DICOM_PORT")) ?? 0,
            dicomAET: try value("TESSERA_TEST_DICOM_AET"),
            postgresPort: Int(try value("TESSERA_TEST_PG_PORT")) ?? 0,
            kafkaBrokers: try value("TESSERA_TEST_KAFKA"),
            python: try value("TESSERA_TEST_PYTHON"),
            repository: try value("TESSERA_TEST_REPO"),
            binaries: try value("TESSERA_TEST_BIN"),
            runFolder: try value("TESSERA_TEST_RUN_DIR_ABS"))
    }

    struct MissingEnvironment: Error, CustomStringConvertible {
        let name: String
        var description: String { "\(name) is not set: run the integration tests through scripts/test" }
    }

    /// Runs `scripts/cluster` with the test cluster's settings (inherited from scripts/test's environment).
    func cluster(_ command: String) async throws -> ProcessRunner.Outcome {
        try await ProcessRunner.run(repository + "/scripts/cluster", [command], timeout: .seconds(300))
    }

    /// The PID of a service of the test cluster.
    func pid(of service: String) throws -> Int32 {
        let text = try String(contentsOfFile: "\(runFolder)/pids/\(service).pid", encoding: .utf8)
        guard let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { throw MissingEnvironment(name: "pid of \(service)") }
        return pid
    }

    /// The environment of an extra `tessera-api` replica: the test cluster's database, broker and storage,
    /// a port of its own, and Orthanc-style configuration `json`.
    func replicaEnvironment(port: Int, json: String) -> [String: String] {
        [
            "TESSERA_HTTP_PORT": String(port), "TESSERA_PG_HOST": "127.0.0.1",
            "TESSERA_PG_PORT": String(postgresPort), "TESSERA_PG_DATABASE": "tessera",
            "TESSERA_KAFKA_BROKERS": kafkaBrokers, "TESSERA_STORAGE_DIR": runFolder + "/storage",
            "ORTHANC_JSON": json,
        ]
    }

    /// Starts an extra `tessera-api` replica and waits until it is ready (`/ready`: index schema current, broker reachable).
    func startReplica(port: Int, json: String, extra: [String: String] = [:]) async throws -> ProcessRunner.Running {
        let process = try ProcessRunner.start(binaries + "/tessera-api", [],
                                              environment: replicaEnvironment(port: port, json: json).merging(extra) { $1 })
        let api = RESTClient(baseURL: "http://127.0.0.1:\(port)")
        let deadline = ContinuousClock.now + .seconds(30)
        while (try? await api.get("/ready"))?.status != 200 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
        }
        return process
    }

    /// Starts an extra `tessera-gateway` on the cluster's broker and storage and waits until it is ready.
    func startGateway(port: Int, aeTitle: String, metricsPort: Int, extra: [String: String] = [:]) async throws -> ProcessRunner.Running {
        let process = try ProcessRunner.start(binaries + "/tessera-gateway", [], environment: [
            "TESSERA_DICOM_PORT": String(port), "TESSERA_DICOM_AET": aeTitle, "TESSERA_METRICS_PORT": String(metricsPort),
            "TESSERA_KAFKA_BROKERS": kafkaBrokers, "TESSERA_STORAGE_DIR": runFolder + "/storage",
        ].merging(extra) { $1 })
        let metrics = RESTClient(baseURL: "http://127.0.0.1:\(metricsPort)")
        let deadline = ContinuousClock.now + .seconds(30)
        while (try? await metrics.get("/ready"))?.status != 200 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
        }
        return process
    }

    /// A new empty folder for a test's files.
    func temporaryFolder(_ name: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-\(name)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
