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

        @Test("With authentication enabled: 401 and WWW-Authenticate without credentials, 200 with them")
        func basicAuthentication() async throws {
            let port = 18_943
            let process = try await environment.startReplica(
                port: port, json: #"{"AuthenticationEnabled": true, "RegisteredUsers": {"alice": "s3cret"}}"#)
            defer { kill(process.pid, SIGKILL) }
            let api = RESTClient(baseURL: "http://127.0.0.1:\(port)")
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
                environment: environment.replicaEnvironment(port: 18_944, json: #"{"RemoteAccessAllowed": true, "AuthenticationEnabled": false}"#),
                timeout: .seconds(30))
            #expect(outcome.status != 0)
            #expect(outcome.output.contains("without authentication"), "\(outcome.output)")
        }
    }
}
