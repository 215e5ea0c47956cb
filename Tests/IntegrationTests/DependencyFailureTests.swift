import Foundation
import Testing

extension ClusterTests {
    /// What Tessera does when PostgreSQL or the broker fails, or is not there yet, and when it is asked to stop.
    @Suite("Failures of what Tessera depends on", .serialized)
    struct DependencyFailureTests {
        let environment: TestEnvironment
        let api: RESTClient

        init() throws {
            environment = try TestEnvironment.load()
            api = RESTClient(baseURL: environment.apiURL)
        }

        var postgresData: String { environment.runFolder + "/pg/data" }

        func pgControl(_ arguments: [String]) async throws -> ProcessRunner.Outcome {
            try await ProcessRunner.run("runuser", ["-u", "postgres", "--", "/usr/lib/postgresql/15/bin/pg_ctl", "-D", postgresData] + arguments,
                                        timeout: .seconds(60))
        }

        @Test("PostgreSQL down: the REST API answers 503 with Orthanc's error quickly, C-STOREs still succeed, all is indexed once it is back")
        func postgresDown() async throws {
            let set = try await TestDicomSet.make(environment, count: 10, seed: TestDicomSet.freshSeed(), size: 32)
            let stopped = try await pgControl(["-m", "immediate", "-w", "stop"])
            #expect(stopped.status == 0, "\(stopped.output)")
            do {
                let start = ContinuousClock.now
                let answer = try await api.get("/instances")
                let elapsed = ContinuousClock.now - start
                #expect(answer.status == 503, "\(String(decoding: answer.body, as: UTF8.self))")
                let body = try answer.json() as? [String: Any]
                #expect(body?["OrthancStatus"] as? Int == 36)
                #expect(body?["HttpStatus"] as? Int == 503)
                #expect(elapsed < .seconds(15), "answered after \(elapsed)")
                // The gateway does not need PostgreSQL: instances are durable and wait for the indexer.
                let outcome = try await StoreSCU(environment: environment).send(set.entries.map(\.File))
                #expect(StoreSCU.successes(outcome) == 10, "\(outcome.output.suffix(500))")
                let upload = try await api.post("/instances", body: [UInt8](try Data(contentsOf: URL(fileURLWithPath: set.entries[0].File))))
                #expect(upload.status == 503, "an upload cannot be checked against the index while it is down")
            } catch {
                _ = try? await pgControl(["-w", "start", "-l", environment.runFolder + "/pg/server.log", "-o",
                                          "-c listen_addresses=127.0.0.1 -p \(environment.postgresPort) -k \(environment.runFolder)/pg -c max_connections=200"])
                throw error
            }
            let started = try await pgControl(["-w", "start", "-l", environment.runFolder + "/pg/server.log", "-o",
                                               "-c listen_addresses=127.0.0.1 -p \(environment.postgresPort) -k \(environment.runFolder)/pg -c max_connections=200"])
            #expect(started.status == 0, "\(started.output)")
            let listed = try await api.waitForInstances(Set(set.entries.map(\.ID)), seconds: 120)
            #expect(Set(set.entries.map(\.ID)).isSubset(of: listed), "indexing resumed by itself")
        }

