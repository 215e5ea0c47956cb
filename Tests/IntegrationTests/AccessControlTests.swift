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

        /// An IPv4 address of this machine other than loopback: connecting to it makes the client non-loopback.
        static let nonLoopbackAddress: String? = {
            var list: UnsafeMutablePointer<ifaddrs>?
            guard getifaddrs(&list) == 0, let first = list else { return nil }
            defer { freeifaddrs(list) }
            for entry in sequence(first: first, next: { $0.pointee.ifa_next }) {
                guard let address = entry.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET) else { continue }
                var ipv4 = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
                guard inet_ntop(AF_INET, &ipv4, &text, socklen_t(text.count)) != nil else { continue }
                let name = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if !name.hasPrefix("127.") { return name }
            }
            return nil
        }()

        @Test("RemoteAccessAllowed false: a client on another address gets 403, loopback is served",
              .enabled(if: nonLoopbackAddress != nil, "needs a non-loopback IPv4 address on this machine"))
        func remoteRefused() async throws {
            let address = try #require(Self.nonLoopbackAddress)
            let port = 18_945
            // Listening on every interface, but RemoteAccessAllowed is false (Orthanc's default).
            let process = try await environment.startReplica(port: port, json: "{}", extra: ["TESSERA_HTTP_HOST": "0.0.0.0"])
            defer { kill(process.pid, SIGKILL) }
            #expect(try await RESTClient(baseURL: "http://127.0.0.1:\(port)").get("/system").status == 200)
            let remote = try await RESTClient(baseURL: "http://\(address):\(port)").get("/system")
            #expect(remote.status == 403, "a client at \(address) is not loopback")
            #expect(try await RESTClient(baseURL: "http://\(address):\(port)").get("/instances").status == 403)
        }

        @Test("RemoteAccessAllowed with authentication: a remote client needs credentials",
              .enabled(if: nonLoopbackAddress != nil, "needs a non-loopback IPv4 address on this machine"))
        func remoteWithAuthentication() async throws {
            let address = try #require(Self.nonLoopbackAddress)
            let port = 18_946
            let process = try await environment.startReplica(
                port: port, json: #"{"RemoteAccessAllowed": true, "AuthenticationEnabled": true, "RegisteredUsers": {"bob": "pw"}}"#)
            defer { kill(process.pid, SIGKILL) }
            let remote = RESTClient(baseURL: "http://\(address):\(port)")
            #expect(try await remote.get("/system").status == 401)
            #expect(try await remote.get("/system", user: "bob", password: "pw").status == 200)
        }

        @Test("Remote access without authentication is refused at start")
        func refusesUnsafeConfiguration() async throws {
            let outcome = try await ProcessRunner.run(environment.binaries + "/tessera-api", [],
                environment: environment.replicaEnvironment(port: 18_944, json: #"{"RemoteAccessAllowed": true, "AuthenticationEnabled": false}"#),
                timeout: .seconds(30))
            #expect(outcome.status != 0)
            #expect(outcome.output.contains("without authentication"), "\(outcome.output)")
        }

        @Test("Basic credentials split at the first colon (RFC 7617), the scheme in any case; a user name with a colon is refused at start")
        func credentialSyntax() async throws {
            let port = 18_947
            let process = try await environment.startReplica(
                port: port, json: #"{"AuthenticationEnabled": true, "RegisteredUsers": {"a": "b:c", "alice": "s3cret"}}"#)
            defer { kill(process.pid, SIGKILL) }
            let api = RESTClient(baseURL: "http://127.0.0.1:\(port)")
            func basic(_ text: String, scheme: String = "Basic") -> [(String, String)] {
                [("Authorization", "\(scheme) " + Data(text.utf8).base64EncodedString())]
            }
            #expect(try await api.get("/system", headers: basic("a:b:c")).status == 200, "user a, password b:c")
            #expect(try await api.get("/system", headers: basic("alice:s3cret", scheme: "basic")).status == 200)
            #expect(try await api.get("/system", headers: basic("alice:s3cret", scheme: "BASIC")).status == 200)
            #expect(try await api.get("/system", headers: basic("a:b")).status == 401)
            #expect(try await api.get("/system", headers: basic("a:b:c:")).status == 401)
            #expect(try await api.get("/system", headers: basic("alice:s3cre")).status == 401)
            #expect(try await api.get("/system", headers: basic("alice:s3cret", scheme: "Bearer")).status == 401)
            let refused = try await ProcessRunner.run(environment.binaries + "/tessera-api", [],
                environment: environment.replicaEnvironment(port: 18_948, json: #"{"AuthenticationEnabled": true, "RegisteredUsers": {"a:b": "c"}}"#),
                timeout: .seconds(30))
            #expect(refused.status != 0)
            #expect(refused.output.contains("cannot contain"), "\(refused.output.suffix(400))")
        }

        @Test("The gateway's and the indexer's operations endpoints listen on loopback, even with remote access allowed",
              .enabled(if: nonLoopbackAddress != nil, "needs a non-loopback IPv4 address on this machine"))
        func operationsOnLoopback() async throws {
            let address = try #require(Self.nonLoopbackAddress)
            let json = #"{"RemoteAccessAllowed": true, "AuthenticationEnabled": true, "RegisteredUsers": {"bob": "pw"}}"#
            let gateway = try await environment.startGateway(port: 14_280, aeTitle: "OPS", metricsPort: 19_150,
                                                            extra: ["ORTHANC_JSON": json])
            defer { kill(gateway.pid, SIGKILL) }
            #expect(try await RESTClient(baseURL: "http://127.0.0.1:19150").get("/metrics").status == 200)
            await #expect(throws: (any Error).self, "not reachable from another address") {
                _ = try await RESTClient(baseURL: "http://\(address):19150").get("/metrics")
            }
            let exposed = try await environment.startGateway(port: 14_281, aeTitle: "OPS2", metricsPort: 19_151,
                                                            extra: ["ORTHANC_JSON": json, "TESSERA_METRICS_HOST": "0.0.0.0"])
            defer { kill(exposed.pid, SIGKILL) }
            #expect(try await RESTClient(baseURL: "http://\(address):19151").get("/metrics").status == 200, "when configured")
        }
    }
}
