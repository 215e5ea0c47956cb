import Foundation
import Testing

extension ClusterTests {
    /// A second REST replica on the same index, broker and storage.
    @Suite("A second API replica", .serialized)
    struct ReplicaTests {
        let environment: TestEnvironment
        let api: RESTClient

        init() throws {
            environment = try TestEnvironment.load()
            api = RESTClient(baseURL: environment.apiURL)
        }

        @Test("Uploads through either replica are readable through both; OverwriteInstances replaces the first copy")
        func overwriteThroughSecondReplica() async throws {
            let seed = TestDicomSet.freshSeed()
            let original = try #require(try await TestDicomSet.make(environment, count: 1, seed: seed).entries.first)
            let modified = try #require(try await TestDicomSet.make(environment, count: 1, seed: seed,
                                                                    omitting: ["ImagePositionPatient"]).entries.first)
            #expect(modified.ID == original.ID, "same UIDs, different content")
            let originalBytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: original.File)))
            let modifiedBytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: modified.File)))

            let port = 18_945
            let process = try await environment.startReplica(port: port, json: #"{"OverwriteInstances": true}"#)
            defer { kill(process.pid, SIGKILL) }
            let replica = RESTClient(baseURL: "http://127.0.0.1:\(port)")

            let first = try await api.post("/instances", body: originalBytes)
            #expect((try first.json() as? [String: String])?["Status"] == "Success")
            #expect(try await replica.get("/instances/\(original.ID)").status == 200, "visible through the other replica")
            let before = try await replica.json("/instances/\(original.ID)")
            #expect((before["MainDicomTags"] as? [String: String])?["ImagePositionPatient"] != nil)

            let second = try await replica.post("/instances", body: modifiedBytes)
            #expect((try second.json() as? [String: String])?["Status"] == "Success")
            let after = try await api.json("/instances/\(original.ID)")
            #expect((after["MainDicomTags"] as? [String: String])?["ImagePositionPatient"] == nil)
            #expect(try await api.get("/instances/\(original.ID)/file").body == modifiedBytes)
            #expect(after["FileUuid"] as? String != before["FileUuid"] as? String)

            // Without OverwriteInstances the first copy wins.
            let third = try await api.post("/instances", body: originalBytes)
            #expect((try third.json() as? [String: String])?["Status"] == "AlreadyStored")
            #expect(try await api.get("/instances/\(original.ID)/file").body == modifiedBytes)
            let ids = try await api.json("/instances", as: [String].self)
            #expect(ids.filter { $0 == original.ID }.count == 1)
        }

        @Test("SslEnabled: a replica answers HTTPS only, with SslCertificate's chain and key; a certificate without its key stops it with Orthanc's error")
        func https() async throws {
            let folder = try environment.temporaryFolder("https")
            let key = folder + "/key.pem", certificate = folder + "/certificate.pem", combined = folder + "/https.pem"
            let made = try await ProcessRunner.run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                                                               "-out", certificate, "-days", "2", "-subj", "/CN=127.0.0.1"])
            #expect(made.status == 0, "\(made.output)")
            let pem = try String(contentsOfFile: certificate, encoding: .utf8) + String(contentsOfFile: key, encoding: .utf8)
            try pem.write(toFile: combined, atomically: true, encoding: .utf8)

            let port = 18_947
            let process = try ProcessRunner.start(environment.binaries + "/tessera-api", [], environment: environment.replicaEnvironment(
                port: port, json: #"{"SslEnabled": true, "SslCertificate": "\#(combined)"}"#))
            defer { kill(process.pid, SIGKILL) }
            let deadline = ContinuousClock.now + .seconds(30)
            var answer = ProcessRunner.Outcome(status: -1, output: "")
            while ContinuousClock.now < deadline {
                answer = try await ProcessRunner.run("curl", ["-sS", "--cacert", certificate, "https://127.0.0.1:\(port)/system"])
                if answer.status == 0 { break }
                try await Task.sleep(for: .milliseconds(300))
            }
            #expect(answer.status == 0 && answer.output.contains("\"ApiVersion\""), "\(answer.output)")
            let plain = try await ProcessRunner.run("curl", ["-sS", "-m", "5", "http://127.0.0.1:\(port)/system"])
            #expect(plain.status != 0, "plain HTTP must not be served: \(plain.output)")

            let keyless = try ProcessRunner.start(environment.binaries + "/tessera-api", [], environment: environment.replicaEnvironment(
                port: port + 1, json: #"{"SslEnabled": true, "SslCertificate": "\#(certificate)"}"#))
            let stopped = await keyless.wait(timeout: .seconds(30))
            #expect(stopped.status != 0)
            #expect(stopped.output.contains("Cannot initialize SSL encryption"), "\(stopped.output.suffix(800))")
        }

        @Test("TESSERA_PG_SSLMODE: require talks TLS to PostgreSQL; verify-full refuses a certificate no authority signed")
        func postgresTLS() async throws {
            func sslConnections() async throws -> Int {
                let outcome = try await ProcessRunner.run("psql", ["-h", "127.0.0.1", "-p", String(environment.postgresPort), "-U",
                                                                   "postgres", "-d", "tessera", "-tAc", "SELECT count(*) FROM pg_stat_ssl WHERE ssl"],
                                                          environment: ["PGSSLMODE": "disable"])
                return Int(outcome.output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
            }
            #expect(try await sslConnections() == 0, "the cluster's services connect without TLS")
            let port = 18_949
            let process = try await environment.startReplica(port: port, json: "{}", extra: ["TESSERA_PG_SSLMODE": "require"])
            defer { kill(process.pid, SIGKILL) }
            let replica = RESTClient(baseURL: "http://127.0.0.1:\(port)")
            #expect(try await replica.get("/statistics").status == 200)
            #expect(try await sslConnections() > 0, "the replica's connections are TLS")

            let strict = try await environment.startReplica(port: port + 1, json: "{}", extra: ["TESSERA_PG_SSLMODE": "verify-full"])
            defer { kill(strict.pid, SIGKILL) }
            let refused = try await RESTClient(baseURL: "http://127.0.0.1:\(port + 1)").get("/statistics")
            #expect(refused.status == 503, "a self-signed server certificate must not pass verify-full")
        }

        @Test("Kafka.Properties reach librdkafka: a setting it accepts serves, one it does not know stops the replica with its name")
        func brokerProperties() async throws {
            let port = 18_951
            let accepted = try await environment.startReplica(port: port, json: #"{"Kafka": {"Properties": {"socket.keepalive.enable": "true", "security.protocol": "plaintext"}}}"#)
            defer { kill(accepted.pid, SIGKILL) }
            #expect(try await RESTClient(baseURL: "http://127.0.0.1:\(port)").get("/ready").status == 200)
            let refused = try ProcessRunner.start(environment.binaries + "/tessera-api", [], environment: environment.replicaEnvironment(
                port: port + 1, json: #"{"Kafka": {"Properties": {"no.such.setting": "1"}}}"#))
            let stopped = await refused.wait(timeout: .seconds(30))
            #expect(stopped.status != 0)
            #expect(stopped.output.contains("no.such.setting"), "\(stopped.output.suffix(800))")
        }
    }
}