        @Test("Services started before PostgreSQL and the broker wait for them (not ready, alive) and then serve")
        func waitForDependencies() async throws {
            let database = "tessera_late_\(UInt32.random(in: 0...UInt32.max))"
            let brokerPort = 19_300 + Int.random(in: 0..<50)
            let storage = try environment.temporaryFolder("late-storage")
            let shared = [
                "TESSERA_PG_HOST": "127.0.0.1", "TESSERA_PG_PORT": String(environment.postgresPort), "TESSERA_PG_DATABASE": database,
                "TESSERA_KAFKA_BROKERS": "127.0.0.1:\(brokerPort)", "TESSERA_KAFKA_TOPIC": database,
                "TESSERA_KAFKA_GROUP": database, "TESSERA_STORAGE_DIR": storage,
            ]
            let indexer = try ProcessRunner.start(environment.binaries + "/tessera-indexer", [],
                                                  environment: shared.merging(["TESSERA_METRICS_PORT": "19140"]) { $1 })
            let restAPI = try ProcessRunner.start(environment.binaries + "/tessera-api", [],
                                                  environment: shared.merging(["TESSERA_HTTP_PORT": "18070"]) { $1 })
            let gateway = try ProcessRunner.start(environment.binaries + "/tessera-gateway", [], environment: shared.merging([
                "TESSERA_DICOM_PORT": "14270", "TESSERA_DICOM_AET": "LATE", "TESSERA_METRICS_PORT": "19141"]) { $1 })
            var broker: ProcessRunner.Running?
            defer {
                for process in [indexer, restAPI, gateway] + (broker.map { [$0] } ?? []) { kill(process.pid, SIGKILL) }
            }
            try await Task.sleep(for: .seconds(8))
            for (process, name) in [(indexer, "indexer"), (restAPI, "api"), (gateway, "gateway")] {
                #expect(kill(process.pid, 0) == 0, "\(name) must wait, not exit")
            }
            let endpoints = [RESTClient(baseURL: "http://127.0.0.1:19140"), RESTClient(baseURL: "http://127.0.0.1:18070"),
                             RESTClient(baseURL: "http://127.0.0.1:19141")]
            for endpoint in endpoints {
                #expect(try await endpoint.get("/health").status == 200)
                #expect(try await endpoint.get("/ready").status == 503)
            }
            let early = try await RESTClient(baseURL: "http://127.0.0.1:18070").get("/instances")
            #expect(early.status == 503)
            #expect((try early.json() as? [String: Any])?["OrthancStatus"] as? Int == 36)

            // Now PostgreSQL gets the database and the broker starts.
            _ = try await IsolatedStack.withClient(environment, database: "postgres") { client, logger in
                try await client.query(.init(unsafeSQL: "CREATE DATABASE \(database)"), logger: logger)
            }
            broker = try ProcessRunner.start(environment.repository + "/.tools/tansu", [
                "broker", "--listener-url", "tcp://127.0.0.1:\(brokerPort)", "--advertised-listener-url", "tcp://127.0.0.1:\(brokerPort)",
                "--storage-engine", "memory://tansu/"])
            let deadline = ContinuousClock.now + .seconds(90)
            var ready = false
            while !ready && ContinuousClock.now < deadline {
                ready = true
                for endpoint in endpoints where (try? await endpoint.get("/ready"))?.status != 200 { ready = false }
                if !ready { try await Task.sleep(for: .milliseconds(500)) }
            }
            #expect(ready, "every service becomes ready once its dependencies are there")
            let set = try await TestDicomSet.make(environment, count: 3, seed: TestDicomSet.freshSeed(), size: 32)
            let outcome = try await ProcessRunner.run("storescu", ["-aec", "LATE", "127.0.0.1", "14270"] + set.entries.map(\.File),
                                                      environment: ["TCP_NODELAY": "1"])
            #expect(outcome.status == 0, "\(outcome.output)")
            let listed = try await RESTClient(baseURL: "http://127.0.0.1:18070").waitForInstances(Set(set.entries.map(\.ID)))
            #expect(Set(set.entries.map(\.ID)).isSubset(of: listed))
            try? await IsolatedStack.withClient(environment, database: "postgres") { client, logger in
                for process in [indexer, restAPI, gateway] { kill(process.pid, SIGKILL) }
                try await Task.sleep(for: .milliseconds(500))
                try await client.query(.init(unsafeSQL: "DROP DATABASE IF EXISTS \(database) WITH (FORCE)"), logger: logger)
            }
        }

