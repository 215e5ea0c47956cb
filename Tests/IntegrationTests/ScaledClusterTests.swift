import Foundation
import Testing

extension ClusterTests {
    /// The scaled topology of compose.yaml as plain processes (`scripts/cluster up` with replica counts): HAProxy in
    /// front of two gateways and two API replicas, two indexers. A cluster of its own, on its own ports.
    @Suite("Scaled topology behind HAProxy", .serialized)
    struct ScaledClusterTests {
        let environment: TestEnvironment

        init() throws {
            environment = try TestEnvironment.load()
        }

        static let httpPort = 18470
        static let dicomPort = 14470
        /// Operations ports of the first replicas (the second ones: +10).
        static let gatewayOperations = 19471, indexerOperations = 19472, workerOperations = 19473, apiOperations = 19474
        static let operationsPorts = [19471, 19481, 19472, 19482, 19473, 19474, 19484]

        func clusterEnvironment(run: String) -> [String: String] {
            [
                "TESSERA_RUN_DIR": run, "TESSERA_BIN": environment.binaries, "TESSERA_CONFIG": "", "TESSERA_STORAGE_DIR": "",
                "TESSERA_HTTP_PORT": String(Self.httpPort), "TESSERA_DICOM_PORT": String(Self.dicomPort),
                "TESSERA_DICOM_AET": "TESSERA", "TESSERA_PG_PORT": "15470", "TESSERA_KAFKA_PORT": "19470",
                "TESSERA_GATEWAY_METRICS_PORT": String(Self.gatewayOperations),
                "TESSERA_INDEXER_METRICS_PORT": String(Self.indexerOperations),
                "TESSERA_WORKER_METRICS_PORT": String(Self.workerOperations),
                "TESSERA_API_METRICS_PORT": String(Self.apiOperations), "TESSERA_BALANCER_STATS_PORT": "19475",
                "TESSERA_API_REPLICAS": "2", "TESSERA_GATEWAY_REPLICAS": "2", "TESSERA_INDEXER_REPLICAS": "2",
                "TESSERA_WORKER_REPLICAS": "1",
            ]
        }

        /// Runs `body` with the scaled cluster up, and always takes it down.
        func withScaledCluster(_ body: (_ run: String, _ cluster: @Sendable (String) async throws -> ProcessRunner.Outcome) async throws -> Void) async throws {
            let run = try environment.temporaryFolder("scaled")
            let script = environment.repository + "/scripts/cluster"
            let variables = clusterEnvironment(run: run)
            let cluster: @Sendable (String) async throws -> ProcessRunner.Outcome = { command in
                try await ProcessRunner.run(script, [command], environment: variables, timeout: .seconds(300))
            }
            let up = try await cluster("up")
            #expect(up.status == 0, "\(up.output.suffix(2000))")
            do {
                try await body(run, cluster)
            } catch {
                _ = try? await cluster("down")
                throw error
            }
            let down = try await cluster("down")
            #expect(down.status == 0, "\(down.output.suffix(1000))")
        }

        func storescu(_ files: [String]) async throws -> ProcessRunner.Outcome {
            try await ProcessRunner.run("storescu", ["-v", "-aec", "TESSERA", "-aet", "SCALED", "127.0.0.1", String(Self.dicomPort)]
                                        + files, environment: ["TCP_NODELAY": "1"], timeout: .seconds(300))
        }

