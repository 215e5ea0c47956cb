import Foundation
import Testing

extension ClusterTests.ModalityJobTests {
    @Test("Stock Orthanc as a peer, both ways: /peers, system, store with credentials (refused without), a silent peer's timeout")
    func orthancAsPeer() async throws {
        let orthancHTTP = 18221, tesseraHTTP = 18222
        let folder = try environment.temporaryFolder("orthanc-peer")
        try """
            {"Name": "peer", "StorageDirectory": "\(folder)/db", "IndexDirectory": "\(folder)/db", "HttpPort": \(orthancHTTP),
             "DicomPort": 14221, "RemoteAccessAllowed": false, "AuthenticationEnabled": true,
             "RegisteredUsers": {"alice": "secret"}, "Plugins": [],
             "OrthancPeers": {"tessera": ["http://127.0.0.1:\(tesseraHTTP)/"]}}
            """.write(toFile: folder + "/orthanc.json", atomically: true, encoding: .utf8)
        let json = """
            {"OrthancPeers": {
                "orthanc": ["http://127.0.0.1:\(orthancHTTP)", "alice", "secret"],
                "wrong": {"Url": "http://127.0.0.1:\(orthancHTTP)/", "Username": "alice", "Password": "nope",
                          "HttpHeaders": {"X-Site": "a"}},
                "silent": {"Url": "http://127.0.0.1:14223/", "Timeout": 2},
                "dead": ["http://127.0.0.1:1/"]},
             "LogExportedResources": true}
            """
        try await IsolatedStack.with(environment, name: "jobs_peer", apiPort: tesseraHTTP, indexerMetricsPort: 19221,
                                     json: json) { stack in
            stack.adopt("orthanc", try ProcessRunner.start("Orthanc", [folder + "/orthanc.json"]))
            try await stack.startWorker(metricsPort: 19222)
            try await waitForPort(orthancHTTP)
            let listener = try SilentListener(port: 14223)
            defer { listener.close() }
            let api = stack.api
            let orthanc = RESTClient(baseURL: "http://127.0.0.1:\(orthancHTTP)")

            #expect(try await api.json("/peers", as: [String].self) == ["dead", "orthanc", "silent", "wrong"])
            let expanded = try await api.json("/peers?expand")
            let wrong = try #require(expanded["wrong"] as? [String: Any])
            #expect(wrong["Url"] as? String == "http://127.0.0.1:\(orthancHTTP)/" && wrong["Username"] as? String == "alice")
            #expect(wrong["Password"] is NSNull && wrong["HttpHeaders"] as? [String] == ["X-Site"], "secrets are not shown: \(wrong)")
            #expect((expanded["orthanc"] as? [String: Any])?["Url"] as? String == "http://127.0.0.1:\(orthancHTTP)/", "a / is added")
            #expect(try await api.json("/peers/orthanc", as: [String].self) == ["configuration", "store", "store-straight", "system"])

            let system = try await api.json("/peers/orthanc/system")
            #expect(system["Name"] as? String == "peer" && system["Version"] != nil, "\(system)")
            let refused = try await api.get("/peers/wrong/system")
            #expect(refused.status == 500 && String(decoding: refused.body, as: UTF8.self).contains("401"))
            let dead = try #require(try await api.get("/peers/dead/system").json() as? [String: Any])
            #expect(dead["OrthancStatus"] as? Int == 9)
            let started = ContinuousClock.now
            #expect(try await api.get("/peers/silent/system").status == 500)
            #expect(ContinuousClock.now - started < .seconds(8), "the peer's Timeout (2 s) applies")

            // Tessera → Orthanc, synchronously, every patient.
            let set = try await TestDicomSet.make(environment, count: 4, seed: TestDicomSet.freshSeed())
            for entry in set.entries {
                #expect(try await api.post("/instances", body: [UInt8](try Data(contentsOf: URL(fileURLWithPath: entry.File)))).status == 200)
            }
            let patients = Array(Set(set.entries.map(\.ParentPatient))).sorted()
            let sent = try await api.post("/peers/orthanc/store", json: ["Resources": patients])
            #expect(sent.status == 200, "\(String(decoding: sent.body, as: UTF8.self))")
            let content = try #require(try sent.json() as? [String: Any])
            #expect(content["InstancesCount"] as? Int == 4 && content["FailedInstancesCount"] as? Int == 0)
            #expect(content["Peer"] as? [String] == ["http://127.0.0.1:\(orthancHTTP)/"] && content["ParentResources"] as? [String] == patients)
            #expect(Int(content["Size"] as? String ?? "") ?? 0 > 0 && content["Compress"] as? Bool == false)
            let theirs = try await orthanc.get("/instances", user: "alice", password: "secret")
            #expect(Set(try theirs.json() as? [String] ?? []) == Set(set.entries.map(\.ID)), "same public IDs at the peer")
            for entry in set.entries {
                let file = try await orthanc.get("/instances/\(entry.ID)/file", user: "alice", password: "secret")
                #expect(file.body == (try await api.get("/instances/\(entry.ID)/file")).body, "the peer has the stored bytes")
            }
            // Compress: gzip bodies (Content-Encoding), which Orthanc 1.6+ inflates; the same bytes arrive.
            let first = set.entries[0]
            #expect(try await orthanc.send("DELETE", "/instances/\(first.ID)", user: "alice", password: "secret").status == 200)
            let compressed = try await api.post("/peers/orthanc/store", json: ["Resources": [first.ID], "Compress": true])
            #expect(compressed.status == 200, "\(String(decoding: compressed.body, as: UTF8.self))")
            #expect((try compressed.json() as? [String: Any])?["Compress"] as? Bool == true)
            let inflated = try await orthanc.get("/instances/\(first.ID)/file", user: "alice", password: "secret")
            let original = try await api.get("/instances/\(first.ID)/file")
            #expect(inflated.status == 200 && inflated.body == original.body)
            #expect(try await api.post("/peers/orthanc/store", json: ["Resources": [first.ID], "Compress": "yes"]).status == 400)

            // Bad credentials fail the job with the peer's answer; an asynchronous store is a listed job.
            let rejected = try await api.post("/peers/wrong/store", json: ["Resources": [set.entries[0].ID]])
            #expect(rejected.status == 500 && String(decoding: rejected.body, as: UTF8.self).contains("401"))
            let queued = try #require(try await api.post("/peers/orthanc/store", json: [
                "Resources": [set.entries[0].ID], "Asynchronous": true]).json() as? [String: String])
            let job = try await waitForJob(api, queued["ID"] ?? "")
            #expect(job["State"] as? String == "Success" && job["Type"] as? String == "OrthancPeerStore", "\(job)")
            let exports = try await api.json("/exports")["Exports"] as? [[String: Any]] ?? []
            #expect(exports.contains { $0["RemoteModality"] as? String == "orthanc" && $0["ResourceType"] as? String == "Patient" })

            // Orthanc → Tessera through Orthanc's own peer store (POST /instances here), after deleting them here.
            for patient in patients { #expect(try await api.send("DELETE", "/patients/\(patient)").status == 200) }
            let request = [UInt8](try JSONSerialization.data(withJSONObject: ["Resources": patients, "Synchronous": true]))
            let back = try await orthanc.post("/peers/tessera/store", body: request, user: "alice", password: "secret")
            #expect(back.status == 200, "\(String(decoding: back.body, as: UTF8.self))")
            #expect(try await api.instanceIDs() == Set(set.entries.map(\.ID)))

            // store-straight: forwarded to the peer, not stored here; the peer's answer comes back.
            let extra = try await TestDicomSet.make(environment, count: 1, seed: TestDicomSet.freshSeed())
            let straight = try await api.post("/peers/orthanc/store-straight",
                                              body: [UInt8](try Data(contentsOf: URL(fileURLWithPath: extra.entries[0].File))))
            let forwarded = try straight.json() as? [String: Any]
            #expect(straight.status == 200 && forwarded?["ID"] as? String == extra.entries[0].ID)
            #expect(try await orthanc.get("/instances/\(extra.entries[0].ID)", user: "alice", password: "secret").status == 200)
            #expect(try await api.get("/instances/\(extra.entries[0].ID)").status == 404)

            // PUT and DELETE, unknown names, unsupported options.
            #expect(try await api.send("PUT", "/peers/added", body: Array(#"["http://127.0.0.1:1/", "u", "p"]"#.utf8)).status == 200)
            #expect(try await api.send("DELETE", "/peers/dead").status == 200)
            #expect(try await api.json("/peers", as: [String].self) == ["added", "orthanc", "silent", "wrong"])
            #expect(try await api.send("PUT", "/peers/bad", body: Array(#"{"Url": 3}"#.utf8)).status == 400)
            #expect(try await api.send("DELETE", "/peers/nope").status == 404)
            #expect(try await api.get("/peers/nope/configuration").status == 404)
            #expect(try await api.post("/peers/nope/store", json: [String]()).status == 404)
            // Transcode: the peer receives the file re-encoded (a lossless syntax keeps the instance's UID, hence its ID).
            #expect(try await api.post("/peers/orthanc/store", json: ["Resources": [set.entries[0].ID], "Transcode": "1.2.3"]).status == 400)
            #expect(try await orthanc.send("DELETE", "/instances/\(set.entries[1].ID)", user: "alice", password: "secret").status == 200)
            let transcoded = try await api.post("/peers/orthanc/store", json: ["Resources": [set.entries[1].ID],
                                                                              "Transcode": "1.2.840.10008.1.2"])
            #expect(transcoded.status == 200, "\(transcoded.text)")
            let syntax = try await orthanc.get("/instances/\(set.entries[1].ID)/metadata/TransferSyntax", user: "alice", password: "secret")
            #expect(syntax.text == "1.2.840.10008.1.2", "the peer stored \(syntax.text)")
        }
    }
}

/// A TCP listener that completes handshakes (its backlog) and never reads nor answers: a peer that hangs.
struct SilentListener {
    let descriptor: Int32

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var reuse: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        let bound = Self.withLoopback(port: port) { bind(descriptor, $0, $1) }
        guard bound == 0, listen(descriptor, 16) == 0 else {
            Glibc.close(descriptor)
            throw Failed(port: port)
        }
    }

    func close() {
        Glibc.close(descriptor)
    }

    /// Waits until something accepts connections on 127.0.0.1:`port` (at most `seconds`).
    static func waitUntilListening(port: Int, seconds: Int = 10) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            let connected = withLoopback(port: port) { connect(fd, $0, $1) }
            Glibc.close(fd)
            if connected == 0 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Calls `body` with the address 127.0.0.1:`port` (for bind or connect).
    static func withLoopback(port: Int, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }

    struct Failed: Error {
        let port: Int
    }
}