        @Test("SIGTERM stops every service within seconds, an idle association open on the gateway included")
        func boundedShutdown() async throws {
            try await IsolatedStack.with(environment, name: "tessera_shutdown", apiPort: 18071, indexerMetricsPort: 19142) { stack in
                try await stack.startGateway(port: 14271, metricsPort: 19143, aeTitle: "BYE")
                // An association that stays open and idle (echoscu cannot hold one: a raw TCP peer that associated would;
                // storescu of a file on a paused stdin is not possible either, so hold one with the hostile tool).
                let holder = try ProcessRunner.start(environment.python, [
                    environment.repository + "/Tests/tools/hostile.py", "hold-associations", "--host", "127.0.0.1", "--port", "14271",
                    "--aet", "BYE", "--count", "1", "--seconds", "60"])
                defer { kill(holder.pid, SIGKILL) }
                try await Task.sleep(for: .seconds(2))
                for name in ["gateway", "indexer", "api"] {
                    let start = ContinuousClock.now
                    let outcome = await stack.stop(name, signal: SIGTERM, timeout: .seconds(30))
                    let elapsed = ContinuousClock.now - start
                    #expect(outcome?.status == 0, "\(name) exits cleanly: \(outcome?.output.suffix(300) ?? "")")
                    #expect(elapsed < .seconds(8), "\(name) stopped after \(elapsed)")
                }
            }
        }

        @Test("SIGTERM while a C-STORE waits for a broker that never acknowledges: the modality still gets an answer, the gateway exits")
        func pendingRequestAnswered() async throws {
            let file = environment.repository + "/Tests/UnitTests/Fixtures/tags/CT_small.dcm"
            let storage = try environment.temporaryFolder("pending-storage")
            let gateway = try ProcessRunner.start(environment.binaries + "/tessera-gateway", [], environment: [
                "TESSERA_DICOM_PORT": "14272", "TESSERA_DICOM_AET": "PENDING", "TESSERA_METRICS_PORT": "19146",
                "TESSERA_KAFKA_BROKERS": "127.0.0.1:1", "TESSERA_STORAGE_DIR": storage,
                "ORTHANC_JSON": #"{"Kafka": {"DeliveryTimeout": 6000}}"#])
            defer { kill(gateway.pid, SIGKILL) }
            try await Task.sleep(for: .seconds(2))
            async let stored = HostileTool(environment: environment).run(["store", "--port", "14272", "--aet", "PENDING", "--files", file])
            // SIGTERM once the C-STORE is in flight: its blob is written and its event waits for the broker.
            let inFlight = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < inFlight, !Self.holdsAFile(storage) { try await Task.sleep(for: .milliseconds(20)) }
            #expect(Self.holdsAFile(storage), "the C-STORE reached the gateway")
            try await Task.sleep(for: .milliseconds(200))
            let start = ContinuousClock.now
            kill(gateway.pid, SIGTERM)
            // The gateway's exit is timed on its own: the modality's side may take longer to notice the end of its
            // association (pynetdicom's release can wait for its ACSE timeout when the server's abort crosses it).
            async let exited: (outcome: ProcessRunner.Outcome, after: Duration) = {
                let outcome = await gateway.wait(timeout: .seconds(30))
                return (outcome, ContinuousClock.now - start)
            }()
            let answer = try await stored
            #expect((answer["statuses"] as? [Int]) == [0xA700], "answered, not dropped: \(answer)")
            let (outcome, after) = await exited
            #expect(outcome.status == 0, "\(outcome.output.suffix(400))")
            #expect(after < .seconds(12), "bounded by the delivery timeout: exited after \(after), \(answer)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: storage + "/.incoming").isEmpty)
        }

        /// Whether a regular file lies anywhere under `folder`.
        static func holdsAFile(_ folder: String) -> Bool {
            guard let walk = FileManager.default.enumerator(atPath: folder) else { return false }
            for case let path as String in walk {
                var isFolder: ObjCBool = false
                if FileManager.default.fileExists(atPath: folder + "/" + path, isDirectory: &isFolder), !isFolder.boolValue { return true }
            }
            return false
        }
    }
}
