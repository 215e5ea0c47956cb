import Foundation
import Testing

extension ClusterTests {
    /// `/tools/generate-uid`, `/tools/now`, `/tools/now-local`, `/tools/default-encoding`, `/tools/metrics`: the answers
    /// stock Orthanc 1.10.1 gives (plain text; 404 with no body for a missing level; Orthanc's errors).
    @Suite("System tools")
    struct SystemToolTests {
        let api: RESTClient

        init() throws {
            api = RESTClient(baseURL: try TestEnvironment.load().apiURL)
        }

        func text(_ answer: RESTClient.Answer) -> String { String(decoding: answer.body, as: UTF8.self) }

        func contentType(_ answer: RESTClient.Answer) -> String? {
            answer.headers.first { $0.0.lowercased() == "content-type" }?.1
        }

        @Test("generate-uid: a UUID for a patient, DCMTK-rooted UIDs for the rest, each new; 404 without a known level")
        func generateUID() async throws {
            let patient = try await api.send("GET", "/tools/generate-uid?level=patient")
            #expect(patient.status == 200 && contentType(patient) == "text/plain")
            #expect(text(patient).range(of: "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", options: .regularExpression) != nil,
                    "\(text(patient))")
            for (level, root) in [("study", "1.2.276.0.7230010.3.1.2."), ("series", "1.2.276.0.7230010.3.1.3."),
                                  ("instance", "1.2.276.0.7230010.3.1.4.")] {
                let first = try await api.send("GET", "/tools/generate-uid?level=\(level)")
                let second = try await api.send("GET", "/tools/generate-uid?level=\(level)")
                #expect(first.status == 200 && text(first).hasPrefix(root) && text(first).count <= 64, "\(level): \(text(first))")
                #expect(text(first) != text(second))
            }
            for query in ["", "?level=bogus", "?level=Study"] {
                let refused = try await api.send("GET", "/tools/generate-uid\(query)")
                #expect(refused.status == 404 && refused.body.isEmpty, "\(query): \(refused.status)")
            }
        }

        @Test("now and now-local: the current time as YYYYMMDDTHHMMSS")
        func now() async throws {
            for route in ["/tools/now", "/tools/now-local"] {
                let answer = try await api.send("GET", route)
                #expect(answer.status == 200 && contentType(answer) == "text/plain")
                #expect(text(answer).range(of: "^[0-9]{8}T[0-9]{6}$", options: .regularExpression) != nil, "\(text(answer))")
            }
            let formatter = DateFormatter()
            formatter.dateFormat = "yyyyMMdd'T'HHmmss"
            formatter.timeZone = TimeZone(identifier: "UTC")
            let utc = try #require(formatter.date(from: text(try await api.send("GET", "/tools/now"))))
            #expect(abs(utc.timeIntervalSinceNow) < 60, "UTC, within a minute of now")
        }

        @Test("default-encoding and metrics on the shared cluster: what is configured; bad values answer Orthanc's errors")
        func settings() async throws {
            let encoding = try await api.send("GET", "/tools/default-encoding")
            #expect(encoding.status == 200 && text(encoding) == "Latin1", "the test cluster's DefaultEncoding: \(text(encoding))")
            let same = try await api.send("PUT", "/tools/default-encoding", body: Array("Latin1".utf8))
            #expect(same.status == 200 && text(same) == "Latin1")
            let unknown = try await api.send("PUT", "/tools/default-encoding", body: Array("Bogus".utf8))
            #expect(unknown.status == 400 && text(unknown).contains("Parameter out of range"))
            #expect(text(try await api.send("GET", "/tools/metrics")) == "1")
            #expect(try await api.send("PUT", "/tools/metrics", body: Array("1".utf8)).status == 200)
            let bad = try await api.send("PUT", "/tools/metrics", body: Array("x".utf8))
            #expect(bad.status == 400 && text(bad).contains("Boolean value expected"))
        }

        @Test("PUT /tools/default-encoding and /tools/metrics change the whole cluster, as Orthanc changes its process")
        func runtimeChanges() async throws {
            let environment = try TestEnvironment.load()
            let file = try environment.temporaryFolder("encoding") + "/nocharset.dcm"
            try FileManager.default.copyItem(atPath: environment.repository + "/Tests/UnitTests/Fixtures/tags/CT_small.dcm", toPath: file)
            let edit = try await ProcessRunner.run("dcmodify", ["-nb", "-e", "(0008,0005)", "-i", "PatientName=M\u{00FC}ller", file],
                                                   timeout: .seconds(30))
            #expect(edit.status == 0, "\(edit.output)")
            try await IsolatedStack.with(environment, name: "tessera_encoding", apiPort: 18975, indexerMetricsPort: 19975) { stack in
                let api = stack.api
                #expect(try await api.send("PUT", "/tools/default-encoding", body: Array("Utf8".utf8)).status == 200)
                #expect(text(try await api.send("GET", "/tools/default-encoding")) == "Utf8")
                let upload = try await api.post("/instances", body: [UInt8](try Data(contentsOf: URL(fileURLWithPath: file))))
                let id = try #require((try upload.json() as? [String: Any])?["ID"] as? String)
                // No SpecificCharacterSet: the bytes are read in the DefaultEncoding of the moment.
                #expect(try await api.json("/instances/\(id)/simplified-tags")["PatientName"] as? String == "M\u{00FC}ller")
                #expect(try await api.send("PUT", "/tools/default-encoding", body: Array("Latin1".utf8)).status == 200)
                #expect(try await api.json("/instances/\(id)/simplified-tags")["PatientName"] as? String == "M\u{00C3}\u{00BC}ller")

                #expect(try await api.send("PUT", "/tools/metrics", body: Array("0".utf8)).status == 200)
                #expect(text(try await api.send("GET", "/tools/metrics")) == "0")
                let off = try await api.send("GET", "/tools/metrics-prometheus")
                #expect(off.status == 200 && off.body.isEmpty)
                #expect(try await api.send("PUT", "/tools/metrics", body: Array("true".utf8)).status == 200)
                #expect(text(try await api.send("GET", "/tools/metrics-prometheus")).contains("orthanc_count_instances"))
            }
        }
    }
}
