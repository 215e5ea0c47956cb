import Foundation
import Testing

extension ClusterTests {
    /// REST access control, on extra `tessera-api` processes started with their own configuration.
    @Suite("REST access control", .serialized)
    struct AccessControlTests {
        let environment: TestEnvironment

        init() throws {
            environment = try TestEnvironment.load()
        }

        /// The environment of an extra API process: the test cluster's database, a port of its own.
        func apiEnvironment(port: Int, json: String) -> [String: String] {
            [
                "TESSERA_HTTP_PORT": String(port), "TESSERA_PG_HOST": "127.0.0.1",
                "TESSERA_PG_PORT": String(environment.postgresPort), "TESSERA_PG_DATABASE": "tessera",
                "TESSERA_STORAGE_DIR": FileManager.default.temporaryDirectory.path + "/tessera-acl-storage",
                "ORTHANC_JSON": json,
            ]
        }

        @Test("With authentication enabled: 401 and WWW-Authenticate without credentials, 200 with them")
        func basicAuthentication() async throws {
            let port = 18_943
            let process = try ProcessRunner.start(environment.binaries + "/tessera-api", [], environment: apiEnvironment(
            port: port, json: #"{"AuthenticationEnabled": true, "RegisteredUsers": {"alice": "s3cret"}}"#))
        defer { kill(process.pid, SIGKILL) }
        let api = RESTClient(baseURL: "http://127.0.0.1:\(port)")
            let deadline = ContinuousClock.now + .seconds(30)
            while (try? await api.get("/health"))?.status != 200 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
            }
            let anonymous = try await api.get("/system")
            #expect(anonymous.status == 401)
            #expect(anonymous.header("WWW-Authenticate")?.hasPrefix("Basic") == true)
            let wrong = try await api.get("/system", user: "alice", password: "wrong")
            #expect(wrong.status == 401)
            let right = try await api.get("/system", user: "alice", password: "s3cret")
            #expect(right.status == 200)
        }

        @Test("Remote access without authentication is refused at start")
        func refusesUnsafeConfiguration() async throws {
            let outcome = try await ProcessRunner.run(environment.binaries + "/tessera-api", [],
                environment: apiEnvironment(port: 18_944, json: #"{"RemoteAccessAllowed": true, "AuthenticationEnabled": false}"#),
                timeout: .seconds(30))
            #expect(outcome.status != 0)
            #expect(outcome.output.contains("without authentication"), "\(outcome.output)")
        }
    }
}