        @Test("Two gateways behind the balancer, one killed with -9 mid-transfer: every acknowledged instance is indexed once; reads spread over two API replicas")
        func killOneGateway() async throws {
            let set = try await TestDicomSet.make(environment, count: 800, seed: TestDicomSet.freshSeed(), size: 128)
            let files = set.entries.map(\.File)
            let half = files.count / 2
            try await withScaledCluster { run, cluster in
                let api = RESTClient(baseURL: "http://127.0.0.1:\(Self.httpPort)")
                let text = try String(contentsOfFile: run + "/pids/gateway.pid", encoding: .utf8)
                let victim = try #require(Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)))
                // Two associations at once: the balancer gives each gateway one (leastconn). The first gateway is
                // killed once it has stored a few instances: mid-transfer.
                async let first = storescu(Array(files[..<half]))
                async let second = storescu(Array(files[half...]))
                try await CrashSafetyTests.waitUntilStored(20, operations: RESTClient(baseURL: "http://127.0.0.1:\(Self.gatewayOperations)"))
                #expect(kill(victim, SIGKILL) == 0)
                let outcomes = try await [first, second]
                let acknowledged = Set(outcomes.flatMap { CrashSafetyTests.acknowledged($0) })
                #expect(acknowledged.count < files.count, "one association should have been cut")
                #expect(outcomes.contains { StoreSCU.successes($0) == half }, "the other gateway's association completes")
                let ids = set.entries.filter { acknowledged.contains($0.File) }.map(\.ID)
                try await expectIndexedOnce(ids, api: api)

                // The modality sends everything again: the balancer now uses the live gateway only.
                let retry = try await storescu(files)
                #expect(StoreSCU.successes(retry) == files.count, "\(retry.output.suffix(800))")
                try await expectIndexedOnce(set.entries.map(\.ID), api: api)

                // Reads: both replicas answer the same, and the balancer uses both.
                let all = Set(set.entries.map(\.ID))
                for port in [Self.httpPort + 11, Self.httpPort + 12] {
                    let replica = RESTClient(baseURL: "http://127.0.0.1:\(port)")
                    #expect(try await replica.instanceIDs() == all, "replica on \(port)")
                }
                for _ in 0..<10 { #expect(try await api.get("/instances").status == 200) }
                for port in [Self.apiOperations, Self.apiOperations + 10] {
                    let metrics = try await RESTClient(baseURL: "http://127.0.0.1:\(port)").get("/metrics")
                    #expect(metrics.status == 200)
                    #expect(metrics.text.contains("tessera_http_requests_total{route=\"/instances\",method=\"GET\",status=\"200\"}"),
                            "the balancer sent no read to the replica whose operations port is \(port)")
                }

                // Orthanc's metrics through the balancer, in Orthanc's format, counting the cluster.
                let orthanc = try await api.get("/tools/metrics-prometheus")
                #expect(orthanc.status == 200)
                #expect(orthanc.text.contains("orthanc_count_instances \(files.count) "), "\(orthanc.text)")
                for line in orthanc.text.split(separator: "\n") {
                    #expect(line.split(separator: " ").count == 3 && line.hasPrefix("orthanc_"), "not Orthanc's format: \(line)")
                }

                // `up` again brings back the killed gateway only.
                let again = try await cluster("up")
                #expect(again.status == 0, "\(again.output.suffix(1000))")
                #expect(again.output.contains("gateway  ") && !again.output.contains("stopped"), "\(again.output)")
            }
        }

        @Test("Every service's /metrics on its operations port: no credentials, HELP and TYPE for each family, Prometheus names")
        func operationsMetrics() async throws {
            try await withScaledCluster { _, _ in
                let set = try await TestDicomSet.make(environment, count: 5, seed: TestDicomSet.freshSeed(), size: 16)
                #expect(StoreSCU.successes(try await storescu(set.entries.map(\.File))) == 5)
                _ = try await RESTClient(baseURL: "http://127.0.0.1:\(Self.httpPort)").waitForInstances(Set(set.entries.map(\.ID)))
                try await Task.sleep(for: .seconds(6))  // the indexers measure their backlog every 5 s
                var names: Set<String> = []
                for port in Self.operationsPorts {
                    let answer = try await RESTClient(baseURL: "http://127.0.0.1:\(port)").get("/metrics")
                    #expect(answer.status == 200, "port \(port)")
                    #expect(answer.header("Content-Type")?.hasPrefix("text/plain") == true)
                    var previous = ""
                    for line in answer.text.split(separator: "\n").map(String.init) {
                        if line.hasPrefix("# TYPE ") {
                            let fields = line.split(separator: " ")
                            let name = String(fields[2]), kind = String(fields[3])
                            names.insert(name)
                            #expect(previous.hasPrefix("# HELP \(name) "), "port \(port): \(name) has no HELP")
                            if kind == "counter" { #expect(name.hasSuffix("_total"), "port \(port): counter \(name)") }
                            if kind == "histogram" { #expect(name.hasSuffix("_seconds"), "port \(port): histogram \(name)") }
                            #expect(!name.hasPrefix("hb_") && !name.contains("."), "port \(port): \(name)")
                        }
                        previous = line
                    }
                }
                for expected in ["tessera_ingest_instances_total", "tessera_ingest_duration_seconds", "tessera_dicom_associations_open",
                                 "tessera_dicom_associations_total", "tessera_indexer_backlog_messages", "tessera_indexer_instances_total",
                                 "tessera_jobs", "orthanc_count_instances", "orthanc_store_dicom_duration_ms", "orthanc_up_time_s"] {
                    #expect(names.contains(expected), "no \(expected) on any operations port")
                }
            }
        }

        func expectIndexedOnce(_ ids: [String], api: RESTClient) async throws {
            let listed = try await api.waitForInstances(Set(ids), seconds: 180)
            #expect(Set(ids).isSubset(of: listed), "missing \(Set(ids).subtracting(listed).count) of \(ids.count)")
            var counts: [String: Int] = [:]
            for change in try await api.changes() where change["ChangeType"] as? String == "NewInstance" {
                if let id = change["ID"] as? String { counts[id, default: 0] += 1 }
            }
            let wrong = ids.filter { counts[$0] != 1 }
            #expect(wrong.isEmpty, "\(wrong.count) instances without exactly one NewInstance change")
            let all = try await api.json("/instances", as: [String].self)
            #expect(all.count == Set(all).count, "an instance is listed twice")
        }
    }
}
